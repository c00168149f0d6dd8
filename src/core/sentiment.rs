//! Lexicon-based sentiment in the manner of VADER (Hutto & Gilbert, 2014),
//! following the rules of vaderSentiment 3.3.2 with its lexicon
//! (data/lexicons/vader_lexicon.txt, MIT). Used only when the caller sent
//! no sentiment of its own.

use std::collections::HashMap;
use std::sync::LazyLock;

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;
/// Longest text scored, in whitespace-separated tokens: the compound
/// saturates long before this.
const MAX_TOKENS: usize = 2_000;

static LEXICON: LazyLock<HashMap<&'static str, f64>> = LazyLock::new(|| {
    include_str!("../../data/lexicons/vader_lexicon.txt")
        .lines()
        .filter_map(|l| {
            let (w, v) = l.split_once('\t')?;
            Some((w, v.trim().parse::<f64>().ok()?))
        })
        .collect()
});

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

fn booster(w: &str) -> Option<f64> {
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
    if INCR.contains(&w) {
        Some(B_INCR)
    } else if DECR.contains(&w) {
        Some(B_DECR)
    } else {
        None
    }
}

fn negated(w: &str) -> bool {
    NEGATE.contains(&w) || w.contains("n't")
}

fn is_upper(w: &str) -> bool {
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

fn scalar_inc_dec(word: &str, lower: &str, valence: f64, cap_diff: bool) -> f64 {
    let mut scalar = 0.0;
    if let Some(b) = booster(lower) {
        scalar = if valence < 0.0 { -b } else { b };
        if is_upper(word) && cap_diff {
            scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
    }
    scalar
}

/// VADER compound score in [-1, 1].
pub fn compound(text: &str) -> f64 {
    let text = super::text::clip(text, 64 * 1024);
    let tokens: Vec<&str> = text
        .split_whitespace()
        .take(MAX_TOKENS)
        .map(strip_punct)
        .collect();
    if tokens.is_empty() {
        return 0.0;
    }
    let lower: Vec<String> = tokens.iter().map(|t| t.to_lowercase()).collect();
    let n_upper = tokens.iter().filter(|t| is_upper(t)).count();
    let cap_diff = n_upper > 0 && n_upper < tokens.len();
    let lex = &*LEXICON;

    let mut sentiments = Vec::with_capacity(tokens.len());
    for i in 0..tokens.len() {
        let lw = lower[i].as_str();
        if booster(lw).is_some() {
            sentiments.push(0.0);
            continue;
        }
        if lw == "kind" && lower.get(i + 1).is_some_and(|n| n == "of") {
            sentiments.push(0.0);
            continue;
        }
        let Some(&base) = lex.get(lw) else {
            sentiments.push(0.0);
            continue;
        };
        let mut valence = base;
        if lw == "no"
            && lower
                .get(i + 1)
                .is_some_and(|n| lex.contains_key(n.as_str()))
        {
            valence = 0.0;
        }
        let prev = |k: usize| i.checked_sub(k).map(|j| lower[j].as_str());
        if prev(1) == Some("no")
            || prev(2) == Some("no")
            || (prev(3) == Some("no") && matches!(prev(1), Some("or") | Some("nor")))
        {
            valence = base * N_SCALAR;
        }
        if is_upper(tokens[i]) && cap_diff {
            valence += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        for start in 0..3 {
            let Some(j) = i.checked_sub(start + 1) else {
                break;
            };
            if lex.contains_key(lower[j].as_str()) {
                continue;
            }
            let mut s = scalar_inc_dec(tokens[j], &lower[j], valence, cap_diff);
            if start == 1 {
                s *= 0.95;
            } else if start == 2 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, &lower, start, i);
        }
        // "least" before a word, unless "at least"/"very least", negates.
        if i > 0
            && lower[i - 1] == "least"
            && !lex.contains_key("least")
            && !(i > 1 && (lower[i - 2] == "at" || lower[i - 2] == "very"))
        {
            valence *= N_SCALAR;
        }
        sentiments.push(valence);
    }

    if let Some(bi) = lower.iter().position(|w| w == "but") {
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
        let ep = text.matches('!').count().min(4) as f64 * 0.292;
        let qm = text.matches('?').count();
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

fn negation_check(valence: f64, lower: &[String], start: usize, i: usize) -> f64 {
    let at = |k: usize| i.checked_sub(k).map(|j| lower[j].as_str()).unwrap_or("");
    match start {
        0 => {
            if negated(at(1)) {
                return valence * N_SCALAR;
            }
        }
        1 => {
            if at(2) == "never" && (at(1) == "so" || at(1) == "this") {
                return valence * 1.25;
            } else if at(2) == "without" && at(1) == "doubt" {
                return valence;
            } else if negated(at(2)) {
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
            } else if negated(at(3)) {
                return valence * N_SCALAR;
            }
        }
    }
    valence
}

#[cfg(test)]
mod tests {
    use super::compound;

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
