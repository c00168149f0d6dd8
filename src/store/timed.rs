//! A store that times every call into `kairos_store_operation_duration_seconds`
//! (label `op`, the trait method's name), for either backend.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use jiff::Timestamp;

use super::{
    BlackoutStore, ChangeFeed, DecisionQuery, DecisionStore, EngagementStore, Lifecycle,
    ProfileStore, Store, StoreError, Upserted,
};
use crate::core::model::{Blackout, BrandProfile, DecisionRecord, Engagement, StoredProfile};
use crate::metrics::Metrics;

pub struct Timed {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl Timed {
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    async fn time<T>(&self, op: &'static str, call: impl Future<Output = T>) -> T {
        let start = Instant::now();
        let out = call.await;
        self.metrics.store_op(op, start.elapsed());
        out
    }
}

#[async_trait]
impl ProfileStore for Timed {
    async fn upsert_profile(
        &self,
        profile: &BrandProfile,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> Result<Upserted, StoreError> {
        self.time(
            "upsert_profile",
            self.inner.upsert_profile(profile, expected_version, now),
        )
        .await
    }

    async fn upsert_profiles(
        &self,
        profiles: &[BrandProfile],
        now: Timestamp,
    ) -> Result<Vec<Upserted>, StoreError> {
        self.time("upsert_profiles", self.inner.upsert_profiles(profiles, now))
            .await
    }

    async fn get_profile(&self, brand_id: &str) -> Result<Option<StoredProfile>, StoreError> {
        self.time("get_profile", self.inner.get_profile(brand_id))
            .await
    }

    async fn profile_versions(
        &self,
        brand_ids: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.time("profile_versions", self.inner.profile_versions(brand_ids))
            .await
    }

    async fn list_profiles(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredProfile>, StoreError> {
        self.time("list_profiles", self.inner.list_profiles(after, limit))
            .await
    }

    async fn list_brand_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.time("list_brand_ids", self.inner.list_brand_ids(after, limit))
            .await
    }

    async fn delete_profile(&self, brand_id: &str) -> Result<bool, StoreError> {
        self.time("delete_profile", self.inner.delete_profile(brand_id))
            .await
    }
}

#[async_trait]
impl BlackoutStore for Timed {
    async fn insert_blackout(&self, blackout: &Blackout) -> Result<(), StoreError> {
        self.time("insert_blackout", self.inner.insert_blackout(blackout))
            .await
    }

    async fn all_blackouts(&self) -> Result<Vec<Blackout>, StoreError> {
        self.time("all_blackouts", self.inner.all_blackouts()).await
    }

    async fn delete_blackout(&self, id: &str) -> Result<bool, StoreError> {
        self.time("delete_blackout", self.inner.delete_blackout(id))
            .await
    }
}

#[async_trait]
impl EngagementStore for Timed {
    async fn insert_engagement(&self, engagement: &Engagement) -> Result<(), StoreError> {
        self.time(
            "insert_engagement",
            self.inner.insert_engagement(engagement),
        )
        .await
    }

    async fn brand_engagements(
        &self,
        brand_id: &str,
        since: Timestamp,
    ) -> Result<Vec<Engagement>, StoreError> {
        self.time(
            "brand_engagements",
            self.inner.brand_engagements(brand_id, since),
        )
        .await
    }

    async fn purge_engagements(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.time("purge_engagements", self.inner.purge_engagements(before))
            .await
    }
}

#[async_trait]
impl DecisionStore for Timed {
    async fn append_decisions(&self, records: &[DecisionRecord]) -> Result<(), StoreError> {
        self.time("append_decisions", self.inner.append_decisions(records))
            .await
    }

    async fn query_decisions(&self, q: &DecisionQuery) -> Result<Vec<DecisionRecord>, StoreError> {
        self.time("query_decisions", self.inner.query_decisions(q))
            .await
    }

    async fn purge_decisions(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.time("purge_decisions", self.inner.purge_decisions(before))
            .await
    }
}

#[async_trait]
impl Lifecycle for Timed {
    async fn ping(&self) -> Result<(), StoreError> {
        self.time("ping", self.inner.ping()).await
    }

    fn changes(&self) -> Option<Box<dyn ChangeFeed>> {
        self.inner.changes()
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
