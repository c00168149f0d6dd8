//! Rule: grief.
//!
//! - Reads: grief cues (strong or weak, and where), whether the event
//!   speaks of death, the number of sample posts.
//! - Moves: intrusiveness risk, reason `GriefOrOutrage`.
//! - Limits: a strong cue in the event, two sample posts mourning, or
//!   several cues (or one beside death) DECLINE; a customer's own grief
//!   written to the brand goes to a person (REVIEW) instead. One weak cue
//!   is a factor only; one weak cue in one post among many is noise.

use super::super::super::analyse::Source;
use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

/// Risk of grief that decides.
pub(super) const GRIEF_RISK: f64 = 0.9;
/// Risk of one weak cue.
pub(super) const POSSIBLE_GRIEF_RISK: f64 = 0.4;
/// Sample posts that must mourn (strongly) before the posts decide.
pub(super) const MOURNING_POSTS: usize = 2;
/// From this many sample posts, one weak cue in one of them is noise.
pub(super) const NOISE_AMONG_POSTS: usize = 5;

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    let grief = &moment.analysed.grief;
    let mourning_posts = grief
        .iter()
        .filter(|(found, _)| matches!(found.source, Source::Sample(_)))
        .count();
    let decides = |strong: bool, source: Source| {
        strong && (!matches!(source, Source::Sample(_)) || mourning_posts >= MOURNING_POSTS)
    };
    let (weight, declines) = if signals.solicited_care {
        (Weight::Cap, false)
    } else {
        (Weight::Decisive, true)
    };
    if let Some((found, _)) = grief
        .iter()
        .find(|(found, strong)| decides(*strong, found.source))
    {
        ledger.decline |= declines;
        ledger.review_cap = true;
        ledger.risk(
            weight,
            ReasonCode::GriefOrOutrage,
            GRIEF_RISK,
            format!("grief: {:?} in the {}", found.term, found.source.describe()),
        );
    } else if let Some((found, _)) = grief.first() {
        // One weak cue in one post among many ("I'm dying at his face")
        // is noise, as a lone dark post is for the categories.
        let noise = grief.len() == 1
            && !signals.death_like
            && matches!(found.source, Source::Sample(_))
            && moment.event.sample_posts.len() >= NOISE_AMONG_POSTS;
        if noise {
        } else if grief.len() >= 2 || signals.death_like {
            ledger.decline |= declines;
            ledger.review_cap = true;
            ledger.risk(
                weight,
                ReasonCode::GriefOrOutrage,
                GRIEF_RISK,
                format!(
                    "grief: {:?} and {} more cue(s)",
                    found.term,
                    grief.len() - 1
                ),
            );
        } else {
            ledger.risk(
                Weight::Factor,
                ReasonCode::GriefOrOutrage,
                POSSIBLE_GRIEF_RISK,
                format!(
                    "possible grief: {:?} in the {}",
                    found.term,
                    found.source.describe()
                ),
            );
        }
    }
}
