//! Rule: frequency caps. The brand has already engaged this author, this
//! conversation, or this often in the last hour, as often as its profile
//! allows.
//!
//! - Reads: the engagement counts the guardrails looked up, the profile's
//!   caps (0 means no cap).
//! - Moves: intrusiveness risk, reason `FrequencyCap`.
//! - Limits: at most LISTEN; for customer care, at most REVIEW (a customer
//!   is answered, by a person).

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const FREQUENCY_RISK: f64 = 0.3;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    let caps = moment.profile.frequency_caps;
    let counts = moment.guardrails.counts;
    for (count, cap, what) in [
        (counts.author_today, caps.per_author_per_day, "author today"),
        (
            counts.conversation_today,
            caps.per_conversation_per_day,
            "conversation today",
        ),
        (
            counts.brand_last_hour,
            caps.per_brand_per_hour,
            "brand in the last hour",
        ),
    ] {
        if cap > 0 && count >= cap {
            if moment.care {
                ledger.review_cap = true
            } else {
                ledger.listen_cap = true
            }
            ledger.risk(
                Weight::Cap,
                ReasonCode::FrequencyCap,
                FREQUENCY_RISK,
                format!("{count} engagements with this {what} (cap {cap})"),
            );
        }
    }
}
