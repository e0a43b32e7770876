//! Fleets end to end: one file, many accounts × Regions, each reached by
//! assuming a role, against an emulator playing an organisation. Every
//! account is checked through the SDK with that account's own keys.

use codestar_reconcile::emulator::{Config, Organization};

use crate::cli::{Workdir, json, run};
use crate::support::{Sandbox, role_arn};

const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

/// The sandbox's default account manages an organisation: a unit with two
/// accounts (and a suspended one), a nested unit with a third, and a
/// fourth account outside both units.
const ORGANIZATION: &str = r#"
management_account_id: "123456789012"
page_size: 1
empty_pages: true
root:
  id: r-ex12
  accounts:
    - {id: "123456789012", name: management}
    - {id: "444444444444", name: elsewhere}
  organizational_units:
    - id: ou-ex12-workload
      name: Workloads
      accounts:
        - {id: "111111111111", name: app}
        - {id: "222222222222", name: tools}
        - {id: "555555555555", name: gone, status: SUSPENDED}
      organizational_units:
        - id: ou-ex12-sandboxx
          name: Sandboxes
          accounts:
            - {id: "333333333333", name: play}
"#;

fn organisation_sandbox() -> Sandbox {
    Sandbox::with_config(Config {
        organization: Some(Organization::parse(ORGANIZATION).expect("a valid organisation")),
        ..Config::default()
    })
}

/// A fleet file: a GitHub connection in every target.
fn fleet(targets: &str) -> String {
    format!(
        "version: 1
stack: fleet
targets:
{targets}  regions: [{}]
  role_arn: arn:aws:iam::{{account_id}}:role/reconcile
connections:
  - name: github
    provider_type: GitHub
",
        REGIONS.join(", ")
    )
}

fn accounts(list: &[&str]) -> String {
    let quoted: Vec<String> = list.iter().map(|a| format!("\"{a}\"")).collect();
    format!("  accounts: [{}]\n", quoted.join(", "))
}

/// The connection names in `account` and `region`, read with its own keys.
async fn names_in(sandbox: &Sandbox, account: &str, region: &str) -> Vec<String> {
    let client = sandbox.client_in(account, region).await;
    let mut names: Vec<String> = client
        .list_connections()
        .send()
        .await
        .unwrap()
        .connections()
        .iter()
        .filter_map(|c| c.connection_name().map(str::to_owned))
        .collect();
    names.sort();
    names
}

fn apply(work: &Workdir, sandbox: &Sandbox, extra: &[&str]) -> crate::cli::Run {
    let mut args = vec!["apply", "-f", "fleet.yaml", "--auto-approve"];
    args.extend_from_slice(extra);
    run(work.path(), sandbox, &args)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_applies_into_each_account_and_region_and_replans_empty() {
    let sandbox = organisation_sandbox();
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet(&accounts(&ACCOUNTS)));

    let plan = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "fleet.yaml", "--format", "json"],
    )
    .expect(0);
    let plan = json(&plan.stdout);
    let labels: Vec<&str> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    let mut expected: Vec<String> = ACCOUNTS
        .iter()
        .flat_map(|a| REGIONS.iter().map(move |r| format!("fleet@{a}/{r}")))
        .collect();
    expected.sort();
    let mut sorted = labels.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    assert_eq!(plan["summary"]["create"], 6);

    let before = sandbox.calls();
    apply(&work, &sandbox, &[]).expect(0);
    let assumed = sandbox.calls().get("AssumeRole").copied().unwrap_or(0)
        - before.get("AssumeRole").copied().unwrap_or(0);
    assert_eq!(assumed, 3, "one AssumeRole per account, not per target");

    for account in ACCOUNTS {
        for region in REGIONS {
            assert_eq!(names_in(&sandbox, account, region).await, ["github"]);
        }
    }
    // The sandbox's own account is not a target: nothing there.
    assert!(
        sandbox
            .client("eu-west-1")
            .await
            .list_connections()
            .send()
            .await
            .unwrap()
            .connections()
            .is_empty()
    );
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "fleet.yaml", "--detailed-exitcode"],
    )
    .expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_is_assumed_once_in_a_fleet_of_many_accounts() {
    // More accounts than the SDK's identity cache keeps by default (64),
    // each with its own role.
    let many: Vec<String> = (0..70)
        .map(|i| format!("{:012}", 700_000_000_000u64 + i))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let sandbox = organisation_sandbox();
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet(&accounts(&many)));
    let assumed_by = |args: &[&str], code: i32| {
        let before = sandbox.calls();
        run(work.path(), &sandbox, args).expect(code);
        let after = sandbox.calls();
        let since =
            |op: &str| after.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0);
        (since("AssumeRole"), since("ListTagsForResource"))
    };
    let (assumed, _) = assumed_by(&["apply", "-f", "fleet.yaml", "--auto-approve"], 0);
    assert_eq!(assumed, 70, "apply: one AssumeRole per account");
    let (assumed, tag_reads) = assumed_by(&["plan", "-f", "fleet.yaml", "--detailed-exitcode"], 0);
    assert_eq!(tag_reads, 140, "a connection in every account and Region");
    assert_eq!(assumed, 70, "plan: one AssumeRole per account");
}

#[tokio::test(flavor = "multi_thread")]
async fn organizational_units_are_read_recursively_without_the_excluded_and_suspended() {
    let sandbox = organisation_sandbox();
    let work = Workdir::new();
    work.write(
        "fleet.yaml",
        &fleet(
            "  organizational_units: [ou-ex12-workload]\n  exclude_accounts: [\"222222222222\"]\n",
        ),
    );
    let plan = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "fleet.yaml", "--format", "json"],
    )
    .expect(0);
    let plan = json(&plan.stdout);
    let mut accounts: Vec<&str> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["account_id"].as_str().unwrap())
        .collect();
    accounts.dedup();
    // 111 from the unit, 333 from the unit inside it; 222 excluded; 555
    // suspended; 444 outside the units.
    assert_eq!(accounts, ["111111111111", "333333333333"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn retiring_an_account_deletes_only_its_stack_resources_there() {
    let sandbox = organisation_sandbox();
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet(&accounts(&ACCOUNTS)));
    apply(&work, &sandbox, &[]).expect(0);
    // Someone else's connection in the account being retired.
    sandbox
        .client_in("333333333333", "eu-west-1")
        .await
        .create_connection()
        .connection_name("theirs")
        .provider_type(aws_sdk_codestarconnections::types::ProviderType::Gitlab)
        .send()
        .await
        .unwrap();

    work.write(
        "fleet.yaml",
        &fleet(&format!(
            "{}  retired_accounts: [\"333333333333\"]\n",
            accounts(&ACCOUNTS[..2])
        )),
    );
    let plan = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "fleet.yaml", "--format", "json"],
    )
    .expect(0);
    let plan = json(&plan.stdout);
    let deletes: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["action"], "delete", "{c}");
            c["target"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        deletes,
        [
            "fleet@333333333333/eu-west-1",
            "fleet@333333333333/us-east-1"
        ]
    );
    assert!(
        plan["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["retired"] == true),
        "{plan}"
    );
    // The reviewer of the text plan is told why everything there goes.
    let text = run(work.path(), &sandbox, &["plan", "-f", "fleet.yaml"]).expect(0);
    for region in REGIONS {
        assert!(
            text.stdout.contains(&format!(
                "fleet@333333333333/{region} (fleet.yaml, account 333333333333, retired: this \
                 stack's resources here are deleted):"
            )),
            "{}",
            text.stdout
        );
    }
    apply(&work, &sandbox, &[]).expect(0);
    assert_eq!(
        names_in(&sandbox, "333333333333", "eu-west-1").await,
        ["theirs"]
    );
    assert!(
        names_in(&sandbox, "333333333333", "us-east-1")
            .await
            .is_empty()
    );
    for account in &ACCOUNTS[..2] {
        assert_eq!(names_in(&sandbox, account, "eu-west-1").await, ["github"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_role_fails_its_targets_only() {
    let sandbox = organisation_sandbox();
    sandbox.admin(
        "deny-assume-role",
        serde_json::json!({"role_arn": role_arn("222222222222")}),
    );
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet(&accounts(&ACCOUNTS)));
    let out = apply(&work, &sandbox, &[]).expect(1);
    assert!(
        out.stdout.contains("fleet@222222222222/eu-west-1") && out.stdout.contains("AccessDenied"),
        "the plan names the failed targets and why:\n{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("2 of 6 targets could not be reached"),
        "{}",
        out.stderr
    );
    for account in ["111111111111", "333333333333"] {
        for region in REGIONS {
            assert_eq!(names_in(&sandbox, account, region).await, ["github"]);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worklist_lists_each_pending_connection_once() {
    let sandbox = organisation_sandbox();
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet(&accounts(&ACCOUNTS[..2])));
    let plan = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "fleet.yaml", "--format", "json"],
    )
    .expect(0);
    let planned = json(&plan.stdout)["handshakes"].as_array().unwrap().len();
    assert_eq!(planned, 4, "once applied: 2 accounts × 2 Regions");

    let out = apply(&work, &sandbox, &[]).expect(0);
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Handshakes to complete"))
        .filter(|l| l.trim_start().starts_with("[ ]"))
        .collect();
    // The plan's list (before apply) and the list after it: each is 4.
    assert_eq!(lines.len(), 8, "{}", out.stdout);
    let after: Vec<&str> = lines[4..].to_vec();
    for account in &ACCOUNTS[..2] {
        for region in REGIONS {
            let found = after
                .iter()
                .filter(|l| l.contains(&format!("account {account}, {region}")))
                .count();
            assert_eq!(found, 1, "{account} {region}: {after:?}");
        }
    }
    assert!(after.iter().all(|l| l.contains(": PENDING;")), "{after:?}");

    let drift = run(
        work.path(),
        &sandbox,
        &["drift", "-f", "fleet.yaml", "--format", "json"],
    )
    .expect(2);
    assert_eq!(
        json(&drift.stdout)["handshakes"].as_array().unwrap().len(),
        4
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_split_the_fleet_and_show_renders_their_plans_as_one() {
    let sandbox = organisation_sandbox();
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet(&accounts(&ACCOUNTS)));
    let mut planned = Vec::new();
    let mut sizes = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let out_file = format!("plan-{}.json", shard.replace('/', "-of-"));
        // With so few accounts a shard may be empty: it has nothing to do,
        // says so, and succeeds (a CI matrix job must not fail for it).
        let out = run(
            work.path(),
            &sandbox,
            &[
                "plan",
                "-f",
                "fleet.yaml",
                "--shard",
                shard,
                "--out",
                &out_file,
                "--format",
                "json",
            ],
        )
        .expect(0);
        let targets = json(&out.stdout)["targets"].as_array().unwrap().len();
        if targets == 0 {
            assert!(
                out.stderr.contains("nothing to do in this shard"),
                "{}",
                out.stderr
            );
        }
        sizes.push(targets);
        planned.push(out_file);
    }
    assert_eq!(
        sizes.iter().sum::<usize>(),
        6,
        "each target in one shard: {sizes:?}"
    );
    assert!(sizes.iter().all(|&n| n < 6), "split: {sizes:?}");
    let shown = crate::cli::run_plain(
        work.path(),
        &[
            "show",
            &planned[0],
            &planned[1],
            &planned[2],
            "--format",
            "json",
        ],
    )
    .expect(0);
    let shown = json(&shown.stdout);
    let mut labels: Vec<&str> = shown["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels.len(), 6, "every target once, across the shards");
    // Each shard's own plan applies there.
    for file in &planned {
        run(work.path(), &sandbox, &["apply", file]).expect(0);
    }
    for account in ACCOUNTS {
        assert_eq!(names_in(&sandbox, account, "eu-west-1").await, ["github"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_warns_about_this_stack_s_resources_in_accounts_the_fleet_left() {
    let sandbox = organisation_sandbox();
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet(&accounts(&ACCOUNTS)));
    apply(&work, &sandbox, &[]).expect(0);
    // 333 dropped from the file without retiring it: its connections stay,
    // unseen, unless the organisation is scanned.
    work.write("fleet.yaml", &fleet(&accounts(&ACCOUNTS[..2])));
    let quiet = run(work.path(), &sandbox, &["plan", "-f", "fleet.yaml"]).expect(0);
    assert!(!quiet.stdout.contains("333333333333"), "{}", quiet.stdout);
    let scanned = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "fleet.yaml", "--scan-organization"],
    )
    .expect(0);
    assert!(
        scanned
            .stdout
            .contains("in account 333333333333, which the fleet no longer targets")
            && scanned.stdout.contains("targets.retired_accounts"),
        "{}",
        scanned.stdout
    );
    // 444 and the management account have nothing of this stack: nothing
    // said about them.
    assert!(
        !scanned.stdout.contains("444444444444"),
        "{}",
        scanned.stdout
    );
    // Following the hint retires it, and the warning goes.
    work.write(
        "fleet.yaml",
        &fleet(&format!(
            "{}  retired_accounts: [\"333333333333\"]\n",
            accounts(&ACCOUNTS[..2])
        )),
    );
    apply(&work, &sandbox, &[]).expect(0);
    let after = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "fleet.yaml", "--scan-organization"],
    )
    .expect(0);
    assert!(
        !after.stdout.contains("no longer targets"),
        "{}",
        after.stdout
    );
}
