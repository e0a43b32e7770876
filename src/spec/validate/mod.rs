//! Everything the service would refuse and everything we refuse, checked
//! before any API call and reported all at once, each at its place.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

mod connection;
mod fleet;
mod host;
mod link;
mod sync;
mod tags;

use connection::check_connection;
use fleet::check_fleet;
use host::check_host;
use link::check_link;
use sync::check_sync;
use tags::{check_tags, merged_tags, plain_tags};

use super::diagnostic::Mark;
use super::file::{
    File, FileConnection, FileHost, FileRepositoryLink, FileSyncConfiguration, FileTags,
    FileTargets, FileVpc,
};
use super::located::{Located, Pos};
use super::{
    ACCOUNT_PLACEHOLDER, CFN_STACK_SYNC, Connection, ConnectionSource, Diagnostic, Fleet, Host,
    LinkConnection, RepositoryLink, Safety, SyncConfiguration, Target, Vpc,
};
use crate::resource::{
    AWS_TAG_PREFIX, Api, MAX_CONNECTIONS_PER_REGION, MAX_HOSTS_PER_ACCOUNT, MAX_TAGS,
    OWN_TAG_PREFIX, ProviderType, Tags,
};

const CONNECTION_NAME_MAX: usize = 32;
const HOST_NAME_MAX: usize = 64;
const STACK_MAX: usize = 256;
const TAG_KEY_MAX: usize = 128;
const TAG_VALUE_MAX: usize = 256;
const ENDPOINT_MAX: usize = 512;
const HOST_ARN_MAX: usize = 256;
const TLS_CERTIFICATE_MAX: usize = 16_384;
const VPC_LIST_MAX: usize = 10;
const CONNECTION_ARN_MAX: usize = 256;
const ARN_MAX: usize = 1024;
const OWNER_MAX: usize = 255;
const REPOSITORY_NAME_MAX: usize = 128;
const BRANCH_MAX: usize = 255;
const RESOURCE_NAME_MAX: usize = 100;
const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the patterns in this file are valid")
}

// The service's own patterns (see the model), anchored: the API matches the
// whole value.
static VPC_ID: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^vpc-[0-9A-Za-z_]{8}([0-9A-Za-z_]{9})?$"));
static SUBNET_ID: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^subnet-[0-9A-Za-z_]{8}([0-9A-Za-z_]{9})?$"));
static SECURITY_GROUP_ID: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^sg-[0-9A-Za-z_]{8}([0-9A-Za-z_]{9})?$"));
static HOST_ARN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^arn:aws(-[0-9A-Za-z_]+)*:(codestar-connections|codeconnections):([a-z]{2}(-[a-z]+)+-\d+):(\d{12}):host/.+$",
    )
});
static CONNECTION_ARN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^arn:aws(-[0-9A-Za-z_]+)*:(codestar-connections|codeconnections):([a-z0-9\-]+):([0-9]{12}):connection/[0-9A-Za-z_\-]+$",
    )
});
static KMS_KEY_ARN: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^arn:aws(-[0-9A-Za-z_]+)*:kms:[a-z\-0-9]+:\d{12}:key/[a-zA-Z0-9\-]+$")
});
static ROLE_ARN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^arn:aws(-[0-9A-Za-z_]+)*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+$"));
static RESOURCE_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[0-9A-Za-z]+[0-9A-Za-z_\-]*$"));
static REGION: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-z]{2}(-[a-z]+)+-\d+$"));
static ACCOUNT_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"^\d{12}$"));
/// What AWS allows in a tag value; the stack name is written as one.
static TAG_VALUE_CHAR: LazyLock<Regex> = LazyLock::new(|| regex(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]$"));

/// Collects the problems of one file.
struct Checker<'a> {
    path: &'a Path,
    source: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, pos: Pos, message: String) {
        self.diagnostics
            .push(Diagnostic::at(self.path, self.source, pos, message));
    }

    /// An error at `pos` that also shows an earlier place (a duplicate).
    fn error_also(&mut self, pos: Pos, message: String, first: Pos, label: &str) {
        let marks = [
            Mark {
                file: None,
                source: self.source,
                pos: first,
                label: Some(label),
            },
            Mark {
                file: None,
                source: self.source,
                pos,
                label: None,
            },
        ];
        self.diagnostics
            .push(Diagnostic::at_with(self.path, pos, message, &marks));
    }
}

/// Check a parsed file and turn it into a [`Target`]; also returns where
/// `stack` is, for checks across files.
pub(super) fn validate(
    path: &Path,
    source: &str,
    file: File,
) -> Result<(Target, Pos), Vec<Diagnostic>> {
    let mut c = Checker {
        path,
        source,
        diagnostics: Vec::new(),
    };

    if file.version.value != 1 {
        c.error(
            file.version.pos,
            format!(
                "version {} is not supported; this codestar-reconcile reads version 1",
                file.version.value
            ),
        );
    }
    check_stack(&mut c, &file.stack);
    if let Some(region) = &file.region
        && !REGION.is_match(region)
    {
        c.error(
            region.pos,
            format!(
                "region {:?} is not an AWS Region name; expected lowercase letters and digits like eu-west-1 or us-gov-west-1",
                region.value
            ),
        );
    }
    if let Some(account) = &file.account_id
        && !ACCOUNT_ID.is_match(account)
    {
        c.error(
            account.pos,
            format!(
                "account_id {:?} is not an AWS account id; it must be exactly 12 digits, quoted (e.g. \"012345678901\")",
                account.value
            ),
        );
    }
    let api = file.api.as_ref().and_then(|api| {
        let parsed = Api::parse(api);
        if parsed.is_none() {
            let names: Vec<&str> = Api::ALL.iter().map(|a| a.as_str()).collect();
            c.error(
                api.pos,
                format!(
                    "api {:?} is not a name of the service; expected one of {}",
                    api.value,
                    names.join(", ")
                ),
            );
        }
        parsed
    });
    if let Some(profile) = &file.profile
        && profile.trim().is_empty()
    {
        c.error(
            profile.pos,
            "profile is empty; name an AWS profile, or leave profile out".to_string(),
        );
    }
    check_tags(&mut c, &file.default_tags);
    let default_tags = plain_tags(&file.default_tags);

    let host_names = check_unique_names(&mut c, "host", file.hosts.iter().map(|h| &h.name));
    let connection_names = check_unique_names(
        &mut c,
        "connection",
        file.connections.iter().map(|c| &c.name),
    );
    let link_names = check_unique_names(
        &mut c,
        "repository link",
        file.repository_links.iter().map(|l| &l.repository),
    );
    check_unique_names(
        &mut c,
        "sync configuration",
        file.sync_configurations.iter().map(|s| &s.resource_name),
    );
    if let Some(extra) = file.hosts.get(MAX_HOSTS_PER_ACCOUNT) {
        c.error(
            extra.name.pos,
            format!(
                "this file declares {} hosts; an account allows at most {MAX_HOSTS_PER_ACCOUNT}",
                file.hosts.len()
            ),
        );
    }
    if let Some(extra) = file.connections.get(MAX_CONNECTIONS_PER_REGION) {
        c.error(
            extra.name.pos,
            format!(
                "this file declares {} connections; an account allows at most {MAX_CONNECTIONS_PER_REGION} per Region",
                file.connections.len()
            ),
        );
    }

    let base = path.parent().unwrap_or(Path::new("."));
    let hosts: Vec<Option<Host>> = file
        .hosts
        .iter()
        .map(|h| check_host(&mut c, h, &file.default_tags, &default_tags, base))
        .collect();
    let connections: Vec<Option<Connection>> = file
        .connections
        .iter()
        .map(|conn| {
            check_connection(
                &mut c,
                conn,
                &file.default_tags,
                &default_tags,
                &host_names,
                file.region.as_ref().map(|r| r.value.as_str()),
            )
        })
        .collect();

    let fleet = file.targets.as_ref().map(|t| check_fleet(&mut c, &file, t));
    let region = file.region.as_ref().map(|r| r.value.as_str());
    let links: Vec<Option<RepositoryLink>> = file
        .repository_links
        .iter()
        .map(|link| {
            check_link(
                &mut c,
                link,
                &file.default_tags,
                &default_tags,
                &connection_names,
                region,
            )
        })
        .collect();
    let syncs: Vec<Option<SyncConfiguration>> = file
        .sync_configurations
        .iter()
        .map(|sync| check_sync(&mut c, sync, &link_names, api))
        .collect();

    let mut safety = Safety::default();
    if let Some(s) = &file.safety {
        if s.max_delete_percent.value > 100 {
            c.error(
                s.max_delete_percent.pos,
                format!(
                    "max_delete_percent is {}; it is a percentage, 0-100",
                    s.max_delete_percent.value
                ),
            );
        }
        safety.max_delete_percent = s.max_delete_percent.value;
        safety.min_managed = s.min_managed.value as usize;
    }

    if !c.diagnostics.is_empty() {
        let mut diagnostics = c.diagnostics;
        // Report in reading order, whatever order the checks ran in.
        diagnostics.sort_by_key(|d| (d.line, d.column));
        return Err(diagnostics);
    }
    let target = Target {
        source: path.to_path_buf(),
        stack: file.stack.value,
        region: file.region.map(|r| r.value),
        account_id: file.account_id.map(|a| a.value),
        api,
        profile: file.profile.map(|p| p.value),
        fleet: fleet.flatten(),
        hosts: hosts.into_iter().flatten().collect(),
        connections: connections.into_iter().flatten().collect(),
        repository_links: links.into_iter().flatten().collect(),
        sync_configurations: syncs.into_iter().flatten().collect(),
        safety,
    };
    Ok((target, file.stack.pos))
}

fn check_stack(c: &mut Checker<'_>, stack: &Located<String>) {
    for problem in stack_problems(stack) {
        c.error(stack.pos, problem);
    }
}

/// What is wrong with `stack` as a stack name (it is written as a tag
/// value); empty when it is fine. Shared with `import --stack`.
pub fn stack_problems(stack: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let len = stack.chars().count();
    if len == 0 {
        problems.push(format!("stack is empty; it names the owner of everything this file manages and must be 1-{STACK_MAX} characters"));
    } else if len > STACK_MAX {
        problems.push(format!("stack is {len} characters; it is written as a tag value, so it must be 1-{STACK_MAX} characters"));
    }
    if let Some(bad) = stack
        .chars()
        .find(|ch| !TAG_VALUE_CHAR.is_match(ch.encode_utf8(&mut [0; 4])))
    {
        problems.push(format!(
            "stack {stack:?} contains {bad:?}, which AWS does not allow in a tag value; use letters, digits, spaces and _ . : / = + - @"
        ));
    }
    problems
}

/// Report names given twice (both places shown); returns the set of names.
fn check_unique_names<'a>(
    c: &mut Checker<'_>,
    kind: &str,
    names: impl Iterator<Item = &'a Located<String>>,
) -> BTreeSet<String> {
    let mut first: BTreeMap<&str, Pos> = BTreeMap::new();
    for name in names {
        if let Some(&earlier) = first.get(name.as_str()) {
            c.error_also(
                name.pos,
                format!(
                    "{kind} name {:?} is used twice in this file (first at line {}, column {}); {kind} names must be unique",
                    name.value, earlier.line, earlier.column
                ),
                earlier,
                "first used here",
            );
        } else {
            first.insert(name.as_str(), name.pos);
        }
    }
    first.into_keys().map(str::to_string).collect()
}

fn check_name(c: &mut Checker<'_>, kind: &str, name: &Located<String>, max: usize) {
    let len = name.chars().count();
    if len == 0 {
        c.error(
            name.pos,
            format!("{kind} name is empty; {kind} names are 1-{max} characters"),
        );
    } else if len > max {
        c.error(
            name.pos,
            format!(
                "{kind} name {:?} is {len} characters; {kind} names are 1-{max} characters",
                name.value
            ),
        );
    }
}

/// What an ARN field of the file must be: its key, the kind of resource it
/// names, the pattern (capture 3 is the Region), its longest length, and
/// who must share its Region.
struct ArnRule<'r> {
    key: &'r str,
    names: &'r str,
    pattern: &'r Regex,
    example: &'r str,
    max: usize,
    same_region_as: &'r str,
}

/// `arn` checked against `rule` and, when the file pins one, its Region;
/// the value when it passes.
fn check_arn(
    c: &mut Checker<'_>,
    arn: &Located<String>,
    rule: &ArnRule<'_>,
    region: Option<&str>,
) -> Option<String> {
    let ArnRule {
        key,
        names,
        pattern,
        example,
        max,
        same_region_as,
    } = rule;
    let Some(captures) = pattern.captures(arn).filter(|_| arn.len() <= *max) else {
        c.error(
            arn.pos,
            format!(
                "{key} {:?} is not a {names} ARN; expected {example} (or codeconnections), at most {max} characters",
                arn.value
            ),
        );
        return None;
    };
    let arn_region = captures.get(3).map_or("", |m| m.as_str());
    if let Some(region) = region
        && region != arn_region
    {
        c.error(
            arn.pos,
            format!("{key} is in {arn_region} but this file is for {region}; {same_region_as}"),
        );
        return None;
    }
    Some(arn.value.clone())
}

/// Where a string value is not one of `allowed`: the message part naming
/// what is, with a nudge when only the spelling's case is off.
fn not_one_of(value: &str, allowed: &[ProviderType]) -> String {
    let list = allowed
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match ProviderType::ALL
        .iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(value))
    {
        Some(p) if p.as_str() != value => format!("expected one of {list} (did you mean {p}?)"),
        _ => format!("expected one of {list}"),
    }
}
