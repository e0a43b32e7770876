//! `cargo bench --bench scale`: how fast the tool is on a fleet, as a table.
//!
//! Every figure is the real binary (built with the bench profile) against the
//! in-process emulator, so it includes process start, credentials, TLS-free
//! HTTP and the SDK. Times are reported as ratios to a floor measured in the
//! same run: this machine is shared and noisy, absolute seconds are not.
//!
//! - plan: N resources per target × T targets, emulator at 25 ms per call.
//!   The floor is what the API allows when tag reads start as each list
//!   page arrives: `ceil((list pages + N) / concurrency) + 1` rounds (the
//!   first page comes before anything else), times the latency. Targets
//!   are read concurrently, so 20 targets share that floor.
//! - fleet: 100 accounts × 2 Regions × 30 resources, each account reached
//!   through `AssumeRole`. Its bound is the larger of one target's floor and
//!   the CPU both processes need, shared by this machine's cores: latency
//!   hidden behind CPU. CPU per API call is shown for the tool and the
//!   emulator apart (the emulator is this process's thread: `getrusage`).
//! - apply: 250 connection creates against `--throttle-rps 10`; the rate of
//!   the create phase against the limit.
//! - peak RSS of every run of the binary (`wait4`'s `ru_maxrss`).
//! - pure planning of 10,000 resources, in-process, no I/O.
//! - bad input: how long the binary takes to reject the alias bomb and a
//!   10 MB file.

#[path = "../tests/integration/cli.rs"]
mod cli;
#[path = "../tests/integration/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use codestar_reconcile::emulator::Config;
use codestar_reconcile::live::{LiveConnection, LiveHost, Snapshot};
use codestar_reconcile::plan::{Options, plan_target};
use codestar_reconcile::resource::{ProviderType, STACK_TAG, Tags};
use codestar_reconcile::spec::{self, ConnectionSource, Target};

use cli::{Workdir, against, fleet, run};
use support::Sandbox;

const LATENCY_MS: u64 = 25;
/// The tool's default `--concurrency`.
const CONCURRENCY: usize = 8;
/// `ListConnections`/`ListHosts` page size the tool asks for.
const PAGE: usize = 100;
const RUNS: usize = 3;
/// Enough Regions for a 20-target fleet: one emulator serves one account,
/// so the fleet's targets are Regions of it.
const REGIONS: [&str; 20] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "sa-east-1",
    "me-south-1",
    "af-south-1",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(MEASURE_CHILD) {
        measure_child(&args[2], &args[3..]);
    }
    // `cargo bench` passes `--bench`; a filter argument picks sections.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |section: &str| filter.is_empty() || filter.iter().any(|f| section.contains(f));
    let mut report = String::new();
    let mut peak_rss = Vec::new();

    if wanted("plan") {
        let mut rows = Vec::new();
        for per_target in [30, 300] {
            for targets in [1, 20] {
                let row = plan_scenario(per_target, targets);
                eprintln!(
                    "plan {per_target}×{targets}: {:.3} s",
                    row.wall().as_secs_f64()
                );
                rows.push(row);
            }
        }
        report.push_str(&plan_table(&rows));
        peak_rss.extend(
            rows.iter()
                .map(|r| (format!("plan {}×{}", r.per_target, r.targets), r.rss_kib)),
        );
    }
    if wanted("fleet") {
        let row = fleet_scenario(100, &REGIONS[..2], 25, 5);
        eprintln!("fleet: {:.3} s", row.wall().as_secs_f64());
        // Held to its own memory target (in `describe`), not the
        // one-target 64 MiB.
        report.push_str(&row.describe());
    }
    if wanted("apply") {
        let apply = apply_scenario(250, 10);
        report.push_str(&apply.describe());
        peak_rss.push(("apply 250 creates".to_owned(), apply.rss_kib));
    }
    if wanted("pure") {
        report.push_str(&pure_planning(10_000));
    }
    if wanted("bad") {
        let (text, rss) = bad_inputs();
        report.push_str(&text);
        peak_rss.extend(rss);
    }
    if let Some((what, kib)) = peak_rss.iter().max_by_key(|(_, kib)| *kib) {
        let _ = writeln!(
            report,
            "\npeak RSS of any run: {:.1} MiB ({what}); target ≤ 64 MiB {}",
            mib(*kib),
            mark(mib(*kib) <= 64.0)
        );
    }
    println!("\n{report}");
}

/// One finished run of the binary.
struct Measured {
    code: i32,
    wall: Duration,
    /// User plus system CPU time of the child.
    cpu: Duration,
    rss_kib: u64,
    stderr: String,
}

/// Run `cmd` to the end, with its wall time and peak resident set size.
///
/// Through a fresh copy of this bench (`--measure-child`): a child's
/// `ru_maxrss` starts from its parent's size at fork, and this process holds
/// the emulator and thousands of resources. The copy is small when it forks.
fn measure(cmd: Command) -> Measured {
    let stderr_path = tempfile::NamedTempFile::new().expect("a temp file");
    let stderr = File::create(stderr_path.path()).expect("open stderr file");
    let mut via = Command::new(std::env::current_exe().expect("the bench's own path"));
    via.arg(MEASURE_CHILD)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    via.env_clear();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            via.env(key, value);
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        via.current_dir(dir);
    }
    let out = via
        .stderr(stderr)
        .stdin(Stdio::null())
        .output()
        .expect("run the measuring copy of the bench");
    let report = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<u64> = report
        .split_whitespace()
        .map(|f| {
            f.parse()
                .unwrap_or_else(|_| panic!("measure report: {report:?}"))
        })
        .collect();
    let [code, nanos, cpu_micros, rss_kib] = fields[..] else {
        panic!("measure report: {report:?}");
    };
    Measured {
        code: i32::try_from(code).unwrap_or(-1),
        wall: Duration::from_nanos(nanos),
        cpu: Duration::from_micros(cpu_micros),
        rss_kib,
        stderr: std::fs::read_to_string(stderr_path.path()).unwrap_or_default(),
    }
}

/// The first argument that turns this bench into [`measure`]'s helper.
const MEASURE_CHILD: &str = "--measure-child";

/// `--measure-child PROGRAM ARGS...`: run it (stdout discarded, stderr
/// inherited) and print `exit-code wall-ns cpu-µs peak-rss-kib`. The
/// child is reaped by `wait4`, not std's `wait`, which reports no rusage.
#[allow(unsafe_code)] // wait4(2), for the child's peak RSS: see the SAFETY notes.
fn measure_child(program: &str, args: &[String]) -> ! {
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    let mut status = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (std's `Child` only
    // reaps in `wait`, which is never called); the pointers are to locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        255
    };
    let micros = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    let cpu = micros(usage.ru_utime) + micros(usage.ru_stime);
    // Linux reports kibibytes.
    println!("{code} {} {cpu} {}", wall.as_nanos(), usage.ru_maxrss);
    std::process::exit(0);
}

fn expect_success(what: &str, m: &Measured) {
    assert_eq!(m.code, 0, "{what} failed (exit {}):\n{}", m.code, m.stderr);
}

/// CPU time (user + system) this process has used so far. While the binary
/// runs, this process only serves it: the emulator's thread.
#[allow(unsafe_code)] // getrusage(2): see the SAFETY notes.
fn own_cpu() -> Duration {
    // SAFETY: rusage is plain old data; zeroed is a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is to a local that outlives the call.
    let done = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(done, 0, "getrusage: {}", std::io::Error::last_os_error());
    let micros = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    Duration::from_micros(
        u64::try_from(micros(usage.ru_utime) + micros(usage.ru_stime)).unwrap_or(0),
    )
}

/// One run of the binary against `sandbox`, with what the emulator spent
/// serving it.
struct Served {
    run: Measured,
    /// CPU time of the emulator during the run.
    emulator_cpu: Duration,
    /// Calls of the run, by operation.
    calls: BTreeMap<String, u64>,
}

impl Served {
    fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    /// Milliseconds of CPU per API call: the tool's, the emulator's.
    fn cpu_per_call(&self) -> (f64, f64) {
        let calls = self.total_calls().max(1) as f64;
        (
            self.run.cpu.as_secs_f64() * 1000.0 / calls,
            self.emulator_cpu.as_secs_f64() * 1000.0 / calls,
        )
    }
}

fn serve(sandbox: &Sandbox, cmd: Command) -> Served {
    let before = sandbox.calls();
    let cpu = own_cpu();
    let run = measure(cmd);
    let emulator_cpu = own_cpu().saturating_sub(cpu);
    Served {
        run,
        emulator_cpu,
        calls: calls_since(&before, &sandbox.calls()),
    }
}

/// The median of `runs` by wall time.
fn median(mut runs: Vec<Served>) -> Served {
    runs.sort_by_key(|r| r.run.wall);
    runs.swap_remove(runs.len() / 2)
}

/// [`RUNS`] plans of `file` in `work` (each must find no change): the
/// median run, and the highest peak RSS of them all.
fn plan_runs(sandbox: &Sandbox, work: &Workdir, file: &str) -> (Served, u64) {
    let runs: Vec<Served> = (0..RUNS)
        .map(|_| {
            let served = serve(
                sandbox,
                against(
                    work.path(),
                    sandbox,
                    &["plan", "-f", file, "--detailed-exitcode"],
                ),
            );
            expect_success(&format!("plan of the applied {file}"), &served.run);
            served
        })
        .collect();
    let rss_kib = runs.iter().map(|r| r.run.rss_kib).max().unwrap_or(0);
    (median(runs), rss_kib)
}

/// Rounds of `latency` one target's plan needs at least: the first list
/// page alone, then every other list page and tag read `concurrency` at a
/// time.
fn pipelined_rounds(list_pages: usize, resources: usize) -> u64 {
    ((list_pages + resources).div_ceil(CONCURRENCY) + 1) as u64
}

/// List pages of one target holding `connections` and `hosts` (and no
/// repository link: one empty page).
fn list_pages(connections: usize, hosts: usize) -> usize {
    connections.div_ceil(PAGE).max(1) + hosts.div_ceil(PAGE).max(1) + 1
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗ (missed)" }
}

/// Calls per operation between two readings of the emulator's counters.
fn calls_since(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(op, n)| (op.clone(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

struct PlanRow {
    per_target: usize,
    targets: usize,
    /// The median of [`RUNS`].
    median: Served,
    floor: Duration,
    /// The highest of the runs.
    rss_kib: u64,
}

impl PlanRow {
    fn wall(&self) -> Duration {
        self.median.run.wall
    }
}

/// `per_target` resources in each of `targets` Regions: one host per five
/// connections, as a GHES-heavy fleet would have.
fn plan_scenario(per_target: usize, targets: usize) -> PlanRow {
    let hosts = per_target / 6;
    let connections = per_target - hosts;
    let sandbox = Sandbox::with_config(Config {
        max_hosts: hosts * targets,
        ..Config::default()
    });
    let work = Workdir::new();
    for region in &REGIONS[..targets] {
        work.write(
            &format!("fleet/{region}.yaml"),
            &fleet("fleet", region, connections, hosts),
        );
    }
    // Fill the account fast, then slow every call down.
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "fleet", "--auto-approve"],
    )
    .expect(0);
    sandbox.set_faults(serde_json::json!({ "latency_ms": LATENCY_MS }));

    let (median, rss_kib) = plan_runs(&sandbox, &work, "fleet");
    let rounds = pipelined_rounds(list_pages(connections, hosts), per_target);
    PlanRow {
        per_target,
        targets,
        median,
        floor: Duration::from_millis(LATENCY_MS * rounds),
        rss_kib,
    }
}

fn plan_table(rows: &[PlanRow]) -> String {
    let mut out = format!(
        "plan of an applied fleet (no changes), emulator at {LATENCY_MS} ms per call, --concurrency {CONCURRENCY}, median of {RUNS} runs\n\n"
    );
    out.push_str("| resources/target | targets | wall | floor | wall/floor | vs 1 target | CPU tool | CPU/call tool, emulator | API calls per run | peak RSS |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|:---|---:|\n");
    for row in rows {
        let one = rows
            .iter()
            .find(|r| r.per_target == row.per_target && r.targets == 1)
            .expect("every size has a one-target row");
        let ratio = row.wall().as_secs_f64() / row.floor.as_secs_f64();
        let fleet = row.wall().as_secs_f64() / one.wall().as_secs_f64();
        let calls: Vec<String> = row
            .median
            .calls
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect();
        let (tool, emulator) = row.median.cpu_per_call();
        let _ = writeln!(
            out,
            "| {} | {} | {:.3} s | {:.3} s | {:.2}× | {} | {:.2} s | {tool:.3} ms, {emulator:.3} ms | {} | {:.1} MiB |",
            row.per_target,
            row.targets,
            row.wall().as_secs_f64(),
            row.floor.as_secs_f64(),
            ratio,
            if row.targets == 1 {
                "—".to_owned()
            } else {
                format!("{fleet:.2}×")
            },
            row.median.run.cpu.as_secs_f64(),
            calls.join(", "),
            mib(row.rss_kib),
        );
    }
    // The floor target is for one target at its quota (250 connections and
    // 50 hosts); a fleet's is against one target, because 20 targets' calls
    // also cost 20 times the CPU of this machine.
    for row in rows
        .iter()
        .filter(|r| r.per_target == 300 && r.targets == 1)
    {
        let ratio = row.wall().as_secs_f64() / row.floor.as_secs_f64();
        let _ = writeln!(
            out,
            "\none target at its quota (250 connections, 50 hosts): {ratio:.3}× the pipelined floor; target ≤ 1.10× {}",
            mark(ratio <= 1.10)
        );
    }
    for per_target in [30, 300] {
        let wall = |t: usize| {
            rows.iter()
                .find(|r| r.per_target == per_target && r.targets == t)
                .map(|r| r.wall().as_secs_f64())
                .unwrap_or(f64::NAN)
        };
        let ratio = wall(20) / wall(1);
        let _ = writeln!(
            out,
            "{per_target} resources: 20 targets take {ratio:.2}× one target; target ≤ 1.5× {}",
            mark(ratio <= 1.5)
        );
    }
    out
}

struct FleetRow {
    accounts: usize,
    regions: usize,
    per_target: usize,
    median: Served,
    /// One target's pipelined floor.
    floor: Duration,
    rss_kib: u64,
}

/// A fleet file: `accounts` accounts × `regions`, each account reached by
/// assuming its role, `connections` and `hosts` in every target.
fn fleet_scenario(accounts: usize, regions: &[&str], connections: usize, hosts: usize) -> FleetRow {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let ids: Vec<String> = (0..accounts)
        .map(|i| format!("\"{:012}\"", 100_000_000_000u64 + i as u64))
        .collect();
    let targets = format!(
        "targets:\n  accounts: [{}]\n  regions: [{}]\n  role_arn: arn:aws:iam::{{account_id}}:role/reconcile\n",
        ids.join(", "),
        regions.join(", ")
    );
    let file = fleet("fleet", regions[0], connections, hosts).replacen(
        &format!("region: {}\n", regions[0]),
        &targets,
        1,
    );
    work.write("fleet.yaml", &file);
    // Fill every account fast, then slow every call down.
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "fleet.yaml", "--auto-approve"],
    )
    .expect(0);
    sandbox.set_faults(serde_json::json!({ "latency_ms": LATENCY_MS }));
    let (median, rss_kib) = plan_runs(&sandbox, &work, "fleet.yaml");
    let per_target = connections + hosts;
    FleetRow {
        accounts,
        regions: regions.len(),
        per_target,
        floor: Duration::from_millis(
            LATENCY_MS * pipelined_rounds(list_pages(connections, hosts), per_target),
        ),
        rss_kib,
        median,
    }
}

impl FleetRow {
    fn wall(&self) -> Duration {
        self.median.run.wall
    }

    fn describe(&self) -> String {
        let m = &self.median;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let cpu = m.run.cpu.as_secs_f64() + m.emulator_cpu.as_secs_f64();
        let bound = self.floor.as_secs_f64().max(cpu / cores);
        let ratio = self.wall().as_secs_f64() / bound;
        let assumed = m.calls.get("AssumeRole").copied().unwrap_or(0);
        let (tool, emulator) = m.cpu_per_call();
        let calls: Vec<String> = m.calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
        let targets = self.accounts * self.regions;
        format!(
            "\nplan of a fleet: {a} accounts × {r} Regions × {n} resources ({total} resources), each account through AssumeRole, emulator at {LATENCY_MS} ms per call, median of {RUNS} runs\n\n\
             | wall | one target's floor | CPU tool | CPU emulator | (CPU both) / {cores} cores | wall / bound | CPU/call tool | CPU/call emulator | API calls | peak RSS |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n\
             | {w:.3} s | {f:.3} s | {ct:.2} s | {ce:.2} s | {half:.3} s | {ratio:.2}× | {tool:.3} ms | {emulator:.3} ms | {nc} | {rss:.1} MiB |\n\
             \ncalls: {calls}\n\
             \nwall {ratio:.3}× max(floor, CPU / cores); target ≤ 1.3× {ok}\n\
             AssumeRole {assumed} times for {a} accounts; target once per account {once}\n\
             peak RSS {rss:.1} MiB; target ≤ 96 MiB {mem}\n",
            a = self.accounts,
            r = self.regions,
            n = self.per_target,
            total = targets * self.per_target,
            w = self.wall().as_secs_f64(),
            f = self.floor.as_secs_f64(),
            ct = m.run.cpu.as_secs_f64(),
            ce = m.emulator_cpu.as_secs_f64(),
            half = cpu / cores,
            nc = m.total_calls(),
            calls = calls.join(", "),
            rss = mib(self.rss_kib),
            ok = mark(ratio <= 1.3),
            once = mark(assumed == self.accounts as u64),
            mem = mark(mib(self.rss_kib) <= 96.0),
        )
    }
}

struct ApplyRun {
    creates: usize,
    limit: u32,
    wall: Duration,
    /// First and last `CreateConnection` seen by the emulator.
    create_phase: Duration,
    create_attempts: u64,
    calls: u64,
    throttled: u64,
    rss_kib: u64,
}

impl ApplyRun {
    fn describe(&self) -> String {
        let limit = f64::from(self.limit);
        // n creates spaced evenly at the limit span (n - 1) intervals.
        let create_rate = (self.creates - 1) as f64 / self.create_phase.as_secs_f64();
        let accepted = self.calls - self.throttled;
        let whole_rate = accepted as f64 / self.wall.as_secs_f64();
        format!(
            "\napply of {n} connection creates, emulator --throttle-rps {l} --latency-ms {LATENCY_MS}\n\n\
             | phase | calls accepted | time | rate | rate / limit |\n\
             |:---|---:|---:|---:|---:|\n\
             | creates | {n} (+{thr} throttled) | {cp:.1} s | {cr:.2}/s | {crl:.0}% |\n\
             | whole apply (read, name check, creates, verify) | {acc} (+{t} throttled) | {w:.1} s | {wr:.2}/s | {wrl:.0}% |\n\
             \ncreate phase at {crl:.0}% of the throttle; target ≥ 85% {ok}; peak RSS {rss:.1} MiB\n",
            n = self.creates,
            l = self.limit,
            thr = self.create_attempts - self.creates as u64,
            cp = self.create_phase.as_secs_f64(),
            cr = create_rate,
            crl = 100.0 * create_rate / limit,
            acc = accepted,
            t = self.throttled,
            w = self.wall.as_secs_f64(),
            wr = whole_rate,
            wrl = 100.0 * whole_rate / limit,
            ok = mark(create_rate / limit >= 0.85),
            rss = mib(self.rss_kib),
        )
    }
}

/// `creates` new connections against a throttled emulator, watching the
/// emulator's counters to time the create phase from outside the tool.
fn apply_scenario(creates: usize, limit: u32) -> ApplyRun {
    let sandbox = Sandbox::with_config(Config {
        latency_ms: LATENCY_MS,
        throttle_rps: Some(limit),
        ..Config::default()
    });
    let work = Workdir::new();
    work.write("fleet.yaml", &fleet("fleet", "eu-west-1", creates, 0));
    let cmd = against(
        work.path(),
        &sandbox,
        &["apply", "-f", "fleet.yaml", "--auto-approve"],
    );

    let done = std::sync::atomic::AtomicBool::new(false);
    let (m, first, last) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let (mut first, mut last, mut seen) = (None, None, 0);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let now = Instant::now();
                let n = sandbox
                    .calls()
                    .get("CreateConnection")
                    .copied()
                    .unwrap_or(0);
                if n > 0 && first.is_none() {
                    first = Some(now);
                }
                if n > seen {
                    seen = n;
                    last = Some(now);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (first, last)
        });
        let m = measure(cmd);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let (first, last) = watcher.join().expect("the watcher thread");
        (m, first, last)
    });
    expect_success("apply of the creates", &m);
    let calls = sandbox.calls();
    let faults = sandbox.http("GET", "/_emulator/faults", &[], "").json();
    let (Some(first), Some(last)) = (first, last) else {
        panic!("the emulator saw no CreateConnection");
    };
    ApplyRun {
        creates,
        limit,
        wall: m.wall,
        create_phase: last - first,
        create_attempts: calls.get("CreateConnection").copied().unwrap_or(0),
        calls: calls.values().sum(),
        throttled: faults["injected"]["throttled"].as_u64().unwrap_or(0),
        rss_kib: m.rss_kib,
    }
}

/// The planner alone over `total` resources: 250 per target (the most one
/// Region holds), each target's account matching the file but for a tag on
/// every tenth connection and one resource to delete.
fn pure_planning(total: usize) -> String {
    let per_target = 250;
    let hosts = 50;
    let work = Workdir::new();
    let files: Vec<PathBuf> = (0..total.div_ceil(per_target))
        .map(|i| {
            let mut text = fleet(&format!("s{i}"), "eu-west-1", per_target - hosts, hosts);
            // Every target a distinct account, so the loader accepts the set.
            text.push_str(&format!(
                "account_id: \"{:012}\"\n",
                100_000_000_000u64 + i as u64
            ));
            work.write(&format!("t{i}.yaml"), &text)
        })
        .collect();
    let targets =
        spec::load(&files).unwrap_or_else(|e| panic!("the generated fleet is valid: {e:?}"));
    let snapshots: Vec<Snapshot> = targets.iter().map(live_matching).collect();
    let resources: usize = snapshots
        .iter()
        .map(|s| s.connections.len() + s.hosts.len())
        .sum();

    let options = Options::default();
    let mut times = Vec::new();
    let mut changes = 0;
    for _ in 0..21 {
        let started = Instant::now();
        let plans: Vec<_> = targets
            .iter()
            .zip(&snapshots)
            .map(|(t, s)| plan_target(t, s, &t.stack, &options))
            .collect();
        times.push(started.elapsed());
        changes = plans.iter().map(|p| p.changes.len()).sum();
        std::hint::black_box(plans);
    }
    times.sort();
    let median = times[times.len() / 2];
    let ms = median.as_secs_f64() * 1000.0;
    format!(
        "\npure planning: {resources} live resources in {} targets, {changes} changes, median of {} runs: {ms:.2} ms; target ≤ 20 ms {}\n",
        targets.len(),
        times.len(),
        mark(ms <= 20.0)
    )
}

/// What the account holds when a past apply made `target`, then someone
/// retagged every tenth connection and the file dropped nothing but one
/// extra connection appeared.
fn live_matching(target: &Target) -> Snapshot {
    let account = target.account_id.clone().unwrap_or_default();
    let owned = |extra: &[(&str, &str)]| {
        let mut tags: Tags = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        tags.insert(STACK_TAG.to_owned(), target.stack.clone());
        tags
    };
    let hosts: Vec<LiveHost> = target
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| LiveHost {
            arn: format!(
                "arn:aws:codestar-connections:eu-west-1:{account}:host/{}-{i:08x}",
                h.name
            ),
            name: h.name.clone(),
            provider_type: h.provider_type.as_str().to_owned(),
            provider_endpoint: h.provider_endpoint.clone(),
            vpc: h.vpc.clone(),
            status: "AVAILABLE".to_owned(),
            status_message: None,
            tags: {
                let mut tags = h.tags.clone();
                tags.extend(owned(&[]));
                tags
            },
        })
        .collect();
    let host_arn = |name: &str| hosts.iter().find(|h| h.name == name).map(|h| h.arn.clone());
    let mut connections: Vec<LiveConnection> = target
        .connections
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut tags = c.tags.clone();
            if i % 10 == 0 {
                tags.insert("n".to_owned(), "changed".to_owned());
            }
            tags.extend(owned(&[]));
            LiveConnection {
                arn: format!("arn:aws:codestar-connections:eu-west-1:{account}:connection/{i:08x}-0000-0000-0000-000000000000"),
                name: c.name.clone(),
                provider_type: match &c.source {
                    ConnectionSource::Provider(p) => p.as_str(),
                    ConnectionSource::Host(_) | ConnectionSource::HostArn(_) => {
                        ProviderType::GitHubEnterpriseServer.as_str()
                    }
                }
                .to_owned(),
                host_arn: match &c.source {
                    ConnectionSource::Host(name) => host_arn(name),
                    ConnectionSource::HostArn(arn) => Some(arn.clone()),
                    ConnectionSource::Provider(_) => None,
                },
                status: "AVAILABLE".to_owned(),
                tags,
            }
        })
        .collect();
    connections.push(LiveConnection {
        arn: format!("arn:aws:codestar-connections:eu-west-1:{account}:connection/ffffffff-0000-0000-0000-000000000000"),
        name: "removed-from-the-file".to_owned(),
        provider_type: "GitHub".to_owned(),
        host_arn: None,
        status: "AVAILABLE".to_owned(),
        tags: owned(&[]),
    });
    Snapshot {
        connections,
        hosts,
        ..Snapshot::default()
    }
}

/// The binary rejecting the two inputs built to be slow, by wall time.
fn bad_inputs() -> (String, Vec<(String, u64)>) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = Workdir::new();
    let big = work.write("ten-megabytes.yaml", &{
        let mut text = String::from("version: 1\nstack: big\nconnections:\n");
        while text.len() < 10 * 1024 * 1024 {
            text.push_str("  - name: c\n    provider_type: GitHub\n");
        }
        text
    });
    let mut out = String::from(
        "\nrejecting bad input (`validate`, whole process)\n\n| file | exit | wall | target |\n|:---|---:|---:|---:|\n",
    );
    let mut rss = Vec::new();
    for (name, path) in [
        ("alias bomb", repo.join("tests/bad-inputs/alias-bomb.yaml")),
        ("10 MB file", big),
    ] {
        let m = measure({
            let mut cmd = cli::command(work.path());
            cmd.arg("validate").arg("-f").arg(&path);
            cmd
        });
        assert_eq!(m.code, 1, "{name} should be refused:\n{}", m.stderr);
        let ms = m.wall.as_secs_f64() * 1000.0;
        let _ = writeln!(
            out,
            "| {name} | {} | {ms:.0} ms | < 1000 ms {} |",
            m.code,
            mark(ms < 1000.0)
        );
        rss.push((format!("validate {name}"), m.rss_kib));
    }
    (out, rss)
}
