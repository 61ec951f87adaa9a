//! Hand-written services, layers and errors shared by the compatibility tests.
//!
//! Everything here is written against the upstream trait names only
//! (`tower_service::Service`, `tower_layer::Layer`), so that the very same
//! code implements donjon's traits once the crates are renamed.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tower_layer::Layer;
use tower_service::Service;

/// The future every immediately-answering service in this suite returns.
pub(crate) type Instant<T, E> = std::future::Ready<Result<T, E>>;

/// A service that answers each `String` request with the request itself;
/// always ready.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Echo;

impl Service<String> for Echo {
    type Response = String;
    type Error = Infallible;
    type Future = Instant<String, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: String) -> Self::Future {
        std::future::ready(Ok(req))
    }
}

/// A service that adds one to each `u32` request; always ready.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AddOne;

impl Service<u32> for AddOne {
    type Response = u32;
    type Error = Oops;
    type Future = Instant<u32, Oops>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: u32) -> Self::Future {
        std::future::ready(req.checked_add(1).ok_or(Oops("overflow")))
    }
}

/// The error of the hand-written services: a plain error type (`Send +
/// Sync + 'static`, so it converts into `BoxError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Oops(pub(crate) &'static str);

impl fmt::Display for Oops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oops: {}", self.0)
    }
}

impl std::error::Error for Oops {}

/// A service whose `poll_ready` always fails.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Broken;

impl Service<u32> for Broken {
    type Response = u32;
    type Error = Oops;
    type Future = Instant<u32, Oops>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Err(Oops("broken")))
    }

    fn call(&mut self, _: u32) -> Self::Future {
        panic!("Broken::call: poll_ready never succeeds")
    }
}

/// Counters shared between a test and a service it gave away.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stats {
    polls: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

impl Stats {
    pub(crate) fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// A stateful service: `poll_ready` returns `Pending` (waking the task at
/// once) `pending` times before each reservation, and `call` panics unless
/// a reservation is held, which it consumes. Doubles its request.
#[derive(Debug)]
pub(crate) struct SlowStart {
    pending: usize,
    left: usize,
    reserved: bool,
    stats: Stats,
}

impl SlowStart {
    pub(crate) fn new(pending: usize) -> (SlowStart, Stats) {
        let stats = Stats::default();
        let service = SlowStart {
            pending,
            left: pending,
            reserved: false,
            stats: stats.clone(),
        };
        (service, stats)
    }
}

impl Service<u32> for SlowStart {
    type Response = u32;
    type Error = Oops;
    type Future = Instant<u32, Oops>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        self.stats.polls.fetch_add(1, Ordering::SeqCst);
        if self.reserved {
            return Poll::Ready(Ok(()));
        }
        if self.left > 0 {
            self.left -= 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.reserved = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: u32) -> Self::Future {
        assert!(self.reserved, "SlowStart::call without a reservation");
        self.reserved = false;
        self.left = self.pending;
        self.stats.calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(req * 2))
    }
}

#[derive(Debug, Default)]
struct LatchState {
    open: bool,
    waker: Option<Waker>,
}

/// A service that is not ready until its [`LatchKey`] opens it; the open
/// wakes the task that last saw it pending. Answers with the request's
/// length.
#[derive(Clone, Debug, Default)]
pub(crate) struct Latch {
    state: Arc<Mutex<LatchState>>,
}

/// Opens a [`Latch`].
#[derive(Debug)]
pub(crate) struct LatchKey {
    state: Arc<Mutex<LatchState>>,
}

impl Latch {
    pub(crate) fn new() -> (Latch, LatchKey) {
        let latch = Latch::default();
        let key = LatchKey {
            state: latch.state.clone(),
        };
        (latch, key)
    }
}

impl LatchKey {
    pub(crate) fn open(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            state.open = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Service<&'static str> for Latch {
    type Response = usize;
    type Error = Oops;
    type Future = Instant<usize, Oops>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        let mut state = self.state.lock().unwrap();
        if state.open {
            Poll::Ready(Ok(()))
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    fn call(&mut self, req: &'static str) -> Self::Future {
        assert!(self.state.lock().unwrap().open, "Latch::call while closed");
        std::future::ready(Ok(req.len()))
    }
}

/// A middleware that records the path of a request through a stack: on the
/// way in it appends `name>` to the request, on the way out `<name` to the
/// response.
#[derive(Clone, Debug)]
pub(crate) struct Tag<S> {
    name: &'static str,
    inner: S,
}

impl<S> Tag<S> {
    pub(crate) fn new(name: &'static str, inner: S) -> Tag<S> {
        Tag { name, inner }
    }
}

impl<S> Service<String> for Tag<S>
where
    S: Service<String, Response = String>,
    S::Future: Unpin,
{
    type Response = String;
    type Error = S::Error;
    type Future = TagFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: String) -> Self::Future {
        TagFuture {
            name: self.name,
            inner: self.inner.call(format!("{req}{}>", self.name)),
        }
    }
}

/// The response future of [`Tag`].
#[derive(Debug)]
pub(crate) struct TagFuture<F> {
    name: &'static str,
    inner: F,
}

impl<F, E> Future for TagFuture<F>
where
    F: Future<Output = Result<String, E>> + Unpin,
{
    type Output = Result<String, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let name = self.name;
        Pin::new(&mut self.inner)
            .poll(cx)
            .map_ok(|rsp| format!("{rsp}<{name}"))
    }
}

/// The layer of [`Tag`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TagLayer(pub(crate) &'static str);

impl<S> Layer<S> for TagLayer {
    type Service = Tag<S>;

    fn layer(&self, inner: S) -> Tag<S> {
        Tag::new(self.0, inner)
    }
}

/// A noop task context, for polling by hand.
pub(crate) fn noop_cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

/// Polls a future once with a noop waker.
pub(crate) fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut noop_cx())
}

/// The full type name of a value's type.
pub(crate) fn type_name_of<T>(_: &T) -> &'static str {
    std::any::type_name::<T>()
}

/// Clones through the `Clone` trait alone, so that the call reads the same
/// whether or not the type is also `Copy` (donjon adds `Copy` to some types).
pub(crate) fn cloned<T: Clone>(value: &T) -> T {
    value.clone()
}

/// Compile-time assertion helpers.
pub(crate) fn assert_send<T: Send>() {}
pub(crate) fn assert_sync<T: Sync>() {}
pub(crate) fn assert_unpin<T: Unpin>() {}
pub(crate) fn assert_clone<T: Clone>() {}
pub(crate) fn assert_copy<T: Copy>() {}
pub(crate) fn assert_debug<T: fmt::Debug>() {}
pub(crate) fn assert_default<T: Default>() {}
pub(crate) fn assert_service<S: Service<R>, R>() {}
