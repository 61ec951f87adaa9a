//! The queue between [`Buffer`](super::Buffer) handles and their
//! [`Worker`](super::Worker), and the slot through which each request's
//! answer comes back.
//!
//! Capacity is a semaphore of `bound` permits: a handle takes a permit in
//! `poll_ready`, the permit travels with the request, and it goes back as
//! soon as the worker takes the request off the queue, or as soon as the
//! caller drops its response future, whichever comes first. So a cancelled
//! request never holds a place in the queue, and never reaches the service.
//!
//! # Memory ordering
//!
//! The queue, the wakers, the handle count and the reason for closing are
//! under the state lock. One atomic word, `word`, lets the request path
//! skip that lock. It holds two facts, each kept nowhere else:
//!
//! - `CLOSED` (its lowest bit): the worker no longer takes requests. It is
//!   set once, under the state lock, in the critical section that stores
//!   the reason; whoever sees it set (`Acquire`) sees the reason. Every
//!   check of whether the channel is closed reads this bit.
//! - Above it, the count of requests sent to the worker and not yet
//!   finished with: queued, or held by the worker while the service is not
//!   ready. It is raised under the state lock when a request is queued,
//!   and lowered in one place, [`Channel::finished`]: by the worker once it
//!   has called the service for a request, skipped a cancelled one or
//!   refused one under the queue discipline (after taking it off the queue
//!   under the lock, and answering it), and under the lock for the requests
//!   that never reach it (cancelled ones dropped from a long queue, and
//!   those failed when the channel closes).
//!
//! Every change of the word is a read-modify-write (`AcqRel`, `Release`
//! for setting `CLOSED`), so all of them form one modification order and
//! each reads the latest value. A handle loads the word (`Acquire`) before
//! calling the service directly, which it only does when the word is 0:
//! open, with nothing queued, so that requests keep their order. A handle
//! that sees 0 after the worker's lowering also sees everything the worker
//! did before it (the queued call made); the service's own lock, which a
//! direct call takes, then orders the two calls. Callers that race each
//! other have no order to keep. A word seen open is only a hint, which the
//! lock (or the service's failure) corrects.
//!
//! The loom models in `service.rs` race direct calls with the worker, and
//! the worker's failure with callers.
//!
//! # Queue discipline
//!
//! Once a handle sets a [`QueueDiscipline`] (`Buffer::with_queue`), it is
//! kept in the state, with what it tracks ([`Tracking`]): when the queue
//! started standing, whether the worker holds a request it took (which
//! still counts as queued), and when the worker's alarm is set for. Under
//! the lock, [`Channel::send`] stamps each request with when it joined and
//! when CoDel refuses it; [`Channel::recv`] hands the worker the requests
//! whose time has come to refuse ([`Next::Refused`]), and takes the newest
//! first when the discipline says so; [`Channel::park_holding`] does the
//! same for the front of the queue while the worker holds a request, and
//! tells it when to wake. The joining of the oldest request (the one held,
//! or the front) is published in [`Oldest`] wherever the queue changes,
//! for [`QueueDelay`]. A request's refusal time is fixed when it is queued:
//! the queue cannot stop standing while the request is in it, so its start
//! does not move. Without a discipline, none of this runs: one test of an
//! `Option` under the lock, in `send`, `recv` and `park_holding`.
//!
//! # Metrics
//!
//! With the `metrics` feature, the gauge `donjon_buffer_queue_depth` lives
//! in the state, and is moved (+1, -1, -n) under the state lock wherever
//! `queue` changes: a request queued ([`Channel::send`]), taken by the
//! worker ([`Channel::recv`]) or refused by the queue discipline (there, or
//! in [`Channel::park_holding`]), dropped from a long queue once cancelled,
//! or failed when the channel closes ([`Channel::close`]).
//! [`Channel::rename`] swaps it under the lock too. The `# Metrics` of
//! [`Buffer`](super::Buffer) tells why there.

#[cfg(feature = "metrics")]
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tokio::time::Instant;
use tracing::Span;

use super::error::{Closed, ServiceError};
use super::slot::{Direct, DirectCall};
use crate::BoxError;
use crate::discipline::{Oldest, QueueDelay, QueueDiscipline};
use crate::overloaded::Overloaded;
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Gate, GatePermit, Mutex, lock, register};

/// The earlier of two instants, either of which may be missing.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Why the worker no longer takes requests.
pub(super) enum WorkerError {
    /// The worker went away on its own.
    Closed,
    /// The inner service failed.
    Failed(ServiceError),
}

impl WorkerError {
    /// The error a caller gets.
    pub(super) fn to_error(&self) -> BoxError {
        match self {
            WorkerError::Closed => Box::new(Closed::new()),
            WorkerError::Failed(error) => Box::new(error.share()),
        }
    }

    pub(super) fn share(&self) -> WorkerError {
        match self {
            WorkerError::Closed => WorkerError::Closed,
            WorkerError::Failed(error) => WorkerError::Failed(error.share()),
        }
    }
}

/// A request on its way to the worker.
pub(super) struct Envelope<Req, F> {
    pub(super) request: Req,
    /// The span the caller was in, for the worker to enter.
    pub(super) span: Span,
    pub(super) reply: Arc<Reply<F>>,
    /// With a queue discipline: when the request was queued, and when it is
    /// refused. Set under the state lock by [`Channel::send`].
    pub(super) stamp: Option<Stamp>,
}

impl<Req, F> Envelope<Req, F> {
    /// When the queue discipline refuses this request, if it ever does.
    #[inline]
    pub(super) fn refuse_at(&self) -> Option<Instant> {
        self.stamp.and_then(|stamp| stamp.refuse_at)
    }

    /// When this request was queued, if a discipline stamped it.
    fn joined(&self) -> Option<Instant> {
        self.stamp.map(|stamp| stamp.joined)
    }
}

/// A request's times under a queue discipline.
#[derive(Clone, Copy)]
pub(super) struct Stamp {
    /// When it was queued.
    joined: Instant,
    /// When CoDel refuses it, with a discipline that refuses.
    refuse_at: Option<Instant>,
}

/// Where the answer to one request is left for its caller.
pub(super) struct Reply<F> {
    state: Mutex<ReplyState<F>>,
}

struct ReplyState<F> {
    answer: Answer<F>,
    /// The caller to wake when the answer is in.
    waker: Option<Waker>,
    /// The queue place, held until the worker takes the request or the
    /// caller gives up.
    permit: Option<GatePermit>,
    /// Set when the caller dropped its response future.
    cancelled: bool,
}

enum Answer<F> {
    Waiting,
    Called(F),
    Failed(WorkerError),
    /// The queue discipline refused the request.
    Refused,
    Taken,
}

/// What a caller finds when it looks for its answer.
pub(super) enum Received<F> {
    Called(F),
    Failed(BoxError),
}

impl<F> Reply<F> {
    pub(super) fn new(permit: GatePermit) -> Self {
        Reply {
            state: Mutex::new(ReplyState {
                answer: Answer::Waiting,
                waker: None,
                permit: Some(permit),
                cancelled: false,
            }),
        }
    }

    /// The worker took the request off the queue: its place is free.
    /// Returns whether the caller still wants the answer.
    pub(super) fn taken_off_queue(&self) -> bool {
        let mut state = lock(&self.state);
        state.permit = None;
        !state.cancelled
    }

    pub(super) fn is_cancelled(&self) -> bool {
        lock(&self.state).cancelled
    }

    /// Leaves `answer` for the caller and frees the request's place (the
    /// permit goes back once the lock is released); returns whether the
    /// caller still wanted it.
    fn answer(&self, answer: Answer<F>) -> bool {
        let (permit, waker) = {
            let mut state = lock(&self.state);
            if state.cancelled {
                return false;
            }
            state.answer = answer;
            (state.permit.take(), state.waker.take())
        };
        drop(permit);
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// Hands the caller the inner service's response future.
    pub(super) fn called(&self, future: F) {
        self.answer(Answer::Called(future));
    }

    /// Tells the caller its request will not be served.
    pub(super) fn failed(&self, error: &WorkerError) {
        self.answer(Answer::Failed(error.share()));
    }

    /// The queue discipline refused the request, which waited too long:
    /// frees its place, and tells the caller ([`Overloaded`]). Returns
    /// whether the caller still wanted the answer.
    pub(super) fn refused(&self) -> bool {
        self.answer(Answer::Refused)
    }

    /// Polls for the answer, leaving the waker while there is none yet.
    pub(super) fn poll_answer(&self, cx: &mut Context<'_>) -> Poll<Received<F>> {
        let mut state = lock(&self.state);
        match std::mem::replace(&mut state.answer, Answer::Taken) {
            Answer::Waiting => {
                state.answer = Answer::Waiting;
                register(&mut state.waker, cx.waker());
                Poll::Pending
            }
            Answer::Called(future) => Poll::Ready(Received::Called(future)),
            Answer::Failed(error) => Poll::Ready(Received::Failed(error.to_error())),
            Answer::Refused => Poll::Ready(Received::Failed(Box::new(Overloaded::new()))),
            Answer::Taken => panic!("buffer response future polled after completion"),
        }
    }

    /// The caller gave up: free its queue place at once, and make sure the
    /// request is never sent.
    pub(super) fn cancel(&self) {
        let permit = {
            let mut state = lock(&self.state);
            state.cancelled = true;
            state.waker = None;
            state.permit.take()
        };
        drop(permit);
    }
}

/// The handle of `donjon_buffer_queue_depth` for the buffer `name`.
#[cfg(feature = "metrics")]
fn depth_gauge(name: Cow<'static, str>) -> metrics::Gauge {
    use crate::metrics::names;
    metrics::gauge!(names::BUFFER_QUEUE_DEPTH, names::NAME => name)
}

/// The [`Channel::word`] bit set once the channel is closed.
const CLOSED: usize = 1;
/// One request waiting for the worker, in [`Channel::word`].
const ONE: usize = 1 << 1;

/// The queue shared by every handle of one buffer and its worker.
pub(super) struct Channel<Req, F> {
    state: Mutex<ChannelState<Req, F>>,
    /// One permit per free place in the queue.
    pub(super) capacity: Arc<Gate>,
    bound: usize,
    /// [`CLOSED`], and the requests sent to the worker and not yet finished
    /// with (counted in [`ONE`]s): see the module's `# Memory ordering`.
    word: AtomicUsize,
    /// The service, for handles to call directly (buffers made with `new`).
    direct: Option<Arc<dyn DirectCall<Req, F>>>,
    /// When the oldest request joined, published under the state lock once
    /// a queue discipline is set, for [`QueueDelay`].
    oldest: Arc<Oldest>,
}

struct ChannelState<Req, F> {
    queue: VecDeque<Envelope<Req, F>>,
    /// The worker, when it waits for requests.
    worker: Option<Waker>,
    /// The worker, when it holds a request and waits for the service.
    holding: Option<Waker>,
    /// Live `Buffer` handles; the worker ends when none is left and the
    /// queue is empty.
    handles: usize,
    /// Why the channel closed: stored with [`CLOSED`] set, and only read
    /// once it is (`Closed` until then).
    reason: WorkerError,
    /// `donjon_buffer_queue_depth`, moved with `queue`: see the module's
    /// `# Metrics`.
    #[cfg(feature = "metrics")]
    depth: metrics::Gauge,
    /// The queue discipline and what it tracks, once one is set; `None`:
    /// first come, first served, and nothing tracked.
    discipline: Option<Tracking>,
}

/// A queue discipline, and what the channel tracks for it: see the
/// module's `# Queue discipline`.
struct Tracking {
    rule: QueueDiscipline,
    /// When the queue started standing: set when a request is queued while
    /// nothing is (the request the worker took counting as queued), cleared
    /// once nothing is left.
    since: Option<Instant>,
    /// The worker took a request off the queue and is not done with it
    /// (it holds it while the service is not ready): it still counts as
    /// queued.
    taken: bool,
    /// When the request the worker took joined, if it was stamped.
    taken_joined: Option<Instant>,
    /// When the worker, holding a request, is to wake for a refusal, as it
    /// last told ([`Channel::park_holding`]); `None` if it is not to.
    alarm: Option<Instant>,
}

impl Tracking {
    fn new(rule: QueueDiscipline) -> Self {
        Tracking {
            rule,
            since: None,
            taken: false,
            taken_joined: None,
            alarm: None,
        }
    }

    /// The worker no longer holds a request it took.
    fn untake(&mut self) {
        self.taken = false;
        self.taken_joined = None;
        self.alarm = None;
    }

    /// Once `queue` changed: clears the queue's start if nothing is left,
    /// and publishes when the oldest request joined (the one the worker
    /// took, or the front: the queue is in the order of joining).
    fn publish<Req, F>(&mut self, queue: &VecDeque<Envelope<Req, F>>, oldest: &Oldest) {
        if queue.is_empty() && !self.taken {
            self.since = None;
        }
        let front = queue.front().and_then(Envelope::joined);
        oldest.set(earliest(self.taken_joined, front));
    }
}

/// What the worker finds in the queue.
pub(super) enum Next<Req, F> {
    Envelope(Envelope<Req, F>),
    /// A request whose time under the queue discipline has come, taken off
    /// the queue: the worker refuses it.
    Refused(Envelope<Req, F>),
    /// No request now; the worker will be woken.
    Empty,
    /// No request, and no handle left to send one, or the channel is
    /// closed: the worker is done.
    Done,
}

/// What the worker, holding a request, is to do meanwhile.
pub(super) enum Holding<Req, F> {
    /// Refuse this request, taken off the front of the queue: its time
    /// under the queue discipline has come. Then park again.
    Refuse(Envelope<Req, F>),
    /// Wait for the service, or until this time (with a discipline that
    /// refuses) to refuse the request held or the front one.
    Wait(Option<Instant>),
}

impl<Req, F> Channel<Req, F> {
    /// A channel of `bound` places; `direct` lets handles call the service
    /// themselves when it is free, ready and nothing is queued.
    /// With the `metrics` feature, its queue depth is recorded under `name`.
    pub(super) fn new(
        bound: usize,
        direct: Option<Arc<dyn DirectCall<Req, F>>>,
        #[cfg(feature = "metrics")] name: Cow<'static, str>,
    ) -> Self {
        Channel {
            state: Mutex::new(ChannelState {
                queue: VecDeque::new(),
                worker: None,
                holding: None,
                handles: 1,
                reason: WorkerError::Closed,
                #[cfg(feature = "metrics")]
                depth: depth_gauge(name),
                discipline: None,
            }),
            capacity: Arc::new(Gate::new(bound)),
            bound,
            word: AtomicUsize::new(0),
            direct,
            oldest: Arc::new(Oldest::new()),
        }
    }

    /// Serves the queue by `rule` from now on: the requests queued from now
    /// on are stamped and tracked. A worker holding a request is woken, to
    /// park again under the rule (and so be woken for the refusals of the
    /// requests queued from now on).
    pub(super) fn set_discipline(&self, rule: QueueDiscipline) {
        let holding = {
            let mut state = lock(&self.state);
            match &mut state.discipline {
                Some(tracking) => tracking.rule = rule,
                None => state.discipline = Some(Tracking::new(rule)),
            }
            state.holding.take()
        };
        if let Some(holding) = holding {
            holding.wake();
        }
    }

    /// How long the oldest request has waited (zero without a discipline).
    pub(super) fn queue_delay(&self) -> QueueDelay {
        QueueDelay::new(Arc::clone(&self.oldest))
    }

    /// Calls the service directly, when this buffer allows it, the channel
    /// is open with nothing waiting for the worker (so that requests keep
    /// their order), and the service is free and ready.
    #[inline]
    pub(super) fn try_direct(&self, request: Req) -> Direct<Req, F> {
        match &self.direct {
            Some(direct) if self.word.load(Ordering::Acquire) == 0 => {
                direct.try_call(self, request)
            }
            _ => Direct::Declined(request),
        }
    }

    /// Whether the channel is closed: the worker takes no more requests.
    pub(super) fn is_closed(&self) -> bool {
        self.word.load(Ordering::Acquire) & CLOSED != 0
    }

    /// `requests` sent to the worker are finished with: called, skipped,
    /// refused, dropped or failed. The one place the count is lowered.
    pub(super) fn finished(&self, requests: usize) {
        if requests > 0 {
            self.word.fetch_sub(requests * ONE, Ordering::AcqRel);
        }
    }

    /// The error callers get once the channel is closed.
    pub(super) fn closed_error(&self) -> BoxError {
        lock(&self.state).reason.to_error()
    }

    /// Queues a request; gives it back with the error if the channel is
    /// closed.
    pub(super) fn send(
        &self,
        envelope: Envelope<Req, F>,
    ) -> Result<(), (Envelope<Req, F>, BoxError)> {
        let worker = {
            let mut state = lock(&self.state);
            // `CLOSED` only changes under the lock: the add reads it as it
            // stands. A closed channel's count is never read, but is put
            // back all the same.
            if self.word.fetch_add(ONE, Ordering::AcqRel) & CLOSED != 0 {
                self.finished(1);
                let error = state.reason.to_error();
                return Err((envelope, error));
            }
            // Cancelled requests stay in the queue until the worker reaches
            // them; when they outnumber the live ones (which are at most
            // `bound`), drop them, so that the queue's memory stays bounded.
            if state.queue.len() >= 2 * self.bound.max(16) {
                let before = state.queue.len();
                state.queue.retain(|queued| !queued.reply.is_cancelled());
                let dropped = before - state.queue.len();
                self.finished(dropped);
                #[cfg(feature = "metrics")]
                state.depth.decrement(dropped as f64);
            }
            #[cfg(feature = "metrics")]
            state.depth.increment(1.0);
            match state.discipline {
                None => {
                    state.queue.push_back(envelope);
                    state.worker.take()
                }
                Some(_) => self.push_tracked(&mut state, envelope),
            }
        };
        if let Some(worker) = worker {
            worker.wake();
        }
        Ok(())
    }

    /// [`send`](Self::send) with a queue discipline: stamps `envelope`
    /// with when it joined and when CoDel refuses it, queues it, and
    /// returns the worker to wake: the one waiting for requests, or the one
    /// holding a request if its alarm is late for this one (it is not when
    /// the discipline stays the same: this one joined last).
    #[cold]
    fn push_tracked(
        &self,
        state: &mut ChannelState<Req, F>,
        mut envelope: Envelope<Req, F>,
    ) -> Option<Waker> {
        let ChannelState {
            queue,
            discipline,
            worker,
            holding,
            ..
        } = state;
        let tracking = discipline
            .as_mut()
            .expect("a tracked queue has a discipline");
        let now = Instant::now();
        let since = *tracking.since.get_or_insert(now);
        let refuse_at = tracking.rule.refuse_at(now, since);
        envelope.stamp = Some(Stamp {
            joined: now,
            refuse_at,
        });
        queue.push_back(envelope);
        tracking.publish(queue, &self.oldest);
        let late = tracking.taken
            && refuse_at.is_some_and(|at| tracking.alarm.is_none_or(|alarm| at < alarm));
        worker
            .take()
            .or_else(|| if late { holding.take() } else { None })
    }

    /// Takes the next request for the worker.
    pub(super) fn recv(&self, cx: &mut Context<'_>) -> Next<Req, F> {
        let mut state = lock(&self.state);
        if state.discipline.is_some() {
            return self.recv_tracked(&mut state, cx);
        }
        if let Some(envelope) = state.queue.pop_front() {
            #[cfg(feature = "metrics")]
            state.depth.decrement(1.0);
            return Next::Envelope(envelope);
        }
        if state.handles == 0 || self.is_closed() {
            return Next::Done;
        }
        register(&mut state.worker, cx.waker());
        Next::Empty
    }

    /// [`recv`](Self::recv) with a queue discipline: the worker is done
    /// with the request it took before. The front request is refused if its
    /// time has come; otherwise the front (or the back, once the queue has
    /// stood long enough for the discipline to serve the newest first) is
    /// taken, and counts as queued until the worker asks again.
    fn recv_tracked(&self, state: &mut ChannelState<Req, F>, cx: &mut Context<'_>) -> Next<Req, F> {
        let ChannelState {
            queue,
            discipline,
            worker,
            handles,
            #[cfg(feature = "metrics")]
            depth,
            ..
        } = state;
        let tracking = discipline
            .as_mut()
            .expect("a tracked queue has a discipline");
        tracking.untake();
        let next = if queue.is_empty() {
            None
        } else {
            let now = Instant::now();
            let due =
                |envelope: &Envelope<Req, F>| envelope.refuse_at().is_some_and(|at| at <= now);
            if queue.front().is_some_and(due) {
                queue.pop_front().map(Next::Refused)
            } else {
                let newest = tracking
                    .since
                    .is_some_and(|since| tracking.rule.serves_newest(now, since));
                let envelope = if newest {
                    queue.pop_back()
                } else {
                    queue.pop_front()
                };
                envelope.map(|envelope| {
                    // The back is refused no sooner than the front, unless
                    // the discipline changed in between.
                    if due(&envelope) {
                        Next::Refused(envelope)
                    } else {
                        tracking.taken = true;
                        tracking.taken_joined = envelope.joined();
                        Next::Envelope(envelope)
                    }
                })
            }
        };
        tracking.publish(queue, &self.oldest);
        if let Some(next) = next {
            #[cfg(feature = "metrics")]
            depth.decrement(1.0);
            return next;
        }
        if *handles == 0 || self.is_closed() {
            return Next::Done;
        }
        register(worker, cx.waker());
        Next::Empty
    }

    pub(super) fn add_handle(&self) {
        lock(&self.state).handles += 1;
    }

    pub(super) fn remove_handle(&self) {
        let wakers = {
            let mut state = lock(&self.state);
            state.handles -= 1;
            if state.handles > 0 {
                return;
            }
            [state.worker.take(), state.holding.take()]
        };
        // The worker may be waiting for requests that will never come, or
        // holding one that was cancelled since.
        for waker in wakers.into_iter().flatten() {
            waker.wake();
        }
    }

    /// Registers the worker, which holds a request and waits for the
    /// service, to be woken when the last handle goes. With a queue
    /// discipline, tells it what to do meanwhile: refuse the front request
    /// if its time has come, or else wake at the earliest refusal time of
    /// the request it holds (`held_refuse_at`) and the front one.
    pub(super) fn park_holding(
        &self,
        cx: &mut Context<'_>,
        held_refuse_at: Option<Instant>,
    ) -> Holding<Req, F> {
        let mut state = lock(&self.state);
        register(&mut state.holding, cx.waker());
        if state.discipline.is_none() {
            return Holding::Wait(None);
        }
        self.hold_tracked(&mut state, held_refuse_at)
    }

    /// [`park_holding`](Self::park_holding) with a queue discipline.
    fn hold_tracked(
        &self,
        state: &mut ChannelState<Req, F>,
        held_refuse_at: Option<Instant>,
    ) -> Holding<Req, F> {
        let ChannelState {
            queue,
            discipline,
            #[cfg(feature = "metrics")]
            depth,
            ..
        } = state;
        let tracking = discipline
            .as_mut()
            .expect("a tracked queue has a discipline");
        // Taken before the discipline was set, the request held was not
        // noted then.
        tracking.taken = true;
        let front_at = queue.front().and_then(Envelope::refuse_at);
        if front_at.is_some_and(|at| at <= Instant::now()) {
            let envelope = queue.pop_front().expect("the queue has a front");
            #[cfg(feature = "metrics")]
            depth.decrement(1.0);
            tracking.publish(queue, &self.oldest);
            return Holding::Refuse(envelope);
        }
        let alarm = earliest(held_refuse_at, front_at);
        tracking.alarm = alarm;
        Holding::Wait(alarm)
    }

    /// Records the queue depth under `name` from now on: the requests
    /// queued move from the gauge of the name it had to the new one.
    #[cfg(feature = "metrics")]
    pub(super) fn rename(&self, name: Cow<'static, str>) {
        // The recorder is asked outside the lock.
        let depth = depth_gauge(name);
        let mut state = lock(&self.state);
        let queued = state.queue.len() as f64;
        state.depth.decrement(queued);
        depth.increment(queued);
        state.depth = depth;
    }

    /// The inner service failed with `cause` (found by the worker, or by a
    /// handle calling it directly): closes the channel as
    /// [`close`](Self::close) does, and returns the error it closed with.
    pub(super) fn fail(&self, cause: BoxError, current: Option<&Reply<F>>) -> WorkerError {
        self.close(WorkerError::Failed(ServiceError::new(cause)), current)
    }

    /// The one way requests are failed: stops taking requests, with `error`
    /// unless the channel is closed already; then every request the worker
    /// will not serve (`current`, the one it was serving or held, and the
    /// queue's), and every later one, gets the error the channel closed
    /// with, which is returned. Handles waiting for a place are woken to get
    /// it too.
    pub(super) fn close(&self, error: WorkerError, current: Option<&Reply<F>>) -> WorkerError {
        let (error, queued, wakers) = {
            let mut state = lock(&self.state);
            let first = !self.is_closed();
            if first {
                state.reason = error;
                self.word.fetch_or(CLOSED, Ordering::Release);
            }
            let queued = std::mem::take(&mut state.queue);
            if let Some(tracking) = &mut state.discipline {
                // Nothing is left.
                tracking.untake();
                tracking.since = None;
                self.oldest.set(None);
            }
            self.finished(queued.len() + usize::from(current.is_some()));
            #[cfg(feature = "metrics")]
            state.depth.decrement(queued.len() as f64);
            // The worker learns of a failure found by a handle calling the
            // service directly.
            let wakers = first.then(|| [state.worker.take(), state.holding.take()]);
            (state.reason.share(), queued, wakers)
        };
        if wakers.is_some() {
            tracing_closed(&error, queued.len() + usize::from(current.is_some()));
        }
        if let Some(wakers) = wakers {
            for waker in wakers.into_iter().flatten() {
                waker.wake();
            }
            // Closing the semaphore after recording the error: a woken
            // handle finds the error.
            self.capacity.close();
        }
        for envelope in queued {
            envelope.reply.failed(&error);
        }
        if let Some(current) = current {
            current.failed(&error);
        }
        error
    }
}

/// Reports the buffer closing, once, with the requests it fails now.
fn tracing_closed(error: &WorkerError, failed: usize) {
    match error {
        WorkerError::Failed(error) => tracing::warn!(
            %error,
            failed,
            "buffer: the inner service failed; the buffer is closed"
        ),
        WorkerError::Closed => {
            tracing::debug!(failed, "buffer: the worker is gone; the buffer is closed")
        }
    }
}
