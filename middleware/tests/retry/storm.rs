//! A retry storm: a backend failing every request, behind retries and
//! hedges that share one `InFlightBudget`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use donjon::hedge::Hedge;
use donjon::retry::budget::InFlightBudget;
use donjon::retry::{Policy, Retry};
use donjon::util::Either;
use donjon::{BoxError, Layer, Service, ServiceExt, service_fn};

use crate::support::HedgeEvery;

/// Requests sent at once.
const REQUESTS: usize = 200;
/// A tenth of the executions in flight may be retries or hedges, and two
/// always may.
const SHARE: f64 = 0.1;
const FLOOR: usize = 2;

/// Retries every error, up to three times per request, at once.
#[derive(Clone)]
struct ThreeRetries(usize);

impl Policy<u32, u32, BoxError> for ThreeRetries {
    type Future = std::future::Ready<()>;

    fn retry(&mut self, _: &mut u32, result: &mut Result<u32, BoxError>) -> Option<Self::Future> {
        (result.is_err() && self.0 > 0).then(|| {
            self.0 -= 1;
            std::future::ready(())
        })
    }

    fn clone_request(&mut self, request: &u32) -> Option<u32> {
        Some(*request)
    }
}

/// What the backend saw.
#[derive(Default)]
struct Seen {
    attempts: AtomicUsize,
    /// The most retries and hedges in flight at any call.
    max_extra: AtomicUsize,
}

/// Sends `REQUESTS` requests at once through hedges (after 5 ms) over
/// retries (three per request) over a backend that answers in 1 ms when
/// `healthy`, and fails after 10 ms otherwise; with `budget`, retries and
/// hedges share it. Returns how many requests succeeded.
async fn wave(
    budget: Option<&InFlightBudget>,
    healthy: &Arc<AtomicBool>,
    seen: &Arc<Seen>,
) -> usize {
    let backend = {
        let healthy = Arc::clone(healthy);
        let seen = Arc::clone(seen);
        let budget = budget.cloned();
        service_fn(move |n: u32| {
            seen.attempts.fetch_add(1, Ordering::Relaxed);
            if let Some(budget) = &budget {
                seen.max_extra.fetch_max(budget.extra(), Ordering::Relaxed);
            }
            let healthy = healthy.load(Ordering::Relaxed);
            async move {
                if healthy {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    Ok::<_, BoxError>(n)
                } else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Err("unavailable".into())
                }
            }
        })
    };
    let counted = match budget {
        Some(budget) => Either::Left(budget.layer().layer(backend)),
        None => Either::Right(backend),
    };
    let retrying = match budget {
        Some(budget) => Either::Left(Retry::new(budget.policy(ThreeRetries(3)), counted)),
        None => Either::Right(Retry::new(ThreeRetries(3), counted)),
    };
    // Every known response took 5 ms: a request slower than that is
    // hedged (the copy goes through the retries too), as far as the
    // hedge's own budget (one per request) allows.
    let hedged = Hedge::new_with_mock_latencies(
        retrying,
        HedgeEvery,
        10,
        0.9,
        Duration::from_secs(60),
        &[5; 10],
    )
    .max_extra_load(1.0);
    let mut client = match budget {
        Some(budget) => hedged.with_budget(budget.clone()),
        None => hedged,
    };
    let mut requests = Vec::with_capacity(REQUESTS);
    for n in 0..REQUESTS {
        let ready = client.ready().await.unwrap();
        requests.push(ready.call(u32::try_from(n).unwrap()));
    }
    let mut succeeded = 0;
    for result in futures::future::join_all(requests).await {
        if result.is_ok() {
            succeeded += 1;
        }
    }
    succeeded
}

#[tokio::test(start_paused = true)]
async fn a_storm_stays_within_the_budget_and_ends_when_the_backend_recovers() {
    let healthy = Arc::new(AtomicBool::new(false));

    // Without the shared budget: every request is tried four times (and
    // some of them hedged).
    let unbounded = Arc::new(Seen::default());
    assert_eq!(wave(None, &healthy, &unbounded).await, 0);
    let unbounded = unbounded.attempts.load(Ordering::Relaxed);
    assert!(unbounded >= 4 * REQUESTS, "{unbounded}");

    // With it. By hand: the extras in flight never exceed
    // B = max(2, ⌊0.1 × E⌋) with E ≤ 200 + B executions, so B ≤ 22
    // (⌊0.1 × 222⌋ = 22). Each request ends when its first chain of at
    // most four attempts of 10 ms does, so the storm lasts at most 40 ms;
    // each extra holds its permit at least 5 ms (a hedge, sent 5 ms into a
    // first attempt of 10 ms; a retry holds its own for a whole attempt):
    // at most 22 × 40 / 5 = 176 extra attempts.
    let budget = InFlightBudget::new(SHARE, FLOOR);
    let bound = budget.bound(REQUESTS + 22);
    assert_eq!(bound, 22);
    let storm = Arc::new(Seen::default());
    assert_eq!(wave(Some(&budget), &healthy, &storm).await, 0);
    let attempts = storm.attempts.load(Ordering::Relaxed);
    let max_extra = storm.max_extra.load(Ordering::Relaxed);
    assert!(max_extra <= bound, "{max_extra} extras in flight at once");
    assert!(max_extra > 0, "some retries or hedges were let through");
    assert!(attempts > REQUESTS, "{attempts}");
    assert!(attempts <= REQUESTS + 176, "{attempts} attempts");
    assert!(attempts < unbounded, "{attempts} against {unbounded}");
    assert_eq!(
        (budget.extra(), budget.executions()),
        (0, 0),
        "all given back"
    );

    // The backend recovers: one attempt per request, all answered, nothing
    // left held.
    healthy.store(true, Ordering::Relaxed);
    let recovered = Arc::new(Seen::default());
    assert_eq!(wave(Some(&budget), &healthy, &recovered).await, REQUESTS);
    assert_eq!(recovered.attempts.load(Ordering::Relaxed), REQUESTS);
    assert_eq!((budget.extra(), budget.executions()), (0, 0));
}
