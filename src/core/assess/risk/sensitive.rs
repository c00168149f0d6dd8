//! Rule: sensitive context, by GARM category, against the brand's
//! tolerance for that category.
//!
//! - Reads: the event's detections (`AnalysedEvent::sensitive`), the
//!   profile's tolerance per category.
//! - Moves: intrusiveness risk, reason `FloorCategory` or
//!   `SensitiveContext`.
//! - Limits: floor content, and high-level content past the tolerance,
//!   DECLINE; except high-level content a customer wrote to the brand
//!   (solicited care), and high-level content other than death, weapons
//!   and terror when the brand is caught up in its own crisis, a values
//!   moment or a debated issue: grey means REVIEW, a person answers.
//!   DECLINE stays for what no person should answer: floor content and
//!   tragedy.

use super::super::super::analyse::push_debug_str;
use super::super::super::compiled::exceeds;
use super::super::super::lexicon::{Level, category_name};
use super::super::super::model::{ReasonCode, SensitiveCategory};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

/// Risk of floor content: never acceptable.
pub(super) const FLOOR_RISK: f64 = 1.0;
/// Risk of a detection past the brand's tolerance, by level.
pub(super) const LOW_RISK: f64 = 0.25;
pub(super) const MEDIUM_RISK: f64 = 0.5;
pub(super) const HIGH_RISK: f64 = 0.85;
/// Risk of a detection within the brand's tolerance: noted, barely moves.
pub(super) const TOLERATED_RISK: f64 = 0.05;

/// Categories whose grave content is a tragedy.
fn tragic(category: SensitiveCategory) -> bool {
    matches!(
        category,
        SensitiveCategory::DeathInjuryMilitaryConflict
            | SensitiveCategory::Terrorism
            | SensitiveCategory::ArmsAmmunition
    )
}

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    for found in &moment.analysed.sensitive {
        let tolerance = moment.compiled.tolerance(found.category);
        let mut detail = String::with_capacity(96 + found.term.len());
        detail.push_str(category_name(found.category));
        detail.push_str(" (");
        detail.push_str(found.level.name());
        detail.push_str(") from ");
        push_debug_str(&mut detail, &found.term);
        detail.push_str(" in the ");
        found.source.push_describe(&mut detail);
        if found.figurative {
            detail.push_str(
                ", a figure of speech: no news, grief or report of violence corroborates it",
            );
        }
        if found.level == Level::Floor {
            ledger.decline = true;
            ledger.risk(
                Weight::Decisive,
                ReasonCode::FloorCategory,
                FLOOR_RISK,
                detail,
            );
        } else if exceeds(found.level, tolerance) {
            let risk = match found.level {
                Level::Low => LOW_RISK,
                Level::Medium => MEDIUM_RISK,
                _ => HIGH_RISK,
            };
            let grave = found.level == Level::High;
            // A customer writing to the brand about something grave (a
            // death in the family) is not a public moment to stay out of:
            // a person answers. Nor is a brand's own debated moment
            // ("harassment" in the film it made), unless it is a tragedy.
            let for_people =
                signals.solicited_care || (signals.caught_up && !tragic(found.category));
            let weight = if grave && for_people {
                ledger.review_cap = true;
                Weight::Cap
            } else if grave {
                ledger.decline = true;
                Weight::Decisive
            } else {
                Weight::Factor
            };
            ledger.risk(weight, ReasonCode::SensitiveContext, risk, detail);
        } else {
            detail.push_str(", within the brand's tolerance");
            ledger.risk(
                Weight::Note,
                ReasonCode::SensitiveContext,
                TOLERATED_RISK,
                detail,
            );
        }
    }
}
