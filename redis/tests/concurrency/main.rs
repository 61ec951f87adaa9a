//! `GlobalConcurrencyLimit` and `RedisSemaphore` against a real
//! redis-server: the fleet-wide bound across processes, leases given back,
//! renewed and expiring, failure policies, bad settings, and the readiness
//! contract.
//!
//! Each test starts a server of its own (the tests of this binary run in
//! parallel). Leases expire on Redis's clock, the real one: the tests that
//! need time to pass use leases of a few hundred milliseconds.

#[path = "../support/mod.rs"]
mod support;

mod config;
mod failure;
mod fleet;
mod leases;
#[cfg(feature = "metrics")]
mod metrics;
mod readiness;

use std::time::Duration;

use donjon_redis::{OnFailure, RedisSemaphore};

/// A semaphore of `max` on `key`, with a lease of `lease` and a call
/// timeout of a third of it.
pub(crate) async fn semaphore(url: &str, key: &str, max: usize, lease: Duration) -> RedisSemaphore {
    semaphore_with(url, key, max, lease, OnFailure::FailClosed).await
}

pub(crate) async fn semaphore_with(
    url: &str,
    key: &str,
    max: usize,
    lease: Duration,
    on_failure: OnFailure,
) -> RedisSemaphore {
    RedisSemaphore::builder(support::connect(url).await, key, max)
        .with_lease(lease)
        .with_call_timeout(lease / 3)
        .with_retry_interval(Duration::from_millis(20))
        .with_on_failure(on_failure)
        .build()
        .expect("valid settings")
}

/// The leases held on `semaphore`'s key.
pub(crate) async fn held(semaphore: &RedisSemaphore) -> usize {
    semaphore.held().await.expect("redis answers")
}
