#[cfg(feature = "metrics")]
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use tracing::Span;

use super::channel::{Channel, Envelope, Reply};
use super::future::ResponseFuture;
use super::slot::{Direct, DirectCall, ServiceSlot};
use super::worker::Worker;
use super::{QueueDelay, QueueDiscipline};
use crate::BoxError;
use crate::sync::Place;

/// A handle on a queue of requests to a service that a background worker
/// owns; see the [module documentation](super).
///
/// Note its type parameters: the request type and the **response future
/// type** of the inner service (not the service's type), so that the type
/// can be named without naming the service.
///
/// # Backpressure
///
/// The queue holds `bound` requests. `poll_ready` reserves a place in it for
/// this handle's next call, and is `Pending` while the queue is full; places
/// are handed to waiting handles in the order they started waiting. A place
/// frees up when the worker takes a request off the queue, so up to
/// `bound + 1` requests can be accepted while the inner service is not
/// ready (`bound` queued, one held by the worker). Clones each reserve their
/// own place; a clone does not inherit a reservation.
///
/// # Direct calls
///
/// A buffer made with [`new`](Buffer::new) skips the worker when it can:
/// when no request is waiting for the worker and nobody else is using the
/// inner service, `call` takes the service's lock, polls its readiness and,
/// if it is ready, calls it from the caller's task, and gives its place in
/// the queue back at once. Otherwise (the service is busy or not ready, or
/// requests are queued) the request goes through the queue, and the worker
/// drives the service's readiness as usual; requests keep their order
/// either way. This spares two task wake-ups per request. A buffer made with
/// [`pair`](Buffer::pair) always goes through the worker it returns.
///
/// # Queue discipline
///
/// By default the queue is served first come, first served, and a request
/// waits as long as it takes, as tower's buffer does.
/// [`with_queue`](Buffer::with_queue) gives it a [`QueueDiscipline`], for
/// the requests queued from then on. A request waits from when it is
/// queued until the worker calls the inner service for it; the queue
/// *stands* from when a request is queued while none is (the request the
/// worker holds while the service is not ready counting as queued) until
/// none is left.
///
/// - With [CoDel](QueueDiscipline::codel), a request queued at `joined`
///   while the queue stands since `since` is refused at
///   `max(joined + target, since + interval)`: a burst that drains within
///   `interval` waits, but once the queue stands, requests that waited
///   `target` are refused, so that callers learn of the overload at once
///   and the queue drains. A refused request never reaches the inner
///   service, its place in the queue comes back, and its response future
///   resolves to an error that is [`Overloaded`](super::error::Overloaded)
///   (the error of `LoadShed` and of the refusing limits too; check it
///   with `error.is::<Overloaded>()`). The worker refuses requests as
///   their time comes, even while the inner service is not ready: a timer
///   wakes it, so a refusing discipline needs tokio's time driver.
/// - [Newest first](QueueDiscipline::newest_first_after): once the queue
///   has stood that long, the worker takes the newest request next instead
///   of the oldest.
///
/// [`queue_delay`](Buffer::queue_delay) tells how long the oldest request
/// waiting has waited, once a discipline is set (even
/// [`fifo`](QueueDiscipline::fifo)); without one it reads zero.
///
/// Without a discipline nothing of this costs anything: no clock is read.
/// With one, tokio's clock (which tests can pause) is read when a request
/// is queued and when the worker takes one; direct calls, made when nothing
/// is queued, never wait and are not affected.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: the inner service's response
/// errors as they are; [`ServiceError`](super::error::ServiceError) for
/// every request once the inner service has failed (its `poll_ready`
/// returned an error or it panicked; the cause is the error's `source`); and
/// [`Closed`](super::error::Closed) once the worker has gone away otherwise
/// (dropped, or its runtime shut down). No request is left hanging: requests
/// queued when the worker stops get the error too, including a request sent
/// with a place reserved before the worker stopped. With a queue discipline
/// that refuses, [`Overloaded`](super::error::Overloaded) for a request that
/// waited too long (see [`# Queue discipline`](#queue-discipline)).
///
/// # Cancellation
///
/// Dropping a response future before the worker has taken its request gives
/// its place in the queue back at once, and the request is never sent to
/// the inner service. A handle dropped with an unused reservation gives it
/// back.
///
/// # Metrics
///
/// With the `metrics` feature, the gauge `donjon_buffer_queue_depth` (see
/// [`metrics`](crate::metrics)) counts the requests queued and not yet
/// taken (or refused) by the worker (one cancelled while queued counts until
/// the worker reaches it), under the name given to [`with_name`](Buffer::with_name)
/// or to the layer (`"buffer"` by default); buffers of one name add up. Its
/// handle is taken when the buffer is made (and again when it is named),
/// and shared by its handles and its worker.
///
/// The `metrics` facade has no gauge that the recorder reads when it
/// exports: values are pushed. So the depth is moved where the queue
/// changes, +1 when a request is queued and -1 when the worker takes it,
/// under the queue's lock, which both hold there anyway. Under the lock,
/// the moves of every handle and of the worker reach the gauge in order, and
/// a rename carries the count over without losing a request. Direct calls,
/// which skip the queue, cost nothing; a queued request costs those two
/// moves (one atomic operation each for the usual recorders), and no lock
/// of its own. The count that direct calls read, which the request path
/// keeps without the lock, is not used: it also counts the request the
/// worker holds while the service is not ready, and it is lowered outside
/// the lock, where the gauge could not be renamed safely.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning
/// `Ready(Ok(()))`. [`new`](Buffer::new) panics outside a tokio runtime, and
/// both constructors panic if `bound` is zero.
pub struct Buffer<Req, F> {
    channel: Arc<Channel<Req, F>>,
    /// This handle's access to the queue's places, and its place in the
    /// line for one while it waits.
    place: Place,
    /// Whether this handle holds a place in the queue for its next call.
    reserved: bool,
}

impl<Req, F> Buffer<Req, F>
where
    F: 'static,
{
    /// Moves `service` into a worker task spawned on the current tokio
    /// runtime, and returns a handle on a queue of `bound` requests to it.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, or if `bound` is zero.
    pub fn new<S>(service: S, bound: usize) -> Self
    where
        S: Service<Req, Future = F> + Send + 'static,
        F: Send,
        S::Error: Into<BoxError> + Send + Sync,
        Req: Send + 'static,
    {
        Self::spawned(
            service,
            bound,
            #[cfg(feature = "metrics")]
            DEFAULT_NAME.into(),
        )
    }

    /// [`new`](Buffer::new), its metrics recorded under `name`.
    pub(super) fn spawned<S>(
        service: S,
        bound: usize,
        #[cfg(feature = "metrics")] name: Cow<'static, str>,
    ) -> Self
    where
        S: Service<Req, Future = F> + Send + 'static,
        F: Send,
        S::Error: Into<BoxError> + Send + Sync,
        Req: Send + 'static,
    {
        let (buffer, worker) = Self::build(
            service,
            bound,
            true,
            #[cfg(feature = "metrics")]
            name,
        );
        tokio::spawn(worker);
        buffer
    }

    /// Like [`new`](Buffer::new), but returns the worker instead of spawning
    /// it: poll it to completion on an executor of your choice.
    ///
    /// # Panics
    ///
    /// If `bound` is zero.
    pub fn pair<S>(service: S, bound: usize) -> (Self, Worker<S, Req>)
    where
        S: Service<Req, Future = F> + Send + 'static,
        F: Send,
        S::Error: Into<BoxError> + Send + Sync,
        Req: Send + 'static,
    {
        Self::build(
            service,
            bound,
            false,
            #[cfg(feature = "metrics")]
            DEFAULT_NAME.into(),
        )
    }

    /// A buffer and its worker; with `direct`, handles may call the service
    /// themselves when it is free and ready and nothing is queued.
    fn build<S>(
        service: S,
        bound: usize,
        direct: bool,
        #[cfg(feature = "metrics")] name: Cow<'static, str>,
    ) -> (Self, Worker<S, Req>)
    where
        S: Service<Req, Future = F> + Send + 'static,
        F: Send,
        S::Error: Into<BoxError> + Send + Sync,
        Req: Send + 'static,
    {
        assert!(bound > 0, "a Buffer's bound must be at least 1");
        let slot = Arc::new(ServiceSlot::new(service));
        let direct = if direct {
            Some(Arc::clone(&slot) as Arc<dyn DirectCall<Req, F>>)
        } else {
            None
        };
        let channel = Arc::new(Channel::new(
            bound,
            direct,
            #[cfg(feature = "metrics")]
            name,
        ));
        let buffer = Buffer {
            place: Place::new(Arc::clone(&channel.capacity)),
            channel: Arc::clone(&channel),
            reserved: false,
        };
        (buffer, Worker::new(slot, channel))
    }

    /// Names the buffer in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)), taking the handle of
    /// `donjon_buffer_queue_depth` from the recorder installed now: for
    /// every handle of it, and its worker. The requests queued move from the
    /// gauge of the name it had to the new one.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(self, name: impl Into<Cow<'static, str>>) -> Self {
        self.channel.rename(name.into());
        self
    }
}

impl<Req, F> Buffer<Req, F> {
    /// Serves the queue by `discipline` (see
    /// [`# Queue discipline`](#queue-discipline)): for every handle of this
    /// buffer and its worker, and for the requests queued from now on. Also
    /// turns on [`queue_delay`](Buffer::queue_delay), even for
    /// [`QueueDiscipline::fifo`].
    ///
    /// With CoDel, the worker needs tokio's timer: run it on a runtime with
    /// its time driver enabled.
    ///
    /// # Examples
    ///
    /// A backend that is stuck: the request waits 100 ms (the queue formed
    /// when it was queued: it waits `interval`), then is refused.
    ///
    /// ```
    /// use std::future::{Ready, ready};
    /// use std::task::{Context, Poll};
    /// use std::time::Duration;
    ///
    /// use donjon::buffer::error::Overloaded;
    /// use donjon::buffer::{Buffer, QueueDiscipline};
    /// use donjon::{BoxError, Service, ServiceExt};
    /// use tokio::time::Instant;
    ///
    /// /// Never ready.
    /// struct Stuck;
    ///
    /// impl Service<u32> for Stuck {
    ///     type Response = u32;
    ///     type Error = BoxError;
    ///     type Future = Ready<Result<u32, BoxError>>;
    ///
    ///     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
    ///         Poll::Pending
    ///     }
    ///
    ///     fn call(&mut self, n: u32) -> Self::Future {
    ///         ready(Ok(n))
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), BoxError> {
    /// // Wait up to 100 ms in a burst, 5 ms once the queue stands; serve the
    /// // newest first once it has stood 50 ms.
    /// let discipline = QueueDiscipline::fifo()
    ///     .codel(Duration::from_millis(5), Duration::from_millis(100))
    ///     .newest_first_after(Duration::from_millis(50));
    /// let mut buffer = Buffer::new(Stuck, 32).with_queue(discipline);
    ///
    /// let start = Instant::now();
    /// let error = buffer.ready().await?.call(1).await.unwrap_err();
    /// assert!(error.is::<Overloaded>());
    /// assert_eq!(start.elapsed(), Duration::from_millis(100));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_queue(self, discipline: QueueDiscipline) -> Self {
        self.channel.set_discipline(discipline);
        self
    }

    /// How long the oldest request waiting in the queue (queued, or held by
    /// the worker while the inner service is not ready) has waited so far:
    /// a handle, cheap to clone and to read, shared with every handle of
    /// this buffer.
    ///
    /// It is tracked only once a discipline is set with
    /// [`with_queue`](Buffer::with_queue) (from the requests queued then
    /// on): without one it reads zero.
    pub fn queue_delay(&self) -> QueueDelay {
        self.channel.queue_delay()
    }
}

/// The `name` label of a buffer's metrics, unless it is given one.
#[cfg(feature = "metrics")]
pub(super) const DEFAULT_NAME: &str = "buffer";

impl<Req, Res, F, E> Service<Req> for Buffer<Req, F>
where
    F: Future<Output = Result<Res, E>> + Send + 'static,
    E: Into<BoxError>,
    Req: Send + 'static,
{
    type Response = Res;
    type Error = BoxError;
    type Future = ResponseFuture<F>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if !self.reserved {
            match ready!(self.place.poll_acquire(cx)) {
                Ok(()) => self.reserved = true,
                Err(_closed) => return Poll::Ready(Err(self.channel.closed_error())),
            }
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        assert!(
            self.reserved,
            "Buffer::call was called without poll_ready returning Ready(Ok(())) first, \
             as the readiness contract requires"
        );
        self.reserved = false;
        let request = match self.channel.try_direct(request) {
            Direct::Called(future) => {
                self.channel.capacity.release();
                return ResponseFuture::called(future);
            }
            Direct::Failed(error) => {
                self.channel.capacity.release();
                return ResponseFuture::failed(error);
            }
            Direct::Declined(request) => request,
        };
        let reply = Arc::new(Reply::new(self.channel.capacity.owned()));
        let envelope = Envelope {
            request,
            span: Span::current(),
            reply: Arc::clone(&reply),
            stamp: None,
        };
        match self.channel.send(envelope) {
            Ok(()) => ResponseFuture::waiting(reply),
            Err((_unsent, error)) => ResponseFuture::failed(error),
        }
    }
}

impl<Req, F> Clone for Buffer<Req, F>
where
    Req: Send + 'static,
    F: Send + 'static,
{
    fn clone(&self) -> Self {
        self.channel.add_handle();
        Buffer {
            channel: Arc::clone(&self.channel),
            place: self.place.clone(),
            reserved: false,
        }
    }
}

impl<Req, F> Drop for Buffer<Req, F> {
    fn drop(&mut self) {
        if self.reserved {
            self.channel.capacity.release();
        }
        self.channel.remove_handle();
    }
}

impl<Req, F> fmt::Debug for Buffer<Req, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("free_places", &self.channel.capacity.available())
            .field("reserved", &self.reserved)
            .finish_non_exhaustive()
    }
}

/// loom models of the hand-off between direct calls and the worker: run
/// with `RUSTFLAGS="--cfg donjon_loom" cargo test -p donjon --features full --release --lib loom`.
#[cfg(all(test, donjon_loom))]
mod loom_models {
    use std::future::{Ready, poll_fn, ready};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use loom::future::block_on;
    use loom::thread;

    use super::*;

    /// Doubles its request. Its first poll is `Pending` (waking the poller
    /// at once), so that the first request goes to the worker and the next
    /// may be called directly by its handle. With `fail_after`, its
    /// readiness fails from that poll on.
    struct Flapping {
        polls: Arc<AtomicUsize>,
        fail_after: Option<usize>,
    }

    impl Service<u32> for Flapping {
        type Response = u32;
        type Error = BoxError;
        type Future = Ready<Result<u32, BoxError>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            let poll = self.polls.fetch_add(1, Ordering::Relaxed);
            if self.fail_after.is_some_and(|after| poll >= after) {
                return Poll::Ready(Err("the service failed".into()));
            }
            if poll == 0 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: u32) -> Self::Future {
            ready(Ok(request * 2))
        }
    }

    type Handle = Buffer<u32, Ready<Result<u32, BoxError>>>;

    /// Sends `request` through `buffer`, waiting (parked: a lost wake-up is
    /// reported as a deadlock) for readiness and the answer.
    fn send(buffer: &mut Handle, request: u32) -> Result<u32, BoxError> {
        block_on(poll_fn(|cx| buffer.poll_ready(cx)))?;
        block_on(buffer.call(request))
    }

    /// A buffer of one place whose handles may call the service directly,
    /// its worker running on a thread of the model.
    fn buffer(fail_after: Option<usize>) -> (Handle, thread::JoinHandle<()>) {
        let service = Flapping {
            polls: Arc::new(AtomicUsize::new(0)),
            fail_after,
        };
        let (buffer, worker) = Buffer::build(
            service,
            1,
            true,
            #[cfg(feature = "metrics")]
            DEFAULT_NAME.into(),
        );
        (buffer, thread::spawn(move || block_on(worker)))
    }

    #[test]
    fn loom_buffer_direct_calls_and_the_worker_answer_each_request_once() {
        loom::model(|| {
            let (mut buffer, worker) = buffer(None);
            assert_eq!(send(&mut buffer, 1).expect("answered"), 2);
            assert_eq!(send(&mut buffer, 2).expect("answered"), 4);
            // The last handle goes: the worker ends.
            drop(buffer);
            worker.join().expect("no panic");
        });
    }

    #[test]
    fn loom_buffer_a_failing_service_fails_the_callers_and_nothing_hangs() {
        loom::model(|| {
            let (mut buffer, worker) = buffer(Some(1));
            for request in [1, 2] {
                if let Err(error) = send(&mut buffer, request) {
                    assert!(
                        error.to_string().contains("the service failed"),
                        "unexpected error: {error}"
                    );
                }
            }
            assert!(
                send(&mut buffer, 3).is_err(),
                "a failed buffer stays failed"
            );
            drop(buffer);
            worker.join().expect("no panic");
        });
    }
}
