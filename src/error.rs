//! The service-level error. Every layer below converts into it; the gRPC
//! edge maps it to `tonic::Status` exactly once (`grpc::status`).

use std::sync::Arc;
use std::time::Duration;

use crate::cache::CacheError;
use crate::core::ValidationError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidArgument(#[from] ValidationError),
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    /// `reason` is a stable UPPER_SNAKE code for `google.rpc.ErrorInfo`.
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        message: String,
    },
    #[error("this RPC needs an API key: authorization: Bearer <key>")]
    Unauthenticated,
    #[error("key {key:?} lacks the {scope:?} scope this RPC needs")]
    PermissionDenied { key: Arc<str>, scope: &'static str },
    #[error("key {key:?} is over its rate limit; retry in {} ms", retry_after.as_millis())]
    RateLimited {
        key: Arc<str>,
        retry_after: Duration,
    },
    #[error("server overloaded: {in_flight} RPCs in flight (--max-in-flight); retry in {} ms", retry_after.as_millis())]
    Overloaded {
        in_flight: usize,
        retry_after: Duration,
    },
    #[error("the deadline expired before the work was done")]
    DeadlineExceeded,
    #[error("request message is larger than the limit of {limit} bytes (--max-request-bytes)")]
    MessageTooLarge { limit: usize },
    /// The store cannot be reached; a retry may succeed once it is back.
    #[error("the store is unreachable ({detail}); the write was not acknowledged, retry later")]
    Unavailable { detail: String },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument(ValidationError::new(field, message))
    }

    pub fn brand_not_found(id: &str) -> Self {
        Error::NotFound {
            what: "brand",
            id: id.to_string(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionConflict { .. } => Error::FailedPrecondition {
                reason: "VERSION_MISMATCH",
                message: e.to_string(),
            },
            StoreError::AlreadyExists { .. } => Error::FailedPrecondition {
                reason: "ALREADY_EXISTS",
                message: e.to_string(),
            },
            other if other.is_unavailable() => {
                tracing::warn!(error = %chain(&other), "store unreachable");
                Error::Unavailable {
                    detail: match other {
                        StoreError::Unavailable(_) => "connection failed".to_string(),
                        _ => other.to_string(),
                    },
                }
            }
            other => Error::Internal(Box::new(other)),
        }
    }
}

impl From<CacheError> for Error {
    fn from(e: CacheError) -> Self {
        match e {
            CacheError::NotFound(id) => Error::brand_not_found(&id),
            CacheError::Store(inner) => match Arc::try_unwrap(inner) {
                Ok(store) => store.into(),
                // Several callers waited on one failed load.
                Err(shared) if shared.is_unavailable() => Error::Unavailable {
                    detail: "connection failed".to_string(),
                },
                Err(shared) => Error::Internal(Box::new(shared)),
            },
        }
    }
}

/// An error and its sources, joined by ": " (for logs and CLI messages).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        // Some errors already print their source (sqlx's Io does).
        let text = s.to_string();
        if !msg.ends_with(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        cur = s.source();
    }
    msg
}
