//! Circuit breakers under a p2c balancer: one breaker per endpoint, in
//! not-ready mode, so that the balancer steers around a backend while it
//! fails and comes back to it once it recovers.
//!
//! Three HTTP backends on loopback answer in about 5 ms. The run has three
//! phases of `requests_per_phase` requests each: all healthy; backend `c`
//! failing every request; `c` healthy again. Each endpoint is
//! `PeakEwma<CircuitBreaker<Endpoint>>`: the breaker opens after
//! `consecutive_failures` failures (5xx answers count as failures), and
//! while open its `poll_ready` is `Pending`, so p2c does not pick it. After
//! `open_for`, the breaker lets probes through; when they succeed it closes
//! and the endpoint is back in rotation.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use donjon::BoxError;
use donjon::balance::p2c::Balance;
use donjon::circuit_breaker::{CircuitBreaker, Config, Handle, OpenBehavior, State};
use donjon::classify::Outcome;
use donjon::discover::ServiceList;
use donjon::load::{CompleteOnResponse, PeakEwmaDiscover};
use http::{Request, Response};

use crate::backend::{Backend, Behaviour};
use crate::http_client::{Endpoint, hyper_client, server_errors_fail};
use crate::phase::send;

/// The run's settings.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Requests in each of the three phases.
    pub requests_per_phase: usize,
    /// Failures in a row that open a breaker.
    pub consecutive_failures: u32,
    /// How long a breaker stays open before probing.
    pub open_for: Duration,
}

impl Default for Demo {
    fn default() -> Self {
        Demo {
            requests_per_phase: 600,
            consecutive_failures: 3,
            open_for: Duration::from_millis(500),
        }
    }
}

/// What happened in one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// What the phase was.
    pub name: &'static str,
    /// Requests that reached each backend (`a`, `b`, `c`).
    pub received: [u64; 3],
    /// Requests that got a 2xx.
    pub successes: usize,
    /// Requests sent.
    pub requests: usize,
    /// The state of `c`'s breaker at the end of the phase.
    pub c_breaker: State,
}

impl Phase {
    /// The share of the phase's requests that reached backend `index`.
    pub fn share(&self, index: usize) -> f64 {
        crate::phase::share(&self.received, index)
    }
}

/// Runs the three phases and reports each.
///
/// # Errors
///
/// If a backend cannot bind a loopback port.
pub async fn run(demo: &Demo) -> io::Result<Vec<Phase>> {
    let healthy = Behaviour::healthy(Duration::from_millis(5), Duration::from_millis(2));
    let mut backends = Vec::new();
    for (seed, name) in ["a", "b", "c"].into_iter().enumerate() {
        backends.push(Backend::start(name, healthy.clone(), seed as u64).await?);
    }

    let config = Config::new()
        .with_consecutive_failures(demo.consecutive_failures)
        .with_open_duration(demo.open_for)
        .with_half_open_calls(1)
        .with_open_behavior(OpenBehavior::NotReady);
    let client = hyper_client();
    let mut handles: Vec<Handle> = Vec::new();
    let endpoints: Vec<_> = backends
        .iter()
        .map(|backend| {
            let breaker = CircuitBreaker::with_classifier(
                Endpoint::new(client.clone(), backend.addr()),
                config.clone(),
                server_errors_fail as fn(&Result<Response<Bytes>, BoxError>) -> Outcome,
            );
            handles.push(breaker.handle());
            breaker
        })
        .collect();
    let discover = PeakEwmaDiscover::new::<Request<Bytes>>(
        ServiceList::new::<Request<Bytes>>(endpoints),
        Duration::from_millis(5),
        Duration::from_secs(1),
        CompleteOnResponse::default(),
    );
    let mut balance = Balance::new(discover);

    let mut phases = Vec::new();
    for (name, c_failure_share) in [
        ("all healthy", 0.0),
        ("c failing", 1.0),
        ("c recovered", 0.0),
    ] {
        backends[2].set_failure_share(c_failure_share);
        let sent = send(&mut balance, &backends, demo.requests_per_phase, |_| {}).await;
        let received = sent.received;
        phases.push(Phase {
            name,
            received: [received[0], received[1], received[2]],
            successes: sent.successes,
            requests: demo.requests_per_phase,
            c_breaker: handles[2].state(),
        });
    }
    Ok(phases)
}
