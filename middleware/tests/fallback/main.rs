//! Integration tests of `donjon::fallback`: `Fallback`, `FallbackLayer`,
//! `Failure`, `FallbackFailed`, the request keepers and classification,
//! driven by mock services.
#![cfg(all(feature = "fallback", feature = "util"))]

#[path = "../support/mod.rs"]
mod support;

use std::error::Error;
use std::task::Poll;

use donjon::classify::Outcome;
use donjon::fallback::error::FallbackFailed;
use donjon::fallback::{DropRequest, Failure, Fallback, FallbackLayer};
use donjon::{BoxError, Layer, ServiceExt};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Handle, Mock, Spawn};
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use support::Boom;

type Msg = &'static str;
type Backup = Mock<Failure<Msg, Msg>, Msg>;
type Primary = Mock<Msg, Msg>;

type BackupHandle = Handle<Failure<Msg, Msg>, Msg>;

fn with_mocks() -> (
    Spawn<Fallback<Primary, Backup>>,
    Handle<Msg, Msg>,
    BackupHandle,
) {
    let (primary, primary_handle) = mock::pair();
    let (backup, backup_handle) = mock::pair();
    (
        Spawn::new(Fallback::new(primary, backup)),
        primary_handle,
        backup_handle,
    )
}

#[tokio::test]
async fn a_successful_call_never_reaches_the_fallback() {
    let (mut service, mut primary, mut backup) = with_mocks();
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(primary, "hello").send_response("world");
    assert_eq!(response.await.expect("answered"), "world");
    assert_pending!(backup.poll_request(), "the fallback saw nothing");
}

#[tokio::test]
async fn a_failed_call_is_answered_by_the_fallback_which_sees_the_request_and_the_error() {
    let (mut service, mut primary, mut backup) = with_mocks();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(primary, "hello").send_error(Boom("primary"));
    assert_pending!(response.poll(), "waiting for the fallback");

    let (failure, reply) = match backup.poll_request() {
        Poll::Ready(Some(request)) => request,
        _ => panic!("the fallback got no request"),
    };
    assert_eq!(failure.request(), Some(&"hello"));
    let error = failure.error().expect("an error");
    assert_eq!(error.get().downcast_ref::<Boom>(), Some(&Boom("primary")));
    assert_eq!(error.to_string(), "boom: primary");
    assert!(failure.response().is_none());
    reply.send_response("stale world");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "stale world");
}

#[tokio::test]
async fn when_the_fallback_fails_too_the_error_carries_both_causes() {
    let (mut service, mut primary, mut backup) = with_mocks();
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(primary, "hello").send_error(Boom("primary"));
    let answer = tokio::spawn(response);
    let (_, reply) = backup.next_request().await.expect("the fallback is called");
    reply.send_error(Boom("backup"));
    let error = answer.await.expect("task").expect_err("both failed");
    let failed = error
        .downcast_ref::<FallbackFailed>()
        .expect("FallbackFailed");
    assert_eq!(
        failed.to_string(),
        "fallback failed: boom: backup (after: boom: primary)"
    );
    assert_eq!(
        failed.fallback().downcast_ref::<Boom>(),
        Some(&Boom("backup"))
    );
    let primary_error = failed.primary().expect("the primary error");
    assert_eq!(
        primary_error.get().downcast_ref::<Boom>(),
        Some(&Boom("primary"))
    );
    assert_eq!(
        failed.source().map(ToString::to_string).as_deref(),
        Some("boom: backup")
    );
}

#[tokio::test]
async fn a_fallback_whose_readiness_fails_gives_fallback_failed() {
    let (mut service, mut primary, mut backup) = with_mocks();
    backup.send_error(Boom("backup gone"));
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(primary, "hello").send_error(Boom("primary"));
    let error = response.await.expect_err("both failed");
    let failed = error
        .downcast_ref::<FallbackFailed>()
        .expect("FallbackFailed");
    assert_eq!(failed.fallback().to_string(), "boom: backup gone");
}

#[tokio::test]
async fn a_fallback_that_is_not_ready_is_waited_for_and_its_wake_up_reaches_the_caller() {
    let (mut service, mut primary, mut backup) = with_mocks();
    backup.allow(0);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(primary, "hello").send_error(Boom("primary"));
    assert_pending!(response.poll());
    backup.allow(1);
    assert!(response.is_woken());
    assert_pending!(response.poll());
    let (_, reply) = match backup.poll_request() {
        Poll::Ready(Some(request)) => request,
        _ => panic!("the fallback got no request"),
    };
    reply.send_response("late");
    assert_eq!(assert_ready_ok!(response.poll()), "late");
}

#[tokio::test]
async fn a_classifier_decides_what_counts_as_failed() {
    let (primary, mut primary_handle) = mock::pair::<Msg, Msg>();
    let (backup, mut backup_handle) = mock::pair::<Failure<Msg, Msg>, Msg>();
    let classify = |result: &Result<Msg, BoxError>| match result {
        Ok("503") => Outcome::Failure,
        Ok(_) => Outcome::Success,
        Err(error) if error.to_string() == "cancelled" => Outcome::Ignored,
        Err(_) => Outcome::Failure,
    };
    let mut service = Spawn::new(Fallback::new(primary, backup).classifying(classify));

    // A response counted as a failure: the fallback sees the response.
    assert_ready_ok!(service.poll_ready());
    let response = tokio::spawn(service.call("a"));
    assert_request_eq!(primary_handle, "a").send_response("503");
    let (failure, reply) = backup_handle.next_request().await.expect("called");
    assert_eq!(failure.response(), Some(&"503"));
    assert!(failure.error().is_none());
    reply.send_response("cached");
    assert_eq!(response.await.expect("task").expect("answered"), "cached");

    // An error classified as ignored is returned as it is.
    assert_ready_ok!(service.poll_ready());
    let response = service.call("b");
    assert_request_eq!(primary_handle, "b").send_error("cancelled");
    let error = response.await.expect_err("not a failure: no fallback");
    assert_eq!(error.to_string(), "cancelled");
    assert_pending!(backup_handle.poll_request());
}

#[tokio::test]
async fn requests_that_cannot_be_cloned_fall_back_without_the_request() {
    /// Not `Clone`.
    #[derive(Debug)]
    struct Unique(u32);

    let primary = donjon::service_fn(|unique: Unique| async move {
        Err::<u32, BoxError>(format!("{} is down", unique.0).into())
    });
    let backup = donjon::service_fn(|failure: Failure<Unique, u32>| async move {
        assert!(failure.request().is_none());
        Ok::<_, BoxError>(0)
    });
    let service = Fallback::new(primary, backup).keeping(DropRequest);
    assert_eq!(service.oneshot(Unique(7)).await.expect("fell back"), 0);

    // A closure can keep part of a request.
    let primary =
        donjon::service_fn(|_: (u32, String)| async { Err::<u32, BoxError>("down".into()) });
    let backup = donjon::service_fn(|failure: Failure<(u32, String), u32>| async move {
        Ok::<_, BoxError>(failure.request().map_or(0, |request| request.0))
    });
    let keep_id = |request: &(u32, String)| Some((request.0, String::new()));
    let service = Fallback::new(primary, backup).keeping(keep_id);
    assert_eq!(
        service
            .oneshot((42, "big body".into()))
            .await
            .expect("fell back"),
        42
    );
}

#[tokio::test]
async fn readiness_and_its_errors_are_the_inner_services() {
    let (mut service, mut primary, _backup) = with_mocks();
    primary.allow(0);
    assert_pending!(service.poll_ready());
    primary.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    drop(service.call("one"));
    primary.send_error(Boom("broken"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.to_string(), "boom: broken", "returned as it is");
}

#[tokio::test]
async fn dropping_the_response_while_waiting_for_the_fallback_sends_it_nothing() {
    let (mut service, mut primary, mut backup) = with_mocks();
    backup.allow(0);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(primary, "hello").send_error(Boom("primary"));
    assert_pending!(response.poll());
    drop(response);
    backup.allow(1);
    assert_pending!(
        backup.poll_request(),
        "the dropped call never reached the fallback"
    );
}

#[tokio::test]
async fn an_inner_service_gone_fails_over_to_the_fallback() {
    let (mut service, primary, mut backup) = with_mocks();
    assert_ready_ok!(service.poll_ready());
    let response = tokio::spawn(service.call("hello"));
    drop(primary);
    let (failure, reply) = backup.next_request().await.expect("called");
    assert!(failure.error().is_some(), "the mock's Closed error");
    reply.send_response("from backup");
    assert_eq!(
        response.await.expect("task").expect("answered"),
        "from backup"
    );
}

#[tokio::test]
async fn the_layer_wraps_services_with_one_fallback() {
    let backup = donjon::service_fn(|_: Failure<u32, u32>| async { Ok::<_, BoxError>(0) });
    let layer = FallbackLayer::new(backup);
    let failing = layer.layer(donjon::service_fn(|_: u32| async {
        Err::<u32, BoxError>("x".into())
    }));
    let working = layer.layer(donjon::service_fn(|n: u32| async move {
        Ok::<u32, BoxError>(n)
    }));
    assert_eq!(failing.oneshot(5).await.expect("fell back"), 0);
    assert_eq!(working.oneshot(5).await.expect("answered"), 5);
}

#[tokio::test]
#[should_panic(expected = "fallback response future polled after completion")]
async fn polling_a_finished_response_again_panics() {
    let (mut service, mut primary, _backup) = with_mocks();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(primary, "hello").send_response("world");
    let _ = assert_ready!(response.poll());
    let _ = response.poll();
}
