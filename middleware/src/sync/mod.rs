//! The synchronisation layer donjon's middleware is built on: the fair
//! permit gate behind the concurrency limits and the buffer ([`Gate`]), and
//! the small helpers every module would otherwise write again (a lock that
//! ignores poisoning, a waker slot, a list of wake-ups made after a lock is
//! released, and the withdrawal poll with which a caller that gives up
//! waiting tells the services below it).
//!
//! The atomics and `Mutex` come from loom instead of std when the crate's
//! tests are built with `--cfg donjon_loom` (loom is a dev-dependency, so
//! it never reaches a user's build), so that loom can explore every
//! interleaving of the threads that use them. Run the models with:
//!
//! ```text
//! RUSTFLAGS="--cfg donjon_loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p donjon --features full --release --lib loom
//! ```
//!
//! `.ci/run` runs them. The cfg is donjon's own (not `loom`), so that
//! dependencies which react to `cfg(loom)`, tokio among them, are built as
//! usual.

#[cfg(any(feature = "buffer", feature = "limit"))]
mod gate;
mod wake;

#[cfg(all(feature = "metrics", feature = "limit"))]
pub(crate) use gate::GateMeter;
#[cfg(any(feature = "buffer", feature = "limit"))]
pub(crate) use gate::{Denied, Gate, GatePermit, MAX_PERMITS, Place};
#[cfg(test)]
pub(crate) use wake::withdrawal_waker;
pub(crate) use wake::{WakeList, is_withdrawal, register, withdraw};

/// The atomic types, from loom under `--cfg donjon_loom`.
pub(crate) mod atomic {
    #[cfg(all(test, donjon_loom))]
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    #[cfg(not(all(test, donjon_loom)))]
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
}

#[cfg(all(test, donjon_loom))]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(not(all(test, donjon_loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard};
// std's `Arc` even under loom: reference counts need no exploring, and
// std's coerces to trait objects, which loom's cannot.
pub(crate) use std::sync::Arc;

/// Locks `mutex`, ignoring poisoning.
///
/// Every mutex of donjon guards data that is consistent between statements
/// (no invariant is broken while a panic can unwind), so a panic elsewhere,
/// in a user's classifier or policy for instance, must not make every later
/// caller panic too.
#[inline]
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
