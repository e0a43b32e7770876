//! AWS Organizations' read calls (AWS JSON 1.1, `X-Amz-Target:
//! AWSOrganizationsV20161128.<Op>`), answered from an organisation tree given
//! at start-up: `ListRoots`, `ListChildren`, `ListOrganizationalUnitsForParent`,
//! `ListAccountsForParent`, `ListAccounts` and `DescribeOrganization`.
//!
//! The tree never changes while the emulator runs, so a page token is an
//! offset into a list. Like the real service, a list may answer an empty
//! page that still has a `NextToken` (`empty_pages`): callers must page
//! until the token is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::protocol::ApiError;
use super::sts;

/// The operations this emulator answers.
pub(super) const OPERATIONS: [&str; 6] = [
    "ListRoots",
    "ListChildren",
    "ListOrganizationalUnitsForParent",
    "ListAccountsForParent",
    "ListAccounts",
    "DescribeOrganization",
];

/// The model's largest `MaxResults`, and the page size when neither the
/// request nor the file asks for a smaller one.
const MAX_PAGE_SIZE: usize = 20;

const ACCOUNT_STATUSES: [&str; 3] = ["ACTIVE", "SUSPENDED", "PENDING_CLOSURE"];
const ACCOUNT_STATES: [&str; 5] = [
    "PENDING_ACTIVATION",
    "ACTIVE",
    "SUSPENDED",
    "PENDING_CLOSURE",
    "CLOSED",
];

/// An organisation, as the `--organization` file describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// `o-` and 10 to 32 lowercase letters or digits; made up from the
    /// management account when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The account that owns the organisation; it must be in the tree.
    pub management_account_id: String,
    /// Member accounts that may call Organizations too.
    #[serde(default)]
    pub delegated_administrators: Vec<String>,
    /// The largest page any list answers (1-20, default 20).
    #[serde(default)]
    pub page_size: Option<usize>,
    /// Answer an empty page with a `NextToken` before every page of results,
    /// as Organizations is documented to do now and then.
    #[serde(default)]
    pub empty_pages: bool,
    /// Roles that may not be assumed: accounts or role ARNs (`*` allowed),
    /// added to [`super::Config::deny_assume_role`].
    #[serde(default)]
    pub deny_assume_role: Vec<String>,
    /// The external id roles require: account or role ARN (`*` allowed) →
    /// the id, added to [`super::Config::external_ids`].
    #[serde(default)]
    pub external_ids: BTreeMap<String, String>,
    pub root: Root,
}

/// The organisation's root and what is directly below it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Root {
    /// `r-` and 4 to 32 lowercase letters or digits.
    pub id: String,
    #[serde(default = "root_name")]
    pub name: String,
    #[serde(default)]
    pub accounts: Vec<MemberAccount>,
    #[serde(default)]
    pub organizational_units: Vec<OrganizationalUnit>,
}

fn root_name() -> String {
    "Root".to_owned()
}

/// An organizational unit and what is directly below it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationalUnit {
    /// `ou-`, 4 to 32 lowercase letters or digits, `-`, 8 to 32 more.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub accounts: Vec<MemberAccount>,
    #[serde(default)]
    pub organizational_units: Vec<OrganizationalUnit>,
}

/// An account of the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberAccount {
    /// 12 digits.
    pub id: String,
    /// Default `account-<id>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Default `aws+<id>@example.com`.
    #[serde(default)]
    pub email: Option<String>,
    /// `ACTIVE` (default), `SUSPENDED` or `PENDING_CLOSURE`.
    #[serde(default = "active")]
    pub status: String,
    /// The newer `State` (`PENDING_ACTIVATION`, `ACTIVE`, `SUSPENDED`,
    /// `PENDING_CLOSURE`, `CLOSED`); default: the status.
    #[serde(default)]
    pub state: Option<String>,
}

fn active() -> String {
    "ACTIVE".to_owned()
}

impl Organization {
    /// Read and check an organisation file (YAML, or JSON, which is YAML).
    pub fn load(path: &Path) -> Result<Organization, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Organization::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse and check an organisation file's text.
    pub fn parse(text: &str) -> Result<Organization, String> {
        let organization: Organization =
            serde_saphyr::from_str(text).map_err(|e| format!("not an organisation file: {e}"))?;
        organization.check()?;
        Ok(organization)
    }

    /// Every rule a file can break: id shapes, ids used twice, the
    /// management account and delegated administrators outside the tree,
    /// unknown statuses, a page size outside 1-20, malformed trust rules.
    pub(super) fn check(&self) -> Result<(), String> {
        if !is_account_id(&self.management_account_id) {
            return Err(format!(
                "management_account_id {:?}: expected 12 digits",
                self.management_account_id
            ));
        }
        if let Some(id) = &self.id
            && !lower_alnum(id.strip_prefix("o-"), 10..=32)
        {
            return Err(format!(
                "id {id:?}: expected o- and 10 to 32 lowercase letters or digits"
            ));
        }
        if !lower_alnum(self.root.id.strip_prefix("r-"), 4..=32) {
            return Err(format!(
                "root id {:?}: expected r- and 4 to 32 lowercase letters or digits",
                self.root.id
            ));
        }
        if let Some(size) = self.page_size
            && !(1..=MAX_PAGE_SIZE).contains(&size)
        {
            return Err(format!("page_size {size}: expected 1 to {MAX_PAGE_SIZE}"));
        }
        let mut units = BTreeSet::new();
        let mut accounts = BTreeSet::new();
        for (_, unit) in self.units() {
            let shape_ok = unit.id.strip_prefix("ou-").and_then(|r| r.split_once('-'));
            if !shape_ok
                .is_some_and(|(a, b)| lower_alnum(Some(a), 4..=32) && lower_alnum(Some(b), 8..=32))
            {
                return Err(format!(
                    "organizational unit id {:?}: expected ou-<4 to 32 lowercase letters or \
                     digits>-<8 to 32 more>",
                    unit.id
                ));
            }
            if unit.name.is_empty() || unit.name.chars().count() > 128 {
                return Err(format!(
                    "organizational unit {}: a name of 1 to 128 characters",
                    unit.id
                ));
            }
            if !units.insert(unit.id.as_str()) {
                return Err(format!("organizational unit {} appears twice", unit.id));
            }
        }
        for (_, account) in self.accounts() {
            if !is_account_id(&account.id) {
                return Err(format!("account id {:?}: expected 12 digits", account.id));
            }
            if !accounts.insert(account.id.as_str()) {
                return Err(format!("account {} appears twice", account.id));
            }
            if !ACCOUNT_STATUSES.contains(&account.status.as_str()) {
                return Err(format!(
                    "account {}: status {:?} is not one of {}",
                    account.id,
                    account.status,
                    ACCOUNT_STATUSES.join(", ")
                ));
            }
            if let Some(state) = &account.state
                && !ACCOUNT_STATES.contains(&state.as_str())
            {
                return Err(format!(
                    "account {}: state {state:?} is not one of {}",
                    account.id,
                    ACCOUNT_STATES.join(", ")
                ));
            }
            if account.email.as_ref().is_some_and(|e| !e.contains('@')) {
                return Err(format!("account {}: the email needs an @", account.id));
            }
        }
        if !accounts.contains(self.management_account_id.as_str()) {
            return Err(format!(
                "the management account {:?} must be one of the organisation's accounts",
                self.management_account_id
            ));
        }
        for admin in &self.delegated_administrators {
            if !accounts.contains(admin.as_str()) {
                return Err(format!(
                    "delegated administrator {admin:?} must be one of the organisation's accounts"
                ));
            }
        }
        for rule in self.deny_assume_role.iter().chain(self.external_ids.keys()) {
            sts::check_rule(rule)?;
        }
        Ok(())
    }

    /// Every unit, depth first in file order, with its path below the root.
    fn units(&self) -> Vec<(Vec<&str>, &OrganizationalUnit)> {
        fn walk<'o>(
            units: &'o [OrganizationalUnit],
            path: &[&'o str],
            out: &mut Vec<(Vec<&'o str>, &'o OrganizationalUnit)>,
        ) {
            for unit in units {
                let mut here = path.to_vec();
                here.push(&unit.id);
                out.push((here.clone(), unit));
                walk(&unit.organizational_units, &here, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.root.organizational_units, &[], &mut out);
        out
    }

    /// Every account, the root's first, then each unit's depth first, with
    /// the path of units it is in.
    fn accounts(&self) -> Vec<(Vec<&str>, &MemberAccount)> {
        let mut out: Vec<(Vec<&str>, &MemberAccount)> = self
            .root
            .accounts
            .iter()
            .map(|account| (Vec::new(), account))
            .collect();
        for (path, unit) in self.units() {
            out.extend(unit.accounts.iter().map(|a| (path.clone(), a)));
        }
        out
    }

    fn organization_id(&self) -> String {
        self.id.clone().unwrap_or_else(|| {
            let digest = Sha256::digest(self.management_account_id.as_bytes());
            format!("o-{}", &hex::encode(digest)[..10])
        })
    }

    fn is_member(&self, account_id: &str) -> bool {
        self.accounts().iter().any(|(_, a)| a.id == account_id)
    }
}

fn lower_alnum(text: Option<&str>, length: std::ops::RangeInclusive<usize>) -> bool {
    text.is_some_and(|t| {
        length.contains(&t.len())
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Answer an Organizations operation for a caller in `caller_account`.
/// Who may: `DescribeOrganization` any member; the lists the management
/// account and delegated administrators.
pub(super) fn run(
    organization: Option<&Organization>,
    caller_account: &str,
    operation: &str,
    input: &Value,
) -> Result<Value, ApiError> {
    if !OPERATIONS.contains(&operation) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("Operation {operation} is not supported by this emulator's Organizations"),
        ));
    }
    let not_in_use = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        )
    };
    let organization = organization.ok_or_else(not_in_use)?;
    if !organization.is_member(caller_account) {
        return Err(not_in_use());
    }
    let view = View::of(organization);
    if operation == "DescribeOrganization" {
        return Ok(json!({ "Organization": view.describe() }));
    }
    if caller_account != organization.management_account_id
        && !organization
            .delegated_administrators
            .iter()
            .any(|a| a == caller_account)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
        ));
    }
    let input = Input::parse(operation, input)?;
    let (member, items) = match operation {
        "ListRoots" => ("Roots", vec![view.root()]),
        "ListAccounts" => (
            "Accounts",
            organization
                .accounts()
                .iter()
                .map(|(path, a)| view.account(path, a))
                .collect(),
        ),
        _ => {
            let parent = input.parent_id.as_deref().unwrap_or_default();
            let (path, units, accounts) = view.parent(parent)?;
            match (operation, input.child_type.as_deref()) {
                ("ListOrganizationalUnitsForParent", _)
                | ("ListChildren", Some("ORGANIZATIONAL_UNIT")) => {
                    let units = units.iter().map(|u| {
                        let mut here = path.clone();
                        here.push(&u.id);
                        view.unit(&here, u)
                    });
                    if operation == "ListChildren" {
                        let children =
                            units.map(|u| json!({"Id": u["Id"], "Type": "ORGANIZATIONAL_UNIT"}));
                        ("Children", children.collect())
                    } else {
                        ("OrganizationalUnits", units.collect())
                    }
                }
                ("ListChildren", _) => (
                    "Children",
                    accounts
                        .iter()
                        .map(|a| json!({"Id": a.id, "Type": "ACCOUNT"}))
                        .collect(),
                ),
                _ => (
                    "Accounts",
                    accounts.iter().map(|a| view.account(&path, a)).collect(),
                ),
            }
        }
    };
    let list = format!(
        "{operation}:{}:{}",
        input.parent_id.as_deref().unwrap_or_default(),
        input.child_type.as_deref().unwrap_or_default()
    );
    let size = input
        .max_results
        .unwrap_or(MAX_PAGE_SIZE)
        .min(organization.page_size.unwrap_or(MAX_PAGE_SIZE));
    let (page, next) = page(
        &items,
        &list,
        size,
        organization.empty_pages,
        input.next_token.as_deref(),
    )?;
    let mut output = json!({ member: page });
    if let Some(next) = next {
        output["NextToken"] = json!(next);
    }
    Ok(output)
}

/// A list request's members, checked as the model constrains them.
struct Input {
    parent_id: Option<String>,
    child_type: Option<String>,
    max_results: Option<usize>,
    next_token: Option<String>,
}

impl Input {
    fn parse(operation: &str, input: &Value) -> Result<Input, ApiError> {
        let text = |name: &str| -> Result<Option<String>, ApiError> {
            match input.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(invalid_input(
                    "INVALID_ENUM",
                    format!("{name} must be a string"),
                )),
            }
        };
        let needs_parent = matches!(
            operation,
            "ListChildren" | "ListOrganizationalUnitsForParent" | "ListAccountsForParent"
        );
        let parent_id = text("ParentId")?;
        let child_type = text("ChildType")?;
        if needs_parent {
            let Some(parent) = &parent_id else {
                return Err(invalid_input(
                    "INPUT_REQUIRED",
                    "You must specify a value for ParentId.",
                ));
            };
            let root_like = lower_alnum(parent.strip_prefix("r-"), 4..=32);
            let unit_like = parent
                .strip_prefix("ou-")
                .and_then(|r| r.split_once('-'))
                .is_some_and(|(a, b)| lower_alnum(Some(a), 4..=32) && lower_alnum(Some(b), 8..=32));
            if !root_like && !unit_like {
                return Err(invalid_input(
                    "INVALID_PATTERN",
                    format!(
                        "ParentId {parent:?} does not match the required pattern (r-... or ou-...-...)."
                    ),
                ));
            }
        }
        if operation == "ListChildren" {
            match child_type.as_deref() {
                None => {
                    return Err(invalid_input(
                        "INPUT_REQUIRED",
                        "You must specify a value for ChildType.",
                    ));
                }
                Some("ACCOUNT" | "ORGANIZATIONAL_UNIT") => {}
                Some(other) => {
                    return Err(invalid_input(
                        "INVALID_ENUM",
                        format!("ChildType {other:?} is not ACCOUNT or ORGANIZATIONAL_UNIT."),
                    ));
                }
            }
        }
        let max_results = match input.get("MaxResults") {
            None | Some(Value::Null) => None,
            Some(value) => match value.as_i64() {
                Some(n) if n < 1 => {
                    return Err(invalid_input(
                        "MIN_VALUE_EXCEEDED",
                        "MaxResults must be at least 1.",
                    ));
                }
                Some(n) if n > MAX_PAGE_SIZE as i64 => {
                    return Err(invalid_input(
                        "MAX_VALUE_EXCEEDED",
                        format!("MaxResults must be at most {MAX_PAGE_SIZE}."),
                    ));
                }
                Some(n) => usize::try_from(n).ok(),
                None => {
                    return Err(invalid_input(
                        "INVALID_ENUM",
                        "MaxResults must be an integer",
                    ));
                }
            },
        };
        Ok(Input {
            parent_id,
            child_type,
            max_results,
            next_token: text("NextToken")?,
        })
    }
}

fn invalid_input(reason: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "InvalidInputException", message).with_reason(reason)
}

/// One page of `items` from the token's offset, and the next token. With
/// `empty_pages`, an empty page (with a token) comes before every page of
/// results.
fn page(
    items: &[Value],
    list: &str,
    size: usize,
    empty_pages: bool,
    token: Option<&str>,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let (offset, ready) = match token {
        None => (0, !empty_pages),
        Some(token) => decode_token(token, list)?,
    };
    if !ready {
        return Ok((Vec::new(), Some(encode_token(list, offset, true))));
    }
    let page: Vec<Value> = items.iter().skip(offset).take(size).cloned().collect();
    let end = offset + page.len();
    let next = (end < items.len()).then(|| encode_token(list, end, !empty_pages));
    Ok((page, next))
}

fn encode_token(list: &str, offset: usize, ready: bool) -> String {
    hex::encode(format!("v1:{list}:{offset}:{}", u8::from(ready)))
}

fn decode_token(token: &str, list: &str) -> Result<(usize, bool), ApiError> {
    let invalid = || {
        invalid_input(
            "INVALID_NEXT_TOKEN",
            "The NextToken is not one this list answered.",
        )
    };
    let text = hex::decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid)?;
    let rest = text
        .strip_prefix("v1:")
        .and_then(|r| r.strip_prefix(list))
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(invalid)?;
    let (offset, ready) = rest.split_once(':').ok_or_else(invalid)?;
    let offset = offset.parse().map_err(|_| invalid())?;
    match ready {
        "0" => Ok((offset, false)),
        "1" => Ok((offset, true)),
        _ => Err(invalid()),
    }
}

/// The organisation as the API answers it: ids turned into ARNs and paths.
struct View<'o> {
    organization: &'o Organization,
    id: String,
}

impl<'o> View<'o> {
    fn of(organization: &'o Organization) -> View<'o> {
        View {
            organization,
            id: organization.organization_id(),
        }
    }

    fn arn(&self, kind: &str, tail: &str) -> String {
        format!(
            "arn:aws:organizations::{}:{kind}/{}/{tail}",
            self.organization.management_account_id, self.id
        )
    }

    /// `o-.../r-.../ou-.../` for a path of units below the root.
    fn path(&self, units: &[&str]) -> String {
        let mut path = format!("{}/{}/", self.id, self.organization.root.id);
        for unit in units {
            path.push_str(unit);
            path.push('/');
        }
        path
    }

    fn describe(&self) -> Value {
        let management = &self.organization.management_account_id;
        let email = self
            .organization
            .accounts()
            .iter()
            .find(|(_, a)| &a.id == management)
            .map(|(_, a)| email(a));
        json!({
            "Id": self.id,
            "Arn": format!("arn:aws:organizations::{management}:organization/{}", self.id),
            "FeatureSet": "ALL",
            "MasterAccountArn": self.arn("account", management),
            "MasterAccountId": management,
            "MasterAccountEmail": email,
            "AvailablePolicyTypes": [],
        })
    }

    fn root(&self) -> Value {
        let root = &self.organization.root;
        json!({
            "Id": root.id,
            "Arn": self.arn("root", &root.id),
            "Name": root.name,
            "PolicyTypes": [],
        })
    }

    fn unit(&self, path: &[&str], unit: &OrganizationalUnit) -> Value {
        json!({
            "Id": unit.id,
            "Arn": self.arn("ou", &unit.id),
            "Name": unit.name,
            "Path": self.path(path),
        })
    }

    fn account(&self, path: &[&str], account: &MemberAccount) -> Value {
        json!({
            "Id": account.id,
            "Arn": self.arn("account", &account.id),
            "Email": email(account),
            "Name": account.name.clone().unwrap_or_else(|| format!("account-{}", account.id)),
            "Status": account.status,
            "State": account.state.as_deref().unwrap_or(&account.status),
            "Paths": [format!("{}{}/", self.path(path), account.id)],
        })
    }

    /// The parent's path and what is directly below it; an unknown parent
    /// is `ParentNotFoundException`.
    #[allow(clippy::type_complexity)]
    fn parent(
        &self,
        parent_id: &str,
    ) -> Result<(Vec<&'o str>, &'o [OrganizationalUnit], &'o [MemberAccount]), ApiError> {
        let root = &self.organization.root;
        if parent_id == root.id {
            return Ok((Vec::new(), &root.organizational_units, &root.accounts));
        }
        self.organization
            .units()
            .into_iter()
            .find(|(_, unit)| unit.id == parent_id)
            .map(|(path, unit)| {
                (
                    path,
                    unit.organizational_units.as_slice(),
                    unit.accounts.as_slice(),
                )
            })
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "ParentNotFoundException",
                    format!("We can't find a root or OU with the ParentId that you specified: {parent_id}."),
                )
            })
    }
}

fn email(account: &MemberAccount) -> String {
    account
        .email
        .clone()
        .unwrap_or_else(|| format!("aws+{}@example.com", account.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
management_account_id: "111111111111"
delegated_administrators: ["222222222222"]
page_size: 2
root:
  id: r-ab12
  accounts:
    - {id: "111111111111", name: management, email: root@example.com}
  organizational_units:
    - id: ou-ab12-11111111
      name: Workloads
      accounts:
        - {id: "222222222222", name: tools}
        - {id: "333333333333", name: prod, status: SUSPENDED}
        - {id: "444444444444", name: dev}
      organizational_units:
        - id: ou-ab12-22222222
          name: Sandbox
          accounts:
            - {id: "555555555555", name: play, status: PENDING_CLOSURE}
"#;

    fn list_all(org: &Organization, caller: &str, operation: &str, input: Value) -> Vec<Value> {
        let mut token: Option<String> = None;
        let mut out = Vec::new();
        for _ in 0..50 {
            let mut request = input.clone();
            if let Some(token) = &token {
                request["NextToken"] = json!(token);
            }
            let answer = run(Some(org), caller, operation, &request).expect("answers");
            let member = answer
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| *k != "NextToken")
                .map(|(_, v)| v.as_array().unwrap().clone())
                .unwrap();
            out.extend(member);
            match answer.get("NextToken") {
                Some(next) => token = Some(next.as_str().unwrap().to_owned()),
                None => return out,
            }
        }
        panic!("never ended");
    }

    #[test]
    fn lists_the_tree_in_pages_to_the_end() {
        let org = Organization::parse(FILE).expect("valid");
        let accounts = list_all(&org, "111111111111", "ListAccounts", json!({}));
        let ids: Vec<&str> = accounts.iter().map(|a| a["Id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "111111111111",
                "222222222222",
                "333333333333",
                "444444444444",
                "555555555555"
            ]
        );
        assert_eq!(accounts[2]["Status"], "SUSPENDED");
        assert_eq!(accounts[4]["State"], "PENDING_CLOSURE");
        let org_id = org.organization_id();
        assert_eq!(
            accounts[4]["Paths"][0],
            format!("{org_id}/r-ab12/ou-ab12-11111111/ou-ab12-22222222/555555555555/")
        );
        let first = run(Some(&org), "111111111111", "ListAccounts", &json!({})).unwrap();
        assert_eq!(first["Accounts"].as_array().unwrap().len(), 2, "page_size");
        let units = list_all(
            &org,
            "222222222222",
            "ListChildren",
            json!({"ParentId": "ou-ab12-11111111", "ChildType": "ORGANIZATIONAL_UNIT"}),
        );
        assert_eq!(
            units,
            [json!({"Id": "ou-ab12-22222222", "Type": "ORGANIZATIONAL_UNIT"})]
        );
        let under = list_all(
            &org,
            "111111111111",
            "ListAccountsForParent",
            json!({"ParentId": "ou-ab12-22222222"}),
        );
        assert_eq!(under.len(), 1);
    }

    #[test]
    fn empty_pages_come_before_every_page_of_results() {
        let mut org = Organization::parse(FILE).expect("valid");
        org.empty_pages = true;
        let first = run(Some(&org), "111111111111", "ListAccounts", &json!({})).unwrap();
        assert_eq!(first["Accounts"], json!([]));
        assert!(first["NextToken"].is_string());
        let all = list_all(&org, "111111111111", "ListAccounts", json!({}));
        assert_eq!(all.len(), 5);
        let roots = list_all(&org, "111111111111", "ListRoots", json!({}));
        assert_eq!(roots.len(), 1);
        assert_eq!(
            roots[0]["Arn"],
            format!(
                "arn:aws:organizations::111111111111:root/{}/r-ab12",
                org.organization_id()
            )
        );
    }

    #[test]
    fn refuses_callers_and_inputs_as_organizations_does() {
        let org = Organization::parse(FILE).expect("valid");
        let code = |org: Option<&Organization>, caller: &str, op: &str, input: Value| {
            run(org, caller, op, &input)
                .map_err(|e| (e.code, e.reason))
                .err()
        };
        assert_eq!(
            code(None, "111111111111", "ListRoots", json!({})),
            Some(("AWSOrganizationsNotInUseException", None))
        );
        assert_eq!(
            code(Some(&org), "999999999999", "ListRoots", json!({})),
            Some(("AWSOrganizationsNotInUseException", None))
        );
        assert_eq!(
            code(Some(&org), "333333333333", "ListRoots", json!({})),
            Some(("AccessDeniedException", None))
        );
        assert!(
            code(
                Some(&org),
                "333333333333",
                "DescribeOrganization",
                json!({})
            )
            .is_none()
        );
        assert_eq!(
            code(
                Some(&org),
                "111111111111",
                "ListChildren",
                json!({"ParentId": "r-ab12"})
            ),
            Some(("InvalidInputException", Some("INPUT_REQUIRED")))
        );
        assert_eq!(
            code(
                Some(&org),
                "111111111111",
                "ListAccountsForParent",
                json!({"ParentId": "ou-zzzz-99999999"})
            ),
            Some(("ParentNotFoundException", None))
        );
        assert_eq!(
            code(
                Some(&org),
                "111111111111",
                "ListAccountsForParent",
                json!({"ParentId": "x"})
            ),
            Some(("InvalidInputException", Some("INVALID_PATTERN")))
        );
        assert_eq!(
            code(
                Some(&org),
                "111111111111",
                "ListAccounts",
                json!({"MaxResults": 21})
            ),
            Some(("InvalidInputException", Some("MAX_VALUE_EXCEEDED")))
        );
        let token =
            run(Some(&org), "111111111111", "ListAccounts", &json!({})).unwrap()["NextToken"]
                .clone();
        assert_eq!(
            code(
                Some(&org),
                "111111111111",
                "ListAccountsForParent",
                json!({"ParentId": "r-ab12", "NextToken": token})
            ),
            Some(("InvalidInputException", Some("INVALID_NEXT_TOKEN")))
        );
    }

    #[test]
    fn files_that_break_a_rule_are_refused() {
        for (change, why) in [
            (("\"111111111111\"", "\"1111\""), "12 digits"),
            (("r-ab12", "root"), "root id"),
            (("page_size: 2", "page_size: 21"), "page_size"),
            (("status: SUSPENDED", "status: GONE"), "status"),
            (("ou-ab12-22222222", "ou-ab12-11111111"), "twice"),
            (("[\"222222222222\"]", "[\"999999999999\"]"), "delegated"),
        ] {
            let text = FILE.replacen(change.0, change.1, 1);
            let error = Organization::parse(&text).expect_err(why);
            assert!(error.contains(why), "{why}: {error}");
        }
        let error =
            Organization::parse("management_account_id: \"1\"\nroot: {id: r-ab12}\nextra: 1")
                .expect_err("unknown key");
        assert!(error.contains("extra"), "{error}");
    }
}
