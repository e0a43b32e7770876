//! The local emulator of the AWS CodeStar Connections API: an HTTP server
//! speaking AWS JSON 1.0, so the real SDKs, boto3 and the AWS CLI talk to it
//! unchanged. It is the fixture every test of the tool runs against, and the
//! sandbox behind `--local`.
//!
//! It plays a whole AWS organisation: every account has its own resources,
//! a request acts in the account of the keys that signed it ([`identity`]),
//! STS `AssumeRole` issues keys into any account ([`sts`]), and AWS
//! Organizations' list calls answer from a tree given at start-up
//! ([`organizations`]).
//!
//! This module is the server: configuration, routing and the admin routes.
//! The service itself lives in [`operations`] (the 27 operations over a
//! [`state::Store`]), checked by [`model`] (the embedded service model),
//! reached through [`sigv4`] (Region and signatures); [`faults`] injects
//! failures. `docs/emulator.md` describes the behaviour and every choice
//! made where AWS documents none.

mod delay;
mod faults;
mod identity;
mod model;
mod operations;
mod organizations;
mod protocol;
mod sigv4;
mod state;
mod sts;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::resource::{Api, MAX_CONNECTIONS_PER_REGION, MAX_HOSTS_PER_ACCOUNT, MAX_TAGS};

use faults::{FaultSettings, FaultState, Faults, FaultsRequest};
use identity::{Dialect, Principal, Signed};
use operations::{Caller, Limits};
use protocol::{ApiError, Wire, cbor_input, cbor_ok, json_ok, json11_ok};
use state::{StateLock, Store};
use sts::Trust;

pub use organizations::{MemberAccount, Organization, OrganizationalUnit, Root};

/// The account of an emulator given none and a state file recording none.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// The account a state file records, if it exists and records one.
pub fn recorded_account(state: &Path) -> Result<Option<String>> {
    Ok(Store::load(state)?.account_id)
}

pub use sigv4::Credentials;

/// Largest request body read; the largest valid input (a 16 KiB TLS
/// certificate plus 200 tags) is far below it.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Path prefix of the admin routes; they are not AWS operations.
const ADMIN_PREFIX: &str = "/_emulator/";

/// A probability, 0 to 1: the fault rates.
pub fn parse_rate(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err("expected a probability between 0 and 1".to_string()),
    }
}

/// A 12-digit AWS account id.
pub fn parse_account_id(text: &str) -> std::result::Result<String, String> {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err("expected a 12-digit AWS account id".to_string())
    }
}

/// An organisation file (`--organization FILE`), read and checked.
pub fn parse_organization_file(path: &str) -> std::result::Result<Organization, String> {
    Organization::load(Path::new(path))
}

/// A rule naming roles: a 12-digit account or a role ARN (`*` allowed).
pub fn parse_role_rule(text: &str) -> std::result::Result<String, String> {
    sts::check_rule(text).map(|()| text.to_owned())
}

/// `RULE=EXTERNAL_ID`: the external id the roles of a rule require.
pub fn parse_external_id(text: &str) -> std::result::Result<(String, String), String> {
    let (rule, id) = text
        .rsplit_once('=')
        .ok_or("expected ACCOUNT_OR_ROLE_ARN=EXTERNAL_ID")?;
    if id.is_empty() {
        return Err("the external id is empty".to_owned());
    }
    Ok((parse_role_rule(rule)?, id.to_owned()))
}

/// Everything the emulator needs to run, as plain data. `Default` is what an
/// in-process user wants: a free loopback port, no state file, no faults.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `HOST:PORT` to bind; port 0 picks a free port.
    pub listen: String,
    /// State file; `None` keeps state in memory only.
    pub state: Option<PathBuf>,
    /// The default account: the one requests signed with any key but those
    /// `AssumeRole` issued act in. `None`: the one the state file records,
    /// else [`DEFAULT_ACCOUNT_ID`]. A state file recording another is an
    /// error.
    pub account_id: Option<String>,
    /// Who holds the state file's lock, as another process waiting for it
    /// is told (`codestar-reconcile emulator`, `plan --local`, ...).
    pub holder: String,
    /// When another process holds the state file: wait for it (a `--local`
    /// command behind another), or fail at once (a server).
    pub wait_for_state: bool,
    pub latency_ms: u64,
    pub throttle_rps: Option<u32>,
    pub error_rate: f64,
    pub lost_response_rate: f64,
    /// The account the four faults above apply to; `None`: every account.
    pub fault_account_id: Option<String>,
    pub seed: Option<u64>,
    pub credentials: Option<Credentials>,
    pub max_connections: usize,
    pub max_hosts: usize,
    pub max_tags: usize,
    /// The organisation AWS Organizations answers for; `None`: every
    /// Organizations call is `AWSOrganizationsNotInUseException`.
    pub organization: Option<Organization>,
    /// Roles `AssumeRole` refuses (`AccessDenied`): 12-digit accounts (every
    /// role in them) or role ARNs, `*` matching any run of characters.
    pub deny_assume_role: Vec<String>,
    /// The external id roles require, by account or role ARN (`*` allowed);
    /// a missing or different one is `AccessDenied`.
    pub external_ids: BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: "127.0.0.1:0".to_string(),
            state: None,
            account_id: None,
            holder: "codestar-reconcile (in-process emulator)".to_string(),
            wait_for_state: false,
            latency_ms: 0,
            throttle_rps: None,
            error_rate: 0.0,
            lost_response_rate: 0.0,
            fault_account_id: None,
            seed: None,
            credentials: None,
            max_connections: MAX_CONNECTIONS_PER_REGION,
            max_hosts: MAX_HOSTS_PER_ACCOUNT,
            max_tags: MAX_TAGS,
            organization: None,
            deny_assume_role: Vec::new(),
            external_ids: BTreeMap::new(),
        }
    }
}

impl Config {
    /// In-process callers bypass clap, so the same checks run here.
    fn check(&self) -> Result<()> {
        if let Some(account_id) = &self.account_id {
            parse_account_id(account_id).map_err(|e| Error::usage(format!("account id: {e}")))?;
        }
        parse_rate(&self.error_rate.to_string())
            .map_err(|e| Error::usage(format!("error rate: {e}")))?;
        parse_rate(&self.lost_response_rate.to_string())
            .map_err(|e| Error::usage(format!("lost response rate: {e}")))?;
        if let Some(account_id) = &self.fault_account_id {
            parse_account_id(account_id)
                .map_err(|e| Error::usage(format!("fault account id: {e}")))?;
        }
        for rule in self.deny_assume_role.iter().chain(self.external_ids.keys()) {
            sts::check_rule(rule).map_err(|e| Error::usage(format!("assume-role rule {e}")))?;
        }
        if let Some(organization) = &self.organization {
            organization
                .check()
                .map_err(|e| Error::usage(format!("organization: {e}")))?;
        }
        Ok(())
    }

    /// The trust rules of the configuration and of the organisation file.
    fn trust(&self) -> Trust {
        let mut trust = Trust {
            deny: self.deny_assume_role.clone(),
            external_ids: self.external_ids.clone(),
        };
        if let Some(organization) = &self.organization {
            trust
                .deny
                .extend(organization.deny_assume_role.iter().cloned());
            for (rule, id) in &organization.external_ids {
                trust
                    .external_ids
                    .entry(rule.clone())
                    .or_insert_with(|| id.clone());
            }
        }
        trust
    }

    fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections,
            max_hosts: self.max_hosts,
            max_tags: self.max_tags,
        }
    }

    fn faults(&self) -> FaultSettings {
        let faults = Faults {
            latency_ms: self.latency_ms,
            throttle_rps: self.throttle_rps,
            error_rate: self.error_rate,
            lost_response_rate: self.lost_response_rate,
        };
        match &self.fault_account_id {
            Some(account_id) => FaultSettings {
                all: Faults::default(),
                accounts: [(account_id.clone(), faults)].into(),
            },
            None => FaultSettings {
                all: faults,
                accounts: BTreeMap::new(),
            },
        }
    }
}

/// Run the emulator until Ctrl-C or SIGTERM, announcing its address as the
/// first line of stdout (`listening on http://HOST:PORT`) so a parent process
/// can wait for it and learn a port-0 address.
pub async fn serve(config: Config) -> Result<()> {
    let running = Emulator::start(config).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", running.url())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::Other(format!("cannot write to stdout: {e}")))?;
    drop(stdout);
    if running.config_has_faults {
        eprintln!("emulator: fault seed {}", running.seed);
    }
    shutdown_signal().await;
    running.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Starts emulators in-process.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Bind and start serving on the current tokio runtime. State is loaded
    /// from `config.state` before the first request is accepted.
    pub async fn start(config: Config) -> Result<RunningEmulator> {
        config.check()?;
        let lock = match &config.state {
            Some(path) => {
                let (path, holder, wait) =
                    (path.clone(), config.holder.clone(), config.wait_for_state);
                Some(
                    tokio::task::spawn_blocking(move || StateLock::acquire(&path, &holder, wait))
                        .await
                        .map_err(|e| Error::Other(format!("the state lock task failed: {e}")))??,
                )
            }
            None => None,
        };
        let mut store = match &config.state {
            Some(path) => Store::load(path)?,
            None => Store::empty(),
        };
        let account_id = match (&config.account_id, &store.account_id) {
            (Some(wanted), Some(recorded)) if wanted != recorded => {
                return Err(Error::WrongTarget(format!(
                    "{} holds account {recorded}, not {wanted}: give this account its own state \
                     file, or leave the account out to use {recorded}",
                    config
                        .state
                        .as_deref()
                        .unwrap_or(Path::new("the state"))
                        .display()
                )));
            }
            (Some(wanted), _) => wanted.clone(),
            (None, Some(recorded)) => recorded.clone(),
            (None, None) => DEFAULT_ACCOUNT_ID.to_string(),
        };
        // Recorded at once, so the account stays the same from the first
        // command on, even one that changes nothing.
        if store.settle(&account_id)
            && let Some(path) = &config.state
        {
            store.save(path)?;
        }
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| Error::Other(format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Other(format!("cannot read the listening address: {e}")))?;
        let seed = config
            .seed
            .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0);
        let config_has_faults = config.faults().any();
        let shared = Arc::new(Shared {
            faults: Mutex::new(FaultState::new(config.faults(), seed)),
            trust: Mutex::new(config.trust()),
            store: Mutex::new(store),
            calls: Mutex::new(BTreeMap::new()),
            actions: Mutex::new(BTreeMap::new()),
            account_id,
            config,
        });
        let router = Router::new().fallback(handle).with_state(shared);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                // A dropped sender means the handle was dropped: stop too.
                let _ = stopped.await;
            };
            // Errors here only come from accepting sockets after shutdown
            // began; there is no one left to report them to.
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        Ok(RunningEmulator {
            addr,
            seed,
            config_has_faults,
            stop: Some(stop),
            task: Some(task),
            _lock: lock,
        })
    }
}

/// A serving emulator. Dropping it stops the server too.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    seed: u64,
    config_has_faults: bool,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Held while serving, so no other process rewrites the state file.
    _lock: Option<StateLock>,
}

impl RunningEmulator {
    /// The bound address (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL for SDK clients, e.g. `http://127.0.0.1:4599`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting requests and wait (at most 5 seconds) for in-flight
    /// ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What every request handler shares.
struct Shared {
    config: Config,
    /// The default account (see [`Config::account_id`]).
    account_id: String,
    faults: Mutex<FaultState>,
    /// Which roles `AssumeRole` refuses: the configuration's rules, and
    /// those added while serving.
    trust: Mutex<Trust>,
    store: Mutex<Store>,
    /// API requests by operation name, failed ones included.
    calls: Mutex<BTreeMap<String, u64>>,
    /// The same calls by the IAM action each needs (`codeconnections:TagResource`,
    /// `sts:GetCallerIdentity`).
    actions: Mutex<BTreeMap<String, u64>>,
}

/// A lock that survives a panicked holder: the data is still consistent
/// because every change is built before it is stored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn count(&self, call: &Call) {
        *lock(&self.calls)
            .entry(call.operation().to_owned())
            .or_default() += 1;
        *lock(&self.actions).entry(call.action()).or_default() += 1;
    }

    fn persist(&self, store: &Store) -> std::result::Result<(), ApiError> {
        match &self.config.state {
            Some(path) => store
                .save(path)
                .map_err(|e| ApiError::internal(format!("cannot persist emulator state: {e}"))),
            None => Ok(()),
        }
    }
}

/// The one handler: admin routes, then AWS requests.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let mut response = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => route(&shared, &parts, &body, &request_id).await,
        Err(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SerializationException",
            format!("The request body could not be read or exceeds {MAX_BODY_BYTES} bytes"),
        )
        .into_json_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

async fn route(shared: &Shared, parts: &Parts, body: &[u8], request_id: &str) -> Response {
    let path = parts.uri.path();
    if let Some(admin_path) = path.strip_prefix(ADMIN_PREFIX) {
        return admin(shared, &parts.method, admin_path, body)
            .unwrap_or_else(ApiError::into_json_response);
    }
    let call = match Call::identify(parts, body) {
        Ok(call) => call,
        Err((wire, error)) => return refuse(wire, error),
    };
    let account_id = identity::claimed_account(parts, &lock(&shared.store), &shared.account_id);
    let latency = lock(&shared.faults).latency(&account_id);
    if !latency.is_zero() {
        delay::sleep(latency).await;
    }
    shared.count(&call);
    match api(shared, parts, body, request_id, &call) {
        Ok(response) => response,
        Err(error) => call.error(error, request_id),
    }
}

/// An API request: an operation of one of the service's two APIs (and the
/// wire it came on), an awsQuery (STS) action, or an AWS Organizations
/// operation (AWS JSON 1.1).
enum Call {
    Service {
        api: Api,
        wire: Wire,
        operation: String,
    },
    Query(String),
    Organizations(String),
}

/// The service shape names the two APIs' requests name: the JSON target
/// prefix's last part, and the CBOR path's service.
const CODESTAR_SERVICE: &str = "CodeStar_connections_20191201";
const CODECONNECTIONS_SERVICE: &str = "CodeConnections_20231201";
/// AWS Organizations' target prefix.
const ORGANIZATIONS_SERVICE: &str = "AWSOrganizationsV20161128";
/// The signing name Organizations' requests are scoped to.
const ORGANIZATIONS_SIGNING_NAME: &str = "organizations";

impl Call {
    /// Which operation of which API, on which wire; or the answer that
    /// says why the request names none.
    fn identify(parts: &Parts, body: &[u8]) -> std::result::Result<Call, (Wire, ApiError)> {
        let path = parts.uri.path();
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok());
        if let Some(rest) = path.strip_prefix("/service/") {
            // RPC v2 CBOR: /service/<Service>/operation/<Operation>; the
            // service may be named with its namespace.
            let Some((service, operation)) = rest.split_once("/operation/") else {
                return Err((
                    Wire::Cbor,
                    unknown(StatusCode::NOT_FOUND, format!("{path} names no operation")),
                ));
            };
            let service = service.rsplit('.').next().unwrap_or(service);
            if parts.method != Method::POST {
                return Err((
                    Wire::Cbor,
                    unknown(
                        StatusCode::NOT_FOUND,
                        format!("{} {path}: send POST", parts.method),
                    ),
                ));
            }
            if service != CODECONNECTIONS_SERVICE {
                return Err((
                    Wire::Cbor,
                    unknown(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "{service} does not speak RPC v2 CBOR here: only {CODECONNECTIONS_SERVICE} does"
                        ),
                    ),
                ));
            }
            if target.is_some() {
                return Err((
                    Wire::Cbor,
                    unknown(
                        StatusCode::BAD_REQUEST,
                        "an RPC v2 CBOR request must not send X-Amz-Target".to_owned(),
                    ),
                ));
            }
            return Ok(Call::Service {
                api: Api::Codeconnections,
                wire: Wire::Cbor,
                operation: operation.to_owned(),
            });
        }
        if parts.method != Method::POST || path != "/" {
            return Err((
                Wire::Json,
                unknown(
                    StatusCode::NOT_FOUND,
                    format!(
                        "{} {path} is not an endpoint of this service: send POST / (AWS JSON 1.0) or POST /service/{CODECONNECTIONS_SERVICE}/operation/<Operation> (RPC v2 CBOR)",
                        parts.method
                    ),
                ),
            ));
        }
        if let Some(target) = target {
            // The Rust SDK sends `CodeStar_connections_20191201.Op`, boto3
            // and the CLI the full target prefix
            // (`com.amazonaws.codeconnections.CodeConnections_20231201.Op`):
            // the operation follows the last dot, the service precedes it.
            let (prefix, operation) = target.rsplit_once('.').unwrap_or(("", target));
            let api = match prefix.rsplit('.').next().unwrap_or(prefix) {
                CODESTAR_SERVICE => Api::CodestarConnections,
                CODECONNECTIONS_SERVICE => Api::Codeconnections,
                ORGANIZATIONS_SERVICE => return Ok(Call::Organizations(operation.to_owned())),
                other => {
                    return Err((
                        Wire::Json,
                        unknown(
                            StatusCode::BAD_REQUEST,
                            format!(
                                "X-Amz-Target {target:?} names service {other:?}; this endpoint serves {CODESTAR_SERVICE}, {CODECONNECTIONS_SERVICE} and {ORGANIZATIONS_SERVICE}"
                            ),
                        ),
                    ));
                }
            };
            return Ok(Call::Service {
                api,
                wire: Wire::Json,
                operation: operation.to_owned(),
            });
        }
        match sts::action(body) {
            Some(action) => Ok(Call::Query(action)),
            None => Err((
                Wire::Json,
                unknown(
                    StatusCode::BAD_REQUEST,
                    "The request names no operation: send X-Amz-Target".to_owned(),
                ),
            )),
        }
    }

    fn operation(&self) -> &str {
        match self {
            Call::Service { operation, .. }
            | Call::Query(operation)
            | Call::Organizations(operation) => operation,
        }
    }

    /// The IAM action AWS would authorize this call as.
    fn action(&self) -> String {
        match self {
            Call::Service { api, operation, .. } => format!("{api}:{operation}"),
            Call::Query(operation) => format!("sts:{operation}"),
            Call::Organizations(operation) => format!("organizations:{operation}"),
        }
    }

    /// How the call's protocol names an unknown key.
    fn dialect(&self) -> Dialect {
        match self {
            Call::Query(_) => Dialect::Query,
            Call::Service { .. } | Call::Organizations(_) => Dialect::Json,
        }
    }

    /// A throttled request, as the call's service says it.
    fn throttled(&self) -> ApiError {
        let code = match self {
            Call::Organizations(_) => "TooManyRequestsException",
            Call::Service { .. } | Call::Query(_) => "ThrottlingException",
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, "Rate exceeded")
    }

    /// An internal failure, as the call's service says it.
    fn internal(&self, message: &str) -> ApiError {
        match self {
            Call::Organizations(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                message,
            ),
            Call::Service { .. } | Call::Query(_) => ApiError::internal(message),
        }
    }

    /// `error` as this call's client reads it.
    fn error(&self, error: ApiError, request_id: &str) -> Response {
        match self {
            Call::Service {
                wire: Wire::Json, ..
            } => error.into_json_response(),
            Call::Service {
                wire: Wire::Cbor, ..
            } => error.into_cbor_response(CBOR_NAMESPACE),
            Call::Query(_) => error.into_query_response(request_id),
            Call::Organizations(_) => error.into_json11_response(),
        }
    }
}

/// The namespace of CodeConnections' shapes, as `__type` names them.
const CBOR_NAMESPACE: &str = "com.amazonaws.codeconnections";

fn unknown(status: StatusCode, message: String) -> ApiError {
    ApiError::new(status, "UnknownOperationException", message)
}

/// `error` in `wire`'s format, for a request that names no operation.
fn refuse(wire: Wire, error: ApiError) -> Response {
    match wire {
        Wire::Json => error.into_json_response(),
        Wire::Cbor => error.into_cbor_response(CBOR_NAMESPACE),
    }
}

/// Authenticate, inject faults, run, persist: in that order, so a fault
/// before the run never changes state and a lost response always does.
fn api(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
    request_id: &str,
    call: &Call,
) -> std::result::Result<Response, ApiError> {
    let auth = sigv4::authorization(parts)?;
    let now = now();
    let principal = identity::authenticate(
        Signed {
            auth: &auth,
            parts,
            body,
        },
        &lock(&shared.store),
        shared.config.credentials.as_ref(),
        &shared.account_id,
        now,
        call.dialect(),
    )?;
    let (api, wire, operation) = match call {
        Call::Query(action) => return query(shared, call, action, body, &principal, request_id),
        Call::Organizations(operation) => {
            check_signing_name(&auth, ORGANIZATIONS_SIGNING_NAME)?;
            check_faults(shared, call, &principal.account_id)?;
            let input = parse_body(body)?;
            let output = organizations::run(
                shared.config.organization.as_ref(),
                &principal.account_id,
                operation,
                &input,
            )?;
            return Ok(json11_ok(&output));
        }
        Call::Service {
            api,
            wire,
            operation,
        } => (*api, *wire, operation),
    };
    // As AWS: a request signed for the other name of the service is refused.
    check_signing_name(&auth, api.as_str())?;
    check_faults(shared, call, &principal.account_id)?;
    if !model::has_operation(api, operation) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("Operation {operation} is not supported by this service"),
        ));
    }
    let input = match wire {
        Wire::Json => parse_body(body)?,
        Wire::Cbor => cbor_input(body)?,
    };
    let caller = Caller {
        api,
        region: &auth.region,
        account_id: &principal.account_id,
        now,
    };
    let outcome = {
        let mut store = lock(&shared.store);
        let outcome =
            operations::run(caller, shared.config.limits(), &mut store, operation, input)?;
        if outcome.changed {
            shared.persist(&store)?;
        }
        outcome
    };
    if outcome.changed && lock(&shared.faults).lost_response(&principal.account_id) {
        return Err(call
            .internal("Emulated lost response (--lost-response-rate); the change WAS committed"));
    }
    Ok(match wire {
        Wire::Json => json_ok(&outcome.output),
        Wire::Cbor => cbor_ok(&outcome.output, &model::timestamp_members(api, operation)),
    })
}

/// An STS action: faults, then the action; an `AssumeRole` is persisted
/// (and may lose its response) like any other change.
fn query(
    shared: &Shared,
    call: &Call,
    action: &str,
    body: &[u8],
    principal: &Principal,
    request_id: &str,
) -> std::result::Result<Response, ApiError> {
    check_faults(shared, call, &principal.account_id)?;
    let trust = lock(&shared.trust).clone();
    let (response, changed) = {
        let mut store = lock(&shared.store);
        let answer = sts::answer(
            action,
            &sts::params(body),
            principal,
            &trust,
            &mut store,
            now(),
            request_id,
        )?;
        if answer.1 {
            shared.persist(&store)?;
        }
        answer
    };
    if changed && lock(&shared.faults).lost_response(&principal.account_id) {
        return Err(call
            .internal("Emulated lost response (--lost-response-rate); the change WAS committed"));
    }
    Ok(response)
}

/// A request signed for another service than the one it calls is refused,
/// as AWS refuses it.
fn check_signing_name(
    auth: &sigv4::Authorization,
    expected: &str,
) -> std::result::Result<(), ApiError> {
    if auth.service == expected {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{expected}'. "),
        ))
    }
}

/// The time now, as the service's timestamps record it.
fn now() -> state::EpochMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            state::EpochMillis::try_from(since.as_millis()).unwrap_or(state::EpochMillis::MAX)
        })
}

/// Throttling and injected failures of the account, before anything runs.
fn check_faults(
    shared: &Shared,
    call: &Call,
    account_id: &str,
) -> std::result::Result<(), ApiError> {
    let mut faults = lock(&shared.faults);
    if faults.throttled(account_id, Instant::now()) {
        return Err(call.throttled());
    }
    if faults.error(account_id) {
        return Err(call.internal("Emulated internal failure (--error-rate); nothing was changed"));
    }
    Ok(())
}

/// An empty body is `{}` (some clients send nothing for no input); anything
/// but a JSON object cannot be an input structure.
fn parse_body(body: &[u8]) -> std::result::Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(serialization("the request body must be a JSON object")),
        Err(e) => Err(serialization(&format!("the request body is not JSON: {e}"))),
    }
}

fn serialization(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "SerializationException", message)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusRequest {
    arn: String,
    status: String,
    message: Option<String>,
}

/// The body of `POST /_emulator/deny-assume-role`: one of the two.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DenyRequest {
    role_arn: Option<String>,
    account_id: Option<String>,
}

/// The admin routes: test controls outside the AWS API, exempt from faults
/// and from authentication.
fn admin(
    shared: &Shared,
    method: &Method,
    path: &str,
    body: &[u8],
) -> std::result::Result<Response, ApiError> {
    match (method.as_str(), path) {
        ("GET", "calls") => Ok(json_ok(&json!(*lock(&shared.calls)))),
        ("GET", "actions") => Ok(json_ok(&json!(*lock(&shared.actions)))),
        ("POST", "status") => {
            let request: StatusRequest = serde_json::from_slice(body).map_err(|e| {
                ApiError::validation(format!(
                    "expected {{\"arn\": ..., \"status\": ..., \"message\": optional}}: {e}"
                ))
            })?;
            let mut store = lock(&shared.store);
            let answer =
                operations::set_status(&mut store, &request.arn, &request.status, request.message)?;
            shared.persist(&store)?;
            Ok(json_ok(&answer))
        }
        ("POST", "sync-event") => {
            let request: operations::SyncEventRequest = serde_json::from_slice(body).map_err(|e| {
                ApiError::validation(format!(
                    "expected {{\"resource_name\": ..., \"status\": \"{}\", \"sync_type\", \"message\", \"sha\", \"region\": optional}} (sync_type defaults to {}): {e}",
                    operations::SYNC_STATUSES.join("|"),
                    operations::CFN_STACK_SYNC
                ))
            })?;
            let mut store = lock(&shared.store);
            let answer = operations::record_sync(&mut store, request, now())?;
            shared.persist(&store)?;
            Ok(json_ok(&answer))
        }
        ("POST", "sync-blocker") => {
            let request: operations::SyncBlockerRequest =
                serde_json::from_slice(body).map_err(|e| {
                    ApiError::validation(format!(
                        "expected {{\"resource_name\": ..., \"reason\": ..., \"sync_type\", \"contexts\": {{key: value}}, \"region\": optional}} (sync_type defaults to {}): {e}",
                        operations::CFN_STACK_SYNC
                    ))
                })?;
            let mut store = lock(&shared.store);
            let answer = operations::open_blocker(&mut store, request, now())?;
            shared.persist(&store)?;
            Ok(json_ok(&answer))
        }
        ("POST", "reset") => {
            let mut store = lock(&shared.store);
            store.reset();
            shared.persist(&store)?;
            lock(&shared.calls).clear();
            lock(&shared.actions).clear();
            lock(&shared.faults).reset();
            *lock(&shared.trust) = shared.config.trust();
            Ok(json_ok(&json!({})))
        }
        ("GET", "faults") => Ok(json_ok(&lock(&shared.faults).answer())),
        ("POST", "faults") => {
            let request: FaultsRequest = serde_json::from_slice(body).map_err(|e| {
                ApiError::validation(format!(
                    "expected {{\"account_id\", \"latency_ms\", \"throttle_rps\", \"error_rate\", \"lost_response_rate\"}} (each optional, left out = off; no account_id = every account): {e}"
                ))
            })?;
            let mut faults = lock(&shared.faults);
            faults.replace(request).map_err(ApiError::validation)?;
            Ok(json_ok(&faults.answer()))
        }
        ("POST", "deny-assume-role") => {
            let request: DenyRequest = serde_json::from_slice(body).map_err(|e| {
                ApiError::validation(format!(
                    "expected {{\"role_arn\": ...}} or {{\"account_id\": ...}}: {e}"
                ))
            })?;
            let rule = match (request.role_arn, request.account_id) {
                (Some(role_arn), None) if role_arn.starts_with("arn:") => role_arn,
                (None, Some(account_id)) => {
                    parse_account_id(&account_id).map_err(ApiError::validation)?
                }
                _ => {
                    return Err(ApiError::validation(
                        "expected exactly one of \"role_arn\" (a role ARN, `*` allowed) and \"account_id\"",
                    ));
                }
            };
            sts::check_rule(&rule).map_err(ApiError::validation)?;
            let mut trust = lock(&shared.trust);
            if !trust.deny.contains(&rule) {
                trust.deny.push(rule);
            }
            Ok(json_ok(&json!({ "deny_assume_role": trust.deny })))
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            format!(
                "No admin route {method} {ADMIN_PREFIX}{path}; there are GET calls, GET actions, POST status, POST sync-event, POST sync-blocker, POST reset, GET/POST faults, POST deny-assume-role"
            ),
        )),
    }
}
