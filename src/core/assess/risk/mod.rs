//! Step 3, risk of intrusiveness: the rules that find what could make an
//! answer from the brand unwelcome or harmful. Each rule is a file of its
//! own; its header says what it reads, the factor it moves with which
//! reason code, and the limit it may put on the decision (a cap at REVIEW
//! or LISTEN, or DECLINE). Rules only add to the ledger: none undoes
//! another's finding, so their order matters only for the order of tied
//! reasons and the last bits of the risk score, which the golden file pins.

mod authenticity;
mod blackout;
mod blocked;
mod collision;
mod competitor;
mod crisis;
mod criticism;
mod distress;
mod echo;
mod frequency;
mod grief;
mod low_confidence;
mod outrage;
mod pile_on;
mod reach;
mod sensitive;
mod solicitation;
mod tragedy;
mod values;
mod warned_off;

use super::super::analyse::{Detection, Found, Source};
use super::super::compiled::Term;
use super::super::lexicon::Level;
use super::super::model::SensitiveCategory;
use super::Moment;
use super::ledger::{Ledger, unit};
use super::relevance::Relevance;
use super::timing::Timing;

pub(super) use low_confidence::unknown_content;

/// Risk added when publication would wait for the audience's quiet hours.
pub(super) const QUIET_HOURS_RISK: f64 = 0.2;
/// An author who addressed the brand invited it: the risk is scaled by
/// this.
pub(super) const ADDRESSED_RISK_FACTOR: f64 = 0.85;

/// Facts several rules read, worked out once.
pub(super) struct Signals<'a> {
    /// A customer wrote to the brand (care mode, addressed): grave content
    /// goes to a person instead of being declined.
    solicited_care: bool,
    /// The event speaks of death, injury or terror (medium or worse).
    death_like: bool,
    /// The outrage cue that counts: one in the event, or the first of two
    /// or more in the sample posts.
    outrage_cue: Option<&'a Found>,
    /// The brand's own campaign tag (an alias written with '#'), when the
    /// event names it.
    campaign_tag: Option<&'a str>,
    /// A brand term that is also a named entity of the story.
    entity_collision: Option<String>,
    /// Why the moment is the brand's own crisis (`crisis.rs`).
    crisis: Option<String>,
    /// A debated social issue of medium level or worse.
    debated: Option<&'a Detection>,
    /// The brand is named or addressed in its own crisis, a values moment
    /// or a debated issue: grey, for people to answer, not to decline.
    caught_up: bool,
}

type Rule = fn(&Moment<'_>, &Signals<'_>, &mut Ledger);

/// Every rule, in the order it runs.
const RULES: &[Rule] = &[
    sensitive::apply,
    tragedy::apply,
    grief::apply,
    distress::apply,
    outrage::apply,
    criticism::apply,
    crisis::apply,
    solicitation::apply,
    competitor::apply,
    authenticity::apply,
    frequency::apply,
    reach::apply,
    values::apply,
    echo::apply,
    pile_on::apply,
    warned_off::apply,
    collision::apply,
    blocked::apply,
    blackout::apply,
    low_confidence::apply,
];

pub(super) struct Risk {
    pub(super) score: f64,
    pub(super) solicited_care: bool,
}

pub(super) fn assess(
    moment: &Moment<'_>,
    relevance: Relevance,
    timing: &Timing,
    ledger: &mut Ledger,
) -> Risk {
    let campaign_tag = campaign_tag(moment);
    let crisis = crisis::detect(moment, campaign_tag);
    let debated = debated(moment);
    let caught_up = (moment.addressed || moment.named_in_event)
        && (crisis.is_some() || !moment.analysed.values.is_empty() || debated.is_some());
    let signals = Signals {
        solicited_care: moment.care && moment.addressed,
        death_like: death_like(moment),
        outrage_cue: outrage_cue(moment),
        campaign_tag,
        entity_collision: relevance.entity_collision,
        crisis,
        debated,
        caught_up,
    };
    for rule in RULES {
        rule(moment, &signals, ledger);
    }
    if timing.quiet {
        ledger.silent_risk(QUIET_HOURS_RISK);
    }
    let mut score = ledger.risk_value();
    if moment.addressed {
        score *= ADDRESSED_RISK_FACTOR;
    }
    Risk {
        score: unit(score),
        solicited_care: signals.solicited_care,
    }
}

fn death_like(moment: &Moment<'_>) -> bool {
    moment.analysed.sensitive.iter().any(|found| {
        matches!(
            found.category,
            SensitiveCategory::DeathInjuryMilitaryConflict | SensitiveCategory::Terrorism
        ) && found.level >= Level::Medium
    })
}

/// A debated social issue of medium level or worse.
fn debated<'a>(moment: &Moment<'a>) -> Option<&'a Detection> {
    moment.analysed.sensitive.iter().find(|found| {
        found.category == SensitiveCategory::DebatedSocialIssues && found.level >= Level::Medium
    })
}

fn outrage_cue<'a>(moment: &Moment<'a>) -> Option<&'a Found> {
    let outrage = &moment.analysed.outrage;
    outrage
        .iter()
        .find(|found| !matches!(found.source, Source::Sample(_)))
        .or_else(|| {
            let posts = outrage
                .iter()
                .filter(|found| matches!(found.source, Source::Sample(_)))
                .count();
            if posts >= 2 { outrage.first() } else { None }
        })
}

fn campaign_tag<'a>(moment: &Moment<'a>) -> Option<&'a str> {
    let names = &moment.compiled.names;
    moment.hits.names.iter().find_map(|(term, _)| match term {
        Term::Name(i) => names
            .get(*i)
            .filter(|name| name.trim_start().starts_with('#'))
            .map(String::as_str),
        _ => None,
    })
}
