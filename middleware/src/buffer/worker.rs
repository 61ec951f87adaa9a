use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use donjon_service::Service;

use super::channel::{Channel, Envelope, Next, Reply, WorkerError};
use super::error::ServiceError;
use super::slot::{ServiceSlot, panicked};
use crate::BoxError;

/// How many requests the worker handles in one poll before it yields to
/// other tasks.
const REQUESTS_PER_POLL: usize = 64;

/// The task behind a [`Buffer`](super::Buffer): it owns the inner service,
/// takes requests off the queue in order, drives the service to readiness
/// and calls it.
///
/// [`Buffer::new`](super::Buffer::new) spawns it; [`Buffer::pair`](super::Buffer::pair)
/// returns it, to be polled to completion by the caller. It completes once
/// every `Buffer` handle is dropped and the queue is empty, or once the
/// inner service fails. Each request's `poll_ready` and `call` run inside
/// the `tracing` span that was current when the request was sent.
///
/// Dropping it before it completes fails every queued request, and every
/// later one, with [`Closed`](super::error::Closed).
#[must_use = "the buffer's requests are only served while the worker is polled"]
pub struct Worker<T, Request>
where
    T: Service<Request>,
{
    service: Arc<ServiceSlot<T>>,
    /// Set once the worker has finished; the service stays until the
    /// worker is dropped.
    finished: bool,
    channel: Arc<Channel<Request, T::Future>>,
    /// A request taken off the queue, waiting for the service to be ready.
    held: Option<Envelope<Request, T::Future>>,
}

// The service is only ever used through `&mut`, never pinned.
impl<T, Request> Unpin for Worker<T, Request> where T: Service<Request> {}

impl<T, Request> Worker<T, Request>
where
    T: Service<Request>,
{
    pub(super) fn new(
        service: Arc<ServiceSlot<T>>,
        channel: Arc<Channel<Request, T::Future>>,
    ) -> Self {
        Worker {
            service,
            finished: false,
            channel,
            held: None,
        }
    }
}

impl<T, Request> Worker<T, Request>
where
    T: Service<Request>,
    T::Error: Into<BoxError>,
{
    /// The inner service failed: every request in the queue, and every
    /// later one, gets the error, and the worker finishes.
    fn fail(&mut self, cause: BoxError, current: &Reply<T::Future>) {
        tracing::debug!(error = %cause, "buffered service failed; closing the buffer");
        let error = WorkerError::Failed(ServiceError::new(cause));
        // Closed first: a caller woken by its failed request then finds the
        // buffer closed too.
        self.channel.close(error.share());
        current.failed(&error);
        self.finished = true;
    }
}

impl<T, Request> Future for Worker<T, Request>
where
    T: Service<Request>,
    T::Error: Into<BoxError>,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(());
        }
        if let Some(error) = this.channel.worker_error() {
            // A handle calling the service directly found it failed, and
            // closed the buffer.
            if let Some(held) = this.held.take() {
                held.reply.failed(&error);
                this.channel.finished_one();
            }
            this.finished = true;
            return Poll::Ready(());
        }
        // Locked per request, so that handles calling the service directly
        // wait at most one `poll_ready` and `call`.
        let slot = Arc::clone(&this.service);
        for _ in 0..REQUESTS_PER_POLL {
            let envelope = match this.held.take() {
                Some(held) if held.reply.is_cancelled() => {
                    this.channel.finished_one();
                    continue;
                }
                Some(held) => held,
                None => match this.channel.recv(cx) {
                    Next::Envelope(envelope) => {
                        if !envelope.reply.taken_off_queue() {
                            // The caller gave up: skip the request.
                            this.channel.finished_one();
                            continue;
                        }
                        envelope
                    }
                    Next::Empty => return Poll::Pending,
                    Next::Done => {
                        tracing::trace!(
                            "the buffer is closed or every handle is gone; the worker ends"
                        );
                        this.finished = true;
                        return Poll::Ready(());
                    }
                },
            };

            let mut guard = slot.lock();
            let Some(service) = guard.as_mut() else {
                // Only the worker's drop clears the slot: not reached.
                this.held = Some(envelope);
                this.finished = true;
                return Poll::Ready(());
            };
            let readiness = {
                let _entered = envelope.span.enter();
                catch_unwind(AssertUnwindSafe(|| service.poll_ready(cx)))
            };
            match readiness {
                Ok(Poll::Pending) => {
                    this.held = Some(envelope);
                    // Woken too if the last handle goes, in case the held
                    // request is cancelled and the worker should end.
                    this.channel.park_holding(cx);
                    return Poll::Pending;
                }
                Ok(Poll::Ready(Ok(()))) => {}
                Ok(Poll::Ready(Err(error))) => {
                    this.fail(error.into(), &envelope.reply);
                    return Poll::Ready(());
                }
                Err(panic) => {
                    this.fail(panicked(panic), &envelope.reply);
                    return Poll::Ready(());
                }
            }

            let Envelope {
                request,
                span,
                reply,
            } = envelope;
            let called = {
                let _entered = span.enter();
                catch_unwind(AssertUnwindSafe(|| service.call(request)))
            };
            match called {
                Ok(future) => {
                    reply.called(future);
                    this.channel.finished_one();
                }
                Err(panic) => {
                    this.fail(panicked(panic), &reply);
                    return Poll::Ready(());
                }
            }
        }
        // Let other tasks run; come back at once.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<T, Request> Drop for Worker<T, Request>
where
    T: Service<Request>,
{
    fn drop(&mut self) {
        // If the service failed, the channel already carries that error.
        let error = WorkerError::Closed;
        self.channel.close(error.share());
        if let Some(held) = self.held.take() {
            held.reply.failed(&error);
        }
        // The worker owns the service: it goes with the worker.
        drop(self.service.clear());
    }
}

impl<T, Request> fmt::Debug for Worker<T, Request>
where
    T: Service<Request> + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("service", &self.service)
            .field("finished", &self.finished)
            .field("holds_a_request", &self.held.is_some())
            .finish_non_exhaustive()
    }
}
