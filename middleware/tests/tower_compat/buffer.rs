//! Buffers across the line: tower's `Buffer` over a donjon service, whose
//! worker task polls it through `TowerService`, and donjon's `Buffer` over a
//! tower service, whose worker polls it through `DonjonService`. The
//! workers run as real tokio tasks; tokio's paused clock only bounds the
//! waits, so that a lost wake-up fails the test instead of hanging it.

use std::future::{Future, poll_fn};
use std::time::Duration;

use donjon::tower_compat::IntoTower;
use donjon_test::assert_request_eq;
use donjon_test::mock::error::Closed;
use tokio_test::{assert_pending, task};

use crate::support::Boom;
use crate::{donjon_pair, find_in_chain};

/// Awaits `future`, failing the test if it is not done within a second of
/// tokio's (paused, auto-advancing) clock: when every task is idle, the
/// clock jumps and the test fails instead of hanging.
async fn within_a_second<F: Future>(future: F, what: &str) -> F::Output {
    tokio::time::timeout(Duration::from_secs(1), future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}: a wake-up was lost"))
}

/// Lets every spawned task run until it is idle: with the paused clock,
/// tokio only moves the clock (and ends this sleep) once nothing else can
/// run.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

// ----- tower's Buffer over donjon services -----

#[tokio::test(start_paused = true)]
async fn a_tower_buffer_over_a_donjon_mock_sends_once_the_mock_wakes_its_worker() {
    use tower_service::Service as _;

    let (mock, mut handle) = donjon_pair();
    handle.allow(0);
    let mut service = tower::buffer::Buffer::new(mock.into_tower(), 1);

    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room");
    let mut response = task::spawn(service.call("hello"));
    settle().await;
    assert_pending!(response.poll());
    assert!(
        handle.poll_request().is_pending(),
        "the worker waits for the mock's readiness"
    );

    handle.allow(1);
    let responder = within_a_second(handle.next_request(), "the request")
        .await
        .expect("the worker, woken, sends the request");
    assert_eq!(responder.0, "hello");
    responder.1.send_response("world");
    let answer = within_a_second(response, "the response").await;
    assert_eq!(answer.expect("answered"), "world");
}

#[tokio::test(start_paused = true)]
async fn a_tower_buffer_over_a_donjon_mock_reports_its_errors() {
    use tower_service::Service as _;

    let (mock, mut handle) = donjon_pair();
    let mut service = tower::buffer::Buffer::new(mock.into_tower(), 1);

    // A response error reaches the caller as sent.
    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room");
    let response = service.call("fails");
    within_a_second(async { assert_request_eq!(handle, "fails") }, "the request")
        .await
        .send_error(Boom("response"));
    let error = within_a_second(response, "the response")
        .await
        .expect_err("the mock failed the response");
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));

    // A readiness error of the donjon mock fails the buffer, and is found
    // in the chain of tower's `ServiceError`.
    handle.send_error(Boom("readiness"));
    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room until its worker sees the error");
    let error = within_a_second(service.call("unlucky"), "the response")
        .await
        .expect_err("the worker failed");
    assert!(error.is::<tower::buffer::error::ServiceError>(), "{error}");
    assert_eq!(
        find_in_chain::<Boom>(error.as_ref()),
        Some(&Boom("readiness"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_tower_buffer_over_a_dropped_donjon_mock_fails_with_closed() {
    use tower_service::Service as _;

    let (mock, mut handle) = donjon_pair();
    handle.allow(0);
    let mut service = tower::buffer::Buffer::new(mock.into_tower(), 1);

    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room");
    let response = service.call("hello");
    settle().await;
    drop(handle);

    let error = within_a_second(response, "the response")
        .await
        .expect_err("the mock is gone");
    assert!(
        find_in_chain::<Closed>(error.as_ref()).is_some(),
        "the mock's Closed comes through: {error}"
    );
}

#[cfg(feature = "limit")]
#[tokio::test(start_paused = true)]
async fn dropping_a_tower_buffer_response_releases_the_donjon_permit_behind_it() {
    use donjon::limit::ConcurrencyLimit;
    use tower_service::Service as _;

    let (mock, mut handle) = donjon_pair();
    let mut service = tower::buffer::Buffer::new(ConcurrencyLimit::new(mock, 1).into_tower(), 2);

    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room");
    let mut first = task::spawn(service.call("first"));
    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room");
    let second = service.call("second");

    let _unanswered =
        within_a_second(async { assert_request_eq!(handle, "first") }, "the request").await;
    assert_pending!(first.poll());
    settle().await;
    assert!(
        handle.poll_request().is_pending(),
        "the second request waits for donjon's only permit"
    );

    drop(first);
    within_a_second(
        async { assert_request_eq!(handle, "second") },
        "the request",
    )
    .await
    .send_response("done");
    let answer = within_a_second(second, "the second response").await;
    assert_eq!(answer.expect("answered"), "done");
}

// ----- donjon's Buffer over tower services -----

#[cfg(feature = "buffer")]
#[tokio::test(start_paused = true)]
async fn a_donjon_buffer_over_a_tower_mock_sends_once_the_mock_wakes_its_worker() {
    use donjon::Service as _;
    use donjon::buffer::Buffer;
    use donjon::tower_compat::IntoDonjon;

    use crate::{expect_tower_request, tower_pair};

    let (mock, mut handle) = tower_pair();
    handle.allow(0);
    let mut service = Buffer::new(mock.into_donjon(), 1);

    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room");
    let mut response = task::spawn(service.call("hello"));
    settle().await;
    assert_pending!(response.poll());
    assert!(
        handle.poll_request().is_pending(),
        "the worker waits for the mock's readiness"
    );

    handle.allow(1);
    within_a_second(expect_tower_request(&mut handle, "hello"), "the request")
        .await
        .send_response("world");
    let answer = within_a_second(response, "the response").await;
    assert_eq!(answer.expect("answered"), "world");
}

#[cfg(feature = "buffer")]
#[tokio::test(start_paused = true)]
async fn a_donjon_buffer_over_a_tower_mock_reports_its_errors() {
    use donjon::Service as _;
    use donjon::buffer::Buffer;
    use donjon::tower_compat::IntoDonjon;

    use crate::{expect_tower_request, tower_pair};
    use donjon::buffer::error::ServiceError;

    let (mock, mut handle) = tower_pair();
    let mut service = Buffer::new(mock.into_donjon(), 1);

    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room");
    let response = service.call("fails");
    within_a_second(expect_tower_request(&mut handle, "fails"), "the request")
        .await
        .send_error(Boom("response"));
    let error = within_a_second(response, "the response")
        .await
        .expect_err("the mock failed the response");
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));

    handle.send_error(Boom("readiness"));
    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room until its worker sees the error");
    let error = within_a_second(service.call("unlucky"), "the response")
        .await
        .expect_err("the worker failed");
    assert!(error.is::<ServiceError>(), "{error}");
    assert_eq!(
        find_in_chain::<Boom>(error.as_ref()),
        Some(&Boom("readiness"))
    );
}

#[cfg(feature = "buffer")]
#[tokio::test(start_paused = true)]
async fn a_donjon_buffer_over_a_dropped_tower_mock_fails_with_closed() {
    use donjon::Service as _;
    use donjon::buffer::Buffer;
    use donjon::tower_compat::IntoDonjon;

    use crate::tower_pair;

    let (mock, mut handle) = tower_pair();
    handle.allow(0);
    let mut service = Buffer::new(mock.into_donjon(), 1);

    within_a_second(poll_fn(|cx| service.poll_ready(cx)), "a buffer slot")
        .await
        .expect("the buffer has room");
    let response = service.call("hello");
    settle().await;
    drop(handle);

    let error = within_a_second(response, "the response")
        .await
        .expect_err("the mock is gone");
    assert!(
        find_in_chain::<tower_test::mock::error::Closed>(error.as_ref()).is_some(),
        "the tower mock's Closed comes through: {error}"
    );
}

#[cfg(feature = "buffer")]
#[tokio::test]
async fn a_donjon_builder_buffers_a_tower_service_fn_for_many_callers() {
    use donjon::tower_compat::IntoDonjon;
    use donjon::{BoxError, Service as _, ServiceBuilder};

    let service = ServiceBuilder::new()
        .buffer(2)
        .service(tower::service_fn(|n: u32| async move { Ok::<_, BoxError>(n * 2) }).into_donjon());

    let mut callers = Vec::new();
    for n in 0..5 {
        let mut service = service.clone();
        callers.push(tokio::spawn(async move {
            poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(n).await
        }));
    }
    for (n, caller) in (0..5).zip(callers) {
        let answer = caller.await.expect("the caller completes");
        assert_eq!(answer.expect("answered"), n * 2);
    }
}
