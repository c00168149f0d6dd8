//! The curated lexicons under `data/lexicons/`, compiled into the binary
//! and parsed once. See docs/SCORING.md for the file formats.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::model::SensitiveCategory;
use super::text::{ENGLISH_WORDS, Form, PhraseSet, Stream, pattern, pattern_tokens, words};

/// GARM risk level of a term; `Floor` is never acceptable to any brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Low,
    Medium,
    High,
    Floor,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Floor => "floor",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Level> {
        match s {
            "low" => Some(Level::Low),
            "medium" => Some(Level::Medium),
            "high" => Some(Level::High),
            "floor" => Some(Level::Floor),
            _ => None,
        }
    }

    pub(crate) fn down(self) -> Level {
        match self {
            Level::Floor => Level::High,
            Level::High => Level::Medium,
            _ => Level::Low,
        }
    }
}

pub fn category_name(c: SensitiveCategory) -> &'static str {
    match c {
        SensitiveCategory::Adult => "adult",
        SensitiveCategory::ArmsAmmunition => "arms_ammunition",
        SensitiveCategory::CrimeHarmfulActs => "crime_harmful_acts",
        SensitiveCategory::DeathInjuryMilitaryConflict => "death_injury_military_conflict",
        SensitiveCategory::OnlinePiracy => "online_piracy",
        SensitiveCategory::HateSpeech => "hate_speech",
        SensitiveCategory::ObscenityProfanity => "obscenity_profanity",
        SensitiveCategory::DrugsTobaccoAlcohol => "drugs_tobacco_alcohol",
        SensitiveCategory::SpamHarmful => "spam_harmful",
        SensitiveCategory::Terrorism => "terrorism",
        SensitiveCategory::DebatedSocialIssues => "debated_social_issues",
        SensitiveCategory::Misinformation => "misinformation",
    }
}

pub(crate) fn category_index(c: SensitiveCategory) -> usize {
    SensitiveCategory::ALL
        .iter()
        .position(|x| *x == c)
        .unwrap_or(0)
}

const GARM_FILES: [(SensitiveCategory, &str); 12] = [
    (
        SensitiveCategory::Adult,
        include_str!("../../data/lexicons/garm/adult.txt"),
    ),
    (
        SensitiveCategory::ArmsAmmunition,
        include_str!("../../data/lexicons/garm/arms_ammunition.txt"),
    ),
    (
        SensitiveCategory::CrimeHarmfulActs,
        include_str!("../../data/lexicons/garm/crime_harmful_acts.txt"),
    ),
    (
        SensitiveCategory::DeathInjuryMilitaryConflict,
        include_str!("../../data/lexicons/garm/death_injury_military_conflict.txt"),
    ),
    (
        SensitiveCategory::OnlinePiracy,
        include_str!("../../data/lexicons/garm/online_piracy.txt"),
    ),
    (
        SensitiveCategory::HateSpeech,
        include_str!("../../data/lexicons/garm/hate_speech.txt"),
    ),
    (
        SensitiveCategory::ObscenityProfanity,
        include_str!("../../data/lexicons/garm/obscenity_profanity.txt"),
    ),
    (
        SensitiveCategory::DrugsTobaccoAlcohol,
        include_str!("../../data/lexicons/garm/drugs_tobacco_alcohol.txt"),
    ),
    (
        SensitiveCategory::SpamHarmful,
        include_str!("../../data/lexicons/garm/spam_harmful.txt"),
    ),
    (
        SensitiveCategory::Terrorism,
        include_str!("../../data/lexicons/garm/terrorism.txt"),
    ),
    (
        SensitiveCategory::DebatedSocialIssues,
        include_str!("../../data/lexicons/garm/debated_social_issues.txt"),
    ),
    (
        SensitiveCategory::Misinformation,
        include_str!("../../data/lexicons/garm/misinformation.txt"),
    ),
];

const GRIEF: &str = include_str!("../../data/lexicons/cues/grief.txt");
const OUTRAGE: &str = include_str!("../../data/lexicons/cues/outrage.txt");
const VALUES: &str = include_str!("../../data/lexicons/cues/values.txt");
const ECHO: &str = include_str!("../../data/lexicons/cues/echo.txt");
const REMEMBRANCE: &str = include_str!("../../data/lexicons/cues/remembrance.txt");
const ANNIVERSARIES: &str = include_str!("../../data/lexicons/cues/anniversaries.tsv");
const BENIGN: &str = include_str!("../../data/lexicons/cues/benign.txt");
const COMPLAINT: &str = include_str!("../../data/lexicons/cues/complaint.txt");
const INCIDENT: &str = include_str!("../../data/lexicons/cues/incident.txt");
const DISTRESS: &str = include_str!("../../data/lexicons/cues/distress.txt");
const OBJECTS: &str = include_str!("../../data/lexicons/cues/objects.txt");
const CODES: &str = include_str!("../../data/lexicons/cues/codes.txt");
const SARCASM: &str = include_str!("../../data/lexicons/cues/sarcasm.txt");
const PILE_ON: &str = include_str!("../../data/lexicons/cues/pileon.txt");
const VIOLENCE: &str = include_str!("../../data/lexicons/cues/violence.txt");
const WARNED: &str = include_str!("../../data/lexicons/cues/warned.txt");
const FALSE_FRIENDS: &str = include_str!("../../data/lexicons/cues/false_friends.tsv");

/// What a lexicon term signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    Garm(SensitiveCategory, Level),
    /// `true`: decisive on its own.
    Grief(bool),
    Outrage,
    Values,
    Echo,
    Remembrance,
    /// Index into `Lexicon::anniversaries`.
    Anniversary(usize),
    /// A figurative phrase that masks the sensitive terms inside it.
    Benign,
    /// A bad experience or sarcasm: a negative post even when sentiment
    /// reads neutral.
    Complaint,
    /// A corporate incident (recall, breach, scandal).
    Incident,
    /// A person in crisis.
    Distress,
    /// An inanimate thing (a battery, an app): "killed my battery" is a
    /// machine failing, not a death.
    Object,
    /// Coded hate (a number, initials, a slogan), or one half of a code
    /// written in two parts.
    Code(CodePart),
    /// An irony frame ("love how", "would be nice if").
    Sarcasm,
    /// A crowd harassing a private person: an act (`true`: doxxing,
    /// tracking down) or talk of one ("leave her alone").
    PileOn(bool),
    /// The crowd warning brands off the moment ("brands making jokes").
    Warned,
    /// A report of literal violence or death ("death toll", "gunman").
    Violence,
}

/// Codes are whole, or one half of a code written in two parts (an index
/// into [`SPLIT_CODES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePart {
    Whole,
    First(usize),
    Second(usize),
}

/// The codes that are written in two parts, a number apart from a number
/// or a name apart from a number ("name VIERZEHN, number 88", "COMBAT on
/// the back, number 18"), each with how a finding names it. `codes.txt`
/// lists each half in a section `[first of NAME]` or `[second of NAME]`.
pub const SPLIT_CODES: [(&str, &str); 3] = [
    ("14/88", "14/88 written in two parts"),
    ("combat 18", "Combat 18 written in two parts"),
    ("crew 38", "Crew 38 written in two parts"),
];

#[derive(Debug, Clone)]
pub struct Anniversary {
    pub month: i8,
    pub day: i8,
    pub name: &'static str,
}

#[derive(Debug)]
pub struct Lexicon {
    /// Term as written, and every cue it carries.
    pub entries: Vec<(&'static str, Vec<Cue>)>,
    pub(crate) english: PhraseSet,
    /// Raw forms: one pattern per distinct spelling, so that spellings
    /// sharing an English stem ("boicot", "boicote") all match in other
    /// languages; `raw_entry` maps each to its entry.
    pub(crate) raw: PhraseSet,
    raw_entry: Vec<usize>,
    /// Entries not read in events of a language: `(language, entry)`.
    false_friends: Vec<(&'static str, usize)>,
    pub anniversaries: Vec<Anniversary>,
}

impl Lexicon {
    /// Every match in `s` as `(entry, first token, tokens)`.
    pub(crate) fn overlapping(
        &self,
        form: Form,
        s: &Stream,
        work: &mut u64,
    ) -> Vec<(usize, usize, usize)> {
        match form {
            Form::English => self.english.overlapping(s, work),
            Form::Raw => {
                let mut hits = self.raw.overlapping(s, work);
                hits.retain_mut(|hit| match self.raw_entry.get(hit.0) {
                    Some(&entry) => {
                        hit.0 = entry;
                        true
                    }
                    None => false,
                });
                hits
            }
        }
    }

    /// Whether `entry` is an ordinary word of `language` (an ISO 639-1
    /// code, or a tag that starts with one: "fr-CA").
    pub(crate) fn false_friend(&self, language: &str, entry: usize) -> bool {
        let primary = language.split(['-', '_']).next().unwrap_or_default();
        self.false_friends
            .iter()
            .any(|(lang, e)| *e == entry && lang.eq_ignore_ascii_case(primary))
    }
}

/// Lines that are neither blank nor comments.
fn content_lines(src: &'static str) -> impl Iterator<Item = &'static str> {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The terms of a word list in `[section]`s (`cues/intrusion.txt`,
/// `cues/payload.txt`), each with the name of the section it sits in
/// (`""` before the first).
pub(crate) fn sectioned_terms(
    src: &'static str,
) -> impl Iterator<Item = (&'static str, &'static str)> {
    let mut section = "";
    content_lines(src).filter_map(move |line| {
        match line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            Some(name) => {
                section = name;
                None
            }
            None => Some((section, line)),
        }
    })
}

/// A parse problem in a shipped lexicon file; only tests ever see one,
/// because the files are compiled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: line {line:?}: {problem}")]
pub struct LexiconError {
    pub file: String,
    pub line: String,
    pub problem: &'static str,
}

fn parse_garm(
    cat: SensitiveCategory,
    src: &'static str,
) -> Result<Vec<(&'static str, Cue)>, LexiconError> {
    let mut level = None;
    let mut out = Vec::new();
    for line in content_lines(src) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            level = Some(Level::parse(name).ok_or_else(|| LexiconError {
                file: category_name(cat).into(),
                line: line.into(),
                problem: "unknown level",
            })?);
            continue;
        }
        let Some(l) = level else {
            return Err(LexiconError {
                file: category_name(cat).into(),
                line: line.into(),
                problem: "term before any [level] section",
            });
        };
        out.push((line, Cue::Garm(cat, l)));
    }
    Ok(out)
}

/// Terms and the cue each carries.
type CueTerms = Vec<(&'static str, Cue)>;

/// A cue file in `[section]`s, each section naming the cue of its terms.
fn parse_sections(
    file: &str,
    src: &'static str,
    cue_of: impl Fn(&str) -> Option<Cue>,
) -> Result<CueTerms, LexiconError> {
    let mut cue = None;
    let mut out = Vec::new();
    for line in content_lines(src) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            cue = Some(cue_of(name).ok_or_else(|| LexiconError {
                file: file.into(),
                line: line.into(),
                problem: "unknown section",
            })?);
            continue;
        }
        let Some(cue) = cue else {
            return Err(LexiconError {
                file: file.into(),
                line: line.into(),
                problem: "term before any section",
            });
        };
        out.push((line, cue));
    }
    Ok(out)
}

/// `codes.txt`: a `[whole]` section, then the halves of each of
/// [`SPLIT_CODES`].
fn parse_codes() -> Result<CueTerms, LexiconError> {
    let split = |name: &str| SPLIT_CODES.iter().position(|(code, _)| *code == name);
    parse_sections("codes.txt", CODES, |name| {
        if name == "whole" {
            return Some(Cue::Code(CodePart::Whole));
        }
        if let Some(code) = name.strip_prefix("first of ") {
            return split(code).map(|i| Cue::Code(CodePart::First(i)));
        }
        name.strip_prefix("second of ")
            .and_then(split)
            .map(|i| Cue::Code(CodePart::Second(i)))
    })
}

fn parse_anniversaries() -> Result<(Vec<Anniversary>, CueTerms), LexiconError> {
    let err = |line: &str, problem| LexiconError {
        file: "anniversaries.tsv".into(),
        line: line.into(),
        problem,
    };
    let mut list = Vec::new();
    let mut terms = Vec::new();
    for line in content_lines(ANNIVERSARIES) {
        let mut cols = line.split('\t');
        let (Some(date), Some(name), Some(kws)) = (cols.next(), cols.next(), cols.next()) else {
            return Err(err(line, "expected three tab-separated columns"));
        };
        let (m, d) = date
            .split_once('-')
            .and_then(|(m, d)| Some((m.parse::<i8>().ok()?, d.parse::<i8>().ok()?)))
            .ok_or_else(|| err(line, "date must be MM-DD"))?;
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return Err(err(line, "date out of range"));
        }
        let idx = list.len();
        list.push(Anniversary {
            month: m,
            day: d,
            name: name.trim(),
        });
        for kw in kws.split('|').map(str::trim).filter(|k| !k.is_empty()) {
            terms.push((kw, Cue::Anniversary(idx)));
        }
    }
    Ok((list, terms))
}

pub(crate) fn parse_all() -> Result<Lexicon, LexiconError> {
    let mut cues: Vec<(&'static str, Cue)> = Vec::new();
    for (cat, src) in GARM_FILES {
        cues.extend(parse_garm(cat, src)?);
    }
    for line in content_lines(GRIEF) {
        match line.strip_prefix('!') {
            Some(t) => cues.push((t.trim(), Cue::Grief(true))),
            None => cues.push((line, Cue::Grief(false))),
        }
    }
    cues.extend(content_lines(OUTRAGE).map(|l| (l, Cue::Outrage)));
    cues.extend(content_lines(VALUES).map(|l| (l, Cue::Values)));
    cues.extend(content_lines(ECHO).map(|l| (l, Cue::Echo)));
    cues.extend(content_lines(REMEMBRANCE).map(|l| (l, Cue::Remembrance)));
    cues.extend(content_lines(BENIGN).map(|l| (l, Cue::Benign)));
    cues.extend(content_lines(COMPLAINT).map(|l| (l, Cue::Complaint)));
    cues.extend(content_lines(INCIDENT).map(|l| (l, Cue::Incident)));
    cues.extend(content_lines(DISTRESS).map(|l| (l, Cue::Distress)));
    cues.extend(content_lines(OBJECTS).map(|l| (l, Cue::Object)));
    cues.extend(parse_codes()?);
    cues.extend(content_lines(SARCASM).map(|l| (l, Cue::Sarcasm)));
    cues.extend(parse_sections("pileon.txt", PILE_ON, |name| match name {
        "act" => Some(Cue::PileOn(true)),
        "talk" => Some(Cue::PileOn(false)),
        _ => None,
    })?);
    cues.extend(content_lines(WARNED).map(|l| (l, Cue::Warned)));
    cues.extend(content_lines(VIOLENCE).map(|l| (l, Cue::Violence)));
    let (anniversaries, ann_terms) = parse_anniversaries()?;
    cues.extend(ann_terms);

    // One pattern per distinct stemmed form, carrying every cue, so a term
    // listed in two files reports both.
    let mut by_pattern: HashMap<String, usize> = HashMap::new();
    let mut entries: Vec<(&'static str, Vec<Cue>)> = Vec::new();
    let mut english = Vec::new();
    let mut raw = Vec::new();
    let mut raw_entry = Vec::new();
    let mut raw_seen: std::collections::HashSet<Vec<String>> = Default::default();
    let english_words: std::collections::HashSet<&str> =
        ENGLISH_WORDS.lines().map(str::trim).collect();
    for (term, cue) in cues {
        let p = pattern(term, Form::English);
        if p.is_empty() {
            return Err(LexiconError {
                file: "cues".into(),
                line: term.into(),
                problem: "term has no words",
            });
        }
        let (entry, first) = match by_pattern.get(&p) {
            Some(&i) => {
                if let Some(e) = entries.get_mut(i)
                    && !e.1.contains(&cue)
                {
                    e.1.push(cue);
                }
                (i, false)
            }
            None => {
                by_pattern.insert(p, entries.len());
                entries.push((term, vec![cue]));
                english.push(pattern_tokens(term, Form::English));
                (entries.len() - 1, true)
            }
        };
        let spelling = pattern_tokens(term, Form::Raw);
        // English words keep one raw spelling per stem, as they always
        // had: a second ("die" beside "died") would find articles and
        // verbs of other languages. Words of other languages ("boicote"
        // beside "boicot") are matched in every spelling listed.
        let foreign = spelling.iter().any(|t| !english_words.contains(t.as_str()));
        if (first || foreign) && raw_seen.insert(spelling.clone()) {
            raw.push(spelling);
            raw_entry.push(entry);
        }
    }
    let mut false_friends = Vec::new();
    for line in content_lines(FALSE_FRIENDS) {
        let (language, word) = line.split_once('\t').ok_or_else(|| LexiconError {
            file: "cues/false_friends.tsv".into(),
            line: line.into(),
            problem: "expected language<TAB>word",
        })?;
        let Some(&entry) = by_pattern.get(&pattern(word.trim(), Form::English)) else {
            return Err(LexiconError {
                file: "cues/false_friends.tsv".into(),
                line: line.into(),
                problem: "not a term of the lexicons",
            });
        };
        false_friends.push((language.trim(), entry));
    }
    Ok(Lexicon {
        entries,
        false_friends,
        english: PhraseSet::new(&english),
        raw: PhraseSet::new(&raw),
        raw_entry,
        anniversaries,
    })
}

/// Whether a finding of `category` at `level` may be a figure of speech:
/// words of death and weapons are everyday hyperbole ("killing it",
/// "sandwich wars", "a massacre on the scoreboard", "shots fired"). The
/// floor terms of weapons (instructions) never are, nor is terror: its
/// list names groups and attacks ("ISIS", "9/11"), and its everyday
/// figures ("the bomb", "photobomb") are masked as idioms already.
pub fn figurative_prone(category: SensitiveCategory, level: Level) -> bool {
    match category {
        SensitiveCategory::DeathInjuryMilitaryConflict => true,
        SensitiveCategory::ArmsAmmunition => level < Level::Floor,
        _ => false,
    }
}

/// The stems of the single words that may be figures of speech, for
/// sentiment to leave out when the moment reads them so.
pub(crate) static FIGURATIVE_STEMS: LazyLock<std::collections::HashSet<String>> =
    LazyLock::new(|| {
        LEXICON
            .entries
            .iter()
            .filter(|(term, cues)| {
                !term.contains(' ')
                    && cues.iter().any(
                        |c| matches!(c, Cue::Garm(cat, level) if figurative_prone(*cat, *level)),
                    )
            })
            .map(|(term, _)| pattern(term, Form::English))
            .collect()
    });

/// The codes of `cues/codes.txt` written as one word (letters and digits
/// only, lower-cased: "wpww", "rahowa", "1488"), for words spelled out a
/// character at a time.
pub(crate) static SPELLABLE_CODES: LazyLock<Vec<(String, &'static str)>> = LazyLock::new(|| {
    LEXICON
        .entries
        .iter()
        .filter(|(_, cues)| cues.contains(&Cue::Code(CodePart::Whole)))
        .map(|(term, _)| {
            let joined: String = term
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            (joined, *term)
        })
        .collect()
});

pub static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    // The files are compiled in and a unit test parses them, so a failure
    // here cannot reach production; still, degrade to an empty lexicon
    // rather than panic.
    parse_all().unwrap_or_else(|_| Lexicon {
        entries: Vec::new(),
        english: PhraseSet::default(),
        raw: PhraseSet::default(),
        raw_entry: Vec::new(),
        false_friends: Vec::new(),
        anniversaries: Vec::new(),
    })
});

/// Single-word lexicon terms, so hashtag splitting knows them as words even
/// when the general word list does not (slurs, slang, drug names).
pub(crate) fn single_words() -> Vec<&'static str> {
    let mut out = Vec::new();
    let srcs = GARM_FILES.iter().map(|(_, s)| *s).chain([
        GRIEF,
        OUTRAGE,
        VALUES,
        ECHO,
        REMEMBRANCE,
        COMPLAINT,
        INCIDENT,
    ]);
    for src in srcs {
        for line in content_lines(src) {
            let t = line.trim_start_matches('!');
            if !t.starts_with('[')
                && t.chars().all(|c| c.is_ascii_lowercase())
                && words(t).len() == 1
            {
                out.push(t);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lexicon_file_parses() {
        let lex = parse_all().expect("lexicons parse");
        assert!(lex.entries.len() > 300, "{}", lex.entries.len());
        assert!(lex.anniversaries.len() >= 30);
        for (cat, src) in GARM_FILES {
            let terms = parse_garm(cat, src).expect("garm file parses");
            assert!(!terms.is_empty(), "{} is empty", category_name(cat));
        }
    }

    #[test]
    fn every_category_has_a_file_and_high_terms() {
        for cat in SensitiveCategory::ALL {
            let (_, src) = GARM_FILES
                .iter()
                .find(|(c, _)| *c == cat)
                .expect("file for category");
            let terms = parse_garm(cat, src).expect("parses");
            assert!(
                terms
                    .iter()
                    .any(|(_, c)| matches!(c, Cue::Garm(_, l) if *l >= Level::High)),
                "{} has no high or floor terms",
                category_name(cat)
            );
        }
    }

    #[test]
    fn shared_terms_carry_every_cue() {
        let lex = parse_all().expect("parses");
        let (_, cues) = lex
            .entries
            .iter()
            .find(|(t, _)| *t == "9 11")
            .expect("9 11 listed");
        assert!(cues.contains(&Cue::Values));
        assert!(cues.iter().any(|c| matches!(c, Cue::Anniversary(_))));
        assert!(cues.contains(&Cue::Garm(SensitiveCategory::Terrorism, Level::High)));
    }

    #[test]
    fn anniversary_dates_are_valid() {
        let lex = parse_all().expect("parses");
        let sept = lex
            .anniversaries
            .iter()
            .find(|a| a.month == 9 && a.day == 11)
            .expect("09-11 listed");
        assert_eq!(sept.name, "september 11 attacks");
    }
}
