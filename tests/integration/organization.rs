//! The emulator as a whole organisation, through the real SDK clients:
//! `aws-sdk-sts` and aws-config's `AssumeRoleProvider` assume roles into
//! accounts, the CodeStar clients act there with the temporary keys, and
//! `aws-sdk-organizations` reads the tree given at start-up. boto3 and the
//! AWS CLI run the same paths against the binary in
//! `tests/boto3_organization.py`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use aws_sdk_codestarconnections::config::http::HttpResponse;
use aws_sdk_codestarconnections::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codestarconnections::types::ProviderType;
use aws_sdk_organizations::types::{AccountStatus, ChildType};
use codestar_reconcile::emulator::{Config, Credentials, Organization};

use crate::support::{ACCESS_KEY_ID, ACCOUNT_ID, Keys, SECRET_ACCESS_KEY, Sandbox, role_arn};

const REGION: &str = "eu-west-1";
const FLEET: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

/// An organisation managed by the sandbox's default account: nested units,
/// a suspended and a closing account, pages of two, empty pages.
const ORGANIZATION: &str = r#"
management_account_id: "123456789012"
id: o-exampleorg1
delegated_administrators: ["222222222222"]
page_size: 2
empty_pages: true
root:
  id: r-ex12
  accounts:
    - {id: "123456789012", name: management, email: management@example.com}
  organizational_units:
    - id: ou-ex12-workload
      name: Workloads
      accounts:
        - {id: "111111111111", name: app-prod, email: prod@example.com}
        - {id: "222222222222", name: tools, email: tools@example.com}
        - {id: "444444444444", name: retired, email: retired@example.com, status: SUSPENDED}
      organizational_units:
        - id: ou-ex12-sandboxx
          name: Sandboxes
          accounts:
            - {id: "333333333333", name: play, email: play@example.com}
            - {id: "555555555555", name: closing, email: closing@example.com, status: PENDING_CLOSURE}
          organizational_units:
            - id: ou-ex12-deepdeep
              name: Deep
              accounts:
                - {id: "666666666666", name: deep, email: deep@example.com}
    - id: ou-ex12-emptyemp
      name: Empty
"#;

fn organization() -> Organization {
    Organization::parse(ORGANIZATION).expect("the test organisation is valid")
}

fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> String {
    error.code().unwrap_or("<no code>").to_owned()
}

/// The HTTP status of a failed call (every SDK crate shares these types).
fn status<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

async fn connection(client: &aws_sdk_codestarconnections::Client, name: &str) -> String {
    client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"))
        .connection_arn()
        .to_owned()
}

async fn names(client: &aws_sdk_codestarconnections::Client) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_connections()
        .send()
        .await
        .expect("list")
        .connections()
        .iter()
        .filter_map(|c| c.connection_name().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn assumed_keys_act_in_the_roles_account_and_each_sees_only_its_own() {
    let sandbox = Sandbox::start();
    let before = SystemTime::now();
    let sts = sandbox.sts_client("us-east-1").await;
    let assumed = sts
        .assume_role()
        .role_arn(role_arn(FLEET[0]))
        .role_session_name("fleet-run")
        .external_id("any-id-is-fine")
        .duration_seconds(900)
        .send()
        .await
        .expect("AssumeRole");
    let credentials = assumed.credentials().expect("credentials");
    assert!(credentials.access_key_id().starts_with("ASIA"));
    assert_eq!(credentials.access_key_id().len(), 20);
    assert!(!credentials.secret_access_key().is_empty());
    assert!(!credentials.session_token().is_empty());
    let expiration = SystemTime::try_from(*credentials.expiration()).expect("a time");
    let lifetime = expiration.duration_since(before).expect("in the future");
    assert!(
        lifetime >= Duration::from_secs(899) && lifetime <= Duration::from_secs(905),
        "{lifetime:?}"
    );
    let user = assumed.assumed_role_user().expect("the assumed role user");
    assert_eq!(
        user.arn(),
        "arn:aws:sts::111111111111:assumed-role/reconcile/fleet-run"
    );
    assert!(
        user.assumed_role_id().starts_with("AROA")
            && user.assumed_role_id().ends_with(":fleet-run"),
        "{}",
        user.assumed_role_id()
    );

    let mut clients = Vec::new();
    for account in FLEET {
        let keys = sandbox.assume(account).await;
        let identity = sandbox
            .sts_client_with(&keys, REGION)
            .get_caller_identity()
            .send()
            .await
            .expect("GetCallerIdentity with temporary keys");
        assert_eq!(identity.account(), Some(account));
        assert_eq!(
            identity.arn().map(str::to_owned),
            Some(format!(
                "arn:aws:sts::{account}:assumed-role/reconcile/test"
            ))
        );
        assert!(
            identity
                .user_id()
                .is_some_and(|u| u.starts_with("AROA") && u.ends_with(":test")),
            "{identity:?}"
        );
        let client = sandbox.client_with(&keys, REGION);
        let arn = connection(&client, &format!("own-{account}")).await;
        assert!(arn.contains(&format!(":{account}:connection/")), "{arn}");
        // Names are unique per account, not across them.
        connection(&client, "shared-name").await;
        clients.push((account, keys, client));
    }
    for (account, keys, client) in &clients {
        assert_eq!(
            names(client).await,
            [format!("own-{account}"), "shared-name".to_owned()]
        );
        let listed = client.list_connections().send().await.expect("list");
        assert!(
            listed
                .connections()
                .iter()
                .all(|c| c.owner_account_id() == Some(account)),
            "{listed:?}"
        );
        // The other name of the service, on its other wire, sees the same.
        let newer = sandbox.codeconnections_client_with(keys, REGION);
        let newer_listed = newer.list_connections().send().await.expect("list");
        assert_eq!(newer_listed.connections().len(), 2);
    }
    // Another account's ARN is not found from here.
    let (_, _, first) = &clients[0];
    let (_, _, second) = &clients[1];
    let theirs = second
        .list_connections()
        .send()
        .await
        .expect("list")
        .connections()[0]
        .connection_arn()
        .expect("arn")
        .to_owned();
    let missing = first
        .get_connection()
        .connection_arn(&theirs)
        .send()
        .await
        .expect_err("not in this account");
    assert_eq!(code(&missing), "ResourceNotFoundException");
    // The default account's keys see none of it.
    assert!(names(&sandbox.client(REGION).await).await.is_empty());
    let identity = sandbox
        .sts_client(REGION)
        .await
        .get_caller_identity()
        .send()
        .await
        .expect("default identity");
    assert_eq!(identity.account(), Some(ACCOUNT_ID));

    assert_eq!(sandbox.calls().get("AssumeRole"), Some(&4));
    assert_eq!(sandbox.actions().get("sts:AssumeRole"), Some(&4));
    assert_eq!(sandbox.calls().get("GetCallerIdentity"), Some(&4));
}

#[tokio::test]
async fn aws_configs_assume_role_provider_assumes_once_per_client() {
    let sandbox = Sandbox::start();
    let shared = sandbox.sdk_config(REGION).await;
    for account in FLEET {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn(account))
            .session_name("codestar-reconcile")
            .configure(&shared)
            .build()
            .await;
        let config = aws_sdk_codestarconnections::config::Builder::from(&shared)
            .credentials_provider(provider)
            .build();
        let client = aws_sdk_codestarconnections::Client::from_conf(config);
        connection(&client, &format!("via-provider-{account}")).await;
        connection(&client, "second").await;
        assert_eq!(
            names(&client).await,
            ["second".to_owned(), format!("via-provider-{account}")]
        );
    }
    // The client's identity cache keeps the keys: one AssumeRole per account.
    assert_eq!(sandbox.calls().get("AssumeRole"), Some(&3));
    assert!(names(&sandbox.client(REGION).await).await.is_empty());
}

#[tokio::test]
async fn denied_roles_and_required_external_ids_are_access_denied() {
    let sandbox = Sandbox::with_config(Config {
        deny_assume_role: vec!["999999999999".to_owned()],
        external_ids: [(
            "arn:aws:iam::444444444444:role/*".to_owned(),
            "s3cret".to_owned(),
        )]
        .into(),
        ..Config::default()
    });
    let sts = sandbox.sts_client_with(&Keys::sandbox(), "us-east-1");
    let assume = |account: &str, external_id: Option<&str>| {
        sts.assume_role()
            .role_arn(role_arn(account))
            .role_session_name("ci")
            .set_external_id(external_id.map(str::to_owned))
            .send()
    };
    let denied = assume("999999999999", None).await.expect_err("denied");
    assert_eq!(code(&denied), "AccessDenied");
    assert_eq!(status(&denied), Some(403));
    assert_eq!(
        denied.message(),
        Some(
            "User: arn:aws:iam::123456789012:user/emulator is not authorized to perform: \
             sts:AssumeRole on resource: arn:aws:iam::999999999999:role/reconcile"
        )
    );

    for wrong in [None, Some("guess")] {
        let refused = assume("444444444444", wrong)
            .await
            .expect_err("the external id is required");
        assert_eq!(code(&refused), "AccessDenied", "{wrong:?}");
    }
    assume("444444444444", Some("s3cret"))
        .await
        .expect("the right external id");

    // Denied while serving; the role next to it is still fine.
    assume("555555555555", None).await.expect("not denied yet");
    let answer = sandbox.admin(
        "deny-assume-role",
        serde_json::json!({"role_arn": role_arn("555555555555")}),
    );
    assert!(
        answer["deny_assume_role"]
            .as_array()
            .is_some_and(|d| d.len() == 2),
        "{answer}"
    );
    let now_denied = assume("555555555555", None).await.expect_err("denied now");
    assert_eq!(code(&now_denied), "AccessDenied");
    sts.assume_role()
        .role_arn("arn:aws:iam::555555555555:role/other")
        .role_session_name("ci")
        .send()
        .await
        .expect("only that role is denied");
    sandbox.admin(
        "deny-assume-role",
        serde_json::json!({"account_id": "666666666666"}),
    );
    assert_eq!(
        code(&assume("666666666666", None).await.expect_err("denied")),
        "AccessDenied"
    );
    for bad in [
        serde_json::json!({}),
        serde_json::json!({"account_id": "12"}),
        serde_json::json!({"role_arn": "deploy"}),
        serde_json::json!({"account_id": "666666666666", "role_arn": role_arn("666666666666")}),
    ] {
        let answer = sandbox.http("POST", "/_emulator/deny-assume-role", &[], &bad.to_string());
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
    }

    // Inputs STS refuses.
    for (duration, bound) in [
        (899, "greater than or equal to 900"),
        (43_201, "less than or equal to 43200"),
    ] {
        let invalid = sts
            .assume_role()
            .role_arn(role_arn("111111111111"))
            .role_session_name("ci")
            .duration_seconds(duration)
            .send()
            .await
            .expect_err("out of range");
        assert_eq!(code(&invalid), "ValidationError");
        assert!(
            invalid.message().is_some_and(|m| m.contains(bound)),
            "{invalid:?}"
        );
    }
    let malformed = sts
        .assume_role()
        .role_arn("arn:aws:iam::1111:role/reconcile")
        .role_session_name("ci")
        .send()
        .await
        .expect_err("not an account");
    assert_eq!(code(&malformed), "ValidationError");

    // A reset forgets the denials made while serving, not the configured ones.
    sandbox.reset();
    assume("555555555555", None).await.expect("allowed again");
    assert_eq!(
        code(&assume("999999999999", None).await.expect_err("configured")),
        "AccessDenied"
    );
    assert_eq!(sandbox.calls().get("AssumeRole"), Some(&2));
}

#[tokio::test]
async fn temporary_keys_need_their_token_and_their_own_secret() {
    let sandbox = Sandbox::with_config(Config {
        credentials: Some(Credentials {
            access_key_id: ACCESS_KEY_ID.to_owned(),
            secret_access_key: SECRET_ACCESS_KEY.to_owned(),
        }),
        ..Config::default()
    });
    let keys = sandbox.assume(FLEET[0]).await;
    let client = sandbox.client_with(&keys, REGION);
    connection(&client, "verified").await;

    let no_token = Keys {
        session_token: None,
        ..keys.clone()
    };
    let refused = sandbox
        .client_with(&no_token, REGION)
        .list_connections()
        .send()
        .await
        .expect_err("no session token");
    assert_eq!(code(&refused), "UnrecognizedClientException");
    assert_eq!(status(&refused), Some(403));

    let wrong_secret = Keys {
        secret_access_key: "not-the-secret".to_owned(),
        ..keys.clone()
    };
    let refused = sandbox
        .client_with(&wrong_secret, REGION)
        .list_connections()
        .send()
        .await
        .expect_err("signed with another secret");
    assert_eq!(code(&refused), "InvalidSignatureException");

    let made_up = Keys {
        access_key_id: "ASIAMADEUPMADEUP1234".to_owned(),
        ..keys.clone()
    };
    let refused = sandbox
        .sts_client_with(&made_up, REGION)
        .get_caller_identity()
        .send()
        .await
        .expect_err("never issued");
    assert_eq!(code(&refused), "InvalidClientTokenId");
    assert_eq!(status(&refused), Some(403));
    let refused = sandbox
        .organizations_client_with(&made_up)
        .list_roots()
        .send()
        .await
        .expect_err("never issued");
    assert_eq!(code(&refused), "UnrecognizedClientException");
}

#[tokio::test]
async fn a_temporary_key_the_emulator_never_issued_is_refused_without_credentials_too() {
    let sandbox = Sandbox::start();
    let made_up = Keys {
        access_key_id: "ASIAMADEUPMADEUP1234".to_owned(),
        secret_access_key: "x".to_owned(),
        session_token: Some("token".to_owned()),
    };
    let refused = sandbox
        .client_with(&made_up, REGION)
        .list_connections()
        .send()
        .await
        .expect_err("never issued");
    assert_eq!(code(&refused), "UnrecognizedClientException");
    // Any long-term key still acts in the default account.
    let other = Keys {
        access_key_id: "AKIDANYTHINGELSE".to_owned(),
        ..Keys::sandbox()
    };
    connection(&sandbox.client_with(&other, REGION), "anyone").await;
    assert_eq!(names(&sandbox.client(REGION).await).await, ["anyone"]);
}

#[tokio::test]
async fn organizations_pages_to_the_end_through_empty_pages() {
    let sandbox = Sandbox::with_config(Config {
        organization: Some(organization()),
        ..Config::default()
    });
    let organizations = sandbox.organizations_client();

    // A first page may be empty and still have more.
    let first = organizations.list_accounts().send().await.expect("a page");
    assert!(first.accounts().is_empty());
    assert!(first.next_token().is_some());

    let accounts: Vec<_> = organizations
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("every page")
        .iter()
        .flat_map(|page| page.accounts().to_vec())
        .collect::<Vec<_>>();
    let ids: Vec<&str> = accounts.iter().filter_map(|a| a.id()).collect();
    assert_eq!(
        ids,
        [
            "123456789012",
            "111111111111",
            "222222222222",
            "444444444444",
            "333333333333",
            "555555555555",
            "666666666666"
        ]
    );
    let retired = &accounts[3];
    assert_eq!(retired.status(), Some(&AccountStatus::Suspended));
    assert_eq!(retired.state().map(|s| s.as_str()), Some("SUSPENDED"));
    assert_eq!(retired.email(), Some("retired@example.com"));
    assert_eq!(retired.name(), Some("retired"));
    assert_eq!(
        retired.arn(),
        Some("arn:aws:organizations::123456789012:account/o-exampleorg1/444444444444")
    );
    assert_eq!(accounts[5].status(), Some(&AccountStatus::PendingClosure));
    assert_eq!(
        accounts[6].paths(),
        ["o-exampleorg1/r-ex12/ou-ex12-workload/ou-ex12-sandboxx/ou-ex12-deepdeep/666666666666/"]
    );

    let roots: Vec<_> = organizations
        .list_roots()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("roots")
        .iter()
        .flat_map(|page| page.roots().to_vec())
        .collect::<Vec<_>>();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].id(), Some("r-ex12"));

    // What fleet mode does with `organizational_units`: every ACTIVE
    // account below a unit, recursively, through ListChildren.
    let mut active = Vec::new();
    let mut parents = vec!["ou-ex12-workload".to_owned()];
    while let Some(parent) = parents.pop() {
        let units = organizations
            .list_children()
            .parent_id(&parent)
            .child_type(ChildType::OrganizationalUnit)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("units")
            .iter()
            .flat_map(|page| page.children().to_vec())
            .collect::<Vec<_>>();
        parents.extend(units.iter().filter_map(|c| c.id().map(str::to_owned)));
        let accounts = organizations
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("accounts")
            .iter()
            .flat_map(|page| page.accounts().to_vec())
            .collect::<Vec<_>>();
        active.extend(
            accounts
                .iter()
                .filter(|a| a.status() == Some(&AccountStatus::Active))
                .filter_map(|a| a.id().map(str::to_owned)),
        );
    }
    active.sort();
    assert_eq!(
        active,
        [
            "111111111111",
            "222222222222",
            "333333333333",
            "666666666666"
        ]
    );

    let children: Vec<_> = organizations
        .list_children()
        .parent_id("ou-ex12-workload")
        .child_type(ChildType::Account)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("account children")
        .iter()
        .flat_map(|page| page.children().to_vec())
        .collect::<Vec<_>>();
    assert_eq!(children.len(), 3);
    assert!(
        children
            .iter()
            .all(|c| c.r#type() == Some(&ChildType::Account))
    );

    let units: Vec<_> = organizations
        .list_organizational_units_for_parent()
        .parent_id("r-ex12")
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("units of the root")
        .iter()
        .flat_map(|page| page.organizational_units().to_vec())
        .collect::<Vec<_>>();
    let unit_names: Vec<_> = units.iter().filter_map(|u| u.name()).collect();
    assert_eq!(unit_names, ["Workloads", "Empty"]);
    assert_eq!(
        units[0].arn(),
        Some("arn:aws:organizations::123456789012:ou/o-exampleorg1/ou-ex12-workload")
    );
    let empty: Vec<_> = organizations
        .list_accounts_for_parent()
        .parent_id("ou-ex12-emptyemp")
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("an empty unit")
        .iter()
        .flat_map(|page| page.accounts().to_vec())
        .collect::<Vec<_>>();
    assert!(empty.is_empty());

    let small = organizations
        .list_accounts()
        .max_results(1)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("pages of one")
        .iter()
        .flat_map(|page| page.accounts().to_vec())
        .collect::<Vec<_>>();
    assert_eq!(small.len(), 7);

    let described = organizations
        .describe_organization()
        .send()
        .await
        .expect("describe");
    let described = described.organization().expect("organization");
    assert_eq!(described.id(), Some("o-exampleorg1"));
    assert_eq!(described.master_account_id(), Some("123456789012"));
    assert_eq!(
        described.master_account_email(),
        Some("management@example.com")
    );

    let unknown = organizations
        .list_children()
        .parent_id("ou-ex12-nothere1")
        .child_type(ChildType::Account)
        .send()
        .await
        .expect_err("no such unit");
    assert_eq!(code(&unknown), "ParentNotFoundException");
    assert!(unknown.into_service_error().is_parent_not_found_exception());
    let malformed = organizations
        .list_accounts_for_parent()
        .parent_id("not-a-parent")
        .send()
        .await
        .expect_err("bad id");
    assert_eq!(code(&malformed), "InvalidInputException");

    let calls = sandbox.calls();
    assert!(
        calls.get("ListAccounts").is_some_and(|n| *n > 7),
        "{calls:?}"
    );
    assert!(sandbox.actions().contains_key("organizations:ListChildren"));
}

#[tokio::test]
async fn organizations_is_for_the_management_account_and_delegated_administrators() {
    let sandbox = Sandbox::with_config(Config {
        organization: Some(organization()),
        ..Config::default()
    });
    let member = sandbox.assume("111111111111").await;
    let refused = sandbox
        .organizations_client_with(&member)
        .list_accounts()
        .send()
        .await
        .expect_err("a member account");
    assert_eq!(code(&refused), "AccessDeniedException");
    assert!(refused.into_service_error().is_access_denied_exception());
    // Any member may describe its organisation.
    sandbox
        .organizations_client_with(&member)
        .describe_organization()
        .send()
        .await
        .expect("describe");

    let delegated = sandbox.assume("222222222222").await;
    let roots = sandbox
        .organizations_client_with(&delegated)
        .list_roots()
        .send()
        .await
        .expect("a delegated administrator");
    assert!(roots.roots().is_empty(), "an empty page first");

    let outsider = sandbox.assume("777777777777").await;
    let refused = sandbox
        .organizations_client_with(&outsider)
        .list_roots()
        .send()
        .await
        .expect_err("not a member");
    assert_eq!(code(&refused), "AWSOrganizationsNotInUseException");

    let alone = Sandbox::start();
    let refused = alone
        .organizations_client()
        .list_roots()
        .send()
        .await
        .expect_err("no organisation");
    assert_eq!(code(&refused), "AWSOrganizationsNotInUseException");
    assert!(
        refused
            .into_service_error()
            .is_aws_organizations_not_in_use_exception()
    );
}

#[tokio::test]
async fn faults_can_hit_one_account_only() {
    let sandbox = Sandbox::start();
    let slow = sandbox.assume(FLEET[0]).await;
    let fine = sandbox.assume(FLEET[1]).await;
    let answer = sandbox.set_faults(serde_json::json!({
        "account_id": FLEET[0],
        "throttle_rps": 1,
    }));
    assert_eq!(answer["accounts"][FLEET[0]]["throttle_rps"], 1, "{answer}");
    assert!(answer["throttle_rps"].is_null(), "{answer}");

    let throttled_client = sandbox.client_with(&slow, REGION);
    throttled_client
        .list_connections()
        .send()
        .await
        .expect("first in the second");
    let throttled = throttled_client
        .list_connections()
        .send()
        .await
        .expect_err("over the account's limit");
    assert_eq!(code(&throttled), "ThrottlingException");
    let fine_client = sandbox.client_with(&fine, REGION);
    for _ in 0..5 {
        fine_client
            .list_connections()
            .send()
            .await
            .expect("another account is not throttled");
    }
    let default_client = sandbox.client_without_retries(REGION).await;
    for _ in 0..3 {
        default_client
            .list_connections()
            .send()
            .await
            .expect("nor the default account");
    }

    sandbox.set_faults(serde_json::json!({"account_id": FLEET[1], "error_rate": 1.0}));
    let failed = fine_client
        .list_connections()
        .send()
        .await
        .expect_err("errors for that account");
    assert_eq!(code(&failed), "InternalFailure");
    assert_eq!(status(&failed), Some(500));
    let failed_sts = sandbox
        .sts_client_with(&fine, REGION)
        .get_caller_identity()
        .send()
        .await
        .expect_err("its STS calls too");
    assert_eq!(code(&failed_sts), "InternalFailure");
    default_client
        .list_connections()
        .send()
        .await
        .expect("the default account is fine");

    // Without an account the settings are for everyone, and replace the
    // per-account ones.
    let answer = sandbox.set_faults(serde_json::json!({}));
    assert_eq!(answer["accounts"], serde_json::json!({}), "{answer}");
    assert_eq!(answer["injected"]["throttled"], 1, "{answer}");
    fine_client
        .list_connections()
        .send()
        .await
        .expect("no faults");

    // The flags' way: faults for one account from the start.
    let flagged = Sandbox::with_config(Config {
        error_rate: 1.0,
        fault_account_id: Some(FLEET[2].to_owned()),
        ..Config::default()
    });
    let keys = flagged.assume(FLEET[2]).await;
    let failed = flagged
        .client_with(&keys, REGION)
        .list_connections()
        .send()
        .await
        .expect_err("the flagged account");
    assert_eq!(code(&failed), "InternalFailure");
    flagged
        .client_without_retries(REGION)
        .await
        .list_connections()
        .send()
        .await
        .expect("other accounts");
}

#[tokio::test]
async fn organizations_throttles_as_organizations_does() {
    let sandbox = Sandbox::with_config(Config {
        organization: Some(organization()),
        throttle_rps: Some(1),
        ..Config::default()
    });
    let organizations = sandbox.organizations_client();
    organizations.list_roots().send().await.expect("first");
    let throttled = organizations
        .list_roots()
        .send()
        .await
        .expect_err("second in the second");
    assert_eq!(code(&throttled), "TooManyRequestsException");
    assert!(
        throttled
            .into_service_error()
            .is_too_many_requests_exception()
    );
}

#[tokio::test]
async fn the_state_file_keeps_every_account_and_the_issued_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.json");
    let config = Config {
        state: Some(path.clone()),
        ..Config::default()
    };
    let (keys, arn) = {
        let sandbox = Sandbox::with_config(config.clone());
        let mut keys = Vec::new();
        for account in FLEET {
            let these = sandbox.assume(account).await;
            connection(
                &sandbox.client_with(&these, REGION),
                &format!("kept-{account}"),
            )
            .await;
            keys.push(these);
        }
        let arn = connection(&sandbox.client(REGION).await, "default-kept").await;
        sandbox.set_status(&arn, "AVAILABLE", None);
        (keys, arn)
    };
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert_eq!(state["format"], 2);
    assert_eq!(state["account_id"], ACCOUNT_ID);
    assert_eq!(state["accounts"].as_object().map(|a| a.len()), Some(4));

    let sandbox = Sandbox::with_config(config);
    for (account, keys) in FLEET.iter().zip(&keys) {
        // Keys issued before the restart still work.
        let client = sandbox.client_with(keys, REGION);
        assert_eq!(names(&client).await, [format!("kept-{account}")]);
    }
    let default_client = sandbox.client(REGION).await;
    assert_eq!(names(&default_client).await, ["default-kept"]);
    let got = default_client
        .get_connection()
        .connection_arn(&arn)
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.connection()
            .and_then(|c| c.connection_status())
            .map(|s| s.as_str()),
        Some("AVAILABLE")
    );
}

#[tokio::test]
async fn a_state_file_from_before_accounts_loads_into_the_default_account() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.json");
    let arn = "arn:aws:codestar-connections:eu-west-1:210987654321:connection/6f1a2f7e-6d0c-4c8e-9b5e-0d7f3c2b1a90";
    std::fs::write(
        &path,
        serde_json::json!({
            "format": 1,
            "next_seq": 1,
            "issued_arns": [arn],
            "regions": {"eu-west-1": {"connections": [{
                "seq": 0, "arn": arn, "name": "old", "provider_type": "GitHub",
                "owner_account_id": "210987654321", "status": "AVAILABLE",
                "host_arn": null, "tags": []
            }], "hosts": []}}
        })
        .to_string(),
    )
    .expect("write a format-1 file");
    let sandbox = Sandbox::with_config(Config {
        state: Some(path.clone()),
        account_id: Some("210987654321".to_owned()),
        ..Config::default()
    });
    assert_eq!(names(&sandbox.client(REGION).await).await, ["old"]);
    let elsewhere = sandbox.client_in(FLEET[0], REGION).await;
    assert!(names(&elsewhere).await.is_empty());
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert_eq!(state["format"], 2, "rewritten on start: {state}");
    assert!(state["accounts"]["210987654321"]["regions"]["eu-west-1"].is_object());
}

#[tokio::test]
async fn the_resource_name_admin_routes_take_an_account() {
    let sandbox = Sandbox::start();
    let mut linked = Vec::new();
    for account in &FLEET[..2] {
        let keys = sandbox.assume(account).await;
        let client = sandbox.client_with(&keys, REGION);
        let arn = connection(&client, "gh").await;
        // An ARN-based route finds the resource in whichever account has it.
        sandbox.set_status(&arn, "AVAILABLE", None);
        let link = client
            .create_repository_link()
            .connection_arn(&arn)
            .owner_id("acme")
            .repository_name("infra")
            .send()
            .await
            .expect("link");
        let link_id = link
            .repository_link_info()
            .map(|l| l.repository_link_id().to_owned())
            .expect("link id");
        client
            .create_sync_configuration()
            .branch("main")
            .config_file("stack.yaml")
            .repository_link_id(&link_id)
            .resource_name("app-prod")
            .role_arn(format!("arn:aws:iam::{account}:role/cfn-git-sync"))
            .sync_type(aws_sdk_codestarconnections::types::SyncConfigurationType::CfnStackSync)
            .send()
            .await
            .expect("sync configuration");
        linked.push((account, client));
    }
    // The same resource name in two accounts: say which.
    let ambiguous = sandbox.http(
        "POST",
        "/_emulator/sync-event",
        &[],
        &serde_json::json!({"resource_name": "app-prod", "status": "SUCCEEDED"}).to_string(),
    );
    assert_eq!(ambiguous.status, 400, "{}", ambiguous.body);
    assert!(ambiguous.body.contains("account_id"), "{}", ambiguous.body);
    let recorded = sandbox.admin(
        "sync-event",
        serde_json::json!({"resource_name": "app-prod", "status": "SUCCEEDED", "account_id": FLEET[1]}),
    );
    assert_eq!(recorded["account_id"], FLEET[1]);
    let blocker = sandbox.admin(
        "sync-blocker",
        serde_json::json!({"resource_name": "app-prod", "reason": "stuck", "account_id": FLEET[0]}),
    );
    assert_eq!(blocker["account_id"], FLEET[0]);
    let status_of = |client: &aws_sdk_codestarconnections::Client| {
        client
            .get_resource_sync_status()
            .resource_name("app-prod")
            .sync_type(aws_sdk_codestarconnections::types::SyncConfigurationType::CfnStackSync)
            .send()
    };
    let (_, first) = &linked[0];
    let (_, second) = &linked[1];
    assert_eq!(
        code(&status_of(first).await.expect_err("never synced there")),
        "ResourceNotFoundException"
    );
    status_of(second).await.expect("synced there");
}

/// boto3's `sts` and `organizations` clients, and the AWS CLI where it is
/// installed, against the binary started with `--organization`,
/// `--deny-assume-role` and `--external-id`.
#[test]
fn boto3_and_the_aws_cli_assume_roles_and_read_the_organization() {
    let has_boto3 = Command::new("python3")
        .args(["-c", "import boto3"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_boto3 {
        eprintln!(
            "SKIPPED boto3_and_the_aws_cli_assume_roles_and_read_the_organization: python3 with \
             boto3 is not installed (python3 -m pip install boto3 awscli; .ci/run installs them)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("organization.yaml");
    std::fs::write(&file, ORGANIZATION).expect("write the organisation file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_codestar-reconcile"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--organization"])
        .arg(&file)
        .args([
            "--deny-assume-role",
            "999999999999",
            "--external-id",
            "arn:aws:iam::444444444444:role/*=s3cret",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .map(str::to_owned);
    let out = url.as_ref().map(|url| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/boto3_organization.py");
        Command::new("python3")
            .args([script, url])
            .output()
            .expect("run the boto3 organisation script")
    });
    let _ = child.kill();
    let _ = child.wait();
    let Some(out) = out else {
        panic!("the emulator did not start: first line {line:?}");
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "boto3 failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("boto3 sts: ok"), "{stdout}");
    assert!(stdout.contains("boto3 organizations: ok"), "{stdout}");
    assert!(
        stdout.contains("aws cli sts/organizations: ok")
            || stdout.contains("aws cli sts/organizations: not installed"),
        "{stdout}"
    );
}

#[test]
fn the_binary_refuses_a_bad_organization_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("organization.yaml");
    std::fs::write(
        &file,
        "management_account_id: \"123456789012\"\nroot: {id: r-ex12}\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_codestar-reconcile"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--organization"])
        .arg(&file)
        .output()
        .expect("run the binary");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("management account") && stderr.contains("organization.yaml"),
        "{stderr}"
    );
}
