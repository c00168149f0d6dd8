//! Text normalisation shared by event analysis, profile compilation and the
//! lexicons: one tokenizer and one stream format, so that a term and the
//! text it should match are always cut the same way.
//!
//! A *stream* is the tokens of one or more segments, each token followed by
//! a space, segments separated by `| `, with a leading space:
//! `" dunk in the dark | power outag | "`. A pattern is its tokens each
//! followed by a space (`"dunk in the dark "`), so a match that starts right
//! after a space is a match on whole words, and no phrase can span two
//! segments because no token contains `|`.

use std::collections::HashSet;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rust_stemmers::{Algorithm, Stemmer};

/// Longest input we tokenize per field; validation bounds inputs already,
/// this only keeps a direct caller of the core from costing unbounded time.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// Cuts `s` to at most `max` bytes on a char boundary.
pub(crate) fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn is_url(word: &str) -> bool {
    let w = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    let lw = w.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    w.contains("://")
        || lw.starts_with("www.")
        || lw.starts_with("http") && (w.contains('/') || w.contains('.'))
}

/// Case-folded word tokens of `text`: URLs dropped, apostrophes inside words
/// removed (`women's` → `womens`, `don't` → `dont`), everything that is
/// not a letter or digit a separator.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in clip(text, MAX_FIELD_BYTES).split_whitespace() {
        if is_url(chunk) {
            continue;
        }
        let mut cur = String::new();
        let mut chars = chunk.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_alphanumeric() {
                cur.extend(c.to_lowercase());
            } else if (c == '\'' || c == '’')
                && !cur.is_empty()
                && chars.peek().is_some_and(|n| n.is_alphanumeric())
            {
                // keep the word whole
            } else if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// Snowball algorithm for a BCP-47 tag; unknown or empty tags are English.
pub(crate) fn algorithm_for(language: &str) -> Algorithm {
    let primary = language
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match primary.as_str() {
        "ar" => Algorithm::Arabic,
        "da" => Algorithm::Danish,
        "nl" => Algorithm::Dutch,
        "fi" => Algorithm::Finnish,
        "fr" => Algorithm::French,
        "de" => Algorithm::German,
        "el" => Algorithm::Greek,
        "hu" => Algorithm::Hungarian,
        "it" => Algorithm::Italian,
        "no" | "nb" | "nn" => Algorithm::Norwegian,
        "pt" => Algorithm::Portuguese,
        "ro" => Algorithm::Romanian,
        "ru" => Algorithm::Russian,
        "es" => Algorithm::Spanish,
        "sv" => Algorithm::Swedish,
        "ta" => Algorithm::Tamil,
        "tr" => Algorithm::Turkish,
        _ => Algorithm::English,
    }
}

/// How the tokens of a stream are written: English Snowball stems (the
/// language of profiles and lexicons), or the event's language stemmed with
/// its own Snowball algorithm, which only raw-form patterns can meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    English,
    Raw,
}

pub(crate) fn stem_token(stemmer: &Stemmer, token: &str) -> String {
    // Snowball stemmers are built for words; numbers and very long tokens
    // pass through unchanged.
    if token.len() > 40 || token.chars().all(|c| c.is_ascii_digit()) {
        return token.to_string();
    }
    stemmer.stem(token).into_owned()
}

/// A term (word or phrase) as a pattern in the given form; empty when the
/// term has no word characters.
pub(crate) fn pattern(term: &str, form: Form) -> String {
    let stemmer = Stemmer::create(Algorithm::English);
    let mut p = String::new();
    for w in words(term) {
        match form {
            Form::English => p.push_str(&stem_token(&stemmer, &w)),
            Form::Raw => p.push_str(&w),
        }
        p.push(' ');
    }
    p
}

/// Builds a stream segment by segment.
pub(crate) struct StreamBuilder {
    pub text: String,
    /// Byte offset where each segment starts.
    pub starts: Vec<usize>,
    form: Form,
    stemmer: Stemmer,
}

impl StreamBuilder {
    pub fn new(form: Form, algorithm: Algorithm) -> Self {
        Self {
            text: String::from(" "),
            starts: Vec::new(),
            form,
            stemmer: Stemmer::create(algorithm),
        }
    }

    pub fn push_segment<S: AsRef<str>>(&mut self, tokens: &[S]) {
        self.starts.push(self.text.len());
        for t in tokens {
            match self.form {
                Form::English => self.text.push_str(&stem_token(&self.stemmer, t.as_ref())),
                Form::Raw => self.text.push_str(t.as_ref()),
            }
            self.text.push(' ');
        }
        self.text.push_str("| ");
    }

    pub fn finish(self) -> Stream {
        Stream {
            text: self.text,
            starts: self.starts,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Stream {
    pub text: String,
    pub starts: Vec<usize>,
}

impl Stream {
    /// Index of the segment holding byte `pos`.
    pub fn segment_of(&self, pos: usize) -> usize {
        self.starts.partition_point(|&s| s <= pos).saturating_sub(1)
    }

    /// Whether the pattern (already in stream form) occurs on word
    /// boundaries.
    pub fn contains_pattern(&self, pattern: &str) -> bool {
        if pattern.is_empty() {
            return false;
        }
        let needle = format!(" {pattern}");
        self.text.contains(&needle)
    }
}

/// Aho-Corasick over patterns in stream form, reporting whole-word matches
/// chosen leftmost-longest (so "dunk in the dark" is one match, not also
/// "dark").
#[derive(Debug, Clone)]
pub(crate) struct TermMatcher {
    ac: Option<AhoCorasick>,
}

/// Never occurs in a stream: stands in for terms without word characters
/// so pattern ids keep lining up with the caller's list.
const IMPOSSIBLE: &str = "\u{0}\u{0}";

impl TermMatcher {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Self {
        if patterns.is_empty() {
            return Self { ac: None };
        }
        let pats: Vec<&str> = patterns
            .iter()
            .map(|p| {
                let p = p.as_ref();
                if p.is_empty() { IMPOSSIBLE } else { p }
            })
            .collect();
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&pats)
            .ok();
        Self { ac }
    }

    /// Calls `f(pattern_index, start)` for each selected match.
    pub fn for_each(&self, hay: &str, mut f: impl FnMut(usize, usize)) {
        let Some(ac) = &self.ac else { return };
        let bytes = hay.as_bytes();
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        for m in ac.find_overlapping_iter(hay) {
            if m.start() > 0 && bytes.get(m.start() - 1) == Some(&b' ') {
                found.push((m.start(), m.end(), m.pattern().as_usize()));
            }
        }
        if found.is_empty() {
            return;
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut last_end = 0;
        for (s, e, p) in found {
            if s >= last_end {
                f(p, s);
                last_end = e;
            }
        }
    }

    /// Calls `f(pattern_index, start)` for every whole-word match, also
    /// those nested inside a longer one (screening wants all of them).
    pub fn for_each_overlapping(&self, hay: &str, mut f: impl FnMut(usize, usize)) {
        let Some(ac) = &self.ac else { return };
        let bytes = hay.as_bytes();
        for m in ac.find_overlapping_iter(hay) {
            if m.start() > 0 && bytes.get(m.start() - 1) == Some(&b' ') {
                f(m.pattern().as_usize(), m.start());
            }
        }
    }
}

/// The word list used to split hashtags written without capitals.
static DICTIONARY: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let mut set: HashSet<&'static str> = include_str!("../../data/lexicons/words_en.txt")
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    for w in super::lexicon::single_words() {
        set.insert(w);
    }
    for w in ["a", "i"] {
        set.insert(w);
    }
    set
});

pub(crate) fn is_word(w: &str) -> bool {
    DICTIONARY.contains(w)
}

const MAX_WORD: usize = 15;
/// Longest chunk of a hashtag that may be an unknown word (a name, an
/// abbreviation) when no split into dictionary words exists.
const MAX_UNKNOWN: usize = 6;
const MAX_GLUED: usize = 64;

/// A hashtag written in one case, e.g. `#dunkinthedark`, with what is
/// needed to ask later "is `[s, e)` a word of some plausible split?".
#[derive(Debug, Clone)]
pub(crate) struct Glued {
    pub text: String,
    /// `fwd[i]`: fewest unknown chunks needed to split `text[..i]`.
    fwd: Vec<u8>,
    /// `bwd[j]`: fewest unknown chunks needed to split `text[j..]`.
    bwd: Vec<u8>,
    /// Unknown chunks a plausible split may have: none when a split into
    /// dictionary words exists, one otherwise.
    budget: u8,
}

const INF: u8 = u8::MAX / 2;

impl Glued {
    fn new(text: String) -> Self {
        let b = text.as_bytes();
        let n = b.len();
        let word = |i: usize, j: usize| std::str::from_utf8(&b[i..j]).is_ok_and(is_word);
        let mut fwd = vec![INF; n + 1];
        fwd[0] = 0;
        for j in 1..=n {
            for i in j.saturating_sub(MAX_WORD.max(MAX_UNKNOWN))..j {
                if fwd[i] >= INF {
                    continue;
                }
                if j - i <= MAX_WORD && word(i, j) {
                    fwd[j] = fwd[j].min(fwd[i]);
                } else if j - i <= MAX_UNKNOWN {
                    fwd[j] = fwd[j].min(fwd[i] + 1);
                }
            }
        }
        let mut bwd = vec![INF; n + 1];
        bwd[n] = 0;
        for i in (0..n).rev() {
            for j in (i + 1)..=(i + MAX_WORD.max(MAX_UNKNOWN)).min(n) {
                if bwd[j] >= INF {
                    continue;
                }
                if j - i <= MAX_WORD && word(i, j) {
                    bwd[i] = bwd[i].min(bwd[j]);
                } else if j - i <= MAX_UNKNOWN {
                    bwd[i] = bwd[i].min(bwd[j] + 1);
                }
            }
        }
        let budget = if bwd[0] == 0 { 0 } else { 1 };
        Self {
            text,
            fwd,
            bwd,
            budget,
        }
    }

    /// Whether `[s, e)` can be one word of a plausible split. `extra`
    /// unknown chunks are allowed besides the budget (a brand's own name is
    /// rarely a dictionary word).
    pub fn plausible(&self, s: usize, e: usize, extra: u8) -> bool {
        match (self.fwd.get(s), self.bwd.get(e)) {
            (Some(f), Some(b)) => f.saturating_add(*b) <= self.budget.saturating_add(extra),
            _ => false,
        }
    }

    /// Every dictionary word (two letters or more) that is a word of some
    /// plausible split, in order of position.
    pub fn split_words(&self) -> Vec<String> {
        let b = self.text.as_bytes();
        let n = b.len();
        let mut out = Vec::new();
        for i in 0..n {
            for j in (i + 2)..=(i + MAX_WORD).min(n) {
                if let Ok(w) = std::str::from_utf8(&b[i..j])
                    && is_word(w)
                    && self.plausible(i, j, 0)
                {
                    out.push(w.to_string());
                }
            }
        }
        out
    }
}

/// A hashtag cut into words: on case changes, digits and underscores when
/// the tag has them, otherwise by every plausible dictionary split.
#[derive(Debug, Clone)]
pub(crate) struct TagSplit {
    /// Words in reading order (a camel-case split, or the whole tag).
    pub words: Vec<String>,
    /// Words of the plausible splits of a one-case tag.
    pub glued: Option<Glued>,
}

pub(crate) fn split_hashtag(tag: &str) -> TagSplit {
    let tag = clip(tag.trim().trim_start_matches(['#', '@']), 512);
    let has_upper = tag.chars().any(char::is_uppercase);
    let has_lower = tag.chars().any(char::is_lowercase);
    let alpha_ascii = tag.chars().all(|c| c.is_ascii_alphabetic());
    if !(alpha_ascii && !(has_upper && has_lower)) {
        // Camel case, digits, underscores or other scripts: the writer
        // marked the boundaries.
        let mut parts = String::new();
        let chars: Vec<char> = tag.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            if let Some(p) = prev {
                let lower_to_upper = p.is_lowercase() && c.is_uppercase();
                let acronym_end =
                    p.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase);
                let digit_edge = p.is_ascii_digit() != c.is_ascii_digit()
                    && p.is_alphanumeric()
                    && c.is_alphanumeric();
                if lower_to_upper || acronym_end || digit_edge {
                    parts.push(' ');
                }
            }
            parts.push(c);
        }
        return TagSplit {
            words: words(&parts),
            glued: None,
        };
    }
    let lower = tag.to_ascii_lowercase();
    if lower.len() < 6 || lower.len() > MAX_GLUED || is_word(&lower) {
        return TagSplit {
            words: vec![lower],
            glued: None,
        };
    }
    let glued = Glued::new(lower.clone());
    let mut ws = glued.split_words();
    ws.push(lower);
    TagSplit {
        words: ws,
        glued: Some(glued),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_strip_urls_and_keep_contractions() {
        assert_eq!(
            words("Don't MISS https://t.co/x it's @Brand's #1!"),
            vec!["dont", "miss", "its", "brands", "1"]
        );
        assert!(words("").is_empty());
        assert_eq!(words("🍪 cookie🥛"), vec!["cookie"]);
    }

    #[test]
    fn camel_case_hashtags_split_on_case() {
        assert_eq!(
            split_hashtag("#DunkInTheDark").words,
            vec!["dunk", "in", "the", "dark"]
        );
        assert_eq!(
            split_hashtag("NYCMarathon2024").words,
            vec!["nyc", "marathon", "2024"]
        );
        assert_eq!(
            split_hashtag("why_i_stayed").words,
            vec!["why", "i", "stayed"]
        );
    }

    #[test]
    fn one_case_hashtags_split_every_plausible_way() {
        let s = split_hashtag("#dunkinthedark");
        assert!(s.words.contains(&"dark".to_string()), "{:?}", s.words);
        let s = split_hashtag("#susanalbumparty");
        assert!(s.words.contains(&"anal".to_string()), "{:?}", s.words);
        let s = split_hashtag("#nowthatcherisdead");
        assert!(s.words.contains(&"dead".to_string()), "{:?}", s.words);
        // a dictionary split exists, so the reading "g rape juice" is not
        // plausible
        let s = split_hashtag("#grapejuice");
        assert!(!s.words.contains(&"rape".to_string()), "{:?}", s.words);
        // a dictionary word is not split at all
        assert_eq!(split_hashtag("#therapist").words, vec!["therapist"]);
    }

    #[test]
    fn matcher_matches_whole_words_leftmost_longest() {
        let pats = vec![
            pattern("dark", Form::English),
            pattern("dunk in the dark", Form::English),
        ];
        let m = TermMatcher::new(&pats);
        let mut b = StreamBuilder::new(Form::English, Algorithm::English);
        b.push_segment(&words("You can still dunk in the dark"));
        b.push_segment(&words("darkroom"));
        let s = b.finish();
        let mut hits = Vec::new();
        m.for_each(&s.text, |p, _| hits.push(p));
        assert_eq!(hits, vec![1]);
        let m = TermMatcher::new(&[pattern("rapist", Form::English)]);
        let mut b = StreamBuilder::new(Form::English, Algorithm::English);
        b.push_segment(&words("the therapist"));
        let mut n = 0;
        m.for_each(&b.finish().text, |_, _| n += 1);
        assert_eq!(n, 0);
    }

    #[test]
    fn phrases_do_not_span_segments() {
        let m = TermMatcher::new(&[pattern("in the dark", Form::English)]);
        let mut b = StreamBuilder::new(Form::English, Algorithm::English);
        b.push_segment(&["in", "the"]);
        b.push_segment(&["dark"]);
        let mut n = 0;
        m.for_each(&b.finish().text, |_, _| n += 1);
        assert_eq!(n, 0);
    }
}
