//! `DonjonService` (made by `IntoDonjon::into_donjon`): a tower service,
//! here a `tower_test` mock or real tower middleware, driven through
//! `donjon::Service` by hand, by `donjon_test`'s `Spawn` and by donjon's
//! `ServiceExt`.

use std::future::Ready;

use donjon::Service;
use donjon::tower_compat::{DonjonService, IntoDonjon};
use donjon_test::mock::Spawn as DonjonSpawn;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower_test::mock::error::Closed as TowerClosed;

use crate::support::Boom;
use crate::{TowerBroken, expect_tower_request, tower_pair};

#[tokio::test]
async fn pending_ready_and_the_wake_up_of_a_tower_mock_pass_through_donjon_poll_ready() {
    let (mock, mut handle) = tower_pair();
    let mut service = mock.into_donjon();
    // A bare task, polled by hand through `donjon::Service`.
    let mut cx = task::spawn(());

    handle.allow(0);
    assert_pending!(
        cx.enter(|cx, _| service.poll_ready(cx)),
        "not ready while the mock is not"
    );
    assert!(!cx.is_woken(), "no wake-up before the mock is ready");

    handle.allow(1);
    assert!(
        cx.is_woken(),
        "the mock's wake-up reaches the donjon caller"
    );
    assert_ready_ok!(cx.enter(|cx, _| service.poll_ready(cx)));
    assert_ready_ok!(
        cx.enter(|cx, _| service.poll_ready(cx)),
        "polling again keeps the same reservation"
    );

    let mut response = task::spawn(service.call("hello"));
    expect_tower_request(&mut handle, "hello")
        .await
        .send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");

    // The one call allowed is spent: the adapter invents no readiness.
    assert_pending!(cx.enter(|cx, _| service.poll_ready(cx)));
    assert!(!cx.is_woken());
}

#[tokio::test]
async fn readiness_follows_the_tower_mock_under_donjon_tests_spawn() {
    let (mock, mut handle) = tower_pair();
    let mut service = DonjonSpawn::new(mock.into_donjon());

    for round in ["one", "two", "three"] {
        handle.allow(0);
        assert_pending!(service.poll_ready(), "round {round}: pending");
        assert!(!service.is_woken(), "round {round}: no early wake-up");
        handle.allow(1);
        assert!(service.is_woken(), "round {round}: woken");
        assert_ready_ok!(service.poll_ready(), "round {round}: ready");

        let mut response = task::spawn(service.call(round));
        expect_tower_request(&mut handle, round)
            .await
            .send_response("ok");
        assert_eq!(assert_ready_ok!(response.poll()), "ok");
    }
}

#[cfg(feature = "util")]
#[tokio::test]
async fn donjon_service_ext_ready_waits_for_a_tower_mock() {
    let (mock, mut handle) = tower_pair();
    let mut service = mock.into_donjon();
    handle.allow(0);

    let mut ready = task::spawn(donjon::ServiceExt::ready(&mut service));
    assert_pending!(ready.poll());
    assert!(!ready.is_woken());

    handle.allow(1);
    assert!(
        ready.is_woken(),
        "donjon's Ready future is woken by the mock"
    );
    let ready_service = assert_ready_ok!(ready.poll());
    let mut response = task::spawn(ready_service.call("hello"));
    drop(ready);

    expect_tower_request(&mut handle, "hello")
        .await
        .send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[cfg(feature = "util")]
#[tokio::test]
async fn donjon_service_ext_oneshot_drives_a_tower_service_fn() {
    let service =
        tower::service_fn(
            |name: &'static str| async move { Ok::<_, Boom>(format!("hello {name}")) },
        )
        .into_donjon();

    let response = donjon::ServiceExt::oneshot(service, "ada").await;
    assert_eq!(response, Ok("hello ada".to_string()));
}

#[test]
fn readiness_and_response_errors_keep_their_types_through_into_donjon() {
    /// Compiles only if the donjon service has exactly the tower service's
    /// associated types.
    fn assert_types<S>(_: &S)
    where
        S: Service<&'static str, Response = &'static str, Error = Boom>,
        S: Service<&'static str, Future = Ready<Result<&'static str, Boom>>>,
    {
    }

    let mut cx = task::spawn(());

    let mut not_ready = TowerBroken { ready: false }.into_donjon();
    assert_types(&not_ready);
    let error: Boom = assert_ready_err!(cx.enter(|cx, _| not_ready.poll_ready(cx)));
    assert_eq!(error, Boom("tower readiness"));

    let mut failing = DonjonService::new(TowerBroken { ready: true });
    assert_ready_ok!(cx.enter(|cx, _| failing.poll_ready(cx)));
    let mut response = task::spawn(failing.call("hello"));
    let error: Boom = assert_ready_err!(response.poll());
    assert_eq!(error, Boom("tower response"));
}

#[tokio::test]
async fn errors_of_a_tower_mock_reach_the_donjon_caller_unchanged() {
    let (mock, mut handle) = tower_pair();
    let mut service = DonjonSpawn::new(mock.into_donjon());

    // A readiness error wakes a pending caller and is handed over as sent.
    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.send_error(Boom("readiness"));
    assert!(service.is_woken(), "the error wakes the donjon caller");
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("readiness")));

    // A response error too.
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    expect_tower_request(&mut handle, "hello")
        .await
        .send_error(Boom("response"));
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));
}

#[tokio::test]
async fn a_tower_concurrency_limit_seen_as_a_donjon_service_allows_one_call_per_ready() {
    let (mock, mut handle) = tower_pair();
    let mut service = DonjonSpawn::new(tower::limit::ConcurrencyLimit::new(mock, 1).into_donjon());

    assert_ready_ok!(service.poll_ready());
    // With one permit in all, a second reservation would pend.
    assert_ready_ok!(
        service.poll_ready(),
        "polling again does not take a second permit"
    );
    let mut first = task::spawn(service.call("first"));
    assert_pending!(
        service.poll_ready(),
        "the only permit is held by the first response"
    );

    let responder = expect_tower_request(&mut handle, "first").await;
    assert!(!service.is_woken(), "no wake-up while the permit is held");
    responder.send_response("done");
    assert_eq!(assert_ready_ok!(first.poll()), "done");
    drop(first);
    assert!(
        service.is_woken(),
        "the finished response wakes the donjon caller"
    );

    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    expect_tower_request(&mut handle, "second")
        .await
        .send_response("again");
    assert_eq!(assert_ready_ok!(second.poll()), "again");
}

#[test]
fn a_clone_of_a_donjon_seen_tower_service_does_not_inherit_its_reservation() {
    let (mock, _handle) = tower_pair();
    let mut service = DonjonSpawn::new(tower::limit::ConcurrencyLimit::new(mock, 1).into_donjon());
    assert_ready_ok!(service.poll_ready());

    let mut clone = DonjonSpawn::new(service.get_ref().clone());
    assert_pending!(
        clone.poll_ready(),
        "the clone starts not ready: the one permit is the original's"
    );

    drop(service);
    assert!(
        clone.is_woken(),
        "dropping an unused reservation releases the permit and wakes the clone"
    );
    assert_ready_ok!(clone.poll_ready());
}

#[tokio::test]
async fn dropping_response_futures_of_into_donjon_releases_tower_permits() {
    let (mock, mut handle) = tower_pair();
    let mut service = DonjonSpawn::new(tower::limit::ConcurrencyLimit::new(mock, 2).into_donjon());

    let mut responses = Vec::new();
    for request in ["one", "two"] {
        assert_ready_ok!(service.poll_ready());
        responses.push(task::spawn(service.call(request)));
    }
    for response in &mut responses {
        assert_pending!(response.poll());
    }
    assert_pending!(service.poll_ready(), "both permits are held");
    let one = expect_tower_request(&mut handle, "one").await;
    let two = expect_tower_request(&mut handle, "two").await;

    drop(responses.pop());
    assert!(service.is_woken(), "the first drop gives a permit back");
    drop(responses.pop());

    let mut again = Vec::new();
    for request in ["three", "four"] {
        assert_ready_ok!(service.poll_ready());
        again.push(task::spawn(service.call(request)));
    }
    assert_pending!(service.poll_ready());

    one.send_response("late");
    two.send_response("late");
    expect_tower_request(&mut handle, "three")
        .await
        .send_response("3");
    expect_tower_request(&mut handle, "four")
        .await
        .send_response("4");
    assert_eq!(assert_ready_ok!(again[0].poll()), "3");
    assert_eq!(assert_ready_ok!(again[1].poll()), "4");
}

#[test]
fn dropping_the_tower_mock_handle_fails_a_pending_donjon_caller_with_closed() {
    let (mock, mut handle) = tower_pair();
    let mut service = DonjonSpawn::new(mock.into_donjon());

    handle.allow(0);
    assert_pending!(service.poll_ready());
    drop(handle);
    assert!(service.is_woken(), "the caller is not left hanging");
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<TowerClosed>(), "{error}");
}

#[test]
fn dropping_the_tower_mock_handle_fails_an_outstanding_response_with_closed() {
    let (mock, handle) = tower_pair();
    let mut service = DonjonSpawn::new(mock.into_donjon());

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    drop(handle);
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<TowerClosed>(), "{error}");
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn calling_into_donjon_after_pending_panics_as_the_tower_mock_does() {
    let (mock, mut handle) = tower_pair();
    let mut service = DonjonSpawn::new(mock.into_donjon());

    handle.allow(0);
    assert_pending!(service.poll_ready());
    // No readiness was reported, so none may be assumed: the mock panics.
    let _response = service.call("hello");
}
