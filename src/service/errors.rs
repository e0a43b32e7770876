//! Every SDK error sorted into an [`Attempt`]: throttled, never sent,
//! ambiguous, or final. Shared by the SDK crates' implementations (their
//! `SdkError` is one type, from aws-smithy-runtime-api).

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_codestarconnections::error::{ProvideErrorMetadata, SdkError};

use super::Attempt;
use crate::call::Failure;

/// What one failed attempt means: the SDK's error, sorted.
pub(super) fn classify<E>(err: &SdkError<E>) -> Attempt
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
                ) => Attempt::Throttled,
                Some("LimitExceededException") => Attempt::Failed(Failure::Quota(described)),
                Some("ResourceNotFoundException") => Attempt::Failed(Failure::NotFound(described)),
                _ if status >= 500 => Attempt::Ambiguous(described),
                code => Attempt::Failed(Failure::Rejected {
                    code: code.map(str::to_owned),
                    message: described,
                }),
            }
        }
        SdkError::DispatchFailure(failure) => {
            if let Some(message) = credentials_problem(err) {
                return Attempt::Failed(Failure::Rejected {
                    code: None,
                    message,
                });
            }
            if failure.is_user() {
                // The request could not even be built: nothing left.
                return Attempt::Failed(Failure::Rejected {
                    code: None,
                    message: cause(err),
                });
            }
            if never_left(err) {
                Attempt::NeverSent(cause(err))
            } else {
                Attempt::Ambiguous(cause(err))
            }
        }
        SdkError::TimeoutError(_) => Attempt::Ambiguous("no answer in time".to_owned()),
        SdkError::ResponseError(ctx) => {
            let response = ctx.raw();
            Attempt::Ambiguous(not_the_service(
                response.status().as_u16(),
                response.headers().get("content-type"),
            ))
        }
        // Construction failures: nothing was sent.
        _ => Attempt::Failed(Failure::Rejected {
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
            Attempt::Failed(Failure::Rejected { message, .. }) => {
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
            matches!(classify(&refused), Attempt::NeverSent(cause) if cause == "connection refused")
        );
        let reset = dispatch(ConnectorError::io(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "Connection reset by peer (os error 104)",
        ))));
        assert!(
            matches!(classify(&reset), Attempt::Ambiguous(cause) if cause == "the connection was reset")
        );
        let timeout = dispatch(ConnectorError::timeout("no answer".into()));
        assert!(matches!(classify(&timeout), Attempt::Ambiguous(_)));
        // Whatever it is, when we cannot tell, it may have been sent.
        let unknown = dispatch(ConnectorError::other("something new".into(), None));
        assert!(matches!(classify(&unknown), Attempt::Ambiguous(_)));
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
