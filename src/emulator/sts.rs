//! Just enough of STS (`GetCallerIdentity`, awsQuery protocol) for the tool
//! to learn which account it talks to, answered on the same endpoint.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::protocol::{ApiError, xml_escape};

/// The STS action a form-encoded awsQuery body asks for, if any.
pub(super) fn action(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "Action")
        .map(|(_, value)| value.into_owned())
}

/// Answer an STS action; only `GetCallerIdentity` is known.
pub(super) fn answer(
    action: &str,
    account_id: &str,
    request_id: &str,
) -> Result<Response, ApiError> {
    if action != "GetCallerIdentity" {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("The action {action} is not valid for this web service."),
        ));
    }
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult>\
         <Arn>arn:aws:iam::{account}:user/emulator</Arn>\
         <UserId>{}</UserId>\
         <Account>{account}</Account>\
         </GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
         </GetCallerIdentityResponse>",
        user_id(account_id),
        xml_escape(request_id),
        account = xml_escape(account_id),
    );
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], body).into_response())
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
