//! A name taken between plan and apply: apply re-checks just before
//! creating, refuses that resource, and creates no duplicate.

use std::sync::{Arc, Mutex};

use crate::cli::Workdir;
use crate::proxy::{Proxy, Verdict};
use crate::support::{Sandbox, raw_call_to};

#[tokio::test(flavor = "multi_thread")]
async fn names_taken_after_the_plan_are_refused_not_clobbered() {
    let sandbox = Sandbox::start();
    let upstream = sandbox.addr();
    let lists = Arc::new(Mutex::new(0usize));
    // Between the plan's read and apply's name check, someone else creates
    // two of the names: a connection another stack owns, a host nobody does.
    let proxy = {
        let lists = lists.clone();
        Proxy::start(upstream, move |operation| {
            // The plan reads both lists, then apply's name check does: the
            // third list call is the name check's first (the proxy holds
            // every other request while this rule runs).
            if operation == "ListConnections" || operation == "ListHosts" {
                let mut n = lists.lock().unwrap();
                *n += 1;
                if *n == 3 {
                    let app = r#"{"ConnectionName": "app", "ProviderType": "GitHub", "Tags": [{"Key": "codestar-reconcile:stack", "Value": "other"}]}"#;
                    let ghes = r#"{"Name": "ghes", "ProviderType": "GitHubEnterpriseServer", "ProviderEndpoint": "https://elsewhere.example.com"}"#;
                    for (op, body) in [("CreateConnection", app), ("CreateHost", ghes)] {
                        let target = format!("CodeStar_connections_20191201.{op}");
                        let made = raw_call_to(upstream, "eu-west-1", &target, body);
                        assert_eq!(made.status, 200, "{}", made.body);
                    }
                }
            }
            Verdict::Forward
        })
    };
    let work = Workdir::new();
    work.write(
        "team.yaml",
        "version: 1\nstack: team\nregion: eu-west-1\nhosts:\n  - name: ghes\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://ghes.example.com\nconnections:\n  - name: app\n    provider_type: GitHub\n  - name: untouched\n    provider_type: GitLab\n",
    );
    let out = crate::cli::command(work.path())
        .args([
            "apply",
            "-f",
            "team.yaml",
            "--auto-approve",
            "--endpoint-url",
            &proxy.url(),
        ])
        .env("AWS_ACCESS_KEY_ID", crate::support::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", crate::support::SECRET_ACCESS_KEY)
        .output()
        .unwrap();
    let out = crate::cli::Run::from(out);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let refused: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("  REFUSED"))
        .collect();
    assert_eq!(refused.len(), 2, "{}", out.stderr);
    let app = refused
        .iter()
        .find(|l| l.contains("connection \"app\""))
        .unwrap();
    assert!(
        app.contains("arn:aws:codestar-connections:") && app.contains("\"other\""),
        "{app}"
    );
    assert!(
        refused
            .iter()
            .any(|l| l.contains("host \"ghes\"") && l.contains("no stack (unmanaged)"))
    );
    assert!(
        out.stderr.contains("ok      connection \"untouched\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("1 change was made (marked ok above), then 2 were refused"),
        "{}",
        out.stderr
    );

    let hosts = sandbox
        .client("eu-west-1")
        .await
        .list_hosts()
        .send()
        .await
        .unwrap();
    assert_eq!(hosts.hosts().len(), 1, "no second host named ghes");
}
