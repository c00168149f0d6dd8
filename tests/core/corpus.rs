//! The decision-quality corpora: real moments in `examples/eval/`, in the
//! users' own format, read through the real path (file → proto → convert →
//! validate) and scored in process. `kairos eval` scores the same files
//! through a running server (tests/api/eval.rs). A measurement as much as
//! a test: `cargo test --test core corpus -- --nocapture` prints the
//! reports.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use kairos::cli::eval::{Answer, Suite, Tally, read_suite};
use kairos::core::model::{Guardrails, StoredProfile};
use kairos::core::validate::{validate_event_time, validate_profile};
use kairos::core::{CompiledProfile, analyse, assess};
use kairos::grpc::convert::{View, assessment_out, event_in, profile_in, timestamp_in};

/// A corpus of `examples/eval/`.
pub fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/eval")
        .join(name)
}

/// The file's profiles, compiled as the server compiles them (version 1).
pub fn profiles(suite: &Suite) -> Vec<CompiledProfile> {
    suite
        .profiles
        .iter()
        .map(|p| {
            let profile = match profile_in(p) {
                Ok(profile) => profile,
                Err(e) => panic!("profile {}: {e}", p.brand_id),
            };
            if let Err(e) = validate_profile(&profile) {
                panic!("profile {}: {e}", p.brand_id);
            }
            CompiledProfile::compile(StoredProfile {
                profile,
                version: 1,
                updated_at: Timestamp::UNIX_EPOCH,
            })
        })
        .collect()
}

/// Every case's assessment, in the file's order, as the server would give
/// it without blackouts or engagements.
pub fn assessments(suite: &Suite) -> Vec<kairos::core::model::Assessment> {
    let compiled = profiles(suite);
    suite
        .cases
        .iter()
        .map(|case| {
            let Some(profile) = compiled.iter().find(|p| p.brand_id() == case.brand) else {
                panic!("{}: unknown brand {}", case.id, case.brand);
            };
            let event = match event_in(&case.event) {
                Ok(event) => event,
                Err(e) => panic!("{}: event {e}", case.id),
            };
            let now = match timestamp_in(&case.now, "now") {
                Ok(now) => now,
                Err(e) => panic!("{}: {e}", case.id),
            };
            if let Err(e) = validate_event_time(&event, now) {
                panic!("{}: {e}", case.id);
            }
            assess(&analyse(&event), profile, &Guardrails::default(), now)
        })
        .collect()
}

/// Scores one corpus file and asserts PRODUCT.md's bar: no harmful answer,
/// utility at least `min_utility`, at least `min_cases` cases.
fn check(name: &str, min_cases: usize, min_utility: f64) {
    check_path(&corpus(name), name, min_cases, min_utility, 0);
}

/// [`check`] for any file, allowing `max_harmful` harmful answers.
fn check_path(path: &Path, name: &str, min_cases: usize, min_utility: f64, max_harmful: usize) {
    let suite = match read_suite(path) {
        Ok(suite) => suite,
        Err(e) => panic!("{}", kairos::error::chain(&e)),
    };
    let answers = assessments(&suite)
        .into_iter()
        .map(|a| Answer::of(&assessment_out(a, String::new(), String::new(), View::Full)))
        .collect();
    let tally = Tally::new(&suite, answers);
    println!("{}", tally.text(name));
    assert!(suite.cases.len() >= min_cases, "{name}: corpus too small");
    assert!(
        tally.harmful().len() <= max_harmful,
        "{name}: harmful answers: {:?}",
        tally.harmful()
    );
    assert!(
        tally.utility() >= min_utility,
        "{name}: utility {:.3} below {min_utility}",
        tally.utility()
    );
}

#[test]
fn moments_corpus_meets_the_bar() {
    check("moments.yaml", 70, 0.85);
}

/// Moments written after the core was tuned on `moments.yaml`, with other
/// stories, brands and wording: the honest estimate of unseen quality.
#[test]
fn holdout_corpus_meets_the_bar() {
    check("holdout.yaml", 50, 0.85);
}

/// A third blind batch, written by an evaluator who had not seen the core's
/// failures on the other two, and measured before any rule changed (first
/// try 0.775 with one harmful answer; see docs/SCORING.md).
#[test]
fn blind3_corpus_meets_the_bar() {
    check("blind3.yaml", 30, 0.85);
}

/// A fourth blind batch over the failure classes of issue 10 (a brand's
/// own campaign turned against it, coded hate in echo requests, obligations
/// against opportunities in timing, trends that keep rising, idiom against
/// tragedy, pile-ons on private people, grey moments for people), with
/// controls; written with the answers fixed before the first run (first
/// try 0.025 with 13 harmful answers; see docs/SCORING.md).
#[test]
fn blind4_corpus_meets_the_bar() {
    check("blind4.yaml", 50, 0.85);
}

/// The fifth batch: written blind, measured once (first try -0.133 with 10
/// harmful answers), then used to generalise the rules, so no longer blind.
/// Below the bar for a public example; this ratchet keeps what was gained
/// (0.833, no harmful answer).
#[test]
fn blind5_development_corpus_does_not_regress() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blind5.yaml");
    check_path(&path, "blind5.yaml", 30, 0.83, 0);
}

/// The sixth batch: written blind as the final measure of the rules before
/// echo requests were recognised by their shape (first try 0.533 with 3
/// harmful answers), then used to develop them (0.883).
#[test]
fn blind6_corpus_meets_the_bar() {
    check("blind6.yaml", 30, 0.85);
}

/// The seventh batch: written blind as the final measure of the rules of
/// commit 7f560c4 (first try 0.646 with 2 harmful answers), then used to
/// develop them (0.917).
#[test]
fn blind7_corpus_meets_the_bar() {
    check("blind7.yaml", 24, 0.85);
}

/// The eighth batch: 46 cases written blind as a fresh measure of the rules
/// of commit 7e4256b (first try 0.424 with 5 harmful answers and 1 miss),
/// then used to develop them (0.859, none harmful).
#[test]
fn blind8_corpus_meets_the_bar() {
    check("blind8.yaml", 46, 0.85);
}

/// The ninth batch: 21 cases written blind as a fresh measure of the rules
/// of commit c576e72 (first try 0.524 with 2 harmful answers and 3 misses),
/// then used to develop them (0.929, none harmful). Too small for a public
/// example; this ratchet keeps what was gained.
#[test]
fn blind9_development_corpus_does_not_regress() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blind9.yaml");
    check_path(&path, "blind9.yaml", 21, 0.92, 0);
}

/// The tenth batch: 39 cases, 31 of them not in English, written blind as
/// a fresh measure of the rules of commit 4598b50 (first try 0.090 with 9
/// harmful answers), then used to develop them (0.808, none harmful).
#[test]
fn blind10_development_corpus_does_not_regress() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blind10.yaml");
    check_path(&path, "blind10.yaml", 39, 0.80, 0);
}

/// The eleventh batch: 28 cases, 24 of them not in English (Nordic,
/// Central European, Romanian, Turkish, Indonesian, Tagalog...), written
/// blind as a fresh measure of the rules of commit 283d1bd (first try
/// 0.071 with 8 harmful answers), then used to develop them (0.929, none
/// harmful).
#[test]
fn blind11_development_corpus_does_not_regress() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blind11.yaml");
    check_path(&path, "blind11.yaml", 28, 0.92, 0);
}

/// The twelfth batch: 28 cases, half in English, half in the seven
/// European languages the rules read, written blind as a fresh measure of
/// the rules of commit 9153822 (first try 0.571 with 2 harmful answers and
/// 3 misses), then used to develop them (0.893, none harmful).
#[test]
fn blind12_development_corpus_does_not_regress() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blind12.yaml");
    check_path(&path, "blind12.yaml", 28, 0.89, 0);
}
