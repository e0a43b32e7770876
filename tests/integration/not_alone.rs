//! Safe and truthful when the tool is not alone, the way CI really runs it:
//! overlapping applies of one stack, a network that loses answers, Ctrl-C
//! and SIGTERM, saved plans taken elsewhere, endpoints that refuse, hang or
//! answer HTML, another run taking names between plan and apply, two
//! `--local` commands on one state file. Real processes, the real SDK, the
//! emulator.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codestar_reconcile::emulator::Config;
use codestar_reconcile::resource::{Kind, STACK_TAG};
use proptest::prelude::*;

use crate::cli::{Run, Workdir, against, run, run_plain};
use crate::invariants::{Account, read};
use crate::proxy::{Proxy, Verdict};
use crate::support::{Sandbox, raw_call_to};

const APPLY: [&str; 4] = ["apply", "-f", "stack.yaml", "--auto-approve"];
const MATCHES: &str = "The account now matches the files.";

/// A file of `hosts` hosts with `per_host` connections each, and `cloud`
/// GitHub connections.
fn file(stack: &str, hosts: usize, per_host: usize, cloud: usize) -> String {
    let mut f = format!("version: 1\nstack: {stack}\nregion: eu-west-1\n");
    if hosts > 0 {
        f.push_str("hosts:\n");
    }
    for h in 0..hosts {
        f.push_str(&format!(
            "  - name: ghes-{h}\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://ghes{h}.example.com\n"
        ));
    }
    if hosts * per_host + cloud > 0 {
        f.push_str("connections:\n");
    }
    for h in 0..hosts {
        for c in 0..per_host {
            f.push_str(&format!("  - name: on-{h}-{c}\n    host: ghes-{h}\n"));
        }
    }
    for c in 0..cloud {
        f.push_str(&format!("  - name: cloud-{c}\n    provider_type: GitHub\n"));
    }
    f
}

fn sandbox_with_latency(ms: u64) -> Sandbox {
    Sandbox::with_config(Config {
        latency_ms: ms,
        ..Config::default()
    })
}

fn account(sandbox: &Sandbox) -> Account {
    tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(async { read(&sandbox.client("eu-west-1").await).await })
}

/// Names (of one kind) held by more than one resource.
fn duplicates(account: &Account) -> Vec<(Kind, String)> {
    let mut count: BTreeMap<(Kind, String), usize> = BTreeMap::new();
    for r in account.resources.values() {
        *count.entry((r.kind, r.name.clone())).or_default() += 1;
    }
    count
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k)
        .collect()
}

/// ARNs a run's output says it created itself (an "ok ... created: ARN"
/// line without a note that someone else did).
fn created_by(out: &Run) -> BTreeSet<String> {
    out.stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("ok") && l.contains(" created: "))
        .filter(|l| !l.contains("another run") && !l.contains("answer to the create was lost"))
        .filter_map(|l| l.split(" created: ").nth(1))
        .map(|rest| {
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// `n` applies of `text` started together against `sandbox`; then the
/// promises: every run exits 0 or 1 and says which truthfully; a duplicate
/// left behind was made by a run that did not claim success; one more
/// apply converges with no duplicate and an empty plan.
fn overlapping_applies(sandbox: &Sandbox, text: &str, n: usize) {
    let work = Workdir::new();
    work.write("stack.yaml", text);
    let children: Vec<Child> = (0..n)
        .map(|_| {
            against(work.path(), sandbox, &APPLY)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start apply")
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| Run::from(c.wait_with_output().expect("apply ends")))
        .collect();
    for (i, r) in runs.iter().enumerate() {
        let said = format!("run {i} exit {}\n{}\n{}", r.code, r.stdout, r.stderr);
        assert!(r.code == 0 || r.code == 1, "{said}");
        let clean = r.stderr.contains(MATCHES) || r.stdout.contains("No changes.");
        assert_eq!(r.code == 0, clean, "{said}");
        assert!(
            !r.stderr.contains("answer to the create was lost"),
            "no answer was lost, so none may be claimed: {said}"
        );
    }
    let after = account(sandbox);
    for (kind, name) in duplicates(&after) {
        let copies: Vec<&String> = after.named(kind, &name).map(|(a, _)| a).collect();
        // Every copy but the first was made by a run; none of those may
        // have claimed success.
        for (i, r) in runs.iter().enumerate() {
            if copies.iter().any(|a| created_by(r).contains(*a)) {
                let dup_of_own = copies
                    .iter()
                    .filter(|a| created_by(r).contains(**a))
                    .count();
                let others_made = copies.len() > dup_of_own;
                if others_made {
                    assert_ne!(
                        r.code, 0,
                        "run {i} made a copy of {kind} {name:?} another run also made, yet \
                         claimed success:\n{}",
                        r.stderr
                    );
                }
            }
        }
    }
    let further = run(work.path(), sandbox, &APPLY);
    assert_eq!(
        further.code, 0,
        "one further apply converges:\n{}\n{}",
        further.stdout, further.stderr
    );
    let settled = account(sandbox);
    assert_eq!(
        duplicates(&settled),
        vec![],
        "no duplicate left: {settled:#?}"
    );
    let plan = run(
        work.path(),
        sandbox,
        &["plan", "-f", "stack.yaml", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, 0, "{}", plan.stdout);
}

#[test]
fn two_overlapping_applies_converge_with_no_duplicate_and_no_false_claim() {
    for (latency, hosts, per_host) in [(30, 8, 1), (20, 3, 3), (40, 4, 2)] {
        let sandbox = sandbox_with_latency(latency);
        overlapping_applies(&sandbox, &file("race", hosts, per_host, 2), 2);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// N ≥ 3 overlapping applies of random files over one account.
    #[test]
    fn several_overlapping_applies_of_random_files_converge(
        runs in 3usize..=4,
        hosts in 1usize..=4,
        per_host in 0usize..=3,
        cloud in 0usize..=3,
        latency in 10u64..=40,
    ) {
        let sandbox = sandbox_with_latency(latency);
        overlapping_applies(&sandbox, &file("random", hosts, per_host, cloud), runs);
    }
}

#[test]
fn a_connection_closed_before_the_answer_is_looked_up_not_reported_failed() {
    let sandbox = Sandbox::start();
    let lost = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let proxy = {
        let lost = lost.clone();
        Proxy::start(sandbox.addr(), move |operation| {
            let mut lost = lost.lock().unwrap();
            // The first create of each kind: committed, answer never arrives.
            if operation.starts_with("Create") && !lost.contains_key(operation) {
                lost.insert(operation.to_owned(), 1);
                Verdict::LoseAnswer
            } else {
                Verdict::Forward
            }
        })
    };
    let work = Workdir::new();
    work.write("stack.yaml", &file("lossy", 1, 1, 1));
    let out = run_via(work.path(), &proxy.url(), &APPLY);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        lost.lock().unwrap().keys().cloned().collect::<Vec<_>>(),
        ["CreateConnection", "CreateHost"]
    );
    assert_eq!(
        out.stderr
            .matches("the connection closed after the request was sent")
            .count(),
        2,
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("FAILED"), "{}", out.stderr);
    let after = account(&sandbox);
    assert_eq!(duplicates(&after), vec![]);
    assert_eq!(after.resources.len(), 3, "{after:#?}");
}

/// Run the binary against `url` (a proxy, or a server that misbehaves).
fn run_via(dir: &Path, url: &str, args: &[&str]) -> Run {
    let sandbox_free = crate::cli::command(dir)
        .args(args)
        .args(["--endpoint-url", url])
        .env("AWS_ACCESS_KEY_ID", crate::support::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", crate::support::SECRET_ACCESS_KEY)
        .env("AWS_REGION", "eu-west-1")
        .output()
        .expect("run codestar-reconcile");
    Run::from(sandbox_free)
}

/// Send `signal` to a child process of this test.
#[allow(unsafe_code)] // kill(2): see the SAFETY note.
fn signal_child(child: &Child, signal: i32) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    // SAFETY: kill(2) takes plain integers; the pid is our own child, not
    // yet waited for, so it names no other process.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Start apply, wait until it has printed `ok_lines` done changes, send
/// `signal` (`send_twice`: twice), and wait for it to end.
fn interrupt_apply(
    sandbox: &Sandbox,
    work: &Workdir,
    signal: i32,
    ok_lines: usize,
    send_twice: bool,
) -> Run {
    let mut child = against(work.path(), sandbox, &APPLY)
        .args(["--concurrency", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start apply");
    let stderr = child.stderr.take().expect("stderr");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        })
    };
    let started = Instant::now();
    while lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("  ok "))
        .count()
        < ok_lines
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "apply printed no progress: {:?}",
            lines.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    signal_child(&child, signal);
    if send_twice {
        // Once it has said what the first one does, as a person would.
        while !lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("finishing the calls in flight"))
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no word of the signal"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        signal_child(&child, signal);
    }
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().expect("apply ends");
    reader.join().unwrap();
    let stderr = lines.lock().unwrap().join("\n");
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

#[test]
fn sigint_and_sigterm_stop_apply_and_every_done_line_is_true() {
    for (signal, code, name) in [
        (libc::SIGINT, 130, "SIGINT"),
        (libc::SIGTERM, 143, "SIGTERM"),
    ] {
        let sandbox = sandbox_with_latency(40);
        let work = Workdir::new();
        work.write("stack.yaml", &file("stopped", 0, 0, 30));
        let out = interrupt_apply(&sandbox, &work, signal, 3, false);
        let said = format!("{}\n{}", out.stdout, out.stderr);
        assert_eq!(out.code, code, "{said}");
        assert!(
            out.stderr
                .contains(&format!("{name}: finishing the calls in flight")),
            "{said}"
        );
        assert!(
            out.stderr.contains(&format!("Interrupted by {name}:")),
            "{said}"
        );
        assert!(!out.stderr.contains(MATCHES), "{said}");
        let done = created_by(&out);
        let live: BTreeSet<String> = account(&sandbox).resources.keys().cloned().collect();
        assert_eq!(
            done, live,
            "the ok lines are exactly what the account holds:\n{said}"
        );
        assert!(done.len() >= 3 && done.len() < 30, "{said}");
        let skipped = out
            .stderr
            .lines()
            .filter(|l| l.contains("skipped") && l.contains(&format!("interrupted by {name}")))
            .count();
        assert_eq!(
            skipped,
            30 - done.len(),
            "every change not made says so:\n{said}"
        );
        let summary = format!("Apply: {} of 30 changes done", done.len());
        assert!(out.stderr.contains(&summary), "{said}");

        // Running apply again finishes the job.
        let again = run(work.path(), &sandbox, &APPLY);
        assert_eq!(again.code, 0, "{}", again.stderr);
    }
}

#[test]
fn a_second_signal_stops_at_once() {
    let sandbox = sandbox_with_latency(1_500);
    let work = Workdir::new();
    work.write("stack.yaml", &file("impatient", 0, 0, 4));
    // One create done (slow), then Ctrl-C twice while the next is in flight.
    let out = interrupt_apply(&sandbox, &work, libc::SIGINT, 1, true);
    assert_eq!(out.code, 130, "{}", out.stderr);
    assert!(out.stderr.contains("Stopped at once"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("Apply: "),
        "no summary after the second signal: {}",
        out.stderr
    );
}

#[test]
fn a_read_only_command_interrupted_says_nothing_was_changed() {
    let sandbox = sandbox_with_latency(3_000);
    let work = Workdir::new();
    work.write("stack.yaml", &file("slow", 0, 0, 1));
    let child = against(work.path(), &sandbox, &["plan", "-f", "stack.yaml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start plan");
    std::thread::sleep(Duration::from_millis(500));
    signal_child(&child, libc::SIGTERM);
    let out = Run::from(child.wait_with_output().unwrap());
    assert_eq!(out.code, 143, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Interrupted by SIGTERM: nothing was changed"),
        "{}",
        out.stderr
    );
}

// --------------------------------------------------------- saved plans

fn sandbox_of(account: &str) -> Sandbox {
    Sandbox::with_config(Config {
        account_id: Some(account.to_owned()),
        ..Config::default()
    })
}

#[test]
fn a_saved_plan_is_refused_at_another_endpoint_before_any_call() {
    let made_at = sandbox_of("111111111111");
    let elsewhere = sandbox_of("222222222222");
    let work = Workdir::new();
    work.write("stack.yaml", &file("bound", 0, 0, 2));
    run(
        work.path(),
        &made_at,
        &["plan", "-f", "stack.yaml", "--out", "plan.json"],
    )
    .expect(0);

    let out = run(work.path(), &elsewhere, &["apply", "plan.json"]).expect(1);
    assert!(
        out.stderr
            .contains(&format!("was made against {}", made_at.url())),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("--endpoint-url {}", made_at.url())),
        "{}",
        out.stderr
    );
    assert_eq!(elsewhere.calls(), BTreeMap::new(), "not a single call");

    // The hint: the endpoint the plan was made against.
    run(work.path(), &made_at, &["apply", "plan.json"]).expect(0);
}

#[test]
fn a_saved_plan_is_refused_in_another_account_at_the_same_endpoint() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = listener.local_addr().unwrap().to_string();
    drop(listener);
    let work = Workdir::new();
    work.write("stack.yaml", &file("bound", 0, 0, 2));
    {
        let first = Sandbox::listening(
            Config {
                account_id: Some("111111111111".to_owned()),
                ..Config::default()
            },
            &listen,
        );
        run(
            work.path(),
            &first,
            &["plan", "-f", "stack.yaml", "--out", "plan.json"],
        )
        .expect(0);
    }
    let second = Sandbox::listening(
        Config {
            account_id: Some("222222222222".to_owned()),
            ..Config::default()
        },
        &listen,
    );
    let out = run(work.path(), &second, &["apply", "plan.json"]).expect(1);
    assert!(
        out.stderr.contains(
            "made in account 111111111111 (aws), but the credentials are for account 222222222222"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(second.mutating_calls(), 0);
    assert_eq!(
        second.calls().keys().cloned().collect::<Vec<_>>(),
        ["GetCallerIdentity"],
        "only who-am-i was asked"
    );
}

#[test]
fn a_local_plan_applies_only_to_its_sandbox_and_the_hint_says_how() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("stack.yaml", &file("sandboxed", 0, 0, 1));
    run_plain(
        work.path(),
        &["plan", "--local", "-f", "stack.yaml", "--out", "plan.json"],
    )
    .expect(0);
    let out = run(work.path(), &sandbox, &["apply", "plan.json"]).expect(1);
    let state = std::fs::canonicalize(work.path())
        .unwrap()
        .join(".codestar-local.json");
    let hint = format!("--local --local-state {}", state.display());
    assert!(out.stderr.contains(&hint), "{}", out.stderr);
    assert_eq!(
        sandbox.calls(),
        BTreeMap::new(),
        "the real endpoint saw nothing"
    );

    let mut args = vec!["apply"];
    args.extend(hint.split(' '));
    args.push("plan.json");
    let applied = run_plain(work.path(), &args).expect(0);
    assert!(applied.stderr.contains(MATCHES), "{}", applied.stderr);
}

#[test]
fn a_saved_plan_finds_its_files_from_any_directory_and_beside_the_plan() {
    let elsewhere = Workdir::new();

    // From another directory, by the plan's path.
    let sandbox = Sandbox::start();
    let repo = Workdir::new();
    repo.write("infra/stack.yaml", &file("moved", 0, 0, 2));
    std::fs::create_dir_all(repo.path().join("out")).unwrap();
    run(
        repo.path(),
        &sandbox,
        &["plan", "-f", "infra/stack.yaml", "--out", "out/plan.json"],
    )
    .expect(0);
    let plan = repo.path().join("out/plan.json").display().to_string();
    run(elsewhere.path(), &sandbox, &["apply", &plan]).expect(0);

    // Another checkout (the files and the plan, as a CI artifact, moved
    // together; the originals are gone), from yet another directory.
    let sandbox = Sandbox::start();
    run(
        repo.path(),
        &sandbox,
        &["plan", "-f", "infra/stack.yaml", "--out", "out/plan.json"],
    )
    .expect(0);
    let checkout = Workdir::new();
    for path in ["infra/stack.yaml", "out/plan.json"] {
        checkout.write(
            path,
            &std::fs::read_to_string(repo.path().join(path)).unwrap(),
        );
    }
    std::fs::remove_dir_all(repo.path()).unwrap();
    let plan = checkout.path().join("out/plan.json").display().to_string();
    run(elsewhere.path(), &sandbox, &["apply", &plan]).expect(0);
}

// --------------------------------------------------------- networks

/// A port nothing listens on.
fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_refused_port_fails_in_seconds_with_one_line_naming_it() {
    let work = Workdir::new();
    work.write("stack.yaml", &file("offline", 0, 0, 1));
    let url = format!("http://127.0.0.1:{}", refused_port());
    for command in [&["plan", "-f", "stack.yaml"][..], &APPLY[..]] {
        let started = Instant::now();
        let out = run_via(work.path(), &url, command);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "gave up in time"
        );
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "one line: {}", out.stderr);
        let line = errors[0];
        assert!(
            line.contains(&format!(
                "cannot reach {url}: connection refused (3 attempts in"
            )),
            "{line}"
        );
        assert!(
            !line.contains("DispatchFailure") && !line.contains("ConnectorError"),
            "{line}"
        );
    }
}

#[test]
fn a_silent_endpoint_fails_within_the_timeout_and_says_so_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accept and never answer.
    let held = Arc::new(Mutex::new(Vec::new()));
    {
        let held = held.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                held.lock().unwrap().push(stream);
            }
        });
    }
    let work = Workdir::new();
    work.write("stack.yaml", &file("silent", 0, 0, 1));
    let started = Instant::now();
    let out = run_via(
        work.path(),
        &url,
        &["plan", "-f", "stack.yaml", "--timeout", "2s"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "bounded by --timeout"
    );
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(
        errors[0].contains(&format!("{url}: no answer (")),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("gave up within --timeout 2 s"),
        "{}",
        errors[0]
    );
}

#[test]
fn an_html_error_page_is_named_not_dumped() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = stream.read(&mut buf);
                let body = "<html><body><h1>502 Bad Gateway</h1></body></html>";
                let _ = write!(
                    stream,
                    "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    let work = Workdir::new();
    work.write("stack.yaml", &file("proxied", 0, 0, 1));
    let out = run_via(
        work.path(),
        &url,
        &["plan", "-f", "stack.yaml", "--timeout", "3s"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("answered HTTP 502 with an HTML page"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("<html") && !out.stderr.contains("<h1>"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_failed_change_is_printed_once() {
    let sandbox = Sandbox::with_config(Config {
        max_connections: 1,
        ..Config::default()
    });
    let work = Workdir::new();
    work.write("stack.yaml", &file("quota", 0, 0, 2));
    let out = run(work.path(), &sandbox, &APPLY).expect(1);
    let failed = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("  FAILED"))
        .count();
    assert_eq!(failed, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("a service quota was reached: at most 250 connections"),
        "{}",
        out.stderr
    );
}

// ------------------------------------------- exit 3 means nothing changed

#[test]
fn changes_then_refusals_exit_1_and_say_what_was_done_and_the_hint_works() {
    let sandbox = Sandbox::start();
    let upstream = sandbox.addr();
    let list_calls = Arc::new(Mutex::new(0usize));
    // Between the plan's read and apply's name check, another stack takes
    // eight of the ten names.
    let proxy = {
        let list_calls = list_calls.clone();
        Proxy::start(upstream, move |operation| {
            if operation == "ListConnections" {
                let mut n = list_calls.lock().unwrap();
                *n += 1;
                if *n == 2 {
                    for c in 2..10 {
                        let body = format!(
                            r#"{{"ConnectionName": "cloud-{c}", "ProviderType": "GitHub", "Tags": [{{"Key": "{STACK_TAG}", "Value": "neighbours"}}]}}"#
                        );
                        let made = raw_call_to(
                            upstream,
                            "eu-west-1",
                            "CodeStar_connections_20191201.CreateConnection",
                            &body,
                        );
                        assert_eq!(made.status, 200, "{}", made.body);
                    }
                }
            }
            Verdict::Forward
        })
    };
    let work = Workdir::new();
    work.write("stack.yaml", &file("late", 0, 0, 10));
    let out = run_via(work.path(), &proxy.url(), &APPLY);
    assert_eq!(out.code, 1, "changes were made, so not 3:\n{}", out.stderr);
    assert!(
        out.stderr
            .contains("2 changes were made (marked ok above), then 8 were refused"),
        "{}",
        out.stderr
    );
    let refused = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("  REFUSED"))
        .count();
    assert_eq!(refused, 8, "{}", out.stderr);
    assert!(
        out.stderr.contains("pick another name for it in this file"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("adopt: true"),
        "a foreign name cannot be adopted: {}",
        out.stderr
    );

    // The hint: other names in this file for the eight taken.
    let renamed = (2..10).fold(file("late", 0, 0, 10), |f, c| {
        f.replace(&format!("name: cloud-{c}\n"), &format!("name: mine-{c}\n"))
    });
    work.write("stack.yaml", &renamed);
    let again = run(work.path(), &sandbox, &APPLY);
    assert_eq!(again.code, 0, "{}", again.stderr);
}

// ------------------------------------------------------- --local

#[test]
fn two_local_applies_on_one_state_file_lose_nothing() {
    let work = Workdir::new();
    work.write("a.yaml", &file("alpha", 1, 2, 3));
    work.write("b.yaml", &file("beta", 0, 0, 3).replace("cloud-", "beta-"));
    let children: Vec<Child> = ["a.yaml", "b.yaml"]
        .into_iter()
        .map(|f| {
            crate::cli::command(work.path())
                .args(["apply", "--local", "-f", f, "--auto-approve"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = Run::from(child.wait_with_output().unwrap());
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    for f in ["a.yaml", "b.yaml"] {
        run_plain(
            work.path(),
            &["plan", "--local", "-f", f, "--detailed-exitcode"],
        )
        .expect(0);
    }
}

#[test]
fn local_refuses_while_an_emulator_serves_its_state_and_the_hint_works() {
    let work = Workdir::new();
    work.write("stack.yaml", &file("served", 0, 0, 1));
    let mut server = crate::cli::command(work.path())
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--state",
            ".codestar-local.json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .expect("the address line")
        .to_owned();

    let out = run_plain(work.path(), &["plan", "--local", "-f", "stack.yaml"]).expect(1);
    assert!(out.stderr.contains("is in use by pid"), "{}", out.stderr);
    assert!(
        out.stderr.contains("codestar-reconcile emulator"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--endpoint-url"), "{}", out.stderr);
    // The hint: talk to the emulator that serves it.
    run_via(work.path(), &url, &["plan", "-f", "stack.yaml"]).expect(0);
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn local_keeps_its_account_and_refuses_a_file_pinning_another_with_a_working_hint() {
    let work = Workdir::new();
    let pinned = |account: &str| {
        format!(
            "version: 1\nstack: pin\nregion: eu-west-1\naccount_id: \"{account}\"\nconnections:\n  - name: c\n    provider_type: GitHub\n"
        )
    };
    work.write("one.yaml", &pinned("111111111111"));
    work.write("two.yaml", &pinned("222222222222"));
    run_plain(work.path(), &["plan", "--local", "-f", "one.yaml"]).expect(0);
    let out = run_plain(work.path(), &["plan", "--local", "-f", "two.yaml"]).expect(1);
    assert!(
        out.stderr.contains(
            "pins account_id 222222222222, but the credentials are for account 111111111111"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--local-state FILE"), "{}", out.stderr);
    run_plain(
        work.path(),
        &[
            "plan",
            "--local",
            "--local-state",
            "two.json",
            "-f",
            "two.yaml",
        ],
    )
    .expect(0);
}
