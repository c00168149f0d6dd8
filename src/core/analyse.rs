//! Stage one: everything about an event that does not depend on the brand,
//! computed once and reused for every brand it is scored against.

use jiff::tz::TimeZone;

use super::lexicon::{Cue, LEXICON, Level, category_index};
use super::model::{Event, EventKind, SensitiveCategory};
use super::sentiment;
use super::text::{
    Form, Glued, Stream, StreamBuilder, algorithm_for, for_each_word, split_hashtag,
};

/// Where in the event a piece of evidence was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Text,
    Hashtag,
    Author,
    Label,
    /// Index into `sample_posts`.
    Sample(usize),
}

impl Source {
    pub fn describe(self) -> String {
        let mut s = String::new();
        self.push_describe(&mut s);
        s
    }

    /// Appends what [`Source::describe`] returns.
    pub(crate) fn push_describe(self, out: &mut String) {
        match self {
            Source::Text => out.push_str("text"),
            Source::Hashtag => out.push_str("hashtags"),
            Source::Author => out.push_str("author name"),
            Source::Label => out.push_str("upstream label"),
            Source::Sample(i) => {
                out.push_str("sample post ");
                push_uint(out, (i as u64).saturating_add(1));
            }
        }
    }
}

/// Appends `n` in decimal, as `{}` prints it.
pub(crate) fn push_uint(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// Appends `x` as `{:.N}` prints it (N = `digits` ≤ 3). Rounding the
/// scaled value is exact whenever it is not within rounding error of a
/// tie; those rare values, negatives and huge ones take the formatter.
pub(crate) fn push_fixed(out: &mut String, x: f64, digits: u32) {
    use std::fmt::Write as _;
    let m = match digits {
        0 => 1.0,
        1 => 10.0,
        2 => 100.0,
        3 => 1000.0,
        _ => 0.0,
    };
    let y = x * m;
    let r = y.round();
    let margin = y * 1e-15 + 1e-9;
    if m > 0.0 && x.is_finite() && x >= 0.0 && y < 1e12 && (0.5 - (y - r).abs()) > margin {
        let r = r as u64;
        let scale = m as u64;
        push_uint(out, r / scale);
        if digits > 0 {
            out.push('.');
            let frac = r % scale;
            let mut div = scale / 10;
            while div > 0 {
                out.push(char::from(b'0' + ((frac / div) % 10) as u8));
                div /= 10;
            }
        }
    } else {
        let _ = write!(out, "{x:.prec$}", prec = digits as usize);
    }
}

/// Appends `s` as `{:?}` prints it: quoted, and verbatim when it is
/// printable ASCII without quotes or backslashes (nearly every term).
pub(crate) fn push_debug_str(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        let _ = write!(out, "{s:?}");
    }
}

/// A sensitive-context finding for one GARM category.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub category: SensitiveCategory,
    pub level: Level,
    pub term: String,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrendPhase {
    Unknown,
    Steady,
    /// Ratio of the current rate to the recent past.
    Rising(f64),
    Fading(f64),
}

/// A cue found in the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub term: &'static str,
    pub source: Source,
}

/// The brand-independent analysis of one event. `Send + Sync`: plain data.
#[derive(Debug, Clone)]
pub struct AnalysedEvent {
    pub event: Event,
    pub(crate) form: Form,
    /// Text, hashtags and entities, one segment each.
    pub(crate) main: Stream,
    /// Index of the first hashtag segment and one past the last.
    pub hashtag_segments: (usize, usize),
    pub(crate) author: Stream,
    /// One segment per sample post.
    pub(crate) samples: Stream,
    /// One segment per upstream topic label.
    pub(crate) topics: Stream,
    pub(crate) glued: Vec<Glued>,
    /// Main-stream tokens that are hashtag words shadowed by a longer
    /// word of another split (see `TagSplit::shadowed`), ascending.
    pub(crate) shadowed: Vec<usize>,
    pub token_count: usize,
    /// Upstream sentiment when given, else VADER over the text.
    pub sentiment: f64,
    pub sentiment_upstream: bool,
    pub sample_sentiments: Vec<f64>,
    /// Worst level per category, with the evidence.
    pub sensitive: Vec<Detection>,
    pub grief: Vec<(Found, bool)>,
    pub outrage: Vec<Found>,
    pub values: Vec<Found>,
    pub echo: Vec<Found>,
    pub remembrance: Vec<Found>,
    /// Bad-experience and sarcasm cues (crisis evidence).
    pub complaint: Vec<Found>,
    /// Corporate-incident cues (recall, breach, scandal).
    pub incident: Vec<Found>,
    /// A person in crisis.
    pub distress: Vec<Found>,
    /// Tragedy anniversaries whose date matches the event's local date
    /// (within a day) and whose keywords or a remembrance cue appear.
    pub anniversary: Option<(&'static str, Found)>,
    pub trend: TrendPhase,
    /// The audience time zone, resolved once (`None`: not given or
    /// unknown).
    pub(crate) audience_tz: Option<TimeZone>,
    /// Upstream labelled the event safe.
    pub upstream_safe: bool,
}

/// Upstream label → category and level (`None` level: the label named a
/// category without a level, which counts as high).
fn parse_label(label: &str) -> Option<(SensitiveCategory, Level)> {
    let l = label.to_lowercase();
    let level = if l.contains("floor") {
        Level::Floor
    } else if l.contains("medium") {
        Level::Medium
    } else if l.contains("low") {
        Level::Low
    } else {
        Level::High
    };
    let has = |keys: &[&str]| keys.iter().any(|k| l.contains(k));
    use SensitiveCategory as C;
    let cat = if has(&["terror"]) {
        C::Terrorism
    } else if has(&["hate"]) {
        C::HateSpeech
    } else if has(&["adult", "sexual", "nsfw", "explicit"]) {
        C::Adult
    } else if has(&["arms", "weapon", "ammunition", "firearm"]) {
        C::ArmsAmmunition
    } else if has(&[
        "death", "injury", "military", "war", "conflict", "tragedy", "disaster", "violence",
    ]) {
        C::DeathInjuryMilitaryConflict
    } else if has(&["crime", "abuse", "harmful_act", "human_rights"]) {
        C::CrimeHarmfulActs
    } else if has(&["piracy"]) {
        C::OnlinePiracy
    } else if has(&["obscen", "profan"]) {
        C::ObscenityProfanity
    } else if has(&["drug", "tobacco", "alcohol", "vap"]) {
        C::DrugsTobaccoAlcohol
    } else if has(&["spam", "harmful"]) {
        C::SpamHarmful
    } else if has(&["debated", "social_issue", "social issue", "politic"]) {
        C::DebatedSocialIssues
    } else if has(&["misinfo", "disinfo"]) {
        C::Misinformation
    } else {
        return None;
    };
    Some((cat, level))
}

fn trend_of(event: &Event) -> TrendPhase {
    let Some(v) = &event.velocity else {
        return TrendPhase::Unknown;
    };
    let hist = &v.history_per_minute;
    if hist.is_empty() {
        return TrendPhase::Unknown;
    }
    let now = v.mentions_per_minute.max(0.0);
    let recent: Vec<f64> = hist.iter().rev().take(3).copied().collect();
    let prev = recent.iter().sum::<f64>() / recent.len() as f64;
    let peak = hist.iter().copied().fold(0.0_f64, f64::max);
    let ratio = (now + 0.1) / (prev + 0.1);
    if !ratio.is_finite() {
        return TrendPhase::Unknown;
    }
    // A rate far below its own peak has passed, whatever the last few
    // windows did.
    if ratio <= 0.8 || (peak > 0.0 && now < peak * 0.5) {
        TrendPhase::Fading(((now + 0.1) / (peak.max(prev) + 0.1)).min(ratio))
    } else if ratio >= 1.25 {
        TrendPhase::Rising(ratio)
    } else {
        TrendPhase::Steady
    }
}

/// Analyses an event once, for any number of brands.
pub fn analyse(event: &Event) -> AnalysedEvent {
    let algorithm = algorithm_for(&event.language);
    let form = if algorithm == rust_stemmers::Algorithm::English {
        Form::English
    } else {
        Form::Raw
    };

    let mut main = StreamBuilder::new(form, algorithm);
    let token_count = main.push_words(&event.text);
    let first_tag = main.starts.len();
    let mut glued = Vec::new();
    let mut shadowed = Vec::new();
    for tag in event.hashtags.iter().take(200) {
        let split = split_hashtag(tag);
        let base = main.token_len();
        shadowed.extend(
            split
                .shadowed
                .iter()
                .enumerate()
                .filter(|(_, s)| **s)
                .map(|(i, _)| base + i),
        );
        main.push_segment(&split.words);
        if let Some(g) = split.glued {
            glued.push(g);
        }
    }
    let tags_end = main.starts.len();
    for e in event.entities.iter().take(200) {
        main.push_words(e);
    }
    let main = main.finish();

    let mut author = StreamBuilder::new(form, algorithm);
    if let Some(a) = &event.author {
        author.push_segment(&split_hashtag(&a.id).words);
        author.push_words(&a.display_name);
        author.push_segment(&split_hashtag(&a.display_name.replace(' ', "")).words);
    }
    let author = author.finish();

    let mut samples = StreamBuilder::new(form, algorithm);
    for p in event.sample_posts.iter().take(200) {
        samples.begin_segment();
        for_each_word(p, |w| samples.push_token(w));
        // Hashtags inside a post are split like the event's own.
        for w in p.split_whitespace().filter(|w| w.starts_with('#')) {
            for t in split_hashtag(w).words {
                samples.push_token(&t);
            }
        }
        samples.end_segment();
    }
    let samples = samples.finish();

    let mut topics = StreamBuilder::new(form, algorithm);
    for t in event.topics.iter().take(200) {
        topics.push_words(&t.label);
    }
    let topics = topics.finish();

    let (sentiment, sentiment_upstream) = match event.sentiment {
        Some(s) if s.is_finite() => (s.clamp(-1.0, 1.0), true),
        _ => (sentiment::compound(&event.text), false),
    };
    let sample_sentiments = event
        .sample_posts
        .iter()
        .take(200)
        .map(|p| sentiment::compound(&without_tags(p)))
        .collect();

    let mut a = AnalysedEvent {
        event: event.clone(),
        form,
        main,
        hashtag_segments: (first_tag, tags_end),
        author,
        samples,
        topics,
        glued,
        shadowed,
        token_count,
        sentiment,
        sentiment_upstream,
        sample_sentiments,
        sensitive: Vec::new(),
        grief: Vec::new(),
        outrage: Vec::new(),
        values: Vec::new(),
        echo: Vec::new(),
        remembrance: Vec::new(),
        complaint: Vec::new(),
        incident: Vec::new(),
        distress: Vec::new(),
        anniversary: None,
        trend: trend_of(event),
        audience_tz: if event.audience_time_zone.is_empty() {
            None
        } else {
            TimeZone::get(&event.audience_time_zone).ok()
        },
        upstream_safe: false,
    };
    screen(&mut a);
    a
}

/// A post without its hashtags and handles: the tag's own words ("#Qantas
/// Luxury") say nothing about how people feel under it.
fn without_tags(post: &str) -> String {
    post.split_whitespace()
        .filter(|w| !w.starts_with(['#', '@']))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a word is profanity with letters starred out ("f***ing",
/// "sh*t"): writers mask exactly the words they know are obscene.
fn masked_profanity(text: &str) -> bool {
    // Nearly no text has a star: skip the word scan (9% of analyse).
    text.contains('*')
        && text.split_whitespace().any(|w| {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '*');
            w.len() >= 3
                && w.starts_with(|c: char| c.is_ascii_alphabetic())
                && w.contains('*')
                && w.chars().all(|c| c.is_ascii_alphabetic() || c == '*')
        })
}

fn is_benign(idx: usize) -> bool {
    LEXICON
        .entries
        .get(idx)
        .is_some_and(|(_, cues)| cues.contains(&Cue::Benign))
}

/// Token spans `[first, end)` of the benign idioms among a stream's
/// lexicon matches.
fn benign_spans(hits: &[(usize, usize, usize)]) -> Vec<(usize, usize)> {
    hits.iter()
        .filter(|(idx, _, _)| is_benign(*idx))
        .map(|&(_, k, n)| (k, k + n))
        .collect()
}

/// Whether the match of entry `idx` over tokens `[k, k + n)` lies inside a
/// benign idiom (and is not that idiom itself).
fn masked(spans: &[(usize, usize)], idx: usize, k: usize, n: usize) -> bool {
    if is_benign(idx) {
        return true;
    }
    spans.iter().any(|(s, e)| *s <= k && k + n <= *e)
}

/// Runs the lexicons over every field and records what they found.
fn screen(a: &mut AnalysedEvent) {
    let lex = &*LEXICON;
    let matcher = lex.matcher(a.form);
    // Worst finding per category, per source kind (event vs samples).
    let mut worst: [Option<Detection>; 12] = Default::default();
    let mut sample_hits: [Vec<(Level, usize, &'static str)>; 12] = Default::default();
    let mut anniversary_terms: Vec<(usize, Found)> = Vec::new();

    let mut record =
        |a: &mut AnalysedEvent, idx: usize, source: Source, masked: bool, shadowed: bool| {
            let Some((term, cues)) = lex.entries.get(idx) else {
                return;
            };
            // Inside a figurative phrase ("killing it", "Star Wars") the word is
            // not what it says; the phrase itself carries no risk.
            if masked {
                return;
            }
            let names_only = source == Source::Author || shadowed;
            // Floor terms stand wherever a reader could see them.
            for cue in cues {
                if shadowed && !matches!(cue, Cue::Garm(..)) {
                    continue;
                }
                match *cue {
                    Cue::Garm(cat, level) => {
                        // A name, or a hashtag word a reader does not see
                        // ("flood" in #floodlightfailure), is screened for what
                        // a brand must never repeat, not for topics such as
                        // "dead" in a band name.
                        if names_only
                            && !(shadowed && level == Level::Floor)
                            && !matches!(
                                cat,
                                SensitiveCategory::HateSpeech
                                    | SensitiveCategory::Adult
                                    | SensitiveCategory::ObscenityProfanity
                            )
                        {
                            continue;
                        }
                        let ci = category_index(cat);
                        if let Source::Sample(i) = source {
                            sample_hits[ci].push((level, i, term));
                        } else if worst[ci].as_ref().is_none_or(|d| d.level < level) {
                            worst[ci] = Some(Detection {
                                category: cat,
                                level,
                                term: (*term).to_string(),
                                source,
                            });
                        }
                    }
                    Cue::Grief(strong)
                        if source != Source::Author
                            && !a.grief.iter().any(|(f, _)| f.term == *term) =>
                    {
                        a.grief.push((Found { term, source }, strong));
                    }
                    Cue::Outrage if source != Source::Author => {
                        a.outrage.push(Found { term, source })
                    }
                    Cue::Values if !matches!(source, Source::Author | Source::Sample(_)) => {
                        a.values.push(Found { term, source })
                    }
                    Cue::Echo if !matches!(source, Source::Author | Source::Sample(_)) => {
                        a.echo.push(Found { term, source })
                    }
                    Cue::Remembrance if !matches!(source, Source::Author) => {
                        a.remembrance.push(Found { term, source })
                    }
                    Cue::Anniversary(i) if !matches!(source, Source::Author) => {
                        anniversary_terms.push((i, Found { term, source }))
                    }
                    Cue::Complaint if source != Source::Author => {
                        a.complaint.push(Found { term, source })
                    }
                    Cue::Incident if source != Source::Author => {
                        a.incident.push(Found { term, source })
                    }
                    Cue::Distress if !matches!(source, Source::Author | Source::Sample(_)) => {
                        a.distress.push(Found { term, source })
                    }
                    _ => {}
                }
            }
        };

    let main = std::mem::take(&mut a.main);
    let (t0, t1) = a.hashtag_segments;
    let t0 = t0 as u32;
    let hits = matcher.overlapping(&main);
    let spans = benign_spans(&hits);
    // In a person's own post a death word next to a thing ("the update
    // killed my battery") is a machine failing. Stories and trends keep
    // every death word: there the thing may be what the victims carried.
    let personal = matches!(
        a.event.kind,
        EventKind::Complaint
            | EventKind::Question
            | EventKind::DirectMessage
            | EventKind::BrandMention
            | EventKind::Praise
            | EventKind::Conversation
    );
    let seg_of = |k: usize| main.toks.get(k).map_or(u32::MAX, |t| t.seg);
    let mut objects: Vec<usize> = Vec::new();
    if personal {
        for &(idx, k, _) in &hits {
            if lex
                .entries
                .get(idx)
                .is_some_and(|(_, cues)| cues.contains(&Cue::Object))
                && seg_of(k) < t0
            {
                objects.push(k);
            }
        }
    }
    let machine_idiom = |idx: usize, k: usize| -> bool {
        if objects.is_empty() || seg_of(k) >= t0 {
            return false;
        }
        let Some((term, cues)) = lex.entries.get(idx) else {
            return false;
        };
        let deathly = cues.iter().any(|c| {
            matches!(
                c,
                Cue::Garm(SensitiveCategory::DeathInjuryMilitaryConflict, _) | Cue::Grief(_)
            )
        });
        if !deathly || term.contains(' ') {
            return false;
        }
        // Objects and the word are both in the text segment, so token
        // distance is word distance.
        objects.iter().any(|o| o.abs_diff(k) <= 3)
    };
    for &(idx, k, n) in &hits {
        let seg = seg_of(k) as usize;
        let src = if (t0 as usize..t1).contains(&seg) {
            Source::Hashtag
        } else {
            Source::Text
        };
        let m = masked(&spans, idx, k, n) || machine_idiom(idx, k);
        let shadowed = n == 1 && a.shadowed.binary_search(&k).is_ok();
        record(a, idx, src, m, shadowed);
    }
    a.main = main;
    let hits = matcher.overlapping(&a.author);
    let spans = benign_spans(&hits);
    for &(idx, k, n) in &hits {
        record(a, idx, Source::Author, masked(&spans, idx, k, n), false);
    }
    let samples = std::mem::take(&mut a.samples);
    let hits = matcher.overlapping(&samples);
    let spans = benign_spans(&hits);
    for &(idx, k, n) in &hits {
        let seg = samples.toks.get(k).map_or(0, |t| t.seg as usize);
        record(
            a,
            idx,
            Source::Sample(seg),
            masked(&spans, idx, k, n),
            false,
        );
    }
    a.samples = samples;
    let oi = category_index(SensitiveCategory::ObscenityProfanity);
    if masked_profanity(&a.event.text) && worst[oi].as_ref().is_none_or(|d| d.level < Level::High) {
        worst[oi] = Some(Detection {
            category: SensitiveCategory::ObscenityProfanity,
            level: Level::High,
            term: "starred-out profanity".into(),
            source: Source::Text,
        });
    }
    for (i, p) in a.event.sample_posts.iter().take(200).enumerate() {
        if masked_profanity(p) {
            sample_hits[oi].push((Level::High, i, "starred-out profanity"));
        }
    }

    // A tag is judged by what is said under it: a category counts at the
    // level its sample posts show, one level lower when a single post among
    // many is the only evidence.
    let n_posts = a.event.sample_posts.len().min(200);
    // Posts with any medium-or-worse finding: when only one post among
    // many says anything dark ("feeling dead inside lol"), it is noise and
    // counts two levels lower; several posts each naming a different
    // danger still add up to a dangerous tag.
    let mut dark_posts: Vec<usize> = sample_hits
        .iter()
        .flatten()
        .filter(|h| h.0 >= Level::Medium)
        .map(|h| h.1)
        .collect();
    dark_posts.sort_unstable();
    dark_posts.dedup();
    // Mourning in another post corroborates the one dark post ("praying
    // for the families" beside "a shooting at a school"): not noise then.
    let mourned_elsewhere = dark_posts.first().is_some_and(|d| {
        a.grief
            .iter()
            .any(|(f, _)| matches!(f.source, Source::Sample(i) if i != *d))
    });
    let lone = dark_posts.len() == 1 && n_posts >= 5 && !mourned_elsewhere;
    for (ci, hits) in sample_hits.iter().enumerate() {
        let Some(&(level, post, term)) = hits.iter().max_by_key(|h| (h.0, std::cmp::Reverse(h.1)))
        else {
            continue;
        };
        let mut posts: Vec<usize> = hits
            .iter()
            .filter(|h| h.0 >= level.down())
            .map(|h| h.1)
            .collect();
        posts.dedup();
        let level = if lone && level < Level::Floor {
            level.down().down()
        } else if posts.len() == 1 && n_posts >= 5 && level < Level::Floor {
            level.down()
        } else {
            level
        };
        if worst[ci].as_ref().is_none_or(|d| d.level < level) {
            worst[ci] = Some(Detection {
                category: SensitiveCategory::ALL[ci],
                level,
                term: term.to_string(),
                source: Source::Sample(post),
            });
        }
    }

    // Upstream labels take precedence over the lexicon for the categories
    // they name; "safe" silences lexicon findings below high. Floor terms
    // always stand: they are never acceptable, whoever labelled the event.
    for label in &a.event.sensitivity_labels {
        let l = label.to_lowercase();
        if matches!(l.trim(), "safe" | "none" | "brand_safe" | "brand safe") {
            a.upstream_safe = true;
            continue;
        }
        if l.contains("grief") || l.contains("mourning") {
            a.grief.push((
                Found {
                    term: "upstream grief label",
                    source: Source::Label,
                },
                true,
            ));
        }
        if let Some((cat, level)) = parse_label(&l) {
            let ci = category_index(cat);
            let keep_floor = worst[ci].as_ref().is_some_and(|d| d.level == Level::Floor);
            if !keep_floor {
                worst[ci] = Some(Detection {
                    category: cat,
                    level,
                    term: label.clone(),
                    source: Source::Label,
                });
            }
        }
    }
    if a.upstream_safe {
        for w in worst.iter_mut() {
            if w.as_ref()
                .is_some_and(|d| d.level < Level::High && d.source != Source::Label)
            {
                *w = None;
            }
        }
    }
    a.sensitive = worst.into_iter().flatten().collect();

    // Date-aware anniversaries: the event's local date within a day of the
    // anniversary, plus its keywords or a remembrance cue.
    if !a.event.audience_time_zone.is_empty()
        || !anniversary_terms.is_empty()
        || !a.remembrance.is_empty()
    {
        let tz = a.audience_tz.clone().unwrap_or(TimeZone::UTC);
        let date = tz.to_datetime(a.event.occurred_at).date();
        // The day before, the day and the day after, computed once.
        let mut near_days: [Option<(i8, i8)>; 3] = [None; 3];
        for (slot, d) in near_days.iter_mut().zip([-1i64, 0, 1]) {
            *slot = date
                .checked_add(jiff::Span::new().days(d))
                .ok()
                .map(|x| (x.month(), x.day()));
        }
        for (i, ann) in lex.anniversaries.iter().enumerate() {
            let near = near_days
                .iter()
                .flatten()
                .any(|&(m, d)| m == ann.month && d == ann.day);
            if !near {
                continue;
            }
            let evidence = anniversary_terms
                .iter()
                .find(|(j, _)| *j == i)
                .map(|(_, f)| f.clone())
                .or_else(|| a.remembrance.first().cloned());
            if let Some(f) = evidence {
                a.anniversary = Some((ann.name, f));
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    pub(crate) fn event(text: &str) -> Event {
        Event {
            id: "e1".into(),
            kind: super::super::model::EventKind::TrendingTopic,
            text: text.into(),
            language: String::new(),
            hashtags: Vec::new(),
            topics: Vec::new(),
            entities: Vec::new(),
            occurred_at: Timestamp::UNIX_EPOCH,
            observed_at: None,
            channel: String::new(),
            author: None,
            addressed_to_brand: false,
            conversation_id: String::new(),
            audience_time_zone: String::new(),
            audience_region: String::new(),
            velocity: None,
            sentiment: None,
            sensitivity_labels: Vec::new(),
            sample_posts: Vec::new(),
            embedding: Vec::new(),
        }
    }

    #[test]
    fn detects_categories_in_text_hashtags_and_samples() {
        let mut e = event("Hurricane makes landfall, three dead");
        let a = analyse(&e);
        assert!(a.sensitive.iter().any(|d| d.category
            == SensitiveCategory::DeathInjuryMilitaryConflict
            && d.level == Level::High));
        e.text = "Join the conversation".into();
        e.hashtags = vec!["#WhyIStayed".into()];
        let a = analyse(&e);
        assert!(
            a.sensitive
                .iter()
                .any(|d| d.category == SensitiveCategory::CrimeHarmfulActs
                    && d.source == Source::Hashtag),
            "{:?}",
            a.sensitive
        );
        e.hashtags = vec!["#MondayStories".into()];
        e.sample_posts = vec![
            "he hit me and I stayed because I had nowhere to go".into(),
            "domestic abuse is not a joke".into(),
        ];
        let a = analyse(&e);
        let d = a
            .sensitive
            .iter()
            .find(|d| d.category == SensitiveCategory::CrimeHarmfulActs)
            .expect("abuse detected");
        assert!(matches!(d.source, Source::Sample(_)) && d.level >= Level::High);
    }

    #[test]
    fn upstream_labels_take_precedence() {
        let mut e = event("A quiet day at the park");
        e.sensitivity_labels = vec!["garm:terrorism:high".into()];
        let a = analyse(&e);
        assert!(
            a.sensitive
                .iter()
                .any(|d| d.category == SensitiveCategory::Terrorism)
        );
        e.text = "The storm of sales is here".into();
        e.sensitivity_labels = vec!["safe".into()];
        assert!(analyse(&e).sensitive.is_empty());
    }

    #[test]
    fn anniversaries_need_the_date_and_a_cue() {
        let mut e = event("Never forget. Remembering those we lost.");
        e.occurred_at = "2024-09-11T13:00:00Z".parse().expect("ts");
        assert_eq!(
            analyse(&e).anniversary.map(|(n, _)| n),
            Some("september 11 attacks")
        );
        e.occurred_at = "2024-07-02T13:00:00Z".parse().expect("ts");
        assert_eq!(analyse(&e).anniversary, None);
    }

    #[test]
    fn machine_deaths_in_personal_posts_are_not_deaths() {
        let mut e = event("@Brand the update killed my battery and my phone is dead");
        e.kind = EventKind::Complaint;
        let a = analyse(&e);
        assert!(
            a.sensitive.is_empty() && a.grief.is_empty(),
            "{:?}",
            a.sensitive
        );
        // A story keeps every death word, things nearby or not.
        e.kind = EventKind::News;
        e.text = "Driver killed, phone found at the scene".into();
        assert!(!analyse(&e).sensitive.is_empty());
    }

    #[test]
    fn starred_out_profanity_counts_as_profanity() {
        assert!(masked_profanity("you absolute f***ing clowns"));
        assert!(masked_profanity("what a sh*t show"));
        assert!(!masked_profanity("rated 5* and *loved* it"));
        let a = analyse(&event("@Brand you f***ing clowns"));
        assert!(
            a.sensitive
                .iter()
                .any(|d| d.category == SensitiveCategory::ObscenityProfanity)
        );
    }

    #[test]
    fn sample_sentiment_ignores_the_tags_own_words() {
        let mut e = event("#AirLuxury");
        e.sample_posts = vec!["#LuxuryJoy stranded at the gate for two days".into()];
        let a = analyse(&e);
        assert!(a.sample_sentiments.first().is_some_and(|s| *s < 0.3));
    }

    #[test]
    fn fast_formatting_prints_what_the_formatter_prints() {
        let mut x = 0.0f64;
        let mut values = vec![0.0, 0.005, 0.015, 0.125, 0.375, 2.5, 0.5, 1.0, 1e13, -0.001];
        values.extend([f64::NAN, f64::INFINITY, 0.1 + 0.2, 1.0 / 3.0]);
        let mut r = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            x += (r % 1000) as f64 / 997.0;
            values.push(x);
            values.push((r % 100_000) as f64 / 1000.0);
            values.push(f64::from_bits(r >> 2));
        }
        for v in values {
            for d in 0..=3u32 {
                let mut s = String::new();
                push_fixed(&mut s, v, d);
                assert_eq!(s, format!("{v:.prec$}", prec = d as usize), "{v:e} {d}");
            }
            let mut s = String::new();
            push_uint(&mut s, v.to_bits());
            assert_eq!(s, v.to_bits().to_string());
        }
        for t in [
            "coffee",
            "a \"b\"",
            "back\\slash",
            "tab\there",
            "café",
            "",
            "ok'quote",
        ] {
            let mut s = String::new();
            push_debug_str(&mut s, t);
            assert_eq!(s, format!("{t:?}"));
        }
    }

    #[test]
    fn trend_phase_from_velocity() {
        let mut e = event("x");
        e.velocity = Some(super::super::model::Velocity {
            mentions_per_minute: 50.0,
            history_per_minute: vec![5.0, 10.0, 20.0],
            window: std::time::Duration::from_secs(300),
        });
        assert!(matches!(analyse(&e).trend, TrendPhase::Rising(_)));
        e.velocity = Some(super::super::model::Velocity {
            mentions_per_minute: 2.0,
            history_per_minute: vec![80.0, 40.0, 10.0],
            window: std::time::Duration::from_secs(300),
        });
        assert!(matches!(analyse(&e).trend, TrendPhase::Fading(_)));
    }
}
