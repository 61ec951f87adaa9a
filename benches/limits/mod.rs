//! The rate-limit cases, shared by the paired runner
//! (`examples/limits.rs`): donjon's fixed window, GCRA and keyed limit,
//! and `governor`'s direct and keyed limiters behind the smallest service
//! that uses them. Each runs `n` requests (`ready`, then `call`) on a
//! current-thread runtime, with limits no case comes near, and returns the
//! time they took.
#![allow(
    unreachable_pub,
    reason = "this module is included by several targets, each a binary"
)]

use std::future::{Ready, ready};
use std::hint::black_box;
use std::num::NonZeroU32;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use donjon::limit::RateLimit;
use donjon::limit::gcra::{Gcra, Quota};
use donjon::limit::keyed::{KeyedRateLimit, MemoryStore};
use donjon::limit::rate::Rate;
use donjon::{BoxError, Service, ServiceExt};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, RateLimiter};
use tokio::runtime::Runtime;

/// Distinct keys the keyed cases rotate through.
pub const KEYS: u64 = 1024;

/// Every case, with what it measures.
pub const CASES: &[(&str, &str)] = &[
    (
        "rate_limit",
        "donjon RateLimit (fixed window) that never blocks",
    ),
    ("gcra", "donjon Gcra that never blocks"),
    (
        "governor_direct",
        "governor's direct limiter checked in poll_ready",
    ),
    ("keyed", "donjon KeyedRateLimit on a MemoryStore, 1024 keys"),
    (
        "governor_keyed",
        "governor's keyed limiter checked in call, 1024 keys",
    ),
];

/// The comparisons the paired runner makes: (case, against, target ratio).
pub const PAIRS: &[(&str, &str, f64)] = &[
    ("gcra", "rate_limit", 1.0),
    ("gcra", "governor_direct", f64::NAN),
    ("keyed", "governor_keyed", 1.0),
];

/// A current-thread runtime with timers.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn drive<S>(mut service: S, n: u64) -> Duration
where
    S: Service<u64, Response = u64, Error = BoxError>,
{
    let start = Instant::now();
    for i in 0..n {
        let ready = service.ready().await.expect("the service fails");
        let response = ready.call(black_box(i)).await.expect("the call fails");
        black_box(response);
    }
    start.elapsed()
}

/// A quota no case comes near: 2^40 per hour.
fn huge() -> Quota {
    Quota::new(1 << 40, Duration::from_secs(3600)).expect("a valid quota")
}

fn governor_quota() -> governor::Quota {
    governor::Quota::per_second(NonZeroU32::MAX)
}

/// governor's direct limiter as a service: one check per `poll_ready`.
pub struct GovernorDirect {
    limiter: DefaultDirectRateLimiter,
}

impl Service<u64> for GovernorDirect {
    type Response = u64;
    type Error = BoxError;
    type Future = Ready<Result<u64, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.limiter
            .check()
            .expect("the governor limit is never reached");
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: u64) -> Self::Future {
        ready(Ok(request.wrapping_mul(2)))
    }
}

/// governor's keyed limiter as a service: one check per `call`.
pub struct GovernorKeyed {
    limiter: DefaultKeyedRateLimiter<u64>,
}

impl Service<u64> for GovernorKeyed {
    type Response = u64;
    type Error = BoxError;
    type Future = Ready<Result<u64, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: u64) -> Self::Future {
        self.limiter
            .check_key(&(request % KEYS))
            .expect("the governor limit is never reached");
        ready(Ok(request.wrapping_mul(2)))
    }
}

/// The service every case wraps: doubles its request, always ready.
#[derive(Debug, Clone, Copy)]
pub struct Double;

impl Service<u64> for Double {
    type Response = u64;
    type Error = BoxError;
    type Future = Ready<Result<u64, BoxError>>;

    #[inline]
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, request: u64) -> Self::Future {
        ready(Ok(request.wrapping_mul(2)))
    }
}

/// A case, built once and run many times.
pub enum Prepared {
    /// donjon's fixed window.
    RateLimit(RateLimit<Double>),
    /// donjon's GCRA.
    Gcra(Gcra<Double>),
    /// governor's direct limiter.
    GovernorDirect(GovernorDirect),
    /// donjon's keyed limit.
    Keyed(KeyedRateLimit<Double, MemoryStore<u64>, fn(&u64) -> u64>),
    /// governor's keyed limiter.
    GovernorKeyed(GovernorKeyed),
}

fn key_of(request: &u64) -> u64 {
    request % KEYS
}

/// Builds case `name` on `rt`; `None` for an unknown case.
pub fn prepare(name: &str, rt: &Runtime) -> Option<Prepared> {
    let _runtime = rt.enter();
    Some(match name {
        "rate_limit" => Prepared::RateLimit(RateLimit::new(
            Double,
            Rate::new(1 << 40, Duration::from_secs(3600)),
        )),
        "gcra" => Prepared::Gcra(Gcra::new(Double, huge())),
        "governor_direct" => Prepared::GovernorDirect(GovernorDirect {
            limiter: RateLimiter::direct(governor_quota()),
        }),
        "keyed" => Prepared::Keyed(KeyedRateLimit::new(
            Double,
            MemoryStore::new(),
            key_of as fn(&u64) -> u64,
            huge(),
        )),
        "governor_keyed" => Prepared::GovernorKeyed(GovernorKeyed {
            limiter: RateLimiter::keyed(governor_quota()),
        }),
        _ => return None,
    })
}

/// Runs `n` requests of a prepared case.
pub fn run(prepared: &mut Prepared, rt: &Runtime, n: u64) -> Duration {
    rt.block_on(async {
        match prepared {
            Prepared::RateLimit(service) => drive(service, n).await,
            Prepared::Gcra(service) => drive(service, n).await,
            Prepared::GovernorDirect(service) => drive(service, n).await,
            Prepared::Keyed(service) => drive(service, n).await,
            Prepared::GovernorKeyed(service) => drive(service, n).await,
        }
    })
}
