//! Rule: blackouts, the crisis switch. A blackout active at `now` applies
//! globally, to one brand, to a region, or to events matching its terms.
//!
//! - Reads: the active blackouts (the guardrails), the brand, the event's
//!   region and text.
//! - Moves: nothing on the risk scale; reason `BlackoutActive` on the
//!   decision.
//! - Limits: DECLINE.

use super::super::super::analyse::AnalysedEvent;
use super::super::super::model::{Blackout, BlackoutScope, Factor, ReasonCode};
use super::super::super::text::{Form, pattern};
use super::super::Moment;
use super::super::describe::scope_name;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

/// The reason's contribution: the decision itself, not a degree of risk.
pub(super) const BLACKOUT_CONTRIBUTION: f64 = -1.0;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    for blackout in moment.guardrails.blackouts {
        if applies(moment, blackout) {
            ledger.decline = true;
            ledger.reasons.add(
                Weight::Decisive,
                ReasonCode::BlackoutActive,
                Factor::Decision,
                BLACKOUT_CONTRIBUTION,
                format!(
                    "blackout {} ({}): {}",
                    blackout.id,
                    scope_name(blackout.scope),
                    blackout.reason
                ),
            );
        }
    }
}

fn applies(moment: &Moment<'_>, blackout: &Blackout) -> bool {
    let brand_id = &moment.profile.brand_id;
    let for_brand = blackout.brand_id.is_empty() || blackout.brand_id == *brand_id;
    match blackout.scope {
        BlackoutScope::Global => true,
        BlackoutScope::Brand => blackout.brand_id == *brand_id,
        BlackoutScope::Region => {
            let region = blackout.region.trim();
            for_brand
                && !region.is_empty()
                && region.eq_ignore_ascii_case(moment.event.audience_region.trim())
        }
        BlackoutScope::Topic => {
            for_brand
                && blackout
                    .terms
                    .iter()
                    .any(|term| term_matches(moment.analysed, term))
        }
    }
}

/// A blackout term matches as a phrase anywhere the event speaks: its
/// text, hashtags, sample posts or topic labels.
fn term_matches(analysed: &AnalysedEvent, term: &str) -> bool {
    let form = analysed.form;
    let phrase = pattern(term, form);
    if phrase.is_empty() {
        return false;
    }
    let phrase = if form == Form::Raw {
        phrase
    } else {
        pattern(term, Form::English)
    };
    analysed.main.contains_pattern(&phrase)
        || analysed.samples.contains_pattern(&phrase)
        || analysed.topics.contains_pattern(&phrase)
}
