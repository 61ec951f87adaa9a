//! Helpers shared by the donjon integration tests: small hand-written
//! services whose behaviour the tests control or observe, and a few
//! assertions that recur across test files.
//!
//! Included with `mod support;` from a top-level test file, or with
//! `#[path = "../support/mod.rs"] mod support;` from a test crate in a
//! sub-folder.
#![allow(
    dead_code,
    reason = "each test crate uses its own subset of these helpers"
)]

use std::fmt;
use std::future::{Future, Pending, Ready, pending};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use donjon::{BoxError, Service};
use donjon_test::mock::{Handle, SendResponse, Spawn};
use tokio_test::{assert_pending, assert_ready_ok};

#[cfg(feature = "metrics")]
pub(crate) mod recorder;

/// A shared counter: clones count into the same total, so a closure that
/// captures one can be cloned by the middleware and still be observed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally(Arc<AtomicUsize>);

impl Tally {
    pub(crate) fn new() -> Self {
        Tally::default()
    }

    /// Adds one.
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// The total so far.
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Always ready; answers each request with the request itself, at once.
/// Unlike the mock it never panics, so a panic in `call` can only come from
/// the middleware under test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Echo;

impl<T> Service<T> for Echo {
    type Response = T;
    type Error = BoxError;
    type Future = Ready<Result<T, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: T) -> Self::Future {
        std::future::ready(Ok(request))
    }
}

/// Always ready; its response futures never resolve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Unanswered;

impl<T> Service<T> for Unanswered {
    type Response = T;
    type Error = BoxError;
    type Future = Pending<Result<T, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: T) -> Self::Future {
        pending()
    }
}

/// Its readiness (when `ready` is false) or else its responses fail with
/// [`Boom`], which is its error type (not boxed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Broken {
    pub(crate) ready: bool,
}

impl<T> Service<T> for Broken {
    type Response = T;
    type Error = Boom;
    type Future = Ready<Result<T, Boom>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        if self.ready {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err(Boom("readiness")))
        }
    }

    fn call(&mut self, _: T) -> Self::Future {
        std::future::ready(Err(Boom("response")))
    }
}

/// Always ready; its responses never resolve, and count their drops.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lingering {
    /// Counts the drops; shared with the response futures.
    pub(crate) dropped: Arc<AtomicUsize>,
}

impl Lingering {
    /// How many of its response futures were dropped so far.
    pub(crate) fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

/// A response of [`Lingering`]: pending forever, counted when dropped.
#[derive(Debug)]
pub(crate) struct LingeringFuture(Arc<AtomicUsize>);

impl Future for LingeringFuture {
    type Output = Result<(), BoxError>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Pending
    }
}

impl Drop for LingeringFuture {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Service<()> for Lingering {
    type Response = ();
    type Error = BoxError;
    type Future = LingeringFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, (): ()) -> Self::Future {
        LingeringFuture(Arc::clone(&self.dropped))
    }
}

/// Echoes requests, but its first `poll_ready` returns `Pending` after
/// waking the polling task itself; later polls are ready.
///
/// `call` panics unless the last `poll_ready` returned `Ready(Ok(()))`, so a
/// caller that does not wait for readiness is caught.
#[derive(Debug, Default)]
pub(crate) struct PendingOnce {
    was_pending: bool,
    ready: bool,
}

impl PendingOnce {
    pub(crate) fn new() -> Self {
        PendingOnce::default()
    }
}

impl<T> Service<T> for PendingOnce {
    type Response = T;
    type Error = BoxError;
    type Future = Ready<Result<T, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if !self.was_pending {
            self.was_pending = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.ready = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: T) -> Self::Future {
        assert!(
            self.ready,
            "PendingOnce was called before poll_ready returned Ready"
        );
        self.ready = false;
        std::future::ready(Ok(request))
    }
}

/// What a [`Counting`] service has seen.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counts {
    poll_ready: Tally,
    calls: Tally,
}

impl Counts {
    /// How many times `poll_ready` was called.
    pub(crate) fn poll_ready(&self) -> usize {
        self.poll_ready.get()
    }

    /// How many times `call` was called.
    pub(crate) fn calls(&self) -> usize {
        self.calls.get()
    }
}

/// Forwards to `inner` and counts the `poll_ready` and `call` calls.
#[derive(Clone, Debug)]
pub(crate) struct Counting<S> {
    inner: S,
    counts: Counts,
}

impl<S> Counting<S> {
    pub(crate) fn new(inner: S) -> Self {
        Counting {
            inner,
            counts: Counts::default(),
        }
    }

    /// A view on the counters, which keeps counting after `self` moves.
    pub(crate) fn counts(&self) -> Counts {
        self.counts.clone()
    }

    pub(crate) fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Service<T>, T> Service<T> for Counting<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.counts.poll_ready.bump();
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: T) -> S::Future {
        self.counts.calls.bump();
        self.inner.call(request)
    }
}

/// An error with a type of its own, to check that errors reach the caller
/// as they were sent: unchanged, or boxed and downcastable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Boom(pub(crate) &'static str);

impl fmt::Display for Boom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "boom: {}", self.0)
    }
}

impl std::error::Error for Boom {}

/// An error type other than the mock's, convertible from it: shows whether
/// an error went through `From` (`Converted`) or through a closure
/// (`Mapped`).
#[derive(Debug)]
pub(crate) enum AppError {
    Converted(BoxError),
    Mapped(String),
}

impl From<BoxError> for AppError {
    fn from(error: BoxError) -> Self {
        AppError::Converted(error)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Converted(error) => write!(f, "converted: {error}"),
            AppError::Mapped(text) => write!(f, "mapped: {text}"),
        }
    }
}

impl std::error::Error for AppError {}

/// Checks that `service`, built around the mock behind `handle`, is ready
/// exactly when the mock is, and that the mock's wake-up reaches the task
/// polling `service`.
///
/// Leaves the mock with an allowance of one call, reserved by `service`.
pub(crate) fn assert_readiness_follows_mock<Req, S, T, U>(
    service: &mut Spawn<S>,
    handle: &mut Handle<T, U>,
) where
    S: Service<Req>,
    S::Error: fmt::Debug,
{
    handle.allow(0);
    assert_pending!(service.poll_ready(), "not ready while the mock is not");
    assert!(!service.is_woken(), "no wake-up before the mock is ready");

    handle.allow(1);
    assert!(
        service.is_woken(),
        "the mock's wake-up reaches the caller's task"
    );
    assert_ready_ok!(service.poll_ready(), "ready once the mock is");
}

/// Takes the next request that reached the mock behind `handle`, without
/// waiting (so it works outside a tokio runtime too).
///
/// # Panics
///
/// If no request is there, or the mock is gone.
#[track_caller]
pub(crate) fn take_request<T, U>(handle: &mut Handle<T, U>) -> (T, SendResponse<U>) {
    match handle.poll_request() {
        Poll::Ready(Some(request)) => request,
        Poll::Ready(None) => panic!("the mock is gone"),
        Poll::Pending => panic!("no request reached the mock"),
    }
}

/// Whether every clone of the mock behind `handle` was dropped (once the
/// requests it received are taken).
pub(crate) fn mock_dropped<T, U>(handle: &mut Handle<T, U>) -> bool {
    loop {
        match handle.poll_request() {
            Poll::Ready(None) => return true,
            Poll::Ready(Some(_)) => {}
            Poll::Pending => return false,
        }
    }
}

/// Compiles only if `T` is `Send`; with the four below, for the tests of
/// auto traits.
pub(crate) fn assert_send<T: Send>() {}
/// Compiles only if `T` is `Sync`.
pub(crate) fn assert_sync<T: Sync>() {}
/// Compiles only if `T` is `Unpin`.
pub(crate) fn assert_unpin<T: Unpin>() {}
/// Compiles only if `T` is `Clone`.
pub(crate) fn assert_clone<T: Clone>() {}
/// Compiles only if `T` is `Copy`.
pub(crate) fn assert_copy<T: Copy>() {}

/// Waits until `service` is ready: what `ServiceExt::ready` does, without
/// needing the `util` feature.
pub(crate) async fn ready<S, Req>(service: &mut S) -> Result<(), S::Error>
where
    S: Service<Req>,
{
    std::future::poll_fn(|cx| service.poll_ready(cx)).await
}

/// Waits until `service` is ready, then calls it and waits for the
/// response: what `ServiceExt::oneshot` does, keeping the service.
pub(crate) async fn ready_and_call<S, Req>(
    service: &mut S,
    request: Req,
) -> Result<S::Response, S::Error>
where
    S: Service<Req>,
{
    ready(service).await?;
    service.call(request).await
}

/// What a `tracing_subscriber::fmt` subscriber wrote, for tests of the
/// events a middleware emits: give a clone to `with_writer`, read `lines`.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub(crate) fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures what the current thread's events write (at debug and above,
/// without times or targets), until the guard is dropped.
pub(crate) fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

/// The captured lines that contain `needle`.
pub(crate) fn lines_with(captured: &Captured, needle: &str) -> Vec<String> {
    captured
        .lines()
        .into_iter()
        .filter(|line| line.contains(needle))
        .collect()
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A current-thread runtime whose clock is paused, for property tests that
/// play each case on tokio's clock from a fresh start.
pub(crate) fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

/// The configuration of donjon's property tests: `cases` cases, and no
/// failure file. A failing case is kept as a named regression test
/// (`issue_<n>_<what>`) rather than as a seed file written into the source
/// tree; `PROPTEST_RNG_SEED` replays a run.
pub(crate) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// Checks that no interval holds more of `times` (sorted, in nanoseconds)
/// than `burst + rate × t` allows for `quota`: on every pair of times (the
/// fullest intervals start and end at admitted times), in integer
/// arithmetic.
#[cfg(feature = "limit")]
pub(crate) fn check_bound(
    times: &[u64],
    quota: &donjon::limit::gcra::Quota,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let per = quota.per().as_nanos();
    for i in 0..times.len() {
        for j in i..times.len() {
            let n = (j - i + 1) as u128;
            let t = u128::from(times[j] - times[i]);
            // n ≤ burst + t × num / per, without division.
            proptest::prop_assert!(
                n * per <= u128::from(quota.burst()) * per + t * u128::from(quota.num()),
                "{n} requests in {t} ns with {quota:?}"
            );
        }
    }
    Ok(())
}

/// Always ready; records when each call reaches it, as the time since
/// `start` on tokio's clock. Clones record into the same log.
#[derive(Clone, Debug)]
pub(crate) struct Recorder {
    start: tokio::time::Instant,
    log: Arc<Mutex<Vec<std::time::Duration>>>,
}

impl Recorder {
    pub(crate) fn new(start: tokio::time::Instant) -> Self {
        Recorder {
            start,
            log: Arc::default(),
        }
    }

    /// The log every clone records into.
    pub(crate) fn log(&self) -> Arc<Mutex<Vec<std::time::Duration>>> {
        Arc::clone(&self.log)
    }
}

impl Service<()> for Recorder {
    type Response = ();
    type Error = std::convert::Infallible;
    type Future = Ready<Result<(), std::convert::Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, (): ()) -> Self::Future {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.start.elapsed());
        std::future::ready(Ok(()))
    }
}

/// A hedge policy that copies and hedges every request.
#[cfg(feature = "hedge")]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HedgeEvery;

#[cfg(feature = "hedge")]
impl<Req: Clone> donjon::hedge::Policy<Req> for HedgeEvery {
    fn clone_request(&self, request: &Req) -> Option<Req> {
        Some(request.clone())
    }

    fn can_retry(&self, _: &Req) -> bool {
        true
    }
}
