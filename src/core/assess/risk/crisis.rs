//! Rule: the brand's own crisis. Many negative posts about the brand, an
//! incident involving it (a recall, a breach), a negative story about it,
//! or its own campaign tag trending without a clear positive majority
//! under it. Silence is wrong and a cheerful post is worse: a person
//! answers.
//!
//! The brand's own moment (a hashtag that names it, its campaign tag, or a
//! hashtag that carries one of its own slogans) is its name or campaign turned
//! against it as soon as enough posts under it mock it, whoever they tag:
//! sarcasm dresses in praise ("great job", "love how…", "would be nice
//! if…"), so there an irony frame counts as mockery.
//!
//! - Reads: which sample posts are about the brand (all of them in the
//!   brand's own moment, else those naming it), their sentiment and
//!   outrage/complaint cues (and irony frames in its own moment), incident
//!   cues, the event's kind and sentiment, the brand's campaign tag and
//!   slogans.
//! - Moves: intrusiveness risk, reason `BrandCrisis`.
//! - Limits: at most REVIEW, and never LISTEN for risk: the crisis stays
//!   with people however high the risk (`Ledger::with_people`).

use super::super::super::analyse::Source;
use super::super::super::model::{EventKind, ReasonCode};
use super::super::super::text::compact_chars;
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

/// Slogans (themes) of at least this many words found inside a hashtag
/// make the moment the brand's own (#SpreadTheCheer for "spread the
/// cheer", #RealBeautyBottles for "real beauty").
pub(super) const SLOGAN_MIN_WORDS: usize = 2;

pub(super) fn apply(_: &Moment<'_>, signals: &Signals<'_>, ledger: &mut Ledger) {
    if let Some(detail) = &signals.crisis {
        ledger.with_people = true;
        ledger.review_cap = true;
        ledger.risk(
            Weight::Cap,
            ReasonCode::BrandCrisis,
            CRISIS_RISK,
            detail.clone(),
        );
    }
}

/// Why the moment is the brand's own crisis, if it is: read once, before
/// the rules run, because other rules ask whether the brand is caught up
/// in its own moment.
pub(super) fn detect(moment: &Moment<'_>, campaign_tag: Option<&str>) -> Option<String> {
    let own = campaign_tag.is_some() || own_slogan_tag(moment);
    crowd_turned(moment, own).or_else(|| campaign_tag_trending(moment, campaign_tag))
}

/// Whether a hashtag (already compact: letters and digits, lower-cased)
/// spells `phrase` somewhere in it, ignoring the phrase's spaces,
/// punctuation and case ("#RealBeautyBottles" carries "real beauty").
fn spells(tag: &str, phrase: &str) -> bool {
    let mut compact = [0u8; SLOGAN_MAX_BYTES];
    let mut len = 0;
    for c in compact_chars(phrase) {
        let mut buf = [0u8; 4];
        let bytes = c.encode_utf8(&mut buf).as_bytes();
        let Some(slot) = compact.get_mut(len..len + bytes.len()) else {
            // A slogan this long is no hashtag.
            return false;
        };
        slot.copy_from_slice(bytes);
        len += bytes.len();
    }
    let needle = compact.get(..len).unwrap_or_default();
    !needle.is_empty() && tag.as_bytes().windows(len).any(|w| w == needle)
}

/// Slogans longer than this (in UTF-8 bytes, letters and digits only) are
/// never looked for in hashtags.
const SLOGAN_MAX_BYTES: usize = 64;

/// A hashtag of the event (in its tags or its text) that carries one of
/// the brand's slogans of several words.
fn own_slogan_tag(moment: &Moment<'_>) -> bool {
    let tags = &moment.analysed.compact_tags;
    if tags.is_empty() {
        return false;
    }
    moment.hits.themes.iter().any(|(i, _)| {
        moment.profile.themes.get(*i).is_some_and(|theme| {
            theme.term.split_whitespace().count() >= SLOGAN_MIN_WORDS
                && tags.iter().any(|tag| spells(tag, &theme.term))
        })
    })
}

/// Negative posts about the brand, an incident involving it, or a negative
/// story about it. `own`: the moment is the brand's own campaign.
fn crowd_turned(moment: &Moment<'_>, own: bool) -> Option<String> {
    let analysed = moment.analysed;
    let event = moment.event;
    let hits = &moment.hits;
    let hashtag_named = hits.names.iter().any(|(_, s)| *s == Source::Hashtag);
    let own = own || hashtag_named;
    let about_brand: Vec<usize> = if own {
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
                || (own && analysed.sarcasm.iter().any(|f| f.source == source))
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
    // Talked about rather than talked to: a mention addressed to the brand
    // is a customer's, for care; a story or trend is the crowd's whoever
    // it tags.
    let story = matches!(
        event.kind,
        EventKind::TrendingTopic | EventKind::News | EventKind::CulturalMoment
    );
    let talked_about =
        crowd && (moment.named_in_event || moment.addressed) && (!moment.addressed || story);
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
fn campaign_tag_trending(moment: &Moment<'_>, campaign_tag: Option<&str>) -> Option<String> {
    let tag = campaign_tag?;
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
