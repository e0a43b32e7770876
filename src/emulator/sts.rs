//! Just enough of STS (awsQuery protocol, answered on the same endpoint) for
//! fleet mode: `GetCallerIdentity` answers for whoever signed, and
//! `AssumeRole` issues temporary keys that act in the role's account.
//!
//! Any role in any account can be assumed (no IAM is emulated) unless the
//! [`Trust`] denies it or wants an external id the caller did not give.

use std::collections::BTreeMap;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::identity::{Principal, TEMPORARY_KEY_PREFIX, assumed_role_arn};
use super::protocol::{ApiError, xml_escape};
use super::state::{EpochMillis, Session, Store};

/// `DurationSeconds` when absent: the default maximum session of a role.
const DEFAULT_DURATION_SECONDS: i64 = 3600;
/// The model's range of `DurationSeconds`.
const DURATION_SECONDS: std::ops::RangeInclusive<i64> = 900..=43_200;
/// Role chaining caps a session at one hour.
const CHAINED_MAX_SECONDS: i64 = 3600;

/// The parameters of a form-encoded awsQuery body.
pub(super) fn params(body: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// The STS action a form-encoded awsQuery body asks for, if any.
pub(super) fn action(body: &[u8]) -> Option<String> {
    params(body).remove("Action")
}

/// Which roles may not be assumed, and which want an external id. Each rule
/// names a 12-digit account (every role in it) or a role ARN, where `*`
/// matches any run of characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Trust {
    pub deny: Vec<String>,
    /// Rule → the external id the role requires.
    pub external_ids: BTreeMap<String, String>,
}

impl Trust {
    fn denies(&self, role: &Role) -> bool {
        self.deny.iter().any(|rule| role.matches(rule))
    }

    /// The external id a role requires: the most specific rule's (a role ARN
    /// without `*` before one with, before an account).
    fn external_id(&self, role: &Role) -> Option<&str> {
        self.external_ids
            .iter()
            .filter(|(rule, _)| role.matches(rule))
            .max_by_key(|(rule, _)| (rule.starts_with("arn:"), !rule.contains('*')))
            .map(|(_, id)| id.as_str())
    }
}

/// A rule as [`Trust`] takes it: a 12-digit account or an IAM role ARN.
pub(super) fn check_rule(rule: &str) -> Result<(), String> {
    if is_account_id(rule) || rule.starts_with("arn:aws:iam::") {
        Ok(())
    } else {
        Err(format!(
            "{rule:?}: expected a 12-digit account id or a role ARN (arn:aws:iam::<account>:role/<name>, `*` allowed)"
        ))
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// A role ARN taken apart: `arn:aws:iam::<account>:role/<path/><name>`.
struct Role<'a> {
    arn: &'a str,
    account_id: &'a str,
    name: &'a str,
}

impl<'a> Role<'a> {
    fn parse(arn: &'a str) -> Option<Role<'a>> {
        let rest = arn.strip_prefix("arn:aws:iam::")?;
        let (account_id, resource) = rest.split_once(':')?;
        let path = resource.strip_prefix("role/")?;
        let name = path.rsplit('/').next()?;
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        (is_account_id(account_id) && name_ok).then_some(Role {
            arn,
            account_id,
            name,
        })
    }

    fn matches(&self, rule: &str) -> bool {
        if is_account_id(rule) {
            rule == self.account_id
        } else {
            glob(rule, self.arn)
        }
    }

    /// A stable role id (`AROA` + 17 characters) derived from the ARN: the
    /// same role always has the same id, as in IAM.
    fn id(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let digest = Sha256::digest(self.arn.as_bytes());
        let tail: String = digest
            .iter()
            .take(17)
            .map(|b| ALPHABET[usize::from(b % 32)] as char)
            .collect();
        format!("AROA{tail}")
    }
}

/// `pattern` matches all of `text`, `*` standing for any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Answer an STS action for `principal`: `GetCallerIdentity` reads,
/// `AssumeRole` issues a session into `store`. The flag says whether the
/// store changed.
pub(super) fn answer(
    action: &str,
    params: &BTreeMap<String, String>,
    principal: &Principal,
    trust: &Trust,
    store: &mut Store,
    now: EpochMillis,
    request_id: &str,
) -> Result<(Response, bool), ApiError> {
    match action {
        "GetCallerIdentity" => Ok((caller_identity(principal, request_id), false)),
        "AssumeRole" => {
            let issued = assume_role(params, principal, trust, store, now)?;
            Ok((issued.into_response(request_id), true))
        }
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("The action {action} is not valid for this web service."),
        )),
    }
}

fn caller_identity(principal: &Principal, request_id: &str) -> Response {
    xml(format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult>\
         <Arn>{}</Arn>\
         <UserId>{}</UserId>\
         <Account>{}</Account>\
         </GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
         </GetCallerIdentityResponse>",
        xml_escape(&principal.arn),
        xml_escape(&principal.user_id),
        xml_escape(&principal.account_id),
        xml_escape(request_id),
    ))
}

fn xml(body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

/// What `AssumeRole` issued.
struct Issued {
    access_key_id: String,
    session: Session,
}

impl Issued {
    fn into_response(self, request_id: &str) -> Response {
        let session = &self.session;
        let expiration = aws_smithy_types::DateTime::from_millis(session.expiration)
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap_or_default();
        xml(format!(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <AssumeRoleResult>\
             <AssumedRoleUser>\
             <AssumedRoleId>{}:{}</AssumedRoleId>\
             <Arn>{}</Arn>\
             </AssumedRoleUser>\
             <Credentials>\
             <AccessKeyId>{}</AccessKeyId>\
             <SecretAccessKey>{}</SecretAccessKey>\
             <SessionToken>{}</SessionToken>\
             <Expiration>{expiration}</Expiration>\
             </Credentials>\
             </AssumeRoleResult>\
             <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
             </AssumeRoleResponse>",
            xml_escape(&session.role_id),
            xml_escape(&session.session_name),
            xml_escape(&assumed_role_arn(
                &session.account_id,
                &session.role_name,
                &session.session_name
            )),
            xml_escape(&self.access_key_id),
            xml_escape(&session.secret_access_key),
            xml_escape(&session.session_token),
            xml_escape(request_id),
        ))
    }
}

/// Check the input as STS does, then the trust rules, then issue keys.
fn assume_role(
    params: &BTreeMap<String, String>,
    principal: &Principal,
    trust: &Trust,
    store: &mut Store,
    now: EpochMillis,
) -> Result<Issued, ApiError> {
    let get = |name: &str| params.get(name).map(String::as_str);
    let mut errors = Vec::new();
    let role_arn = get("RoleArn");
    let session_name = get("RoleSessionName");
    let external_id = get("ExternalId");
    match role_arn {
        None => errors.push(null("roleArn")),
        Some(arn) => check_length(&mut errors, "roleArn", arn, 20, 2048),
    }
    match session_name {
        None => errors.push(null("roleSessionName")),
        Some(name) => {
            check_length(&mut errors, "roleSessionName", name, 2, 64);
            check_pattern(
                &mut errors,
                "roleSessionName",
                name,
                |c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c),
                "[\\w+=,.@-]*",
            );
        }
    }
    if let Some(id) = external_id {
        check_length(&mut errors, "externalId", id, 2, 1224);
        check_pattern(
            &mut errors,
            "externalId",
            id,
            |c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c),
            "[\\w+=,.@:\\/-]*",
        );
    }
    let duration = match get("DurationSeconds") {
        None => DEFAULT_DURATION_SECONDS,
        Some(text) => match text.parse::<i64>() {
            Ok(seconds) => {
                if seconds < *DURATION_SECONDS.start() {
                    errors.push(format!(
                        "Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: \
                         Member must have value greater than or equal to {}",
                        DURATION_SECONDS.start()
                    ));
                } else if seconds > *DURATION_SECONDS.end() {
                    errors.push(format!(
                        "Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: \
                         Member must have value less than or equal to {}",
                        DURATION_SECONDS.end()
                    ));
                }
                seconds
            }
            Err(_) => {
                errors.push(format!(
                    "Value '{text}' at 'durationSeconds' failed to satisfy constraint: Member \
                     must be an integer"
                ));
                DEFAULT_DURATION_SECONDS
            }
        },
    };
    if !errors.is_empty() {
        return Err(validation(format!(
            "{} validation error{} detected: {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("; ")
        )));
    }
    let (Some(role_arn), Some(session_name)) = (role_arn, session_name) else {
        return Err(validation("RoleArn and RoleSessionName are required"));
    };
    let role = Role::parse(role_arn).ok_or_else(|| {
        validation(format!(
            "{role_arn} is not a valid role ARN: expected arn:aws:iam::<12-digit account>:role/<name>"
        ))
    })?;
    if principal.assumed && duration > CHAINED_MAX_SECONDS {
        return Err(validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed \
             by role chaining.",
        ));
    }
    let denied = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                principal.arn
            ),
        )
    };
    if trust.denies(&role) {
        return Err(denied());
    }
    if let Some(required) = trust.external_id(&role)
        && external_id != Some(required)
    {
        return Err(denied());
    }
    let access_key_id = loop {
        let candidate = format!("{TEMPORARY_KEY_PREFIX}{}", random_upper(16));
        if !store.sessions.contains_key(&candidate) {
            break candidate;
        }
    };
    let session = Session {
        secret_access_key: random_secret(40),
        session_token: format!("IQoJb3JpZ2luX2VjEMULATOR{}", random_secret(120)),
        account_id: role.account_id.to_owned(),
        role_arn: role_arn.to_owned(),
        role_name: role.name.to_owned(),
        role_id: role.id(),
        session_name: session_name.to_owned(),
        expiration: now + duration * 1000,
        chained: principal.assumed,
    };
    store.add_session(access_key_id.clone(), session.clone(), now);
    Ok(Issued {
        access_key_id,
        session,
    })
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "ValidationError", message)
}

fn null(member: &str) -> String {
    format!("Value null at '{member}' failed to satisfy constraint: Member must not be null")
}

fn check_length(errors: &mut Vec<String>, member: &str, value: &str, min: usize, max: usize) {
    let length = value.chars().count();
    if length < min {
        errors.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: Member must have \
             length greater than or equal to {min}"
        ));
    } else if length > max {
        errors.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: Member must have \
             length less than or equal to {max}"
        ));
    }
}

fn check_pattern(
    errors: &mut Vec<String>,
    member: &str,
    value: &str,
    allowed: impl Fn(char) -> bool,
    pattern: &str,
) {
    if !value.chars().all(allowed) {
        errors.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy \
             regular expression pattern: {pattern}"
        ));
    }
}

/// Random uppercase letters and digits 2-7, as AWS key ids use.
fn random_upper(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    random_from(ALPHABET, length)
}

fn random_secret(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    random_from(ALPHABET, length)
}

fn random_from(alphabet: &[u8], length: usize) -> String {
    let mut out = String::with_capacity(length);
    while out.len() < length {
        for byte in uuid::Uuid::new_v4().as_bytes() {
            if out.len() == length {
                break;
            }
            out.push(alphabet[usize::from(*byte) % alphabet.len()] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EpochMillis = 1_700_000_000_000;

    fn input(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn user() -> Principal {
        Principal::user("123456789012")
    }

    #[test]
    fn issues_keys_that_act_in_the_roles_account() {
        let mut store = Store::empty();
        let issued = assume_role(
            &input(&[
                ("RoleArn", "arn:aws:iam::222222222222:role/team/deploy"),
                ("RoleSessionName", "ci"),
                ("DurationSeconds", "900"),
            ]),
            &user(),
            &Trust::default(),
            &mut store,
            NOW,
        )
        .expect("assumed");
        assert!(issued.access_key_id.starts_with("ASIA"));
        assert_eq!(issued.access_key_id.len(), 20);
        assert_eq!(issued.session.account_id, "222222222222");
        assert_eq!(issued.session.role_name, "deploy");
        assert_eq!(issued.session.expiration, NOW + 900_000);
        assert_eq!(issued.session.role_id.len(), 21);
        assert_eq!(store.sessions[&issued.access_key_id], issued.session);
    }

    #[test]
    fn checks_inputs_as_sts_does() {
        let mut store = Store::empty();
        let run = |pairs: &[(&str, &str)], principal: &Principal, store: &mut Store| {
            assume_role(&input(pairs), principal, &Trust::default(), store, NOW)
                .err()
                .map(|e| (e.code, e.message))
        };
        let (code, message) = run(&[("RoleSessionName", "ci")], &user(), &mut store).unwrap();
        assert_eq!(code, "ValidationError");
        assert!(message.contains("Value null at 'roleArn'"), "{message}");
        let role = ("RoleArn", "arn:aws:iam::222222222222:role/deploy");
        for duration in ["899", "43201"] {
            let (code, message) = run(
                &[
                    role,
                    ("RoleSessionName", "ci"),
                    ("DurationSeconds", duration),
                ],
                &user(),
                &mut store,
            )
            .unwrap();
            assert_eq!(code, "ValidationError");
            assert!(message.contains("durationSeconds"), "{message}");
        }
        let (_, message) = run(&[role, ("RoleSessionName", "a b")], &user(), &mut store).unwrap();
        assert!(message.contains("regular expression"), "{message}");
        let (code, _) = run(
            &[
                ("RoleArn", "arn:aws:iam::2222:role/deploy-xxxxxxx"),
                ("RoleSessionName", "ci"),
            ],
            &user(),
            &mut store,
        )
        .unwrap();
        assert_eq!(code, "ValidationError");
        let mut chained = user();
        chained.assumed = true;
        let (_, message) = run(
            &[role, ("RoleSessionName", "ci"), ("DurationSeconds", "3601")],
            &chained,
            &mut store,
        )
        .unwrap();
        assert!(message.contains("role chaining"), "{message}");
        assert!(store.sessions.is_empty());
    }

    #[test]
    fn trust_rules_deny_and_want_external_ids() {
        let trust = Trust {
            deny: vec![
                "333333333333".to_owned(),
                "arn:aws:iam::444444444444:role/admin-*".to_owned(),
            ],
            external_ids: [
                ("555555555555".to_owned(), "account-wide".to_owned()),
                (
                    "arn:aws:iam::555555555555:role/special".to_owned(),
                    "exact".to_owned(),
                ),
            ]
            .into(),
        };
        let mut store = Store::empty();
        let mut run = |arn: &str, external_id: Option<&str>| {
            let mut pairs = vec![("RoleArn", arn), ("RoleSessionName", "ci")];
            pairs.extend(external_id.map(|id| ("ExternalId", id)));
            assume_role(&input(&pairs), &user(), &trust, &mut store, NOW).map_err(|e| e.code)
        };
        assert_eq!(
            run("arn:aws:iam::333333333333:role/any", None).err(),
            Some("AccessDenied")
        );
        assert_eq!(
            run("arn:aws:iam::444444444444:role/admin-x", None).err(),
            Some("AccessDenied")
        );
        assert!(run("arn:aws:iam::444444444444:role/deploy", None).is_ok());
        assert_eq!(
            run("arn:aws:iam::555555555555:role/deploy", None).err(),
            Some("AccessDenied")
        );
        assert!(
            run(
                "arn:aws:iam::555555555555:role/deploy",
                Some("account-wide")
            )
            .is_ok()
        );
        assert_eq!(
            run(
                "arn:aws:iam::555555555555:role/special",
                Some("account-wide")
            )
            .err(),
            Some("AccessDenied")
        );
        assert!(run("arn:aws:iam::555555555555:role/special", Some("exact")).is_ok());
    }

    #[test]
    fn globs_match_whole_arns() {
        assert!(glob("a*c", "abbc"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*c", "abcd"));
        assert!(!glob("abc", "abcd"));
        assert!(glob("ab*", "ab"));
    }
}
