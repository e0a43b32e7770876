//! The wire shapes shared by every route: errors as AWS JSON 1.0 and awsQuery
//! clients parse them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Content type of every AWS JSON 1.0 request and response.
pub(super) const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// An error the emulated service answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiError {
    pub status: StatusCode,
    /// The modelled error code, e.g. `ResourceNotFoundException`.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(super) fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    pub(super) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            message,
        )
    }

    pub(super) fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "ResourceUnavailableException",
            message,
        )
    }

    pub(super) fn limit(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "LimitExceededException", message)
    }

    pub(super) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            message,
        )
    }

    /// The error as AWS JSON 1.0 clients read it: the code in the body's
    /// `__type` and in `x-amzn-errortype`.
    pub(super) fn into_json_response(self) -> Response {
        let body = json!({ "__type": self.code, "message": self.message });
        let mut response = (self.status, json_body(&body)).into_response();
        set_json_content_type(&mut response);
        response
            .headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(self.code));
        response
    }

    /// The error as awsQuery clients (STS) read it: an XML `ErrorResponse`.
    pub(super) fn into_query_response(self, request_id: &str) -> Response {
        let fault = if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        let body = format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message></Error>\
             <RequestId>{}</RequestId></ErrorResponse>",
            self.code,
            xml_escape(&self.message),
            xml_escape(request_id)
        );
        (self.status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
    }
}

/// A successful AWS JSON 1.0 answer.
pub(super) fn json_ok(body: &Value) -> Response {
    let mut response = (StatusCode::OK, json_body(body)).into_response();
    set_json_content_type(&mut response);
    response
}

fn json_body(body: &Value) -> String {
    body.to_string()
}

fn set_json_content_type(response: &mut Response) {
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
}

/// Escape text for an XML element body.
pub(super) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
