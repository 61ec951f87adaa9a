//! Whether Redis answered the last call, and the `tracing` events of the
//! changes: one `WARN` when it stops answering, one `INFO` when it answers
//! again.
//!
//! # Memory ordering
//!
//! The flag publishes no other data: it only decides which caller emits
//! the event of a change. That caller is the one whose `swap` changed the
//! value, and a `swap` is one atomic read-modify-write, so of callers
//! racing to record the same change exactly one sees the old value,
//! whatever the ordering. The `Relaxed` load before it only spares the
//! `swap` (a write to a shared cache line) while nothing changes; a stale
//! read there at worst skips a `swap` that would have found the flag
//! already set. `AcqRel` on the `swap` is more than this needs, and costs
//! nothing measurable on a path that has just waited for Redis.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::OnFailure;
use crate::error::StoreError;

/// One limiter's view of Redis's health: answering (the start) or failing.
#[derive(Debug)]
pub(crate) struct Health {
    /// What the events name: "rate store", "concurrency limit".
    limiter: &'static str,
    /// The key the limiter is on, when it has one.
    key: Option<String>,
    healthy: AtomicBool,
}

impl Health {
    pub(crate) fn new(limiter: &'static str, key: Option<String>) -> Self {
        Health {
            limiter,
            key,
            healthy: AtomicBool::new(true),
        }
    }

    /// Redis answered. Costs one relaxed load while it keeps answering.
    #[inline]
    pub(crate) fn answered(&self) {
        if !self.healthy.load(Ordering::Relaxed) && !self.healthy.swap(true, Ordering::AcqRel) {
            tracing::info!(
                limiter = self.limiter,
                key = self.key.as_deref(),
                "redis answers again: limits are decided by redis"
            );
        }
    }

    /// Redis could not decide; `policy` decides instead.
    pub(crate) fn failed(&self, error: &StoreError, policy: OnFailure) {
        if self.healthy.load(Ordering::Relaxed) && self.healthy.swap(false, Ordering::AcqRel) {
            tracing::warn!(
                limiter = self.limiter,
                key = self.key.as_deref(),
                %error,
                %policy,
                "redis cannot decide: the failure policy applies until it answers again"
            );
        }
    }

    /// Whether the last call was answered.
    pub(crate) fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }
}
