//! One API call, paced and retried as its kind allows: every read of
//! [`crate::live`], every mutating call of `apply`, and the caller-identity
//! check.
//!
//! Throttling is always retried (the call was rejected, nothing happened).
//! A request that never reached the service (connection refused, a name
//! that does not resolve, a failed TLS handshake) changed nothing either,
//! and is retried briefly. Anything else that goes wrong after the request
//! left (a 5xx, no answer in time, a connection closed before the answer
//! came) is ambiguous: the service may have made the change. Idempotent
//! calls (reads, tag, untag, update, delete) are retried; creates are handed
//! back to the caller, which looks for the resource before creating again.
//!
//! Each call has one deadline, `--timeout`, for all its attempts, and every
//! failure is one line naming the endpoint, the cause, the attempts and the
//! time spent.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_codestarconnections::error::{ProvideErrorMetadata, SdkError};
use tokio::time::Instant;

use crate::interrupt;

mod pace;

pub use pace::Pace;

/// Answers received from any endpoint so far (every attempt that got one),
/// for the progress a terminal shows.
static ANSWERED: AtomicU64 = AtomicU64::new(0);

/// How many answers calls have received so far, in this process.
pub fn answered() -> u64 {
    ANSWERED.load(Ordering::Relaxed)
}

/// How long a command waits on one call, all attempts included, unless
/// `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call did not go through, sorted by what may be done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A service quota; retrying cannot help.
    Quota(String),
    /// The resource does not exist (any more).
    NotFound(String),
    /// The request reached the service (or may have), and the service may
    /// or may not have made the change.
    Ambiguous(String),
    /// The request never reached the service: nothing happened.
    Unreachable(String),
    /// Refused for a reason a retry will not change.
    Rejected {
        code: Option<String>,
        message: String,
    },
    /// Not sent, because the command was interrupted. `after` is the
    /// ambiguous failure of an earlier attempt, if there was one: that
    /// attempt may have gone through.
    Interrupted { after: Option<String> },
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Failure::Quota(m)
            | Failure::NotFound(m)
            | Failure::Ambiguous(m)
            | Failure::Unreachable(m) => m.clone(),
            Failure::Rejected { message, .. } => message.clone(),
            Failure::Interrupted { after: None } => "interrupted before it was sent".to_owned(),
            Failure::Interrupted { after: Some(why) } => format!(
                "interrupted before a retry; the earlier attempt may have gone through ({why})"
            ),
        }
    }
}

/// Where one target's calls go, and the rules they follow: one pace (so a
/// throttled account slows every phase down, not just one), the endpoint
/// (for messages), and the deadline of each call.
#[derive(Debug)]
pub struct Channel {
    pace: Pace,
    endpoint: String,
    timeout: Duration,
}

/// What one attempt's failure means for the next attempt.
enum Class {
    Throttled,
    /// Never left: retry briefly, then give up.
    NeverSent(String),
    /// May have been acted on.
    Ambiguous(String),
    Final(Failure),
}

/// Attempts of a request that never reached the service, and the pause
/// before each retry: a refused port fails within about two seconds.
const UNREACHABLE_ATTEMPTS: u32 = 3;
const UNREACHABLE_PAUSE: Duration = Duration::from_millis(500);
/// Attempts of an idempotent call whose outcome was ambiguous.
const AMBIGUOUS_ATTEMPTS: u32 = 6;
/// Throttling is expected and retried for as long as this many attempts.
const THROTTLE_RETRIES: u32 = 400;
/// The share of the deadline one attempt may use, so a stalled connection
/// is abandoned and retried instead of eating the whole budget.
const ATTEMPTS_PER_DEADLINE: u32 = 3;

impl Channel {
    pub fn new(endpoint: impl Into<String>, timeout: Duration) -> Channel {
        Channel {
            pace: Pace::default(),
            endpoint: endpoint.into(),
            timeout,
        }
    }

    /// The endpoint the calls go to, as messages name it.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Run `call` paced: retry throttling, requests that never left, and
    /// ambiguous failures too when `idempotent`; within the deadline, and
    /// never once the command is interrupted.
    pub async fn call<T, E, F, Fut>(&self, idempotent: bool, mut call: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let attempt_limit = (self.timeout / ATTEMPTS_PER_DEADLINE).max(Duration::from_secs(1));
        let mut attempts = 0u32;
        let mut throttled = 0u32;
        let mut never_sent = 0u32;
        let mut ambiguous: Option<String> = None;
        loop {
            if interrupt::requested().is_some() {
                return Err(Failure::Interrupted { after: ambiguous });
            }
            let sent_at = tokio::select! {
                at = self.pace.turn() => at,
                _ = interrupt::wait() => return Err(Failure::Interrupted { after: ambiguous }),
            };
            attempts += 1;
            let limit = attempt_limit.min(deadline.saturating_duration_since(Instant::now()));
            let answer = tokio::time::timeout(limit, call()).await;
            if answer.is_ok() {
                ANSWERED.fetch_add(1, Ordering::Relaxed);
            }
            let class = match answer {
                Ok(Ok(value)) => {
                    self.pace.succeeded().await;
                    return Ok(value);
                }
                Ok(Err(err)) => classify(&err),
                Err(_) => Class::Ambiguous("no answer".to_owned()),
            };
            // Another attempt after `pause` only if it gets a fair share of
            // the deadline: a last attempt cut to nothing says nothing.
            let room = |pause: Duration| {
                deadline.saturating_duration_since(Instant::now() + pause) >= attempt_limit / 2
            };
            let spent = || self.spent(attempts, started);
            match class {
                Class::Throttled if throttled < THROTTLE_RETRIES => {
                    throttled += 1;
                    self.pace.throttled(sent_at).await;
                }
                Class::Throttled => {
                    return Err(Failure::Ambiguous(format!(
                        "{} kept throttling ({}); the account's rate limit is shared with \
                         something else calling it, try again later",
                        self.endpoint,
                        spent()
                    )));
                }
                Class::NeverSent(cause) => {
                    never_sent += 1;
                    if never_sent >= UNREACHABLE_ATTEMPTS || !room(UNREACHABLE_PAUSE) {
                        let failure = format!(
                            "cannot reach {}: {cause} ({}); check --endpoint-url, \
                             AWS_ENDPOINT_URL and the network",
                            self.endpoint,
                            spent()
                        );
                        // An earlier attempt may have got through before
                        // the endpoint went away.
                        return Err(match ambiguous {
                            Some(_) => Failure::Ambiguous(failure),
                            None => Failure::Unreachable(failure),
                        });
                    }
                    self.pause(UNREACHABLE_PAUSE, &ambiguous).await?;
                }
                Class::Ambiguous(cause) => {
                    let failure = format!("{}: {cause} ({})", self.endpoint, spent());
                    if !idempotent {
                        return Err(Failure::Ambiguous(failure));
                    }
                    let pause = backoff(attempts);
                    if attempts >= AMBIGUOUS_ATTEMPTS {
                        return Err(Failure::Ambiguous(failure));
                    }
                    if !room(pause) {
                        return Err(Failure::Ambiguous(format!(
                            "{failure}; gave up within --timeout {}: check the endpoint and \
                             the network, or raise --timeout",
                            seconds(self.timeout)
                        )));
                    }
                    ambiguous = Some(failure);
                    self.pause(pause, &ambiguous).await?;
                }
                Class::Final(failure) => return Err(failure),
            }
        }
    }

    /// Sleep before a retry, unless the command is interrupted meanwhile.
    async fn pause(&self, pause: Duration, ambiguous: &Option<String>) -> Result<(), Failure> {
        tokio::select! {
            () = tokio::time::sleep(pause) => Ok(()),
            _ = interrupt::wait() => Err(Failure::Interrupted { after: ambiguous.clone() }),
        }
    }

    fn spent(&self, attempts: u32, started: Instant) -> String {
        let tries = if attempts == 1 { "attempt" } else { "attempts" };
        format!("{attempts} {tries} in {}", seconds(started.elapsed()))
    }
}

/// A duration as messages show it: `30 s`, `2.1 s`, `0.02 s`.
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{s:.2} s")
    } else if (s - s.round()).abs() < 0.05 {
        format!("{} s", s.round())
    } else {
        format!("{s:.1} s")
    }
}

fn classify<E>(err: &SdkError<E>) -> Class
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    match err {
        SdkError::ServiceError(ctx) => {
            let response = ctx.raw();
            let status = response.status().as_u16();
            let described = match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => not_the_service(status, response.headers().get("content-type")),
            };
            match err.code() {
                Some(
                    "ThrottlingException"
                    | "Throttling"
                    | "TooManyRequestsException"
                    | "RequestLimitExceeded",
                ) => Class::Throttled,
                Some("LimitExceededException") => Class::Final(Failure::Quota(described)),
                Some("ResourceNotFoundException") => Class::Final(Failure::NotFound(described)),
                _ if status >= 500 => Class::Ambiguous(described),
                code => Class::Final(Failure::Rejected {
                    code: code.map(str::to_owned),
                    message: described,
                }),
            }
        }
        SdkError::DispatchFailure(failure) => {
            if let Some(message) = credentials_problem(err) {
                return Class::Final(Failure::Rejected {
                    code: None,
                    message,
                });
            }
            if failure.is_user() {
                // The request could not even be built: nothing left.
                return Class::Final(Failure::Rejected {
                    code: None,
                    message: cause(err),
                });
            }
            if never_left(err) {
                Class::NeverSent(cause(err))
            } else {
                Class::Ambiguous(cause(err))
            }
        }
        SdkError::TimeoutError(_) => Class::Ambiguous("no answer in time".to_owned()),
        SdkError::ResponseError(ctx) => {
            let response = ctx.raw();
            Class::Ambiguous(not_the_service(
                response.status().as_u16(),
                response.headers().get("content-type"),
            ))
        }
        // Construction failures: nothing was sent.
        _ => Class::Final(Failure::Rejected {
            code: None,
            message: cause(err),
        }),
    }
}

/// An answer the SDK could not read as the service's: a proxy's or load
/// balancer's error page, or an endpoint that is not this service.
fn not_the_service(status: u16, content_type: Option<&str>) -> String {
    let what = match content_type {
        Some(t) if t.contains("html") => "an HTML page".to_owned(),
        Some(t) if !t.is_empty() => format!("a {t} body"),
        _ => "a body".to_owned(),
    };
    format!(
        "answered HTTP {status} with {what}, not the service's JSON (a proxy or load balancer \
         in the way, or an endpoint that is not CodeStar Connections?)"
    )
}

/// Whether the connection was never made, so the request cannot have
/// reached the service: refused, unresolvable, TLS handshake failed, or no
/// connection within the connect timeout.
fn never_left(err: &(dyn StdError + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(hyper_util) = e.downcast_ref::<hyper_util::client::legacy::Error>()
            && hyper_util.is_connect()
        {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable
            )
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// The cause of a transport failure in a few words: the innermost error's
/// message (`Connection refused (os error 111)`), with a plain reading of
/// the common ones. Never the SDK's debug dump of the whole chain.
fn cause(err: &(dyn StdError + 'static)) -> String {
    let mut innermost = err.to_string();
    let mut incomplete = false;
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(hyper) = e.downcast_ref::<hyper::Error>()
            && hyper.is_incomplete_message()
        {
            incomplete = true;
        }
        let text = e.to_string();
        if !text.is_empty() {
            innermost = text;
        }
        source = e.source();
    }
    if incomplete {
        return "the connection closed after the request was sent, before the answer came"
            .to_owned();
    }
    let lower = innermost.to_ascii_lowercase();
    if lower.contains("connection refused") {
        "connection refused".to_owned()
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        format!("the host name does not resolve ({innermost})")
    } else if lower.contains("connection reset") {
        "the connection was reset".to_owned()
    } else if lower.contains("timed out") || lower.contains("timeout") {
        "no connection in time".to_owned()
    } else {
        innermost
    }
}

const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_PROFILE or pass --profile (after \
     `aws sso login` if the profile uses SSO), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; \
     in CI, configure the OIDC role (see examples/github-actions)";

/// What kept the SDK from signing the request, if credentials did: none
/// found anywhere, or a provider (SSO, web identity, a profile's role)
/// that failed. Nothing was sent either way.
fn credentials_problem(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut source = Some(err);
    while let Some(e) = source {
        match e.downcast_ref::<CredentialsError>() {
            Some(CredentialsError::CredentialsNotLoaded(_)) => {
                return Some(NO_CREDENTIALS.to_owned());
            }
            Some(other) => {
                return Some(format!(
                    "could not load AWS credentials ({}): set AWS_PROFILE or pass --profile \
                     (after `aws sso login` if the profile uses SSO), or set AWS_ACCESS_KEY_ID \
                     and AWS_SECRET_ACCESS_KEY; in CI, check the OIDC role (see \
                     examples/github-actions)",
                    cause(other).trim_end_matches('.')
                ));
            }
            None => source = e.source(),
        }
    }
    None
}

/// Exponential backoff with a little deterministic spread, capped at 5 s.
pub fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1 << attempt.min(6));
    Duration::from_millis(base.min(5_000) + u64::from(attempt) * 37 % 100)
}

#[cfg(test)]
mod tests {
    use aws_sdk_codestarconnections::error::ConnectorError;
    use aws_sdk_codestarconnections::operation::list_hosts::ListHostsError;

    use super::*;

    fn dispatch(failure: ConnectorError) -> SdkError<ListHostsError> {
        SdkError::dispatch_failure(failure)
    }

    #[test]
    fn missing_credentials_fail_at_once_and_say_what_to_do() {
        let no_credentials = dispatch(ConnectorError::other(
            Box::new(CredentialsError::not_loaded("no providers in chain")),
            None,
        ));
        match classify(&no_credentials) {
            Class::Final(Failure::Rejected { message, .. }) => {
                assert_eq!(message, NO_CREDENTIALS);
            }
            _ => panic!("missing credentials must fail at once"),
        }
    }

    #[test]
    fn a_refused_connection_never_left_but_a_reset_one_may_have() {
        let refused = dispatch(ConnectorError::io(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        ))));
        assert!(
            matches!(classify(&refused), Class::NeverSent(cause) if cause == "connection refused")
        );
        let reset = dispatch(ConnectorError::io(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "Connection reset by peer (os error 104)",
        ))));
        assert!(
            matches!(classify(&reset), Class::Ambiguous(cause) if cause == "the connection was reset")
        );
        let timeout = dispatch(ConnectorError::timeout("no answer".into()));
        assert!(matches!(classify(&timeout), Class::Ambiguous(_)));
        // Whatever it is, when we cannot tell, it may have been sent.
        let unknown = dispatch(ConnectorError::other("something new".into(), None));
        assert!(matches!(classify(&unknown), Class::Ambiguous(_)));
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(seconds(Duration::from_secs(30)), "30 s");
        assert_eq!(seconds(Duration::from_millis(2140)), "2.1 s");
        assert_eq!(seconds(Duration::from_millis(20)), "0.02 s");
    }

    #[test]
    fn an_error_page_is_named_for_what_it_is() {
        let message = not_the_service(502, Some("text/html; charset=utf-8"));
        assert!(
            message.starts_with("answered HTTP 502 with an HTML page"),
            "{message}"
        );
    }
}
