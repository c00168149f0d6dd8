//! Rule: the crowd warns brands off. When the posts of a moment talk about
//! brands joking, joining or cashing in on it ("brands doing puns about a
//! woman who might need surgery", "how long before a brand makes a joke
//! about this and regrets it"), the people in the moment have already said
//! how a brand's joke would land. A person decides, however well it fits.
//!
//! - Reads: warning cues in the text, hashtags and sample posts.
//! - Moves: intrusiveness risk, reason `CrowdWarnsBrands`.
//! - Limits: at most REVIEW, and never LISTEN for risk: it stays with
//!   people (`Ledger::with_people`).

use super::super::super::model::ReasonCode;
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const WARNED_OFF_RISK: f64 = 0.35;

pub(super) fn apply(moment: &Moment<'_>, _: &Signals<'_>, ledger: &mut Ledger) {
    let Some(found) = moment.analysed.warned.first() else {
        return;
    };
    ledger.review_cap = true;
    ledger.with_people = true;
    ledger.risk(
        Weight::Cap,
        ReasonCode::CrowdWarnsBrands,
        WARNED_OFF_RISK,
        format!(
            "the crowd warns brands off this moment: {:?} in the {}",
            found.term,
            found.source.describe()
        ),
    );
}
