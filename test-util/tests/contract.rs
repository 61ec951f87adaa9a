//! Behaviour of `donjon_test::contract`: a correct middleware keeps every
//! rule, and each deliberately broken middleware below breaks exactly the
//! rule it was written to break.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::Duration;

use donjon_layer::{Identity, layer_fn};
use donjon_service::Service;
use donjon_test::contract::{Contract, Rule};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Forwards everything unchanged: keeps every rule.
#[derive(Clone)]
struct PassThrough<S> {
    inner: S,
}

impl<S: Service<R>, R> Service<R> for PassThrough<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

/// Broken: reports ready when the inner service is not.
#[derive(Clone)]
struct SwallowsPending<S> {
    inner: S,
}

impl<S: Service<R>, R> Service<R> for SwallowsPending<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        match self.inner.poll_ready(cx) {
            Poll::Pending => Poll::Ready(Ok(())),
            other => other,
        }
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

/// Broken: polls the inner service with a waker that does nothing, so the
/// caller is never woken.
#[derive(Clone)]
struct LosesWakeup<S> {
    inner: S,
}

impl<S: Service<R>, R> Service<R> for LosesWakeup<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner
            .poll_ready(&mut Context::from_waker(Waker::noop()))
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

/// Broken: sends each request a second time when the inner service happens
/// to be ready again.
#[derive(Clone)]
struct CallsTwice<S> {
    inner: S,
}

impl<S: Service<R>, R: Clone> Service<R> for CallsTwice<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        let first = self.inner.call(request.clone());
        match self
            .inner
            .poll_ready(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(Ok(())) => self.inner.call(request),
            _ => first,
        }
    }
}

/// Broken: makes the inner service ready itself in `call`, so a call made
/// without `poll_ready` still goes through.
#[derive(Clone)]
struct ReadiesInCall<S> {
    inner: S,
}

impl<S: Service<R>, R> Service<R> for ReadiesInCall<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        let _ = self
            .inner
            .poll_ready(&mut Context::from_waker(Waker::noop()));
        self.inner.call(request)
    }
}

/// The permits of [`OnePermit`], shared by its clones.
#[derive(Default)]
struct Permits {
    available: usize,
    waiting: Vec<Waker>,
}

impl Permits {
    /// Gives a permit back, waking the waiting tasks if `wake`.
    fn release(permits: &Mutex<Permits>, wake: bool) {
        let mut permits = permits.lock().unwrap();
        permits.available += 1;
        let waiting = std::mem::take(&mut permits.waiting);
        drop(permits);
        if wake {
            waiting.into_iter().for_each(Waker::wake);
        }
    }
}

/// When [`OnePermit`]'s response future gives its permit back.
#[derive(Clone, Copy)]
enum Release {
    /// When the response is ready, and when the future is dropped: correct.
    Always,
    /// Broken: only when the response is ready; a dropped future leaks it.
    OnResponse,
    /// Broken: like `Always`, but without waking the tasks waiting for it.
    Silently,
}

/// A limit of one request at a time (`permits` shared by clones), whose
/// response future gives the permit back as `release` says.
struct OnePermit<S> {
    inner: S,
    permits: Arc<Mutex<Permits>>,
    holding: bool,
    release: Release,
}

impl<S> OnePermit<S> {
    fn new(inner: S, release: Release) -> Self {
        let permits = Permits {
            available: 1,
            waiting: Vec::new(),
        };
        OnePermit {
            inner,
            permits: Arc::new(Mutex::new(permits)),
            holding: false,
            release,
        }
    }
}

impl<S: Clone> Clone for OnePermit<S> {
    fn clone(&self) -> Self {
        OnePermit {
            inner: self.inner.clone(),
            permits: Arc::clone(&self.permits),
            holding: false,
            release: self.release,
        }
    }
}

impl<S: Service<R>, R> Service<R> for OnePermit<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = WithPermit<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if !self.holding {
            let mut permits = self.permits.lock().unwrap();
            if permits.available == 0 {
                permits.waiting.push(cx.waker().clone());
                return Poll::Pending;
            }
            permits.available -= 1;
            self.holding = true;
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> WithPermit<S::Future> {
        assert!(self.holding, "OnePermit: poll_ready must be called first");
        self.holding = false;
        WithPermit {
            inner: Box::pin(self.inner.call(request)),
            permits: Some(Arc::clone(&self.permits)),
            release: self.release,
        }
    }
}

/// A response future holding a permit of [`OnePermit`].
struct WithPermit<F> {
    inner: Pin<Box<F>>,
    /// `None` once given back.
    permits: Option<Arc<Mutex<Permits>>>,
    release: Release,
}

impl<F: Future> Future for WithPermit<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let output = ready!(self.inner.as_mut().poll(cx));
        if let Some(permits) = self.permits.take() {
            Permits::release(&permits, true);
        }
        Poll::Ready(output)
    }
}

impl<F> Drop for WithPermit<F> {
    fn drop(&mut self) {
        let Some(permits) = self.permits.take() else {
            return;
        };
        match self.release {
            Release::Always => Permits::release(&permits, true),
            Release::OnResponse => {}
            Release::Silently => Permits::release(&permits, false),
        }
    }
}

/// Broken: remembers readiness in a flag that its derived `Clone` copies.
#[derive(Clone)]
struct CopiesReadiness<S> {
    inner: S,
    ready: bool,
}

impl<S: Service<R>, R> Service<R> for CopiesReadiness<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if !self.ready {
            ready!(self.inner.poll_ready(cx))?;
            self.ready = true;
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: R) -> S::Future {
        assert!(
            self.ready,
            "CopiesReadiness: poll_ready must be called first"
        );
        self.ready = false;
        self.inner.call(request)
    }
}

/// Broken: its clones share one "the inner service is ready" flag, so a
/// clone of a ready service goes on to call its own inner service, which is
/// not ready; and a call by any of them clears the flag, taking the
/// original's readiness. Each insists on a `poll_ready` before a call, but
/// the derived `Clone` copies that too.
#[derive(Clone)]
struct SharesReadiness<S> {
    inner: S,
    inner_ready: Arc<Mutex<bool>>,
    polled: bool,
}

impl<S> SharesReadiness<S> {
    fn new(inner: S) -> Self {
        SharesReadiness {
            inner,
            inner_ready: Arc::new(Mutex::new(false)),
            polled: false,
        }
    }
}

impl<S: Service<R>, R> Service<R> for SharesReadiness<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if !*self.inner_ready.lock().unwrap() {
            ready!(self.inner.poll_ready(cx))?;
            *self.inner_ready.lock().unwrap() = true;
        }
        self.polled = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: R) -> S::Future {
        assert!(
            std::mem::take(&mut self.polled),
            "SharesReadiness: poll_ready must be called first"
        );
        *self.inner_ready.lock().unwrap() = false;
        self.inner.call(request)
    }
}

/// Broken: turns an inner `poll_ready` error into readiness.
#[derive(Clone)]
struct HidesError<S> {
    inner: S,
}

impl<S: Service<R>, R> Service<R> for HidesError<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        match self.inner.poll_ready(cx) {
            Poll::Ready(Err(_)) => Poll::Ready(Ok(())),
            other => other,
        }
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

/// Broken: its clones share one slot for the caller's waker, so a clone
/// that waits replaces the original's waker with its own.
#[derive(Clone)]
struct SharesWaker<S> {
    inner: S,
    slot: Arc<WakerSlot>,
}

/// The caller's waker, woken (and taken) when the inner service wakes.
#[derive(Default)]
struct WakerSlot(Mutex<Option<Waker>>);

impl Wake for WakerSlot {
    fn wake(self: Arc<Self>) {
        if let Some(waker) = self.0.lock().unwrap().take() {
            waker.wake();
        }
    }
}

impl<S: Service<R>, R> Service<R> for SharesWaker<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        *self.slot.0.lock().unwrap() = Some(cx.waker().clone());
        let waker = Waker::from(Arc::clone(&self.slot));
        self.inner.poll_ready(&mut Context::from_waker(&waker))
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

#[tokio::test]
async fn a_correct_middleware_keeps_every_rule() {
    let report = Contract::new(layer_fn(|inner| PassThrough { inner }), || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.held(), Rule::ALL);
    assert!(report.violations().is_empty());
    assert!(report.skipped().is_empty());
}

#[tokio::test]
async fn the_mock_alone_keeps_every_rule() {
    Contract::new(Identity::new(), || 1_u8)
        .check_cloneable::<u8, u8>()
        .await;
}

#[tokio::test]
async fn report_leaves_out_the_clone_rule() {
    let report = Contract::new(layer_fn(|inner| PassThrough { inner }), || "hello")
        .report::<&str, &str>()
        .await;
    assert!(report.is_ok(), "{report}");
    assert!(!report.held().contains(&Rule::CloneStartsUnready));
    assert_eq!(report.held().len(), Rule::ALL.len() - 1);
}

#[tokio::test]
async fn swallowed_pending_breaks_pending_propagates() {
    let report = Contract::new(layer_fn(|inner| SwallowsPending { inner }), || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::PendingPropagates], "{report}");
    assert_eq!(
        report.violations()[0].observed(),
        "poll_ready returned Ready(Ok(())) while the inner service was not ready"
    );
}

#[tokio::test]
async fn lost_wakeup_breaks_wakeup_reaches_caller() {
    let report = Contract::new(layer_fn(|inner| LosesWakeup { inner }), || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::WakeupReachesCaller], "{report}");
    assert!(
        report.violations()[0].observed().contains("was not woken"),
        "{report}"
    );
}

#[tokio::test]
async fn a_limit_that_releases_on_drop_keeps_every_rule() {
    let layer = layer_fn(|inner| OnePermit::new(inner, Release::Always));
    Contract::new(layer, || "hello")
        .check_cloneable::<&str, &str>()
        .await;
}

#[tokio::test]
async fn a_release_that_wakes_nobody_breaks_wakeup_reaches_caller() {
    let layer = layer_fn(|inner| OnePermit::new(inner, Release::Silently));
    let report = Contract::new(layer, || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::WakeupReachesCaller], "{report}");
    assert!(
        report.violations()[0]
            .observed()
            .starts_with("poll_ready returned Pending while a response future was in flight"),
        "{report}"
    );
}

#[tokio::test]
async fn a_wakeup_taken_by_a_clone_breaks_wakeup_reaches_caller() {
    let layer = layer_fn(|inner| SharesWaker {
        inner,
        slot: Arc::default(),
    });
    let report = Contract::new(layer, || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::WakeupReachesCaller], "{report}");
    assert!(
        report.violations()[0]
            .observed()
            .ends_with("the clone took its wake-up"),
        "{report}"
    );

    // Only clones show it.
    let report = Contract::new(layer, || "hello")
        .report::<&str, &str>()
        .await;
    assert!(report.is_ok(), "{report}");
}

#[tokio::test]
async fn a_second_inner_call_breaks_one_call_per_ready() {
    let report = Contract::new(layer_fn(|inner| CallsTwice { inner }), || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::OneCallPerReady], "{report}");
    assert_eq!(
        report.violations()[0].observed(),
        "one call, after one Ready(Ok(())), reached the inner service 2 times"
    );
}

#[tokio::test]
async fn forwarding_a_call_made_without_readiness_breaks_one_call_per_ready() {
    let report = Contract::new(layer_fn(|inner| ReadiesInCall { inner }), || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::OneCallPerReady], "{report}");
    assert!(
        report.violations()[0]
            .observed()
            .starts_with("a call made without poll_ready"),
        "{report}"
    );
}

#[tokio::test]
async fn a_permit_leaked_by_a_dropped_future_breaks_drop_releases() {
    let layer = layer_fn(|inner| OnePermit::new(inner, Release::OnResponse));
    let report = Contract::new(layer, || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::DropReleases], "{report}");
    assert_eq!(
        report.violations()[0].observed(),
        "after 1 dropped response future, poll_ready stayed Pending though the inner service \
         was ready: the dropped futures did not release what they held"
    );
}

#[tokio::test]
async fn copied_readiness_breaks_clone_starts_unready() {
    let layer = layer_fn(|inner| CopiesReadiness {
        inner,
        ready: false,
    });
    let report = Contract::new(layer, || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::CloneStartsUnready], "{report}");
    assert!(
        report.violations()[0]
            .observed()
            .ends_with("it inherited the original's readiness"),
        "{report}"
    );

    // Without the clone rule, nothing else is wrong with it.
    let report = Contract::new(layer, || "hello")
        .report::<&str, &str>()
        .await;
    assert!(report.is_ok(), "{report}");
}

#[tokio::test]
async fn shared_readiness_breaks_clone_starts_unready() {
    let layer = layer_fn(SharesReadiness::new);
    let report = Contract::new(layer, || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::CloneStartsUnready], "{report}");
    assert!(
        report.violations()[0]
            .observed()
            .ends_with("it inherited the original's readiness"),
        "{report}"
    );

    // Without the clone rule, nothing else is wrong with it.
    let report = Contract::new(layer, || "hello")
        .report::<&str, &str>()
        .await;
    assert!(report.is_ok(), "{report}");
}

#[tokio::test]
async fn a_hidden_error_breaks_error_surfaces() {
    let report = Contract::new(layer_fn(|inner| HidesError { inner }), || "hello")
        .report_cloneable::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::ErrorSurfaces], "{report}");
    assert_eq!(
        report.violations()[0].observed(),
        "poll_ready returned Ready(Ok(())) though the inner poll_ready failed, and the call then \
         reached the inner service without its readiness"
    );
}

#[tokio::test]
async fn a_skipped_rule_is_not_checked_and_its_reason_is_reported() {
    let report = Contract::new(layer_fn(|inner| SwallowsPending { inner }), || "hello")
        .skip(Rule::PendingPropagates, "always ready, by design")
        .report_cloneable::<&str, &str>()
        .await;
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        report.skipped(),
        [(Rule::PendingPropagates, "always ready, by design")]
    );
    assert!(!report.held().contains(&Rule::PendingPropagates));
    assert!(
        report
            .to_string()
            .contains("skipped PendingPropagates: always ready, by design"),
        "{report}"
    );
}

#[test]
fn skipping_a_rule_again_replaces_its_reason() {
    let mut contract = Contract::new(Identity::new(), || ())
        .skip(Rule::DropReleases, "first")
        .skip(Rule::DropReleases, "second");
    let report = tokio_test::block_on(contract.report::<(), ()>());
    assert_eq!(report.skipped(), [(Rule::DropReleases, "second")]);
}

#[test]
#[should_panic(expected = "Contract::skip needs a reason")]
fn skip_without_a_reason_panics() {
    let _ = Contract::new(Identity::new(), || ()).skip(Rule::DropReleases, "  ");
}

#[test]
#[should_panic(expected = "Contract::with_rounds needs at least one round")]
fn zero_rounds_panics() {
    let _ = Contract::new(Identity::new(), || ()).with_rounds(0);
}

#[tokio::test]
#[should_panic(
    expected = "rule PendingPropagates (`Pending` from the inner service propagates) \
                           broken: poll_ready returned Ready(Ok(())) while the inner service \
                           was not ready"
)]
async fn check_panics_naming_the_broken_rule() {
    Contract::new(layer_fn(|inner| SwallowsPending { inner }), || "hello")
        .check::<&str, &str>()
        .await;
}

#[tokio::test]
async fn the_report_names_the_layer_and_each_outcome() {
    let report = Contract::new(layer_fn(|inner| HidesError { inner }), || "hello")
        .skip(Rule::DropReleases, "not relevant here")
        .report::<&str, &str>()
        .await;
    let text = report.to_string();
    assert!(
        text.starts_with("readiness contract broken by `donjon_layer::"),
        "{text}"
    );
    assert!(text.contains("\n- rule ErrorSurfaces ("), "{text}");
    assert!(
        text.contains("\nheld: PendingPropagates WakeupReachesCaller OneCallPerReady\n"),
        "{text}"
    );
    assert!(
        text.ends_with("\nskipped DropReleases: not relevant here"),
        "{text}"
    );
}

#[tokio::test]
async fn the_rounds_set_how_many_futures_are_dropped() {
    /// Lets two requests in before leaking.
    fn two_permits<S>(inner: S) -> OnePermit<S> {
        let service = OnePermit::new(inner, Release::OnResponse);
        service.permits.lock().unwrap().available = 2;
        service
    }
    let report = Contract::new(layer_fn(two_permits), || "hello")
        .with_rounds(2)
        .report::<&str, &str>()
        .await;
    assert_eq!(report.broken(), [Rule::DropReleases], "{report}");
    assert!(
        report.violations()[0]
            .observed()
            .starts_with("after 2 dropped response futures, "),
        "{report}"
    );
}

/// Maps `&str` requests to their length: the service's request type is not
/// the mock's.
#[derive(Clone)]
struct Length<S> {
    inner: S,
}

impl<S: Service<usize>> Service<&'static str> for Length<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: &'static str) -> S::Future {
        self.inner.call(request.len())
    }
}

#[tokio::test]
async fn the_request_type_may_differ_from_the_mocks() {
    Contract::new(layer_fn(|inner| Length { inner }), || "hello")
        .check_cloneable::<usize, String>()
        .await;
}

/// A timeout on each response: needs tokio's timer.
#[derive(Clone)]
struct Deadline<S> {
    inner: S,
}

impl<S> Service<&'static str> for Deadline<S>
where
    S: Service<&'static str, Error = BoxError>,
    S::Future: 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: &'static str) -> Self::Future {
        let response = self.inner.call(request);
        let sleep = tokio::time::sleep(Duration::from_secs(1));
        Box::pin(async move {
            tokio::select! {
                response = response => response,
                () = sleep => Err("timed out".into()),
            }
        })
    }
}

#[tokio::test(start_paused = true)]
async fn middleware_needing_a_runtime_is_checked_inside_tokio_test() {
    Contract::new(layer_fn(|inner| Deadline { inner }), || "hello")
        .check_cloneable::<&str, &str>()
        .await;
}
