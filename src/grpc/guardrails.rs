//! `kairos.v1.GuardrailService`.

use std::sync::Arc;

use jiff::Timestamp;
use tonic::{Request, Response, Status};

use super::convert::{
    blackout_in, blackout_out, decision_in, decision_record_out, engagement_in, engagement_out,
    timestamp_in,
};
use super::observe;
use super::pb;
use super::pb::guardrail_service_server::GuardrailService;
use super::profiles::{decode_token, encode_token, page_size};
use crate::core::validate::validate_brand_id;
use crate::error::Error;
use crate::guardrails::{Blackouts, EngagementIndex};
use crate::ids::IdGen;
use crate::metrics::Metrics;
use crate::scoring::Scorer;
use crate::store::{DecisionQuery, Store};

/// Blackout ids are server-made (`bo_` and 30 hex digits); anything much
/// longer cannot name one.
const MAX_BLACKOUT_ID_LEN: usize = 128;
/// Most bytes of decision records in one ListDecisions page.
pub const MAX_PAGE_BYTES: usize = 256 * 1024;

pub struct GuardrailApi {
    store: Arc<dyn Store>,
    blackouts: Arc<Blackouts>,
    engagements: Arc<EngagementIndex>,
    scorer: Arc<Scorer>,
    metrics: Arc<Metrics>,
    blackout_ids: IdGen,
    engagement_ids: IdGen,
}

impl GuardrailApi {
    pub fn new(store: Arc<dyn Store>, scorer: Arc<Scorer>) -> Self {
        Self {
            store,
            blackouts: scorer.blackouts.clone(),
            engagements: scorer.engagements.clone(),
            metrics: scorer.metrics.clone(),
            scorer,
            blackout_ids: IdGen::new("bo"),
            engagement_ids: IdGen::new("en"),
        }
    }
}

/// `<micros>:<id>` keys for newest-first keyset pages.
fn time_key(t: Timestamp, id: &str) -> String {
    format!("{}:{id}", t.as_microsecond())
}

fn parse_time_key(key: &str) -> Result<(Timestamp, String), Error> {
    let bad = || Error::invalid("page_token", "malformed page token");
    let (us, id) = key.split_once(':').ok_or_else(bad)?;
    let us: i64 = us.parse().map_err(|_| bad())?;
    let t = Timestamp::from_microsecond(us).map_err(|_| bad())?;
    Ok((t, id.to_string()))
}

#[tonic::async_trait]
impl GuardrailService for GuardrailApi {
    async fn create_blackout(
        &self,
        request: Request<pb::CreateBlackoutRequest>,
    ) -> Result<Response<pb::CreateBlackoutResponse>, Status> {
        let req = request.into_inner();
        let brand = req.blackout.as_ref().map_or("", |b| b.brand_id.as_str());
        observe(&self.metrics, "CreateBlackout", brand, async {
            let b = req
                .blackout
                .as_ref()
                .ok_or_else(|| Error::invalid("blackout", "must be set"))?;
            let now = Timestamp::now();
            let blackout = blackout_in(b, self.blackout_ids.next(now), now)
                .map_err(|e| e.within("blackout"))?;
            self.blackouts.create(&blackout).await?;
            tracing::warn!(
                id = %blackout.id,
                scope = ?blackout.scope,
                brand_id = %blackout.brand_id,
                reason = %blackout.reason,
                "blackout created"
            );
            Ok(pb::CreateBlackoutResponse {
                blackout: Some(blackout_out(&blackout)),
            })
        })
        .await
    }

    async fn list_blackouts(
        &self,
        request: Request<pb::ListBlackoutsRequest>,
    ) -> Result<Response<pb::ListBlackoutsResponse>, Status> {
        let req = request.into_inner();
        observe(&self.metrics, "ListBlackouts", "", async {
            let size = page_size(req.page_size);
            let after = decode_token("blackout", &req.page_token)?
                .map(|k| parse_time_key(&k))
                .transpose()?;
            let now = Timestamp::now();
            let all = self.blackouts.all();
            let mut page: Vec<&crate::core::model::Blackout> = all
                .iter()
                .filter(|b| req.include_expired || b.ends_at.is_none_or(|e| now < e))
                .filter(|b| match &after {
                    None => true,
                    Some((t, id)) => (b.created_at, b.id.as_str()) < (*t, id.as_str()),
                })
                .take(size + 1)
                .collect();
            let next_page_token = if page.len() > size {
                page.truncate(size);
                page.last()
                    .map(|b| encode_token("blackout", &time_key(b.created_at, &b.id)))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            Ok(pb::ListBlackoutsResponse {
                blackouts: page.into_iter().map(blackout_out).collect(),
                next_page_token,
            })
        })
        .await
    }

    async fn delete_blackout(
        &self,
        request: Request<pb::DeleteBlackoutRequest>,
    ) -> Result<Response<pb::DeleteBlackoutResponse>, Status> {
        let req = request.into_inner();
        observe(&self.metrics, "DeleteBlackout", "", async {
            if req.id.is_empty() {
                return Err(Error::invalid("id", "must not be empty"));
            }
            // Echoed in NOT_FOUND: no unbounded text goes back out.
            if req.id.len() > MAX_BLACKOUT_ID_LEN {
                return Err(Error::invalid(
                    "id",
                    format!("must be at most {MAX_BLACKOUT_ID_LEN} bytes"),
                ));
            }
            if !self.blackouts.delete(&req.id).await? {
                return Err(Error::NotFound {
                    what: "blackout",
                    id: req.id.clone(),
                });
            }
            tracing::warn!(id = %req.id, "blackout deleted");
            Ok(pb::DeleteBlackoutResponse {})
        })
        .await
    }

    async fn record_engagement(
        &self,
        request: Request<pb::RecordEngagementRequest>,
    ) -> Result<Response<pb::RecordEngagementResponse>, Status> {
        let req = request.into_inner();
        let brand = req.engagement.as_ref().map_or("", |e| e.brand_id.as_str());
        observe(&self.metrics, "RecordEngagement", brand, async {
            let e = req
                .engagement
                .as_ref()
                .ok_or_else(|| Error::invalid("engagement", "must be set"))?;
            let now = Timestamp::now();
            let engagement = engagement_in(e, self.engagement_ids.next(now), now)
                .map_err(|e| e.within("engagement"))?;
            // An engagement for a brand nobody loaded is almost always a typo.
            self.scorer.profile(&engagement.brand_id).await?;
            self.engagements.record(&engagement).await?;
            Metrics::inc(&self.metrics.engagements_recorded);
            Ok(pb::RecordEngagementResponse {
                engagement: Some(engagement_out(&engagement)),
            })
        })
        .await
    }

    async fn list_decisions(
        &self,
        request: Request<pb::ListDecisionsRequest>,
    ) -> Result<Response<pb::ListDecisionsResponse>, Status> {
        let req = request.into_inner();
        observe(&self.metrics, "ListDecisions", &req.brand_id, async {
            if !req.brand_id.is_empty() {
                validate_brand_id(&req.brand_id, "brand_id")?;
            }
            let size = page_size(req.page_size);
            let since = req
                .since
                .as_ref()
                .map(|t| timestamp_in(t, "since"))
                .transpose()?;
            let until = req
                .until
                .as_ref()
                .map(|t| timestamp_in(t, "until"))
                .transpose()?;
            let before = decode_token("decision", &req.page_token)?
                .map(|k| parse_time_key(&k))
                .transpose()?;
            let query = DecisionQuery {
                brand_id: (!req.brand_id.is_empty()).then(|| req.brand_id.clone()),
                since,
                until,
                decision: decision_in(req.decision, "decision")?,
                before,
                limit: size + 1,
            };
            let mut rows = self.store.query_decisions(&query).await?;
            let more = rows.len() > size;
            rows.truncate(size);
            // A page ends at `size` records or MAX_PAGE_BYTES, whichever
            // comes first (always at least one record), so every page fits
            // a client's default 4 MiB decode limit.
            let mut decisions = Vec::with_capacity(rows.len());
            let mut bytes = 0usize;
            let mut last_key = None;
            let mut cut = false;
            for r in rows {
                let key = time_key(r.assessment.assessed_at, &r.decision_id);
                let record = decision_record_out(r);
                let n = prost::Message::encoded_len(&record);
                if !decisions.is_empty() && bytes + n > MAX_PAGE_BYTES {
                    cut = true;
                    break;
                }
                bytes += n;
                last_key = Some(key);
                decisions.push(record);
            }
            let next_page_token = match last_key {
                Some(key) if more || cut => encode_token("decision", &key),
                _ => String::new(),
            };
            Ok(pb::ListDecisionsResponse {
                decisions,
                next_page_token,
            })
        })
        .await
    }
}
