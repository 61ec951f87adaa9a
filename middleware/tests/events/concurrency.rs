//! `donjon::limit::concurrency` and `try_concurrency`: a caller starting to
//! wait, and a service starting to refuse.

use std::sync::Arc;

use donjon::limit::{ConcurrencyLimit, TryConcurrencyLimit};
use donjon_test::mock::Spawn;
use tokio::sync::Semaphore;
use tokio_test::{assert_pending, assert_ready_ok};

use crate::{Traced, capture, lines_with};

const WAITS: &str = "concurrency limit: every permit is in use, a caller waits";

#[tokio::test]
async fn a_caller_joining_the_queue_reports_the_limit_and_the_callers_queued() {
    let (captured, _guard) = capture();
    let mut first = Spawn::new(ConcurrencyLimit::new(Traced, 1));
    let mut second = Spawn::new(first.get_ref().clone());
    let mut third = Spawn::new(first.get_ref().clone());

    assert_ready_ok!(first.poll_ready::<()>());
    let held = first.call(());
    assert!(
        lines_with(&captured, "concurrency limit").is_empty(),
        "a free permit: no event"
    );

    assert_pending!(second.poll_ready::<()>());
    assert_pending!(second.poll_ready::<()>());
    assert_pending!(third.poll_ready::<()>());
    assert_eq!(
        lines_with(&captured, "concurrency limit"),
        [
            format!("DEBUG {WAITS} limit=1 waiting=1"),
            format!("DEBUG {WAITS} limit=1 waiting=2"),
        ],
        "one event per caller joining, none for a caller polled again"
    );

    held.await.unwrap();
    assert_ready_ok!(second.poll_ready::<()>());
    assert_eq!(
        lines_with(&captured, "concurrency limit").len(),
        2,
        "served: no event"
    );
}

#[tokio::test]
async fn a_caller_waiting_on_a_users_semaphore_is_reported_once() {
    let (captured, _guard) = capture();
    let semaphore = Arc::new(Semaphore::new(1));
    let mut first = Spawn::new(ConcurrencyLimit::with_semaphore(
        Traced,
        Arc::clone(&semaphore),
    ));
    let mut second = Spawn::new(first.get_ref().clone());

    assert_ready_ok!(first.poll_ready::<()>());
    let held = first.call(());
    assert_pending!(second.poll_ready::<()>());
    assert_pending!(second.poll_ready::<()>());
    assert_eq!(
        lines_with(&captured, "concurrency limit"),
        ["DEBUG concurrency limit: its semaphore has no permit free, a caller waits"]
    );
    held.await.unwrap();
    assert_ready_ok!(second.poll_ready::<()>());
}

#[tokio::test]
async fn a_try_limit_reports_the_first_refusal_of_each_run() {
    let (captured, _guard) = capture();
    let refused =
        "DEBUG try concurrency limit: every permit is in use, requests are refused limit=1";
    let mut holder = Spawn::new(TryConcurrencyLimit::new(Traced, 1));
    let mut service = Spawn::new(holder.get_ref().clone());

    assert_ready_ok!(holder.poll_ready::<()>());
    let held = holder.call(());
    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready::<()>());
        assert!(service.call(()).await.is_err(), "refused");
    }
    assert_eq!(
        lines_with(&captured, "try concurrency"),
        [refused],
        "one run, one event"
    );

    held.await.unwrap();
    assert_ready_ok!(service.poll_ready::<()>());
    service.call(()).await.unwrap();
    assert_ready_ok!(holder.poll_ready::<()>());
    let held = holder.call(());
    assert_ready_ok!(service.poll_ready::<()>());
    assert!(service.call(()).await.is_err(), "refused again");
    assert_eq!(
        lines_with(&captured, "try concurrency"),
        [refused, refused],
        "a request let through ends the run: the next refusal is reported"
    );
    drop(held);
}

#[tokio::test(start_paused = true)]
async fn a_disciplined_limit_reports_the_first_refusal_of_each_run() {
    use donjon::limit::QueueDiscipline;
    use std::time::Duration;

    let (captured, _guard) = capture();
    let refused = "DEBUG concurrency limit: waiters past the queue's delay target were refused";
    let codel = QueueDiscipline::fifo().codel(Duration::from_millis(5), Duration::from_millis(100));
    let mut holder = Spawn::new(ConcurrencyLimit::new(Traced, 1).with_queue(codel));
    let mut waiters: Vec<_> = (0..3)
        .map(|_| Spawn::new(holder.get_ref().clone()))
        .collect();

    assert_ready_ok!(holder.poll_ready::<()>());
    let held = holder.call(());
    for waiter in &mut waiters {
        assert_pending!(waiter.poll_ready::<()>());
    }
    tokio::time::advance(Duration::from_millis(100)).await;
    for waiter in &mut waiters[..2] {
        assert_ready_ok!(waiter.poll_ready::<()>());
        assert!(waiter.call(()).await.is_err(), "refused");
    }
    // The third is refused by the permit coming back.
    held.await.unwrap();
    assert_eq!(
        lines_with(&captured, "past the queue's delay"),
        [format!("{refused} limit=1 refused=1")],
        "one run of refusals, one event"
    );

    // A caller served ends the run: the next refusal is reported again.
    let [_, _, third] = &mut waiters[..] else {
        unreachable!()
    };
    assert_ready_ok!(third.poll_ready::<()>());
    assert!(third.call(()).await.is_err());
    assert_ready_ok!(holder.poll_ready::<()>());
    let held = holder.call(());
    let mut late = Spawn::new(holder.get_ref().clone());
    let mut later = Spawn::new(holder.get_ref().clone());
    assert_pending!(late.poll_ready::<()>());
    assert_pending!(later.poll_ready::<()>());
    drop(held);
    assert_ready_ok!(late.poll_ready::<()>(), "served: the run ends");
    let held = late.call(());
    tokio::time::advance(Duration::from_millis(100)).await;
    assert_ready_ok!(later.poll_ready::<()>());
    assert!(later.call(()).await.is_err(), "refused");
    assert_eq!(lines_with(&captured, "past the queue's delay").len(), 2);
    drop(held);
}
