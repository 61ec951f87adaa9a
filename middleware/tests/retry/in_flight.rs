//! `budget::InFlightBudget`: retries and hedges bounded by a share of the
//! executions in flight.

use donjon::Layer;
use donjon::retry::Retry;
use donjon::retry::budget::{InFlightBudget, in_flight};
use donjon_test::mock::{self, Spawn};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use super::{PLENTY, Req, Res, RetryErrors};
use crate::support::{Boom, take_request};

#[test]
fn the_bound_is_the_share_of_the_executions_or_the_floor() {
    let budget = InFlightBudget::new(0.25, 2);
    // By hand: max(2, ⌊0.25 × e⌋).
    for (executions, bound) in [
        (0, 2),
        (7, 2),
        (11, 2),
        (12, 3),
        (20, 5),
        (23, 5),
        (100, 25),
    ] {
        assert_eq!(budget.bound(executions), bound, "{executions} executions");
    }

    let executions: Vec<_> = (0..12).map(|_| budget.execution()).collect();
    assert_eq!(budget.executions(), 12);
    let permits: Vec<_> = std::iter::from_fn(|| budget.try_extra()).take(10).collect();
    assert_eq!(permits.len(), 3, "⌊0.25 × 12⌋ = 3 permits");
    assert_eq!(budget.extra(), 3);

    // Fewer executions: no new permit until the extras fall below the
    // floor; those held are kept.
    drop(executions);
    assert_eq!(budget.executions(), 0);
    assert!(budget.try_extra().is_none(), "3 held, bound 2");
    drop(permits);
    assert_eq!(budget.extra(), 0);
    let floor: Vec<_> = std::iter::from_fn(|| budget.try_extra()).take(10).collect();
    assert_eq!(floor.len(), 2, "the floor");
}

#[test]
fn clones_share_the_counts() {
    let budget = InFlightBudget::new(0.5, 0);
    let clone = budget.clone();
    let _running = [budget.execution(), clone.execution()];
    let permit = clone.try_extra().expect("⌊0.5 × 2⌋ = 1");
    assert!(budget.try_extra().is_none());
    assert_eq!(budget.extra(), 1);
    drop(permit);
    assert!(budget.try_extra().is_some());
}

#[test]
#[should_panic(expected = "an InFlightBudget's max_share is a fraction between 0 and 1")]
fn a_share_above_one_panics() {
    let _ = InFlightBudget::new(1.5, 1);
}

#[test]
#[should_panic(expected = "an InFlightBudget's max_share is a fraction between 0 and 1")]
fn a_share_that_is_not_a_number_panics() {
    let _ = InFlightBudget::new(f64::NAN, 1);
}

#[tokio::test]
async fn the_layer_counts_a_call_until_its_response_or_its_drop() {
    let budget = InFlightBudget::new(0.5, 0);
    let (mut service, mut handle) = mock::spawn_layer::<Req, Res, _>(budget.layer());
    handle.allow(2);

    assert_ready_ok!(service.poll_ready());
    let mut answered = task::spawn(service.call("a"));
    assert_ready_ok!(service.poll_ready());
    let dropped = service.call("b");
    assert_eq!(budget.executions(), 2);

    take_request(&mut handle).1.send_response("ok");
    assert_eq!(assert_ready_ok!(answered.poll()), "ok");
    assert_eq!(budget.executions(), 1, "answered: no longer in flight");
    drop(dropped);
    assert_eq!(budget.executions(), 0, "dropped: no longer in flight");

    // Readiness and errors are the inner service's.
    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
}

/// A `Retry` with a budgeted policy over a counted mock.
type Budgeted =
    Spawn<Retry<in_flight::Budgeted<RetryErrors>, in_flight::Counted<mock::Mock<Req, Res>>>>;

/// A `Retry` of `budget.policy(policy)` over `budget.layer()` over a mock.
fn budgeted(budget: &InFlightBudget, policy: RetryErrors) -> (Budgeted, mock::Handle<Req, Res>) {
    let (mock, handle) = mock::pair();
    let service = Retry::new(budget.policy(policy), budget.layer().layer(mock));
    (Spawn::new(service), handle)
}

#[tokio::test]
async fn a_retry_needs_a_permit_and_holds_it_until_its_next_decision() {
    // No share: only the floor of one retry in flight.
    let budget = InFlightBudget::new(0.0, 1);
    let policy = RetryErrors::new(PLENTY);
    let seen = policy.seen();
    let (mut first, mut handle) = budgeted(&budget, policy);
    let mut second = Spawn::new(first.get_ref().clone());
    handle.allow(100);

    assert_ready_ok!(first.poll_ready());
    let mut one = task::spawn(first.call("one"));
    assert_ready_ok!(second.poll_ready());
    let mut two = task::spawn(second.call("two"));
    let (_, reply_one) = take_request(&mut handle);
    let (_, reply_two) = take_request(&mut handle);
    assert_eq!(budget.executions(), 2);

    // "one" fails and is retried: it takes the permit.
    reply_one.send_error(Boom("down"));
    assert_pending!(one.poll());
    let (request, retry_one) = take_request(&mut handle);
    assert_eq!(request, "one");
    assert_eq!(budget.extra(), 1);
    assert_eq!(seen.retries(), 1);

    // "two" fails while the permit is out: not retried, and the policy is
    // not asked.
    reply_two.send_error(Boom("down"));
    let error = assert_ready_err!(two.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("down")));
    assert_eq!(seen.retries(), 1, "the inner policy was not asked");
    assert!(handle.poll_request().is_pending(), "no retry sent");

    // The retry of "one" fails again: the permit is given back at the
    // decision and taken again for the next retry.
    retry_one.send_error(Boom("down"));
    assert_pending!(one.poll());
    assert_eq!(budget.extra(), 1);
    let (_, again) = take_request(&mut handle);
    again.send_response("ok");
    assert_eq!(assert_ready_ok!(one.poll()), "ok");
    assert_eq!(budget.extra(), 0, "done: the permit is back");
    assert_eq!(budget.executions(), 0);
}

#[tokio::test]
async fn a_dropped_response_future_gives_its_permit_back() {
    let budget = InFlightBudget::new(0.0, 1);
    let (mut service, mut handle) = budgeted(&budget, RetryErrors::new(PLENTY));
    handle.allow(10);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("a"));
    take_request(&mut handle).1.send_error(Boom("down"));
    assert_pending!(response.poll());
    assert_eq!((budget.extra(), budget.executions()), (1, 1));
    drop(response);
    assert_eq!((budget.extra(), budget.executions()), (0, 0));
}

#[tokio::test]
async fn a_policy_declining_gives_the_permit_back_at_once() {
    let budget = InFlightBudget::new(0.0, 1);
    let (mut service, mut handle) = budgeted(&budget, RetryErrors::new(0));
    handle.allow(10);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("a"));
    take_request(&mut handle).1.send_error(Boom("down"));
    assert_ready_err!(response.poll());
    assert_eq!(budget.extra(), 0);
    assert!(budget.try_extra().is_some());
}

#[cfg(feature = "hedge")]
mod hedge {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use donjon::hedge::Hedge;
    use donjon::{BoxError, Service, ServiceExt};

    use crate::support::HedgeEvery;

    use super::*;

    /// A hedge after 10 ms (every known response took 10 ms) over a backend
    /// that answers in 50 ms, counting its calls.
    fn slow_hedge(
        budget: Option<&InFlightBudget>,
    ) -> (
        Hedge<
            impl Service<u32, Response = u32, Error = BoxError, Future = impl Send> + Clone,
            HedgeEvery,
        >,
        Arc<AtomicUsize>,
    ) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let backend = donjon::service_fn(move |n: u32| {
            counted.fetch_add(1, Ordering::Relaxed);
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, BoxError>(n)
            }
        });
        let backend = match budget {
            Some(budget) => donjon::util::Either::Left(budget.layer().layer(backend)),
            None => donjon::util::Either::Right(backend),
        };
        let hedge = Hedge::new_with_mock_latencies(
            backend,
            HedgeEvery,
            10,
            0.9,
            Duration::from_secs(60),
            &[10; 10],
        );
        let hedge = match budget {
            Some(budget) => hedge.with_budget(budget.clone()),
            None => hedge,
        };
        (hedge, calls)
    }

    #[tokio::test(start_paused = true)]
    async fn a_hedge_needs_a_permit_of_the_shared_budget_and_holds_it_while_in_flight() {
        // Without the shared budget the request is hedged: two calls.
        let (hedge, calls) = slow_hedge(None);
        assert_eq!(hedge.oneshot(1).await.unwrap(), 1);
        assert_eq!(calls.load(Ordering::Relaxed), 2);

        // A budget that allows nothing: no hedge.
        let none = InFlightBudget::new(0.0, 0);
        let (hedge, calls) = slow_hedge(Some(&none));
        assert_eq!(hedge.oneshot(1).await.unwrap(), 1);
        assert_eq!(calls.load(Ordering::Relaxed), 1);

        // One allowed: the hedge holds it while it is in flight.
        let one = InFlightBudget::new(0.0, 1);
        let (hedge, calls) = slow_hedge(Some(&one));
        let mut response = task::spawn(hedge.oneshot(1));
        assert_pending!(response.poll());
        tokio::time::advance(Duration::from_millis(11)).await;
        assert_pending!(response.poll());
        assert_eq!(calls.load(Ordering::Relaxed), 2, "hedged");
        assert_eq!((one.extra(), one.executions()), (1, 2));
        assert!(one.try_extra().is_none(), "its permit is out");
        tokio::time::advance(Duration::from_millis(50)).await;
        assert_eq!(assert_ready_ok!(response.poll()), 1);
        drop(response);
        assert_eq!((one.extra(), one.executions()), (0, 0));
    }
}
