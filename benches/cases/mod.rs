//! The benchmark cases, shared by the criterion benchmarks
//! (`benches/per_request.rs`), the paired runner and the instruction
//! counter (`examples/per_request.rs`).
//!
//! Each case runs `n` requests inside a task spawned on a tokio runtime and
//! returns the time the requests took, measured inside that task: the
//! benchmark's own thread does not take part in the round trips. The donjon
//! and tower versions are one piece of code, compiled twice by
//! `library_cases!` against each crate: donjon's API is tower's. The
//! patterns tower lacks are in `resilience.rs`, against tower-resilience.
#![allow(
    unreachable_pub,
    reason = "this module is included by several targets, each a binary"
)]

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

mod resilience;

/// The error type both libraries use.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The service every case wraps: doubles its request.
pub async fn double(n: u64) -> Result<u64, BoxError> {
    Ok(n.wrapping_mul(2))
}

/// A timeout no request comes near.
pub const TIMEOUT: Duration = Duration::from_secs(3600);

/// Places in buffers and permits in limits: more than any case uses.
pub const CAPACITY: usize = 1024;

/// Callers in the many-callers Buffer case.
pub const CALLERS: u64 = 64;

/// Requests per window in the rate limits: more than any case sends.
pub const RATE_LIMIT: u64 = 1 << 40;

/// The rate limits' window.
pub const RATE_WINDOW: Duration = Duration::from_secs(3600);

/// A case: its name (criterion's group), what it measures, against what,
/// and donjon's target.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The name, as given on command lines and in reports.
    pub name: &'static str,
    /// What is measured.
    pub about: &'static str,
    /// The implementations it has, donjon first.
    pub libs: &'static [Lib],
    /// What donjon's time per request must reach.
    pub target: Target,
}

/// What donjon's time per request must reach in a case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// At most this fraction of tower's.
    Tower(f64),
    /// At most this many nanoseconds.
    Ns(f64),
    /// None set.
    None,
}

impl Target {
    /// Whether donjon meets it, with `donjon_ns` per request and
    /// `versus_tower` times tower's (`None` where there is no figure to
    /// judge by).
    pub fn met(self, donjon_ns: f64, versus_tower: Option<f64>) -> Option<bool> {
        match self {
            Target::Tower(ratio) => Some(versus_tower? <= ratio),
            Target::Ns(ns) => Some(donjon_ns <= ns),
            Target::None => None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Tower(ratio) => write!(f, "≤ {ratio:.2}× tower"),
            Target::Ns(ns) => write!(f, "≤ {ns} ns"),
            Target::None => f.write_str("–"),
        }
    }
}

/// The implementations of the cases that tower has.
const WITH_TOWER: &[Lib] = &[Lib::Donjon, Lib::Tower, Lib::Raw];

/// The implementations of the patterns tower lacks.
const WITH_RESILIENCE: &[Lib] = &[Lib::Donjon, Lib::Resilience];

/// Every case, in report order.
pub const CASES: &[Case] = &[
    Case {
        name: "service_fn",
        about: "service_fn ready+call (raw: the async fn)",
        libs: WITH_TOWER,
        target: Target::Tower(1.0),
    },
    #[cfg(feature = "metrics")]
    Case {
        name: "red",
        about: "the metrics layer (RED) over service_fn, no recorder installed unless built with the \
                `prometheus` feature (raw: the async fn)",
        libs: &[Lib::Donjon, Lib::Raw],
        target: Target::None,
    },
    Case {
        name: "box_service",
        about: "BoxService (raw: a boxed future)",
        libs: WITH_TOWER,
        target: Target::Tower(1.0),
    },
    Case {
        name: "retry",
        about: "Retry whose policy never retries (raw: the async fn)",
        libs: WITH_TOWER,
        target: Target::Tower(1.0),
    },
    Case {
        name: "timeout",
        about: "timeout layer alone (raw: tokio::time::timeout)",
        libs: WITH_TOWER,
        target: Target::Tower(0.25),
    },
    Case {
        name: "stack5",
        about: "map_request, map_response, map_err, timeout, concurrency_limit (raw: by hand)",
        libs: WITH_TOWER,
        target: Target::Tower(0.4),
    },
    Case {
        name: "stack5_boxed",
        about: "the same stack as BoxCloneService (raw: by hand, boxed)",
        libs: WITH_TOWER,
        target: Target::Tower(1.0),
    },
    Case {
        name: "concurrency_limit",
        about: "ConcurrencyLimit (raw: a tokio Semaphore)",
        libs: WITH_TOWER,
        target: Target::Tower(0.5),
    },
    Case {
        name: "rate_limit",
        about: "RateLimit that never blocks (raw: a counter)",
        libs: WITH_TOWER,
        target: Target::Tower(0.5),
    },
    Case {
        name: "buffer_1",
        about: "Buffer, one caller (raw: tokio mpsc + oneshot worker)",
        libs: WITH_TOWER,
        target: Target::Tower(0.5),
    },
    Case {
        name: "buffer_64",
        about: "Buffer, 64 callers on 2 workers; time per request (raw: mpsc + oneshot)",
        // Throughput at least 3 times tower's: time per request at most a third.
        libs: WITH_TOWER,
        target: Target::Tower(1.0 / 3.0),
    },
    Case {
        name: "p2c_10",
        about: "p2c over 10 endpoints (raw: two random picks by hand)",
        libs: WITH_TOWER,
        target: Target::Tower(0.25),
    },
    Case {
        name: "p2c_1000",
        about: "p2c over 1000 endpoints (raw: two random picks by hand)",
        libs: WITH_TOWER,
        target: Target::Tower(1.0),
    },
    Case {
        name: "call_all",
        about: "CallAll over a stream (raw: StreamExt::then)",
        libs: WITH_TOWER,
        target: Target::Tower(1.0),
    },
    Case {
        name: "throttle",
        about: "client-side adaptive throttling over a backend accepting everything (raw: the async fn)",
        libs: &[Lib::Donjon, Lib::Raw],
        target: Target::None,
    },
    Case {
        name: "priority_shed",
        about: "PriorityShed, its bound never reached (raw: the async fn)",
        libs: &[Lib::Donjon, Lib::Raw],
        target: Target::None,
    },
    Case {
        name: "codel_limit",
        about: "ConcurrencyLimit with CoDel's queue discipline, never full (raw: a tokio Semaphore)",
        libs: &[Lib::Donjon, Lib::Raw],
        target: Target::None,
    },
    Case {
        name: "outlier",
        about: "one endpoint under outlier detection, never failing (raw: the async fn)",
        libs: &[Lib::Donjon, Lib::Raw],
        target: Target::None,
    },
    Case {
        name: "admit",
        about: "deadline::Admit, every request with a deadline far ahead (raw: the async fn)",
        libs: &[Lib::Donjon, Lib::Raw],
        target: Target::None,
    },
    Case {
        name: "in_flight",
        about: "Retry that never retries, with an InFlightBudget counting the executions (raw: the async fn)",
        libs: &[Lib::Donjon, Lib::Raw],
        target: Target::None,
    },
    Case {
        name: "breaker",
        about: "closed circuit breaker, default window (tower-resilience: its CircuitBreaker)",
        libs: WITH_RESILIENCE,
        target: Target::Ns(25.0),
    },
    Case {
        name: "adaptive",
        about: "adaptive concurrency limit, AIMD (tower-resilience: AdaptiveLimiterLayer, Aimd)",
        libs: WITH_RESILIENCE,
        target: Target::Ns(40.0),
    },
    Case {
        name: "retry_rate",
        about: "Retry that never retries over RateLimit that never blocks (raw: a counter; \
                tower: its RateLimit is not Clone, so Retry cannot wrap it)",
        libs: &[Lib::Donjon, Lib::Resilience, Lib::Raw],
        target: Target::None,
    },
    Case {
        name: "pipeline",
        about: "timeout, circuit breaker, retry, rate limit, concurrency limit \
                (tower-resilience: time limiter, breaker, retry, rate limiter, bulkhead)",
        libs: WITH_RESILIENCE,
        target: Target::Ns(100.0),
    },
];

/// The implementations compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lib {
    /// donjon.
    Donjon,
    /// tower 0.5.3.
    Tower,
    /// tower-resilience, for the patterns tower lacks.
    Resilience,
    /// A hand-written baseline.
    Raw,
}

impl Lib {
    /// All four, in report order.
    pub const ALL: [Lib; 4] = [Lib::Donjon, Lib::Tower, Lib::Resilience, Lib::Raw];

    /// Its name (criterion's function name).
    pub fn name(self) -> &'static str {
        match self {
            Lib::Donjon => "donjon",
            Lib::Tower => "tower",
            Lib::Resilience => "resilience",
            Lib::Raw => "raw",
        }
    }

    /// The library named `name`.
    pub fn from_name(name: &str) -> Option<Lib> {
        Lib::ALL.into_iter().find(|lib| lib.name() == name)
    }
}

/// The runtime a case runs on: two workers for `buffer_64`, the current
/// thread otherwise.
pub fn runtime_for(case: &str) -> Runtime {
    let mut builder = if case == "buffer_64" {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().expect("a tokio runtime")
}

/// Runs `requests` in a task spawned on `rt` and returns how long it took,
/// measured inside the task.
pub fn timed<F>(rt: &Runtime, requests: F) -> Duration
where
    F: Future<Output = ()> + Send + 'static,
{
    rt.block_on(async {
        tokio::spawn(async move {
            let start = Instant::now();
            requests.await;
            start.elapsed()
        })
        .await
        .expect("the benchmark task panicked")
    })
}

/// The case named `name`.
pub fn case(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|case| case.name == name)
}

/// Runs case `case` of `lib` for `n` requests on `rt`; `None` for an unknown
/// case, or one that `lib` does not have.
pub fn run(case: &str, lib: Lib, rt: &Runtime, n: u64) -> Option<Duration> {
    match lib {
        Lib::Donjon => {
            with_donjon::run(case, rt, n).or_else(|| resilience::donjon::run(case, rt, n))
        }
        Lib::Tower => with_tower::run(case, rt, n),
        Lib::Resilience => resilience::tower_resilience::run(case, rt, n),
        Lib::Raw => raw::run(case, rt, n),
    }
}

/// Expands to a module running every case against one library.
macro_rules! library_cases {
    ($module:ident, $lib:ident) => {
        /// The cases, against this library.
        pub mod $module {
            use std::future::Ready;
            use std::hint::black_box;
            use std::time::Duration;

            use ::$lib::balance::p2c::Balance;
            use ::$lib::buffer::Buffer;
            use ::$lib::discover::ServiceList;
            use ::$lib::limit::{ConcurrencyLimit, RateLimit, rate::Rate};
            use ::$lib::load::{CompleteOnResponse, PendingRequests};
            use ::$lib::retry::{Policy, Retry};
            use ::$lib::timeout::Timeout;
            use ::$lib::util::{BoxCloneService, BoxService};
            use ::$lib::{Service, ServiceBuilder, ServiceExt, service_fn};
            use futures::StreamExt;
            use tokio::runtime::Runtime;

            use super::{
                BoxError, CALLERS, CAPACITY, RATE_LIMIT, RATE_WINDOW, TIMEOUT, double, timed,
            };

            /// Sends `n` requests one after the other through `service`.
            pub async fn drive<S>(mut service: S, n: u64)
            where
                S: Service<u64, Response = u64>,
                S::Error: std::fmt::Debug,
            {
                for i in 0..n {
                    let ready = service.ready().await.expect("the service fails");
                    let response = ready.call(black_box(i)).await.expect("the call fails");
                    black_box(response);
                }
            }

            /// A policy that never retries (but copies every request, as a
            /// real policy must).
            #[derive(Debug, Clone, Copy)]
            pub struct Never;

            impl Policy<u64, u64, BoxError> for Never {
                type Future = Ready<()>;

                fn retry(
                    &mut self,
                    _: &mut u64,
                    _: &mut Result<u64, BoxError>,
                ) -> Option<Ready<()>> {
                    None
                }

                fn clone_request(&mut self, request: &u64) -> Option<u64> {
                    Some(*request)
                }
            }

            fn stack5()
            -> impl Service<u64, Response = u64, Error = BoxError, Future = impl Send + 'static>
            + Clone
            + Send
            + 'static {
                ServiceBuilder::new()
                    .map_request(|n: u64| n.wrapping_add(1))
                    .map_response(|n: u64| n.wrapping_mul(3))
                    .map_err(|error: BoxError| error)
                    .timeout(TIMEOUT)
                    .concurrency_limit(CAPACITY)
                    .service_fn(double)
            }

            fn p2c(rt: &Runtime, endpoints: usize, n: u64) -> std::time::Duration {
                let services: Vec<_> = (0..endpoints)
                    .map(|_| {
                        PendingRequests::new(service_fn(double), CompleteOnResponse::default())
                    })
                    .collect();
                let balance: Balance<_, u64> = Balance::new(ServiceList::new::<u64>(services));
                timed(rt, drive(balance, n))
            }

            /// Runs `case` for `n` requests.
            pub fn run(case: &str, rt: &Runtime, n: u64) -> Option<Duration> {
                Some(match case {
                    "service_fn" => timed(rt, drive(service_fn(double), n)),
                    "box_service" => timed(rt, drive(BoxService::new(service_fn(double)), n)),
                    "retry" => timed(rt, drive(Retry::new(Never, service_fn(double)), n)),
                    "timeout" => timed(rt, drive(Timeout::new(service_fn(double), TIMEOUT), n)),
                    "stack5" => timed(rt, drive(stack5(), n)),
                    "stack5_boxed" => timed(rt, drive(BoxCloneService::new(stack5()), n)),
                    "concurrency_limit" => timed(
                        rt,
                        drive(ConcurrencyLimit::new(service_fn(double), CAPACITY), n),
                    ),
                    "rate_limit" => {
                        let rate = Rate::new(RATE_LIMIT, RATE_WINDOW);
                        // tower's RateLimit makes a timer when it is built.
                        let limit = {
                            let _runtime = rt.enter();
                            RateLimit::new(service_fn(double), rate)
                        };
                        timed(rt, drive(limit, n))
                    }
                    "buffer_1" => {
                        let buffer = {
                            let _runtime = rt.enter();
                            Buffer::new(service_fn(double), CAPACITY)
                        };
                        timed(rt, drive(buffer, n))
                    }
                    "buffer_64" => {
                        let buffer = {
                            let _runtime = rt.enter();
                            Buffer::new(service_fn(double), CAPACITY)
                        };
                        timed(rt, async move {
                            let callers: Vec<_> = (0..CALLERS)
                                .map(|caller| {
                                    let share = n / CALLERS + u64::from(caller < n % CALLERS);
                                    tokio::spawn(drive(buffer.clone(), share))
                                })
                                .collect();
                            for caller in callers {
                                caller.await.expect("a caller panicked");
                            }
                        })
                    }
                    "p2c_10" => p2c(rt, 10, n),
                    "p2c_1000" => p2c(rt, 1000, n),
                    "call_all" => timed(rt, async move {
                        let requests = futures::stream::iter(0..n);
                        let mut responses = service_fn(double).call_all(requests);
                        while let Some(response) = responses.next().await {
                            black_box(response.expect("the call fails"));
                        }
                    }),
                    _ => return None,
                })
            }
        }
    };
}

library_cases!(with_donjon, donjon);
library_cases!(with_tower, tower);

/// The hand-written baselines.
pub mod raw {
    use std::future::Future;
    use std::hint::black_box;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::time::Duration;

    use futures::StreamExt;
    use tokio::runtime::Runtime;
    use tokio::sync::{Semaphore, mpsc, oneshot};

    use super::{BoxError, CALLERS, CAPACITY, TIMEOUT, double, timed};

    type Job = (u64, oneshot::Sender<Result<u64, BoxError>>);

    /// A worker task serving `double` from a channel.
    fn worker(rt: &Runtime) -> mpsc::Sender<Job> {
        let (sender, mut receiver) = mpsc::channel::<Job>(CAPACITY);
        rt.spawn(async move {
            while let Some((request, reply)) = receiver.recv().await {
                let _ = reply.send(double(request).await);
            }
        });
        sender
    }

    async fn through_worker(sender: mpsc::Sender<Job>, n: u64) {
        for i in 0..n {
            let (reply, response) = oneshot::channel();
            sender
                .send((black_box(i), reply))
                .await
                .expect("the worker runs");
            black_box(
                response
                    .await
                    .expect("the worker answers")
                    .expect("the call fails"),
            );
        }
    }

    /// A tiny xorshift, for the hand-written p2c.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    async fn p2c(endpoints: usize, n: u64) {
        let mut pending = vec![0u32; endpoints];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for i in 0..n {
            let a = (next(&mut state) % endpoints as u64) as usize;
            let mut b = (next(&mut state) % (endpoints as u64 - 1)) as usize;
            if b >= a {
                b += 1;
            }
            let chosen = if pending[a] <= pending[b] { a } else { b };
            pending[chosen] += 1;
            black_box(double(black_box(i)).await.expect("the call fails"));
            pending[chosen] -= 1;
        }
    }

    /// Runs `case` for `n` requests.
    pub fn run(case: &str, rt: &Runtime, n: u64) -> Option<Duration> {
        Some(match case {
            "service_fn" | "retry" | "red" | "throttle" | "priority_shed" | "admit" | "outlier"
            | "in_flight" => timed(rt, async move {
                for i in 0..n {
                    black_box(double(black_box(i)).await.expect("the call fails"));
                }
            }),
            "box_service" => timed(rt, async move {
                for i in 0..n {
                    let future: Pin<Box<dyn Future<Output = Result<u64, BoxError>> + Send>> =
                        Box::pin(double(black_box(i)));
                    black_box(future.await.expect("the call fails"));
                }
            }),
            "timeout" => timed(rt, async move {
                for i in 0..n {
                    let response = tokio::time::timeout(TIMEOUT, double(black_box(i))).await;
                    black_box(response.expect("no timeout").expect("the call fails"));
                }
            }),
            "stack5" => timed(rt, async move {
                let semaphore = Semaphore::new(CAPACITY);
                for i in 0..n {
                    let _permit = semaphore.acquire().await.expect("open");
                    let response =
                        tokio::time::timeout(TIMEOUT, double(black_box(i).wrapping_add(1))).await;
                    black_box(
                        response
                            .expect("no timeout")
                            .expect("the call fails")
                            .wrapping_mul(3),
                    );
                }
            }),
            "stack5_boxed" => timed(rt, async move {
                let semaphore = Arc::new(Semaphore::new(CAPACITY));
                for i in 0..n {
                    let semaphore = Arc::clone(&semaphore);
                    let future: Pin<Box<dyn Future<Output = Result<u64, BoxError>> + Send>> =
                        Box::pin(async move {
                            let _permit = semaphore.acquire().await.expect("open");
                            let response =
                                tokio::time::timeout(TIMEOUT, double(black_box(i).wrapping_add(1)))
                                    .await;
                            Ok(response.expect("no timeout")?.wrapping_mul(3))
                        });
                    black_box(future.await.expect("the call fails"));
                }
            }),
            "concurrency_limit" | "codel_limit" => timed(rt, async move {
                let semaphore = Semaphore::new(CAPACITY);
                for i in 0..n {
                    let _permit = semaphore.acquire().await.expect("open");
                    black_box(double(black_box(i)).await.expect("the call fails"));
                }
            }),
            "rate_limit" | "retry_rate" => timed(rt, async move {
                let mut remaining = super::RATE_LIMIT;
                for i in 0..n {
                    remaining = remaining.checked_sub(1).expect("the rate never runs out");
                    black_box(remaining);
                    black_box(double(black_box(i)).await.expect("the call fails"));
                }
            }),
            "buffer_1" => {
                let sender = worker(rt);
                timed(rt, through_worker(sender, n))
            }
            "buffer_64" => {
                let sender = worker(rt);
                timed(rt, async move {
                    let callers: Vec<_> = (0..CALLERS)
                        .map(|caller| {
                            let share = n / CALLERS + u64::from(caller < n % CALLERS);
                            tokio::spawn(through_worker(sender.clone(), share))
                        })
                        .collect();
                    for caller in callers {
                        caller.await.expect("a caller panicked");
                    }
                })
            }
            "p2c_10" => timed(rt, p2c(10, n)),
            "p2c_1000" => timed(rt, p2c(1000, n)),
            "call_all" => timed(rt, async move {
                let responses = futures::stream::iter(0..n).then(double);
                let mut responses = std::pin::pin!(responses);
                while let Some(response) = responses.next().await {
                    black_box(response.expect("the call fails"));
                }
            }),
            _ => return None,
        })
    }
}
