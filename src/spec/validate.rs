//! Everything the service would refuse and everything we refuse, checked
//! before any API call and reported all at once, each at its place.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::diagnostic::Mark;
use super::file::{File, FileConnection, FileHost, FileTags, FileVpc};
use super::located::{Located, Pos};
use super::{Connection, ConnectionSource, Diagnostic, Host, Safety, Target, Vpc};
use crate::resource::{
    AWS_TAG_PREFIX, MAX_CONNECTIONS_PER_REGION, MAX_HOSTS_PER_ACCOUNT, MAX_TAGS, OWN_TAG_PREFIX,
    ProviderType, Tags,
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
    check_unique_names(
        &mut c,
        "connection",
        file.connections.iter().map(|c| &c.name),
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
        profile: file.profile.map(|p| p.value),
        hosts: hosts.into_iter().flatten().collect(),
        connections: connections.into_iter().flatten().collect(),
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

fn check_tags(c: &mut Checker<'_>, tags: &FileTags) {
    for (key, value) in tags {
        let key_len = key.chars().count();
        if key_len == 0 {
            c.error(
                key.pos,
                format!("tag key is empty; tag keys are 1-{TAG_KEY_MAX} characters"),
            );
        } else if key_len > TAG_KEY_MAX {
            c.error(
                key.pos,
                format!(
                    "tag key {:?} is {key_len} characters; tag keys are 1-{TAG_KEY_MAX} characters",
                    key.value
                ),
            );
        }
        // AWS reserves the prefix in any letter case.
        if key.to_ascii_lowercase().starts_with(AWS_TAG_PREFIX) {
            c.error(
                key.pos,
                format!(
                    "tag key {:?} starts with {AWS_TAG_PREFIX:?}, which AWS reserves for its own tags; choose another key",
                    key.value
                ),
            );
        } else if key.starts_with(OWN_TAG_PREFIX) {
            c.error(
                key.pos,
                format!(
                    "tag key {:?} starts with {OWN_TAG_PREFIX:?}, which codestar-reconcile reserves for its ownership tags; set `stack:` or `protect:` instead",
                    key.value
                ),
            );
        }
        let value_len = value.chars().count();
        if value_len > TAG_VALUE_MAX {
            c.error(
                value.pos,
                format!(
                    "the value of tag {:?} is {value_len} characters; tag values are 0-{TAG_VALUE_MAX} characters",
                    key.value
                ),
            );
        }
    }
}

fn plain_tags(tags: &FileTags) -> Tags {
    tags.iter()
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect()
}

/// The resource's tags merged over the defaults, checked against the quota
/// the resource will really meet: with our ownership tags added.
fn merged_tags(
    c: &mut Checker<'_>,
    kind: &str,
    name: &Located<String>,
    own: &FileTags,
    default_file_tags: &FileTags,
    default_tags: &Tags,
    protect: Option<bool>,
) -> Tags {
    check_tags(c, own);
    let mut tags = default_tags.clone();
    tags.extend(plain_tags(own));
    let ownership = 1 + usize::from(protect == Some(true));
    let total = tags.len() + ownership;
    if total > MAX_TAGS {
        c.error(
            name.pos,
            format!(
                "{kind} {:?} would carry {total} tags ({} from default_tags, {} of its own, {ownership} ownership tag{}); AWS allows at most {MAX_TAGS} tags per resource",
                name.value,
                default_file_tags.len(),
                own.len(),
                if ownership == 1 { "" } else { "s" },
            ),
        );
    }
    tags
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

fn check_host(
    c: &mut Checker<'_>,
    host: &FileHost,
    default_file_tags: &FileTags,
    default_tags: &Tags,
    base: &Path,
) -> Option<Host> {
    check_name(c, "host", &host.name, HOST_NAME_MAX);
    let host_types = [
        ProviderType::GitHubEnterpriseServer,
        ProviderType::GitLabSelfManaged,
    ];
    let provider_type = match ProviderType::parse(&host.provider_type) {
        Some(p) if p.is_self_hosted() => Some(p),
        Some(p) => {
            c.error(
                host.provider_type.pos,
                format!(
                    "a host's provider_type cannot be {p}: hosts are for self-managed providers, {}; connect to {p} with a connection's provider_type instead",
                    not_one_of(p.as_str(), &host_types)
                ),
            );
            None
        }
        None => {
            c.error(
                host.provider_type.pos,
                format!(
                    "provider_type {:?} is not a host provider type; {}",
                    host.provider_type.value,
                    not_one_of(&host.provider_type, &host_types)
                ),
            );
            None
        }
    };
    check_endpoint(c, &host.provider_endpoint);
    let vpc = host.vpc.as_ref().and_then(|v| check_vpc(c, v, base));
    let tags = merged_tags(
        c,
        "host",
        &host.name,
        &host.tags,
        default_file_tags,
        default_tags,
        host.protect,
    );
    Some(Host {
        name: host.name.value.clone(),
        provider_type: provider_type?,
        provider_endpoint: host.provider_endpoint.value.clone(),
        vpc: if host.vpc.is_some() { Some(vpc?) } else { None },
        tags,
        protect: host.protect,
        adopt: host.adopt,
    })
}

fn check_endpoint(c: &mut Checker<'_>, endpoint: &Located<String>) {
    let len = endpoint.chars().count();
    if len > ENDPOINT_MAX {
        c.error(
            endpoint.pos,
            format!("provider_endpoint is {len} characters; it may be at most {ENDPOINT_MAX}"),
        );
        return;
    }
    let expected = "expected an https URL such as https://ghes.example.com";
    match url::Url::parse(endpoint) {
        Err(e) => c.error(
            endpoint.pos,
            format!(
                "provider_endpoint {:?} is not a URL ({e}); {expected}",
                endpoint.value
            ),
        ),
        Ok(url) if url.scheme() != "https" => c.error(
            endpoint.pos,
            format!(
                "provider_endpoint {:?} uses {}; {expected}",
                endpoint.value,
                url.scheme()
            ),
        ),
        Ok(url) if url.host_str().is_none_or(str::is_empty) => c.error(
            endpoint.pos,
            format!(
                "provider_endpoint {:?} has no host; {expected}",
                endpoint.value
            ),
        ),
        Ok(_) => {}
    }
}

fn check_vpc(c: &mut Checker<'_>, vpc: &FileVpc, base: &Path) -> Option<Vpc> {
    if !VPC_ID.is_match(&vpc.vpc_id) {
        c.error(
            vpc.vpc_id.pos,
            format!(
                "vpc_id {:?} is not a VPC id; expected vpc- and 8 or 17 letters or digits, e.g. vpc-0abc1234def567890",
                vpc.vpc_id.value
            ),
        );
    }
    check_id_list(
        c,
        "subnet_ids",
        "subnet",
        &vpc.subnet_ids,
        &SUBNET_ID,
        "subnet-0a1b2c3d",
    );
    check_id_list(
        c,
        "security_group_ids",
        "security group",
        &vpc.security_group_ids,
        &SECURITY_GROUP_ID,
        "sg-0a1b2c3d",
    );
    let certificate = match (&vpc.tls_certificate, &vpc.tls_certificate_file) {
        (Some(_), Some(file)) => {
            c.error(
                file.pos,
                "give tls_certificate or tls_certificate_file, not both".to_string(),
            );
            None
        }
        (Some(inline), None) => {
            check_certificate(c, inline.pos, "tls_certificate", &inline.value).map(Some)
        }
        (None, Some(file)) => read_certificate(c, file, base).map(Some),
        (None, None) => Some(None),
    };
    Some(Vpc {
        vpc_id: vpc.vpc_id.value.clone(),
        subnet_ids: vpc.subnet_ids.iter().map(|s| s.value.clone()).collect(),
        security_group_ids: vpc
            .security_group_ids
            .iter()
            .map(|s| s.value.clone())
            .collect(),
        tls_certificate: certificate?,
    })
}

fn check_id_list(
    c: &mut Checker<'_>,
    field: &str,
    what: &str,
    ids: &Located<Vec<Located<String>>>,
    pattern: &Regex,
    example: &str,
) {
    let n = ids.len();
    if n == 0 || n > VPC_LIST_MAX {
        c.error(
            ids.pos,
            format!("{field} has {n} entries; a host's VPC takes 1-{VPC_LIST_MAX}"),
        );
    }
    let mut seen: BTreeMap<&str, Pos> = BTreeMap::new();
    for id in ids.iter() {
        if !pattern.is_match(id) {
            let prefix = example.split('-').next().unwrap_or_default();
            c.error(
                id.pos,
                format!(
                    "{:?} is not a {what} id; expected {prefix}- and 8 or 17 letters or digits, e.g. {example}",
                    id.value
                ),
            );
        }
        if let Some(&first) = seen.get(id.as_str()) {
            c.error_also(
                id.pos,
                format!("{what} {:?} is listed twice in {field}", id.value),
                first,
                "first listed here",
            );
        } else {
            seen.insert(id.as_str(), id.pos);
        }
    }
}

/// The certificate, normalised to its trimmed text and one final newline so
/// that inline and file forms of the same PEM compare equal. `None` when it
/// is not acceptable (and an error was recorded).
fn check_certificate(c: &mut Checker<'_>, pos: Pos, what: &str, text: &str) -> Option<String> {
    let pem = text.trim();
    let len = pem.chars().count() + 1;
    if pem.is_empty() {
        c.error(
            pos,
            format!(
                "{what} is empty; give the provider's PEM certificate ({PEM_BEGIN} ... {PEM_END})"
            ),
        );
        return None;
    }
    if len > TLS_CERTIFICATE_MAX {
        c.error(
            pos,
            format!(
                "{what} is {len} characters; a TLS certificate may be at most {TLS_CERTIFICATE_MAX}"
            ),
        );
        return None;
    }
    if !(pem.starts_with(PEM_BEGIN) && pem.ends_with(PEM_END)) {
        c.error(
            pos,
            format!("{what} is not a PEM certificate; expected text from {PEM_BEGIN} to {PEM_END}"),
        );
        return None;
    }
    Some(format!("{pem}\n"))
}

fn read_certificate(c: &mut Checker<'_>, file: &Located<String>, base: &Path) -> Option<String> {
    let path: PathBuf = base.join(&file.value);
    let what = format!("tls_certificate_file {:?}", file.value);
    let text = match fs::metadata(&path) {
        Ok(meta) if meta.len() > (TLS_CERTIFICATE_MAX as u64) * 4 => {
            c.error(
                file.pos,
                format!(
                    "{what} is {} bytes; a TLS certificate may be at most {TLS_CERTIFICATE_MAX} characters",
                    meta.len()
                ),
            );
            return None;
        }
        Ok(_) => fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| String::from_utf8(b).map_err(|_| "it is not UTF-8 text".to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "no such file ({} relative to this file's directory)",
            path.display()
        )),
        Err(e) => Err(e.to_string()),
    };
    match text {
        Ok(text) => check_certificate(c, file.pos, &what, &text),
        Err(e) => {
            c.error(file.pos, format!("cannot read {what}: {e}"));
            None
        }
    }
}

fn check_connection(
    c: &mut Checker<'_>,
    conn: &FileConnection,
    default_file_tags: &FileTags,
    default_tags: &Tags,
    host_names: &BTreeSet<String>,
    region: Option<&str>,
) -> Option<Connection> {
    check_name(c, "connection", &conn.name, CONNECTION_NAME_MAX);
    let tags = merged_tags(
        c,
        "connection",
        &conn.name,
        &conn.tags,
        default_file_tags,
        default_tags,
        conn.protect,
    );
    let given: Vec<(&str, &Located<String>)> = [
        ("provider_type", &conn.provider_type),
        ("host", &conn.host),
        ("host_arn", &conn.host_arn),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    .collect();
    let source = match given.as_slice() {
        [] => {
            c.error(
                conn.name.pos,
                format!(
                    "connection {:?} says nothing about where it connects; give exactly one of provider_type (Bitbucket, GitHub, GitLab), host (a host of this file) or host_arn (a host managed elsewhere)",
                    conn.name.value
                ),
            );
            None
        }
        [(_, _)] => check_source(c, conn, host_names, region),
        [(first, _), (second, value), ..] => {
            c.error(
                value.pos,
                format!(
                    "connection {:?} has both {first} and {second}; give exactly one of provider_type, host or host_arn",
                    conn.name.value
                ),
            );
            None
        }
    };
    Some(Connection {
        name: conn.name.value.clone(),
        source: source?,
        tags,
        protect: conn.protect,
        adopt: conn.adopt,
    })
}

fn check_source(
    c: &mut Checker<'_>,
    conn: &FileConnection,
    host_names: &BTreeSet<String>,
    region: Option<&str>,
) -> Option<ConnectionSource> {
    if let Some(p) = &conn.provider_type {
        let direct = [
            ProviderType::Bitbucket,
            ProviderType::GitHub,
            ProviderType::GitLab,
        ];
        return match ProviderType::parse(p) {
            Some(t) if t.is_self_hosted() => {
                c.error(
                    p.pos,
                    format!(
                        "a connection reaches {t} only through a host: replace provider_type with host: (a host of this file) or host_arn: (a host managed elsewhere)"
                    ),
                );
                None
            }
            Some(t) => Some(ConnectionSource::Provider(t)),
            None => {
                c.error(
                    p.pos,
                    format!(
                        "provider_type {:?} is not a connection provider type; {}, or use host/host_arn for GitHubEnterpriseServer and GitLabSelfManaged",
                        p.value,
                        not_one_of(p, &direct)
                    ),
                );
                None
            }
        };
    }
    if let Some(h) = &conn.host {
        if host_names.contains(h.as_str()) {
            return Some(ConnectionSource::Host(h.value.clone()));
        }
        let known = if host_names.is_empty() {
            "this file declares no hosts".to_string()
        } else {
            let names: Vec<String> = host_names.iter().map(|n| format!("{n:?}")).collect();
            format!("hosts in this file: {}", names.join(", "))
        };
        c.error(
            h.pos,
            format!(
                "host {:?} is not a host of this file ({known}); for a host managed elsewhere use host_arn",
                h.value
            ),
        );
        return None;
    }
    let arn = conn.host_arn.as_ref()?;
    let Some(captures) = HOST_ARN.captures(arn).filter(|_| arn.len() <= HOST_ARN_MAX) else {
        c.error(
            arn.pos,
            format!(
                "host_arn {:?} is not a host ARN; expected arn:aws:codestar-connections:REGION:ACCOUNT:host/NAME-ID (or codeconnections), at most {HOST_ARN_MAX} characters",
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
            format!(
                "host_arn is in {arn_region} but this file is for {region}; a connection must be in its host's Region"
            ),
        );
        return None;
    }
    Some(ConnectionSource::HostArn(arn.value.clone()))
}
