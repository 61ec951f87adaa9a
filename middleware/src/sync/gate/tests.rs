//! Unit tests of the gate: queue order, withdrawals, grants passed on, limit changes, closing.

use std::task::Poll;

use tokio_test::task;

use super::*;

fn gate(limit: usize) -> Place {
    Place::new(Arc::new(Gate::new(limit)))
}

/// Polls `place` in `task`.
fn poll(place: &mut Place, task: &mut task::Spawn<()>) -> Poll<Result<(), Denied>> {
    task.enter(|cx, _| place.poll_acquire(cx))
}

/// Polls `place` as a caller that stops waiting.
fn poll_withdrawing(place: &mut Place) -> Poll<Result<(), Denied>> {
    place.poll_acquire(&mut Context::from_waker(crate::sync::withdrawal_waker()))
}

#[test]
fn a_newcomer_does_not_take_a_permit_freed_while_callers_wait() {
    let mut holder = gate(1);
    let (mut waiter, mut newcomer) = (holder.clone(), holder.clone());
    let (mut waiter_task, mut newcomer_task) = (task::spawn(()), task::spawn(()));
    assert!(poll(&mut holder, &mut task::spawn(())).is_ready());
    assert!(poll(&mut waiter, &mut waiter_task).is_pending());

    // Between a permit added and the queue served (as with a release on
    // another thread), a newcomer queues behind the waiter.
    holder.gate().state.fetch_add(ONE, Ordering::Release);
    assert!(poll(&mut newcomer, &mut newcomer_task).is_pending());
    assert!(!waiter_task.is_woken());

    holder.gate().settle();
    assert!(waiter_task.is_woken(), "the first waiter gets the permit");
    assert!(!newcomer_task.is_woken());
    assert_eq!(poll(&mut waiter, &mut waiter_task), Poll::Ready(Ok(())));
    assert!(poll(&mut newcomer, &mut newcomer_task).is_pending());
}

#[test]
fn a_place_reuses_its_waiter_from_one_wait_to_the_next() {
    let mut holder = gate(1);
    let mut waiter = holder.clone();
    let mut waiter_task = task::spawn(());
    assert!(poll(&mut holder, &mut task::spawn(())).is_ready());
    assert!(poll(&mut waiter, &mut waiter_task).is_pending());
    let first = Arc::as_ptr(waiter.waiter.as_ref().expect("it waits"));

    holder.gate().release();
    assert_eq!(poll(&mut waiter, &mut waiter_task), Poll::Ready(Ok(())));
    assert!(poll(&mut waiter, &mut waiter_task).is_pending());
    let second = Arc::as_ptr(waiter.waiter.as_ref().expect("it waits"));
    assert!(std::ptr::eq(first, second), "no allocation for this wait");
}

#[test]
fn a_withdrawal_leaves_the_queue_and_the_next_permit_goes_to_the_next_waiter() {
    let mut holder = gate(1);
    let (mut gave_up, mut next) = (holder.clone(), holder.clone());
    let mut next_task = task::spawn(());
    assert!(poll(&mut holder, &mut task::spawn(())).is_ready());
    assert!(poll(&mut gave_up, &mut task::spawn(())).is_pending());
    assert!(poll(&mut next, &mut next_task).is_pending());

    assert!(poll_withdrawing(&mut gave_up).is_pending());
    assert!(!gave_up.queued);
    holder.gate().release();
    assert!(next_task.is_woken(), "the caller behind the one that left");
    assert_eq!(poll(&mut next, &mut next_task), Poll::Ready(Ok(())));
}

#[test]
fn a_withdrawal_never_queues_and_claims_a_permit_granted_meanwhile() {
    let mut holder = gate(1);
    let mut other = holder.clone();
    assert!(poll(&mut holder, &mut task::spawn(())).is_ready());
    assert!(poll_withdrawing(&mut other).is_pending());
    assert!(!other.queued, "nobody waits for a wake-up");
    assert_eq!(holder.gate().state.load(Ordering::Relaxed) & WAITERS, 0);

    assert!(poll(&mut other, &mut task::spawn(())).is_pending());
    holder.gate().release();
    assert_eq!(poll_withdrawing(&mut other), Poll::Ready(Ok(())));
    assert_eq!(holder.gate().available(), 0, "the permit is the caller's");
}

#[test]
fn a_place_dropped_after_its_grant_passes_the_permit_on() {
    let mut holder = gate(1);
    let (mut dropped, mut next) = (holder.clone(), holder.clone());
    let mut next_task = task::spawn(());
    assert!(poll(&mut holder, &mut task::spawn(())).is_ready());
    assert!(poll(&mut dropped, &mut task::spawn(())).is_pending());
    assert!(poll(&mut next, &mut next_task).is_pending());

    holder.gate().release();
    drop(dropped);
    assert!(next_task.is_woken());
    assert_eq!(poll(&mut next, &mut next_task), Poll::Ready(Ok(())));
}

#[test]
fn a_lowered_limit_keeps_permits_as_they_come_back() {
    let place = gate(3);
    let gate = Arc::clone(place.gate());
    assert!(gate.try_take() && gate.try_take());
    gate.set_limit(1);
    assert_eq!(gate.available(), 0, "the free permit was taken away");
    assert_eq!(gate.in_flight(), 2, "two out, against a limit of 1");
    gate.release();
    assert_eq!(gate.available(), 0, "the first back pays the debt");
    assert_eq!(gate.in_flight(), 1);
    gate.release();
    assert_eq!(gate.available(), 1);
    assert_eq!(gate.state.load(Ordering::Relaxed) & FLAGS, 0);
}

#[test]
fn a_raised_limit_serves_waiters_first() {
    let mut holder = gate(1);
    let mut waiter = holder.clone();
    let mut waiter_task = task::spawn(());
    assert!(poll(&mut holder, &mut task::spawn(())).is_ready());
    assert!(poll(&mut waiter, &mut waiter_task).is_pending());
    holder.gate().set_limit(3);
    assert!(waiter_task.is_woken());
    assert_eq!(poll(&mut waiter, &mut waiter_task), Poll::Ready(Ok(())));
    assert_eq!(holder.gate().available(), 1);
    assert_eq!(holder.gate().in_flight(), 2);
}

#[test]
fn closing_wakes_the_waiters_with_an_error_and_permits_still_come_back() {
    let mut holder = gate(1);
    let mut waiter = holder.clone();
    let mut waiter_task = task::spawn(());
    assert!(poll(&mut holder, &mut task::spawn(())).is_ready());
    assert!(poll(&mut waiter, &mut waiter_task).is_pending());
    holder.gate().close();
    assert!(waiter_task.is_woken());
    assert_eq!(
        poll(&mut waiter, &mut waiter_task),
        Poll::Ready(Err(Denied::Closed))
    );
    holder.gate().release();
    assert_eq!(holder.gate().available(), 1);
    assert_eq!(
        poll(&mut holder, &mut task::spawn(())),
        Poll::Ready(Err(Denied::Closed))
    );
}

#[test]
fn more_waiters_than_a_wake_list_holds_are_all_served() {
    let count = WakeList::CAPACITY * 2 + 1;
    let holder = gate(0);
    let mut waiters: Vec<_> = (0..count)
        .map(|_| (holder.clone(), task::spawn(())))
        .collect();
    for (place, task) in &mut waiters {
        assert!(poll(place, task).is_pending());
    }
    holder.gate().set_limit(count);
    for (place, task) in &mut waiters {
        assert!(task.is_woken());
        assert_eq!(poll(place, task), Poll::Ready(Ok(())));
    }
    assert_eq!(holder.gate().available(), 0);
}

/// The meter's gauges, as the gate moves them (feature `metrics`).
#[cfg(feature = "metrics")]
mod meter {
    use std::sync::atomic::AtomicU64;

    use metrics::Gauge;

    use super::*;

    /// A gate of `limit` with a meter, and the meter's gauges (waiters,
    /// permits out).
    fn metered(limit: usize) -> (Place, impl Fn() -> (f64, f64)) {
        let waiters = Arc::new(AtomicU64::new(0));
        let in_flight = Arc::new(AtomicU64::new(0));
        let meter = GateMeter {
            waiters: Gauge::from_arc(Arc::clone(&waiters)),
            in_flight: Gauge::from_arc(Arc::clone(&in_flight)),
            refused: metrics::Counter::noop(),
        };
        let place = Place::new(Arc::new(Gate::new(limit).with_meter(meter)));
        let read = move || {
            let read = |gauge: &AtomicU64| f64::from_bits(gauge.load(Ordering::SeqCst));
            (read(&waiters), read(&in_flight))
        };
        (place, read)
    }

    #[test]
    fn waiters_and_permits_out_follow_the_queue_and_the_grants() {
        let (mut holder, gauges) = metered(1);
        let (mut first, mut second) = (holder.clone(), holder.clone());
        let (mut first_task, mut second_task) = (task::spawn(()), task::spawn(()));
        assert!(poll(&mut holder, &mut task::spawn(())).is_ready());
        assert_eq!(gauges(), (0.0, 1.0));
        assert!(poll(&mut first, &mut first_task).is_pending());
        assert!(poll(&mut second, &mut second_task).is_pending());
        assert!(poll(&mut second, &mut second_task).is_pending());
        assert_eq!(gauges(), (2.0, 1.0), "a waiter polled again counts once");

        // Granted on release: out of the queue, and its permit counts.
        holder.gate().release();
        assert_eq!(gauges(), (1.0, 1.0));
        assert_eq!(poll(&mut first, &mut first_task), Poll::Ready(Ok(())));
        assert_eq!(gauges(), (1.0, 1.0), "claiming changes nothing");

        // A withdrawal leaves the queue.
        assert!(poll_withdrawing(&mut second).is_pending());
        assert_eq!(gauges(), (0.0, 1.0));
        first.gate().release();
        assert_eq!(gauges(), (0.0, 0.0));
    }

    #[test]
    fn a_lowered_limit_counts_only_the_permits_of_callers() {
        let (place, gauges) = metered(3);
        let gate = Arc::clone(place.gate());
        assert!(gate.try_take() && gate.try_take());
        gate.set_limit(1);
        assert_eq!(
            gauges(),
            (0.0, 2.0),
            "the free permit taken away is not out"
        );
        gate.release();
        assert_eq!(gauges(), (0.0, 1.0), "one paid the debt as it came back");
        gate.set_limit(3);
        gate.release();
        assert_eq!(gauges(), (0.0, 0.0));
    }

    #[test]
    fn a_granted_permit_dropped_passes_on_and_closing_empties_the_queue() {
        let (mut holder, gauges) = metered(1);
        let (mut granted, mut next, mut last) = (holder.clone(), holder.clone(), holder.clone());
        assert!(poll(&mut holder, &mut task::spawn(())).is_ready());
        for place in [&mut granted, &mut next, &mut last] {
            assert!(poll(place, &mut task::spawn(())).is_pending());
        }
        holder.gate().release();
        assert_eq!(gauges(), (2.0, 1.0));
        // Granted, never claimed: the permit goes on to the next waiter.
        drop(granted);
        assert_eq!(gauges(), (1.0, 1.0));
        holder.gate().close();
        assert_eq!(gauges(), (0.0, 1.0));
        drop(next);
        assert_eq!(gauges(), (0.0, 0.0));
    }
}

/// The gate with a [`QueueDiscipline`], on tokio's paused clock.
mod discipline {
    use std::time::Duration;

    use tokio::time::advance;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A gate of one permit, taken by the returned holder.
    fn held(rule: QueueDiscipline) -> Place {
        let mut holder = Place::new(Arc::new(Gate::new(1).with_discipline(rule)));
        assert_eq!(poll(&mut holder, &mut task::spawn(())), Poll::Ready(Ok(())));
        holder
    }

    fn codel() -> QueueDiscipline {
        QueueDiscipline::fifo().codel(ms(5), ms(100))
    }

    #[tokio::test(start_paused = true)]
    async fn codel_refuses_each_waiter_when_its_time_comes() {
        let holder = held(codel());
        let (mut a, mut b, mut c) = (holder.clone(), holder.clone(), holder.clone());
        let (mut a_task, mut b_task, mut c_task) =
            (task::spawn(()), task::spawn(()), task::spawn(()));
        // A joins the empty queue at 0: it stands from 0, so A may wait the
        // interval, to 100. B joins at 40: max(40 + 5, 0 + 100) = 100.
        // C joins at 98: max(98 + 5, 0 + 100) = 103.
        assert!(poll(&mut a, &mut a_task).is_pending());
        advance(ms(40)).await;
        assert!(poll(&mut b, &mut b_task).is_pending());
        advance(ms(58)).await;
        assert!(poll(&mut c, &mut c_task).is_pending());

        advance(ms(1)).await; // 99
        assert!(!a_task.is_woken() && !b_task.is_woken());
        assert!(poll(&mut a, &mut a_task).is_pending());
        assert!(poll(&mut b, &mut b_task).is_pending());

        advance(ms(1)).await; // 100
        assert!(
            a_task.is_woken() && b_task.is_woken(),
            "their timers fire at 100"
        );
        assert_eq!(poll(&mut a, &mut a_task), Poll::Ready(Err(Denied::Refused)));
        assert_eq!(poll(&mut b, &mut b_task), Poll::Ready(Err(Denied::Refused)));
        assert!(!c_task.is_woken());
        assert!(poll(&mut c, &mut c_task).is_pending());

        advance(ms(2)).await; // 102
        assert!(poll(&mut c, &mut c_task).is_pending());
        advance(ms(1)).await; // 103
        assert!(c_task.is_woken());
        assert_eq!(poll(&mut c, &mut c_task), Poll::Ready(Err(Denied::Refused)));

        // Nobody waits: the permit comes back free, no flag set.
        holder.gate().release();
        assert_eq!(holder.gate().available(), 1);
        assert_eq!(holder.gate().state.load(Ordering::Relaxed) & WAITERS, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_permit_coming_back_refuses_the_waiters_past_their_time_and_serves_the_next() {
        let holder = held(codel());
        let (mut a, mut b) = (holder.clone(), holder.clone());
        let (mut a_task, mut b_task) = (task::spawn(()), task::spawn(()));
        // A at 0 (refused at 100); B at 130, the queue standing since 0:
        // max(130 + 5, 0 + 100) = 135.
        assert!(poll(&mut a, &mut a_task).is_pending());
        advance(ms(130)).await;
        assert!(poll(&mut b, &mut b_task).is_pending());
        // A has not polled since its time came; the permit comes back at
        // 132: A is refused there, and the permit goes to B.
        advance(ms(2)).await;
        holder.gate().release();
        assert_eq!(poll(&mut a, &mut a_task), Poll::Ready(Err(Denied::Refused)));
        assert!(b_task.is_woken());
        assert_eq!(poll(&mut b, &mut b_task), Poll::Ready(Ok(())));
        b.gate().release();
        assert_eq!(holder.gate().available(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_queue_that_empties_starts_standing_again_from_its_next_waiter() {
        let holder = held(codel());
        let mut a = holder.clone();
        let mut a_task = task::spawn(());
        assert!(poll(&mut a, &mut a_task).is_pending());
        advance(ms(90)).await;
        holder.gate().release();
        assert_eq!(poll(&mut a, &mut a_task), Poll::Ready(Ok(())));
        // Empty again. B joins at 200: the queue stands from 200, so B may
        // wait the interval: to 300, not 205.
        advance(ms(110)).await;
        let mut b = holder.clone();
        let mut b_task = task::spawn(());
        assert!(poll(&mut b, &mut b_task).is_pending());
        advance(ms(99)).await;
        assert!(poll(&mut b, &mut b_task).is_pending());
        advance(ms(1)).await;
        assert_eq!(poll(&mut b, &mut b_task), Poll::Ready(Err(Denied::Refused)));
        a.gate().release();
    }

    #[tokio::test(start_paused = true)]
    async fn newest_first_once_the_queue_has_stood_long_enough() {
        let holder = held(QueueDiscipline::fifo().newest_first_after(ms(10)));
        let mut places: Vec<_> = (0..4).map(|_| holder.clone()).collect();
        let mut tasks: Vec<_> = (0..4).map(|_| task::spawn(())).collect();
        for (place, task) in places.iter_mut().zip(&mut tasks) {
            assert!(poll(place, task).is_pending());
            advance(ms(1)).await;
        }
        // At 4 the queue has stood 4 ms: the oldest first.
        holder.gate().release();
        assert!(tasks[0].is_woken());
        assert_eq!(poll(&mut places[0], &mut tasks[0]), Poll::Ready(Ok(())));
        // At 10 it has stood 10 ms: the newest first, then the next newest.
        advance(ms(6)).await;
        places[0].gate().release();
        assert!(tasks[3].is_woken() && !tasks[1].is_woken() && !tasks[2].is_woken());
        assert_eq!(poll(&mut places[3], &mut tasks[3]), Poll::Ready(Ok(())));
        places[3].gate().release();
        assert!(tasks[2].is_woken() && !tasks[1].is_woken());
        assert_eq!(poll(&mut places[2], &mut tasks[2]), Poll::Ready(Ok(())));
        places[2].gate().release();
        assert_eq!(poll(&mut places[1], &mut tasks[1]), Poll::Ready(Ok(())));
        places[1].gate().release();
        assert_eq!(holder.gate().available(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_queue_delay_is_the_oldest_waiters_wait() {
        let holder = held(QueueDiscipline::fifo().newest_first_after(Duration::ZERO));
        let delay = holder.gate().queue_delay().expect("a discipline");
        let (mut a, mut b) = (holder.clone(), holder.clone());
        let (mut a_task, mut b_task) = (task::spawn(()), task::spawn(()));
        assert_eq!(delay.get(), Duration::ZERO);
        assert!(poll(&mut a, &mut a_task).is_pending());
        advance(ms(20)).await;
        assert!(poll(&mut b, &mut b_task).is_pending());
        advance(ms(10)).await;
        assert_eq!(delay.get(), ms(30), "A, the oldest, has waited 30 ms");
        // Newest first: B is served, A is still the oldest.
        holder.gate().release();
        assert_eq!(poll(&mut b, &mut b_task), Poll::Ready(Ok(())));
        assert_eq!(delay.get(), ms(30));
        drop(a);
        assert_eq!(delay.get(), Duration::ZERO, "nobody waits");
        assert!(
            Gate::new(1).queue_delay().is_none(),
            "not tracked without a discipline"
        );
        b.gate().release();
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_refused_by_a_returning_permit_finds_the_refusal_when_it_withdraws() {
        let holder = held(codel());
        let mut a = holder.clone();
        let mut a_task = task::spawn(());
        assert!(poll(&mut a, &mut a_task).is_pending());
        advance(ms(150)).await;
        // Refused by a permit coming back first, then the caller withdraws.
        holder.gate().release();
        assert_eq!(poll_withdrawing(&mut a), Poll::Ready(Err(Denied::Refused)));
        assert_eq!(holder.gate().available(), 1, "the permit stayed free");
    }
}
