//! `kairos eval`: backtesting. A brand team writes down its past moments
//! with the answers it would have wanted, and sees how Kairos decides on
//! them, through a running server, before it lets Kairos gate real
//! engagement.
//!
//! The file holds brand profiles and cases in the formats of `kairos import`
//! and `kairos score`:
//!
//! ```yaml
//! profiles:            # optional; stored with --import
//!   - brand_id: crumbly
//!     display_name: Crumbly Cookies
//!     themes: [cookie, {term: dunk, weight: 0.9}]
//! cases:
//!   - id: stadium-blackout
//!     brand: crumbly
//!     now: 2013-02-04T02:00:00Z
//!     expected: engage          # one decision or a list: 1 point
//!     acceptable: [review]      # ½ point
//!     harmful: []               # −2 points (ENGAGE on a backlash moment)
//!     category: win             # optional, for the breakdown
//!     note: Oreo, Super Bowl blackout, 2013
//!     event: {kind: live_event, text: …, occurred_at: …}   # id defaults to the case's
//! ```
//!
//! JSON Lines (`.jsonl`, `.ndjson`) holds one object per line:
//! `{"profile": {…}}` or `{"case": {…}}`. Any other decision scores 0 (a
//! miss). Utility is the average, as PRODUCT.md judges decision quality.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Deserialize;

use super::files::{self, FileError};
use super::{Connection, status_text};
use crate::grpc::pb;
use crate::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use crate::grpc::pb::scoring_service_client::ScoringServiceClient;

/// Points of an expected, an acceptable, a harmful and any other answer.
pub const RIGHT: f64 = 1.0;
pub const SAFE_BUT_WEAKER: f64 = 0.5;
pub const HARMFUL: f64 = -2.0;
pub const MISS: f64 = 0.0;

/// Calls in flight at once: enough to hide the round trip, few enough not
/// to be shed by a server's `--max-in-flight`.
const IN_FLIGHT: usize = 8;

/// Reasons shown per disagreement.
const TOP_REASONS: usize = 3;

/// The decisions, in the order tables show them.
const DECISIONS: [pb::Decision; 4] = [
    pb::Decision::Engage,
    pb::Decision::Review,
    pb::Decision::Listen,
    pb::Decision::Decline,
];

/// A file of profiles and cases.
#[derive(Debug, Clone)]
pub struct Suite {
    pub profiles: Vec<pb::BrandProfile>,
    pub cases: Vec<Case>,
}

/// One past moment for one brand, and the answers wanted.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub brand: String,
    pub now: prost_types::Timestamp,
    pub event: pb::Event,
    /// Full marks. A wrong answer counts in the confusion matrix's row of
    /// the first.
    pub expected: Vec<pb::Decision>,
    pub acceptable: Vec<pb::Decision>,
    pub harmful: Vec<pb::Decision>,
    pub category: String,
    pub note: String,
}

impl Case {
    /// What answering `got` is worth, by PRODUCT.md's rule.
    pub fn points(&self, got: pb::Decision) -> f64 {
        if self.expected.contains(&got) {
            RIGHT
        } else if self.harmful.contains(&got) {
            HARMFUL
        } else if self.acceptable.contains(&got) {
            SAFE_BUT_WEAKER
        } else {
            MISS
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    id: String,
    brand: String,
    now: String,
    expected: OneOrMany,
    #[serde(default)]
    acceptable: Vec<String>,
    #[serde(default)]
    harmful: Vec<String>,
    #[serde(default)]
    category: String,
    #[serde(default)]
    note: String,
    event: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    #[serde(default)]
    profiles: Vec<serde_json::Value>,
    #[serde(default)]
    cases: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum Line {
    Profile(serde_json::Value),
    Case(serde_json::Value),
}

fn decisions(names: &[String]) -> Result<Vec<pb::Decision>, String> {
    names
        .iter()
        .map(|name| {
            let value = files::decision(name)?;
            match pb::Decision::try_from(value) {
                Ok(pb::Decision::Unspecified) | Err(_) => Err(format!(
                    "{name:?} is not a decision (engage, review, listen, decline)"
                )),
                Ok(d) => Ok(d),
            }
        })
        .collect()
}

fn case_from_value(mut value: serde_json::Value) -> Result<Case, String> {
    let file: CaseFile = {
        // The event's id defaults to the case's.
        if let Some(case) = value.as_object_mut()
            && let Some(id) = case.get("id").cloned()
            && let Some(event) = case.get_mut("event").and_then(|e| e.as_object_mut())
            && !event.contains_key("id")
        {
            event.insert("id".into(), id);
        }
        serde_json::from_value(value).map_err(|e| e.to_string())?
    };
    let expected = match file.expected {
        OneOrMany::One(d) => vec![d],
        OneOrMany::Many(list) => list,
    };
    let case = Case {
        expected: decisions(&expected).map_err(|e| format!("expected: {e}"))?,
        acceptable: decisions(&file.acceptable).map_err(|e| format!("acceptable: {e}"))?,
        harmful: decisions(&file.harmful).map_err(|e| format!("harmful: {e}"))?,
        now: files::timestamp(&file.now).map_err(|e| format!("now: {e}"))?,
        event: files::event_from_value(file.event).map_err(|e| format!("event: {e}"))?,
        id: file.id,
        brand: file.brand,
        category: file.category,
        note: file.note,
    };
    if case.expected.is_empty() {
        return Err("expected: name at least one decision".into());
    }
    for d in &case.expected {
        if case.acceptable.contains(d) || case.harmful.contains(d) {
            return Err(format!(
                "{} is both expected and acceptable or harmful",
                decision_name(*d)
            ));
        }
    }
    if let Some(d) = case.acceptable.iter().find(|d| case.harmful.contains(d)) {
        return Err(format!(
            "{} is both acceptable and harmful",
            decision_name(*d)
        ));
    }
    Ok(case)
}

/// Reads an evaluation file: YAML or JSON (`{profiles, cases}`), or JSON
/// Lines. Items are numbered from 1 in errors.
pub fn read_suite(path: &Path) -> Result<Suite, FileError> {
    let text = files::read(path)?;
    let at = |message: String| FileError::Parse {
        path: path.display().to_string(),
        message,
    };
    let json_lines = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"));
    let (profiles, cases) = if json_lines {
        let mut profiles = Vec::new();
        let mut cases = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let line: Line =
                serde_json::from_str(line).map_err(|e| at(format!("line {}: {e}", n + 1)))?;
            match line {
                Line::Profile(p) => profiles.push((format!("line {}", n + 1), p)),
                Line::Case(c) => cases.push((format!("line {}", n + 1), c)),
            }
        }
        (profiles, cases)
    } else {
        let value = files::parse_value(path, &text)?;
        let suite: SuiteFile = serde_json::from_value(value).map_err(|e| at(e.to_string()))?;
        let number = |what: &'static str| move |(i, v)| (format!("{what} {}", i + 1), v);
        (
            suite
                .profiles
                .into_iter()
                .enumerate()
                .map(number("profile"))
                .collect(),
            suite
                .cases
                .into_iter()
                .enumerate()
                .map(number("case"))
                .collect(),
        )
    };
    let profiles = profiles
        .into_iter()
        .map(|(place, v)| files::profile_from_value(v).map_err(|e| at(format!("{place}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let cases = cases
        .into_iter()
        .map(|(place, v)| case_from_value(v).map_err(|e| at(format!("{place}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = cases.iter().find(|c| !seen.insert(c.id.as_str())) {
        return Err(at(format!("case id {:?} appears twice", dup.id)));
    }
    if cases.is_empty() {
        return Err(at("no cases".into()));
    }
    Ok(Suite { profiles, cases })
}

/// What Kairos answered on one case.
#[derive(Debug, Clone)]
pub struct Answer {
    pub decision: pb::Decision,
    /// (reason code, detail), most decisive first.
    pub reasons: Vec<(pb::ReasonCode, String)>,
}

impl Answer {
    pub fn of(assessment: &pb::Assessment) -> Self {
        Self {
            decision: assessment.decision(),
            reasons: assessment
                .reasons
                .iter()
                .map(|r| (r.code(), r.detail.clone()))
                .collect(),
        }
    }
}

/// The answers to a suite's cases, in its order, and what they are worth.
pub struct Tally<'a> {
    suite: &'a Suite,
    answers: Vec<Answer>,
}

impl<'a> Tally<'a> {
    /// `answers` in the order of `suite.cases`.
    pub fn new(suite: &'a Suite, answers: Vec<Answer>) -> Self {
        Self { suite, answers }
    }

    fn rows(&self) -> impl Iterator<Item = (&'a Case, &Answer, f64)> {
        self.suite
            .cases
            .iter()
            .zip(&self.answers)
            .map(|(case, answer)| (case, answer, case.points(answer.decision)))
    }

    /// The average points: 1 is every answer right.
    pub fn utility(&self) -> f64 {
        let total: f64 = self.rows().map(|(_, _, points)| points).sum();
        total / self.answers.len().max(1) as f64
    }

    pub fn harmful(&self) -> Vec<&'a str> {
        self.rows()
            .filter(|(_, _, p)| *p < MISS)
            .map(|(c, _, _)| c.id.as_str())
            .collect()
    }

    pub fn misses(&self) -> Vec<&'a str> {
        self.rows()
            .filter(|(_, _, p)| *p == MISS)
            .map(|(c, _, _)| c.id.as_str())
            .collect()
    }

    /// Count per (expected decision, answer).
    fn confusion(&self) -> BTreeMap<(usize, usize), usize> {
        let index = |d: pb::Decision| DECISIONS.iter().position(|x| *x == d).unwrap_or(0);
        let mut counts = BTreeMap::new();
        for (case, answer, _) in self.rows() {
            // A right answer sits on the diagonal, whichever expected
            // decision it was.
            let expected = if case.expected.contains(&answer.decision) {
                answer.decision
            } else {
                case.expected
                    .first()
                    .copied()
                    .unwrap_or(pb::Decision::Review)
            };
            *counts
                .entry((index(expected), index(answer.decision)))
                .or_insert(0) += 1;
        }
        counts
    }

    /// Average points per case category.
    fn by_category(&self) -> BTreeMap<&'a str, (f64, usize)> {
        let mut out: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
        for (case, _, points) in self.rows() {
            let entry = out.entry(case.category.as_str()).or_default();
            entry.0 += points;
            entry.1 += 1;
        }
        out
    }

    /// The report people read.
    pub fn text(&self, name: &str) -> String {
        let mut out = String::new();
        let harmful = self.harmful();
        let misses = self.misses();
        let _ = writeln!(
            out,
            "{name}: {} cases, utility {:.3}, harmful {}, misses {}",
            self.answers.len(),
            self.utility(),
            harmful.len(),
            misses.len()
        );
        let _ = writeln!(out, "\nexpected \\ got   engage  review  listen decline");
        let confusion = self.confusion();
        for (row, expected) in DECISIONS.iter().enumerate() {
            let _ = write!(out, "{:<16}", decision_name(*expected));
            for col in 0..DECISIONS.len() {
                let n = confusion.get(&(row, col)).copied().unwrap_or(0);
                let _ = write!(out, "{n:>8}");
            }
            out.push('\n');
        }
        let categories = self.by_category();
        if categories.len() > 1 {
            let _ = writeln!(out, "\nper category:");
            for (category, (points, n)) in categories {
                let category = if category.is_empty() { "-" } else { category };
                let _ = writeln!(
                    out,
                    "  {category:<20} {n:>4} cases  utility {:.2}",
                    points / n as f64
                );
            }
        }
        let disagreements: Vec<_> = self
            .rows()
            .filter(|(case, answer, _)| !case.expected.contains(&answer.decision))
            .collect();
        if !disagreements.is_empty() {
            let _ = writeln!(out, "\ndisagreements:");
        }
        for (case, answer, points) in disagreements {
            let label = if points < MISS {
                "HARMFUL"
            } else if points == MISS {
                "miss"
            } else {
                "weaker"
            };
            let _ = writeln!(
                out,
                "  {label:<7} {}: expected {} got {} ({points:+.1}) for {}",
                case.id,
                names(&case.expected),
                decision_name(answer.decision),
                case.brand
            );
            for (code, detail) in answer.reasons.iter().take(TOP_REASONS) {
                let _ = writeln!(out, "          {}: {detail}", reason_name(*code));
            }
            if !case.note.is_empty() {
                let _ = writeln!(out, "          note: {}", case.note);
            }
        }
        out
    }

    /// The report for machines.
    pub fn json(&self, name: &str) -> serde_json::Value {
        let confusion = self.confusion();
        let matrix: serde_json::Map<String, serde_json::Value> = DECISIONS
            .iter()
            .enumerate()
            .map(|(row, expected)| {
                let cols: serde_json::Map<String, serde_json::Value> = DECISIONS
                    .iter()
                    .enumerate()
                    .map(|(col, got)| {
                        let n = confusion.get(&(row, col)).copied().unwrap_or(0);
                        (decision_name(*got).to_string(), n.into())
                    })
                    .collect();
                (decision_name(*expected).to_string(), cols.into())
            })
            .collect();
        let cases: Vec<serde_json::Value> = self
            .rows()
            .map(|(case, answer, points)| {
                serde_json::json!({
                    "id": case.id,
                    "brand": case.brand,
                    "category": case.category,
                    "expected": case.expected.iter().map(|d| decision_name(*d)).collect::<Vec<_>>(),
                    "got": decision_name(answer.decision),
                    "points": points,
                    "reasons": answer.reasons.iter().take(TOP_REASONS).map(|(code, detail)| serde_json::json!({
                        "code": reason_name(*code),
                        "detail": detail,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({
            "file": name,
            "cases": self.answers.len(),
            "utility": self.utility(),
            "harmful": self.harmful(),
            "misses": self.misses(),
            "confusion": matrix,
            "results": cases,
        })
    }
}

fn decision_name(d: pb::Decision) -> &'static str {
    match d {
        pb::Decision::Engage => "engage",
        pb::Decision::Review => "review",
        pb::Decision::Listen => "listen",
        pb::Decision::Decline => "decline",
        pb::Decision::Unspecified => "unspecified",
    }
}

fn names(list: &[pb::Decision]) -> String {
    list.iter()
        .map(|d| decision_name(*d))
        .collect::<Vec<_>>()
        .join("/")
}

fn reason_name(code: pb::ReasonCode) -> &'static str {
    let name = code.as_str_name();
    name.strip_prefix("REASON_CODE_").unwrap_or(name)
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// YAML or JSON file (`profiles`, `cases`), or JSON Lines.
    pub file: PathBuf,
    /// Store the file's profiles on the server first (an upsert: it
    /// replaces stored profiles with the same brand_id). Without it, a file
    /// with profiles is refused, so a production profile is never
    /// overwritten by surprise.
    #[arg(long)]
    pub import: bool,
    /// Also fail (exit 1) when utility is below this.
    #[arg(long, value_name = "UTILITY")]
    pub min_utility: Option<f64>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub conn: Connection,
}

/// Exit code when the evaluation could not run (a bad file, no server, a
/// case the server refused).
const CANNOT_EVALUATE: u8 = 2;

pub async fn eval(args: EvalArgs) -> ExitCode {
    match eval_inner(&args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(CANNOT_EVALUATE)
        }
    }
}

async fn eval_inner(args: &EvalArgs) -> Result<ExitCode, String> {
    if let Some(min) = args.min_utility
        && !(-2.0..=1.0).contains(&min)
    {
        return Err(format!("--min-utility must be between -2 and 1, got {min}"));
    }
    let suite = read_suite(&args.file).map_err(|e| crate::error::chain(&e))?;
    if !suite.profiles.is_empty() && !args.import {
        return Err(format!(
            "{} holds {} profiles; pass --import to store them on the server first \
             (it replaces stored profiles with the same brand_id), or remove them \
             to evaluate against the profiles the server has",
            args.file.display(),
            suite.profiles.len()
        ));
    }
    let channel = args.conn.channel().await?;
    if args.import {
        import_profiles(args, channel.clone(), &suite.profiles).await?;
    }
    let answers = score_cases(args, channel, &suite.cases).await?;
    let tally = Tally::new(&suite, answers);
    let name = args.file.display().to_string();
    if args.json {
        println!("{}", tally.json(&name));
    } else {
        print!("{}", tally.text(&name));
    }
    let below = args.min_utility.is_some_and(|min| tally.utility() < min);
    if below && !args.json {
        println!(
            "utility {:.3} is below --min-utility {}",
            tally.utility(),
            args.min_utility.unwrap_or_default()
        );
    }
    Ok(if tally.harmful().is_empty() && !below {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn import_profiles(
    args: &EvalArgs,
    channel: super::Conn,
    profiles: &[pb::BrandProfile],
) -> Result<(), String> {
    if profiles.is_empty() {
        return Ok(());
    }
    let mut client = BrandProfileServiceClient::new(channel);
    let items: Vec<_> = profiles
        .iter()
        .map(|p| pb::ImportBrandProfilesRequest {
            profile: Some(p.clone()),
        })
        .collect();
    let request = args.conn.authorized(tokio_stream::iter(items))?;
    let answer = client
        .import_brand_profiles(request)
        .await
        .map_err(|s| format!("importing the profiles: {}", status_text(&s)))?
        .into_inner();
    if let Some(e) = answer.errors.first() {
        return Err(format!(
            "the server refused profile {} ({}): {}",
            e.index + 1,
            e.brand_id,
            e.message
        ));
    }
    eprintln!(
        "imported {} profiles ({} new, {} updated)",
        profiles.len(),
        answer.created,
        answer.updated
    );
    Ok(())
}

async fn score_cases(
    args: &EvalArgs,
    channel: super::Conn,
    cases: &[Case],
) -> Result<Vec<Answer>, String> {
    let client = ScoringServiceClient::new(channel);
    let mut answers: Vec<Option<Answer>> = vec![None; cases.len()];
    let mut pending = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < cases.len() || !pending.is_empty() {
        while next < cases.len() && pending.len() < IN_FLIGHT {
            let case = &cases[next];
            let request = args.conn.authorized(pb::ScoreRequest {
                view: pb::AssessmentView::Full as i32,
                request_id: String::new(),
                event: Some(case.event.clone()),
                brand_id: case.brand.clone(),
                now: Some(case.now),
                log_decision: false,
            })?;
            let mut client = client.clone();
            let index = next;
            pending.spawn(async move { (index, client.score(request).await) });
            next += 1;
        }
        let Some(joined) = pending.join_next().await else {
            break;
        };
        let (index, result) = joined.map_err(|e| format!("a scoring task failed: {e}"))?;
        let id = cases.get(index).map(|c| c.id.as_str()).unwrap_or("");
        let assessment = result
            .map_err(|s| format!("case {} ({id}): {}", index + 1, status_text(&s)))?
            .into_inner()
            .assessment
            .ok_or_else(|| {
                format!(
                    "case {} ({id}): the server returned no assessment",
                    index + 1
                )
            })?;
        if let Some(slot) = answers.get_mut(index) {
            *slot = Some(Answer::of(&assessment));
        }
    }
    answers
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.ok_or_else(|| format!("case {} was not scored", i + 1)))
        .collect()
}
