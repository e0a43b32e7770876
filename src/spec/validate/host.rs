//! Hosts: name, provider type, endpoint and VPC configuration (with its
//! certificate, inline or from a file).

use super::*;

pub(super) fn check_host(
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

pub(super) fn check_endpoint(c: &mut Checker<'_>, endpoint: &Located<String>) {
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

pub(super) fn check_vpc(c: &mut Checker<'_>, vpc: &FileVpc, base: &Path) -> Option<Vpc> {
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

pub(super) fn check_id_list(
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
pub(super) fn check_certificate(
    c: &mut Checker<'_>,
    pos: Pos,
    what: &str,
    text: &str,
) -> Option<String> {
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

pub(super) fn read_certificate(
    c: &mut Checker<'_>,
    file: &Located<String>,
    base: &Path,
) -> Option<String> {
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
