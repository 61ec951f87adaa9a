//! The state every clone of a [`Gcra`](super::Gcra) shares: one atomic
//! theoretical arrival time.
//!
//! # Memory ordering
//!
//! The TAT is the only shared datum: no other memory is published or read
//! through it, so no access needs to synchronise with another thread's
//! writes to other locations. Every update is a compare-and-swap from the
//! value the deciding thread read, so updates form one total order (the
//! atomic's modification order) whatever the ordering argument, and a CAS
//! that fails hands back the newer value to decide on again. `Relaxed` is
//! therefore enough for the load, the swap and its failure. The bound of
//! [`math`](super::math) holds for any order of admissions, so threads
//! whose clock reads and updates interleave keep it.

use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::Quota;
use super::math::admit;
use crate::sync::atomic::AtomicU64;

#[derive(Debug)]
pub(super) struct State {
    quota: Quota,
    /// Nanoseconds from `origin`; 0, before `origin`, is a quiet limit.
    tat: AtomicU64,
    origin: Instant,
    /// The callers made to wait, counted by their handles.
    #[cfg(feature = "metrics")]
    waits: metrics::Counter,
}

impl State {
    pub(super) fn new(quota: Quota, #[cfg(feature = "metrics")] waits: metrics::Counter) -> Self {
        State {
            quota,
            tat: AtomicU64::new(0),
            origin: Instant::now(),
            #[cfg(feature = "metrics")]
            waits,
        }
    }

    pub(super) fn quota(&self) -> Quota {
        self.quota
    }

    /// The counter of the callers made to wait.
    #[cfg(feature = "metrics")]
    pub(super) fn waits(&self) -> &metrics::Counter {
        &self.waits
    }

    /// Counts the callers made to wait in `waits` from now on.
    #[cfg(feature = "metrics")]
    pub(super) fn set_waits(&mut self, waits: metrics::Counter) {
        self.waits = waits;
    }

    #[inline]
    fn now(&self) -> u64 {
        nanos_since(self.origin, Instant::now())
    }

    /// Admits one request now, returning the TAT it left behind (to give
    /// it back), or the instant it would be admitted.
    #[inline]
    pub(super) fn try_acquire(&self) -> Result<u64, Instant> {
        let now = self.now();
        self.try_acquire_at(now).map_err(|at| self.instant(at))
    }

    /// [`try_acquire`](Self::try_acquire) for a request arriving `now`
    /// nanoseconds after the origin; when it must wait, the nanoseconds
    /// after the origin when it would be admitted.
    #[inline]
    fn try_acquire_at(&self, now: u64) -> Result<u64, u64> {
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            match admit(tat, now, &self.quota) {
                Ok(next) => {
                    match self.tat.compare_exchange_weak(
                        tat,
                        next,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => return Ok(next),
                        Err(current) => tat = current,
                    }
                }
                Err(wait) => return Err(now.saturating_add(wait)),
            }
        }
    }

    /// Undoes the admission that left `tat` behind, if nothing was admitted
    /// since: an admission cannot be taken back once others built on it
    /// without risking the bound, so it then counts as used.
    pub(super) fn give_back(&self, tat: u64) {
        let _ = self.tat.compare_exchange(
            tat,
            tat - self.quota.interval_nanos(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// The instant `nanos` after the origin, or a far future one if that
    /// cannot be represented.
    fn instant(&self, nanos: u64) -> Instant {
        crate::time::deadline(self.origin, std::time::Duration::from_nanos(nanos))
    }
}

/// Nanoseconds from `origin` to `now`, 0 if `now` is earlier, saturating.
#[inline]
pub(crate) fn nanos_since(origin: Instant, now: Instant) -> u64 {
    let elapsed = now.saturating_duration_since(origin);
    // `as_nanos` of a `Duration` is a `u128`; 2^64 ns is 584 years.
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}

/// loom models of the shared state: `RUSTFLAGS="--cfg donjon_loom" cargo
/// test -p donjon --features limit --release --lib loom` (see
/// `crate::sync`).
#[cfg(all(test, donjon_loom))]
mod loom_models {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use loom::sync::Arc;
    use loom::thread;

    use super::State;
    use crate::limit::gcra::Quota;

    /// One request per 10 ns, with `burst`.
    fn quota(burst: u64) -> Quota {
        Quota::new(1, Duration::from_nanos(10))
            .and_then(|quota| quota.with_burst(burst))
            .expect("a valid quota")
    }

    #[test]
    fn loom_racing_admissions_take_exactly_the_burst() {
        loom::model(|| {
            let state = Arc::new(State::new(
                quota(2),
                #[cfg(feature = "metrics")]
                metrics::Counter::noop(),
            ));
            let racers: Vec<_> = (0..3)
                .map(|_| {
                    let state = Arc::clone(&state);
                    thread::spawn(move || state.try_acquire_at(0).is_ok())
                })
                .collect();
            let admitted = racers
                .into_iter()
                .map(|racer| racer.join().expect("a racer panicked"))
                .filter(|admitted| *admitted)
                .count();
            // Never more than the burst, and no admission lost to a race.
            assert_eq!(admitted, 2);
            assert_eq!(state.tat.load(Ordering::Relaxed), 20);
        });
    }

    #[test]
    fn loom_a_give_back_racing_an_admission_undoes_only_its_own() {
        loom::model(|| {
            let state = Arc::new(State::new(
                quota(1),
                #[cfg(feature = "metrics")]
                metrics::Counter::noop(),
            ));
            let giver = {
                let state = Arc::clone(&state);
                thread::spawn(move || {
                    if let Ok(tat) = state.try_acquire_at(0) {
                        state.give_back(tat);
                    }
                })
            };
            let taker = {
                let state = Arc::clone(&state);
                thread::spawn(move || state.try_acquire_at(0).is_ok())
            };
            giver.join().expect("the giver panicked");
            let taken = taker.join().expect("the taker panicked");
            // The state holds exactly the admission that was kept: the
            // taker's, if it got one; a give-back never erases another's.
            let expected = if taken { 10 } else { 0 };
            assert_eq!(state.tat.load(Ordering::Relaxed), expected);
        });
    }

    #[test]
    fn loom_admissions_at_different_times_keep_the_bound() {
        loom::model(|| {
            // Burst 1: one admission per 10 ns, whatever the order in which
            // threads that read the clock at 0, 5 and 10 update the state.
            let state = Arc::new(State::new(
                quota(1),
                #[cfg(feature = "metrics")]
                metrics::Counter::noop(),
            ));
            let racers: Vec<_> = [0u64, 5, 10]
                .into_iter()
                .map(|now| {
                    let state = Arc::clone(&state);
                    thread::spawn(move || state.try_acquire_at(now).ok().map(|_| now))
                })
                .collect();
            let mut admitted: Vec<u64> = racers
                .into_iter()
                .filter_map(|racer| racer.join().expect("a racer panicked"))
                .collect();
            admitted.sort_unstable();
            // In [0, 10]: at most burst + 10 / interval = 2.
            assert!(!admitted.is_empty() && admitted.len() <= 2, "{admitted:?}");
            if admitted.len() == 2 {
                assert!(admitted[1] - admitted[0] >= 5, "{admitted:?}");
            }
        });
    }
}
