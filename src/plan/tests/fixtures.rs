//! Plans built by hand for the renderer tests: every action, both kinds,
//! tag adds/changes/removes, warnings, refusals and two targets.

use crate::plan::{
    Action, Change, Field, Plan, Reason, Refusal, State, TagChanges, TargetPlan, TargetSummary,
    VpcState, Warning, WarningKind,
};
use crate::resource::{Kind, PROTECT_TAG, STACK_TAG, Tags};
use crate::spec::Vpc;

/// A real-looking PEM: the tests check it never reaches any output.
pub(crate) const CERTIFICATE_PEM: &str = "-----BEGIN CERTIFICATE-----\n\
MIIBszCCAVmgAwIBAgIUKx0Xx7cq1Zb0fakefakefakefakewCgYIKoZIzj0EAwIw\n\
-----END CERTIFICATE-----\n";

const PROD: &str = "platform-prod@eu-west-1";
const US: &str = "platform-prod@us-east-1";
const ACCOUNT: &str = "123456789012";

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A resource's own tags plus this stack's ownership tag.
fn owned(pairs: &[(&str, &str)]) -> Tags {
    let mut t = tags(pairs);
    t.insert(STACK_TAG.to_owned(), "platform-prod".to_owned());
    t
}

fn arn(region: &str, resource: &str) -> String {
    format!("arn:aws:codestar-connections:{region}:{ACCOUNT}:{resource}")
}

fn change(action: Action, kind: Kind, name: &str, target: &str, reason: Reason) -> Change {
    Change {
        action,
        kind,
        name: name.to_owned(),
        target: target.to_owned(),
        arn: None,
        reason,
        replace_fields: Vec::new(),
        before: None,
        after: None,
        tags: TagChanges::default(),
    }
}

fn connection(provider: &str, tags: Tags) -> State {
    State::tagged(tags).with(Field::ProviderType, Some(provider))
}

fn pending(target: &str, kind: Kind, name: &str, warning: WarningKind) -> Warning {
    Warning {
        target: target.to_owned(),
        kind,
        name: name.to_owned(),
        warning,
    }
}

fn not_in_file() -> Reason {
    Reason::NotInFile {
        stack: "platform-prod".to_owned(),
    }
}

/// Two targets; every action; a replacement forced by a new host; a host
/// whose endpoint, VPC, certificate and tags change; refusals and warnings.
pub(crate) fn sample() -> Plan {
    let ghes_prod_arn = arn("eu-west-1", "host/ghes-prod-0a1b2c3d");
    let ghes_next_vpc = Vpc {
        vpc_id: "vpc-0abc1234def567890".to_owned(),
        subnet_ids: vec!["subnet-0a1b2c3d".to_owned()],
        security_group_ids: vec!["sg-0a1b2c3d".to_owned()],
        tls_certificate: Some(CERTIFICATE_PEM.to_owned()),
    };

    let mut prod = Vec::new();

    let mut c = change(
        Action::Create,
        Kind::Host,
        "ghes-next",
        PROD,
        Reason::Missing,
    );
    c.after = Some(
        State::tagged(owned(&[("team", "platform")]))
            .with(Field::ProviderType, Some("GitHubEnterpriseServer"))
            .with(
                Field::ProviderEndpoint,
                Some("https://ghes-next.example.com"),
            )
            .with_vpc(Some(VpcState::from_vpc(&ghes_next_vpc))),
    );
    prod.push(c);

    let mut c = change(
        Action::Update,
        Kind::Host,
        "ghes-prod",
        PROD,
        Reason::Differs {
            fields: vec![Field::ProviderEndpoint, Field::Vpc, Field::Tags],
        },
    );
    c.arn = Some(ghes_prod_arn.clone());
    let vpc_before = VpcState {
        vpc_id: "vpc-0abc1234def567890".to_owned(),
        subnet_ids: vec!["subnet-0a1b2c3d".to_owned()],
        security_group_ids: vec!["sg-0a1b2c3d".to_owned()],
        tls_certificate_sha256: Some("1f".repeat(32)),
    };
    let mut vpc_after = vpc_before.clone();
    vpc_after.subnet_ids.push("subnet-0e5f6a7b".to_owned());
    vpc_after.tls_certificate_sha256 = Some("9a".repeat(32));
    let before = State::tagged(owned(&[("team", "platform"), ("env", "prod")]))
        .with(Field::ProviderType, Some("GitHubEnterpriseServer"))
        .with(Field::ProviderEndpoint, Some("https://ghes.example.com"))
        .with_vpc(Some(vpc_before))
        .with_status("AVAILABLE");
    let after = State::tagged(owned(&[("team", "platform"), ("env", "production")]))
        .with(Field::ProviderType, Some("GitHubEnterpriseServer"))
        .with(Field::ProviderEndpoint, Some("https://git.example.com"))
        .with_vpc(Some(vpc_after));
    c.tags.change = tags(&[("env", "production")]);
    c.before = Some(before);
    c.after = Some(after);
    prod.push(c);

    let mut c = change(
        Action::Adopt,
        Kind::Connection,
        "bitbucket-legacy",
        PROD,
        Reason::Adopt {
            fields: vec![Field::Tags],
        },
    );
    c.arn = Some(arn(
        "eu-west-1",
        "connection/5d2c9f4e-1111-4a6b-9c3d-7e8f9a0b1c2d",
    ));
    c.before =
        Some(connection("Bitbucket", tags(&[("team", "platform")])).with_status("AVAILABLE"));
    c.after = Some(connection("Bitbucket", owned(&[("team", "platform")])));
    c.tags.add = tags(&[(STACK_TAG, "platform-prod")]);
    prod.push(c);

    let mut c = change(
        Action::Replace,
        Kind::Connection,
        "ghes-apps",
        PROD,
        Reason::CannotChangeInPlace,
    );
    c.arn = Some(arn(
        "eu-west-1",
        "connection/0f9e8d7c-2222-4b5a-8c9d-0e1f2a3b4c5d",
    ));
    c.replace_fields = vec![Field::Host];
    c.before = Some(
        connection("GitHubEnterpriseServer", owned(&[("team", "apps")]))
            .with(Field::Host, Some("ghes-prod"))
            .with(Field::HostArn, Some(&ghes_prod_arn))
            .with_status("AVAILABLE"),
    );
    c.after = Some(
        connection("GitHubEnterpriseServer", owned(&[("team", "apps")]))
            .with(Field::Host, Some("ghes-next")),
    );
    prod.push(c);

    let mut c = change(
        Action::Create,
        Kind::Connection,
        "github-main",
        PROD,
        Reason::Missing,
    );
    c.after = Some(connection(
        "GitHub",
        owned(&[("team", "platform"), ("env", "prod")]),
    ));
    prod.push(c);

    let mut c = change(
        Action::Update,
        Kind::Connection,
        "gitlab-docs",
        PROD,
        Reason::Differs {
            fields: vec![Field::Tags],
        },
    );
    c.arn = Some(arn(
        "eu-west-1",
        "connection/7a6b5c4d-3333-4e2f-9a1b-2c3d4e5f6a7b",
    ));
    c.before = Some(
        connection(
            "GitLab",
            owned(&[("team", "docs"), ("cost center", "42"), ("obsolete", "yes")]),
        )
        .with_status("AVAILABLE"),
    );
    c.after = Some(connection(
        "GitLab",
        owned(&[
            ("team", "docs-platform"),
            ("cost center", "42"),
            ("owner", ""),
        ]),
    ));
    c.tags = TagChanges {
        add: tags(&[("owner", "")]),
        change: tags(&[("team", "docs-platform")]),
        remove: vec!["obsolete".to_owned()],
    };
    prod.push(c);

    let mut c = change(
        Action::Delete,
        Kind::Connection,
        "old-bitbucket",
        PROD,
        not_in_file(),
    );
    c.arn = Some(arn(
        "eu-west-1",
        "connection/1b2c3d4e-4444-4f5a-8b6c-7d8e9f0a1b2c",
    ));
    c.before =
        Some(connection("Bitbucket", owned(&[("team", "platform")])).with_status("AVAILABLE"));
    prod.push(c);

    let prod_plan = TargetPlan {
        changes: prod,
        refusals: vec![
            Refusal::unmanaged_name(
                PROD,
                Kind::Connection,
                "github-docs",
                &arn(
                    "eu-west-1",
                    "connection/2c3d4e5f-5555-4a6b-9c7d-8e9f0a1b2c3d",
                ),
            ),
            Refusal::protected(
                PROD,
                Kind::Connection,
                "github-payments",
                Some(&arn(
                    "eu-west-1",
                    "connection/3d4e5f6a-6666-4b7c-8d9e-0f1a2b3c4d5e",
                )),
                "deleted",
            ),
        ],
        warnings: vec![
            pending(PROD, Kind::Host, "ghes-next", WarningKind::HostSetUp),
            pending(
                PROD,
                Kind::Connection,
                "ghes-apps",
                WarningKind::NewArn {
                    old: Some(arn(
                        "eu-west-1",
                        "connection/0f9e8d7c-2222-4b5a-8c9d-0e1f2a3b4c5d",
                    )),
                },
            ),
            pending(
                PROD,
                Kind::Connection,
                "github-main",
                WarningKind::PendingHandshake,
            ),
        ],
        managed: 9,
    };

    let mut us = Vec::new();
    let mut c = change(
        Action::Delete,
        Kind::Host,
        "ghes-retired",
        US,
        not_in_file(),
    );
    c.arn = Some(arn("us-east-1", "host/ghes-retired-9f8e7d6c"));
    c.before = Some(
        State::tagged(owned(&[("team", "platform"), (PROTECT_TAG, "false")]))
            .with(Field::ProviderType, Some("GitLabSelfManaged"))
            .with(
                Field::ProviderEndpoint,
                Some("https://gitlab.us.example.com"),
            )
            .with_status("AVAILABLE"),
    );
    us.push(c);
    let mut c = change(
        Action::Create,
        Kind::Connection,
        "github-us",
        US,
        Reason::Missing,
    );
    c.after = Some(connection("GitHub", owned(&[("team", "platform")])));
    us.push(c);
    let us_plan = TargetPlan {
        changes: us,
        refusals: Vec::new(),
        warnings: vec![pending(
            US,
            Kind::Connection,
            "github-us",
            WarningKind::PendingHandshake,
        )],
        managed: 4,
    };

    Plan::combine(vec![
        (target(PROD, "stacks/prod.yaml", "eu-west-1"), prod_plan),
        (target(US, "stacks/us.yaml", "us-east-1"), us_plan),
    ])
}

fn target(label: &str, file: &str, region: &str) -> TargetSummary {
    TargetSummary {
        label: label.to_owned(),
        file: file.to_owned(),
        stack: "platform-prod".to_owned(),
        region: region.to_owned(),
        account_id: Some(ACCOUNT.to_owned()),
        api: crate::resource::Api::default(),
        retired: false,
        managed: 0,
    }
}

/// A plan with no changes for one target.
pub(crate) fn empty() -> Plan {
    Plan::combine(vec![(
        target(PROD, "stacks/prod.yaml", "eu-west-1"),
        TargetPlan {
            managed: 9,
            ..TargetPlan::default()
        },
    )])
}

/// `n` connection creates, each with its PENDING warning: far beyond what a
/// pull-request comment can hold.
pub(crate) fn huge(n: usize) -> Plan {
    let mut part = TargetPlan::default();
    for i in 0..n {
        let name = format!("github-{i:05}");
        let mut c = change(
            Action::Create,
            Kind::Connection,
            &name,
            PROD,
            Reason::Missing,
        );
        c.after = Some(connection(
            "GitHub",
            owned(&[("team", "platform"), ("env", "prod")]),
        ));
        part.changes.push(c);
        part.warnings.push(pending(
            PROD,
            Kind::Connection,
            &name,
            WarningKind::PendingHandshake,
        ));
    }
    Plan::combine(vec![(target(PROD, "stacks/prod.yaml", "eu-west-1"), part)])
}
