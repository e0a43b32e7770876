//! Every hint the tool prints is one that works from that state: each test
//! reaches a refusal or an error, checks the hint is printed, does what it
//! says, and checks that the way out is open. (Hints followed elsewhere: the
//! collision, saved-plan and `--local` ones in `not_alone`, adopt and
//! `protect: false` and `--force` in `workflow`, the conflicts of
//! `convergence`, the shared host name of `import`.)

use aws_sdk_codestarconnections::types::ProviderType;

use crate::cli::{Workdir, command, run, run_plain};
use crate::support::{ACCESS_KEY_ID, SECRET_ACCESS_KEY, Sandbox};

const REGION: &str = "eu-west-1";

const HOST_AND_USERS: &str = "version: 1
stack: hints
region: eu-west-1
hosts:
  - name: ghes
    provider_type: GitHubEnterpriseServer
    provider_endpoint: https://ghes.example.com
connections:
  - name: apps
    host: ghes
  - name: tools
    host: ghes
";

#[test]
fn a_host_still_in_use_is_refused_and_deleting_its_connections_first_works() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("hints.yaml", HOST_AND_USERS);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "hints.yaml", "--auto-approve"],
    )
    .expect(0);

    // The host goes, one of its connections stays.
    let without_host = "version: 1\nstack: hints\nregion: eu-west-1\nconnections:\n  - name: other\n    provider_type: GitHub\n";
    let keep_tools = format!(
        "{without_host}  - name: tools\n    host_arn: {}\n",
        host_arn(&sandbox)
    );
    work.write("hints.yaml", &keep_tools);
    let out = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "hints.yaml", "--format", "json"],
    )
    .expect(3);
    assert!(
        out.stdout
            .contains("delete those connections or move them to another host first"),
        "{}",
        out.stdout
    );
    // The hint: delete those connections (leave them out of the file).
    work.write("hints.yaml", without_host);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "hints.yaml", "--auto-approve"],
    )
    .expect(0);
}

fn host_arn(sandbox: &Sandbox) -> String {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = sandbox.client(REGION).await;
        let hosts = client.list_hosts().send().await.unwrap();
        hosts.hosts()[0].host_arn().unwrap().to_owned()
    })
}

#[test]
fn a_host_arn_the_account_lacks_is_refused_and_the_right_arn_works() {
    let sandbox = Sandbox::start();
    let arn = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = sandbox.client(REGION).await;
        client
            .create_host()
            .name("theirs")
            .provider_type(ProviderType::GithubEnterpriseServer)
            .provider_endpoint("https://theirs.example.com")
            .send()
            .await
            .unwrap()
            .host_arn
            .unwrap()
    });
    let wrong = format!("{}ffff", &arn[..arn.len() - 4]);
    let work = Workdir::new();
    let with_arn = |arn: &str| {
        format!(
            "version: 1\nstack: hints\nregion: eu-west-1\nconnections:\n  - name: apps\n    host_arn: {arn}\n"
        )
    };
    work.write("hints.yaml", &with_arn(&wrong));
    let out = run(work.path(), &sandbox, &["plan", "-f", "hints.yaml"]).expect(3);
    assert!(out.stdout.contains("check the ARN"), "{}", out.stdout);
    work.write("hints.yaml", &with_arn(&arn));
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "hints.yaml", "--auto-approve"],
    )
    .expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_saved_plan_says_plan_again_and_a_new_plan_applies() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("hints.yaml", HOST_AND_USERS);
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "hints.yaml", "--out", "plan.json"],
    )
    .expect(0);
    sandbox
        .client(REGION)
        .await
        .create_connection()
        .connection_name("meanwhile")
        .provider_type(ProviderType::Github)
        .send()
        .await
        .unwrap();
    let stale = run(work.path(), &sandbox, &["apply", "plan.json"]).expect(1);
    assert!(
        stale
            .stderr
            .contains("Run plan again and review the new plan"),
        "{}",
        stale.stderr
    );
    // `-o`, as import spells it too.
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "hints.yaml", "-o", "plan.json"],
    )
    .expect(0);
    run(work.path(), &sandbox, &["apply", "plan.json"]).expect(0);
}

#[test]
fn apply_without_a_terminal_says_auto_approve_and_that_works() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("hints.yaml", HOST_AND_USERS);
    let out = run(work.path(), &sandbox, &["apply", "-f", "hints.yaml"]).expect(1);
    assert!(out.stderr.contains("pass --auto-approve"), "{}", out.stderr);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "hints.yaml", "--auto-approve"],
    )
    .expect(0);
}

#[test]
fn missing_credentials_say_which_variables_and_setting_them_works() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("hints.yaml", HOST_AND_USERS);
    let bare = || {
        let mut cmd = command(work.path());
        cmd.args(["plan", "-f", "hints.yaml", "--endpoint-url", &sandbox.url()]);
        cmd
    };
    let out = crate::cli::Run::from(bare().output().unwrap());
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{}",
        out.stderr
    );
    let with = bare()
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .output()
        .unwrap();
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
}

#[test]
fn a_file_without_a_region_says_how_to_give_one_and_each_way_works() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write(
        "hints.yaml",
        &HOST_AND_USERS.replace("region: eu-west-1\n", ""),
    );
    let plan = |extra: &[&str], env_region: bool| {
        let mut cmd = command(work.path());
        cmd.args(["plan", "-f", "hints.yaml", "--endpoint-url", &sandbox.url()])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
        if env_region {
            cmd.env("AWS_REGION", REGION);
        }
        crate::cli::Run::from(cmd.output().unwrap())
    };
    let out = plan(&[], false).expect(1);
    assert!(
        out.stderr
            .contains("add `region:` to the file, pass --region, or set AWS_REGION"),
        "{}",
        out.stderr
    );
    plan(&["--region", REGION], false).expect(0);
    plan(&[], true).expect(0);
}

#[test]
fn a_misspelt_key_suggests_the_right_one_and_a_quoted_flag_says_unquote() {
    let work = Workdir::new();
    work.write(
        "hints.yaml",
        &HOST_AND_USERS.replace("provider_endpoint", "provider-endpoint"),
    );
    let out = run_plain(work.path(), &["validate", "-f", "hints.yaml"]).expect(1);
    assert!(
        out.stderr.contains("did you mean `provider_endpoint`?"),
        "{}",
        out.stderr
    );
    work.write(
        "hints.yaml",
        &HOST_AND_USERS.replace(
            "    host: ghes\n",
            "    host: ghes\n    protect: \"true\"\n",
        ),
    );
    let out = run_plain(work.path(), &["validate", "-f", "hints.yaml"]).expect(1);
    assert!(
        out.stderr.contains("write it without quotes"),
        "{}",
        out.stderr
    );
    work.write(
        "hints.yaml",
        &HOST_AND_USERS.replace("    host: ghes\n", "    host: ghes\n    protect: true\n"),
    );
    run_plain(work.path(), &["validate", "-f", "hints.yaml"]).expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_advice_run_apply_clears_changed_missing_and_extra() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let file = "version: 1\nstack: hints\nregion: eu-west-1\nconnections:\n  - name: a\n    provider_type: GitHub\n    tags: {env: prod}\n  - name: b\n    provider_type: GitLab\n";
    let extra = format!("{file}  - name: c\n    provider_type: Bitbucket\n");
    work.write("hints.yaml", &extra);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "hints.yaml", "--auto-approve"],
    )
    .expect(0);
    let client = sandbox.client(REGION).await;
    let listed = client.list_connections().send().await.unwrap();
    let arn = |name: &str| {
        listed
            .connections()
            .iter()
            .find(|c| c.connection_name() == Some(name))
            .unwrap()
            .connection_arn()
            .unwrap()
            .to_owned()
    };
    // changed: a tag edited; missing: one deleted; extra: dropped from the
    // file.
    client
        .tag_resource()
        .resource_arn(arn("a"))
        .tags(
            aws_sdk_codestarconnections::types::Tag::builder()
                .key("env")
                .value("dev")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    client
        .delete_connection()
        .connection_arn(arn("b"))
        .send()
        .await
        .unwrap();
    work.write("hints.yaml", file);

    let drift = run(
        work.path(),
        &sandbox,
        &["drift", "-f", "hints.yaml", "--ignore", "pending"],
    )
    .expect(2);
    for advice in [
        "changed: the account differs from the file: run apply",
        "missing: in the file but not in the account: run apply",
        "extra: carries this stack's tag but the file does not name it",
    ] {
        assert!(drift.stdout.contains(advice), "{advice}:\n{}", drift.stdout);
    }
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "hints.yaml", "--auto-approve"],
    )
    .expect(0);
    run(
        work.path(),
        &sandbox,
        &["drift", "-f", "hints.yaml", "--ignore", "pending"],
    )
    .expect(0);
}
