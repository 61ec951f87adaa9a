//! Per-request cost of every case in `cases/`, for donjon, tower and a
//! hand-written baseline, in one run: `cargo bench -p donjon-benches`.
//!
//! Criterion's group is the case, its function the library. Each sample runs
//! its requests in a spawned task and times them there. `cargo run -p
//! donjon-benches --example report` prints the table of the latest run.

use criterion::{Criterion, criterion_main};

#[path = "../cases/mod.rs"]
#[allow(dead_code, reason = "the descriptions are for the report")]
mod cases;

use cases::{CASES, run, runtime_for};

fn per_request(c: &mut Criterion) {
    for case in CASES {
        let runtime = runtime_for(case.name);
        let mut group = c.benchmark_group(case.name);
        for &lib in case.libs {
            group.bench_function(lib.name(), |b| {
                b.iter_custom(|iters| run(case.name, lib, &runtime, iters).expect("a known case"))
            });
        }
        group.finish();
    }
}

mod group {
    #![allow(
        missing_docs,
        reason = "criterion_group! makes an undocumented public function"
    )]
    criterion::criterion_group!(benches, super::per_request);
}

criterion_main!(group::benches);
