//! Share one service between many callers, through a queue and a
//! background worker.
//!
//! [`Buffer`] owns nothing but a handle on a bounded queue: the inner
//! service lives in a worker task that takes requests off the queue in
//! order, waits for the service to be ready, and calls it. The handle is
//! cheap to clone (so it suits middleware like [`Retry`](crate::retry::Retry)
//! that clones its service) and is `Send` and `Sync` whenever the request and
//! response future are `Send`, even if the inner service is neither `Clone`
//! nor `Sync`.
//!
//! The worker hands the inner response future back to the caller, which
//! polls it in its own task: the worker only ever drives readiness and
//! calls, so a slow response does not hold up the queue.
//!
//! Feature: `buffer`.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let service = ServiceBuilder::new()
//!     .buffer(32)
//!     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n * 2) });
//!
//! // Clones share the queue and the one inner service.
//! let tasks: Vec<_> = (1..=3)
//!     .map(|n| tokio::spawn(service.clone().oneshot(n)))
//!     .collect();
//! let mut answers = Vec::new();
//! for task in tasks {
//!     answers.push(task.await??);
//! }
//! assert_eq!(answers, [2, 4, 6]);
//! # Ok(())
//! # }
//! ```
//!
//! # Queue discipline
//!
//! First come, first served by default; [`Buffer::with_queue`] (or
//! [`BufferLayer::with_queue`]) bounds how long requests wait in the queue
//! with CoDel, refusing the late ones with
//! [`Overloaded`](error::Overloaded), or serves the newest first once the
//! queue stands; [`Buffer::queue_delay`] tells how long the oldest request
//! has waited. See [`Buffer`'s `# Queue discipline`](Buffer#queue-discipline).
//!
//! # Events
//!
//! Each request's `poll_ready` and `call` run in the span that was current
//! when it was sent. With a queue discipline that refuses, `debug`
//! `buffer: requests waited past the queue's delay target and were
//! refused`, with `refused` (the requests refused so far), once per run of
//! refusals: at the end of the worker's poll that started it (a run ends
//! when a request is served). Once, as the buffer closes:
//! - `warn` `buffer: the inner service failed; the buffer is closed`, with
//!   `error` and `failed` (the requests waiting that get the error);
//! - `debug` `buffer: the worker is gone; the buffer is closed`, with
//!   `failed`, when the worker ends or is dropped without a failure.

mod channel;
pub mod error;
pub mod future;
mod layer;
mod service;
mod slot;
mod worker;

pub use self::layer::BufferLayer;
pub use self::service::Buffer;
pub use self::worker::Worker;
pub use crate::discipline::{QueueDelay, QueueDiscipline};
