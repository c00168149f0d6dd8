//! The one mapping from the service error to `tonic::Status`, with
//! `google.rpc` details (BadRequest field violations, ErrorInfo reasons).

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::Error;

const DOMAIN: &str = "kairos.v1";

/// Longest message or violation text an error carries. Messages may quote
/// what the caller sent; trailers over 16 KiB make common clients drop the
/// whole connection, every other call on it included.
const MAX_ERROR_TEXT: usize = 1024;

/// Caps the `grpc-message` a response carries in `headers` (trailers, or
/// the headers of a trailers-only answer) at MAX_ERROR_TEXT bytes of text.
/// For answers this crate does not write itself: health and reflection
/// quote the caller's request in their errors (a 50 KiB symbol name comes
/// back in the trailers), and trailers over 16 KiB break the connection
/// for common clients.
pub(crate) fn bound_grpc_message(headers: &mut http::HeaderMap) {
    // Percent-encoding at most triples the text: anything shorter is
    // within the cap already, and needs no decoding.
    let long = headers
        .get("grpc-message")
        .is_some_and(|v| v.len() > MAX_ERROR_TEXT);
    if !long {
        return;
    }
    let Some(status) = Status::from_header_map(headers) else {
        return;
    };
    if status.message().len() <= MAX_ERROR_TEXT {
        return;
    }
    let bounded = Status::with_details(
        status.code(),
        bounded(status.message()),
        bytes::Bytes::copy_from_slice(status.details()),
    );
    headers.remove("grpc-message");
    headers.remove("grpc-status-details-bin");
    if bounded.add_header(headers).is_err() {
        // Only a message that cannot be a header value fails, and a
        // bounded UTF-8 text percent-encodes into one; drop it rather than
        // send the long one.
        headers.remove("grpc-message");
    }
}

/// `text`, cut at a character boundary to at most MAX_ERROR_TEXT bytes.
fn bounded(text: &str) -> String {
    if text.len() <= MAX_ERROR_TEXT {
        return text.to_string();
    }
    let mut end = MAX_ERROR_TEXT - 3;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidArgument(v) => {
                let field = bounded(&v.field);
                let mut d = ErrorDetails::new();
                d.add_bad_request_violation(&field, bounded(&v.message));
                d.set_error_info(
                    "INVALID_ARGUMENT",
                    DOMAIN,
                    HashMap::from([("field".to_string(), field)]),
                );
                Status::with_error_details(Code::InvalidArgument, bounded(&v.to_string()), d)
            }
            Error::NotFound { what, ref id } => {
                let d = ErrorDetails::with_error_info(
                    format!("{}_NOT_FOUND", what.to_uppercase()),
                    DOMAIN,
                    HashMap::from([("id".to_string(), bounded(id))]),
                );
                Status::with_error_details(Code::NotFound, bounded(&e.to_string()), d)
            }
            Error::FailedPrecondition { reason, message } => {
                let d = ErrorDetails::with_error_info(reason, DOMAIN, HashMap::new());
                Status::with_error_details(Code::FailedPrecondition, bounded(&message), d)
            }
            Error::Unauthenticated => Status::unauthenticated(e.to_string()),
            Error::PermissionDenied { ref key, scope } => {
                let d = ErrorInfoBuilder::new("MISSING_SCOPE")
                    .meta("scope", scope)
                    .meta("key", key)
                    .build();
                Status::with_error_details(Code::PermissionDenied, e.to_string(), d)
            }
            Error::RateLimited {
                ref key,
                retry_after,
            } => {
                let mut d = ErrorInfoBuilder::new("RATE_LIMITED")
                    .meta("key", key)
                    .build();
                d.set_retry_info(Some(retry_after));
                Status::with_error_details(Code::ResourceExhausted, e.to_string(), d)
            }
            Error::Overloaded { retry_after, .. } => {
                let mut d = ErrorInfoBuilder::new("OVERLOADED").build();
                d.set_retry_info(Some(retry_after));
                Status::with_error_details(Code::ResourceExhausted, e.to_string(), d)
            }
            Error::DeadlineExceeded => Status::deadline_exceeded(e.to_string()),
            Error::MessageTooLarge { limit } => {
                let d = ErrorInfoBuilder::new("MESSAGE_TOO_LARGE")
                    .meta("limit_bytes", &limit.to_string())
                    .build();
                Status::with_error_details(Code::ResourceExhausted, e.to_string(), d)
            }
            Error::Unavailable { .. } => {
                let mut d = ErrorInfoBuilder::new("STORE_UNAVAILABLE").build();
                d.set_retry_info(Some(STORE_RETRY_AFTER));
                Status::with_error_details(Code::Unavailable, e.to_string(), d)
            }
            Error::Internal(source) => {
                // The caller gets an opaque message; the log gets the chain.
                let chain = crate::error::chain(source.as_ref());
                tracing::error!(error = %chain, "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// What an UNAVAILABLE answer suggests as a wait before retrying: about
/// how often a replica checks whether the store is back.
const STORE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// `google.rpc.ErrorInfo` in this service's domain.
struct ErrorInfoBuilder {
    reason: &'static str,
    meta: HashMap<String, String>,
}

impl ErrorInfoBuilder {
    fn new(reason: &'static str) -> Self {
        Self {
            reason,
            meta: HashMap::new(),
        }
    }

    fn meta(mut self, key: &str, value: &str) -> Self {
        self.meta.insert(key.to_string(), value.to_string());
        self
    }

    fn build(self) -> ErrorDetails {
        ErrorDetails::with_error_info(self.reason, DOMAIN, self.meta)
    }
}

/// The limit named by tonic's codec error for a message over
/// `max_decoding_message_size` ("... the limit is: N bytes"), or `None` for
/// any other status. tonic says OUT_OF_RANGE there; the gRPC specification
/// says RESOURCE_EXHAUSTED, so every place that meets this error maps it to
/// `Error::MessageTooLarge`.
pub fn oversized_limit(status: &Status) -> Option<usize> {
    if status.code() != Code::OutOfRange || !status.message().contains("message length too large") {
        return None;
    }
    let limit = status
        .message()
        .rsplit("limit is: ")
        .next()
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    Some(limit.unwrap_or(0))
}

/// A per-item error for streaming and batch responses.
pub fn item_error(e: Error) -> super::pb::ItemError {
    let field = match &e {
        Error::InvalidArgument(v) => v.field.clone(),
        _ => String::new(),
    };
    let status = Status::from(e);
    super::pb::ItemError {
        code: status.code() as i32,
        message: status.message().to_string(),
        field,
    }
}

/// The gRPC code as the specification names it (`OK`, `NOT_FOUND`).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code as C;
    match code {
        C::Ok => "OK",
        C::Cancelled => "CANCELLED",
        C::Unknown => "UNKNOWN",
        C::InvalidArgument => "INVALID_ARGUMENT",
        C::DeadlineExceeded => "DEADLINE_EXCEEDED",
        C::NotFound => "NOT_FOUND",
        C::AlreadyExists => "ALREADY_EXISTS",
        C::PermissionDenied => "PERMISSION_DENIED",
        C::ResourceExhausted => "RESOURCE_EXHAUSTED",
        C::FailedPrecondition => "FAILED_PRECONDITION",
        C::Aborted => "ABORTED",
        C::OutOfRange => "OUT_OF_RANGE",
        C::Unimplemented => "UNIMPLEMENTED",
        C::Internal => "INTERNAL",
        C::Unavailable => "UNAVAILABLE",
        C::DataLoss => "DATA_LOSS",
        C::Unauthenticated => "UNAUTHENTICATED",
    }
}
