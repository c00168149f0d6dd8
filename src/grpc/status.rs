//! The one mapping from the service error to `tonic::Status`, with
//! `google.rpc` details (BadRequest field violations, ErrorInfo reasons).

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::Error;

const DOMAIN: &str = "kairos.v1";

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidArgument(v) => {
                let mut d = ErrorDetails::new();
                d.add_bad_request_violation(&v.field, &v.message);
                d.set_error_info(
                    "INVALID_ARGUMENT",
                    DOMAIN,
                    HashMap::from([("field".to_string(), v.field.clone())]),
                );
                Status::with_error_details(Code::InvalidArgument, v.to_string(), d)
            }
            Error::NotFound { what, ref id } => {
                let d = ErrorDetails::with_error_info(
                    format!("{}_NOT_FOUND", what.to_uppercase()),
                    DOMAIN,
                    HashMap::from([("id".to_string(), id.clone())]),
                );
                Status::with_error_details(Code::NotFound, e.to_string(), d)
            }
            Error::FailedPrecondition { reason, message } => {
                let d = ErrorDetails::with_error_info(reason, DOMAIN, HashMap::new());
                Status::with_error_details(Code::FailedPrecondition, message, d)
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
            Error::Internal(source) => {
                // The caller gets an opaque message; the log gets the chain.
                let chain = crate::error::chain(source.as_ref());
                tracing::error!(error = %chain, "internal error");
                Status::internal("internal error")
            }
        }
    }
}

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
