use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use donjon_service::Service;
use tokio::time::{Instant, Sleep};

use super::channel::{Channel, Envelope, Holding, Next, Reply, WorkerError};
use super::slot::{ServiceSlot, call, poll_ready};
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
///
/// With a [queue discipline](super::Buffer#queue-discipline) that refuses
/// (CoDel), it refuses the requests whose time has come, even while the
/// inner service is not ready: it then needs tokio's timer (a runtime with
/// its time driver enabled).
#[must_use = "the buffer's requests are only served while the worker is polled"]
pub struct Worker<S, Req>
where
    S: Service<Req>,
{
    service: Arc<ServiceSlot<S>>,
    /// Set once the worker has finished; the service stays until the
    /// worker is dropped.
    finished: bool,
    channel: Arc<Channel<Req, S::Future>>,
    /// A request taken off the queue, waiting for the service to be ready.
    held: Option<Envelope<Req, S::Future>>,
    /// With a queue discipline that refuses: the timer that wakes the
    /// worker, while it holds a request, when that request's or the front
    /// one's time comes. Made when first needed, then reset.
    alarm: Option<Pin<Box<Sleep>>>,
    /// Requests refused since one was last served: a run of refusals.
    refused: usize,
    /// The current run of refusals was reported.
    reported: bool,
}

// The service is only ever used through `&mut`, never pinned.
impl<S, Req> Unpin for Worker<S, Req> where S: Service<Req> {}

impl<S, Req> Worker<S, Req>
where
    S: Service<Req>,
{
    pub(super) fn new(service: Arc<ServiceSlot<S>>, channel: Arc<Channel<Req, S::Future>>) -> Self {
        Worker {
            service,
            finished: false,
            channel,
            held: None,
            alarm: None,
            refused: 0,
            reported: false,
        }
    }

    /// Completes the worker; the service stays until it is dropped.
    fn finish(&mut self) -> Poll<()> {
        self.finished = true;
        Poll::Ready(())
    }

    /// Fails the held request, if any, through the one failure path
    /// ([`Channel::close`]), with the error the channel closed with (or
    /// `error` if it is still open), and every queued one.
    fn close(&mut self, error: WorkerError) {
        let held = self.held.take();
        self.channel
            .close(error, held.as_ref().map(|held| &*held.reply));
    }
}

/// What became of a request the worker served.
enum Served<Req, F> {
    /// The service was called; its caller has the response future.
    Called,
    /// The service is not ready: the worker holds the request.
    NotReady(Envelope<Req, F>),
    /// The service failed (its readiness errored, or it panicked) while
    /// serving the request answered through the reply.
    Failed(Arc<Reply<F>>, BoxError),
}

impl<S, Req> Worker<S, Req>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    /// Serves the next request: takes it ([`next_request`](Self::next_request)),
    /// drives the service to readiness and calls it ([`serve`](Self::serve)),
    /// or holds it, or fails. Breaks with what `poll` returns when the
    /// worker waits or is done.
    fn serve_next(&mut self, cx: &mut Context<'_>) -> ControlFlow<Poll<()>> {
        let Some(envelope) = self.next_request(cx)? else {
            return ControlFlow::Continue(());
        };
        match self.serve(envelope, cx) {
            Served::Called => {
                if self.refused != 0 {
                    self.end_refusals();
                }
                ControlFlow::Continue(())
            }
            Served::NotReady(envelope) => self.hold(envelope, cx),
            Served::Failed(reply, cause) => {
                self.channel.fail(cause, Some(&reply));
                ControlFlow::Break(self.finish())
            }
        }
    }

    /// The request to serve next: the one held, or the next in the queue;
    /// `None` when it was cancelled, and skipped, or refused by the queue
    /// discipline. Breaks when the queue is empty (`Pending`, woken by the
    /// next request) or the worker is done.
    fn next_request(
        &mut self,
        cx: &mut Context<'_>,
    ) -> ControlFlow<Poll<()>, Option<Envelope<Req, S::Future>>> {
        let wanted = match self.held.take() {
            Some(held) if held.reply.is_cancelled() => None,
            Some(held) if held.refuse_at().is_some_and(|at| at <= Instant::now()) => {
                self.refuse(&held);
                return ControlFlow::Continue(None);
            }
            Some(held) => Some(held),
            None => match self.channel.recv(cx) {
                // Frees the request's place in the queue.
                Next::Envelope(envelope) => envelope.reply.taken_off_queue().then_some(envelope),
                Next::Refused(envelope) => {
                    self.refuse(&envelope);
                    return ControlFlow::Continue(None);
                }
                Next::Empty => return ControlFlow::Break(Poll::Pending),
                Next::Done => {
                    tracing::trace!(
                        "the buffer is closed or every handle is gone; the worker ends"
                    );
                    return ControlFlow::Break(self.finish());
                }
            },
        };
        if wanted.is_none() {
            // The caller gave up: the request is never sent.
            self.channel.finished(1);
        }
        ControlFlow::Continue(wanted)
    }

    /// Drives the service to readiness for `envelope`, and calls it once
    /// ready, in the span the request was sent in.
    ///
    /// The service is locked per request, so that handles calling it
    /// directly wait at most one `poll_ready` and `call`.
    fn serve(
        &self,
        envelope: Envelope<Req, S::Future>,
        cx: &mut Context<'_>,
    ) -> Served<Req, S::Future> {
        let mut guard = self.service.lock();
        let service = guard
            .as_mut()
            .expect("the buffer's service is only taken when its worker is dropped");
        let readiness = {
            let _entered = envelope.span.enter();
            poll_ready(service, cx)
        };
        match readiness {
            Poll::Ready(Ok(())) => {}
            Poll::Pending => return Served::NotReady(envelope),
            Poll::Ready(Err(cause)) => return Served::Failed(envelope.reply, cause),
        }
        let Envelope {
            request,
            span,
            reply,
            stamp: _,
        } = envelope;
        let called = {
            let _entered = span.enter();
            call(service, request)
        };
        match called {
            Ok(future) => {
                reply.called(future);
                self.channel.finished(1);
                Served::Called
            }
            Err(cause) => Served::Failed(reply, cause),
        }
    }

    /// Holds `envelope` until the service is ready; with a queue
    /// discipline that refuses, meanwhile refuses the requests at the front
    /// of the queue whose time has come, and sets the alarm for the next
    /// refusal. Breaks with `Pending`, or continues when a refusal is due
    /// now.
    fn hold(
        &mut self,
        envelope: Envelope<Req, S::Future>,
        cx: &mut Context<'_>,
    ) -> ControlFlow<Poll<()>> {
        let held_refuse_at = envelope.refuse_at();
        self.held = Some(envelope);
        loop {
            // Woken too if the last handle goes, in case the held request is
            // cancelled and the worker should end.
            match self.channel.park_holding(cx, held_refuse_at) {
                Holding::Wait(None) => return ControlFlow::Break(Poll::Pending),
                Holding::Wait(Some(at)) => return self.wake_at(at, cx),
                Holding::Refuse(envelope) => self.refuse(&envelope),
            }
        }
    }

    /// Arms the alarm to wake the worker at `at`; continues at once if
    /// that time has come.
    fn wake_at(&mut self, at: Instant, cx: &mut Context<'_>) -> ControlFlow<Poll<()>> {
        if at <= Instant::now() {
            return ControlFlow::Continue(());
        }
        let alarm = crate::time::reset_sleep(&mut self.alarm, at);
        if alarm.as_mut().poll(cx).is_ready() {
            // Not before `at`, which has not come: come back at once
            // rather than miss it.
            cx.waker().wake_by_ref();
        }
        ControlFlow::Break(Poll::Pending)
    }

    /// Refuses `envelope`, taken off the queue or held, whose time under the
    /// queue discipline has come: its caller gets `Overloaded`, unless it
    /// gave up already.
    fn refuse(&mut self, envelope: &Envelope<Req, S::Future>) {
        if envelope.reply.refused() {
            self.refused += 1;
        }
        self.channel.finished(1);
    }

    /// A request was served after a run of refusals: the next refusal
    /// starts another.
    #[cold]
    fn end_refusals(&mut self) {
        self.report_refusals();
        self.refused = 0;
        self.reported = false;
    }

    /// Reports the current run of refusals, once.
    #[cold]
    fn report_refusals(&mut self) {
        if !self.reported {
            self.reported = true;
            tracing::debug!(
                refused = self.refused,
                "buffer: requests waited past the queue's delay target and were refused"
            );
        }
    }
}

impl<S, Req> Future for Worker<S, Req>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(());
        }
        if this.channel.is_closed() {
            // A handle calling the service directly found it failed, and
            // closed the buffer: the held request gets that error.
            this.close(WorkerError::Closed);
            return this.finish();
        }
        let poll = this.serve_some(cx);
        if this.refused != 0 {
            // Once per run of refusals, with those of this poll.
            this.report_refusals();
        }
        poll
    }
}

impl<S, Req> Worker<S, Req>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    /// Serves up to [`REQUESTS_PER_POLL`] requests.
    fn serve_some(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        for _ in 0..REQUESTS_PER_POLL {
            if let ControlFlow::Break(poll) = self.serve_next(cx) {
                return poll;
            }
        }
        // Let other tasks run; come back at once.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<S, Req> Drop for Worker<S, Req>
where
    S: Service<Req>,
{
    fn drop(&mut self) {
        // If the service failed, the channel already carries that error.
        self.close(WorkerError::Closed);
        // The worker owns the service: it goes with the worker.
        drop(self.service.clear());
    }
}

impl<S, Req> fmt::Debug for Worker<S, Req>
where
    S: Service<Req> + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("service", &self.service)
            .field("finished", &self.finished)
            .field("holds_a_request", &self.held.is_some())
            .finish_non_exhaustive()
    }
}
