//! Connections: name, and exactly one of provider type, host (of this
//! file) or host ARN.

use super::*;

pub(super) fn check_connection(
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

pub(super) fn check_source(
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
    let rule = ArnRule {
        key: "host_arn",
        names: "host",
        pattern: &HOST_ARN,
        example: "arn:aws:codestar-connections:REGION:ACCOUNT:host/NAME-ID",
        max: HOST_ARN_MAX,
        same_region_as: "a connection must be in its host's Region",
    };
    check_arn(c, arn, &rule, region).map(ConnectionSource::HostArn)
}
