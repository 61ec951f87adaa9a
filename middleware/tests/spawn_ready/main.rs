//! Integration tests of `donjon::spawn_ready`: `SpawnReady` driving a
//! service that is not ready in a background task, in the caller's tracing
//! span, and aborting that task when dropped.
#![cfg(feature = "spawn-ready")]

#[path = "../support/mod.rs"]
mod support;

use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use donjon::spawn_ready::{SpawnReady, SpawnReadyLayer};
use donjon::{BoxError, Service, ServiceExt};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Mock, Spawn, error::Closed};
use tokio::task::JoinError;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use support::Boom;

type Svc = Spawn<SpawnReady<Mock<&'static str, &'static str>>>;

fn new_service() -> (Svc, mock::Handle<&'static str, &'static str>) {
    mock::spawn_layer(SpawnReadyLayer::new())
}

/// Lets the runtime run the background tasks, polling `service` again only
/// when its task was woken, until it is ready or fails: a lost wake-up
/// fails the test instead of hanging it.
///
/// (A wake-up may come early: the mock still holds the waker of the poll
/// that found it not ready, and wakes it when allowed to go on, before the
/// background task has run.)
async fn until_ready<R, S>(service: &mut Spawn<S>) -> Result<(), S::Error>
where
    S: Service<R>,
{
    for _ in 0..100 {
        tokio::task::yield_now().await;
        if service.is_woken() {
            if let Poll::Ready(outcome) = service.poll_ready() {
                return outcome;
            }
        }
    }
    panic!("the caller was never woken to a result");
}

/// Lets the runtime run the background tasks for a while.
async fn let_the_runtime_run() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn when_inner_is_not_ready() {
    let (mut service, mut handle) = new_service();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    let_the_runtime_run().await;
    assert!(
        !service.is_woken(),
        "no wake-up while the inner is not ready"
    );
    assert_pending!(service.poll_ready());

    handle.allow(1);
    until_ready::<&str, _>(&mut service).await.unwrap();

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[test]
fn a_ready_inner_needs_no_background_task() {
    // No runtime here: a service ready at once is never spawned.
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    let (request, send_response) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(request, "hello");
    send_response.send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn the_service_goes_back_and_forth_between_caller_and_background() {
    let (mut service, mut handle) = new_service();

    for round in ["one", "two", "three"] {
        handle.allow(0);
        assert_pending!(service.poll_ready());
        handle.allow(1);
        until_ready::<&str, _>(&mut service).await.unwrap();

        let mut response = task::spawn(service.call(round));
        assert_request_eq!(handle, round).send_response(round);
        assert_eq!(assert_ready_ok!(response.poll()), round);
    }
}

#[test]
fn when_inner_fails() {
    let (mut service, mut handle) = new_service();

    handle.send_error("foobar");
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.to_string(), "foobar");
}

#[tokio::test]
async fn a_readiness_error_in_the_background_is_returned_with_its_type() {
    let (mut service, mut handle) = new_service();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.send_error(Boom("foobar"));

    let error = until_ready::<&str, _>(&mut service).await.unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("foobar")));
}

#[tokio::test]
async fn a_response_error_is_boxed_with_its_type() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error(Boom("bad request"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("bad request")));

    // A response error does not end the service.
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test]
async fn a_dropped_response_future_leaves_the_service_usable() {
    let (mut service, mut handle) = new_service();

    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready());
        drop(service.call("abandoned"));
        assert_request_eq!(handle, "abandoned").send_response("nobody listens");
    }
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("kept"));
    assert_request_eq!(handle, "kept").send_response("delivered");
    assert_eq!(assert_ready_ok!(response.poll()), "delivered");
}

#[tokio::test]
async fn a_dropped_handle_fails_readiness_with_closed() {
    let (mut service, handle) = new_service();

    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn a_handle_dropped_while_in_the_background_wakes_and_fails_the_caller() {
    let (mut service, mut handle) = new_service();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    let_the_runtime_run().await;
    drop(handle);

    let error = until_ready::<&str, _>(&mut service).await.unwrap_err();
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn an_in_flight_response_fails_with_closed_when_the_handle_goes_away() {
    let (mut service, handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    drop(handle);
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn abort_on_drop() {
    let (mut service, mut handle) = new_service();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    let_the_runtime_run().await;
    assert!(
        handle.poll_request().is_pending(),
        "the mock is alive in the background task"
    );

    drop(service);
    for _ in 0..100 {
        match handle.poll_request() {
            Poll::Ready(None) => return,
            Poll::Ready(Some(_)) => panic!("no request was made"),
            Poll::Pending => tokio::task::yield_now().await,
        }
    }
    panic!("the background task still holds the mock");
}

#[tokio::test]
async fn dropping_a_service_never_spawned_drops_the_inner_service() {
    let (service, mut handle) = new_service();
    drop(service);
    assert!(matches!(handle.poll_request(), Poll::Ready(None)));
}

/// Records the tracing span current at each of its polls; `Pending` on its
/// first poll (without waking anyone: the background task polls it again
/// at once), ready after.
#[derive(Clone, Debug, Default)]
struct SpanProbe {
    polls: usize,
    seen: Arc<Mutex<Vec<tracing::Span>>>,
}

impl SpanProbe {
    fn seen(&self) -> Vec<tracing::Span> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Service<()> for SpanProbe {
    type Response = ();
    type Error = BoxError;
    type Future = Ready<Result<(), BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tracing::Span::current());
        self.polls += 1;
        if self.polls == 1 {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    }

    fn call(&mut self, (): ()) -> Self::Future {
        ready(Ok(()))
    }
}

#[tokio::test]
async fn propagates_trace_spans() {
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let probe = SpanProbe::default();
    let mut service = Spawn::new(SpawnReady::new(probe.clone()));

    let caller = tracing::info_span!("caller");
    {
        let _entered = caller.enter();
        assert_pending!(service.poll_ready());
    }
    // The background task runs while no span is entered here: it still runs
    // in the caller's span, the one current at the `poll_ready` above.
    assert!(tracing::Span::current().is_none());
    let later = tracing::info_span!("later");
    let mut woken = false;
    for _ in 0..100 {
        tokio::task::yield_now().await;
        if service.is_woken() {
            woken = true;
            break;
        }
    }
    assert!(woken, "the background task woke the caller");
    {
        let _entered = later.enter();
        assert_ready_ok!(service.poll_ready());
    }

    let seen = probe.seen();
    let names: Vec<_> = seen
        .iter()
        .map(|span| span.metadata().map(|meta| meta.name()))
        .collect();
    assert_eq!(
        names,
        [Some("caller"), Some("caller"), Some("later")],
        "spans at the first poll, the background poll, and the last poll"
    );
    assert_eq!(seen[1], caller, "the very span of the caller, not a copy");
}

#[tokio::test]
async fn propagates_trace_spans_into_a_spawned_caller() {
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let probe = SpanProbe::default();
    let service = SpawnReady::new(probe.clone());

    let span = tracing::info_span!("request");
    let outcome = tokio::spawn(tracing::Instrument::instrument(
        service.oneshot(()),
        span.clone(),
    ));
    outcome.await.expect("the caller did not panic").unwrap();

    let seen = probe.seen();
    assert_eq!(seen.len(), 3, "first poll, background poll, poll once back");
    assert!(seen.iter().all(|seen| *seen == span), "{seen:?}");
}

/// `Pending` on its first poll; panics on its second, which the background
/// task makes.
#[derive(Debug, Default)]
struct PanicsOnSecondPoll {
    polls: usize,
}

impl Service<()> for PanicsOnSecondPoll {
    type Response = ();
    type Error = BoxError;
    type Future = Ready<Result<(), BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.polls += 1;
        assert!(self.polls < 2, "the inner poll_ready blew up");
        Poll::Pending
    }

    fn call(&mut self, (): ()) -> Self::Future {
        ready(Ok(()))
    }
}

/// Runs a `SpawnReady` over `PanicsOnSecondPoll` until its background task
/// has panicked, and checks the error that reports it.
async fn after_a_background_panic() -> Spawn<SpawnReady<PanicsOnSecondPoll>> {
    let mut service = Spawn::new(SpawnReady::new(PanicsOnSecondPoll::default()));
    assert_pending!(service.poll_ready());

    let error = until_ready::<(), _>(&mut service).await.unwrap_err();
    let join_error = error
        .downcast_ref::<JoinError>()
        .unwrap_or_else(|| panic!("not a JoinError: {error}"));
    assert!(join_error.is_panic());
    service
}

#[tokio::test]
async fn a_background_panic_is_returned_as_a_join_error() {
    after_a_background_panic().await;
}

#[tokio::test]
#[should_panic(
    expected = "SpawnReady::poll_ready called after it returned an error: the service is gone"
)]
async fn poll_ready_after_a_background_panic_panics() {
    let mut service = after_a_background_panic().await;
    let _ = service.poll_ready();
}

#[test]
#[should_panic(
    expected = "SpawnReady::poll_ready called after it returned an error: the service is gone"
)]
fn poll_ready_after_a_readiness_error_panics() {
    let (mut service, mut handle) = new_service();
    handle.send_error("foobar");
    assert_ready_err!(service.poll_ready());
    let _ = service.poll_ready();
}

#[test]
#[should_panic(
    expected = "poll_ready must be called and return Ready(Ok(())) before SpawnReady::call"
)]
fn call_before_poll_ready_panics_after_a_failure() {
    let (mut service, mut handle) = new_service();
    handle.send_error("foobar");
    assert_ready_err!(service.poll_ready());
    drop(service.call("hello"));
}

#[tokio::test]
#[should_panic(
    expected = "poll_ready must be called and return Ready(Ok(())) before SpawnReady::call"
)]
async fn call_while_in_the_background_panics() {
    let (mut service, mut handle) = new_service();
    handle.allow(0);
    assert_pending!(service.poll_ready());
    drop(service.call("too early"));
}

#[tokio::test]
async fn layers_wrap_services_in_spawn_ready() {
    let (mut from_new, mut new_handle) = mock::spawn_layer(SpawnReadyLayer::new());
    let (mut from_fn, mut fn_handle) = mock::spawn_layer(SpawnReady::<()>::layer());
    let (mut from_default, mut default_handle) = mock::spawn_layer(SpawnReadyLayer::default());

    for (service, handle) in [
        (&mut from_new, &mut new_handle),
        (&mut from_fn, &mut fn_handle),
        (&mut from_default, &mut default_handle),
    ] {
        handle.allow(0);
        assert_pending!(service.poll_ready());
        handle.allow(1);
        until_ready::<&str, _>(service).await.unwrap();
        let mut response = task::spawn(service.call("hello"));
        assert_request_eq!(handle, "hello").send_response("world");
        assert_eq!(assert_ready_ok!(response.poll()), "world");
    }
    assert_eq!(
        format!("{:?}", SpawnReadyLayer::new().clone()),
        "SpawnReadyLayer(())"
    );
}

#[test]
fn the_response_future_is_debug() {
    let (mut service, _handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_eq!(format!("{response:?}"), "ResponseFuture(...)");
}
