//! drift: each class produced by an out-of-band change, through the real
//! binary.

use aws_sdk_codestarconnections::types::Tag;

use crate::assert_output_snapshot;
use crate::cli::{Workdir, run};
use crate::support::Sandbox;

const FILE: &str = r#"version: 1
stack: web
region: eu-west-1
hosts:
  - name: gitlab
    provider_type: GitLabSelfManaged
    provider_endpoint: https://gitlab.example.com
connections:
  - name: app
    provider_type: GitHub
    tags: {env: prod}
  - name: lab
    host: gitlab
  - name: docs
    provider_type: Bitbucket
"#;

fn classes(stdout: &str) -> Vec<(String, String)> {
    let report: serde_json::Value = serde_json::from_str(stdout).expect("drift JSON");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["class"].as_str().unwrap().to_owned(),
                f["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_drift_class_is_found_and_reported() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("web.yaml", FILE);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "web.yaml", "--auto-approve"],
    )
    .expect(0);

    let client = sandbox.client("eu-west-1").await;
    let connections = client.list_connections().send().await.unwrap();
    let arn_of = |name: &str| {
        connections
            .connections()
            .iter()
            .find(|c| c.connection_name() == Some(name))
            .and_then(|c| c.connection_arn())
            .unwrap()
            .to_owned()
    };
    let hosts = client.list_hosts().send().await.unwrap();
    let host_arn = hosts.hosts()[0].host_arn().unwrap().to_owned();

    // All healthy first: drift is clean.
    for name in ["app", "lab", "docs"] {
        sandbox.set_status(&arn_of(name), "AVAILABLE", None);
    }
    sandbox.set_status(&host_arn, "AVAILABLE", None);
    run(work.path(), &sandbox, &["drift", "-f", "web.yaml"]).expect(0);

    // missing: deleted out of band.
    client
        .delete_connection()
        .connection_arn(arn_of("docs"))
        .send()
        .await
        .unwrap();
    // changed: a tag edited in the console.
    client
        .tag_resource()
        .resource_arn(arn_of("app"))
        .tags(Tag::builder().key("env").value("staging").build().unwrap())
        .send()
        .await
        .unwrap();
    // unhealthy: the host's VPC set-up failed.
    sandbox.set_status(
        &host_arn,
        "VPC_CONFIG_FAILED_INITIALIZATION",
        Some("subnet has no route to the endpoint"),
    );
    // pending: a connection re-authorisation was revoked.
    sandbox.set_status(&arn_of("lab"), "PENDING", None);
    // unmanaged: made by hand, owned by nobody.
    client
        .create_connection()
        .connection_name("hand-made")
        .provider_type("GitLab".into())
        .send()
        .await
        .unwrap();
    let before = sandbox.calls();

    let out = run(
        work.path(),
        &sandbox,
        &["drift", "-f", "web.yaml", "--format", "json"],
    )
    .expect(2);
    let mut found = classes(&out.stdout);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("changed".into(), "app".into()),
            ("missing".into(), "docs".into()),
            ("pending".into(), "lab".into()),
            ("unhealthy".into(), "gitlab".into()),
            ("unmanaged".into(), "hand-made".into()),
        ]
    );
    assert!(
        out.stdout.contains("subnet has no route"),
        "the host's status message is shown"
    );
    // Drift and plan count the stack's resources alike.
    let drift_report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let plan = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "web.yaml", "--format", "json"],
    );
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
    let managed = &drift_report["targets"][0]["managed"];
    assert!(managed.as_u64().is_some_and(|n| n > 0), "{drift_report}");
    assert_eq!(managed, &plan["targets"][0]["managed"]);
    let after = sandbox.calls();
    let writes: u64 = after
        .iter()
        .filter(|(op, _)| !op.starts_with("List") && !op.starts_with("Get"))
        .map(|(op, n)| n - before.get(op).copied().unwrap_or(0))
        .sum();
    assert_eq!(writes, 0, "drift never writes: {after:?}");

    let text = run(work.path(), &sandbox, &["drift", "-f", "web.yaml"]).expect(2);
    assert_output_snapshot!("drift_text", text.stdout);
    let markdown = run(
        work.path(),
        &sandbox,
        &["drift", "-f", "web.yaml", "--format", "markdown"],
    )
    .expect(2);
    assert_output_snapshot!("drift_markdown", markdown.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn unmanaged_resources_fail_only_when_asked() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("empty.yaml", "version: 1\nstack: web\nregion: eu-west-1\n");
    let client = sandbox.client("eu-west-1").await;
    client
        .create_connection()
        .connection_name("hand-made")
        .provider_type("GitLab".into())
        .send()
        .await
        .unwrap();
    let informational = run(work.path(), &sandbox, &["drift", "-f", "empty.yaml"]).expect(0);
    assert!(
        informational.stdout.contains("hand-made"),
        "{}",
        informational.stdout
    );
    run(
        work.path(),
        &sandbox,
        &["drift", "-f", "empty.yaml", "--fail-on", "unmanaged"],
    )
    .expect(2);
}
