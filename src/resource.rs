//! Vocabulary shared by every stage: provider types, resource kinds, tags,
//! ownership tag keys and ARN helpers.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Tags as the tool reasons about them: sorted, one value per key.
pub type Tags = BTreeMap<String, String>;

/// The tag that records which stack owns a resource. The tags are the state.
pub const STACK_TAG: &str = "codestar-reconcile:stack";
/// Present (`true`) on a resource apply must never delete or replace.
pub const PROTECT_TAG: &str = "codestar-reconcile:protect";
/// Prefix reserved for the tool's own tags; users may not set these keys.
pub const OWN_TAG_PREFIX: &str = "codestar-reconcile:";
/// Prefix reserved by AWS; such tags are never read into plans nor touched.
pub const AWS_TAG_PREFIX: &str = "aws:";

/// Service quotas the tool and the emulator both respect.
pub const MAX_TAGS: usize = 200;
pub const MAX_CONNECTIONS_PER_REGION: usize = 250;
pub const MAX_HOSTS_PER_ACCOUNT: usize = 50;

/// Whether a tag key belongs to AWS and must be ignored.
pub fn is_aws_tag(key: &str) -> bool {
    key.starts_with(AWS_TAG_PREFIX)
}

/// The service's two names: AWS CodeStar Connections, renamed AWS
/// CodeConnections in 2024. Both APIs are live over the same resources; each
/// has its own SigV4 signing name, IAM action prefix and ARN prefix, and a
/// resource's ARN carries the prefix of the API that created it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Api {
    #[default]
    #[serde(rename = "codestar-connections")]
    CodestarConnections,
    #[serde(rename = "codeconnections")]
    Codeconnections,
}

impl Api {
    pub const ALL: [Api; 2] = [Api::CodestarConnections, Api::Codeconnections];

    /// The name in ARNs, SigV4 scopes, endpoints and IAM actions.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::CodestarConnections => arn::OLD,
            Api::Codeconnections => arn::NEW,
        }
    }

    pub fn parse(text: &str) -> Option<Api> {
        Api::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// The API whose prefix `resource_arn` carries, if it is an ARN of this
    /// service.
    pub fn of_arn(resource_arn: &str) -> Option<Api> {
        Api::parse(resource_arn.split(':').nth(2)?)
    }

    /// One line for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            Api::CodestarConnections => "AWS CodeStar Connections, the older name",
            Api::Codeconnections => "AWS CodeConnections, the name since 2024",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who owns a live resource, read from its tags: the tags are the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Carries this stack's tag.
    Managed,
    /// Carries another stack's tag: never touched.
    Foreign(String),
    /// Carries no stack tag: never touched unless adopted.
    Unmanaged,
}

/// Ownership of a resource carrying `tags`, from the point of view of `stack`.
pub fn ownership(tags: &Tags, stack: &str) -> Ownership {
    match tags.get(STACK_TAG) {
        Some(owner) if owner == stack => Ownership::Managed,
        Some(owner) => Ownership::Foreign(owner.clone()),
        None => Ownership::Unmanaged,
    }
}

/// Whether the live tags protect the resource from deletion and replacement.
pub fn is_protected(tags: &Tags) -> bool {
    tags.get(PROTECT_TAG).is_some_and(|v| v == "true")
}

/// The kinds of resource the tool manages. Sync configurations have no ARN
/// and no tags: each belongs to its repository link's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Connection,
    Host,
    RepositoryLink,
    SyncConfiguration,
}

impl Kind {
    /// In apply's order of creation: each kind uses only kinds before it.
    pub const ALL: [Kind; 4] = [
        Kind::Host,
        Kind::Connection,
        Kind::RepositoryLink,
        Kind::SyncConfiguration,
    ];

    /// As prose names it ("repository link"); JSON spells it in snake case.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Connection => "connection",
            Kind::Host => "host",
            Kind::RepositoryLink => "repository link",
            Kind::SyncConfiguration => "sync configuration",
        }
    }

    /// Its place in apply's order of creation (`ALL`).
    pub fn rank(self) -> usize {
        Kind::ALL
            .iter()
            .position(|k| *k == self)
            .expect("every kind is in Kind::ALL")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The service's `ProviderType` enum, spelled exactly as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProviderType {
    Bitbucket,
    GitHub,
    GitHubEnterpriseServer,
    GitLab,
    GitLabSelfManaged,
}

impl ProviderType {
    pub const ALL: [ProviderType; 5] = [
        ProviderType::Bitbucket,
        ProviderType::GitHub,
        ProviderType::GitHubEnterpriseServer,
        ProviderType::GitLab,
        ProviderType::GitLabSelfManaged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderType::Bitbucket => "Bitbucket",
            ProviderType::GitHub => "GitHub",
            ProviderType::GitHubEnterpriseServer => "GitHubEnterpriseServer",
            ProviderType::GitLab => "GitLab",
            ProviderType::GitLabSelfManaged => "GitLabSelfManaged",
        }
    }

    pub fn parse(s: &str) -> Option<ProviderType> {
        ProviderType::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Self-hosted providers: a host carries them, and a connection reaches
    /// them only through a host.
    pub fn is_self_hosted(self) -> bool {
        matches!(
            self,
            ProviderType::GitHubEnterpriseServer | ProviderType::GitLabSelfManaged
        )
    }
}

impl fmt::Display for ProviderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// ARNs of this service come with two service prefixes (`codestar-connections`
/// and the newer `codeconnections`) naming the same resource.
pub mod arn {
    pub(crate) const OLD: &str = "codestar-connections";
    pub(crate) const NEW: &str = "codeconnections";

    /// An ARN as a comparable, hashable value that is equal for both
    /// service prefixes, without allocating: the ARN around its service
    /// field (`arn:aws`, service, `:region:...`), the service normalised to
    /// the old prefix; the whole text when it is not shaped like an ARN.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Key<'a>(&'a str, &'a str, &'a str);

    pub fn key(arn: &str) -> Key<'_> {
        let bytes = arn.as_bytes();
        let mut colons = (0..bytes.len()).filter(|&i| bytes[i] == b':');
        match (colons.next(), colons.next(), colons.next()) {
            (Some(_), Some(start), Some(end)) => {
                let service = &arn[start + 1..end];
                let service = if service == NEW { OLD } else { service };
                Key(&arn[..start], service, &arn[end..])
            }
            _ => Key(arn, "", ""),
        }
    }

    /// The ARN with its service prefix normalised, for comparisons only.
    pub fn canonical(arn: &str) -> String {
        match key(arn) {
            Key(whole, "", "") => whole.to_owned(),
            Key(before, service, after) => format!("{before}:{service}{after}"),
        }
    }

    /// Whether two ARNs name the same resource, whatever their prefix.
    pub fn same(a: &str, b: &str) -> bool {
        a == b || key(a) == key(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_with_either_prefix_are_the_same_resource() {
        let old = "arn:aws:codestar-connections:eu-west-1:123456789012:host/ghes-0123abcd";
        let new = "arn:aws:codeconnections:eu-west-1:123456789012:host/ghes-0123abcd";
        assert!(arn::same(old, new));
        assert!(!arn::same(old, &old.replace("0123abcd", "0123abce")));
        assert!(!arn::same(old, &old.replace("eu-west-1", "eu-west-2")));
        assert_eq!(arn::canonical(new), old);
        assert_eq!(arn::canonical(old), old);
        assert_eq!(arn::canonical("not-an-arn"), "not-an-arn");
        assert!(!arn::same("not-an-arn", "not:an:arn"));
    }

    #[test]
    fn each_arn_names_the_api_that_made_it() {
        let old = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/x";
        let new = "arn:aws:codeconnections:eu-west-1:123456789012:connection/x";
        assert_eq!(Api::of_arn(old), Some(Api::CodestarConnections));
        assert_eq!(Api::of_arn(new), Some(Api::Codeconnections));
        assert_eq!(Api::of_arn("arn:aws:iam::123456789012:role/x"), None);
        assert_eq!(Api::of_arn("not an arn"), None);
        for api in Api::ALL {
            assert_eq!(Api::parse(api.as_str()), Some(api));
        }
    }

    #[test]
    fn provider_types_round_trip_and_know_which_need_a_host() {
        for p in ProviderType::ALL {
            assert_eq!(ProviderType::parse(p.as_str()), Some(p));
        }
        assert!(ProviderType::GitLabSelfManaged.is_self_hosted());
        assert!(!ProviderType::GitHub.is_self_hosted());
        assert_eq!(ProviderType::parse("github"), None);
    }
}
