//! Mock services and assertions for testing donjon middleware.
//!
//! Middleware wraps an inner service, so testing it means playing that inner
//! service: deciding when it is ready, looking at the requests that reach
//! it, and answering them. The [`mock`] module gives you a
//! [`Mock`](mock::Mock) service to wrap and a [`Handle`](mock::Handle) to
//! play it with; [`assert_request_eq!`] takes the next request off the
//! handle and checks it.
//!
//! The services built by [`mock::spawn`](mock::spawn()), [`mock::spawn_with`] and
//! [`mock::spawn_layer`] come wrapped in a [`mock::Spawn`], which polls
//! them without an executor and records wake-ups. Response futures are
//! driven the same way with `tokio_test::task::spawn`.
//!
//! The [`contract`] module checks, in one call, that a middleware keeps the
//! readiness contract: [`Contract`](contract::Contract) builds services
//! with a layer around mocks and reports each rule that breaks.
//!
//! With the `redis-server` cargo feature, the [`redis`] module runs a real
//! `redis-server` on loopback for the tests of Redis-backed middleware:
//! [`RedisServer`] starts one on a free port (installing
//! it with `apt-get` when it is missing), stops and restarts it, sends it
//! commands, and kills it on drop. With the `dns-server` feature, the
//! `dns` module runs a real DNS server (hickory's, in process) on loopback,
//! whose records a test changes while it runs.
//!
//! # Examples
//!
//! Testing a small middleware that trims whitespace off its requests:
//!
//! ```
//! use std::task::{Context, Poll};
//! use donjon_layer::layer_fn;
//! use donjon_service::Service;
//! use donjon_test::{assert_request_eq, mock};
//! use tokio_test::{assert_pending, assert_ready_ok, task};
//!
//! /// The middleware under test.
//! struct Trim<S> {
//!     inner: S,
//! }
//!
//! impl<S: Service<&'static str>> Service<&'static str> for Trim<S> {
//!     type Response = S::Response;
//!     type Error = S::Error;
//!     type Future = S::Future;
//!
//!     fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
//!         self.inner.poll_ready(cx)
//!     }
//!
//!     fn call(&mut self, request: &'static str) -> S::Future {
//!         self.inner.call(request.trim())
//!     }
//! }
//!
//! # tokio_test::block_on(async {
//! let (mut service, mut handle) =
//!     mock::spawn_layer(layer_fn(|inner| Trim { inner }));
//!
//! // Readiness passes through, wake-up included.
//! handle.allow(0);
//! assert_pending!(service.poll_ready());
//! handle.allow(1);
//! assert!(service.is_woken());
//! assert_ready_ok!(service.poll_ready());
//!
//! // The inner service sees the trimmed request; its answer comes back.
//! let mut response = task::spawn(service.call("  hello  "));
//! assert_request_eq!(handle, "hello").send_response("world");
//! assert_eq!(assert_ready_ok!(response.poll()), "world");
//! # });
//! ```
// Without the feature, the links of the crate docs go to docs.rs.
#![cfg_attr(
    feature = "redis-server",
    doc = "\n[`RedisServer`]: redis::RedisServer"
)]
#![cfg_attr(
    not(feature = "redis-server"),
    doc = "\n[`redis`]: https://docs.rs/donjon-test/latest/donjon_test/redis/\n\
           [`RedisServer`]: https://docs.rs/donjon-test/latest/donjon_test/redis/struct.RedisServer.html"
)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

pub mod contract;
#[cfg(feature = "dns-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "dns-server")))]
pub mod dns;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
pub mod mock;
#[cfg(feature = "redis-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis-server")))]
pub mod redis;

/// Takes the next request off a mock [`Handle`](mock::Handle) and asserts
/// that it equals the expected one, evaluating to the request's
/// [`SendResponse`](mock::SendResponse).
///
/// The first argument is a `Handle`, a `&mut Handle` or a
/// `Pin<&mut Handle>`; the second is the expected request, compared with
/// [`assert_eq!`]. Any further arguments are passed on to `assert_eq!` as its
/// failure message.
///
/// The macro waits for the request with
/// [`Handle::next_request`](mock::Handle::next_request), so it can only be
/// used in `async` code.
///
/// # Panics
///
/// Panics with `expected a request but none was received.` when every clone
/// of the mock is gone and no request is left, and like `assert_eq!` when the
/// request differs from the expected one.
///
/// # Examples
///
/// ```
/// use donjon_test::{assert_request_eq, mock};
/// use tokio_test::{assert_ready_ok, task};
///
/// # tokio_test::block_on(async {
/// let (mut service, mut handle) = mock::spawn::<u32, u32>();
///
/// assert_ready_ok!(service.poll_ready());
/// let mut first = task::spawn(service.call(1));
/// assert_ready_ok!(service.poll_ready());
/// let mut second = task::spawn(service.call(2));
///
/// assert_request_eq!(handle, 1).send_response(10);
/// assert_request_eq!(&mut handle, 2, "the second call comes second").send_response(20);
///
/// assert_eq!(assert_ready_ok!(first.poll()), 10);
/// assert_eq!(assert_ready_ok!(second.poll()), 20);
/// # });
/// ```
#[macro_export]
macro_rules! assert_request_eq {
    ($mock_handle:expr, $expect:expr) => {
        $crate::assert_request_eq!($mock_handle, $expect,)
    };
    ($mock_handle:expr, $expect:expr, $($arg:tt)*) => {{
        let (actual, send_response) = match $mock_handle.next_request().await {
            ::core::option::Option::Some(request) => request,
            ::core::option::Option::None => {
                ::core::panic!("expected a request but none was received.")
            }
        };
        ::core::assert_eq!(actual, $expect, $($arg)*);
        send_response
    }};
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
