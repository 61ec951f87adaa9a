//! What happens to each request: which stack it goes to, the fault its
//! inner service injects, how long that service takes, and when (if ever)
//! its caller gives up on it. A plan depends only on the seed and the
//! request's number, so a run's faults are the same from one run to the
//! next with the same `--seed`; which requests run side by side is up to
//! the scheduler.

use std::fmt;
use std::time::Duration;

use super::rng::SplitMix64;

/// The stacks of middleware the soak sends requests through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StackKind {
    /// Inbound protection: load shedding with a bounded wait, a total
    /// timeout, a circuit breaker, an adaptive limit, a fixed limit on a
    /// shared semaphore and a rate limit.
    Server,
    /// Outbound resilience: fallback, a timeout per request, retries within
    /// a budget, hedging and p2c balancing over endpoints that come and go,
    /// each behind its own circuit breaker, with two buffers.
    Client,
    /// Two tenants sharing one concurrency limit, each with a timeout.
    Pool,
    /// A buffer whose worker dies (its service panics or fails), in front
    /// of a service driven to readiness in the background.
    Worker,
}

impl StackKind {
    /// Every stack, in the order of the reports.
    pub(crate) const ALL: [StackKind; 4] = [
        StackKind::Server,
        StackKind::Client,
        StackKind::Pool,
        StackKind::Worker,
    ];

    /// The stack's position in [`ALL`](Self::ALL).
    pub(crate) const fn index(self) -> usize {
        match self {
            StackKind::Server => 0,
            StackKind::Client => 1,
            StackKind::Pool => 2,
            StackKind::Worker => 3,
        }
    }

    /// The stack's name in reports.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            StackKind::Server => "server",
            StackKind::Client => "client",
            StackKind::Pool => "pool",
            StackKind::Worker => "worker",
        }
    }

    /// How many times, at most, the inner services may see one request:
    /// the client retries twice and hedges each attempt once; the others
    /// send each request once.
    pub(crate) const fn max_attempts(self) -> u8 {
        match self {
            StackKind::Client => 6,
            _ => 1,
        }
    }
}

impl fmt::Display for StackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The fault the inner service injects into a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// None: the request succeeds.
    None,
    /// The first attempt fails with an error; later ones (retries, hedges)
    /// succeed.
    Error,
    /// Every attempt fails with an error (the service is in an outage).
    Outage,
    /// The first attempt's response future panics when it completes.
    PanicInFuture,
    /// The inner service's `call` panics on the first attempt.
    PanicInCall,
}

impl Fault {
    /// Whether the first attempt of such a request fails or panics.
    pub(crate) const fn first_attempt_fails(self) -> bool {
        !matches!(self, Fault::None)
    }
}

/// How long the inner service takes to answer the first attempt of a
/// request (later attempts answer at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Latency {
    /// Ready at the first poll.
    Immediate,
    /// `Pending` once (waking itself), then ready.
    Yield,
    /// After a sleep on tokio's clock: a millisecond or two usually, tens
    /// of milliseconds for a latency spike.
    Sleep(Duration),
}

/// When the caller gives up on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// Never: it waits for readiness and for the response.
    Never,
    /// If the service is not ready within the duration, the caller drops
    /// its clone of the service while it waits in `poll_ready`.
    WhileWaitingReady(Duration),
    /// Once the service is ready, the caller drops it without calling (a
    /// reservation given back unused).
    AfterReady,
    /// The caller drops the response future without polling it.
    Unpolled,
    /// The caller polls the response future once, then drops it.
    AfterFirstPoll,
    /// The caller drops the response future if it is not ready within the
    /// duration.
    AfterDelay(Duration),
}

/// The request the stacks carry: a copy of the parts of the plan the inner
/// services and the middleware act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Request {
    /// The request's number, unique in the run.
    pub(crate) id: u64,
    pub(crate) fault: Fault,
    pub(crate) latency: Latency,
    /// The client stack's timeout for this request.
    pub(crate) timeout: Duration,
    /// Whether the client stack may hedge it.
    pub(crate) hedge: bool,
}

impl Request {
    /// A request that succeeds at once, for the checks after the run.
    pub(crate) const fn healthy(id: u64) -> Self {
        Request {
            id,
            fault: Fault::None,
            latency: Latency::Immediate,
            timeout: Duration::from_secs(1),
            hedge: false,
        }
    }
}

/// Who answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// An inner service.
    Backend,
    /// The client stack's fallback.
    Fallback,
}

/// A successful answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The number of the request it answers.
    pub(crate) id: u64,
    pub(crate) source: Source,
}

/// Everything the soak decides about one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) stack: StackKind,
    pub(crate) request: Request,
    pub(crate) cancel: Cancel,
    /// Which of the pool's two tenants serves it.
    pub(crate) tenant: usize,
    /// Whether the caller first changes the client's set of endpoints.
    pub(crate) churn: bool,
}

/// Requests in an outage window fail this often, per million.
const OUTAGE_ERRORS: u64 = 700_000;
/// Outside outages, per million requests: errors, panicking response
/// futures, panicking calls.
const ERRORS: u64 = 30_000;
const FUTURE_PANICS: u64 = 2_000;
const CALL_PANICS: u64 = 500;

impl Plan {
    /// The plan of request `id` in a run seeded with `seed`.
    pub(crate) fn new(seed: u64, id: u64) -> Self {
        let mut rng = SplitMix64::stream(seed, id);
        let stack = match rng.below(100) {
            0..30 => StackKind::Server,
            30..60 => StackKind::Client,
            60..80 => StackKind::Pool,
            _ => StackKind::Worker,
        };
        // Requests 10240 to 12287, and the same in every 32768, are in an
        // outage.
        let outage = (id >> 11) % 16 == 5;
        let roll = rng.below(1_000_000);
        let fault = if outage && roll < OUTAGE_ERRORS {
            Fault::Outage
        } else if roll < ERRORS {
            Fault::Error
        } else if roll < ERRORS + FUTURE_PANICS {
            Fault::PanicInFuture
        } else if roll < ERRORS + FUTURE_PANICS + CALL_PANICS {
            Fault::PanicInCall
        } else {
            Fault::None
        };
        let latency = match rng.below(100) {
            0..45 => Latency::Immediate,
            45..75 => Latency::Yield,
            75..97 => Latency::Sleep(Duration::from_micros(1_000 + rng.below(1_000))),
            _ => Latency::Sleep(Duration::from_millis(5 + rng.below(46))),
        };
        let cancel = match rng.below(100) {
            0..80 => Cancel::Never,
            80..84 => Cancel::WhileWaitingReady(Duration::from_micros(rng.below(2_000))),
            84..87 => Cancel::AfterReady,
            87..91 => Cancel::Unpolled,
            91..95 => Cancel::AfterFirstPoll,
            _ => Cancel::AfterDelay(Duration::from_micros(rng.below(5_000))),
        };
        let timeout = if rng.chance(100_000) {
            Duration::from_millis(2)
        } else {
            Duration::from_millis(25)
        };
        Plan {
            stack,
            request: Request {
                id,
                fault,
                latency,
                timeout,
                hedge: rng.chance(500_000),
            },
            cancel,
            tenant: rng.below(2) as usize,
            churn: id % 64 == 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Fault, Plan, StackKind};

    #[test]
    fn a_plan_depends_only_on_the_seed_and_the_request() {
        for id in [0, 1, 10_240, 1_000_000] {
            let (a, b) = (Plan::new(42, id), Plan::new(42, id));
            assert_eq!(a.request, b.request);
            assert_eq!((a.stack, a.cancel, a.tenant), (b.stack, b.cancel, b.tenant));
        }
    }

    #[test]
    fn every_stack_and_fault_occurs() {
        let plans: Vec<Plan> = (0..200_000).map(|id| Plan::new(1, id)).collect();
        for stack in StackKind::ALL {
            assert!(plans.iter().any(|plan| plan.stack == stack), "{stack}");
        }
        for fault in [
            Fault::None,
            Fault::Error,
            Fault::Outage,
            Fault::PanicInFuture,
            Fault::PanicInCall,
        ] {
            assert!(
                plans.iter().any(|plan| plan.request.fault == fault),
                "{fault:?}"
            );
        }
    }
}
