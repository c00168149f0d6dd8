//! Lexicon-based sentiment in the manner of VADER (Hutto & Gilbert, 2014),
//! following the rules of vaderSentiment 3.3.2 with its lexicon
//! (data/lexicons/vader_lexicon.txt, MIT). Used only when the caller sent
//! no sentiment of its own.

use std::borrow::Cow;
use std::sync::LazyLock;

use super::text::FastMap;

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;
/// Longest text scored, in whitespace-separated tokens: the compound
/// saturates long before this.
pub(crate) const MAX_TOKENS: usize = 2_000;
/// Longest text scored, in bytes.
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Everything VADER asks of a lower-cased word, from one lookup: its
/// valence, its booster value and whether it negates.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WordInfo {
    valence: Option<f64>,
    boost: Option<Boost>,
    negate: bool,
}

/// A booster word's direction. One byte instead of an `Option<f64>`: a
/// text's tokens are written out once per score, and their size was most
/// of the time VADER took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Boost {
    Incr,
    Decr,
}

impl Boost {
    fn value(self) -> f64 {
        match self {
            Boost::Incr => B_INCR,
            Boost::Decr => B_DECR,
        }
    }
}

/// Whether "least" has a valence of its own (it has none in VADER's
/// lexicon, which makes "least" before a word negate it).
static LEAST_IN_LEXICON: LazyLock<bool> = LazyLock::new(|| info("least").valence.is_some());

static WORDS: LazyLock<FastMap<&'static str, WordInfo>> = LazyLock::new(|| {
    let mut map: FastMap<&'static str, WordInfo> = FastMap::default();
    // Later lines win, as when collecting the lexicon into a map.
    for l in include_str!("../../data/lexicons/vader_lexicon.txt").lines() {
        let Some((w, v)) = l.split_once('\t') else {
            continue;
        };
        let Ok(v) = v.trim().parse::<f64>() else {
            continue;
        };
        map.entry(w).or_default().valence = Some(v);
    }
    // Increments are checked before decrements.
    for w in DECR {
        map.entry(w).or_default().boost = Some(Boost::Decr);
    }
    for w in INCR {
        map.entry(w).or_default().boost = Some(Boost::Incr);
    }
    for w in NEGATE {
        map.entry(w).or_default().negate = true;
    }
    map
});

pub(crate) fn info(w: &str) -> WordInfo {
    WORDS.get(w).copied().unwrap_or_default()
}

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const INCR: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

const DECR: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sorta",
    "sortof",
    "sort-of",
];

fn is_upper(w: &str) -> bool {
    if w.is_ascii() {
        let b = w.as_bytes();
        return b.iter().any(u8::is_ascii_alphabetic) && !b.iter().any(u8::is_ascii_lowercase);
    }
    w.chars().any(char::is_alphabetic) && !w.chars().any(char::is_lowercase)
}

/// Strips surrounding punctuation unless that leaves two characters or
/// fewer (which keeps emoticons such as `:)` whole), as VADER does.
fn strip_punct(token: &str) -> &str {
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
    if stripped.chars().count() <= 2 {
        token
    } else {
        stripped
    }
}

fn scalar_inc_dec(t: &Tok<'_>, valence: f64, cap_diff: bool) -> f64 {
    let mut scalar = 0.0;
    if let Some(b) = t.info.boost.map(Boost::value) {
        scalar = if valence < 0.0 { -b } else { b };
        if t.upper && cap_diff {
            scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
    }
    scalar
}

/// `s.to_lowercase()`, borrowed when that changes nothing.
fn lowercase(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// One token with what the rules ask of it, computed once.
pub(crate) struct Tok<'a> {
    lower: Cow<'a, str>,
    upper: bool,
    info: WordInfo,
}

impl Tok<'_> {
    fn is(&self, w: &str) -> bool {
        self.lower == w
    }
}

fn tok<'a>(t: &str, lower: Cow<'a, str>, neutral: &dyn Fn(&str) -> bool) -> Tok<'a> {
    let mut info = info(&lower);
    if info.valence.is_some() && neutral(&lower) {
        info.valence = None;
    }
    Tok {
        upper: is_upper(t),
        lower,
        info,
    }
}

/// A token whose case and entry are already known: `lower` is it
/// lower-cased, `upper` whether it was written in capitals (`is_upper`).
pub(crate) fn tok_known(lower: &str, upper: bool, info: WordInfo) -> Tok<'_> {
    Tok {
        upper,
        lower: Cow::Borrowed(lower),
        info,
    }
}

/// The token VADER reads in an ASCII whitespace-separated chunk, as a byte
/// range of it: `strip_punct` by bytes (ASCII characters are single bytes).
pub(crate) fn token_span(chunk: &[u8]) -> (usize, usize) {
    let (mut a, mut b) = (0, chunk.len());
    while a < b && chunk[a].is_ascii_punctuation() {
        a += 1;
    }
    while b > a && chunk[b - 1].is_ascii_punctuation() {
        b -= 1;
    }
    if b - a <= 2 { (0, chunk.len()) } else { (a, b) }
}

/// The tokens of any text: whitespace-separated, punctuation stripped,
/// lower-cased one by one.
fn tokens<'a>(text: &'a str, neutral: &dyn Fn(&str) -> bool) -> Vec<Tok<'a>> {
    text.split_whitespace()
        .take(MAX_TOKENS)
        .map(|t| {
            let t = strip_punct(t);
            tok(t, lowercase(t), neutral)
        })
        .collect()
}

/// [`tokens`] of an ASCII text, the same tokens by byte offsets: the text
/// is lower-cased once (`lowered`), every token borrows from it, and the
/// Unicode-aware whitespace and punctuation tests reduce to byte tests,
/// which is most of the cost of scoring a post.
fn ascii_tokens<'a>(text: &str, lowered: &'a str, neutral: &dyn Fn(&str) -> bool) -> Vec<Tok<'a>> {
    let mut toks = Vec::with_capacity(text.len() / 5 + 1);
    for (start, end) in super::text::ascii_chunk_spans(text).take(MAX_TOKENS) {
        let (a, b) = token_span(text.as_bytes().get(start..end).unwrap_or(&[]));
        let (a, b) = (start + a, start + b);
        let (Some(t), Some(lower)) = (text.get(a..b), lowered.get(a..b)) else {
            continue;
        };
        toks.push(tok(t, Cow::Borrowed(lower), neutral));
    }
    toks
}

/// VADER compound score in [-1, 1].
pub fn compound(text: &str) -> f64 {
    compound_with(text, &|_| false)
}

/// [`compound`], with the words `neutral` names counted as carrying no
/// valence: a death word read as a figure of speech ("Germany are
/// murdering Brazil") is not the post's mood.
pub fn compound_with(text: &str, neutral: &dyn Fn(&str) -> bool) -> f64 {
    let text = super::text::clip(text, MAX_TEXT_BYTES);
    let lowered;
    let toks = if text.is_ascii() {
        lowered = text.to_ascii_lowercase();
        ascii_tokens(text, &lowered, neutral)
    } else {
        tokens(text, neutral)
    };
    score(&toks, || {
        (text.matches('!').count(), text.matches('?').count())
    })
}

/// The compound of a text's tokens; `marks` counts its exclamation and
/// question marks (only asked when some token carries valence).
pub(crate) fn score(toks: &[Tok<'_>], marks: impl FnOnce() -> (usize, usize)) -> f64 {
    if toks.is_empty() {
        return 0.0;
    }
    let n_upper = toks.iter().filter(|t| t.upper).count();
    let cap_diff = n_upper > 0 && n_upper < toks.len();
    let least_in_lexicon = *LEAST_IN_LEXICON;

    let mut sentiments = Vec::with_capacity(toks.len());
    for (i, t) in toks.iter().enumerate() {
        if t.info.boost.is_some() {
            sentiments.push(0.0);
            continue;
        }
        if t.is("kind") && toks.get(i + 1).is_some_and(|n| n.is("of")) {
            sentiments.push(0.0);
            continue;
        }
        let Some(base) = t.info.valence else {
            sentiments.push(0.0);
            continue;
        };
        let mut valence = base;
        if t.is("no") && toks.get(i + 1).is_some_and(|n| n.info.valence.is_some()) {
            valence = 0.0;
        }
        let prev = |k: usize| i.checked_sub(k).and_then(|j| toks.get(j));
        let prev_is = |k: usize, w: &str| prev(k).is_some_and(|t| t.is(w));
        if prev_is(1, "no")
            || prev_is(2, "no")
            || (prev_is(3, "no") && (prev_is(1, "or") || prev_is(1, "nor")))
        {
            valence = base * N_SCALAR;
        }
        if t.upper && cap_diff {
            valence += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        for start in 0..3 {
            let Some(pt) = prev(start + 1) else {
                break;
            };
            if pt.info.valence.is_some() {
                continue;
            }
            let mut s = scalar_inc_dec(pt, valence, cap_diff);
            if start == 1 {
                s *= 0.95;
            } else if start == 2 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, toks, start, i);
        }
        // "least" before a word, unless "at least"/"very least", negates.
        if i > 0
            && prev_is(1, "least")
            && !least_in_lexicon
            && !(i > 1 && (prev_is(2, "at") || prev_is(2, "very")))
        {
            valence *= N_SCALAR;
        }
        sentiments.push(valence);
    }

    if let Some(bi) = toks.iter().position(|t| t.is("but")) {
        for (si, s) in sentiments.iter_mut().enumerate() {
            if si < bi {
                *s *= 0.5;
            } else if si > bi {
                *s *= 1.5;
            }
        }
    }

    let mut sum: f64 = sentiments.iter().sum();
    if sum != 0.0 {
        let (exclaims, qm) = marks();
        let ep = exclaims.min(4) as f64 * 0.292;
        let qm = match qm {
            0 | 1 => 0.0,
            2 | 3 => qm as f64 * 0.18,
            _ => 0.96,
        };
        let emph = ep + qm;
        if sum > 0.0 {
            sum += emph;
        } else {
            sum -= emph;
        }
    }
    let c = sum / (sum * sum + 15.0).sqrt();
    if c.is_finite() {
        c.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

fn negation_check(valence: f64, toks: &[Tok<'_>], start: usize, i: usize) -> f64 {
    let tok = |k: usize| i.checked_sub(k).and_then(|j| toks.get(j));
    let at = |k: usize| tok(k).map_or("", |t| &*t.lower);
    let negated = |k: usize| tok(k).is_some_and(|t| t.info.negate || t.lower.contains("n't"));
    match start {
        0 => {
            if negated(1) {
                return valence * N_SCALAR;
            }
        }
        1 => {
            if at(2) == "never" && (at(1) == "so" || at(1) == "this") {
                return valence * 1.25;
            } else if at(2) == "without" && at(1) == "doubt" {
                return valence;
            } else if negated(2) {
                return valence * N_SCALAR;
            }
        }
        _ => {
            if at(3) == "never"
                && (at(2) == "so" || at(2) == "this" || at(1) == "so" || at(1) == "this")
            {
                return valence * 1.25;
            } else if at(3) == "without" && (at(2) == "doubt" || at(1) == "doubt") {
                return valence;
            } else if negated(3) {
                return valence * N_SCALAR;
            }
        }
    }
    valence
}

#[cfg(test)]
mod tests {
    use super::{Tok, ascii_tokens, compound, tokens};

    /// Reference compounds from vaderSentiment 3.3.2 (Python), generated
    /// once and committed.
    #[test]
    fn matches_reference_vader_outputs() {
        let cases = [
            ("not bad", 0.431),
            ("great", 0.6249),
            ("great!!!", 0.7163),
            ("GREAT movie", 0.7034),
            ("great movie", 0.6249),
            ("The food was good but the service was awful", -0.4678),
            ("my order never arrived, third time", 0.0),
            ("I love dunking cookies in milk", 0.6369),
            ("This is not good at all", -0.3412),
            ("VADER is very smart, handsome, and funny.", 0.8545),
            ("", 0.0),
        ];
        for (text, want) in cases {
            let got = compound(text);
            assert!(
                (got - want).abs() < 0.002,
                "{text:?}: got {got}, want {want}"
            );
        }
    }

    #[test]
    fn rules_move_scores_the_right_way() {
        assert!(compound("not bad") > 0.0);
        assert!(compound("great!!!") > compound("great"));
        assert!(compound("the food is GREAT today") > compound("the food is great today"));
        assert!(compound("good but awful") < 0.0);
        assert!(compound("very good") > compound("good"));
    }

    #[test]
    fn ascii_tokens_are_the_general_tokens() {
        let key = |t: &Tok<'_>| (t.lower.to_string(), t.upper, t.info.valence, t.info.boost);
        let mut texts: Vec<String> = [
            "The lights went OUT!!! :) and :( ... --- a ?",
            "tab\tnew\nline\x0bvt\x0cff\rcr  double",
            "'quoted' \"words\" (paren) [x] {y} -- NOT bad, kind of good",
            "",
            "   ",
            ":-) :D <3 !? ?!",
        ]
        .map(String::from)
        .to_vec();
        // Deterministic noise over every printable byte and the spaces.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300 {
            let mut t = String::new();
            for _ in 0..60 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let b = (x % 100) as u8;
                t.push(match b {
                    0..=94 => char::from(b + 32),
                    _ => char::from(9 + (b - 95)),
                });
            }
            texts.push(t);
        }
        for t in &texts {
            let lowered = t.to_ascii_lowercase();
            let fast: Vec<_> = ascii_tokens(t, &lowered, &|_| false)
                .iter()
                .map(key)
                .collect();
            let slow: Vec<_> = tokens(t, &|_| false).iter().map(key).collect();
            assert_eq!(fast, slow, "{t:?}");
        }
    }

    #[test]
    fn never_panics_or_leaves_range() {
        for t in [
            "🍪🍪🍪",
            "!!!!!!!!",
            "???",
            "NOT NOT NOT",
            "but but but",
            "least",
            "ñ ü ß 中文",
        ] {
            let c = compound(t);
            assert!((-1.0..=1.0).contains(&c), "{t}: {c}");
        }
    }
}
