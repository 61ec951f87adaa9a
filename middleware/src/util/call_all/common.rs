//! The loop shared by [`CallAll`](super::CallAll) and
//! [`CallAllUnordered`](super::CallAllUnordered); they differ only in the
//! queue that holds the response futures.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use futures_core::Stream;
use futures_util::stream::{FuturesOrdered, FuturesUnordered};
use pin_project::pin_project;

/// A queue of in-flight response futures.
pub(super) trait Queue<F: Future>: Default {
    fn push(&mut self, future: F);
    fn is_empty(&self) -> bool;
    /// Polls for the next finished response; `Ready(None)` when empty.
    fn poll_next_finished(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>>;
}

impl<F: Future> Queue<F> for FuturesOrdered<F> {
    fn push(&mut self, future: F) {
        self.push_back(future);
    }

    fn is_empty(&self) -> bool {
        FuturesOrdered::is_empty(self)
    }

    fn poll_next_finished(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        Pin::new(self).poll_next(cx)
    }
}

impl<F: Future> Queue<F> for FuturesUnordered<F> {
    fn push(&mut self, future: F) {
        FuturesUnordered::push(self, future);
    }

    fn is_empty(&self) -> bool {
        FuturesUnordered::is_empty(self)
    }

    fn poll_next_finished(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        Pin::new(self).poll_next(cx)
    }
}

pub(super) const TAKEN: &str = "Using CallAll after extracting inner Service";

#[pin_project]
pub(super) struct CallAllCore<S, St, Q>
where
    St: Stream,
{
    service: Option<S>,
    #[pin]
    stream: St,
    queue: Q,
    /// Set once the request stream has ended, or the service has failed:
    /// no more calls are made.
    eof: bool,
    /// A request taken from the stream, waiting for the service to be
    /// ready.
    request: Option<St::Item>,
}

impl<S, St, Q> CallAllCore<S, St, Q>
where
    S: Service<St::Item>,
    St: Stream,
    Q: Queue<S::Future>,
{
    pub(super) fn new(service: S, stream: St) -> Self {
        CallAllCore {
            service: Some(service),
            stream,
            queue: Q::default(),
            eof: false,
            request: None,
        }
    }

    pub(super) fn into_inner(mut self) -> S {
        self.service.take().expect("Service already taken")
    }

    pub(super) fn take_service(self: Pin<&mut Self>) -> S {
        self.project()
            .service
            .take()
            .expect("Service already taken")
    }

    /// Moves the service and stream into a core with another kind of queue.
    ///
    /// # Panics
    ///
    /// If responses are in flight or the stream has ended, since those
    /// cannot move across.
    pub(super) fn with_queue<Q2: Queue<S::Future>>(self) -> CallAllCore<S, St, Q2> {
        assert!(
            self.queue.is_empty() && !self.eof,
            "CallAll::unordered called too late: responses are already in flight or the request stream has ended"
        );
        CallAllCore {
            service: self.service,
            stream: self.stream,
            queue: Q2::default(),
            eof: false,
            request: self.request,
        }
    }

    pub(super) fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<S::Response, S::Error>>> {
        let mut this = self.project();
        loop {
            if let Poll::Ready(Some(response)) = this.queue.poll_next_finished(cx) {
                return Poll::Ready(Some(response));
            }
            if *this.eof {
                return if this.queue.is_empty() {
                    Poll::Ready(None)
                } else {
                    Poll::Pending
                };
            }
            if this.request.is_none() {
                match ready!(this.stream.as_mut().poll_next(cx)) {
                    Some(request) => *this.request = Some(request),
                    None => {
                        *this.eof = true;
                        continue;
                    }
                }
            }
            // Readiness is only asked for with a request in hand, so an idle
            // stream never holds on to the service's capacity.
            let service = this.service.as_mut().expect(TAKEN);
            if let Err(error) = ready!(service.poll_ready(cx)) {
                *this.eof = true;
                return Poll::Ready(Some(Err(error)));
            }
            let request = this.request.take().expect("a request is held");
            this.queue.push(service.call(request));
        }
    }
}

/// Prints as `CallAll { service, stream, eof }`: the `inner` field of both
/// public streams' `Debug`, in the shape tower prints.
impl<S, St, Q> fmt::Debug for CallAllCore<S, St, Q>
where
    S: fmt::Debug,
    St: Stream + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallAll")
            .field("service", &self.service)
            .field("stream", &self.stream)
            .field("eof", &self.eof)
            .finish()
    }
}
