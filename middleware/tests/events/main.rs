//! The `tracing` events of the middleware, and the spans carried across
//! their task hops, in one test binary: a subscriber set for one test sees
//! every event only when no other test registers the same callsites
//! concurrently without one, so these callsites are exercised nowhere else
//! with a subscriber.

#[path = "../support/mod.rs"]
mod support;

#[cfg(feature = "limit")]
mod adaptive;
#[cfg(feature = "balance")]
mod balance;
#[cfg(feature = "buffer")]
mod buffer;
#[cfg(feature = "limit")]
mod concurrency;
#[cfg(all(feature = "deadline", feature = "tracing", feature = "util"))]
mod deadline;
#[cfg(all(feature = "fallback", feature = "tracing"))]
mod fallback;
#[cfg(feature = "limit")]
mod gcra;
#[cfg(feature = "hedge")]
mod hedge;
#[cfg(all(feature = "load-shed", feature = "limit"))]
mod load_shed;
#[cfg(all(feature = "priority", feature = "tracing", feature = "util"))]
mod priority;
#[cfg(feature = "limit")]
mod rate;
#[cfg(feature = "reconnect")]
mod reconnect;
#[cfg(all(feature = "retry", feature = "tracing"))]
mod retry;
#[cfg(feature = "spawn-ready")]
mod spawn_ready;
#[cfg(all(feature = "throttle", feature = "tracing"))]
mod throttle;

use std::future::{Ready, ready};
use std::task::{Context, Poll};

use donjon::{BoxError, Service};

use support::{capture, lines_with};

/// Always ready; emits an `inner called` event on each call, in whatever
/// span is current, then echoes the request.
#[derive(Clone, Copy, Debug, Default)]
struct Traced;

impl<T> Service<T> for Traced {
    type Response = T;
    type Error = BoxError;
    type Future = Ready<Result<T, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: T) -> Self::Future {
        tracing::info!("inner called");
        ready(Ok(request))
    }
}

/// Its first `poll_ready` is `Pending` (waking the task itself); each later
/// one emits an `inner ready` event, in whatever span is current, saying
/// whether it runs in a spawned task, and is ready. Echoes requests.
#[derive(Clone, Copy, Debug, Default)]
struct ReadyLater {
    polled: bool,
}

impl<T> Service<T> for ReadyLater {
    type Response = T;
    type Error = BoxError;
    type Future = Ready<Result<T, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if !self.polled {
            self.polled = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        tracing::info!(spawned = tokio::task::try_id().is_some(), "inner ready");
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: T) -> Self::Future {
        ready(Ok(request))
    }
}
