//! Criterion benchmarks of the pure core, and of the wire encoding a
//! ScoreBatch answer costs on each side (see BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

// The allocator the server runs with (src/main.rs), so the figures are the
// shipped binary's: assessments allocate their reasons and strings.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kairos::core::analyse::input_bytes;
use kairos::core::model::{Guardrails, StoredProfile};
use kairos::core::{CompiledProfile, analyse, assess};
use kairos::grpc::convert::{View, assessment_out};
use kairos::grpc::pb;
use kairos::synthetic;
use prost::Message;

fn stored(i: usize, themes: usize) -> StoredProfile {
    StoredProfile {
        profile: synthetic::brand(i, themes),
        version: 1,
        updated_at: synthetic::now(),
    }
}

fn benches(c: &mut Criterion) {
    let event = synthetic::event(0);
    let now = synthetic::now();
    let guard = Guardrails::default();

    c.bench_function("analyse 280-char event", |b| {
        b.iter(|| analyse(black_box(&event)))
    });

    let profile = CompiledProfile::compile(stored(0, 200));
    let analysed = analyse(&event);
    c.bench_function("assess one pair (200-theme profile)", |b| {
        b.iter(|| assess(black_box(&analysed), black_box(&profile), &guard, now))
    });

    let brands: Vec<CompiledProfile> = (0..1000)
        .map(|i| CompiledProfile::compile(stored(i, 50)))
        .collect();
    c.bench_function("one event x 1000 brands (analyse once)", |b| {
        b.iter(|| {
            let analysed = analyse(black_box(&event));
            let mut engage = 0usize;
            for p in &brands {
                let a = assess(&analysed, p, &guard, now);
                engage += usize::from(a.opportunity > 0.5);
            }
            engage
        })
    });

    // What a ScoreBatch of one event x 1,000 brands costs beyond the core:
    // the server turns each assessment into its wire result and encodes
    // the answer; the client decodes it.
    let answer = |brands: &[CompiledProfile]| {
        let analysed = analyse(&event);
        let results = brands
            .iter()
            .map(|p| pb::PairResult {
                event_id: event.id.clone(),
                brand_id: p.brand_id().to_string(),
                result: Some(pb::pair_result::Result::Assessment(assessment_out(
                    assess(&analysed, p, &guard, now),
                    String::new(),
                    String::new(),
                    View::Full,
                ))),
            })
            .collect();
        pb::ScoreBatchResponse { results }
    };
    c.bench_function("batch answer x 1000: assess, to wire, encode", |b| {
        b.iter(|| answer(&brands).encode_to_vec())
    });
    let encoded = answer(&brands).encode_to_vec();
    c.bench_function("batch answer x 1000: client decode", |b| {
        b.iter(|| pb::ScoreBatchResponse::decode(black_box(encoded.as_slice())))
    });

    let s = stored(0, 200);
    c.bench_function("compile one profile (200 themes)", |b| {
        b.iter(|| CompiledProfile::compile(black_box(s.clone())))
    });
}

/// Work budgets (issue 9): the worst inputs found for each step of the
/// analysis, at the largest sizes validation allows, against the ordinary
/// 280-character event. The throughput is the event's input bytes, so
/// criterion reports each as bytes per second: time per KB is what the
/// budgets bound. `cargo bench --bench core -- "analyse per KB"`.
fn work_budgets(c: &mut Criterion) {
    let mut g = c.benchmark_group("analyse per KB");
    // A 1 MB event takes tens of milliseconds: ten samples are plenty.
    g.sample_size(10);
    let ordinary = ("ordinary 280-character event", synthetic::event(0));
    for (name, e) in std::iter::once(ordinary).chain(synthetic::adversarial_events()) {
        g.throughput(Throughput::Bytes(input_bytes(&e)));
        g.bench_function(name, |b| b.iter(|| analyse(black_box(&e))));
    }
    g.finish();
}

criterion_group!(core, benches, work_budgets);
criterion_main!(core);
