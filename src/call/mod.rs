//! One API call, paced and retried as its kind allows: every mutating call
//! of `apply`, and every read of [`crate::live`].
//!
//! Throttling is always retried (the call was rejected, nothing happened).
//! A 5xx, timeout or dropped connection is ambiguous: the service may have
//! committed the change. Idempotent calls (tag, untag, update, delete) are
//! retried; creates are handed back to the caller, which looks for the
//! resource before creating again.

use std::future::Future;
use std::time::Duration;

use aws_sdk_codestarconnections::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

mod pace;

use aws_config::retry::RetryConfig;
use aws_sdk_codestarconnections::Client;

pub use pace::Pace;

/// `client` with the SDK's own retries off, so [`paced`] alone decides what
/// is retried and when.
pub fn without_retries(client: &Client) -> Client {
    Client::from_conf(
        client
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}

/// Why a call did not go through, sorted by what may be done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A service quota; retrying cannot help.
    Quota(String),
    /// The resource does not exist (any more).
    NotFound(String),
    /// The service may or may not have made the change.
    Ambiguous(String),
    /// Refused for a reason a retry will not change.
    Rejected {
        code: Option<String>,
        message: String,
    },
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Failure::Quota(m) | Failure::NotFound(m) | Failure::Ambiguous(m) => m.clone(),
            Failure::Rejected { message, .. } => message.clone(),
        }
    }
}

enum Class {
    Throttled,
    Failure(Failure),
}

fn classify<E>(err: &SdkError<E>) -> Class
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let described = match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(err).to_string(),
    };
    match err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            match err.code() {
                Some(
                    "ThrottlingException"
                    | "Throttling"
                    | "TooManyRequestsException"
                    | "RequestLimitExceeded",
                ) => Class::Throttled,
                Some("LimitExceededException") => Class::Failure(Failure::Quota(described)),
                Some("ResourceNotFoundException") => Class::Failure(Failure::NotFound(described)),
                _ if status >= 500 => Class::Failure(Failure::Ambiguous(described)),
                code => Class::Failure(Failure::Rejected {
                    code: code.map(str::to_owned),
                    message: described,
                }),
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Class::Failure(Failure::Ambiguous(described))
        }
        _ => Class::Failure(Failure::Rejected {
            code: None,
            message: described,
        }),
    }
}

/// Retries of an ambiguous failure of an idempotent call.
const AMBIGUOUS_RETRIES: u32 = 6;
/// Throttling is expected and retried for as long as this many attempts.
const THROTTLE_RETRIES: u32 = 400;

/// Run `call` with pacing; retry throttling, and ambiguous failures too when
/// `idempotent`.
pub async fn paced<T, E, F, Fut>(pace: &Pace, idempotent: bool, mut call: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut throttled = 0u32;
    let mut ambiguous = 0u32;
    loop {
        let sent_at = pace.turn().await;
        let err = match call().await {
            Ok(value) => {
                pace.succeeded().await;
                return Ok(value);
            }
            Err(err) => err,
        };
        match classify(&err) {
            Class::Throttled if throttled < THROTTLE_RETRIES => {
                throttled += 1;
                pace.throttled(sent_at).await;
            }
            Class::Throttled => {
                return Err(Failure::Ambiguous(
                    "still throttled after many retries; the service is overloaded".to_owned(),
                ));
            }
            Class::Failure(Failure::Ambiguous(_))
                if idempotent && ambiguous < AMBIGUOUS_RETRIES =>
            {
                ambiguous += 1;
                tokio::time::sleep(backoff(ambiguous)).await;
            }
            Class::Failure(failure) => return Err(failure),
        }
    }
}

/// Exponential backoff with a little deterministic spread, capped at 5 s.
pub fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1 << attempt.min(6));
    Duration::from_millis(base.min(5_000) + u64::from(attempt) * 37 % 100)
}
