//! Who signed a request, and so which account it acts in: keys `AssumeRole`
//! issued act in the role's account as the assumed role; any other key acts
//! in the default account as the emulator's one IAM user.
//!
//! Temporary keys are checked as AWS checks them: the session token must
//! come with them, an `ASIA` key the emulator never issued is refused, and
//! an expired one too. With `--credentials`, a temporary key's signature is
//! verified with the secret issued with it.

use axum::http::StatusCode;
use axum::http::request::Parts;

use super::protocol::ApiError;
use super::sigv4::{self, Authorization, Credentials};
use super::state::{EpochMillis, Session, Store};

/// The prefix of temporary access key ids (AWS's, and the emulator's).
pub(super) const TEMPORARY_KEY_PREFIX: &str = "ASIA";

/// The identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Principal {
    /// The account the request acts in.
    pub account_id: String,
    /// As `GetCallerIdentity` answers it.
    pub arn: String,
    pub user_id: String,
    /// Signed with keys `AssumeRole` issued (so a further `AssumeRole` is
    /// role chaining).
    pub assumed: bool,
}

impl Principal {
    /// The default account's IAM user: every key `AssumeRole` did not issue.
    pub(super) fn user(account_id: &str) -> Principal {
        Principal {
            account_id: account_id.to_owned(),
            arn: format!("arn:aws:iam::{account_id}:user/emulator"),
            user_id: user_id(account_id),
            assumed: false,
        }
    }

    /// The role session temporary keys stand for.
    pub(super) fn assumed(session: &Session) -> Principal {
        Principal {
            account_id: session.account_id.clone(),
            arn: assumed_role_arn(
                &session.account_id,
                &session.role_name,
                &session.session_name,
            ),
            user_id: format!("{}:{}", session.role_id, session.session_name),
            assumed: true,
        }
    }
}

/// `arn:aws:sts::<account>:assumed-role/<role name>/<session name>`.
pub(super) fn assumed_role_arn(account_id: &str, role_name: &str, session_name: &str) -> String {
    format!("arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}")
}

/// A stable IAM user id (`AIDA` + 17 characters) derived from the account, so
/// the same emulator always reports the same caller.
fn user_id(account_id: &str) -> String {
    let digits: String = account_id.chars().filter(char::is_ascii_digit).collect();
    format!(
        "AIDAEMULATOR{:0>9}",
        &digits[digits.len().saturating_sub(9)..]
    )
}

/// What the caller's protocol calls a key or token it does not know: STS
/// (awsQuery) says `InvalidClientTokenId`, the JSON services
/// `UnrecognizedClientException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    Query,
    Json,
}

impl Dialect {
    fn invalid_token(self) -> ApiError {
        let code = match self {
            Dialect::Query => "InvalidClientTokenId",
            Dialect::Json => "UnrecognizedClientException",
        };
        ApiError::new(
            StatusCode::FORBIDDEN,
            code,
            "The security token included in the request is invalid.",
        )
    }
}

/// A request as SigV4 sees it.
#[derive(Clone, Copy)]
pub(super) struct Signed<'a> {
    pub auth: &'a Authorization,
    pub parts: &'a Parts,
    pub body: &'a [u8],
}

/// Who signed the request: its key looked up among the issued temporary
/// keys (checked against their token, expiry and, with `credentials`,
/// their secret), else the configured key pair or any key at all.
pub(super) fn authenticate(
    Signed { auth, parts, body }: Signed<'_>,
    store: &Store,
    credentials: Option<&Credentials>,
    default_account: &str,
    now: EpochMillis,
    dialect: Dialect,
) -> Result<Principal, ApiError> {
    let Some(session) = store.sessions.get(&auth.access_key_id) else {
        if auth.access_key_id.starts_with(TEMPORARY_KEY_PREFIX) {
            // A temporary key AWS never issued (or one from a state the
            // emulator no longer has) is unknown to it.
            return Err(dialect.invalid_token());
        }
        if let Some(credentials) = credentials {
            if auth.access_key_id != credentials.access_key_id {
                return Err(dialect.invalid_token());
            }
            sigv4::verify(auth, &credentials.secret_access_key, parts, body)?;
        }
        return Ok(Principal::user(default_account));
    };
    let token = parts
        .headers
        .get("x-amz-security-token")
        .and_then(|t| t.to_str().ok());
    if token != Some(session.session_token.as_str()) {
        return Err(dialect.invalid_token());
    }
    if session.expiration <= now {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ));
    }
    if credentials.is_some() {
        sigv4::verify(auth, &session.secret_access_key, parts, body)?;
    }
    Ok(Principal::assumed(session))
}

/// The account a request acts in, as far as its `Authorization` header
/// tells before it is authenticated: for the latency and throttling of
/// that account. A request that fails authentication then gets its error.
pub(super) fn claimed_account(parts: &Parts, store: &Store, default_account: &str) -> String {
    sigv4::authorization(parts)
        .ok()
        .and_then(|auth| store.sessions.get(&auth.access_key_id))
        .map_or_else(
            || default_account.to_owned(),
            |session| session.account_id.clone(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn session(account_id: &str, expiration: EpochMillis) -> Session {
        Session {
            secret_access_key: "secret".to_owned(),
            session_token: "token".to_owned(),
            account_id: account_id.to_owned(),
            role_arn: format!("arn:aws:iam::{account_id}:role/deploy"),
            role_name: "deploy".to_owned(),
            role_id: "AROAEXAMPLE".to_owned(),
            session_name: "ci".to_owned(),
            expiration,
            chained: false,
        }
    }

    fn request(key: &str, token: Option<&str>) -> (Authorization, Parts) {
        let mut builder = Request::post("/").header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={key}/20240131/eu-west-1/sts/aws4_request, SignedHeaders=host, Signature=abc"
            ),
        );
        if let Some(token) = token {
            builder = builder.header("x-amz-security-token", token);
        }
        let parts = builder.body(()).expect("request").into_parts().0;
        (sigv4::authorization(&parts).expect("parses"), parts)
    }

    #[test]
    fn issued_keys_act_in_the_roles_account_and_others_in_the_default() {
        let mut store = Store::empty();
        store.add_session("ASIAISSUED".to_owned(), session("222222222222", 10_000), 0);
        let run = |key: &str, token: Option<&str>, now: EpochMillis| {
            let (auth, parts) = request(key, token);
            let signed = Signed {
                auth: &auth,
                parts: &parts,
                body: b"",
            };
            authenticate(signed, &store, None, "111111111111", now, Dialect::Json)
        };
        let assumed = run("ASIAISSUED", Some("token"), 5_000).expect("valid session");
        assert_eq!(assumed.account_id, "222222222222");
        assert_eq!(
            assumed.arn,
            "arn:aws:sts::222222222222:assumed-role/deploy/ci"
        );
        assert_eq!(assumed.user_id, "AROAEXAMPLE:ci");
        let user = run("AKIDANY", None, 5_000).expect("any long-term key");
        assert_eq!(user.account_id, "111111111111");
        assert_eq!(user.arn, "arn:aws:iam::111111111111:user/emulator");
        let code = |r: Result<Principal, ApiError>| r.map_err(|e| e.code).err();
        assert_eq!(
            code(run("ASIAISSUED", None, 5_000)),
            Some("UnrecognizedClientException")
        );
        assert_eq!(
            code(run("ASIAISSUED", Some("other"), 5_000)),
            Some("UnrecognizedClientException")
        );
        assert_eq!(
            code(run("ASIANEVERISSUED", Some("token"), 5_000)),
            Some("UnrecognizedClientException")
        );
        assert_eq!(
            code(run("ASIAISSUED", Some("token"), 10_000)),
            Some("ExpiredTokenException")
        );
    }
}
