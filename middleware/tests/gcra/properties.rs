//! Property tests of `Gcra` over a real service on a paused clock, and a
//! stress test of its clones on real threads.

use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Waker};
use std::time::Duration;

use donjon::Service;
use donjon::limit::gcra::{Gcra, Quota};
use proptest::prelude::*;

use crate::support::{self, Counting, Echo, Recorder, check_bound, paused_runtime};
use tokio::time::{Instant, advance};

/// How many requests `log` holds.
fn recorded(log: &Mutex<Vec<Duration>>) -> usize {
    log.lock().unwrap_or_else(PoisonError::into_inner).len()
}

/// The arrival times in `log`, sorted.
fn sorted(log: &Mutex<Vec<Duration>>) -> Vec<u64> {
    let mut times: Vec<u64> = log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|time| u64::try_from(time.as_nanos()).expect("within 584 years"))
        .collect();
    times.sort_unstable();
    times
}

/// What a handle does with a request it was just admitted.
#[derive(Clone, Copy, Debug)]
enum Use {
    /// Calls the service at once.
    Call,
    /// Drops the handle unused (it is replaced by a fresh clone).
    Drop,
    /// Keeps it, to be dropped when the handle is picked again.
    Hold,
}

/// `num` requests per `per_ms` milliseconds, with `burst`.
fn a_quota(num: u64, per_ms: u64, burst: u64) -> Quota {
    Quota::new(num, Duration::from_millis(per_ms))
        .and_then(|quota| quota.with_burst(burst))
        .expect("a valid quota")
}

fn a_use() -> impl Strategy<Value = Use> {
    prop_oneof![6 => Just(Use::Call), 1 => Just(Use::Drop), 1 => Just(Use::Hold)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_interval_of_any_length_admits_more_than_burst_plus_rate_times_its_length(
        num in 1u64..20,
        per_ms in 1u64..2000,
        burst in 1u64..8,
        clones in 1usize..5,
        // Advances in microseconds, each followed by tries: which clone,
        // and what it does if admitted.
        steps in proptest::collection::vec(
            (0u64..300_000, proptest::collection::vec((0usize..8, a_use()), 0..6)),
            1..120,
        ),
    ) {
        let quota = a_quota(num, per_ms, burst);
        let runtime = paused_runtime();
        let admitted = runtime.block_on(async move {
            let recorder = Recorder::new(Instant::now());
            let log = recorder.log();
            let original = Gcra::new(recorder, quota);
            let mut handles: Vec<_> = (0..clones).map(|_| original.clone()).collect();
            let mut holding = vec![false; clones];
            drop(original);
            let mut cx = Context::from_waker(Waker::noop());
            for (gap_us, tries) in steps {
                advance(Duration::from_micros(gap_us)).await;
                for (which, then) in tries {
                    let i = which % handles.len();
                    if holding[i] {
                        // A held admission, dropped later than it was taken.
                        handles[i] = handles[(i + 1) % handles.len()].clone();
                        holding[i] = false;
                        continue;
                    }
                    if handles[i].poll_ready(&mut cx).is_pending() {
                        continue;
                    }
                    match then {
                        Use::Call => {
                            let _ = handles[i].call(()).await;
                        }
                        Use::Drop => handles[i] = handles[(i + 1) % handles.len()].clone(),
                        Use::Hold => holding[i] = true,
                    }
                }
            }
            sorted(&log)
        });
        check_bound(&admitted, &quota)?;
    }

    #[test]
    fn busy_callers_are_admitted_at_least_at_the_rate(
        num in 1u64..20,
        per_ms in 1u64..2000,
        burst in 1u64..8,
        callers in 1usize..4,
        secs in 1u64..30,
    ) {
        // A waiting caller is woken on the timer's first millisecond at or
        // after the instant it is admissible; only the tolerance,
        // `interval × (burst − 1)`, makes up for that lateness. So the
        // interval is at least a millisecond, and with a burst of 1 (no
        // tolerance) whole milliseconds long: below that, a busy limit
        // lets fewer requests through than its rate.
        let per_ms = if burst == 1 { (per_ms.max(num) / num) * num } else { per_ms.max(num) };
        let quota = a_quota(num, per_ms, burst);
        let elapsed = Duration::from_secs(secs);
        let runtime = paused_runtime();
        let admitted = runtime.block_on(async move {
            let start = Instant::now();
            let end = start + elapsed;
            let recorder = Recorder::new(start);
            let log = recorder.log();
            let limited = Gcra::new(recorder, quota);
            // One more than the bound allows: a limit that lets more through
            // fails the check below instead of spinning without end.
            let ceiling = usize::try_from(burst + num * secs * 1000 / per_ms + 1).unwrap();
            let tasks: Vec<_> = (0..callers)
                .map(|_| {
                    let mut handle = limited.clone();
                    let log = Arc::clone(&log);
                    tokio::spawn(async move {
                        loop {
                            support::ready(&mut handle).await.unwrap();
                            if Instant::now() > end || recorded(&log) > ceiling {
                                break;
                            }
                            let _ = handle.call(()).await;
                        }
                    })
                })
                .collect();
            // A caller never woken would wait for ever: the paused clock
            // jumps to this deadline instead, and the test fails.
            let all = futures::future::join_all(tasks);
            let joined = tokio::time::timeout(elapsed * 2, all).await;
            for task in joined.expect("every caller is woken until the end") {
                task.unwrap();
            }
            sorted(&log)
        });
        check_bound(&admitted, &quota)?;
        // admitted ≥ num × elapsed / per, without division.
        let count = admitted.len() as u128;
        prop_assert!(
            count * quota.per().as_nanos() >= elapsed.as_nanos() * u128::from(quota.num()),
            "{count} admitted in {elapsed:?} with {quota:?}"
        );
    }
}

// Real threads.

#[test]
fn clones_on_real_threads_admit_exactly_the_burst() {
    const THREADS: usize = 4;
    const TRIES: usize = 1_000;
    // One an hour: no request is admitted beyond the burst while this runs.
    let quota = Quota::new(1, Duration::from_secs(3600))
        .and_then(|quota| quota.with_burst(100))
        .unwrap();
    let counted = Counting::new(Echo);
    let counts = counted.counts();
    let limited = Gcra::new(counted, quota);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            let mut handle = limited.clone();
            scope.spawn(move || {
                // A waiting handle sets a timer: it needs a time driver.
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .expect("a runtime");
                let _entered = runtime.enter();
                let mut cx = Context::from_waker(Waker::noop());
                for _ in 0..TRIES {
                    if Service::<()>::poll_ready(&mut handle, &mut cx).is_ready() {
                        drop(handle.call(()));
                    }
                }
            });
        }
    });
    assert_eq!(counts.calls(), 100);
}
