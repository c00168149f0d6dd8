//! Step 5, the response window: `respond_by` and `max_review_latency`,
//! solved from the same freshness curve the timing score used. An ENGAGE
//! must go out while timing stays at `timing_engage`, a REVIEW while it
//! stays at `timing_min`; a LISTEN for staleness after review says how long
//! an answer without review would still have had.

use std::time::Duration;

use jiff::Timestamp;

use super::super::model::{Decision, ReasonCode};
use super::Moment;
use super::ledger::Reasons;
use super::timing::{Timing, add_secs, secs_between};

/// Latest `respond_by`, and longest `max_review_latency`, after `now`: 30 days.
pub const MAX_RESPONSE_HORIZON_SECS: f64 = 30.0 * 86_400.0;

pub(super) struct Response {
    pub(super) respond_by: Option<Timestamp>,
    pub(super) max_review_latency: Option<Duration>,
}

pub(super) fn window(
    moment: &Moment<'_>,
    decision: Decision,
    timing: &Timing,
    reasons: &Reasons,
) -> Response {
    let thresholds = moment.thresholds;
    let now = moment.now;
    // When freshness × window factor falls to `floor`.
    let solve = |floor: f64| -> Option<Timestamp> {
        if timing.window_factor <= floor || floor <= 0.0 {
            return None;
        }
        add_secs(
            moment.event.occurred_at,
            timing.half_life * (timing.window_factor / floor).log2(),
        )
    };
    let deadline = match decision {
        Decision::Engage => solve(thresholds.timing_engage),
        Decision::Review => solve(thresholds.timing_min),
        Decision::Listen if reasons.has(ReasonCode::StaleAfterReview) => {
            solve(thresholds.timing_engage).or_else(|| solve(thresholds.timing_min))
        }
        _ => None,
    };
    // A very long half-life or a far-future solution is capped: no answer
    // promises a window longer than the horizon.
    let horizon = add_secs(now, MAX_RESPONSE_HORIZON_SECS);
    let deadline = deadline.map(|at| match horizon {
        Some(horizon) if at > horizon => horizon,
        _ => at,
    });
    let respond_by = match decision {
        Decision::Engage | Decision::Review => deadline.filter(|at| *at >= now),
        _ => None,
    };
    let max_review_latency = deadline.and_then(|at| {
        let secs = secs_between(now, at);
        (secs > 0.0).then(|| Duration::from_secs_f64(secs.min(1e12)))
    });
    Response {
        respond_by,
        max_review_latency,
    }
}
