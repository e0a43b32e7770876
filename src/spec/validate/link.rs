//! Repository links: the repository (`owner/name`), exactly one of
//! connection (of this file) or connection ARN, the KMS key, tags.

use super::*;

pub(super) fn check_link(
    c: &mut Checker<'_>,
    link: &FileRepositoryLink,
    default_file_tags: &FileTags,
    default_tags: &Tags,
    connection_names: &BTreeSet<String>,
    region: Option<&str>,
) -> Option<RepositoryLink> {
    let repository = check_repository(c, &link.repository);
    let tags = merged_tags(
        c,
        "repository link",
        &link.repository,
        &link.tags,
        default_file_tags,
        default_tags,
        link.protect,
    );
    let connection = match (&link.connection, &link.connection_arn) {
        (None, None) => {
            c.error(
                link.repository.pos,
                format!(
                    "repository link {:?} names no connection; give exactly one of connection (a connection of this file) or connection_arn (a connection managed elsewhere)",
                    link.repository.value
                ),
            );
            None
        }
        (Some(_), Some(arn)) => {
            c.error(
                arn.pos,
                format!(
                    "repository link {:?} has both connection and connection_arn; give exactly one",
                    link.repository.value
                ),
            );
            None
        }
        (Some(name), None) => check_connection_name(c, name, connection_names),
        (None, Some(arn)) => check_connection_arn(c, arn, region),
    };
    if let Some(key) = &link.encryption_key_arn
        && !(KMS_KEY_ARN.is_match(key) && key.chars().count() <= ARN_MAX)
    {
        c.error(
            key.pos,
            format!(
                "encryption_key_arn {:?} is not a KMS key ARN; expected arn:aws:kms:REGION:ACCOUNT:key/KEY-ID, at most {ARN_MAX} characters",
                key.value
            ),
        );
    }
    let (owner_id, repository_name) = repository?;
    Some(RepositoryLink {
        owner_id,
        repository_name,
        connection: connection?,
        encryption_key_arn: link.encryption_key_arn.as_ref().map(|k| k.value.clone()),
        tags,
        protect: link.protect,
        adopt: link.adopt,
    })
}

/// `owner/name`, split at the last `/`, each part within the service's
/// limits.
pub(super) fn check_repository(
    c: &mut Checker<'_>,
    repository: &Located<String>,
) -> Option<(String, String)> {
    let Some((owner, name)) = repository
        .rsplit_once('/')
        .filter(|(owner, name)| !owner.is_empty() && !name.is_empty())
    else {
        c.error(
            repository.pos,
            format!(
                "repository {:?} is not owner/name; write the owner (user, organisation or group) and the repository name, e.g. my-org/app",
                repository.value
            ),
        );
        return None;
    };
    let mut fine = true;
    for (what, text, max) in [
        ("owner", owner, OWNER_MAX),
        ("repository name", name, REPOSITORY_NAME_MAX),
    ] {
        let len = text.chars().count();
        if len > max {
            c.error(
                repository.pos,
                format!(
                    "the {what} of repository {:?} is {len} characters; AWS allows at most {max}",
                    repository.value
                ),
            );
            fine = false;
        }
        if text.contains(['\n', '\r']) {
            c.error(
                repository.pos,
                format!(
                    "the {what} of repository {:?} holds a line break",
                    repository.value
                ),
            );
            fine = false;
        }
    }
    fine.then(|| (owner.to_owned(), name.to_owned()))
}

fn check_connection_name(
    c: &mut Checker<'_>,
    name: &Located<String>,
    connection_names: &BTreeSet<String>,
) -> Option<LinkConnection> {
    if connection_names.contains(name.as_str()) {
        return Some(LinkConnection::Name(name.value.clone()));
    }
    let known = if connection_names.is_empty() {
        "this file declares no connections".to_owned()
    } else {
        let names: Vec<String> = connection_names.iter().map(|n| format!("{n:?}")).collect();
        format!("connections in this file: {}", names.join(", "))
    };
    c.error(
        name.pos,
        format!(
            "connection {:?} is not a connection of this file ({known}); for a connection managed elsewhere use connection_arn",
            name.value
        ),
    );
    None
}

fn check_connection_arn(
    c: &mut Checker<'_>,
    arn: &Located<String>,
    region: Option<&str>,
) -> Option<LinkConnection> {
    let rule = ArnRule {
        key: "connection_arn",
        names: "connection",
        pattern: &CONNECTION_ARN,
        example: "arn:aws:codestar-connections:REGION:ACCOUNT:connection/ID",
        max: CONNECTION_ARN_MAX,
        same_region_as: "a repository link must be in its connection's Region",
    };
    check_arn(c, arn, &rule, region).map(LinkConnection::Arn)
}
