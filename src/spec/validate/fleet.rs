//! `targets:`: account ids, organizational units, Regions, the role to
//! assume in each account, and the accounts to retire.

use std::time::Duration;

use super::*;

const EXTERNAL_ID_MAX: usize = 1224;
const SESSION_NAME_MAX: usize = 64;
const DURATION_MIN: Duration = Duration::from_secs(15 * 60);
const DURATION_MAX: Duration = Duration::from_secs(12 * 60 * 60);

static OU_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"));
static ROLE_ARN_OF_ACCOUNT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$"));
static EXTERNAL_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"^[\w+=,.@:/-]+$"));
static SESSION_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[\w+=,.@-]+$"));

pub(super) fn check_fleet(
    c: &mut Checker<'_>,
    file: &File,
    targets: &FileTargets,
) -> Option<Fleet> {
    // A fleet names its accounts and Regions here, not at the top.
    for (key, value) in [
        ("region", file.region.as_ref()),
        ("account_id", file.account_id.as_ref()),
    ] {
        if let Some(value) = value {
            c.error(
                value.pos,
                format!(
                    "{key} cannot be used with targets: a fleet names its {} under targets ({})",
                    if key == "region" {
                        "Regions"
                    } else {
                        "accounts"
                    },
                    if key == "region" {
                        "targets.regions"
                    } else {
                        "targets.accounts"
                    }
                ),
            );
        }
    }
    let accounts = account_list(c, "accounts", &targets.accounts);
    let exclude = account_list(c, "exclude_accounts", &targets.exclude_accounts);
    let retired = account_list(c, "retired_accounts", &targets.retired_accounts);
    for unit in &targets.organizational_units {
        if !OU_ID.is_match(unit) {
            c.error(
                unit.pos,
                format!(
                    "organizational unit {:?} is not an OU id; expected ou- and two groups of lowercase letters and digits, like ou-ab12-34567890",
                    unit.value
                ),
            );
        }
    }
    let mut seen = BTreeMap::new();
    for unit in &targets.organizational_units {
        if let Some(first) = seen.insert(unit.as_str(), unit.pos) {
            c.error_also(
                unit.pos,
                format!("organizational unit {:?} is listed twice", unit.value),
                first,
                "first listed here",
            );
        }
    }
    if targets.accounts.is_empty()
        && targets.organizational_units.is_empty()
        && targets.retired_accounts.is_empty()
    {
        c.error(
            targets.role_arn.pos,
            "targets names no account: give accounts, organizational_units or retired_accounts"
                .to_owned(),
        );
    }
    for account in &targets.retired_accounts {
        let also = targets.accounts.iter().find(|a| a.value == account.value);
        if let Some(also) = also {
            c.error_also(
                account.pos,
                format!(
                    "account {} is both a target and retired; retiring it deletes this stack's resources there: drop it from accounts, or from retired_accounts",
                    account.value
                ),
                also.pos,
                "a target here",
            );
        }
    }

    let regions = &targets.regions;
    if regions.is_empty() {
        c.error(
            regions.pos,
            "targets.regions is empty; name at least one Region, e.g. [eu-west-1]".to_owned(),
        );
    }
    let mut seen = BTreeMap::new();
    for region in regions.iter() {
        if !REGION.is_match(region) {
            c.error(
                region.pos,
                format!(
                    "region {:?} is not an AWS Region name; expected lowercase letters and digits like eu-west-1",
                    region.value
                ),
            );
        }
        if let Some(first) = seen.insert(region.as_str(), region.pos) {
            c.error_also(
                region.pos,
                format!("region {} is listed twice", region.value),
                first,
                "first listed here",
            );
        }
    }

    let role = &targets.role_arn;
    if !role.contains(ACCOUNT_PLACEHOLDER) {
        c.error(
            role.pos,
            format!(
                "role_arn {:?} does not name the account: write {ACCOUNT_PLACEHOLDER} where the account id goes, e.g. arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/codestar-reconcile",
                role.value
            ),
        );
    } else if !ROLE_ARN_OF_ACCOUNT.is_match(&role.replace(ACCOUNT_PLACEHOLDER, "123456789012")) {
        c.error(
            role.pos,
            format!(
                "role_arn {:?} is not an IAM role ARN once {ACCOUNT_PLACEHOLDER} is filled in; expected arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/NAME",
                role.value
            ),
        );
    }
    if let Some(id) = &targets.external_id {
        let len = id.chars().count();
        if !(2..=EXTERNAL_ID_MAX).contains(&len) || !EXTERNAL_ID.is_match(id) {
            c.error(
                id.pos,
                format!("external_id must be 2-{EXTERNAL_ID_MAX} letters, digits and +=,.@:/-"),
            );
        }
    }
    if let Some(name) = &targets.session_name {
        let len = name.chars().count();
        if !(2..=SESSION_NAME_MAX).contains(&len) || !SESSION_NAME.is_match(name) {
            c.error(
                name.pos,
                format!(
                    "session_name {:?} must be 2-{SESSION_NAME_MAX} letters, digits and +=,.@-",
                    name.value
                ),
            );
        }
    }
    let duration = targets.duration.as_ref().and_then(|d| {
        let parsed = parse_duration(d).filter(|v| (DURATION_MIN..=DURATION_MAX).contains(v));
        if parsed.is_none() {
            c.error(
                d.pos,
                format!(
                    "duration {:?} is not a role session length AWS allows: 15m to 12h, written like 45m, 1h or 3600",
                    d.value
                ),
            );
        }
        parsed
    });

    Some(Fleet {
        accounts: accounts?,
        organizational_units: targets
            .organizational_units
            .iter()
            .map(|u| u.value.clone())
            .collect(),
        exclude_accounts: exclude?,
        regions: regions.iter().map(|r| r.value.clone()).collect(),
        role_arn: role.value.clone(),
        external_id: targets.external_id.as_ref().map(|e| e.value.clone()),
        session_name: targets.session_name.as_ref().map(|s| s.value.clone()),
        duration,
        retired_accounts: retired?,
    })
}

/// A list of account ids, each 12 digits, none twice.
fn account_list(
    c: &mut Checker<'_>,
    key: &str,
    accounts: &[Located<String>],
) -> Option<Vec<String>> {
    let mut fine = true;
    let mut seen = BTreeMap::new();
    for account in accounts {
        if !ACCOUNT_ID.is_match(account) {
            c.error(
                account.pos,
                format!(
                    "{key}: {:?} is not an AWS account id; it must be exactly 12 digits, quoted (e.g. \"012345678901\")",
                    account.value
                ),
            );
            fine = false;
        }
        if let Some(first) = seen.insert(account.as_str(), account.pos) {
            c.error_also(
                account.pos,
                format!("{key}: account {} is listed twice", account.value),
                first,
                "first listed here",
            );
            fine = false;
        }
    }
    fine.then(|| accounts.iter().map(|a| a.value.clone()).collect())
}

/// `45m`, `1h`, `90s` or plain seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, ch)| !ch.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let seconds = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_seconds_minutes_and_hours() {
        assert_eq!(parse_duration("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("45m"), Some(Duration::from_secs(2700)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration(""), None);
    }
}
