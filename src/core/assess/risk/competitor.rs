//! Rule: a competitor's conversation. A person talking to or about a
//! competitor is in someone else's conversation; a trend or story that
//! names one is only grey.
//!
//! - Reads: competitor matches, whether the brand is named or addressed,
//!   the event's kind.
//! - Moves: intrusiveness risk, reason `CompetitorConversation`.
//! - Limits: a person's post, at most LISTEN; a trend or story, at most
//!   REVIEW.

use super::super::super::model::{EventKind, ReasonCode};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const COMPETITOR_RISK: f64 = 0.3;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    if moment.named_in_event || moment.addressed {
        return;
    }
    let Some((competitor, source)) = moment.hits.competitors.first() else {
        return;
    };
    let personal = matches!(
        moment.event.kind,
        EventKind::Complaint
            | EventKind::Question
            | EventKind::Praise
            | EventKind::BrandMention
            | EventKind::Conversation
    );
    let weight = if personal {
        ledger.listen_cap = true;
        Weight::Decisive
    } else {
        ledger.review_cap = true;
        Weight::Cap
    };
    ledger.risk(
        weight,
        ReasonCode::CompetitorConversation,
        COMPETITOR_RISK,
        format!(
            "competitor {:?} in the {}",
            moment
                .profile
                .competitors
                .get(*competitor)
                .map(String::as_str)
                .unwrap_or(""),
            source.describe()
        ),
    );
}
