//! The test harness: an emulator per test, and the clients that talk to it.
//!
//! [`Sandbox`] runs the emulator on its own thread with its own tokio
//! runtime, so a test may be sync or async (on any runtime) and the server
//! keeps serving while the test blocks. Clients are the real AWS SDK clients
//! pointed at it with static credentials.

#![allow(dead_code)] // Each test module uses a different part of the harness.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_sdk_codestarconnections as codestar;
use aws_sdk_codestarconnections::config::{BehaviorVersion, Credentials, Region};
use codestar_reconcile::emulator::{Config, Emulator};

/// The access key every sandbox client signs with.
pub(crate) const ACCESS_KEY_ID: &str = "AKIDSANDBOX";
/// The secret every sandbox client signs with.
pub(crate) const SECRET_ACCESS_KEY: &str = "sandbox-secret";
/// The account the emulator puts everything in by default.
pub(crate) const ACCOUNT_ID: &str = "123456789012";

/// The role name [`Sandbox::assume`] assumes in every account.
pub(crate) const ROLE_NAME: &str = "reconcile";

/// `arn:aws:iam::<account_id>:role/<ROLE_NAME>`.
pub(crate) fn role_arn(account_id: &str) -> String {
    format!("arn:aws:iam::{account_id}:role/{ROLE_NAME}")
}

/// Keys to sign with: the sandbox's, or temporary ones STS issued.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl Keys {
    /// The keys every sandbox client signs with (the default account).
    pub(crate) fn sandbox() -> Keys {
        Keys {
            access_key_id: ACCESS_KEY_ID.to_owned(),
            secret_access_key: SECRET_ACCESS_KEY.to_owned(),
            session_token: None,
        }
    }

    /// The keys as SDK credentials (one type for every SDK crate).
    pub(crate) fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "test keys",
        )
    }
}

/// An emulator serving on `127.0.0.1:<free port>` until dropped.
pub(crate) struct Sandbox {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// An emulator with the default configuration.
    pub(crate) fn start() -> Sandbox {
        Sandbox::with_config(Config::default())
    }

    /// An emulator with `config`, always on a free loopback port.
    pub(crate) fn with_config(config: Config) -> Sandbox {
        Sandbox::listening(config, "127.0.0.1:0")
    }

    /// An emulator with `config` on `listen` (`127.0.0.1:PORT`): a second
    /// emulator where a first one was, to be the same endpoint.
    pub(crate) fn listening(mut config: Config, listen: &str) -> Sandbox {
        config.listen = listen.to_string();
        let (ready, started) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("emulator".to_string())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("emulator runtime");
                runtime.block_on(async move {
                    match Emulator::start(config).await {
                        Ok(running) => {
                            let _ = ready.send(Ok(running.addr()));
                            let _ = stopped.await;
                            running.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e.to_string()));
                        }
                    }
                });
            })
            .expect("spawn the emulator thread");
        let addr = match started.recv() {
            Ok(Ok(addr)) => addr,
            Ok(Err(e)) => panic!("the emulator did not start: {e}"),
            Err(_) => panic!("the emulator thread died while starting"),
        };
        Sandbox {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A config builder for a CodeStar Connections client of this sandbox in
    /// `region`, for tests that change retries or credentials.
    pub(crate) fn config(&self, region: &str) -> codestar::config::Builder {
        codestar::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new(
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
                None,
                None,
                "sandbox",
            ))
            .endpoint_url(self.url())
    }

    /// A CodeStar Connections client of this sandbox in `region`.
    pub(crate) async fn client(&self, region: &str) -> codestar::Client {
        codestar::Client::from_conf(self.config(region).build())
    }

    /// A CodeConnections client of this sandbox in `region` (RPC v2 CBOR,
    /// signing name `codeconnections`).
    pub(crate) async fn codeconnections_client(
        &self,
        region: &str,
    ) -> aws_sdk_codeconnections::Client {
        use aws_sdk_codeconnections::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_codeconnections::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new(
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
                None,
                None,
                "sandbox",
            ))
            .endpoint_url(self.url())
            .build();
        aws_sdk_codeconnections::Client::from_conf(config)
    }

    /// The same client with retries off, to observe faults as they happen.
    pub(crate) async fn client_without_retries(&self, region: &str) -> codestar::Client {
        codestar::Client::from_conf(
            self.config(region)
                .retry_config(codestar::config::retry::RetryConfig::disabled())
                .build(),
        )
    }

    /// An STS client of this sandbox in `region`.
    pub(crate) async fn sts_client(&self, region: &str) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(region.to_string()))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
                None,
                None,
                "sandbox",
            ))
            .endpoint_url(self.url())
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    /// Temporary keys of `arn:aws:iam::<account_id>:role/<ROLE_NAME>`,
    /// assumed with the sandbox keys through `aws-sdk-sts`.
    pub(crate) async fn assume(&self, account_id: &str) -> Keys {
        let assumed = self
            .sts_client("us-east-1")
            .await
            .assume_role()
            .role_arn(role_arn(account_id))
            .role_session_name("test")
            .send()
            .await
            .unwrap_or_else(|e| panic!("assume a role in {account_id}: {e:?}"));
        let credentials = assumed.credentials().expect("credentials");
        Keys {
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: credentials.secret_access_key().to_owned(),
            session_token: Some(credentials.session_token().to_owned()),
        }
    }

    /// A CodeStar Connections client acting in `account_id`: it assumes a
    /// role there and signs with the temporary keys.
    pub(crate) async fn client_in(&self, account_id: &str, region: &str) -> codestar::Client {
        let keys = self.assume(account_id).await;
        self.client_with(&keys, region)
    }

    /// A CodeStar Connections client signing with `keys`, without retries
    /// (so a refused or injected failure shows as it was answered).
    pub(crate) fn client_with(&self, keys: &Keys, region: &str) -> codestar::Client {
        codestar::Client::from_conf(
            self.config(region)
                .credentials_provider(keys.credentials())
                .retry_config(codestar::config::retry::RetryConfig::disabled())
                .build(),
        )
    }

    /// A CodeConnections client (RPC v2 CBOR) signing with `keys`.
    pub(crate) fn codeconnections_client_with(
        &self,
        keys: &Keys,
        region: &str,
    ) -> aws_sdk_codeconnections::Client {
        use aws_sdk_codeconnections::config::{BehaviorVersion, Region};
        let config = aws_sdk_codeconnections::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(keys.credentials())
            .endpoint_url(self.url())
            .build();
        aws_sdk_codeconnections::Client::from_conf(config)
    }

    /// An STS client signing with `keys`, without retries.
    pub(crate) fn sts_client_with(&self, keys: &Keys, region: &str) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(region.to_string()))
            .credentials_provider(keys.credentials())
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .endpoint_url(self.url())
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    /// An AWS Organizations client signing with the sandbox keys (the
    /// default account).
    pub(crate) fn organizations_client(&self) -> aws_sdk_organizations::Client {
        self.organizations_client_with(&Keys::sandbox())
    }

    /// An AWS Organizations client signing with `keys`, without retries.
    pub(crate) fn organizations_client_with(&self, keys: &Keys) -> aws_sdk_organizations::Client {
        use aws_sdk_organizations::config::{BehaviorVersion, Region};
        let config = aws_sdk_organizations::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(keys.credentials())
            .retry_config(aws_sdk_organizations::config::retry::RetryConfig::disabled())
            .endpoint_url(self.url())
            .build();
        aws_sdk_organizations::Client::from_conf(config)
    }

    /// Shared AWS configuration for this sandbox (the sandbox keys, the
    /// endpoint, `region`), as aws-config's providers take it.
    pub(crate) async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .credentials_provider(Keys::sandbox().credentials())
            .endpoint_url(self.url())
            .load()
            .await
    }

    /// API requests so far, by operation (`GET /_emulator/calls`).
    pub(crate) fn calls(&self) -> BTreeMap<String, u64> {
        let response = self.http("GET", "/_emulator/calls", &[], "");
        assert_eq!(response.status, 200, "calls: {}", response.body);
        serde_json::from_str(&response.body).expect("calls is a JSON object of counts")
    }

    /// API requests so far, by the IAM action each needs
    /// (`codeconnections:TagResource`; `GET /_emulator/actions`).
    pub(crate) fn actions(&self) -> BTreeMap<String, u64> {
        let response = self.http("GET", "/_emulator/actions", &[], "");
        assert_eq!(response.status, 200, "actions: {}", response.body);
        serde_json::from_str(&response.body).expect("actions is a JSON object of counts")
    }

    /// Calls that change the account (creates, deletes, updates, tagging),
    /// failed ones included, by the emulator's counters.
    pub(crate) fn mutating_calls(&self) -> u64 {
        self.calls()
            .iter()
            .filter(|(op, _)| {
                ["Create", "Delete", "Update", "TagResource", "UntagResource"]
                    .iter()
                    .any(|p| op.starts_with(p))
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// Set a connection's or host's status, as the console handshake would.
    pub(crate) fn set_status(&self, arn: &str, status: &str, message: Option<&str>) {
        let body = serde_json::json!({ "arn": arn, "status": status, "message": message });
        let response = self.http("POST", "/_emulator/status", &[], &body.to_string());
        assert_eq!(
            response.status, 200,
            "set {arn} to {status}: {}",
            response.body
        );
    }

    /// Replace the fault settings while serving (`POST /_emulator/faults`;
    /// fields left out are off) and answer the settings and injected counts.
    pub(crate) fn set_faults(&self, faults: serde_json::Value) -> serde_json::Value {
        let response = self.http("POST", "/_emulator/faults", &[], &faults.to_string());
        assert_eq!(response.status, 200, "faults: {}", response.body);
        response.json()
    }

    /// Forget every resource and counter (`POST /_emulator/reset`).
    pub(crate) fn reset(&self) {
        let response = self.http("POST", "/_emulator/reset", &[], "");
        assert_eq!(response.status, 200, "reset: {}", response.body);
    }

    /// One raw HTTP/1.1 request, for what SDKs never send. A tiny blocking
    /// client keeps heavy HTTP crates out of the dependency graph.
    pub(crate) fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Raw {
        http_to(self.addr, method, path, headers, body)
    }

    /// `POST /_emulator/<route>` with `body` (a sync event, a blocker, a
    /// status); the answer must be a 200.
    pub(crate) fn admin(&self, route: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self.http(
            "POST",
            &format!("/_emulator/{route}"),
            &[],
            &body.to_string(),
        );
        assert_eq!(response.status, 200, "{route}: {}", response.body);
        response.json()
    }

    /// A raw AWS JSON 1.0 call of `target` with a well-formed (unverified)
    /// SigV4 header for `region`.
    pub(crate) fn raw_call(&self, region: &str, target: &str, body: &str) -> Raw {
        raw_call_to(self.addr, region, target, body)
    }
}

/// [`Sandbox::raw_call`] from anywhere that knows the address (a proxy's
/// thread, say).
pub(crate) fn raw_call_to(addr: SocketAddr, region: &str, target: &str, body: &str) -> Raw {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20240101/{region}/codestar-connections/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
    );
    http_to(
        addr,
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", target),
            ("X-Amz-Date", "20240101T000000Z"),
            ("Authorization", &authorization),
        ],
        body,
    )
}

/// [`Sandbox::http`] from anywhere that knows the address.
pub(crate) fn http_to(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Raw {
    let mut stream = TcpStream::connect(addr).expect("connect to the emulator");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        addr,
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read the response");
    Raw::parse(&String::from_utf8_lossy(&response))
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A raw HTTP response.
#[derive(Debug)]
pub(crate) struct Raw {
    pub status: u16,
    /// Header names lowercased.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Raw {
    fn parse(text: &str) -> Raw {
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|code| code.parse().ok())
            .expect("an HTTP status line");
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        Raw {
            status,
            headers,
            body: body.to_string(),
        }
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// The error code of a failed SDK call (`ResourceNotFoundException`, ...).
pub(crate) fn code<E, R>(error: &codestar::error::SdkError<E, R>) -> String
where
    E: codestar::error::ProvideErrorMetadata,
{
    use codestar::error::ProvideErrorMetadata;
    error.code().unwrap_or("<no code>").to_string()
}

/// The error message of a failed SDK call.
pub(crate) fn message<E, R>(error: &codestar::error::SdkError<E, R>) -> String
where
    E: codestar::error::ProvideErrorMetadata,
{
    use codestar::error::ProvideErrorMetadata;
    error.message().unwrap_or_default().to_string()
}
