//! The cases of the patterns tower lacks or cannot compose, for donjon and
//! for tower-resilience: a closed circuit breaker (`breaker`), an AIMD
//! adaptive concurrency limit (`adaptive`), a retry over a rate limit
//! (`retry_rate`: tower's `Retry` needs a `Clone` service, which tower's
//! `RateLimit` is not) and the five-layer pipeline (`pipeline`). Every case
//! wraps the same `double` and is driven by the same loop as the cases of
//! `mod.rs`, with limits, windows and timeouts no request comes near. With
//! the `metrics` feature, donjon also has `red`: the metrics layer alone.
//! donjon's own overload pieces have cases against the raw `double` only:
//! `throttle`, `priority_shed`, `admit` and `in_flight`, and against a
//! semaphore: `codel_limit`; and the outlier detection of one endpoint:
//! `outlier`.

/// The cases, against donjon.
pub mod donjon {
    use std::time::Duration;

    use donjon::balance::outlier::OutlierDetection;
    use donjon::circuit_breaker::{CircuitBreaker, Config};
    use donjon::deadline::{Admit, Deadline};
    use donjon::limit::adaptive::{AdaptiveConcurrencyLimit, Aimd};
    use donjon::limit::{ConcurrencyLimit, QueueDiscipline, RateLimit, rate::Rate};
    use donjon::priority::{Priority, PriorityShed};
    use donjon::retry::Retry;
    use donjon::retry::budget::InFlightBudget;
    use donjon::throttle::Throttle;
    use donjon::{Layer, ServiceBuilder, service_fn};
    use tokio::runtime::Runtime;

    use super::super::with_donjon::{Never, drive};
    use super::super::{CAPACITY, RATE_LIMIT, RATE_WINDOW, TIMEOUT, double, timed};

    /// Runs `case` for `n` requests.
    pub fn run(case: &str, rt: &Runtime, n: u64) -> Option<Duration> {
        // The rate limits start their window's timer when they are built.
        let _runtime = rt.enter();
        Some(match case {
            "breaker" => timed(
                rt,
                drive(CircuitBreaker::new(service_fn(double), Config::new()), n),
            ),
            "adaptive" => timed(
                rt,
                drive(
                    AdaptiveConcurrencyLimit::new(service_fn(double), Aimd::new()),
                    n,
                ),
            ),
            "retry_rate" => {
                let limit = RateLimit::new(service_fn(double), Rate::new(RATE_LIMIT, RATE_WINDOW));
                timed(rt, drive(Retry::new(Never, limit), n))
            }
            #[cfg(feature = "metrics")]
            "red" => timed(
                rt,
                drive(ServiceBuilder::new().metrics("bench").service_fn(double), n),
            ),
            "throttle" => timed(rt, drive(Throttle::new(service_fn(double)), n)),
            "outlier" => {
                let detector = OutlierDetection::new().detector();
                timed(rt, drive(detector.wrap(service_fn(double)), n))
            }
            "codel_limit" => {
                let codel = QueueDiscipline::fifo()
                    .codel(Duration::from_millis(5), Duration::from_millis(100));
                let limit = ConcurrencyLimit::new(service_fn(double), CAPACITY).with_queue(codel);
                timed(rt, drive(limit, n))
            }
            "priority_shed" => {
                let shed =
                    PriorityShed::new(service_fn(double), CAPACITY, |_: &u64| Priority::Critical);
                timed(rt, drive(shed, n))
            }
            "admit" => {
                let far = Deadline::after(Duration::from_secs(3600));
                timed(
                    rt,
                    drive(Admit::new(service_fn(double), move |_: &u64| Some(far)), n),
                )
            }
            "in_flight" => {
                let budget = InFlightBudget::new(0.1, 1);
                let counted = budget.layer().layer(service_fn(double));
                timed(rt, drive(Retry::new(budget.policy(Never), counted), n))
            }
            "pipeline" => {
                let pipeline = ServiceBuilder::new()
                    .timeout(TIMEOUT)
                    .circuit_breaker(Config::new())
                    .retry(Never)
                    .rate_limit(RATE_LIMIT, RATE_WINDOW)
                    .concurrency_limit(CAPACITY)
                    .service_fn(double);
                timed(rt, drive(pipeline, n))
            }
            _ => return None,
        })
    }
}

/// The cases, against tower-resilience, configured as donjon's defaults
/// are where the two differ.
pub mod tower_resilience {
    use std::time::Duration;

    use tokio::runtime::Runtime;
    use tower::{ServiceBuilder, service_fn};
    use tower_resilience::adaptive::{AdaptiveLimiterLayer, Aimd};
    use tower_resilience::bulkhead::{BulkheadLayer, BulkheadServiceError};
    use tower_resilience::circuitbreaker::CircuitBreakerLayer;
    use tower_resilience::ratelimiter::{RateLimiterLayer, RateLimiterServiceError};
    use tower_resilience::retry::RetryLayer;
    use tower_resilience::timelimiter::TimeLimiterLayer;

    use super::super::with_tower::drive;
    use super::super::{BoxError, CAPACITY, RATE_LIMIT, RATE_WINDOW, TIMEOUT, double, timed};

    fn breaker() -> CircuitBreakerLayer {
        CircuitBreakerLayer::builder()
            .build()
            .expect("the default breaker is valid")
    }

    fn rate_limiter() -> RateLimiterLayer {
        RateLimiterLayer::builder()
            .limit_for_period(usize::try_from(RATE_LIMIT).expect("a 64-bit target"))
            .refresh_period(RATE_WINDOW)
            .build()
            .expect("a valid rate")
    }

    /// A retry layer that never retries (one attempt), over a service
    /// failing with `E`.
    fn never<E>() -> RetryLayer<u64, u64, E> {
        RetryLayer::builder().max_attempts(1).build()
    }

    /// Runs `case` for `n` requests.
    pub fn run(case: &str, rt: &Runtime, n: u64) -> Option<Duration> {
        let _runtime = rt.enter();
        Some(match case {
            "breaker" => timed(
                rt,
                drive(ServiceBuilder::new().layer(breaker()).service_fn(double), n),
            ),
            "adaptive" => {
                // donjon's Aimd defaults: from 20, between 1 and 1000, 0.9
                // of the limit after a failure or a call over 5 s.
                let aimd = Aimd::builder()
                    .initial_limit(20)
                    .min_limit(1)
                    .max_limit(1000)
                    .decrease_factor(0.9)
                    .latency_threshold(Duration::from_secs(5))
                    .build()
                    .expect("a valid AIMD");
                timed(
                    rt,
                    drive(
                        ServiceBuilder::new()
                            .layer(AdaptiveLimiterLayer::new(aimd))
                            .service_fn(double),
                        n,
                    ),
                )
            }
            "retry_rate" => timed(
                rt,
                drive(
                    ServiceBuilder::new()
                        .layer(never::<RateLimiterServiceError<BoxError>>())
                        .layer(rate_limiter())
                        .service(service_fn(double)),
                    n,
                ),
            ),
            "pipeline" => {
                let pipeline = ServiceBuilder::new()
                    .layer(
                        TimeLimiterLayer::builder()
                            .timeout_duration(TIMEOUT)
                            .build(),
                    )
                    .layer(breaker())
                    .layer(never::<
                        RateLimiterServiceError<BulkheadServiceError<BoxError>>,
                    >())
                    .layer(rate_limiter())
                    .layer(
                        BulkheadLayer::builder()
                            .max_concurrent_calls(CAPACITY)
                            .build()
                            .expect("a valid bulkhead"),
                    )
                    .service_fn(double);
                timed(rt, drive(pipeline, n))
            }
            _ => return None,
        })
    }
}
