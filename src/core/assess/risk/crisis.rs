//! Rule: the brand's own crisis. Many negative posts about the brand, an
//! incident involving it (a recall, a breach), a negative story about it,
//! or its own campaign tag trending without a clear positive majority
//! under it. Silence is wrong and a cheerful post is worse: a person
//! answers.
//!
//! - Reads: which sample posts are about the brand (all of them when the
//!   brand's name is a hashtag, else those naming it), their sentiment and
//!   outrage/complaint cues, incident cues, the event's kind and
//!   sentiment, the brand's campaign tag.
//! - Moves: intrusiveness risk, reason `BrandCrisis`.
//! - Limits: at most REVIEW, and never LISTEN for risk: the crisis stays
//!   with people however high the risk (`Ledger::in_crisis`).

use super::super::super::analyse::Source;
use super::super::super::model::{EventKind, ReasonCode};
use super::super::Moment;
use super::super::ledger::{Ledger, Weight};
use super::Signals;

pub(super) const CRISIS_RISK: f64 = 0.5;
/// Posts about the brand needed before their mood is a crisis.
pub(super) const CRISIS_MIN_POSTS: usize = 3;
/// Negative posts needed, in number and as a share of those about the
/// brand.
pub(super) const CRISIS_MIN_NEGATIVE: usize = 2;
pub(super) const CRISIS_NEGATIVE_SHARE: f64 = 0.3;
/// Sentiment at or below which a post (or a story) is negative.
pub(super) const NEGATIVE_SENTIMENT: f64 = -0.3;
/// Sentiment from which a post under the campaign tag is positive.
pub(super) const POSITIVE_SENTIMENT: f64 = 0.3;

pub(super) fn apply(moment: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    let crisis = crowd_turned(moment).or_else(|| campaign_tag_trending(moment, signals));
    if let Some(detail) = crisis {
        ledger.in_crisis = true;
        ledger.review_cap = true;
        ledger.risk(Weight::Cap, ReasonCode::BrandCrisis, CRISIS_RISK, detail);
    }
}

/// Negative posts about the brand, an incident involving it, or a negative
/// story about it.
fn crowd_turned(moment: &Moment<'_>) -> Option<String> {
    let analysed = moment.analysed;
    let event = moment.event;
    let hits = &moment.hits;
    let hashtag_named = hits.names.iter().any(|(_, s)| *s == Source::Hashtag);
    let about_brand: Vec<usize> = if hashtag_named {
        (0..analysed.sample_sentiments.len()).collect()
    } else {
        hits.name_posts.clone()
    };
    // Sarcasm and bad-experience stories read neutral to a sentiment
    // score; the complaint cues count them as negative.
    let negative = about_brand
        .iter()
        .filter(|post| {
            let source = Source::Sample(**post);
            analysed
                .sample_sentiments
                .get(**post)
                .is_some_and(|s| *s <= NEGATIVE_SENTIMENT)
                || analysed.outrage.iter().any(|f| f.source == source)
                || analysed.complaint.iter().any(|f| f.source == source)
        })
        .count();
    let crowd = matches!(
        event.kind,
        EventKind::TrendingTopic
            | EventKind::News
            | EventKind::BrandMention
            | EventKind::Conversation
            | EventKind::CulturalMoment
    );
    // A single sour post among a handful is noise, not a crisis.
    let incident = analysed
        .incident
        .iter()
        .find(|f| !matches!(f.source, Source::Sample(_)))
        .or_else(|| {
            analysed.incident.iter().find(|f| match f.source {
                Source::Sample(post) => about_brand.contains(&post),
                _ => false,
            })
        });
    let talked_about = crowd && !moment.addressed && moment.named_in_event;
    if about_brand.len() >= CRISIS_MIN_POSTS
        && negative >= CRISIS_MIN_NEGATIVE
        && negative as f64 >= CRISIS_NEGATIVE_SHARE * about_brand.len() as f64
    {
        Some(format!(
            "{negative} of {} posts about the brand are negative",
            about_brand.len()
        ))
    } else if let Some(found) = incident.filter(|_| talked_about) {
        Some(format!(
            "an incident involving the brand: {:?} in the {}",
            found.term,
            found.source.describe()
        ))
    } else if talked_about
        && analysed.sample_sentiments.is_empty()
        && analysed.sentiment <= NEGATIVE_SENTIMENT
        && matches!(event.kind, EventKind::TrendingTopic | EventKind::News)
    {
        Some(format!(
            "negative {:?} about the brand (sentiment {:.2})",
            event.kind, analysed.sentiment
        ))
    } else {
        None
    }
}

/// The brand's own campaign hashtag (an alias written with '#') trending:
/// people are answering the campaign, and whether they praise it or turn it
/// against the brand lives only in their posts. Without a clear positive
/// majority under it, a person reads it first.
fn campaign_tag_trending(moment: &Moment<'_>, signals: &Signals<'_>) -> Option<String> {
    let tag = signals.campaign_tag?;
    if moment.addressed
        || !matches!(
            moment.event.kind,
            EventKind::TrendingTopic | EventKind::News
        )
    {
        return None;
    }
    let sentiments = &moment.analysed.sample_sentiments;
    let posts = sentiments.len();
    let positive = sentiments
        .iter()
        .filter(|s| **s >= POSITIVE_SENTIMENT)
        .count();
    (positive * 2 <= posts || posts == 0).then(|| {
        format!(
            "the brand's own campaign tag {tag} is trending; {positive} of {posts} posts under it are positive"
        )
    })
}
