//! A bulkhead never holds a permit for a caller that gave up (issue 12):
//! a caller shed by `LoadShed`'s bounded wait, or failed by `TotalTimeout`,
//! while it waited for a permit of the limit below, leaves the limit's
//! queue, although its service clone stays alive (as a server keeps one per
//! keep-alive connection). The permit freed next goes to the next caller,
//! not to the idle clone.
#![cfg(all(feature = "load-shed", feature = "timeout"))]

use std::sync::Arc;
use std::time::Duration;

use donjon::limit::ConcurrencyLimit;
use donjon::limit::adaptive::{AdaptiveConcurrencyLimitLayer, Aimd};
use donjon::load_shed::LoadShed;
use donjon::load_shed::error::Overloaded;
use donjon::timeout::TotalTimeout;
use donjon::timeout::error::Elapsed;
use donjon::{BoxError, Layer, Service, ServiceExt, service_fn};
use tokio::sync::Semaphore;

/// How long each caller is willing to wait for readiness.
const PATIENCE: Duration = Duration::from_millis(10);

/// The inner service: answers after the delay it is given.
fn sleeper() -> impl Service<Duration, Response = (), Error = BoxError, Future: Send> + Clone + Send
{
    service_fn(|delay: Duration| async move {
        tokio::time::sleep(delay).await;
        Ok::<_, BoxError>(())
    })
}

/// One caller (with no wrapper) holds the only permit for 100 ms; a
/// second waits for it,
/// gives up after `PATIENCE` (through `patient`) and stays alive; once the
/// first is done, a third caller must be served at once. `free`, where the
/// limit shows it, reports the permits free, checked after the first is
/// done.
async fn the_next_caller_is_served<S>(
    limit: S,
    patient: fn(S) -> Patient<S>,
    free: Option<&dyn Fn() -> usize>,
) where
    S: Service<Duration, Response = (), Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    let mut first = limit.clone();
    let holding = first
        .ready()
        .await
        .expect("ready")
        .call(Duration::from_millis(100));
    let holding = tokio::spawn(holding);

    let mut gave_up = patient(limit.clone());
    let error = gave_up
        .ready()
        .await
        .expect("ready")
        .call(Duration::ZERO)
        .await
        .expect_err("the second caller gives up while the permit is out");
    assert!(
        error.is::<Overloaded>() || error.is::<Elapsed>(),
        "unexpected error: {error}"
    );

    holding
        .await
        .expect("no panic")
        .expect("the first call succeeds");
    if let Some(free) = free {
        assert_eq!(
            free(),
            1,
            "the permit came back free: not granted to the caller that gave up"
        );
    }
    let mut next = patient(limit.clone());
    next.ready()
        .await
        .expect("ready")
        .call(Duration::ZERO)
        .await
        .expect("the next caller is served, not shed while nothing is in flight");
    drop(gave_up);
}

/// A caller's wrapper that gives up after `PATIENCE`.
enum Patient<S> {
    Shed(LoadShed<S>),
    Total(TotalTimeout<S>),
}

impl<S> Service<Duration> for Patient<S>
where
    S: Service<Duration, Response = (), Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = ();
    type Error = BoxError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        match self {
            Patient::Shed(service) => service.poll_ready(cx),
            Patient::Total(service) => service.poll_ready(cx),
        }
    }

    fn call(&mut self, request: Duration) -> Self::Future {
        match self {
            Patient::Shed(service) => Box::pin(service.call(request)),
            Patient::Total(service) => Box::pin(service.call(request)),
        }
    }
}

fn shed<S>(inner: S) -> Patient<S> {
    Patient::Shed(LoadShed::with_max_wait(inner, PATIENCE))
}

fn total<S>(inner: S) -> Patient<S> {
    Patient::Total(TotalTimeout::new(inner, PATIENCE))
}

#[tokio::test(start_paused = true)]
async fn issue_12_load_shed_over_a_concurrency_limit() {
    let semaphore = Arc::new(Semaphore::new(1));
    let limit = ConcurrencyLimit::new(sleeper(), 1);
    the_next_caller_is_served(limit, shed, None).await;
    let limit = ConcurrencyLimit::with_semaphore(sleeper(), Arc::clone(&semaphore));
    the_next_caller_is_served(limit, shed, Some(&|| semaphore.available_permits())).await;
}

#[tokio::test(start_paused = true)]
async fn issue_12_total_timeout_over_a_concurrency_limit() {
    let semaphore = Arc::new(Semaphore::new(1));
    let limit = ConcurrencyLimit::new(sleeper(), 1);
    the_next_caller_is_served(limit, total, None).await;
    let limit = ConcurrencyLimit::with_semaphore(sleeper(), Arc::clone(&semaphore));
    the_next_caller_is_served(limit, total, Some(&|| semaphore.available_permits())).await;
}

#[tokio::test(start_paused = true)]
async fn issue_12_load_shed_and_total_timeout_over_the_adaptive_limit() {
    for patient in [shed as fn(_) -> _, total] {
        let limit = AdaptiveConcurrencyLimitLayer::new(Aimd::new())
            .with_min_limit(1)
            .with_initial_limit(1)
            .with_max_limit(1)
            .layer(sleeper());
        let handle = limit.handle();
        let free = move || handle.limit() - handle.in_flight();
        the_next_caller_is_served(limit, patient, Some(&free)).await;
    }
}
