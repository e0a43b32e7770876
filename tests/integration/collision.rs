//! A name taken between plan and apply: apply re-checks just before
//! creating, refuses that resource, and creates no duplicate.

use aws_sdk_codestarconnections::types::Tag;
use codestar_reconcile::account::{AwsArgs, Endpoint};
use codestar_reconcile::apply::{self, Outcome, Progress};
use codestar_reconcile::plan::{Guard, Options};
use codestar_reconcile::spec;
use codestar_reconcile::targets::Targets;

use crate::cli::Workdir;
use crate::support::Sandbox;

#[tokio::test(flavor = "multi_thread")]
async fn names_taken_after_the_plan_are_refused_not_clobbered() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let file = work.write(
        "team.yaml",
        "version: 1\nstack: team\nregion: eu-west-1\nhosts:\n  - name: ghes\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://ghes.example.com\nconnections:\n  - name: app\n    provider_type: GitHub\n  - name: untouched\n    provider_type: GitLab\n",
    );
    let specs = spec::load(&[file]).expect("valid file");
    let args = AwsArgs {
        concurrency: 8,
        ..AwsArgs::default()
    };
    let endpoint = Endpoint::Local {
        url: sandbox.url(),
        state: None,
    };
    let targets = Targets::at_endpoint(specs, &args, &endpoint)
        .await
        .expect("open");
    let snapshots = targets.read().await.expect("read");
    let plan = targets.plan(&snapshots, &Options::default());
    assert_eq!(plan.summary.create, 3);

    // Meanwhile, someone else creates two of the names.
    let client = sandbox.client("eu-west-1").await;
    let theirs = client
        .create_connection()
        .connection_name("app")
        .provider_type("GitHub".into())
        .tags(
            Tag::builder()
                .key("codestar-reconcile:stack")
                .value("other")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    client
        .create_host()
        .name("ghes")
        .provider_type("GitHubEnterpriseServer".into())
        .provider_endpoint("https://elsewhere.example.com")
        .send()
        .await
        .unwrap();

    let report = apply::apply(&targets, &plan, &Progress::new(0, false)).await;
    let outcome = |name: &str| {
        report
            .entries
            .iter()
            .find(|e| e.change.name == name)
            .map(|e| e.outcome.clone())
            .expect("every change is reported")
    };
    match outcome("app") {
        Outcome::Refused(r) => {
            assert_eq!(r.guard, Guard::Collision);
            assert!(r.message.contains(theirs.connection_arn()), "{}", r.message);
            assert!(
                r.message.contains("\"other\""),
                "names the owner: {}",
                r.message
            );
        }
        other => panic!("app: {other:?}"),
    }
    assert!(matches!(outcome("ghes"), Outcome::Refused(r) if r.guard == Guard::Collision));
    assert!(
        matches!(outcome("untouched"), Outcome::Done { .. }),
        "{:?}",
        outcome("untouched")
    );

    let hosts = client.list_hosts().send().await.unwrap();
    assert_eq!(hosts.hosts().len(), 1, "no second host named ghes");
}
