use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use futures_util::TryFutureExt;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::SpawnReadyLayer;
use super::future::ResponseFuture;
use crate::BoxError;
use crate::util::ServiceExt;

/// Drives the inner service to readiness in a spawned task when it is not
/// ready at once.
///
/// `poll_ready` polls the inner service; if it is `Pending`, the service is
/// moved into a `tokio::spawn`ed task (running in the caller's current
/// `tracing` span) that polls it until it is ready, and `poll_ready` returns
/// `Pending` until that task hands the service back, waking the caller.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: the inner service's errors as they
/// are, and the [`JoinError`](tokio::task::JoinError) of a background task
/// that panicked or was cancelled (by the runtime shutting down).
///
/// # Cancellation
///
/// Dropping the `SpawnReady` aborts its background task, which drops the
/// inner service.
///
/// # Panics
///
/// `poll_ready` needs a tokio runtime when the inner service is not ready at
/// once. `call` panics without a preceding `poll_ready` returning
/// `Ready(Ok(()))`, and `poll_ready` panics when called again after it
/// returned an error (the service is gone).
#[derive(Debug)]
pub struct SpawnReady<S> {
    state: State<S>,
}

#[derive(Debug)]
enum State<S> {
    /// The service is here (`None` once it has failed).
    Held(Option<S>),
    /// The service is in a background task, being driven to readiness.
    Spawned(JoinHandle<Result<S, BoxError>>),
}

impl<S> SpawnReady<S> {
    /// Wraps `service`.
    pub const fn new(service: S) -> Self {
        SpawnReady {
            state: State::Held(Some(service)),
        }
    }

    /// Returns a layer that wraps services in a `SpawnReady`.
    pub fn layer() -> SpawnReadyLayer {
        SpawnReadyLayer::new()
    }
}

impl<S> Drop for SpawnReady<S> {
    fn drop(&mut self) {
        if let State::Spawned(task) = &self.state {
            task.abort();
        }
    }
}

const GONE: &str = "SpawnReady::poll_ready called after it returned an error: the service is gone";

impl<S, Req> Service<Req> for SpawnReady<S>
where
    Req: 'static,
    S: Service<Req> + Send + 'static,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        loop {
            match &mut self.state {
                State::Held(held) => {
                    let service = held.as_mut().expect(GONE);
                    match service.poll_ready(cx) {
                        Poll::Ready(Ok(())) => return Poll::Ready(Ok(())),
                        Poll::Ready(Err(error)) => {
                            *held = None;
                            return Poll::Ready(Err(error.into()));
                        }
                        Poll::Pending => {}
                    }
                    let service = held.take().expect(GONE);
                    let ready = service.ready_oneshot().map_err(Into::into);
                    let task = tokio::spawn(ready.instrument(tracing::Span::current()));
                    self.state = State::Spawned(task);
                }
                State::Spawned(task) => {
                    let outcome = ready!(Pin::new(task).poll(cx));
                    match outcome {
                        Ok(Ok(service)) => self.state = State::Held(Some(service)),
                        Ok(Err(error)) => {
                            self.state = State::Held(None);
                            return Poll::Ready(Err(error));
                        }
                        Err(join_error) => {
                            self.state = State::Held(None);
                            return Poll::Ready(Err(join_error.into()));
                        }
                    }
                }
            }
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        match &mut self.state {
            State::Held(Some(service)) => ResponseFuture::new(
                service
                    .call(request)
                    .map_err(Into::into as fn(S::Error) -> BoxError),
            ),
            _ => {
                panic!("poll_ready must be called and return Ready(Ok(())) before SpawnReady::call")
            }
        }
    }
}
