//! Apply under faults, quotas and races: converges, never duplicates, says
//! clearly what stopped it.

use std::collections::BTreeMap;

use codestar_reconcile::emulator::Config;

use crate::cli::{Workdir, fleet, run};
use crate::support::Sandbox;

#[tokio::test(flavor = "multi_thread")]
async fn apply_converges_under_errors_lost_responses_and_throttling_without_duplicates() {
    let sandbox = Sandbox::with_config(Config {
        error_rate: 0.2,
        lost_response_rate: 0.2,
        throttle_rps: Some(40),
        seed: Some(7),
        ..Config::default()
    });
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet("fleet", "eu-west-1", 20, 4));

    let mut converged = false;
    for _ in 0..4 {
        if run(
            work.path(),
            &sandbox,
            &["apply", "-f", "fleet.yaml", "--auto-approve"],
        )
        .code
            == 0
        {
            converged = true;
            break;
        }
    }
    assert!(converged, "apply did not converge in 4 runs");

    let client = sandbox.client_without_retries("eu-west-1").await;
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut token = None;
    loop {
        match client
            .list_hosts()
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(page) => {
                for h in page.hosts() {
                    *names.entry(h.name().unwrap().to_owned()).or_default() += 1;
                }
                token = page.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            Err(_) => continue, // an injected fault; ask again
        }
    }
    assert_eq!(names.len(), 4);
    assert!(
        names.values().all(|n| *n == 1),
        "duplicate hosts: {names:?}"
    );
}

#[test]
fn a_quota_stops_with_a_message_naming_it() {
    let sandbox = Sandbox::with_config(Config {
        max_connections: 2,
        ..Config::default()
    });
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet("fleet", "eu-west-1", 3, 0));
    let out = run(
        work.path(),
        &sandbox,
        &["apply", "-f", "fleet.yaml", "--auto-approve"],
    )
    .expect(1);
    assert!(out.stderr.contains("quota"), "{}", out.stderr);
    assert!(out.stderr.contains("250 connections"), "{}", out.stderr);
    assert!(out.stderr.contains("part-way"), "{}", out.stderr);
}
