//! Stage one: everything about an event that does not depend on the brand,
//! computed once and reused for every brand it is scored against.

use jiff::tz::TimeZone;

use super::deadpan;
use super::intrusion;
use super::lexicon::{
    CodePart, Cue, FIGURATIVE_STEMS, LEXICON, Level, SPELLABLE_CODES, SPLIT_CODES, category_index,
    figurative_prone,
};
use super::model::{Event, EventKind, SensitiveCategory};
use super::payload;
use super::reading::{self, Vader};
use super::sentiment;
use super::spelled;
use super::text::{
    FastMap, Form, Glued, MAX_FIELD_BYTES, Stream, StreamBuilder, TagSplit, algorithm_for, compact,
    for_each_word, pattern, split_hashtag_within,
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
    /// A death, weapon or terror word nothing in the moment corroborates
    /// (no news, grief or report of violence): read as a figure of speech
    /// ("killing it", "sandwich wars") and counted at `Level::Low`.
    pub figurative: bool,
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
    /// Coded hate in the text, hashtags or author (a code counts only
    /// inside an echo request).
    pub codes: Vec<Found>,
    /// Irony frames ("love how", "would be nice if").
    pub sarcasm: Vec<Found>,
    /// Harassment of a private person, and whether the cue is an act
    /// (doxxing, tracking down) rather than talk ("leave her alone").
    pub pile_on: Vec<(Found, bool)>,
    /// The crowd warning brands off the moment ("brands making jokes").
    pub warned: Vec<Found>,
    /// At least half the event's letters are outside the Latin script: the
    /// lexicons (English, matched on Latin words) cannot read it.
    pub foreign_script: bool,
    /// Reports of literal violence ("death toll", "gunman").
    pub violence: Vec<Found>,
    /// The event's hashtags, in its tags and its text, as letters and
    /// digits lower-cased ("#SpreadTheCheer" → "spreadthecheer"): how a
    /// brand's slogan is recognised as the moment's own tag.
    pub compact_tags: Vec<String>,
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

impl AnalysedEvent {
    /// Tokens in the analysis's streams: with the event it keeps, what its
    /// memory grows with (about 30 bytes a token).
    pub fn stream_tokens(&self) -> usize {
        [&self.main, &self.author, &self.samples, &self.topics]
            .iter()
            .map(|s| s.toks.len())
            .sum()
    }
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

fn trend_of(event: &Event, meter: &mut Meter) -> TrendPhase {
    let Some(v) = &event.velocity else {
        return TrendPhase::Unknown;
    };
    let hist = &v.history_per_minute;
    meter.add(hist.len() as u64);
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

/// Work units the segmentation of one-case hashtags (`#dunkinthedark`)
/// may spend on one event: the event's own tags first, then the author's
/// handle and name, then the tags inside sample posts (a tag repeated in
/// several posts is segmented once). A tag the rest of the budget cannot
/// pay for stays one plain word, as a tag of more than 64 letters does.
///
/// Segmenting costs `text::SEGMENT_UNITS_PER_BYTE` (60) units a byte,
/// where every other step costs a few: without a budget, 1 MB of sample
/// posts made of 64-letter one-case tags took 0.9 CPU-seconds. 245,760
/// units are 4 KiB of one-case tags: 64 of the longest segmented length,
/// or 270 of 15 letters. The most any event of the three corpora of real
/// moments spends is 1,800 units (30 letters), of the 1,500 generated
/// golden events 4,380 (73 letters), so no decision they pin comes near
/// it. Spent in full it costs about 0.3 ms.
pub const SEGMENT_BUDGET: u64 = 4 * 1024 * super::text::SEGMENT_UNITS_PER_BYTE;

/// Words that the splits of one-case hashtags may add to an event's
/// streams, besides the tags themselves; a split the rest cannot hold
/// adds none (its tag stays one word). A tag segmented once is reused in
/// every post that repeats it, but its words are added, and charged, each
/// time. Without this bound, 1 MB of posts repeating one 64-letter tag
/// of overlapping short words ("#emyinsininsccantinin...", 75 words)
/// made 1.16 million tokens: a 60 MB analysis, 43 ms. A trending tag split
/// into 10 words in each of 200 posts uses 2,000; the corpora of real
/// moments use at most 12, the generated golden events 23.
pub const SPLIT_WORDS_BUDGET: u64 = 16_384;

/// Work units per byte of [`input_bytes`] that an analysis spends beyond
/// [`WORK_BASE`] and the segmentation budget. Every pass reads each byte
/// a bounded number of times; a token takes at least two bytes of its
/// text (a word and its separator; a hashtag in a sample post is read both
/// as words and as a tag); a token tries at most a dozen lexicon patterns;
/// and the split-word budget bounds what one-case tags add. The densest
/// inputs found cost 16.3 units a byte (sample posts of 512-byte tags
/// "#in#in#in...", each "in" a token twice and a dozen candidates) and
/// 13.2 (one 64-letter tag of overlapping short words in every post); the
/// ordinary 280-character event of the benches costs 4.6.
pub const WORK_PER_BYTE: u64 = 24;

/// Work units of any event, whatever its size (its stream builders,
/// lexicon passes and sentiment set-up).
pub const WORK_BASE: u64 = 64;

/// The most work [`analyse_metered`] can report for `event`:
/// `WORK_BASE + SEGMENT_BUDGET + WORK_PER_BYTE * input_bytes(event)`.
pub fn work_bound(event: &Event) -> u64 {
    WORK_BASE
        .saturating_add(SEGMENT_BUDGET)
        .saturating_add(WORK_PER_BYTE.saturating_mul(input_bytes(event)))
}

/// The bytes of an event that analysis reads: its strings, and the
/// numbers it copies (8 per velocity sample, 4 per embedding value).
pub fn input_bytes(e: &Event) -> u64 {
    let strs = |l: &[String]| l.iter().map(|s| s.len() as u64).sum::<u64>();
    let author = e
        .author
        .as_ref()
        .map_or(0, |a| (a.id.len() + a.display_name.len()) as u64);
    let history = e
        .velocity
        .as_ref()
        .map_or(0, |v| 8 * v.history_per_minute.len() as u64);
    [
        e.id.len() as u64,
        e.text.len() as u64,
        e.language.len() as u64,
        strs(&e.hashtags),
        e.topics.iter().map(|t| t.label.len() as u64).sum(),
        strs(&e.entities),
        e.channel.len() as u64,
        author,
        e.conversation_id.len() as u64,
        e.audience_time_zone.len() as u64,
        e.audience_region.len() as u64,
        history,
        strs(&e.sensitivity_labels),
        strs(&e.sample_posts),
        4 * e.embedding.len() as u64,
    ]
    .iter()
    .fold(0u64, |acc, x| acc.saturating_add(*x))
}

/// Analyses an event once, for any number of brands.
pub fn analyse(event: &Event) -> AnalysedEvent {
    analyse_owned(event.clone())
}

/// [`analyse`] of an event the caller no longer needs: the analysis keeps
/// it as it is instead of a copy (a new event's strings are a tenth of the
/// allocations of its analysis).
pub fn analyse_owned(event: Event) -> AnalysedEvent {
    analyse_within(event, SEGMENT_BUDGET, SPLIT_WORDS_BUDGET).0
}

/// Counts work units and keeps the budgets of one analysis.
pub(crate) struct Meter {
    pub(crate) work: u64,
    pub(crate) segment_left: u64,
    pub(crate) split_words_left: u64,
}

impl Meter {
    #[inline]
    fn add(&mut self, units: u64) {
        self.work = self.work.saturating_add(units);
    }

    #[inline]
    fn read(&mut self, s: &str) {
        self.add(s.len() as u64);
    }

    /// Splits a hashtag, charging its segmentation to the budget; the
    /// words of the split are not charged yet.
    fn segment(&mut self, tag: &str) -> TagSplit {
        self.read(tag);
        let before = self.segment_left;
        let split = split_hashtag_within(tag, &mut self.segment_left);
        self.add(before.saturating_sub(self.segment_left));
        split
    }

    /// Whether the `n` words of a split (the tag itself among them) fit in
    /// the split-word budget; takes them if so.
    fn take_split_words(&mut self, n: usize) -> bool {
        let added = (n as u64).saturating_sub(1);
        if added > self.split_words_left {
            return false;
        }
        self.split_words_left -= added;
        true
    }

    /// Splits a hashtag within both budgets.
    fn split(&mut self, tag: &str) -> TagSplit {
        let split = self.segment(tag);
        if split.glued.is_some() && !self.take_split_words(split.words.len()) {
            return split.into_whole();
        }
        split
    }
}

/// [`analyse`], and the work it did: a deterministic count (the same event
/// always gives the same count) of bounded steps, so a test can bound the
/// cost of an event without timing it. A unit is a byte read by a pass
/// (copying the event, tokenizing, sentiment, the masked-profanity scan),
/// a token stemmed into a stream, a cell of hashtag segmentation, a lexicon
/// pattern tried at a token, or a match recorded. At most
/// [`work_bound`]`(event)`.
pub fn analyse_metered(event: &Event) -> (AnalysedEvent, u64) {
    let (a, meter) = analyse_within(event.clone(), SEGMENT_BUDGET, SPLIT_WORDS_BUDGET);
    (a, meter.work)
}

/// The analysis within the given budgets, and its meter.
pub(crate) fn analyse_within(
    event_owned: Event,
    segment_budget: u64,
    split_words_budget: u64,
) -> (AnalysedEvent, Meter) {
    let mut meter = Meter {
        work: WORK_BASE,
        segment_left: segment_budget,
        split_words_left: split_words_budget,
    };
    let event = &event_owned;
    let algorithm = algorithm_for(&event.language);
    let form = if algorithm == rust_stemmers::Algorithm::English {
        Form::English
    } else {
        Form::Raw
    };

    // The event kept in the analysis (a copy, when the caller keeps its own).
    meter.add(input_bytes(event));
    // In this order: the segmentation budget is spent on the event's own
    // hashtags first, then the author, then the posts.
    let MainStream {
        stream: main,
        token_count,
        hashtag_segments,
        glued,
        shadowed,
        text_sentiment,
    } = main_stream(event, form, algorithm, &mut meter);
    let author = author_stream(event, form, algorithm, &mut meter);
    let (samples, read_sentiments) = sample_stream(event, form, algorithm, &mut meter);
    let topics = topic_stream(event, form, algorithm, &mut meter);
    // Each token was stemmed (or hashed) into its stream.
    meter
        .add((main.toks.len() + author.toks.len() + samples.toks.len() + topics.toks.len()) as u64);
    let (sentiment, sentiment_upstream, sample_sentiments) =
        sentiments(event, text_sentiment, &read_sentiments, &mut meter);
    let foreign_script = foreign_script(event, &mut meter);
    let compact_tags = compact_tags(event, &mut meter);
    let trend = trend_of(event, &mut meter);
    let audience_tz = if event.audience_time_zone.is_empty() {
        None
    } else {
        TimeZone::get(&event.audience_time_zone).ok()
    };

    let mut a = AnalysedEvent {
        event: event_owned,
        form,
        main,
        hashtag_segments,
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
        codes: Vec::new(),
        sarcasm: Vec::new(),
        pile_on: Vec::new(),
        warned: Vec::new(),
        foreign_script,
        violence: Vec::new(),
        compact_tags,
        anniversary: None,
        trend,
        audience_tz,
        upstream_safe: false,
    };
    screen(&mut a, &mut meter);
    (a, meter)
}

/// Bytes of the items of a list the analysis reads (the first 200): what
/// a stream built from them is sized for.
fn read_len(list: &[String]) -> usize {
    list.iter().take(200).map(String::len).sum()
}

/// The text, hashtags and entities as one stream (a segment each), with
/// what splitting the hashtags found.
struct MainStream {
    stream: Stream,
    token_count: usize,
    /// Index of the first hashtag segment and one past the last.
    hashtag_segments: (usize, usize),
    glued: Vec<Glued>,
    shadowed: Vec<usize>,
    /// VADER over the text, when it was read with the words (an ASCII
    /// text, and no upstream sentiment).
    text_sentiment: Option<f64>,
}

/// Whether `text` can be read once for its words and its sentiment
/// (`reading::push_and_score`).
fn read_once(text: &str) -> bool {
    text.is_ascii() && text.len() <= MAX_FIELD_BYTES
}

fn main_stream(
    event: &Event,
    form: Form,
    algorithm: rust_stemmers::Algorithm,
    meter: &mut Meter,
) -> MainStream {
    // The text, each tag twice (its words and itself) and the entities.
    let bytes = event.text.len() + 2 * read_len(&event.hashtags) + read_len(&event.entities);
    let mut main = StreamBuilder::with_capacity(form, algorithm, bytes);
    meter.read(&event.text);
    let (token_count, text_sentiment) = if read_once(&event.text) {
        let vader = if upstream_sentiment(event).is_some() {
            Vader::Off
        } else {
            Vader::All
        };
        main.begin_segment();
        let read = reading::push_and_score(&mut main, &event.text, vader);
        main.end_segment();
        read
    } else {
        (main.push_words(&event.text), None)
    };
    let first_tag = main.starts.len();
    let mut glued = Vec::new();
    let mut shadowed = Vec::new();
    for tag in event.hashtags.iter().take(200) {
        let split = meter.split(tag);
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
        meter.read(e);
        main.push_words(e);
    }
    MainStream {
        stream: main.finish(),
        token_count,
        hashtag_segments: (first_tag, tags_end),
        glued,
        shadowed,
        text_sentiment,
    }
}

/// The author's handle (split) and display name.
fn author_stream(
    event: &Event,
    form: Form,
    algorithm: rust_stemmers::Algorithm,
    meter: &mut Meter,
) -> Stream {
    // No author, no stream: an empty one reads as a built empty one.
    if event.author.is_none() {
        return Stream::default();
    }
    let mut author = StreamBuilder::new(form, algorithm);
    if let Some(a) = &event.author {
        author.push_segment(&meter.split(&a.id).words);
        meter.read(&a.display_name);
        author.push_words(&a.display_name);
        meter.read(&a.display_name);
        author.push_segment(&meter.split(&a.display_name.replace(' ', "")).words);
    }
    author.finish()
}

/// One segment per sample post, its hashtags split like the event's own,
/// and the VADER compound of each post read with its words (`None`: a
/// post that is not ASCII, left to `sentiments`).
fn sample_stream(
    event: &Event,
    form: Form,
    algorithm: rust_stemmers::Algorithm,
    meter: &mut Meter,
) -> (Stream, Vec<Option<f64>>) {
    // Each post's words, then its tags split.
    let bytes = 2 * read_len(&event.sample_posts);
    let mut samples = StreamBuilder::with_capacity(form, algorithm, bytes);
    // Segmented tags by their text: the tag of a trending topic recurs in
    // its posts, and is segmented (and charged to the budget) once.
    let mut segmented: FastMap<&str, Vec<String>> = FastMap::default();
    let mut read_sentiments = Vec::with_capacity(event.sample_posts.len().min(200));
    for p in event.sample_posts.iter().take(200) {
        samples.begin_segment();
        // Once for the words, once for the hashtags.
        meter.add(2 * p.len() as u64);
        if read_once(p) {
            read_sentiments.push(reading::push_and_score(&mut samples, p, Vader::Untagged).1);
        } else {
            for_each_word(p, |w| {
                samples.push_token(w);
            });
            read_sentiments.push(None);
        }
        // Hashtags inside a post are split like the event's own.
        // Most posts have no '#': one byte search instead of a word scan.
        let tags = if p.contains('#') { p.as_str() } else { "" };
        for w in tags.split_whitespace().filter(|w| w.starts_with('#')) {
            if !segmented.contains_key(w) {
                let split = meter.segment(w);
                if split.glued.is_none() {
                    for t in &split.words {
                        samples.push_token(t);
                    }
                    continue;
                }
                segmented.insert(w, split.words);
            }
            let Some(words) = segmented.get(w) else {
                continue;
            };
            if meter.take_split_words(words.len()) {
                for t in words {
                    samples.push_token(t);
                }
            } else if let Some(whole) = words.last() {
                // The tag itself comes last.
                samples.push_token(whole);
            }
        }
        samples.end_segment();
    }
    (samples.finish(), read_sentiments)
}

/// One segment per upstream topic label.
fn topic_stream(
    event: &Event,
    form: Form,
    algorithm: rust_stemmers::Algorithm,
    meter: &mut Meter,
) -> Stream {
    if event.topics.is_empty() {
        return Stream::default();
    }
    let mut topics = StreamBuilder::new(form, algorithm);
    for t in event.topics.iter().take(200) {
        meter.read(&t.label);
        topics.push_words(&t.label);
    }
    topics.finish()
}

/// The upstream sentiment, when it is a number.
fn upstream_sentiment(event: &Event) -> Option<f64> {
    event.sentiment.filter(|s| s.is_finite())
}

/// The event's sentiment (upstream when given, else VADER over the text),
/// whether it was upstream's, and each sample post's. `text_read` and
/// `posts_read` are the compounds already computed while reading the
/// words.
fn sentiments(
    event: &Event,
    text_read: Option<f64>,
    posts_read: &[Option<f64>],
    meter: &mut Meter,
) -> (f64, bool, Vec<f64>) {
    let (sentiment, sentiment_upstream) = match upstream_sentiment(event) {
        Some(s) => (s.clamp(-1.0, 1.0), true),
        None => {
            meter.read(&event.text);
            let s = text_read.unwrap_or_else(|| sentiment::compound(&event.text));
            (s, false)
        }
    };
    let sample_sentiments = event
        .sample_posts
        .iter()
        .take(200)
        .enumerate()
        .map(|(i, p)| {
            // Once to drop the tags, once to score.
            meter.add(2 * p.len() as u64);
            posts_read
                .get(i)
                .copied()
                .flatten()
                .unwrap_or_else(|| sentiment::compound(&without_tags(p)))
        })
        .collect();
    (sentiment, sentiment_upstream, sample_sentiments)
}

/// A post without its hashtags and handles: the tag's own words ("#Qantas
/// Luxury") say nothing about how people feel under it. (An ASCII post is
/// read that way in `reading`, without this copy.)
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

/// The token spans `[first, end)` of the benign idioms among a stream's
/// lexicon matches, by first token, with the farthest end of the spans
/// starting at or before each: whether a match lies inside an idiom is one
/// binary search. (Scanning every idiom for every match was quadratic:
/// 1 MB of "killing it" in sample posts took 1.0 s.)
struct BenignSpans {
    starts: Vec<usize>,
    /// `reach[i]`: the farthest end of `spans[..=i]`.
    reach: Vec<usize>,
}

fn benign_spans(hits: &[(usize, usize, usize)]) -> BenignSpans {
    let mut spans: Vec<(usize, usize)> = hits
        .iter()
        .filter(|(idx, _, _)| is_benign(*idx))
        .map(|&(_, k, n)| (k, k + n))
        .collect();
    spans.sort_unstable();
    let mut far = 0;
    let reach = spans
        .iter()
        .map(|&(_, e)| {
            far = far.max(e);
            far
        })
        .collect();
    BenignSpans {
        starts: spans.into_iter().map(|(s, _)| s).collect(),
        reach,
    }
}

/// Whether the match of entry `idx` over tokens `[k, k + n)` lies inside a
/// benign idiom (and is not that idiom itself).
fn masked(spans: &BenignSpans, idx: usize, k: usize, n: usize) -> bool {
    if is_benign(idx) {
        return true;
    }
    // The idioms that start at or before `k`: one of them covers the match
    // exactly when the farthest of their ends does.
    let m = spans.starts.partition_point(|&s| s <= k);
    m.checked_sub(1)
        .and_then(|i| spans.reach.get(i))
        .is_some_and(|&e| k + n <= e)
}

/// The event's hashtags (its tags, then `#words` of its text) as letters
/// and digits lower-cased, at most `MAX_COMPACT_TAGS`.
fn compact_tags(event: &Event, meter: &mut Meter) -> Vec<String> {
    // Most texts have no '#': one byte search instead of a word scan.
    let text = if event.text.contains('#') {
        event.text.as_str()
    } else {
        ""
    };
    event
        .hashtags
        .iter()
        .map(String::as_str)
        .chain(text.split_whitespace().filter(|w| w.starts_with('#')))
        .take(MAX_COMPACT_TAGS)
        .map(|tag| {
            meter.add(tag.len() as u64);
            compact(tag)
        })
        .filter(|tag| !tag.is_empty())
        .collect()
}

/// Echo requests by their shape rather than their wording
/// (`core::payload`): addressed to the brand, a verb of producing words or
/// a thing words are printed on, then the words themselves, quoted or in
/// capitals, searched for codes as one run. And the triple parentheses of
/// the echo code, "(((they)))", wherever the text or the author's name
/// carries them.
fn read_payload_requests(a: &mut AnalysedEvent, meter: &mut Meter) {
    let event = &a.event;
    meter.read(&event.text);
    // A byte search for '(' first: the substring search costs more than
    // the rest of this step, and nearly no text has a parenthesis.
    let triple = |s: &str| s.contains('(') && s.contains("(((");
    let echo_code = triple(&event.text)
        || event
            .author
            .as_ref()
            .is_some_and(|au| triple(&au.display_name) || triple(&au.id));
    if echo_code {
        a.codes.push(Found {
            term: "(((…))) echo parentheses",
            source: Source::Text,
        });
    }
    let addressed = event.addressed_to_brand || event.kind == EventKind::DirectMessage;
    if !addressed {
        return;
    }
    // A word the moment names (an entity, a hashtag) in capitals is that
    // name, not words given to print.
    let names: Vec<String> = event
        .entities
        .iter()
        .chain(&event.hashtags)
        .take(MAX_COMPACT_TAGS)
        .flat_map(|name| name.split_whitespace().map(compact))
        .collect();
    let Some(given) = payload::given(&event.text, |w| names.iter().any(|n| n == w)) else {
        return;
    };
    if given.anchored && a.echo.is_empty() {
        a.echo.push(Found {
            term: "a request to say given words",
            source: Source::Text,
        });
    }
    if let Some(term) = payload::code_in(&given.words, &SPELLABLE_CODES) {
        a.codes.push(Found {
            term,
            source: Source::Text,
        });
    }
}

/// Share of an event's letters outside the Latin script from which its
/// text counts as unreadable to the lexicons.
const FOREIGN_SCRIPT_SHARE: f64 = 0.5;

/// Whether at least half the letters of the text and sample posts are
/// outside the Latin script (Hangul, Han, Cyrillic, Arabic, ...).
fn foreign_script(event: &Event, meter: &mut Meter) -> bool {
    let (mut letters, mut foreign) = (0u64, 0u64);
    for text in std::iter::once(&event.text).chain(event.sample_posts.iter().take(200)) {
        meter.add(text.len() as u64);
        if text.is_ascii() {
            // Every ASCII letter is Latin.
            letters += text.bytes().filter(u8::is_ascii_alphabetic).count() as u64;
            continue;
        }
        for c in text.chars().filter(|c| c.is_alphabetic()) {
            letters += 1;
            let latin = matches!(c, 'A'..='Z' | 'a'..='z' | '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}');
            foreign += u64::from(!latin);
        }
    }
    letters > 0 && foreign as f64 >= FOREIGN_SCRIPT_SHARE * letters as f64
}

/// From this many sample posts, a single grief cue in one of them is one
/// voice: it corroborates no other post's words of death.
const ONE_VOICE_AMONG_POSTS: usize = 5;

/// Hashtags kept for slogan matching: more than a post ever carries.
const MAX_COMPACT_TAGS: usize = 64;

/// Idiom is not tragedy: a death, weapon or terror word counts at its
/// level only when the moment corroborates it: a news report; grief (a
/// strong cue, unless it is the only one and in one sample post among
/// many; a cue in the event itself; several; or mourning in words
/// that are not themselves words of death); remembrance or an anniversary;
/// or a report of literal violence or concern for people in danger
/// ("death toll", "gunman", "stay safe", "stranded"). Uncorroborated, it is
/// a figure of speech ("killing it", "sandwich wars", "a massacre on the
/// scoreboard") and counts as `Level::Low`. Upstream labels are never
/// second-guessed. `mourned`: mourning or an anniversary's keywords.
fn read_figures_of_speech(a: &mut AnalysedEvent, mourned: bool, meter: &mut Meter) {
    // One post's "RIP" among many is one voice, and as often a figure of
    // speech itself ("RIP Barcelona's lead"): it does not turn another
    // post's hyperbole ("they'll need body bags") into a death.
    let one_voice = a.grief.len() == 1
        && a.event.sample_posts.len() >= ONE_VOICE_AMONG_POSTS
        && a.grief
            .iter()
            .all(|(f, _)| matches!(f.source, Source::Sample(_)));
    let grief = a
        .grief
        .iter()
        .any(|(f, strong)| (*strong && !one_voice) || !matches!(f.source, Source::Sample(_)))
        || a.grief.len() >= 2;
    let corroborated = a.event.kind == EventKind::News
        || grief
        || mourned
        || !a.remembrance.is_empty()
        || !a.violence.is_empty();
    if corroborated {
        return;
    }
    let mut figurative = false;
    for d in &mut a.sensitive {
        if d.source != Source::Label
            && d.level > Level::Low
            && figurative_prone(d.category, d.level)
        {
            d.level = Level::Low;
            d.figurative = true;
            figurative = true;
        }
    }
    if !figurative {
        return;
    }
    // The hyperbole is not the mood either: score again without it.
    let neutral = |word: &str| FIGURATIVE_STEMS.contains(&pattern(word, Form::English));
    if !a.sentiment_upstream {
        meter.read(&a.event.text);
        a.sentiment = sentiment::compound_with(&a.event.text, &neutral);
    }
    for (score, post) in a.sample_sentiments.iter_mut().zip(&a.event.sample_posts) {
        meter.add(2 * post.len() as u64);
        *score = sentiment::compound_with(&without_tags(post), &neutral);
    }
}

/// What the lexicon matches found, before they become the analysis: the
/// worst finding per category in the event and in its sample posts, and
/// the evidence later steps combine.
#[derive(Default)]
struct Findings {
    /// Worst finding per category in the event itself.
    worst: [Option<Detection>; 12],
    /// Every finding per category in the sample posts: (level, post, term).
    sample_hits: [Vec<(Level, usize, &'static str)>; 12],
    anniversary_terms: Vec<(usize, Found)>,
    /// The halves of split codes written apart, each with where it was
    /// found.
    code_halves: Vec<(CodePart, Found)>,
    /// Grief in words that are not themselves words of death ("praying
    /// for", not "died"): it corroborates a death word elsewhere.
    mourning: bool,
}

impl Findings {
    /// Records what lexicon entry `idx` signals, found in `source`.
    fn record(
        &mut self,
        a: &mut AnalysedEvent,
        idx: usize,
        source: Source,
        masked: bool,
        shadowed: bool,
    ) {
        let Some((term, cues)) = LEXICON.entries.get(idx) else {
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
                        self.sample_hits[ci].push((level, i, term));
                    } else if self.worst[ci].as_ref().is_none_or(|d| d.level < level) {
                        self.worst[ci] = Some(Detection {
                            category: cat,
                            level,
                            term: (*term).to_string(),
                            source,
                            figurative: false,
                        });
                    }
                }
                Cue::Grief(strong)
                    if source != Source::Author
                        && !a.grief.iter().any(|(f, _)| f.term == *term) =>
                {
                    self.mourning |= !cues.iter().any(
                        |c| matches!(c, Cue::Garm(cat, level) if figurative_prone(*cat, *level)),
                    );
                    a.grief.push((Found { term, source }, strong));
                }
                Cue::Outrage if source != Source::Author => a.outrage.push(Found { term, source }),
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
                    self.anniversary_terms.push((i, Found { term, source }))
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
                // What an echo request would print: its text, and the
                // author's own name or handle ("put my name on it").
                Cue::Code(part) if !matches!(source, Source::Sample(_) | Source::Label) => {
                    match part {
                        CodePart::Whole => a.codes.push(Found { term, source }),
                        half => self.code_halves.push((half, Found { term, source })),
                    }
                }
                Cue::Sarcasm if source != Source::Author => a.sarcasm.push(Found { term, source }),
                Cue::PileOn(act) if source != Source::Author => {
                    a.pile_on.push((Found { term, source }, act))
                }
                Cue::Warned if source != Source::Author => a.warned.push(Found { term, source }),
                Cue::Violence if source != Source::Author => {
                    a.violence.push(Found { term, source })
                }
                _ => {}
            }
        }
    }
}

/// Runs the lexicons over every field and records what they found.
fn screen(a: &mut AnalysedEvent, meter: &mut Meter) {
    let mut found = Findings::default();
    screen_main(a, &mut found, meter);
    screen_author_and_posts(a, &mut found, meter);
    read_deadpan_verdicts(a, meter);
    read_intrusions(a, meter);
    screen_starred_out_profanity(a, &mut found, meter);
    judge_sample_posts(a, &mut found);
    apply_labels(a, &mut found, meter);
    a.sensitive = std::mem::take(&mut found.worst)
        .into_iter()
        .flatten()
        .collect();
    read_payload_requests(a, meter);
    read_figures_of_speech(
        a,
        found.mourning || !found.anniversary_terms.is_empty(),
        meter,
    );
    read_spelled_codes(a, meter);
    join_code_halves(a, &found);
    find_anniversary(a, &found.anniversary_terms);
}

/// The text and hashtags, with death words next to a thing in a person's
/// own post read as a machine failing.
fn screen_main(a: &mut AnalysedEvent, found: &mut Findings, meter: &mut Meter) {
    let lex = &*LEXICON;
    let main = std::mem::take(&mut a.main);
    let (t0, t1) = a.hashtag_segments;
    let t0 = t0 as u32;
    let mut hits = lex.overlapping(a.form, &main, &mut meter.work);
    drop_false_friends(a, &mut hits);
    meter.add(hits.len() as u64);
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
    // A report of violence in the text ("the death toll rises") is no
    // machine failing, whatever thing stands next to the death word.
    // Only a report that is itself a word of harm counts ("death toll",
    // "gunman"), not concern for people ("stranded", "power outage"):
    // "the outage killed my router and I'm stranded" is still a machine.
    let reports_violence = hits.iter().any(|&(idx, _, _)| {
        lex.entries.get(idx).is_some_and(|(_, cues)| {
            cues.contains(&Cue::Violence) && cues.iter().any(|c| matches!(c, Cue::Garm(..)))
        })
    });
    let mut objects: Vec<usize> = Vec::new();
    if personal && !reports_violence {
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
        // Sorted, so that "an object within three words" is a binary
        // search rather than a scan of every object for every match.
        objects.sort_unstable();
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
        let first_near = objects.partition_point(|&o| o + 3 < k);
        objects.get(first_near).is_some_and(|&o| o <= k + 3)
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
        found.record(a, idx, src, m, shadowed);
    }
    a.main = main;
}

/// Matches of words that are ordinary words of the event's language
/// (`cues/false_friends.tsv`: French "retard", a delay), in events not
/// read as English.
fn drop_false_friends(a: &AnalysedEvent, hits: &mut Vec<(usize, usize, usize)>) {
    if a.form == Form::English || a.event.language.is_empty() {
        return;
    }
    hits.retain(|&(entry, _, _)| !LEXICON.false_friend(&a.event.language, entry));
}

/// The author's name and handle, then the sample posts.
fn screen_author_and_posts(a: &mut AnalysedEvent, found: &mut Findings, meter: &mut Meter) {
    let lex = &*LEXICON;
    let mut hits = lex.overlapping(a.form, &a.author, &mut meter.work);
    drop_false_friends(a, &mut hits);
    meter.add(hits.len() as u64);
    let spans = benign_spans(&hits);
    for &(idx, k, n) in &hits {
        found.record(a, idx, Source::Author, masked(&spans, idx, k, n), false);
    }
    let samples = std::mem::take(&mut a.samples);
    let mut hits = lex.overlapping(a.form, &samples, &mut meter.work);
    drop_false_friends(a, &mut hits);
    meter.add(hits.len() as u64);
    let spans = benign_spans(&hits);
    for &(idx, k, n) in &hits {
        let seg = samples.segment_of(k);
        found.record(
            a,
            idx,
            Source::Sample(seg),
            masked(&spans, idx, k, n),
            false,
        );
    }
    a.samples = samples;
}

/// Work charged for reading the close of one post.
const DEADPAN_READ_UNITS: u64 = 64;

/// Sample posts that close on a deadpan verdict of praise
/// ([`deadpan`]), recorded with the sarcasm cues: like them, they count
/// only in the brand's own moment.
fn read_deadpan_verdicts(a: &mut AnalysedEvent, meter: &mut Meter) {
    if a.form != Form::English {
        return;
    }
    for (i, post) in a.event.sample_posts.iter().take(200).enumerate() {
        let source = Source::Sample(i);
        if a.sarcasm.iter().any(|f| f.source == source) {
            continue;
        }
        // Only the post's last few words are read.
        meter.add(DEADPAN_READ_UNITS);
        if deadpan::closes_on_deadpan_praise(post) {
            a.sarcasm.push(Found {
                term: "a deadpan verdict of praise closing the post",
                source,
            });
        }
    }
}

/// A crowd reaching into a private life ("emailing her university"), in
/// the text or a sample post: a pile-on act, recorded once. The posts are
/// read from the token stream the lexicons matched.
fn read_intrusions(a: &mut AnalysedEvent, meter: &mut Meter) {
    meter.add((a.main.toks.len() + a.samples.toks.len()) as u64);
    let source = if intrusion::text_reaching(&a.main, a.hashtag_segments.0) {
        Source::Text
    } else if let Some(post) = intrusion::first_post_reaching(&a.samples) {
        Source::Sample(post)
    } else {
        return;
    };
    a.pile_on.push((
        Found {
            term: "a crowd reaching into a private life",
            source,
        },
        true,
    ));
}

/// Profanity with letters starred out, in the text and the posts.
fn screen_starred_out_profanity(a: &AnalysedEvent, found: &mut Findings, meter: &mut Meter) {
    let oi = category_index(SensitiveCategory::ObscenityProfanity);
    meter.read(&a.event.text);
    if masked_profanity(&a.event.text)
        && found.worst[oi]
            .as_ref()
            .is_none_or(|d| d.level < Level::High)
    {
        found.worst[oi] = Some(Detection {
            category: SensitiveCategory::ObscenityProfanity,
            level: Level::High,
            term: "starred-out profanity".into(),
            source: Source::Text,
            figurative: false,
        });
    }
    for (i, p) in a.event.sample_posts.iter().take(200).enumerate() {
        meter.read(p);
        if masked_profanity(p) {
            found.sample_hits[oi].push((Level::High, i, "starred-out profanity"));
        }
    }
}

/// The sample posts' findings, at the level they show together.
fn judge_sample_posts(a: &AnalysedEvent, found: &mut Findings) {
    // A tag is judged by what is said under it: a category counts at the
    // level its sample posts show, one level lower when a single post among
    // many is the only evidence.
    let n_posts = a.event.sample_posts.len().min(200);
    // Posts with any medium-or-worse finding: when only one post among
    // many says anything dark ("feeling dead inside lol"), it is noise and
    // counts two levels lower; several posts each naming a different
    // danger still add up to a dangerous tag.
    let mut dark_posts: Vec<usize> = found
        .sample_hits
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
    for (ci, hits) in found.sample_hits.iter().enumerate() {
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
        if found.worst[ci].as_ref().is_none_or(|d| d.level < level) {
            found.worst[ci] = Some(Detection {
                category: SensitiveCategory::ALL[ci],
                level,
                term: term.to_string(),
                source: Source::Sample(post),
                figurative: false,
            });
        }
    }
}

/// Upstream labels, over the lexicon's findings.
fn apply_labels(a: &mut AnalysedEvent, found: &mut Findings, meter: &mut Meter) {
    // Upstream labels take precedence over the lexicon for the categories
    // they name; "safe" silences lexicon findings below high. Floor terms
    // always stand: they are never acceptable, whoever labelled the event.
    for label in &a.event.sensitivity_labels {
        meter.read(label);
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
            let keep_floor = found.worst[ci]
                .as_ref()
                .is_some_and(|d| d.level == Level::Floor);
            if !keep_floor {
                found.worst[ci] = Some(Detection {
                    category: cat,
                    level,
                    term: label.clone(),
                    source: Source::Label,
                    figurative: false,
                });
            }
        }
    }
    if a.upstream_safe {
        for w in found.worst.iter_mut() {
            if w.as_ref()
                .is_some_and(|d| d.level < Level::High && d.source != Source::Label)
            {
                *w = None;
            }
        }
    }
}

/// Codes spelled out a character at a time in the text or the author's
/// name ("one letter per candy: R, A, H, O, W, A").
fn read_spelled_codes(a: &mut AnalysedEvent, meter: &mut Meter) {
    // Codes count only inside an echo request (`risk/echo.rs`), and this
    // scan was a seventh of an ordinary event's analysis.
    if a.echo.is_empty() {
        return;
    }
    let event = &a.event;
    let author = event.author.as_ref();
    let fields = [
        (Some(event.text.as_str()), Source::Text),
        (author.map(|au| au.display_name.as_str()), Source::Author),
    ];
    for (text, source) in fields {
        let Some(text) = text else { continue };
        meter.read(text);
        spelled::for_each_spelled_word(text, |word| {
            if let Some((_, term)) = SPELLABLE_CODES.iter().find(|(code, _)| code == word)
                && !a.codes.iter().any(|f| f.term == *term)
            {
                a.codes.push(Found { term, source });
            }
        });
    }
}

/// The two halves of a split code found apart ("VIERZEHN" and "88",
/// "COMBAT" and "18") make one code.
fn join_code_halves(a: &mut AnalysedEvent, found: &Findings) {
    let half = |part: CodePart| found.code_halves.iter().find(|(p, _)| *p == part);
    for (i, (_, named)) in SPLIT_CODES.iter().enumerate() {
        if let (Some(_), Some((_, second))) = (half(CodePart::First(i)), half(CodePart::Second(i)))
        {
            a.codes.push(Found {
                term: named,
                source: second.source,
            });
        }
    }
}

/// Date-aware anniversaries: the event's local date within a day of the
/// anniversary, plus its keywords or a remembrance cue.
fn find_anniversary(a: &mut AnalysedEvent, anniversary_terms: &[(usize, Found)]) {
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
        for (i, ann) in LEXICON.anniversaries.iter().enumerate() {
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
    use crate::core::text::xorshift;
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
            xorshift(&mut r);
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

    /// No real moment comes near either budget, so neither decides how
    /// their tags are read; and each stays within the bound of its work.
    #[test]
    fn real_moments_stay_far_inside_the_budgets() {
        for name in ["moments", "holdout", "blind3"] {
            let path = format!("{}/examples/eval/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
            let suite =
                crate::cli::eval::read_suite(std::path::Path::new(&path)).expect("corpus parses");
            for c in &suite.cases {
                let e = crate::grpc::convert::event_in(&c.event).expect("event converts");
                let (_, m) = analyse_within(e.clone(), u64::MAX, u64::MAX);
                let spent = u64::MAX - m.segment_left;
                assert!(spent <= SEGMENT_BUDGET / 100, "{}: {spent}", c.id);
                let words = u64::MAX - m.split_words_left;
                assert!(words <= SPLIT_WORDS_BUDGET / 100, "{}: {words}", c.id);
                assert!(m.work <= work_bound(&e), "{}: {}", c.id, m.work);
                assert_eq!(analyse_metered(&e).1, m.work, "{}", c.id);
            }
        }
    }

    /// The binary search over benign spans answers as the scan of every
    /// span did.
    #[test]
    fn benign_masking_matches_a_scan_of_every_idiom() {
        let benign = (0..LEXICON.entries.len())
            .find(|&i| is_benign(i))
            .expect("a benign idiom");
        let other = (0..LEXICON.entries.len())
            .find(|&i| !is_benign(i))
            .expect("a plain term");
        let mut r = crate::synthetic::Lcg(7);
        for _ in 0..2_000 {
            let hits: Vec<(usize, usize, usize)> = (0..r.below(8))
                .map(|_| (benign, r.below(20), 1 + r.below(4)))
                .collect();
            let scan: Vec<(usize, usize)> = hits.iter().map(|&(_, k, n)| (k, k + n)).collect();
            let spans = benign_spans(&hits);
            for k in 0..24 {
                for n in 1..5 {
                    let want = scan.iter().any(|(s, e)| *s <= k && k + n <= *e);
                    assert_eq!(masked(&spans, other, k, n), want, "{scan:?} {k} {n}");
                }
            }
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
