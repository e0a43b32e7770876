//! The wire shapes of every route: AWS JSON 1.0 (both names of the service,
//! as boto3, the AWS CLI and `aws-sdk-codestarconnections` send it), Smithy
//! RPC v2 CBOR (CodeConnections, as `aws-sdk-codeconnections` sends it), and
//! AWS JSON 1.1 (Organizations), and awsQuery errors (STS). The operations work on JSON values; CBOR is
//! converted at the edge.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ciborium::Value as Cbor;
use serde_json::{Value, json};

/// How a request to the service came, and so how it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wire {
    /// AWS JSON 1.0: `POST /` with `X-Amz-Target`.
    Json,
    /// Smithy RPC v2 CBOR: `POST /service/<Service>/operation/<Operation>`.
    Cbor,
}

/// Content type of Smithy RPC v2 CBOR requests and responses.
const CBOR_CONTENT_TYPE: &str = "application/cbor";

/// Content type of every AWS JSON 1.0 request and response.
pub(super) const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Content type of AWS JSON 1.1 (Organizations) requests and responses.
const JSON11_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error the emulated service answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiError {
    pub status: StatusCode,
    /// The modelled error code, e.g. `ResourceNotFoundException`.
    pub code: &'static str,
    pub message: String,
    /// Organizations' `InvalidInputException` says which rule was broken.
    pub reason: Option<&'static str>,
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
            reason: None,
        }
    }

    pub(super) fn with_reason(mut self, reason: &'static str) -> ApiError {
        self.reason = Some(reason);
        self
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

    pub(super) fn already_exists(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "ResourceAlreadyExistsException",
            message,
        )
    }

    /// The service's own input error, where the model lists it: a request
    /// the model lets through but the service's rules refuse.
    pub(super) fn invalid_input(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidInputException", message)
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
        self.into_json_response_as(JSON_CONTENT_TYPE)
    }

    /// The error as AWS JSON 1.1 clients (Organizations) read it: the same
    /// body, with the `Reason` when there is one.
    pub(super) fn into_json11_response(self) -> Response {
        self.into_json_response_as(JSON11_CONTENT_TYPE)
    }

    fn into_json_response_as(self, content_type: &'static str) -> Response {
        let mut body = json!({ "__type": self.code, "message": self.message });
        if let Some(reason) = self.reason {
            body["Reason"] = json!(reason);
        }
        let mut response = (self.status, json_body(&body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
            .headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(self.code));
        response
    }

    /// The error as RPC v2 CBOR clients read it: a CBOR map with `__type`
    /// (the absolute shape id) and `message`. The SDK reads only the body.
    pub(super) fn into_cbor_response(self, namespace: &str) -> Response {
        let body = Cbor::Map(vec![
            (
                Cbor::Text("__type".to_owned()),
                Cbor::Text(format!("{namespace}#{}", self.code)),
            ),
            (Cbor::Text("message".to_owned()), Cbor::Text(self.message)),
        ]);
        cbor_response(self.status, &body)
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

/// A successful RPC v2 CBOR answer: `body` as a CBOR map, the members
/// named in `timestamps` tagged as epoch-seconds timestamps (tag 1).
pub(super) fn cbor_ok(body: &Value, timestamps: &[&str]) -> Response {
    cbor_response(StatusCode::OK, &to_cbor(None, body, timestamps))
}

fn cbor_response(status: StatusCode, body: &Cbor) -> Response {
    let mut bytes = Vec::new();
    ciborium::into_writer(body, &mut bytes).expect("writing CBOR to memory cannot fail");
    (
        status,
        [
            ("smithy-protocol", "rpc-v2-cbor"),
            (header::CONTENT_TYPE.as_str(), CBOR_CONTENT_TYPE),
        ],
        bytes,
    )
        .into_response()
}

/// A CBOR request body as the JSON value the operations read: an empty
/// body is an empty input; timestamps (tag 1) become epoch seconds.
pub(super) fn cbor_input(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    let value: Cbor = ciborium::from_reader(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            format!("the request body is not CBOR: {e}"),
        )
    })?;
    let value = from_cbor(value)
        .map_err(|why| ApiError::new(StatusCode::BAD_REQUEST, "SerializationException", why))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            "the request body must be a CBOR map",
        ))
    }
}

fn from_cbor(value: Cbor) -> Result<Value, String> {
    Ok(match value {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Text(text) => Value::String(text),
        Cbor::Integer(i) => {
            Value::from(i64::try_from(i).map_err(|_| "an integer out of range".to_owned())?)
        }
        Cbor::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or("a float that is not finite")?,
        Cbor::Tag(1, inner) => from_cbor(*inner)?,
        Cbor::Array(items) => {
            Value::Array(items.into_iter().map(from_cbor).collect::<Result<_, _>>()?)
        }
        Cbor::Map(entries) => {
            let mut object = serde_json::Map::new();
            for (key, value) in entries {
                let Cbor::Text(key) = key else {
                    return Err("a map key that is not text".to_owned());
                };
                object.insert(key, from_cbor(value)?);
            }
            Value::Object(object)
        }
        other => return Err(format!("an item this service never takes: {other:?}")),
    })
}

/// `value` as CBOR; `member` is the map key it is the value of, to tag
/// timestamps. Smithy omits null members.
fn to_cbor(member: Option<&str>, value: &Value, timestamps: &[&str]) -> Cbor {
    match value {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::String(text) => Cbor::Text(text.clone()),
        Value::Number(n) => {
            let plain = match n.as_i64() {
                Some(i) => Cbor::Integer(i.into()),
                None => Cbor::Float(n.as_f64().unwrap_or_default()),
            };
            if member.is_some_and(|m| timestamps.contains(&m)) {
                Cbor::Tag(1, Box::new(plain))
            } else {
                plain
            }
        }
        Value::Array(items) => Cbor::Array(
            items
                .iter()
                .map(|item| to_cbor(member, item, timestamps))
                .collect(),
        ),
        Value::Object(object) => Cbor::Map(
            object
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (Cbor::Text(k.clone()), to_cbor(Some(k), v, timestamps)))
                .collect(),
        ),
    }
}

/// A successful AWS JSON 1.0 answer.
pub(super) fn json_ok(body: &Value) -> Response {
    let mut response = (StatusCode::OK, json_body(body)).into_response();
    set_json_content_type(&mut response);
    response
}

/// A successful AWS JSON 1.1 answer.
pub(super) fn json11_ok(body: &Value) -> Response {
    let mut response = (StatusCode::OK, json_body(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON11_CONTENT_TYPE),
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_round_trips_through_json_with_timestamps_tagged() {
        let value = json!({"Name": "x", "MaxResults": 5, "At": 1700000000.5, "Gone": null, "List": [{"At": 2}]});
        let cbor = to_cbor(None, &value, &["At"]);
        let mut bytes = Vec::new();
        ciborium::into_writer(&cbor, &mut bytes).unwrap();
        let back: Cbor = ciborium::from_reader(bytes.as_slice()).unwrap();
        let Cbor::Map(entries) = &back else {
            panic!("{back:?}")
        };
        let at = entries
            .iter()
            .find(|(k, _)| k == &Cbor::Text("At".into()))
            .unwrap();
        assert!(matches!(at.1, Cbor::Tag(1, _)), "{at:?}");
        assert!(!entries.iter().any(|(k, _)| k == &Cbor::Text("Gone".into())));
        assert_eq!(
            cbor_input(&bytes).unwrap(),
            json!({"Name": "x", "MaxResults": 5, "At": 1700000000.5, "List": [{"At": 2}]})
        );
        assert_eq!(cbor_input(&[]).unwrap(), json!({}));
        assert!(cbor_input(b"not cbor").is_err());
    }
}
