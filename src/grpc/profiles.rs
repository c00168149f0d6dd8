//! `kairos.v1.BrandProfileService`.

use std::sync::Arc;

use jiff::Timestamp;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use super::convert::{profile_in, profile_out};
use super::observe;
use super::pb;
use super::pb::brand_profile_service_server::BrandProfileService;
use super::status::oversized_limit;
use crate::cache::ProfileCache;
use crate::candidates::CandidateIndex;
use crate::core::validate::{validate_brand_id, validate_profile};
use crate::core::{ValidationError, model::BrandProfile};
use crate::error::Error;
use crate::store::ProfileStore;

pub const DEFAULT_PAGE_SIZE: usize = 100;
pub const MAX_PAGE_SIZE: usize = 1000;
/// Imported profiles are committed this many at a time: one durable commit
/// per batch instead of per profile (a 100,000-brand import would otherwise
/// wait on 100,000 fsyncs).
pub const IMPORT_BATCH: usize = 256;
/// Rejected import items beyond this many are counted but not itemised, so
/// a stream of garbage cannot grow the response without bound.
pub const MAX_IMPORT_ERRORS: usize = 1000;

pub struct ProfileService {
    store: Arc<dyn ProfileStore>,
    cache: Arc<ProfileCache>,
    index: Arc<CandidateIndex>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl ProfileService {
    pub fn new(
        store: Arc<dyn ProfileStore>,
        cache: Arc<ProfileCache>,
        index: Arc<CandidateIndex>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        Self {
            store,
            cache,
            index,
            metrics,
        }
    }

    /// Converts and validates a profile; field paths start at `profile.`.
    fn accept(p: Option<&pb::BrandProfile>) -> Result<BrandProfile, ValidationError> {
        let p = p.ok_or_else(|| ValidationError::new("profile", "must be set"))?;
        let profile = profile_in(p).map_err(|e| e.within("profile"))?;
        validate_profile(&profile).map_err(|e| e.within("profile"))?;
        Ok(profile)
    }

    async fn write(
        &self,
        profile: &BrandProfile,
        expected_version: Option<i64>,
    ) -> Result<crate::store::Upserted, Error> {
        let done = self
            .store
            .upsert_profile(profile, expected_version, Timestamp::now())
            .await?;
        self.cache.invalidate(&profile.brand_id).await;
        self.index
            .refresh_after_write(self.store.clone(), vec![profile.brand_id.clone()])
            .await;
        Ok(done)
    }
}

impl ProfileService {
    /// Commits `pending` (in stream order), counts it, and empties it.
    async fn write_batch(
        &self,
        pending: &mut Vec<BrandProfile>,
        resp: &mut pb::ImportBrandProfilesResponse,
    ) -> Result<(), Error> {
        if pending.is_empty() {
            return Ok(());
        }
        let done = self
            .store
            .upsert_profiles(pending, Timestamp::now())
            .await?;
        self.index
            .refresh_after_write(
                self.store.clone(),
                done.iter()
                    .map(|d| d.stored.profile.brand_id.clone())
                    .collect(),
            )
            .await;
        for d in &done {
            self.cache.invalidate(&d.stored.profile.brand_id).await;
            if d.created {
                resp.created += 1;
            } else {
                resp.updated += 1;
            }
        }
        pending.clear();
        Ok(())
    }
}

pub fn page_size(requested: u32) -> usize {
    match requested as usize {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    }
}

/// Page tokens are opaque to callers: hex of a tagged key, so the format can
/// change without breaking anyone who treats them as opaque.
pub fn encode_token(tag: &str, key: &str) -> String {
    format!("{tag}:{key}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn decode_token(tag: &str, token: &str) -> Result<Option<String>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || Error::invalid("page_token", "malformed page token");
    if !token.len().is_multiple_of(2) || token.len() > 1024 {
        return Err(bad());
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    // Never issued by us, and PostgreSQL cannot take a NUL in text.
    if text.chars().any(char::is_control) {
        return Err(bad());
    }
    let key = text
        .strip_prefix(tag)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(bad)?;
    Ok(Some(key.to_string()))
}

/// A broken import stream: an item over `--max-request-bytes` is
/// RESOURCE_EXHAUSTED, as for every other RPC; anything else the client
/// sent that does not decode is an invalid stream.
fn stream_error(s: tonic::Status) -> Error {
    match oversized_limit(&s) {
        Some(limit) => Error::MessageTooLarge { limit },
        None => Error::invalid("stream", s.message().to_string()),
    }
}

#[tonic::async_trait]
impl BrandProfileService for ProfileService {
    async fn upsert_brand_profile(
        &self,
        request: Request<pb::UpsertBrandProfileRequest>,
    ) -> Result<Response<pb::UpsertBrandProfileResponse>, Status> {
        let req = request.into_inner();
        let brand_id = req.profile.as_ref().map_or("", |p| p.brand_id.as_str());
        observe(&self.metrics, "UpsertBrandProfile", brand_id, async {
            let profile = Self::accept(req.profile.as_ref())?;
            if let Some(v) = req.expected_version
                && v < 0
            {
                return Err(Error::invalid("expected_version", "must not be negative"));
            }
            let done = self.write(&profile, req.expected_version).await?;
            Ok(pb::UpsertBrandProfileResponse {
                profile: Some(profile_out(&done.stored)),
            })
        })
        .await
    }

    async fn get_brand_profile(
        &self,
        request: Request<pb::GetBrandProfileRequest>,
    ) -> Result<Response<pb::GetBrandProfileResponse>, Status> {
        let req = request.into_inner();
        observe(&self.metrics, "GetBrandProfile", &req.brand_id, async {
            validate_brand_id(&req.brand_id, "brand_id")?;
            let stored = self
                .store
                .get_profile(&req.brand_id)
                .await?
                .ok_or_else(|| Error::brand_not_found(&req.brand_id))?;
            Ok(pb::GetBrandProfileResponse {
                profile: Some(profile_out(&stored)),
            })
        })
        .await
    }

    async fn list_brand_profiles(
        &self,
        request: Request<pb::ListBrandProfilesRequest>,
    ) -> Result<Response<pb::ListBrandProfilesResponse>, Status> {
        let req = request.into_inner();
        observe(&self.metrics, "ListBrandProfiles", "", async {
            let size = page_size(req.page_size);
            let after = decode_token("brand", &req.page_token)?;
            // One extra row tells whether another page exists.
            let mut rows = self.store.list_profiles(after.as_deref(), size + 1).await?;
            let next_page_token = if rows.len() > size {
                rows.truncate(size);
                rows.last()
                    .map(|s| encode_token("brand", &s.profile.brand_id))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            Ok(pb::ListBrandProfilesResponse {
                profiles: rows.iter().map(profile_out).collect(),
                next_page_token,
            })
        })
        .await
    }

    async fn delete_brand_profile(
        &self,
        request: Request<pb::DeleteBrandProfileRequest>,
    ) -> Result<Response<pb::DeleteBrandProfileResponse>, Status> {
        let req = request.into_inner();
        observe(&self.metrics, "DeleteBrandProfile", &req.brand_id, async {
            validate_brand_id(&req.brand_id, "brand_id")?;
            let deleted = self.store.delete_profile(&req.brand_id).await?;
            self.cache.invalidate(&req.brand_id).await;
            self.index
                .refresh_after_write(self.store.clone(), vec![req.brand_id.clone()])
                .await;
            if !deleted {
                return Err(Error::brand_not_found(&req.brand_id));
            }
            Ok(pb::DeleteBrandProfileResponse {})
        })
        .await
    }

    async fn import_brand_profiles(
        &self,
        request: Request<Streaming<pb::ImportBrandProfilesRequest>>,
    ) -> Result<Response<pb::ImportBrandProfilesResponse>, Status> {
        let mut stream = request.into_inner();
        observe(&self.metrics, "ImportBrandProfiles", "", async {
            let mut resp = pb::ImportBrandProfilesResponse::default();
            let mut index: u32 = 0;
            let mut pending: Vec<BrandProfile> = Vec::with_capacity(IMPORT_BATCH);
            while let Some(item) = stream.next().await {
                // A broken stream ends the call; batches committed so far
                // are durable and re-importing them is idempotent.
                let item = item.map_err(stream_error)?;
                let brand_id = item
                    .profile
                    .as_ref()
                    .map(|p| p.brand_id.clone())
                    .unwrap_or_default();
                match Self::accept(item.profile.as_ref()) {
                    Ok(profile) => {
                        pending.push(profile);
                        if pending.len() >= IMPORT_BATCH {
                            self.write_batch(&mut pending, &mut resp).await?;
                        }
                    }
                    Err(v) => {
                        resp.rejected += 1;
                        if resp.errors.len() < MAX_IMPORT_ERRORS {
                            resp.errors.push(pb::ImportError {
                                index,
                                brand_id,
                                message: v.to_string(),
                                field: v.field,
                            });
                        }
                    }
                }
                index = index.saturating_add(1);
            }
            self.write_batch(&mut pending, &mut resp).await?;
            Ok(resp)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = encode_token("brand", "acme.co-1");
        assert_eq!(
            decode_token("brand", &t).unwrap().as_deref(),
            Some("acme.co-1")
        );
        assert_eq!(decode_token("brand", "").unwrap(), None);
        for bad in ["zz", "abc", "6869", &encode_token("other", "x")] {
            assert!(decode_token("brand", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_size_defaults_and_clamps() {
        assert_eq!(page_size(0), 100);
        assert_eq!(page_size(7), 7);
        assert_eq!(page_size(5000), 1000);
    }
}
