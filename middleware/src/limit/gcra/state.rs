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

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::Instant;

use super::Quota;
use super::math::admit;

#[derive(Debug)]
pub(super) struct State {
    quota: Quota,
    /// Nanoseconds from `origin`; 0, before `origin`, is a quiet limit.
    tat: AtomicU64,
    origin: Instant,
}

impl State {
    pub(super) fn new(quota: Quota) -> Self {
        State {
            quota,
            tat: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }

    pub(super) fn quota(&self) -> Quota {
        self.quota
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
                Err(wait) => return Err(self.instant(now.saturating_add(wait))),
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
        let after = std::time::Duration::from_nanos(nanos);
        self.origin
            .checked_add(after)
            .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(86_400 * 365 * 30))
    }
}

/// Nanoseconds from `origin` to `now`, 0 if `now` is earlier, saturating.
#[inline]
pub(crate) fn nanos_since(origin: Instant, now: Instant) -> u64 {
    let elapsed = now.saturating_duration_since(origin);
    // `as_nanos` of a `Duration` is a `u128`; 2^64 ns is 584 years.
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}
