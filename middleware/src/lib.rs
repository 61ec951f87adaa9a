//! Modular, reusable components for building robust networked clients and
//! servers.
//!
//! donjon is built around one idea: a [`Service`] is an asynchronous function
//! from a request to a response, plus [`Service::poll_ready`], the readiness
//! and backpressure hook that a caller must see return `Ready(Ok(()))` before
//! each call. Middleware (timeouts, retries, rate and concurrency limits,
//! load shedding, buffering, load balancing...) is itself a `Service`
//! wrapping an inner one, and a [`Layer`] turns one service into another, so
//! that stacks compose whatever the protocol: the same timeout wraps an HTTP
//! handler, a gRPC client or a database call.
//!
//! The API matches the `tower` crate (0.5), module by module: code written
//! for `tower` compiles against donjon after renaming the crates
//! (`tower` → `donjon`, `tower_service` → `donjon_service`, `tower_layer` →
//! `donjon_layer`, `tower_test` → `donjon_test`).
//!
//! # Examples
//!
//! ```
//! # #[cfg(feature = "util")]
//! # fn main() {
//! use donjon::{BoxError, Service, ServiceBuilder, ServiceExt};
//!
//! # futures::executor::block_on(async {
//! let mut service = ServiceBuilder::new()
//!     // Layers apply outermost first: requests are trimmed, then counted.
//!     .map_request(|name: &str| name.trim().to_owned())
//!     .map_response(|greeting: String| greeting.len())
//!     .service_fn(|name: String| async move { Ok::<_, BoxError>(format!("hello, {name}")) });
//!
//! // Wait for readiness, then call.
//! let length = service.ready().await?.call("  donjon ").await?;
//! assert_eq!(length, "hello, donjon".len());
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! # }
//! # #[cfg(not(feature = "util"))]
//! # fn main() {}
//! ```
//!
//! # Cargo features
//!
//! No feature is on by default; `full` turns on every middleware. Names are
//! tower's.
//!
//! | feature | enables |
//! |---|---|
//! | `util` | [`ServiceExt`], [`service_fn`], and [`util`]: combinators, boxed services, `Either`, `CallAll` |
//! | `balance` | [`balance`]: spread requests over endpoints by power of two choices |
//! | `buffer` | [`buffer`]: share a service between callers through a queue and a worker task |
//! | `circuit-breaker` | [`circuit_breaker`]: stop calling a failing service, and probe it back |
//! | `deadline` | [`deadline`]: deadlines carried by requests, honoured by timeouts, retries, hedges and an admission check |
//! | `http` | the HTTP parts of [`deadline`]: deadlines in `http::Request` extensions and the `grpc-timeout` header |
//! | `discover` | [`discover`]: streams of endpoints coming and going |
//! | `fallback` | [`fallback`]: answer failed calls from a fallback service |
//! | `filter` | [`filter`]: reject or rewrite requests with a predicate |
//! | `hedge` | [`hedge`]: send a second copy of a slow request |
//! | `limit` | [`limit`]: concurrency limits, fixed or adaptive; rate limits in fixed windows or smooth (GCRA); rate limits per key, in process or in a store shared by a fleet |
//! | `load` | [`load`]: measures of how loaded an endpoint is |
//! | `load-shed` | [`load_shed`]: fail at once (or after a bounded wait) when the service is not ready |
//! | `make` | [`make`] and [`MakeService`]: services that make services |
//! | `priority` | [`priority`]: criticality classes of requests, and a bound on the requests in flight of which each class may fill a share |
//! | `ready-cache` | [`ready_cache`]: services split into ready and pending, by key |
//! | `reconnect` | [`reconnect`]: remake a connection-like service when it fails |
//! | `retry` | [`retry`]: retry policies, backoff and retry budgets |
//! | `spawn-ready` | [`spawn_ready`]: drive a service to readiness in a background task |
//! | `steer` | [`steer`]: route each request to one of several services |
//! | `throttle` | [`throttle`]: refuse requests locally when the backend accepts too few (client-side adaptive throttling) |
//! | `timeout` | [`timeout`]: fail requests that take too long (a set time, per request, or including the wait for readiness) |
//! | `full` | everything above |
//! | `metrics` | [`metrics`]: requests, errors, durations and middleware state through the `metrics` facade (not in `full`) |
//! | `tower-compat` | [`tower_compat`]: adapters to and from tower's `Service` and `Layer` traits (not in `full`) |
//! | `log` | makes donjon's `tracing` events emit `log` records as well |
//!
//! The features `tokio-stream`, `tokio`, `tracing`, `futures-util`,
//! `futures-core`, `pin-project-lite`, `tokio-util`, `hdrhistogram`,
//! `indexmap`, `slab` and `sync_wrapper` exist so that manifests written for
//! tower keep working.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

#[macro_use]
mod macros;
#[cfg(any(feature = "buffer", feature = "limit"))]
mod discipline;
#[cfg(any(
    feature = "buffer",
    feature = "limit",
    feature = "load-shed",
    feature = "priority"
))]
mod overloaded;
#[cfg(feature = "limit")]
mod semaphore;
#[cfg_attr(
    not(all(
        feature = "buffer",
        feature = "limit",
        feature = "load-shed",
        feature = "timeout"
    )),
    allow(
        dead_code,
        unused_imports,
        reason = "each helper serves some of the features"
    )
)]
mod sync;
#[cfg(any(
    feature = "balance",
    feature = "buffer",
    feature = "circuit-breaker",
    feature = "limit",
    feature = "load-shed",
    feature = "timeout"
))]
mod time;

pub mod builder;
pub mod classify;
pub mod layer;

#[cfg(feature = "balance")]
#[cfg_attr(docsrs, doc(cfg(feature = "balance")))]
pub mod balance;
#[cfg(feature = "buffer")]
#[cfg_attr(docsrs, doc(cfg(feature = "buffer")))]
pub mod buffer;
#[cfg(feature = "circuit-breaker")]
#[cfg_attr(docsrs, doc(cfg(feature = "circuit-breaker")))]
pub mod circuit_breaker;
#[cfg(feature = "deadline")]
#[cfg_attr(docsrs, doc(cfg(feature = "deadline")))]
pub mod deadline;
#[cfg(feature = "discover")]
#[cfg_attr(docsrs, doc(cfg(feature = "discover")))]
pub mod discover;
#[cfg(feature = "fallback")]
#[cfg_attr(docsrs, doc(cfg(feature = "fallback")))]
pub mod fallback;
#[cfg(feature = "filter")]
#[cfg_attr(docsrs, doc(cfg(feature = "filter")))]
pub mod filter;
#[cfg(feature = "hedge")]
#[cfg_attr(docsrs, doc(cfg(feature = "hedge")))]
pub mod hedge;
#[cfg(feature = "limit")]
#[cfg_attr(docsrs, doc(cfg(feature = "limit")))]
pub mod limit;
#[cfg(feature = "load")]
#[cfg_attr(docsrs, doc(cfg(feature = "load")))]
pub mod load;
#[cfg(feature = "load-shed")]
#[cfg_attr(docsrs, doc(cfg(feature = "load-shed")))]
pub mod load_shed;
#[cfg(feature = "make")]
#[cfg_attr(docsrs, doc(cfg(feature = "make")))]
pub mod make;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
#[cfg(feature = "priority")]
#[cfg_attr(docsrs, doc(cfg(feature = "priority")))]
pub mod priority;
#[cfg(feature = "ready-cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "ready-cache")))]
pub mod ready_cache;
#[cfg(feature = "reconnect")]
#[cfg_attr(docsrs, doc(cfg(feature = "reconnect")))]
pub mod reconnect;
#[cfg(feature = "retry")]
#[cfg_attr(docsrs, doc(cfg(feature = "retry")))]
pub mod retry;
#[cfg(feature = "spawn-ready")]
#[cfg_attr(docsrs, doc(cfg(feature = "spawn-ready")))]
pub mod spawn_ready;
#[cfg(feature = "steer")]
#[cfg_attr(docsrs, doc(cfg(feature = "steer")))]
pub mod steer;
#[cfg(feature = "throttle")]
#[cfg_attr(docsrs, doc(cfg(feature = "throttle")))]
pub mod throttle;
#[cfg(feature = "timeout")]
#[cfg_attr(docsrs, doc(cfg(feature = "timeout")))]
pub mod timeout;

#[cfg(feature = "tower-compat")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower-compat")))]
pub mod tower_compat;
#[cfg(feature = "util")]
#[cfg_attr(docsrs, doc(cfg(feature = "util")))]
pub mod util;

pub use crate::builder::ServiceBuilder;
#[cfg(feature = "make")]
pub use crate::make::MakeService;
#[cfg(feature = "util")]
pub use crate::util::{ServiceExt, service_fn};
pub use donjon_layer::Layer;
pub use donjon_service::Service;

#[cfg(any(feature = "balance", feature = "discover", feature = "make"))]
mod sealed {
    /// A supertrait that only this crate can implement, so that the traits
    /// it seals are implemented exactly by their blanket impls.
    pub trait Sealed<T> {}
}

/// A boxed error that can cross threads: what middleware that adds failures
/// of its own returns.
///
/// Errors that donjon's middleware produces are concrete types boxed into a
/// `BoxError`; find out which one with [`Error::is`](std::error::Error) and
/// `downcast_ref`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The workspace README's examples, run as doctests.
#[cfg(all(doctest, feature = "util"))]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;

/// This crate's README examples, run as doctests.
#[cfg(all(doctest, feature = "util"))]
#[doc = include_str!("../README.md")]
struct CrateReadme;
