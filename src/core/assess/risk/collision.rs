//! Rule: entity collision. The brand's name or theme is also a named entity
//! of the story (a namesake town in the news): relevance may be a
//! coincidence of names.
//!
//! - Reads: the collision the relevance step found.
//! - Moves: intrusiveness risk, reason `EntityCollision`.
//! - Limits: at most REVIEW.

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const COLLISION_RISK: f64 = 0.3;

pub(super) fn apply(_: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    if let Some(name) = &signals.entity_collision {
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::EntityCollision,
            COLLISION_RISK,
            format!("{name:?} is also a named entity of this story"),
        );
    }
}
