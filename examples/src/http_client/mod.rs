//! An HTTP client (hyper-util's) behind a donjon stack: p2c balancing over
//! several server addresses by peak EWMA latency, a circuit breaker per
//! endpoint, a timeout per attempt, retries within a budget and after a
//! backoff, a concurrency limit and load shedding.
//!
//! [`resilient`] builds the stack; the flagship example compares it with
//! [`round_robin`], the naive client, and with [`tower_stack`], the closest
//! stack the `tower` crate itself allows. All three take the same addresses
//! and return the same [`ClientStats`].

mod endpoint;
mod naive;
mod policy;
mod tower_policy;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use donjon::balance::p2c::Balance;
use donjon::circuit_breaker::{CircuitBreaker, Config, OpenBehavior};
use donjon::classify::Outcome;
use donjon::discover::ServiceList;
use donjon::load::{CompleteOnResponse, PeakEwmaDiscover};
use donjon::retry::backoff::ExponentialBackoffMaker;
use donjon::retry::budget::TpsBudget;
use donjon::tower_compat::IntoDonjon;
use donjon::util::rng::HasherRng;
use donjon::{BoxError, Service, ServiceBuilder};
use http::{Request, Response};
use tokio::time::Instant;

pub use self::endpoint::{AttemptLog, Endpoint, HyperClient, hyper_client};
pub use self::naive::RoundRobin;
pub use self::policy::RetryPolicy;
pub use self::tower_policy::TowerRetryPolicy;

/// A client as the examples use it: a cloneable donjon service from
/// requests to whole responses, whose futures can be spawned.
pub trait HttpClient:
    Service<Request<Bytes>, Response = Response<Bytes>, Error = BoxError, Future: Send + 'static>
    + Clone
    + Send
    + 'static
{
}

impl<S> HttpClient for S where
    S: Service<
            Request<Bytes>,
            Response = Response<Bytes>,
            Error = BoxError,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// Errors and 5xx answers count as failures: the classification the
/// client's circuit breakers and retry policy share.
pub fn server_errors_fail(result: &Result<Response<Bytes>, BoxError>) -> Outcome {
    match result {
        Ok(response) if response.status().is_server_error() => Outcome::Failure,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}

/// How the resilient client behaves.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The longest one attempt may take.
    pub timeout: Duration,
    /// Retries per request, at most.
    pub max_retries: u32,
    /// Retries may add this fraction of the requests made over the last
    /// 10 s...
    pub retry_share: f32,
    /// ...plus this many retries per second.
    pub min_retries_per_second: u32,
    /// The shortest and longest backoff before a retry.
    pub backoff: (Duration, Duration),
    /// Requests in flight at once; more are shed (`Overloaded`).
    pub concurrency_limit: usize,
    /// The latency a new endpoint is assumed to have.
    pub default_rtt: Duration,
    /// How fast the latency estimates forget.
    pub decay: Duration,
    /// When an endpoint's circuit breaker opens, taking it out of the
    /// balancer's rotation, and when it probes it again.
    pub breaker: Config,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_millis(100),
            max_retries: 3,
            retry_share: 0.2,
            min_retries_per_second: 10,
            backoff: (Duration::from_millis(2), Duration::from_millis(50)),
            concurrency_limit: 256,
            default_rtt: Duration::from_millis(20),
            decay: Duration::from_secs(2),
            // Three failures in a row (fewer than the 4 attempts a request
            // may make, so a request whose attempts all land on a dead
            // endpoint opens its breaker before the last one); open for
            // 0.5 s, doubling while probes fail, up to 10 s; not ready while
            // open, so that p2c skips the endpoint.
            breaker: Config::new()
                .with_consecutive_failures(3)
                .with_open_duration(Duration::from_millis(500))
                .with_open_backoff(2.0, Duration::from_secs(10))
                .with_half_open_calls(1)
                .with_open_behavior(OpenBehavior::NotReady),
        }
    }
}

/// What a client counted while it ran.
#[derive(Debug, Clone)]
pub struct ClientStats {
    attempts: Vec<(SocketAddr, Arc<AttemptLog>)>,
    retries: Arc<AtomicU64>,
}

impl ClientStats {
    /// Attempts sent to each address (including those that failed to
    /// connect), in the order the addresses were given.
    pub fn attempts(&self) -> Vec<(SocketAddr, u64)> {
        self.attempts
            .iter()
            .map(|(addr, log)| (*addr, log.count()))
            .collect()
    }

    /// When each attempt to each address started, in the order the
    /// addresses were given.
    pub fn attempt_times(&self) -> Vec<(SocketAddr, Vec<Instant>)> {
        self.attempts
            .iter()
            .map(|(addr, log)| (*addr, log.times()))
            .collect()
    }

    /// Retries made.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
}

/// One [`Endpoint`] per address, on one shared hyper-util client, with
/// their attempt logs.
fn endpoints(addrs: &[SocketAddr]) -> (Vec<Endpoint>, Vec<(SocketAddr, Arc<AttemptLog>)>) {
    let client = hyper_client();
    let endpoints: Vec<Endpoint> = addrs
        .iter()
        .map(|addr| Endpoint::new(client.clone(), *addr))
        .collect();
    let counters = addrs
        .iter()
        .zip(&endpoints)
        .map(|(addr, endpoint)| (*addr, endpoint.attempts()))
        .collect();
    (endpoints, counters)
}

/// The naive client over `addrs`: [`RoundRobin`], no middleware.
///
/// # Panics
///
/// If `addrs` is empty.
pub fn round_robin(addrs: &[SocketAddr]) -> (RoundRobin, ClientStats) {
    let (endpoints, attempts) = endpoints(addrs);
    let stats = ClientStats {
        attempts,
        retries: Arc::new(AtomicU64::new(0)),
    };
    (RoundRobin::new(endpoints), stats)
}

/// The resilient client over `addrs`. From the outside in:
///
/// 1. load shedding: a request beyond the concurrency limit fails at once
///    with `donjon::load_shed::error::Overloaded` instead of queueing;
/// 2. a concurrency limit;
/// 3. retries ([`RetryPolicy`]) within a [`TpsBudget`], after an exponential
///    backoff;
/// 4. a timeout on each attempt;
/// 5. a buffer, so that the client can be cloned and shared between tasks;
/// 6. p2c balancing by peak EWMA latency over the addresses, each endpoint
///    behind a circuit breaker in not-ready mode (`config.breaker`), which
///    counts errors and 5xx answers as failures: a fast failure looks like a
///    fast answer to peak EWMA, so without it an endpoint refusing
///    connections would attract traffic.
///
/// Call it inside a tokio runtime (the buffer spawns its worker).
///
/// # Errors
///
/// The response future fails with the last attempt's error (connection
/// refused, `donjon::timeout::error::Elapsed`, ...) once retries are spent,
/// or with `Overloaded` when shed. A 5xx answer that retries could not fix
/// is returned as a response.
///
/// # Panics
///
/// If the backoff bounds or `retry_share` are invalid.
pub fn resilient(addrs: &[SocketAddr], config: &ClientConfig) -> (impl HttpClient, ClientStats) {
    let (endpoints, attempts) = endpoints(addrs);
    let endpoints: Vec<_> = endpoints
        .into_iter()
        .map(|endpoint| {
            CircuitBreaker::with_classifier(
                endpoint,
                config.breaker.clone(),
                server_errors_fail as fn(&Result<Response<Bytes>, BoxError>) -> Outcome,
            )
        })
        .collect();
    let discover = PeakEwmaDiscover::new::<Request<Bytes>>(
        ServiceList::new::<Request<Bytes>>(endpoints),
        config.default_rtt,
        config.decay,
        CompleteOnResponse::default(),
    );
    let balance = Balance::new(discover);

    let budget = TpsBudget::new(
        Duration::from_secs(10),
        config.min_retries_per_second,
        config.retry_share,
    );
    let backoffs = ExponentialBackoffMaker::new(
        config.backoff.0,
        config.backoff.1,
        0.5,
        HasherRng::default(),
    )
    .expect("valid backoff bounds");
    let policy = RetryPolicy::new(budget, backoffs, config.max_retries);
    let stats = ClientStats {
        attempts,
        retries: policy.retries(),
    };

    let client = ServiceBuilder::new()
        .load_shed()
        .concurrency_limit(config.concurrency_limit)
        .retry(policy)
        .timeout(config.timeout)
        .buffer(config.concurrency_limit.max(1))
        .service(balance);
    (client, stats)
}

/// The closest stack to [`resilient`] that the `tower` crate (0.5.3) itself
/// allows, over `addrs`, configured from the same `config`: load shedding, a
/// concurrency limit, retries ([`TowerRetryPolicy`]) within tower's
/// `TpsBudget` after tower's exponential backoff, a timeout per attempt, a
/// buffer, and p2c balancing by peak EWMA latency. Every layer is tower's.
///
/// What it lacks is the circuit breaker per endpoint (tower has none,
/// `config.breaker` is ignored): an endpoint that refuses connections fails
/// fast, a fast failure looks like a fast answer to peak EWMA, and p2c keeps
/// choosing it.
///
/// The stack is a `tower::Service`; [`IntoDonjon::into_donjon`] wraps the
/// outermost layer so that the flagship drives all three clients through
/// one trait. It forwards `poll_ready` and `call` unchanged: no donjon code
/// runs inside the stack.
///
/// Call it inside a tokio runtime (the buffer spawns its worker).
///
/// # Errors
///
/// As [`resilient`], with tower's error types:
/// `tower::timeout::error::Elapsed`, `tower::load_shed::error::Overloaded`.
///
/// # Panics
///
/// If the backoff bounds or `retry_share` are invalid.
pub fn tower_stack(addrs: &[SocketAddr], config: &ClientConfig) -> (impl HttpClient, ClientStats) {
    let (endpoints, attempts) = endpoints(addrs);
    let discover = tower::load::PeakEwmaDiscover::new::<Request<Bytes>>(
        tower::discover::ServiceList::new::<Request<Bytes>>(endpoints),
        config.default_rtt,
        config.decay,
        tower::load::CompleteOnResponse::default(),
    );
    let balance = tower::balance::p2c::Balance::new(discover);

    let budget = tower::retry::budget::TpsBudget::new(
        Duration::from_secs(10),
        config.min_retries_per_second,
        config.retry_share,
    );
    let backoffs = tower::retry::backoff::ExponentialBackoffMaker::new(
        config.backoff.0,
        config.backoff.1,
        0.5,
        tower::util::rng::HasherRng::default(),
    )
    .expect("valid backoff bounds");
    let policy = TowerRetryPolicy::new(budget, backoffs, config.max_retries);
    let stats = ClientStats {
        attempts,
        retries: policy.retries(),
    };

    let client = tower::ServiceBuilder::new()
        .load_shed()
        .concurrency_limit(config.concurrency_limit)
        .retry(policy)
        .timeout(config.timeout)
        .buffer(config.concurrency_limit.max(1))
        .service(balance);
    (client.into_donjon(), stats)
}
