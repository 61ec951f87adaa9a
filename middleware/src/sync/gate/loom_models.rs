//! loom models of the gate: run with
//! `RUSTFLAGS="--cfg donjon_loom" cargo test -p donjon --features limit --release --lib loom`.

use std::future::poll_fn;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::thread;
#[cfg(feature = "metrics")]
use metrics::Gauge;

use super::*;

fn place(limit: usize) -> Place {
    Place::new(Arc::new(Gate::new(limit)))
}

/// Waits for a permit (loom's `block_on` parks the thread until woken:
/// a lost wake-up is reported as a deadlock).
fn acquire(place: &mut Place) -> Result<(), Denied> {
    block_on(poll_fn(|cx| place.poll_acquire(cx)))
}

/// Polls once with a waker nobody waits on: the caller is queued.
fn poll_once(place: &mut Place) -> Poll<Result<(), Denied>> {
    place.poll_acquire(&mut Context::from_waker(Waker::noop()))
}

/// Everything back: every permit free, no flag left set.
fn assert_settled(gate: &Gate, limit: usize) {
    let state = gate.state.load(Ordering::Relaxed);
    assert_eq!(state >> SHIFT, limit, "every permit is back");
    assert_eq!(state & (WAITERS | DEBT), 0, "no waiter or debt left");
    assert!(lock(&gate.queue).waiters.is_empty());
}

#[test]
fn loom_gate_acquire_and_release_by_three_callers_over_one_permit() {
    loom::model(|| {
        let main = place(1);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let mut place = main.clone();
                thread::spawn(move || {
                    acquire(&mut place).expect("open");
                    place.gate().release();
                })
            })
            .collect();
        let mut mine = main.clone();
        acquire(&mut mine).expect("open");
        mine.gate().release();
        for thread in threads {
            thread.join().expect("no panic");
        }
        assert_settled(main.gate(), 1);
    });
}

#[test]
fn loom_gate_a_waiter_cancelled_while_the_permit_comes_back() {
    loom::model(|| {
        let mut holder = place(1);
        assert!(
            holder
                .poll_acquire(&mut Context::from_waker(Waker::noop()))
                .is_ready()
        );
        let mut waiter = holder.clone();
        assert!(
            poll_once(&mut waiter).is_pending(),
            "queued behind the holder"
        );
        let gate = Arc::clone(holder.gate());
        let releaser = thread::spawn(move || gate.release());
        // Cancelled: dropped while the grant may be on its way.
        drop(waiter);
        releaser.join().expect("no panic");
        assert_settled(holder.gate(), 1);
    });
}

#[test]
fn loom_gate_a_grant_racing_a_withdrawal() {
    loom::model(|| {
        let holder = place(1);
        let gate = Arc::clone(holder.gate());
        assert!(gate.try_take());
        let mut waiter = holder.clone();
        assert!(poll_once(&mut waiter).is_pending());
        let releaser = thread::spawn(move || gate.release());
        // The caller stops waiting: it leaves, or claims the grant.
        let withdrawn =
            waiter.poll_acquire(&mut Context::from_waker(crate::sync::withdrawal_waker()));
        if withdrawn == Poll::Ready(Ok(())) {
            waiter.gate().release();
        }
        releaser.join().expect("no panic");
        drop(waiter);
        assert_settled(holder.gate(), 1);
    });
}

#[test]
fn loom_gate_close_wakes_a_waiter() {
    loom::model(|| {
        let holder = place(0);
        let mut waiter = holder.clone();
        let waiting = thread::spawn(move || acquire(&mut waiter));
        holder.gate().close();
        assert_eq!(waiting.join().expect("no panic"), Err(Denied::Closed));
    });
}

#[test]
fn loom_gate_a_limit_that_moves_while_callers_come_and_go() {
    loom::model(|| {
        let main = place(1);
        let mut place = main.clone();
        let caller = thread::spawn(move || {
            acquire(&mut place).expect("open");
            place.gate().release();
        });
        let gate = Arc::clone(main.gate());
        let mover = thread::spawn(move || {
            gate.set_limit(0);
            gate.set_limit(2);
        });
        mover.join().expect("no panic");
        caller.join().expect("no panic");
        assert_settled(main.gate(), 2);
        assert_eq!(main.gate().in_flight(), 0);
    });
}

/// A meter whose gauges read back: (meter, waiters, in flight).
#[cfg(feature = "metrics")]
fn meter() -> (
    GateMeter,
    Arc<std::sync::atomic::AtomicU64>,
    Arc<std::sync::atomic::AtomicU64>,
) {
    let waiters = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let in_flight = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let meter = GateMeter {
        waiters: Gauge::from_arc(Arc::clone(&waiters)),
        in_flight: Gauge::from_arc(Arc::clone(&in_flight)),
        refused: metrics::Counter::noop(),
    };
    (meter, waiters, in_flight)
}

/// The value of a gauge of [`meter`].
#[cfg(feature = "metrics")]
fn gauge(bits: &std::sync::atomic::AtomicU64) -> f64 {
    f64::from_bits(bits.load(std::sync::atomic::Ordering::SeqCst))
}

#[cfg(feature = "metrics")]
#[test]
fn loom_gate_meter_a_waiter_cancelled_or_withdrawn_while_the_permit_comes_back() {
    for withdraw in [false, true] {
        loom::model(move || {
            let (meter, waiters, in_flight) = meter();
            let mut holder = Place::new(Arc::new(Gate::new(1).with_meter(meter)));
            assert!(poll_once(&mut holder).is_ready());
            let mut waiter = holder.clone();
            assert!(poll_once(&mut waiter).is_pending());
            assert_eq!((gauge(&waiters), gauge(&in_flight)), (1.0, 1.0));
            let gate = Arc::clone(holder.gate());
            let releaser = thread::spawn(move || gate.release());
            if withdraw {
                // It leaves the queue, or claims the permit granted meanwhile.
                let withdrawn =
                    waiter.poll_acquire(&mut Context::from_waker(crate::sync::withdrawal_waker()));
                if withdrawn == Poll::Ready(Ok(())) {
                    waiter.gate().release();
                }
            }
            // Cancelled: dropped while the grant may be on its way.
            drop(waiter);
            releaser.join().expect("no panic");
            assert_settled(holder.gate(), 1);
            assert_eq!(gauge(&waiters), 0.0, "every waiter left the queue once");
            assert_eq!(gauge(&in_flight), 0.0, "every permit counted came back");
        });
    }
}

/// A gate of one permit with CoDel's refusals after 10 ms on the model's
/// clock, its permit taken by the returned holder, and a waiter queued
/// behind it whose time has come (the clock moved to 20 ms).
fn refused_waiter() -> (Place, Place) {
    let discipline = QueueDiscipline::unchecked_codel(
        std::time::Duration::from_millis(10),
        std::time::Duration::from_millis(10),
    );
    let mut holder = Place::new(Arc::new(Gate::new(1).with_discipline(discipline)));
    assert!(poll_once(&mut holder).is_ready());
    let mut waiter = holder.clone();
    assert!(poll_once(&mut waiter).is_pending());
    holder
        .gate()
        .clock
        .store(20, std::sync::atomic::Ordering::Relaxed);
    (holder, waiter)
}

#[test]
fn loom_gate_a_refusal_by_the_waiters_timer_racing_one_by_a_returning_permit() {
    loom::model(|| {
        let (holder, mut waiter) = refused_waiter();
        let gate = Arc::clone(holder.gate());
        let releaser = thread::spawn(move || gate.release());
        // The waiter finds its time has come as the permit comes back and
        // refuses it: refused once, whichever is first, never granted.
        assert_eq!(poll_once(&mut waiter), Poll::Ready(Err(Denied::Refused)));
        releaser.join().expect("no panic");
        drop(waiter);
        assert_settled(holder.gate(), 1);
    });
}

#[test]
fn loom_gate_a_waiter_past_its_time_dropped_or_withdrawn_while_the_permit_comes_back() {
    for withdraw in [false, true] {
        loom::model(move || {
            let (holder, mut waiter) = refused_waiter();
            let gate = Arc::clone(holder.gate());
            let releaser = thread::spawn(move || gate.release());
            if withdraw {
                let withdrawn =
                    waiter.poll_acquire(&mut Context::from_waker(crate::sync::withdrawal_waker()));
                assert_ne!(
                    withdrawn,
                    Poll::Ready(Ok(())),
                    "a refused waiter is never granted"
                );
            }
            drop(waiter);
            releaser.join().expect("no panic");
            assert_settled(holder.gate(), 1);
        });
    }
}
