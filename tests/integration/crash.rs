//! Crash safety: `apply` killed with SIGKILL at random points, the emulator
//! restarted from its state file in between, then apply run again until it
//! converges. There is no state file on the tool's side, so whatever a kill
//! leaves half done, the next apply must read from the account and finish,
//! with the promises of [`crate::invariants`] kept.

use std::path::Path;
use std::process::Stdio;
use std::thread::sleep;
use std::time::{Duration, Instant};

use codestar_reconcile::emulator::Config;
use codestar_reconcile::resource::Tags;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::cli::{Workdir, against, run};
use crate::invariants::{apply_until_converged, assert_plan_empty, assert_promises_kept, read_on};
use crate::scenario::{
    APPLY, Connection, Desired, Flags, Host, Link, Owner, Seed, Source, Sync, tags,
};
use crate::support::Sandbox;

/// Seed of the kill schedule, so a failure can be replayed.
const SEED: u64 = 0x5eed_c7a5;
const KILLS: usize = 6;
/// Kills after which the emulator is stopped and started again from its
/// state file, on a new port.
const RESTART_AFTER: [usize; 2] = [0, 2];
/// Every API call takes at least this long, so an apply lasts long enough
/// to be interrupted.
const LATENCY_MS: u64 = 20;

const HOSTS: usize = 4;
const CONNECTIONS: usize = 32;

fn host(i: usize) -> Host {
    let name = format!("ghes-{i}");
    Host {
        endpoint: format!("https://{name}.example.com"),
        provider: if i.is_multiple_of(2) {
            "GitHubEnterpriseServer"
        } else {
            "GitLabSelfManaged"
        },
        tags: tags(&[("env", "prod")]),
        name,
    }
}

fn connection(i: usize) -> Connection {
    let source = match i % 4 {
        0 => Source::Host(format!("ghes-{}", (i / 4) % HOSTS)),
        1 => Source::Provider("GitHub"),
        2 => Source::Provider("GitLab"),
        _ => Source::Provider("Bitbucket"),
    };
    Connection {
        name: format!("conn-{i:02}"),
        source,
        tags: tags(&[("n", &i.to_string())]),
    }
}

/// A file of 4 hosts and 33 connections, and an account holding some of
/// them already (out of date, protected, to adopt, to replace), resources
/// of this stack the file dropped, and resources of others.
fn fleet() -> (Desired, Seed) {
    let mut desired = Desired::default();
    let mut seed = Seed::default();
    let flags = |protect: bool| Flags {
        protect: protect.then_some(true),
        adopt: false,
    };
    for i in 0..HOSTS {
        desired.hosts.push((host(i), flags(i == 0)));
    }
    for i in 0..CONNECTIONS {
        desired.connections.push((connection(i), flags(i == 5)));
    }

    let stale_tags = tags(&[("env", "old")]);
    seed.hosts.push((host(0), Owner::Protected));
    let moved = Host {
        endpoint: "https://ghes-1.old.example.com".to_owned(),
        tags: stale_tags.clone(),
        ..host(1)
    };
    seed.hosts.push((moved, Owner::Managed));
    for i in [0, 1, 2, 3] {
        let out_of_date = Connection {
            tags: stale_tags.clone(),
            ..connection(i)
        };
        seed.connections.push((out_of_date, Owner::Managed));
    }
    // conn-04 is on ghes-1 in the file: the account's, on GitHub, is replaced.
    let stale = Connection {
        source: Source::Provider("GitHub"),
        ..connection(4)
    };
    seed.connections.push((stale, Owner::Managed));
    seed.connections.push((connection(5), Owner::Protected));

    seed.hosts.push((named_host("old-ghes"), Owner::Managed));
    seed.connections
        .push((on_host("old-on-host", "old-ghes"), Owner::Managed));
    for i in 0..6 {
        seed.connections
            .push((cloud(&format!("old-{i}"), "GitHub"), Owner::Managed));
    }

    seed.hosts.push((named_host("theirs-ghes"), Owner::Foreign));
    seed.connections
        .push((on_host("theirs-on-host", "theirs-ghes"), Owner::Foreign));
    for i in 0..3 {
        seed.connections
            .push((cloud(&format!("theirs-{i}"), "GitLab"), Owner::Foreign));
    }
    for i in 0..3 {
        seed.connections.push((
            cloud(&format!("console-{i}"), "Bitbucket"),
            Owner::Unmanaged,
        ));
    }
    // The file takes console-2 over.
    desired.connections.push((
        cloud("console-2", "Bitbucket"),
        Flags {
            protect: None,
            adopt: true,
        },
    ));
    git_sync(&mut desired, &mut seed);
    (desired, seed)
}

/// Repository links and sync configurations over the fleet's connections:
/// new ones, an out-of-date one, one whose connection is replaced (so it is
/// replaced with its sync configurations), ones this stack dropped, and
/// others' that stay untouched.
fn git_sync(desired: &mut Desired, seed: &mut Seed) {
    // Links through the GitHub and GitLab connections (conn-01, conn-02,
    // conn-05, ...), two sync configurations each.
    for i in 0..6 {
        let connection = format!("conn-{:02}", 1 + 4 * i + i % 2);
        let repository = format!("org/repo-{i}");
        desired.links.push((
            Link {
                repository: repository.clone(),
                connection,
                tags: tags(&[("n", &i.to_string())]),
            },
            Flags::default(),
        ));
        for branch in ["main", "dev"] {
            desired.syncs.push(Sync {
                resource_name: format!("stack-{i}-{branch}"),
                repository: repository.clone(),
                branch: branch.to_owned(),
            });
        }
    }
    // org/repo-0 exists already, with a sync configuration on an old branch.
    seed.links.push((
        Link {
            repository: "org/repo-0".to_owned(),
            connection: "conn-01".to_owned(),
            tags: tags(&[("n", "old")]),
        },
        Owner::Managed,
    ));
    seed.syncs.push(Sync {
        resource_name: "stack-0-main".to_owned(),
        repository: "org/repo-0".to_owned(),
        branch: "release".to_owned(),
    });
    // conn-04's provider changes: its link and sync configuration go with it.
    let on_replaced = Link {
        repository: "org/on-replaced".to_owned(),
        connection: "conn-04".to_owned(),
        tags: Tags::new(),
    };
    seed.links.push((on_replaced.clone(), Owner::Managed));
    desired.links.push((on_replaced, Flags::default()));
    let replaced_sync = Sync {
        resource_name: "replaced-stack".to_owned(),
        repository: "org/on-replaced".to_owned(),
        branch: "main".to_owned(),
    };
    seed.syncs.push(replaced_sync.clone());
    desired.syncs.push(replaced_sync);
    // Dropped from the file: deleted, the sync configuration first.
    seed.links.push((
        Link {
            repository: "org/old".to_owned(),
            connection: "old-0".to_owned(),
            tags: Tags::new(),
        },
        Owner::Managed,
    ));
    seed.syncs.push(Sync {
        resource_name: "old-stack".to_owned(),
        repository: "org/old".to_owned(),
        branch: "main".to_owned(),
    });
    // Another stack's and the console's: never touched.
    seed.links.push((
        Link {
            repository: "them/tool".to_owned(),
            connection: "theirs-0".to_owned(),
            tags: Tags::new(),
        },
        Owner::Foreign,
    ));
    seed.syncs.push(Sync {
        resource_name: "their-stack".to_owned(),
        repository: "them/tool".to_owned(),
        branch: "main".to_owned(),
    });
    seed.links.push((
        Link {
            repository: "console/site".to_owned(),
            connection: "console-0".to_owned(),
            tags: Tags::new(),
        },
        Owner::Unmanaged,
    ));
    seed.syncs.push(Sync {
        resource_name: "console-stack".to_owned(),
        repository: "console/site".to_owned(),
        branch: "main".to_owned(),
    });
}

fn named_host(name: &str) -> Host {
    Host {
        name: name.to_owned(),
        provider: "GitHubEnterpriseServer",
        endpoint: format!("https://{name}.example.com"),
        tags: Tags::new(),
    }
}

fn on_host(name: &str, host: &str) -> Connection {
    Connection {
        name: name.to_owned(),
        source: Source::Host(host.to_owned()),
        tags: Tags::new(),
    }
}

fn cloud(name: &str, provider: &'static str) -> Connection {
    Connection {
        name: name.to_owned(),
        source: Source::Provider(provider),
        tags: Tags::new(),
    }
}

fn emulator(state: &Path, latency_ms: u64) -> Sandbox {
    Sandbox::with_config(Config {
        state: Some(state.to_path_buf()),
        latency_ms,
        ..Config::default()
    })
}

/// When to kill the apply.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// Once the emulator has seen this many more mutating calls.
    AfterChanges(u64),
    /// After this long, wherever the apply is (reading, applying, done).
    After(Duration),
}

/// What one kill interrupted.
#[derive(Debug)]
struct Kill {
    point: KillPoint,
    /// The process was still running when it was killed.
    running: bool,
    /// Mutating calls the emulator saw from it.
    changes: u64,
    /// It left the account different from before it started, and not yet
    /// as the file wants (a plan still has changes).
    partial: bool,
}

/// Start apply, kill it at `point`; returns whether it was still running and
/// how many mutating calls it made.
fn kill_apply_at(dir: &Path, sandbox: &Sandbox, point: KillPoint) -> (bool, u64) {
    let base = sandbox.mutating_calls();
    let mut child = against(dir, sandbox, &APPLY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start apply");
    let started = Instant::now();
    loop {
        let exited = child.try_wait().expect("poll apply").is_some();
        let due = match point {
            KillPoint::AfterChanges(n) => sandbox.mutating_calls() - base >= n,
            KillPoint::After(delay) => started.elapsed() >= delay,
        };
        if exited || due {
            break;
        }
        sleep(Duration::from_millis(2));
    }
    let running = child.try_wait().expect("poll apply").is_none();
    // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no cleanup.
    child.kill().expect("kill apply");
    child.wait().expect("reap apply");
    (running, sandbox.mutating_calls() - base)
}

#[test]
fn apply_killed_at_random_points_converges_and_keeps_its_promises() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let work = Workdir::new();
    let state = work.path().join("emulator-state.json");
    let (desired, seed) = fleet();
    work.write("stack.yaml", &desired.yaml());

    let clean = emulator(&state, 0);
    runtime.block_on(async { seed.create(&clean.client("eu-west-1").await).await });
    let before = read_on(&runtime, &clean);
    drop(clean);

    let mut rng = StdRng::seed_from_u64(SEED);
    let mut sandbox = emulator(&state, LATENCY_MS);
    let mut previous = before.clone();
    let mut kills = Vec::new();
    for i in 0..KILLS {
        // Alternately: after a few changes, so the kills walk through the
        // whole apply (about 45 changes); or after a delay that may land
        // anywhere, reads included.
        let point = if i % 2 == 0 {
            KillPoint::AfterChanges(rng.random_range(1..=6))
        } else {
            KillPoint::After(Duration::from_millis(rng.random_range(100..=800)))
        };
        let (running, changes) = kill_apply_at(work.path(), &sandbox, point);
        let now = read_on(&runtime, &sandbox);
        let pending = run(
            work.path(),
            &sandbox,
            &[
                "plan",
                "-f",
                "stack.yaml",
                "--detailed-exitcode",
                "--allow-replace",
                "--force",
            ],
        )
        .code
            == 2;
        let kill = Kill {
            point,
            running,
            changes,
            partial: now != previous && pending,
        };
        eprintln!(
            "crash: kill {i} at {:?}: running {}, {} changes, left partial: {}",
            kill.point, kill.running, kill.changes, kill.partial
        );
        kills.push(kill);

        if RESTART_AFTER.contains(&i) {
            drop(sandbox);
            sandbox = emulator(&state, LATENCY_MS);
            assert_eq!(
                read_on(&runtime, &sandbox),
                now,
                "the restarted emulator lost or changed state"
            );
        }
        previous = now;
    }
    assert!(
        kills
            .iter()
            .any(|k| k.running && k.changes > 0 && k.partial),
        "no kill interrupted an apply part-way, so this test proved nothing: {kills:#?}"
    );

    let runs = apply_until_converged(work.path(), &sandbox);
    drop(sandbox);

    let clean = emulator(&state, 0);
    assert_plan_empty(work.path(), &clean, "stack.yaml");
    let after = read_on(&runtime, &clean);
    assert_promises_kept(&before, &after, &desired);
    eprintln!(
        "crash: {} resources before, {} after; {} apply run(s) to finish",
        before.resources.len(),
        after.resources.len(),
        runs
    );
}
