//! SigV4: reading the Region from the `Authorization` header's credential
//! scope, and (with `--credentials`) verifying the signature.
//!
//! Verification rebuilds the canonical request from exactly the headers the
//! client says it signed, so it works for any client (the Rust SDK, boto3,
//! the CLI) whatever set of headers it chose to sign. The HMAC key derivation
//! and final HMAC come from `aws-sigv4`, the same code the SDK signs with.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::protocol::ApiError;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// An access key and its secret, as given to `--credentials AKID:SECRET`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The secret stays out of logs and `--help` debug output.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl std::str::FromStr for Credentials {
    type Err = String;

    fn from_str(text: &str) -> Result<Credentials, String> {
        match text.split_once(':') {
            Some((key, secret)) if !key.is_empty() && !secret.is_empty() => Ok(Credentials {
                access_key_id: key.to_string(),
                secret_access_key: secret.to_string(),
            }),
            _ => Err("expected ACCESS_KEY_ID:SECRET_ACCESS_KEY".to_string()),
        }
    }
}

/// The parts of a SigV4 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Authorization {
    pub access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

fn missing() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
}

fn incomplete(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "IncompleteSignatureException",
        format!("Authorization header is not a valid SigV4 signature: {detail}"),
    )
}

/// Parse the request's `Authorization` header.
pub(super) fn authorization(parts: &Parts) -> Result<Authorization, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(missing)?;
    let header = header
        .to_str()
        .map_err(|_| incomplete("the header is not ASCII"))?;
    let fields = header
        .strip_prefix(ALGORITHM)
        .filter(|rest| rest.starts_with(' '))
        .ok_or_else(|| incomplete("the algorithm must be AWS4-HMAC-SHA256"))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in fields.split(',') {
        let Some((name, value)) = field.trim().split_once('=') else {
            return Err(incomplete(
                "expected Credential=, SignedHeaders= and Signature=",
            ));
        };
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(|| incomplete("Credential= is missing"))?;
    let signed_headers = signed_headers.ok_or_else(|| incomplete("SignedHeaders= is missing"))?;
    let signature = signature.ok_or_else(|| incomplete("Signature= is missing"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, "aws4_request"] = scope[..] else {
        return Err(incomplete(
            "Credential must be ACCESS_KEY/DATE/REGION/SERVICE/aws4_request",
        ));
    };
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return Err(incomplete("Credential has an empty field"));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete("the credential scope date must be YYYYMMDD"));
    }
    if signature.is_empty() || signed_headers.is_empty() {
        return Err(incomplete("SignedHeaders and Signature must not be empty"));
    }
    Ok(Authorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers: signed_headers.split(';').map(str::to_string).collect(),
        signature: signature.to_string(),
    })
}

/// Check the signature against the secret of the key that signed it.
pub(super) fn verify(
    auth: &Authorization,
    secret_access_key: &str,
    parts: &Parts,
    body: &[u8],
) -> Result<(), ApiError> {
    let amz_date = header_value(parts, "x-amz-date")
        .ok_or_else(|| incomplete("the X-Amz-Date header is missing"))?;
    let time = scope_time(&auth.date).ok_or_else(|| incomplete("the scope date is not a date"))?;
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}/{}/{}/aws4_request\n{}",
        auth.date,
        auth.region,
        auth.service,
        hex::encode(Sha256::digest(canonical_request(auth, parts, body)))
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(
        secret_access_key,
        time,
        &auth.region,
        &auth.service,
    );
    let expected = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    if expected == auth.signature {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method.",
        ))
    }
}

fn canonical_request(auth: &Authorization, parts: &Parts, body: &[u8]) -> String {
    let mut headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = parts
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = header_value(parts, "x-amz-content-sha256")
        .unwrap_or_else(|| hex::encode(Sha256::digest(body)));
    let path = match parts.uri.path() {
        "" => "/",
        path => path,
    };
    format!(
        "{}\n{path}\n{}\n{headers}\n{}\n{payload_hash}",
        parts.method,
        canonical_query(parts.uri.query().unwrap_or_default()),
        auth.signed_headers.join(";")
    )
}

/// The query string's parameters sorted by name then value, as SigV4 wants.
/// Clients send them already percent-encoded, so the raw pairs are kept.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn header_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Midnight UTC of a `YYYYMMDD` date; the signing key only uses the date.
fn scope_time(date: &str) -> Option<SystemTime> {
    let year: i64 = date.get(0..4)?.parse().ok()?;
    let month: i64 = date.get(4..6)?.parse().ok()?;
    let day: i64 = date.get(6..8)?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = u64::try_from(days).ok()?.checked_mul(86_400)?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(authorization: &str) -> Parts {
        Request::post("/")
            .header("authorization", authorization)
            .body(())
            .expect("request")
            .into_parts()
            .0
    }

    #[test]
    fn reads_the_region_from_the_credential_scope() {
        let auth = authorization(&parts(
            "AWS4-HMAC-SHA256 Credential=AKID/20240131/eu-west-1/codestar-connections/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        ))
        .expect("parses");
        assert_eq!(auth.region, "eu-west-1");
        assert_eq!(auth.signed_headers, ["host", "x-amz-date"]);
        let bad = authorization(&parts("AWS4-HMAC-SHA256 Credential=AKID/2024/x"));
        assert_eq!(bad.map_err(|e| e.code), Err("IncompleteSignatureException"));
    }

    #[test]
    fn scope_dates_are_midnight_utc() {
        let t = scope_time("20240301").expect("date");
        let secs = t.duration_since(UNIX_EPOCH).expect("after epoch").as_secs();
        assert_eq!(secs, 1_709_251_200);
        assert!(scope_time("20241301").is_none());
    }
}
