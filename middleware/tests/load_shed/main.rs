//! Integration tests of `donjon::load_shed`: `LoadShed`, `LoadShedLayer`,
//! `Overloaded` and `ServiceBuilder::load_shed`, driven by a mock inner
//! service.
#![cfg(feature = "load-shed")]

#[path = "../support/mod.rs"]
mod support;

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use donjon::load_shed::error::Overloaded;
use donjon::load_shed::{LoadShed, LoadShedLayer};
use donjon::{BoxError, Service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn, error::Closed};
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use support::{Boom, Broken, Lingering};

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

/// A `LoadShed` around a fresh mock.
fn new_service() -> (Spawn<LoadShed<Mock>>, Handle) {
    mock::spawn_layer(LoadShedLayer::new())
}

/// Asserts that `response` fails at its first poll with `Overloaded`.
fn assert_shed<F, T>(response: F)
where
    F: Future<Output = Result<T, BoxError>>,
    T: fmt::Debug,
{
    let mut response = task::spawn(response);
    let error = assert_ready_err!(response.poll(), "a shed request fails at once");
    assert!(error.is::<Overloaded>(), "unexpected error: {error}");
}

// Readiness.

#[tokio::test]
async fn a_request_reaches_a_ready_inner_service() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[test]
fn a_request_is_shed_at_once_when_the_inner_service_is_not_ready() {
    let (mut service, mut handle) = new_service();
    handle.allow(0);

    assert_ready_ok!(
        service.poll_ready(),
        "load shedding never leaves the caller waiting"
    );
    let mut response = task::spawn(service.call("hello"));
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Overloaded>(), "unexpected error: {error}");
    assert_eq!(error.to_string(), "service overloaded");
    assert_pending!(handle.poll_request(), "the inner service never saw it");
}

#[test]
fn a_shed_caller_is_not_woken_by_the_inner_service_and_the_next_request_is_served() {
    let (mut service, mut handle) = new_service();
    handle.allow(0);
    assert_ready_ok!(service.poll_ready());
    assert_shed(service.call("shed"));

    handle.allow(1);
    assert!(
        !service.is_woken(),
        "the shed caller stopped waiting: its waker was withdrawn from the inner service"
    );
    assert_ready_ok!(service.poll_ready());
    let _response = service.call("served");
    let (request, _send_response) = assert_ready!(handle.poll_request()).expect("a request");
    assert_eq!(request, "served");
}

#[tokio::test]
async fn one_readiness_serves_one_call() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut served = task::spawn(service.call("first"));
    // No `poll_ready` in between: the readiness seen was used up.
    assert_shed(service.call("second"));

    assert_request_eq!(handle, "first").send_response("done");
    assert_eq!(assert_ready_ok!(served.poll()), "done");
    assert_pending!(handle.poll_request(), "only the first request got through");
}

#[test]
fn repeated_poll_ready_still_serves_one_call() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);

    assert_ready_ok!(service.poll_ready());
    assert_ready_ok!(service.poll_ready());
    let _served = service.call("first");
    // The mock's one call is spent: polling again finds it not ready.
    assert_ready_ok!(service.poll_ready());
    assert_shed(service.call("second"));

    let (request, _send_response) = assert_ready!(handle.poll_request()).expect("a request");
    assert_eq!(request, "first");
    assert_pending!(handle.poll_request());
}

#[test]
fn a_call_without_poll_ready_is_shed_without_touching_the_inner_service() {
    // The mock panics when called without a reservation: load shedding must
    // not call it.
    let (mut service, mut handle) = new_service();
    assert_shed(service.call("hello"));
    assert_pending!(handle.poll_request());
}

#[tokio::test]
async fn a_clone_starts_not_ready() {
    let (mut service, mut handle) = new_service();
    assert_ready_ok!(service.poll_ready());

    let mut clone = service.clone();
    assert_shed(clone.call("from the clone"));

    let mut response = task::spawn(service.call("from the original"));
    assert_request_eq!(handle, "from the original").send_response("done");
    assert_eq!(assert_ready_ok!(response.poll()), "done");
    assert_pending!(handle.poll_request());
}

// Inner errors.

#[test]
fn a_readiness_error_is_returned_boxed() {
    let (mut service, mut handle) = new_service();
    handle.send_error(Boom("not ready"));

    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
}

#[tokio::test]
async fn a_response_error_is_returned_boxed() {
    let (mut service, mut handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));

    assert_request_eq!(handle, "hello").send_error(Boom("failed"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("failed")));
}

#[test]
fn inner_errors_of_a_concrete_type_are_boxed_as_is() {
    let mut service = Spawn::new(LoadShed::new(Broken { ready: false }));
    let error: BoxError = assert_ready_err!(service.poll_ready::<()>());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("readiness")));

    let mut service = Spawn::new(LoadShed::new(Broken { ready: true }));
    assert_ready_ok!(service.poll_ready::<()>());
    let mut response = task::spawn(service.call(()));
    let error: BoxError = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));
}

// Cancellation.

#[test]
fn dropping_a_response_future_drops_the_inner_future() {
    let inner = Lingering::default();
    let mut service = Spawn::new(LoadShed::new(inner.clone()));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(()));
    assert_pending!(response.poll());
    assert_eq!(inner.dropped(), 0);
    drop(response);
    assert_eq!(inner.dropped(), 1);
}

// The inner service gone.

#[test]
fn a_dropped_mock_handle_fails_poll_ready_with_closed() {
    let (mut service, handle) = new_service();
    drop(handle);

    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[test]
fn a_request_in_flight_fails_with_closed_when_the_handle_is_dropped() {
    let (mut service, handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    drop(handle);
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

// The error, the layer, the future.

#[test]
fn overloaded_layer_and_future_formatting() {
    assert_eq!(Overloaded::new().to_string(), "service overloaded");
    assert_eq!(format!("{:?}", Overloaded::new()), "Overloaded");
    assert_eq!(format!("{:?}", Overloaded::default()), "Overloaded");
    assert!(Overloaded::new().source().is_none());
    assert_eq!(format!("{:?}", LoadShedLayer::new()), "LoadShedLayer");
    assert_eq!(format!("{:?}", LoadShedLayer::default()), "LoadShedLayer");

    let mut service = LoadShed::new(Lingering::default());
    assert_eq!(format!("{:?}", service.call(())), "ResponseFuture");
}

#[test]
fn load_shed_gives_access_to_the_inner_service() {
    let mut service = LoadShed::new(Lingering::default());
    let dropped = Arc::clone(&service.get_ref().dropped);
    assert!(Arc::ptr_eq(&dropped, &service.get_mut().dropped));
    assert!(Arc::ptr_eq(&dropped, &service.into_inner().dropped));
}

/// `load_shed()` in front of `concurrency_limit(1)`: a request arriving
/// while the only permit is out is shed instead of queued.
#[cfg(feature = "limit")]
mod in_front_of_a_concurrency_limit {
    use donjon::ServiceBuilder;
    use donjon::limit::ConcurrencyLimit;
    use donjon::load_shed::LoadShed;
    use donjon_test::assert_request_eq;
    use donjon_test::mock::{self, Spawn};
    use tokio_test::{assert_pending, assert_ready_ok, task};

    use super::{Handle, Mock, assert_shed};

    fn new_service() -> (Spawn<LoadShed<ConcurrencyLimit<Mock>>>, Handle) {
        mock::spawn_with(|mock| {
            ServiceBuilder::new()
                .load_shed()
                .concurrency_limit(1)
                .service(mock)
        })
    }

    #[tokio::test]
    async fn the_builder_sheds_the_second_concurrent_request() {
        let (mut service, mut handle) = new_service();

        assert_ready_ok!(service.poll_ready());
        let mut first = task::spawn(service.call("first"));
        assert_ready_ok!(service.poll_ready(), "ready, though the permit is out");
        assert_shed(service.call("second"));

        assert_request_eq!(handle, "first").send_response("done");
        assert_eq!(assert_ready_ok!(first.poll()), "done");
        assert!(
            !service.is_woken(),
            "the shed caller left the limit's queue: the freed permit is not granted to it"
        );
        assert_ready_ok!(service.poll_ready());
        let mut third = task::spawn(service.call("third"));
        assert_request_eq!(handle, "third").send_response("done again");
        assert_eq!(assert_ready_ok!(third.poll()), "done again");
        assert_pending!(handle.poll_request(), "the shed request never got through");
    }

    #[tokio::test]
    async fn dropping_a_response_future_lets_the_next_request_through() {
        let (mut service, mut handle) = new_service();

        assert_ready_ok!(service.poll_ready());
        let first = service.call("first");
        assert_ready_ok!(service.poll_ready());
        assert_shed(service.call("shed"));

        drop(first);
        assert!(
            !service.is_woken(),
            "the shed caller left the limit's queue: the dropped future's permit stays free"
        );
        assert_ready_ok!(service.poll_ready());
        let mut second = task::spawn(service.call("second"));
        let _unanswered = assert_request_eq!(handle, "first");
        assert_request_eq!(handle, "second").send_response("done");
        assert_eq!(assert_ready_ok!(second.poll()), "done");
    }
}

/// `LoadShed::with_max_wait`: wait a bounded time for the inner service
/// before shedding.
mod bounded_wait {
    use std::time::Duration;

    use donjon::Layer;
    use tokio::time::{Instant, advance};

    use super::*;

    const WAIT: Duration = Duration::from_millis(100);

    type Waiting = Spawn<LoadShed<mock::Mock<&'static str, &'static str>>>;

    fn waiting_service() -> (Waiting, mock::Handle<&'static str, &'static str>) {
        mock::spawn_with(|mock| LoadShed::with_max_wait(mock, WAIT))
    }

    #[tokio::test(start_paused = true)]
    async fn a_pending_that_resolves_within_the_wait_is_served() {
        let (mut service, mut handle) = waiting_service();
        handle.allow(0);
        assert_pending!(service.poll_ready(), "waits instead of shedding");
        advance(Duration::from_millis(60)).await;
        assert_pending!(service.poll_ready());
        handle.allow(1);
        assert!(service.is_woken(), "the inner readiness wakes the caller");
        assert_ready_ok!(service.poll_ready());
        let response = service.call("hello");
        assert_request_eq!(handle, "hello").send_response("world");
        assert_eq!(response.await.expect("served"), "world");
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_wait_the_request_is_shed_and_the_timer_wakes_the_caller() {
        let (mut service, mut handle) = waiting_service();
        handle.allow(0);
        let start = Instant::now();
        assert_pending!(service.poll_ready());
        advance(WAIT - Duration::from_millis(1)).await;
        assert_pending!(service.poll_ready(), "still within the wait");
        assert!(!service.is_woken());
        advance(Duration::from_millis(1)).await;
        assert!(service.is_woken(), "the end of the wait wakes the caller");
        assert_ready_ok!(service.poll_ready(), "the wait is over");
        assert_ready_ok!(service.poll_ready(), "and stays over until the call");
        let error = service.call("late").await.expect_err("shed");
        assert!(error.is::<Overloaded>(), "{error}");
        assert_eq!(start.elapsed(), WAIT);
        assert_pending!(
            handle.poll_request(),
            "the shed request never reached the service"
        );

        // The next request gets a wait of its own.
        assert_pending!(service.poll_ready());
        advance(WAIT / 2).await;
        handle.allow(1);
        assert_ready_ok!(service.poll_ready());
    }

    #[tokio::test(start_paused = true)]
    async fn a_ready_inner_service_costs_no_wait() {
        let (mut service, mut handle) = waiting_service();
        for _ in 0..3 {
            assert_ready_ok!(service.poll_ready());
            let response = service.call("now");
            assert_request_eq!(handle, "now").send_response("done");
            assert_eq!(response.await.expect("served"), "done");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_wait_sheds_at_the_first_pending() {
        let (mut service, mut handle) =
            mock::spawn_with(|mock: mock::Mock<&'static str, &'static str>| {
                LoadShed::with_max_wait(mock, Duration::ZERO)
            });
        handle.allow(0);
        assert_ready_ok!(service.poll_ready());
        let error = service.call("x").await.expect_err("shed");
        assert!(error.is::<Overloaded>());
    }

    #[tokio::test(start_paused = true)]
    async fn an_inner_error_during_the_wait_is_returned() {
        let (mut service, mut handle) = waiting_service();
        handle.allow(0);
        assert_pending!(service.poll_ready());
        handle.send_error("broken");
        let error = assert_ready_err!(service.poll_ready());
        assert!(
            error.is::<Closed>() || error.to_string() == "broken",
            "{error}"
        );
    }

    /// With a concurrency limit: a bulkhead with a maximum wait.
    #[cfg(all(feature = "limit", feature = "util"))]
    #[tokio::test(start_paused = true)]
    async fn around_a_concurrency_limit_it_is_a_bulkhead_with_a_maximum_wait() {
        use donjon::ServiceExt;
        use donjon::limit::ConcurrencyLimitLayer;

        let inner = donjon::service_fn(|delay: u64| async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            Ok::<_, BoxError>(delay)
        });
        let service =
            LoadShedLayer::with_max_wait(WAIT).layer(ConcurrencyLimitLayer::new(1).layer(inner));
        let busy = tokio::spawn(service.clone().oneshot(50));
        tokio::task::yield_now().await;
        // Waits for the permit (freed after 50 ms), then runs: 100 ms in all.
        let start = Instant::now();
        assert_eq!(service.clone().oneshot(50).await.expect("served"), 50);
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        assert_eq!(busy.await.expect("task").expect("served"), 50);

        // A permit held for longer than the wait: shed after the wait.
        let busy = tokio::spawn(service.clone().oneshot(500));
        tokio::task::yield_now().await;
        let start = Instant::now();
        let error = service.clone().oneshot(1).await.expect_err("shed");
        assert!(error.is::<Overloaded>());
        assert_eq!(start.elapsed(), WAIT);
        assert_eq!(busy.await.expect("task").expect("served"), 500);
    }

    #[test]
    fn the_layer_and_the_service_say_how_long_they_wait() {
        assert_eq!(
            format!("{:?}", LoadShedLayer::with_max_wait(WAIT)),
            "LoadShedLayer { max_wait: 100ms }"
        );
        assert_eq!(format!("{:?}", LoadShedLayer::new()), "LoadShedLayer");
        let service = LoadShedLayer::with_max_wait(WAIT).layer(());
        assert_eq!(service.max_wait(), Some(WAIT));
        assert_eq!(service.clone().max_wait(), Some(WAIT));
        assert_eq!(LoadShed::new(()).max_wait(), None);
    }
}
