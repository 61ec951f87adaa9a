//! `ConcurrencyLimit::with_queue` and the layers' `with_queue`: the limit's
//! waiters served by a `QueueDiscipline`, on tokio's paused clock.

use std::sync::Arc;
use std::time::Duration;

use donjon::limit::concurrency::Disciplined;
use donjon::limit::try_concurrency::error::Overloaded;
use donjon::limit::{
    ConcurrencyLimit, ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer, QueueDiscipline,
};
use donjon::{BoxError, Layer};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn};
use tokio::sync::Semaphore;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};

use crate::support::Boom;
use crate::{Handle, Mock};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// CoDel with a 5 ms target and a 100 ms interval.
fn codel() -> QueueDiscipline {
    QueueDiscipline::fifo().codel(ms(5), ms(100))
}

/// A limit of `max` served by `discipline`, around a fresh mock.
fn new_service(
    max: usize,
    discipline: QueueDiscipline,
) -> (Spawn<ConcurrencyLimit<Mock, Disciplined>>, Handle) {
    mock::spawn_layer(ConcurrencyLimitLayer::new(max).with_queue(discipline))
}

/// Calls `service`, which must be ready, and expects `Overloaded` at once.
async fn assert_refused(service: &mut Spawn<ConcurrencyLimit<Mock, Disciplined>>) {
    assert_ready_ok!(service.poll_ready(), "a refused caller is ready, to fail");
    let error = service.call("refused").await.unwrap_err();
    assert!(error.is::<Overloaded>(), "{error}");
}

#[tokio::test(start_paused = true)]
async fn waiters_are_refused_as_codel_says_and_never_reach_the_service() {
    let (mut holder, mut handle) = new_service(1, codel());
    let (mut a, mut b, mut c) = (holder.clone(), holder.clone(), holder.clone());
    assert_ready_ok!(holder.poll_ready());
    let held = holder.call("held");
    assert_request_eq!(handle, "held");

    // A joins the empty queue at 0 and may wait the interval: to 100.
    // B joins at 40 a queue standing since 0: max(40 + 5, 0 + 100) = 100.
    // C joins at 98: max(98 + 5, 0 + 100) = 103.
    assert_pending!(a.poll_ready());
    advance(ms(40)).await;
    assert_pending!(b.poll_ready());
    advance(ms(58)).await;
    assert_pending!(c.poll_ready());

    advance(ms(1)).await; // 99
    assert!(!a.is_woken() && !b.is_woken());
    advance(ms(1)).await; // 100
    assert!(a.is_woken() && b.is_woken());
    assert_refused(&mut a).await;
    assert_refused(&mut b).await;
    assert_pending!(c.poll_ready(), "C may wait to 103");
    advance(ms(3)).await; // 103
    assert!(c.is_woken());
    assert_refused(&mut c).await;

    assert_pending!(handle.poll_request(), "no refused call reached the service");
    drop(held);
    // Refused callers hold nothing: the permit is free for the next one.
    assert_ready_ok!(a.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_burst_shorter_than_the_interval_is_served_in_order_not_refused() {
    let (mut holder, mut handle) = new_service(1, codel());
    let mut waiters: Vec<_> = (0..3).map(|_| holder.clone()).collect();
    assert_ready_ok!(holder.poll_ready());
    let held = holder.call("held");
    for waiter in &mut waiters {
        assert_pending!(waiter.poll_ready());
    }
    // 60 ms: past the target, within the interval of a queue that formed
    // 60 ms ago. Nobody is refused.
    advance(ms(60)).await;
    assert_request_eq!(handle, "held").send_response("done");
    assert_eq!(held.await.unwrap(), "done");
    for (n, waiter) in waiters.iter_mut().enumerate() {
        assert!(waiter.is_woken(), "waiter {n} served in turn");
        assert_ready_ok!(waiter.poll_ready());
        let response = waiter.call("next");
        assert_request_eq!(handle, "next").send_response("ok");
        assert_eq!(response.await.unwrap(), "ok");
    }
}

#[tokio::test(start_paused = true)]
async fn newest_first_serves_the_last_waiter_once_the_queue_has_stood() {
    let (mut holder, mut handle) =
        new_service(1, QueueDiscipline::fifo().newest_first_after(ms(10)));
    let (mut a, mut b, mut c) = (holder.clone(), holder.clone(), holder.clone());
    assert_ready_ok!(holder.poll_ready());
    let held = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());
    assert_pending!(c.poll_ready());
    advance(ms(10)).await;
    assert_request_eq!(handle, "held").send_response("done");
    held.await.unwrap();
    assert!(
        c.is_woken() && !a.is_woken() && !b.is_woken(),
        "the newest first"
    );
    assert_ready_ok!(c.poll_ready());
    drop(c.call("c"));
    assert!(b.is_woken() && !a.is_woken());
    assert_ready_ok!(b.poll_ready());
    drop(b.call("b"));
    assert!(a.is_woken());
    assert_ready_ok!(a.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn readiness_follows_the_permit_then_the_inner_service() {
    let (mut service, mut handle) = new_service(1, codel());
    handle.allow(0);
    // The permit is taken, the inner service is not ready: Pending, and
    // the permit held for the call.
    assert_pending!(service.poll_ready());
    let mut other = service.clone();
    assert_pending!(other.poll_ready());
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    let response = service.call("one");
    assert_request_eq!(handle, "one").send_response("done");
    assert_eq!(response.await.unwrap(), "done");
    assert!(other.is_woken(), "the permit came back");
    handle.allow(1);
    assert_ready_ok!(other.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn inner_errors_are_boxed_and_free_the_permit() {
    let (mut service, mut handle) = new_service(1, codel());
    let mut other = service.clone();
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(handle, "hello").send_error(Boom("failed"));
    let error: BoxError = response.await.unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("failed")));
    assert_ready_ok!(other.poll_ready());

    // The inner service's readiness failing.
    handle.send_error(Boom("broken"));
    drop(other);
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("broken")));
}

#[tokio::test(start_paused = true)]
async fn cancelled_waiters_and_responses_give_back_what_they_hold() {
    let (mut holder, _handle) = new_service(1, codel());
    let (mut a, mut b) = (holder.clone(), holder.clone());
    assert_ready_ok!(holder.poll_ready());
    let held = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());
    // A gives up waiting: B is first in line, and its time is its own.
    drop(a);
    drop(held);
    assert!(b.is_woken());
    assert_ready_ok!(b.poll_ready());
    // B's response future dropped unfinished: the permit comes back.
    drop(b.call("b"));
    assert_ready_ok!(holder.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_refused_callers_dropped_future_and_dropped_service_hold_nothing() {
    let (mut holder, _handle) = new_service(1, codel());
    let mut a = holder.clone();
    assert_ready_ok!(holder.poll_ready());
    let held = holder.call("held");
    assert_pending!(a.poll_ready());
    advance(ms(100)).await;
    assert_ready_ok!(a.poll_ready(), "refused");
    drop(a.call("refused"));
    // Refused and ready again without a call: dropped with the refusal.
    let mut b = holder.clone();
    assert_pending!(b.poll_ready());
    advance(ms(100)).await;
    assert_ready_ok!(b.poll_ready());
    drop(b);
    drop(held);
    assert_ready_ok!(holder.poll_ready(), "the only permit is free");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_inner_service_fails_the_call() {
    let (mut service, handle) = new_service(1, codel());
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<mock::error::Closed>(), "{error}");
}

#[tokio::test(start_paused = true)]
async fn the_queue_delay_reads_the_oldest_waiters_wait() {
    let (mut holder, _handle) = new_service(1, QueueDiscipline::fifo());
    let delay = holder.get_ref().queue_delay();
    let mut a = holder.clone();
    assert_ready_ok!(holder.poll_ready());
    let held = holder.call("held");
    assert_eq!(delay.get(), Duration::ZERO);
    assert_pending!(a.poll_ready());
    advance(ms(30)).await;
    assert_eq!(delay.get(), ms(30));
    drop(held);
    assert_ready_ok!(a.poll_ready());
    assert_eq!(delay.get(), Duration::ZERO, "nobody waits");
}

#[tokio::test(start_paused = true)]
async fn a_global_limit_shares_its_discipline_and_queue() {
    let layer = GlobalConcurrencyLimitLayer::new(1).with_queue(codel());
    let delay = layer.queue_delay();
    let (mut first, mut first_handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut second, _second_handle) = mock::spawn_layer::<&str, &str, _>(layer);
    assert_ready_ok!(first.poll_ready());
    let held = first.call("held");
    assert_request_eq!(first_handle, "held");
    assert_pending!(second.poll_ready(), "one limit for both");
    advance(ms(50)).await;
    assert_eq!(delay.get(), ms(50));
    advance(ms(50)).await;
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
    let error = second.call("refused").await.unwrap_err();
    assert!(error.is::<Overloaded>());
    drop(held);
}

#[test]
#[should_panic(
    expected = "ConcurrencyLimit::with_queue sets the discipline of a limit as it is made"
)]
fn a_discipline_set_on_a_shared_limit_panics() {
    let (mock, _handle) = mock::pair::<&str, &str>();
    let limit = ConcurrencyLimit::new(mock, 1);
    let _clone = limit.clone();
    let _ = limit.with_queue(codel());
}

#[test]
#[should_panic(expected = "not for a limit over a user's semaphore")]
fn a_discipline_set_on_a_users_semaphore_panics() {
    let (mock, _handle) = mock::pair::<&str, &str>();
    let _ = ConcurrencyLimit::with_semaphore(mock, Arc::new(Semaphore::new(1))).with_queue(codel());
}

#[test]
#[should_panic(
    expected = "GlobalConcurrencyLimitLayer::with_queue sets the discipline of the shared limit"
)]
fn a_discipline_set_on_a_global_layer_in_use_panics() {
    let layer = GlobalConcurrencyLimitLayer::new(1);
    let (mock, _handle) = mock::pair::<&str, &str>();
    let _service = layer.layer(mock);
    let _ = layer.with_queue(codel());
}

#[test]
fn without_a_discipline_a_waiter_is_never_refused() {
    let runtime = crate::support::paused_runtime();
    runtime.block_on(async {
        let (mut holder, _handle) =
            mock::spawn_layer::<&str, &str, _>(ConcurrencyLimitLayer::new(1));
        let mut waiter = holder.clone();
        assert_ready_ok!(holder.poll_ready());
        let held = holder.call("held");
        assert_pending!(waiter.poll_ready());
        advance(Duration::from_secs(3600)).await;
        assert!(!waiter.is_woken());
        assert_pending!(
            waiter.poll_ready(),
            "tower's limit waits as long as it takes"
        );
        drop(held);
        assert_ready_ok!(waiter.poll_ready());
    });
}

#[tokio::test(start_paused = true)]
async fn an_adaptive_limits_waiters_are_refused_too_and_a_refusal_feeds_no_sample() {
    use donjon::limit::AdaptiveConcurrencyLimitLayer;
    use donjon::limit::adaptive::Aimd;

    let layer = AdaptiveConcurrencyLimitLayer::new(Aimd::new())
        .with_min_limit(1)
        .with_initial_limit(2)
        .with_max_limit(2)
        .with_queue(codel());
    let (mut holder, mut handle) = mock::spawn_layer::<&str, &str, _>(layer);
    let limit = holder.get_ref().handle();
    let delay = holder.get_ref().queue_delay();
    let mut waiter = holder.clone();
    assert_ready_ok!(holder.poll_ready());
    let first = holder.call("first");
    assert_ready_ok!(holder.poll_ready());
    let second = holder.call("second");
    assert_pending!(waiter.poll_ready());
    advance(ms(60)).await;
    assert_eq!(delay.get(), ms(60));
    advance(ms(40)).await;
    // Joined an empty queue at 0: refused at 100.
    assert!(waiter.is_woken());
    assert_ready_ok!(waiter.poll_ready());
    let error = waiter.call("refused").await.unwrap_err();
    assert!(error.is::<Overloaded>(), "{error}");
    // A failure would have lowered AIMD's limit (2 x 0.9, rounded down, is
    // 1); a refusal is not a sample.
    assert_eq!(limit.limit(), 2);
    assert_eq!(delay.get(), Duration::ZERO);
    assert_request_eq!(handle, "first").send_response("one");
    assert_request_eq!(handle, "second").send_response("two");
    assert_eq!(first.await.unwrap(), "one");
    assert_eq!(second.await.unwrap(), "two");
    assert_pending!(
        handle.poll_request(),
        "the refused call never reached the service"
    );
}
