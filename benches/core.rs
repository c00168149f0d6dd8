//! Criterion benchmarks of the pure core (see BENCHMARKS.md).

use std::hint::black_box;

// The allocator the server runs with (src/main.rs), so the figures are the
// shipped binary's: assessments allocate their reasons and strings.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, criterion_group, criterion_main};
use kairos::core::model::{Guardrails, StoredProfile};
use kairos::core::{CompiledProfile, analyse, assess};
use kairos::synthetic;

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

    let s = stored(0, 200);
    c.bench_function("compile one profile (200 themes)", |b| {
        b.iter(|| CompiledProfile::compile(black_box(s.clone())))
    });
}

criterion_group!(core, benches);
criterion_main!(core);
