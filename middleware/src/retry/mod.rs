//! Retry failed requests, as a [`Policy`] decides.
//!
//! [`Retry`] sends a request; when it finishes, the policy looks at the
//! request and the outcome and either accepts the outcome or asks for
//! another attempt, after a delay of its choosing (a [`backoff`]). To keep
//! retries from multiplying load on a struggling service, a policy
//! typically also draws on a retry [`budget`]: retries are allowed only up
//! to a share of the first attempts.
//!
//! The request is cloned for each attempt (the policy does the cloning, so
//! it decides what can be retried), and the inner service is cloned into
//! each response future whose request was copied, so it should be cheap to
//! clone (put a
//! [`Buffer`](crate::buffer::Buffer) in front of one that is not).
//!
//! Feature: `retry`.
//!
//! # Examples
//!
//! ```
//! use std::future::{Ready, ready};
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use donjon::{BoxError, ServiceBuilder, ServiceExt, service_fn};
//! use donjon::retry::Policy;
//!
//! /// Retries failed requests up to `attempts_left` more times, at once.
//! #[derive(Clone)]
//! struct Attempts {
//!     attempts_left: usize,
//! }
//!
//! impl<Req: Clone, Res, E> Policy<Req, Res, E> for Attempts {
//!     type Future = Ready<()>;
//!
//!     fn retry(&mut self, _req: &mut Req, result: &mut Result<Res, E>) -> Option<Self::Future> {
//!         if result.is_err() && self.attempts_left > 0 {
//!             self.attempts_left -= 1;
//!             Some(ready(()))
//!         } else {
//!             None
//!         }
//!     }
//!
//!     fn clone_request(&mut self, req: &Req) -> Option<Req> {
//!         Some(req.clone())
//!     }
//! }
//!
//! # futures::executor::block_on(async {
//! // A service that fails twice, then succeeds.
//! let calls = Arc::new(AtomicUsize::new(0));
//! let flaky = service_fn(move |n: u32| {
//!     let call = calls.fetch_add(1, Ordering::SeqCst);
//!     async move { if call < 2 { Err(BoxError::from("flaked")) } else { Ok(n) } }
//! });
//!
//! let service = ServiceBuilder::new().retry(Attempts { attempts_left: 3 }).service(flaky);
//! assert_eq!(service.oneshot(7).await?, 7);
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! ```
//!
//! # Events
//!
//! With the `tracing` feature, a `debug` event `retry: the policy asked for
//! another attempt` each time the policy decides to retry, with `after`
//! (`error` or `response`: what the attempt that just ended gave), in the
//! span of whoever polls the response future. The events of the retry
//! budget are in [`budget`].

pub mod backoff;
pub mod budget;
pub mod future;
mod layer;
mod policy;
mod service;

pub use self::layer::RetryLayer;
pub use self::policy::Policy;
pub use self::service::Retry;
