//! Stateless algorithms: run on a copy, and under the lock only when the limit changes.

use super::*;

/// An algorithm that declares itself stateless: the limit it returns for
/// each sample is `target`, and every `update` records whether it ran on
/// the original (under the limiter's lock) or on a stateless copy.
#[derive(Clone, Debug)]
struct Stateless {
    target: Arc<AtomicUsize>,
    copy: bool,
    locked: Arc<AtomicUsize>,
    copies: Arc<AtomicUsize>,
}

impl Algorithm for Stateless {
    fn update(&mut self, _: Sample) -> usize {
        let calls = if self.copy {
            &self.copies
        } else {
            &self.locked
        };
        calls.fetch_add(1, Ordering::SeqCst);
        self.target.load(Ordering::SeqCst)
    }

    fn stateless_copy(&self) -> Option<Self> {
        Some(Stateless {
            copy: true,
            ..self.clone()
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_stateless_algorithm_is_run_under_the_lock_only_when_the_limit_changes() {
    let algorithm = Stateless {
        target: Arc::new(AtomicUsize::new(4)),
        copy: false,
        locked: Arc::default(),
        copies: Arc::default(),
    };
    let (target, locked, copies) = (
        Arc::clone(&algorithm.target),
        Arc::clone(&algorithm.locked),
        Arc::clone(&algorithm.copies),
    );
    let layer = AdaptiveConcurrencyLimitLayer::new(algorithm).with_initial_limit(4);
    let (mut service, mut handle, limits) = new_service(layer);
    for _ in 0..3 {
        round_trip(&mut service, &mut handle, &limits, ms(1), false).await;
    }
    assert_eq!(
        copies.load(Ordering::SeqCst),
        3,
        "each sample ran on a copy"
    );
    assert_eq!(
        locked.load(Ordering::SeqCst),
        0,
        "the limit stayed at 4: no sample needed the lock"
    );

    target.store(6, Ordering::SeqCst);
    assert_eq!(
        round_trip(&mut service, &mut handle, &limits, ms(1), true).await,
        6
    );
    assert_eq!(
        (copies.load(Ordering::SeqCst), locked.load(Ordering::SeqCst)),
        (4, 1),
        "the copy found a new limit; the sample was fed again under the lock"
    );
}

/// `Aimd`, without its stateless copy: every sample goes under the lock.
#[derive(Clone, Debug)]
struct LockedAimd(Aimd);

impl Algorithm for LockedAimd {
    fn update(&mut self, sample: Sample) -> usize {
        self.0.update(sample)
    }
}

#[tokio::test(start_paused = true)]
async fn aimd_moves_the_limit_alike_with_or_without_its_stateless_copy() {
    let aimd = Aimd::new().with_timeout(ms(50)).with_backoff_ratio(0.5);
    let (mut copied, mut copied_mock, copied_limits) = new_service(
        AdaptiveConcurrencyLimitLayer::new(aimd)
            .with_initial_limit(6)
            .with_max_limit(9),
    );
    let (mut locked, mut locked_mock, locked_limits) = new_service(
        AdaptiveConcurrencyLimitLayer::new(LockedAimd(aimd))
            .with_initial_limit(6)
            .with_max_limit(9),
    );
    // Successes up to the maximum and at it, failures, calls over the
    // timeout, and a failure down at the minimum.
    let calls = [
        (1, false),
        (1, false),
        (1, false),
        (1, false),
        (1, false),
        (60, false),
        (1, true),
        (1, true),
        (1, true),
        (1, true),
        (1, false),
        (51, false),
        (50, false),
    ];
    for (step, (latency, fail)) in calls.into_iter().enumerate() {
        let copied_limit = round_trip(
            &mut copied,
            &mut copied_mock,
            &copied_limits,
            ms(latency),
            fail,
        )
        .await;
        let locked_limit = round_trip(
            &mut locked,
            &mut locked_mock,
            &locked_limits,
            ms(latency),
            fail,
        )
        .await;
        assert_eq!(copied_limit, locked_limit, "after call {step}");
    }
    assert_eq!(copied_limits.limit(), 2, "1 after the failures, then 2");
}
