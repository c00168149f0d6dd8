//! A brand profile compiled into the form the scoring core needs. Built
//! once per profile version and kept in the cache.

use super::model::StoredProfile;

#[derive(Debug)]
pub struct CompiledProfile {
    pub stored: StoredProfile,
}

impl CompiledProfile {
    /// Compiles a validated, stored profile. Infallible: everything that
    /// could fail was rejected when the profile was written.
    pub fn compile(stored: StoredProfile) -> Self {
        Self { stored }
    }

    pub fn brand_id(&self) -> &str {
        &self.stored.profile.brand_id
    }

    pub fn version(&self) -> i64 {
        self.stored.version
    }
}
