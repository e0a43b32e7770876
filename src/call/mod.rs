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

use aws_credential_types::provider::error::CredentialsError;

pub use pace::Pace;

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
        // A request that never left (no credentials, a bad endpoint URL)
        // changed nothing, and retrying will not send it.
        SdkError::DispatchFailure(failure) if !(failure.is_io() || failure.is_timeout()) => {
            Class::Failure(Failure::Rejected {
                code: None,
                message: if lacks_credentials(err) {
                    NO_CREDENTIALS.to_owned()
                } else {
                    described
                },
            })
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

const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_PROFILE or pass --profile (after \
     `aws sso login` if the profile uses SSO), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; \
     in CI, configure the OIDC role (see examples/github-actions)";

/// Whether the SDK gave up before sending because no credentials loaded.
fn lacks_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if matches!(
            e.downcast_ref::<CredentialsError>(),
            Some(CredentialsError::CredentialsNotLoaded(_))
        ) {
            return true;
        }
        source = e.source();
    }
    false
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

#[cfg(test)]
mod tests {
    use aws_sdk_codestarconnections::error::ConnectorError;
    use aws_sdk_codestarconnections::operation::list_hosts::ListHostsError;

    use super::*;

    fn dispatch(failure: ConnectorError) -> SdkError<ListHostsError> {
        SdkError::dispatch_failure(failure)
    }

    #[test]
    fn a_request_that_never_left_is_not_retried_and_missing_credentials_say_so() {
        let no_credentials = dispatch(ConnectorError::other(
            Box::new(CredentialsError::not_loaded("no providers in chain")),
            None,
        ));
        match classify(&no_credentials) {
            Class::Failure(Failure::Rejected { message, .. }) => {
                assert_eq!(message, NO_CREDENTIALS);
            }
            _ => panic!("missing credentials must fail at once"),
        }
        let reset = dispatch(ConnectorError::io("connection reset".into()));
        assert!(matches!(
            classify(&reset),
            Class::Failure(Failure::Ambiguous(_))
        ));
        let timeout = dispatch(ConnectorError::timeout("no answer".into()));
        assert!(matches!(
            classify(&timeout),
            Class::Failure(Failure::Ambiguous(_))
        ));
    }
}
