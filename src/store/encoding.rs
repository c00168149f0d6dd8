//! How both SQL stores keep values: instants as microseconds, records as
//! JSON bodies, and what a conditional profile write reports when it
//! matched nothing.

use jiff::Timestamp;

use super::{StoreError, Upserted};
use crate::core::model::{BrandProfile, StoredProfile};

pub(super) fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(super) fn from_micros(us: i64) -> Timestamp {
    // Only values a store wrote are read back; clamp rather than fail on a
    // hand-edited row.
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(super) fn to_json<T: serde::Serialize>(key: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Corrupt {
        key: key.to_string(),
        source,
    })
}

/// A stored body; `key` names the record when it does not parse.
pub(super) fn parse_json<T: serde::de::DeserializeOwned>(
    body: &str,
    key: impl FnOnce() -> String,
) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|source| StoreError::Corrupt { key: key(), source })
}

/// The answer to a profile write that stored `version` at `at_us`.
pub(super) fn upserted(profile: &BrandProfile, version: i64, at_us: i64) -> Upserted {
    Upserted {
        stored: StoredProfile {
            profile: profile.clone(),
            version,
            updated_at: from_micros(at_us),
        },
        created: version == 1,
    }
}

/// Why a conditional write of `brand_id` matched nothing, given the
/// version stored (`actual`, None when there is no profile).
pub(super) fn write_conflict(
    brand_id: &str,
    expected_version: Option<i64>,
    actual: Option<i64>,
) -> StoreError {
    match (expected_version, actual) {
        (Some(0), Some(actual)) => StoreError::AlreadyExists {
            brand_id: brand_id.to_string(),
            actual,
        },
        (expected, actual) => StoreError::VersionConflict {
            brand_id: brand_id.to_string(),
            expected: expected.unwrap_or_default(),
            actual,
        },
    }
}
