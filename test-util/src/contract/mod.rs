//! A contract test kit: one call that puts a [`Layer`](donjon_layer::Layer)
//! around [`mock`](crate::mock) services and checks that the middleware it
//! makes keeps the readiness contract.
//!
//! Use it in the tests of every middleware, next to the tests of what the
//! middleware is for: it catches the readiness bugs that are easy to write
//! and hard to see (a swallowed `Pending`, a lost wake-up, a permit leaked
//! by a dropped future, a clone that inherits a reservation, a hidden
//! error). [`Contract::new`] takes the layer and a function making the
//! requests to send; [`Contract::check`] runs the [`Rule`]s, each on a fresh
//! service around a fresh mock, and panics with a [`Report`] naming each
//! rule that broke and what was observed. [`Contract::check_cloneable`], for
//! a `Clone` service, also runs the checks that need a clone.
//! [`Contract::report`] and [`Contract::report_cloneable`] return the report
//! instead.
//!
//! # Rules
//!
//! | [`Rule`] | the middleware... |
//! |---|---|
//! | [`PendingPropagates`](Rule::PendingPropagates) | is `Pending` while the inner service is, and ready once it is |
//! | [`WakeupReachesCaller`](Rule::WakeupReachesCaller) | passes the inner service's wake-up on to the caller |
//! | [`OneCallPerReady`](Rule::OneCallPerReady) | calls the inner service at most once per call, and only when it is ready |
//! | [`DropReleases`](Rule::DropReleases) | is ready again after N dropped response futures |
//! | [`CloneStartsUnready`](Rule::CloneStartsUnready) | gives a clone no readiness, and keeps the original's (`Clone` services only) |
//! | [`ErrorSurfaces`](Rule::ErrorSurfaces) | passes an inner `poll_ready` error on to the caller |
//!
//! A middleware that legitimately differs declares it with
//! [`Contract::skip`] and the reason, which the report shows: a load
//! shedder is ready while its inner service is not; a buffer is ready while
//! its queue has room. A bug that is not fixed yet is declared the same
//! way, with a reason starting `known bug:`.
//!
//! The mock's request and response types are the type parameters of the
//! checks (`check::<&str, &str>()`); the requests sent to the middleware
//! are made by the function given to [`Contract::new`], so a middleware that
//! maps requests can take another type than the mock.
//!
//! # Runtime
//!
//! The checks are `async` and drive the service with mock tasks, so they
//! run on any executor (`tokio_test::block_on`, say). Between steps they
//! yield to the executor, so that tasks the middleware spawned (a buffer's
//! worker, a readiness driver) can run. A middleware that needs a tokio
//! runtime (timers, `tokio::spawn`) is checked from inside one: in a
//! `#[tokio::test]`, with the default current-thread flavor (on a
//! multi-threaded runtime, spawned tasks are not guaranteed to have run when
//! the kit looks). Use `#[tokio::test(start_paused = true)]` so that no
//! timer fires during the checks: the kit never advances the clock, and
//! configures nothing with a duration, so a timeout or a rate limit must
//! leave room for the few requests the checks send.
//!
//! Panics of the middleware and of the mock are caught and reported; the
//! panic hook still prints them, which the test harness only shows for
//! failing tests.
//!
//! # Examples
//!
//! Checking a middleware that trims its requests:
//!
//! ```
//! use std::task::{Context, Poll};
//! use donjon_layer::layer_fn;
//! use donjon_service::Service;
//! use donjon_test::contract::Contract;
//!
//! /// The middleware under test.
//! #[derive(Clone)]
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
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // In a `#[tokio::test] async fn`:
//! Contract::new(layer_fn(|inner| Trim { inner }), || "  hello  ")
//!     .check_cloneable::<&str, &str>()
//!     .await;
//! # }
//! ```
//!
//! Declaring an exception: a middleware that never makes its caller wait,
//! and fails the call instead when the inner service is not ready.
//!
//! ```
//! use std::future::Future;
//! use std::pin::Pin;
//! use std::task::{Context, Poll};
//! use donjon_layer::layer_fn;
//! use donjon_service::Service;
//! use donjon_test::contract::{Contract, Rule};
//! use donjon_test::mock::{Mock, future::ResponseFuture};
//!
//! type BoxError = Box<dyn std::error::Error + Send + Sync>;
//!
//! struct Shed {
//!     inner: Mock<&'static str, &'static str>,
//!     inner_ready: bool,
//! }
//!
//! impl Service<&'static str> for Shed {
//!     type Response = &'static str;
//!     type Error = BoxError;
//!     type Future = ShedFuture;
//!
//!     fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
//!         if !self.inner_ready {
//!             match self.inner.poll_ready(cx) {
//!                 Poll::Ready(Ok(())) => self.inner_ready = true,
//!                 Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
//!                 Poll::Pending => {}
//!             }
//!         }
//!         Poll::Ready(Ok(()))
//!     }
//!
//!     fn call(&mut self, request: &'static str) -> ShedFuture {
//!         if std::mem::take(&mut self.inner_ready) {
//!             ShedFuture(Some(self.inner.call(request)))
//!         } else {
//!             ShedFuture(None)
//!         }
//!     }
//! }
//!
//! /// The inner response, or `None` for a shed request.
//! struct ShedFuture(Option<ResponseFuture<&'static str>>);
//!
//! impl Future for ShedFuture {
//!     type Output = Result<&'static str, BoxError>;
//!
//!     fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
//!         match &mut self.0 {
//!             Some(response) => Pin::new(response).poll(cx),
//!             None => Poll::Ready(Err("overloaded".into())),
//!         }
//!     }
//! }
//!
//! # tokio_test::block_on(async {
//! let shed = layer_fn(|inner| Shed { inner, inner_ready: false });
//! let report = Contract::new(shed, || "hello")
//!     .skip(Rule::PendingPropagates, "sheds the call instead of waiting: always ready")
//!     .report::<&str, &str>()
//!     .await;
//! assert!(report.is_ok(), "{report}");
//!
//! // Without the exception, the kit names the rule and what it saw.
//! let report = Contract::new(shed, || "hello").report::<&str, &str>().await;
//! assert_eq!(report.broken(), [Rule::PendingPropagates]);
//! assert_eq!(
//!     report.violations()[0].observed(),
//!     "poll_ready returned Ready(Ok(())) while the inner service was not ready",
//! );
//! # });
//! ```

mod check;
mod harness;
mod report;
mod rule;
mod scenarios;

pub use self::check::Contract;
pub use self::report::{Report, Violation};
pub use self::rule::Rule;
