//! `TowerService` (made by `IntoTower::into_tower`): a donjon service, here
//! mostly a `donjon_test` mock, driven through `tower_service::Service` by
//! hand, by `tower_test`'s `Spawn` and by tower's own `ServiceExt`.

use std::future::Ready;

use donjon::tower_compat::{IntoTower, TowerService};
use donjon_test::assert_request_eq;
use donjon_test::mock::error::Closed;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower_service::Service;
use tower_test::mock::Spawn as TowerSpawn;

use crate::donjon_pair;
use crate::support::{Boom, Broken};

#[tokio::test]
async fn pending_ready_and_the_wake_up_of_a_donjon_mock_pass_through_tower_poll_ready() {
    let (mock, mut handle) = donjon_pair();
    let mut service = mock.into_tower();
    // A bare task, polled by hand through `tower_service::Service`.
    let mut cx = task::spawn(());

    handle.allow(0);
    assert_pending!(
        cx.enter(|cx, _| service.poll_ready(cx)),
        "not ready while the mock is not"
    );
    assert!(!cx.is_woken(), "no wake-up before the mock is ready");

    handle.allow(1);
    assert!(cx.is_woken(), "the mock's wake-up reaches the tower caller");
    assert_ready_ok!(cx.enter(|cx, _| service.poll_ready(cx)));
    assert_ready_ok!(
        cx.enter(|cx, _| service.poll_ready(cx)),
        "polling again keeps the same reservation"
    );

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");

    // The one call allowed is spent: the adapter invents no readiness.
    assert_pending!(cx.enter(|cx, _| service.poll_ready(cx)));
    assert!(!cx.is_woken());
}

#[tokio::test]
async fn readiness_follows_the_donjon_mock_under_tower_tests_spawn() {
    let (mock, mut handle) = donjon_pair();
    let mut service = TowerSpawn::new(mock.into_tower());

    for round in ["one", "two", "three"] {
        handle.allow(0);
        assert_pending!(service.poll_ready(), "round {round}: pending");
        assert!(!service.is_woken(), "round {round}: no early wake-up");
        handle.allow(1);
        assert!(service.is_woken(), "round {round}: woken");
        assert_ready_ok!(service.poll_ready(), "round {round}: ready");

        let mut response = task::spawn(service.call(round));
        assert_request_eq!(handle, round).send_response("ok");
        assert_eq!(assert_ready_ok!(response.poll()), "ok");
    }
}

#[tokio::test]
async fn tower_service_ext_ready_waits_for_a_donjon_mock() {
    let (mock, mut handle) = donjon_pair();
    let mut service = mock.into_tower();
    handle.allow(0);

    let mut ready = task::spawn(tower::ServiceExt::ready(&mut service));
    assert_pending!(ready.poll());
    assert!(!ready.is_woken());

    handle.allow(1);
    assert!(
        ready.is_woken(),
        "tower's Ready future is woken by the mock"
    );
    let ready_service = assert_ready_ok!(ready.poll());
    let mut response = task::spawn(ready_service.call("hello"));
    drop(ready);

    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn tower_service_ext_oneshot_drives_a_donjon_mock() {
    let (mock, mut handle) = donjon_pair();
    let response = tokio::spawn(tower::ServiceExt::oneshot(mock.into_tower(), "hello"));

    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(
        response
            .await
            .expect("the task completes")
            .expect("the mock answered"),
        "world"
    );
}

#[test]
fn readiness_and_response_errors_keep_their_types_through_into_tower() {
    /// Compiles only if the tower service has exactly the donjon service's
    /// associated types.
    fn assert_types<S>(_: &S)
    where
        S: Service<&'static str, Response = &'static str, Error = Boom>,
        S: Service<&'static str, Future = Ready<Result<&'static str, Boom>>>,
    {
    }

    let mut cx = task::spawn(());

    let mut not_ready = TowerService::new(Broken { ready: false });
    assert_types(&not_ready);
    let error: Boom =
        assert_ready_err!(cx.enter(|cx, _| Service::<&str>::poll_ready(&mut not_ready, cx)));
    assert_eq!(error, Boom("readiness"));

    let mut failing = Broken { ready: true }.into_tower();
    assert_ready_ok!(cx.enter(|cx, _| Service::<&str>::poll_ready(&mut failing, cx)));
    let mut response = task::spawn(failing.call("hello"));
    let error: Boom = assert_ready_err!(response.poll());
    assert_eq!(error, Boom("response"));
}

#[tokio::test]
async fn errors_of_a_donjon_mock_reach_the_tower_caller_unchanged() {
    let (mock, mut handle) = donjon_pair();
    let mut service = TowerSpawn::new(mock.into_tower());

    // A readiness error wakes a pending caller and is handed over as sent.
    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.send_error(Boom("readiness"));
    assert!(service.is_woken(), "the error wakes the tower caller");
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("readiness")));

    // A response error too.
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_error(Boom("response"));
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));
}

#[cfg(feature = "limit")]
#[tokio::test]
async fn a_donjon_concurrency_limit_seen_as_a_tower_service_allows_one_call_per_ready() {
    use donjon::limit::ConcurrencyLimit;

    let (mock, mut handle) = donjon_pair();
    let mut service = TowerSpawn::new(ConcurrencyLimit::new(mock, 1).into_tower());

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

    let responder = assert_request_eq!(handle, "first");
    assert!(!service.is_woken(), "no wake-up while the permit is held");
    responder.send_response("done");
    assert_eq!(assert_ready_ok!(first.poll()), "done");
    assert!(
        service.is_woken(),
        "the finished response wakes the tower caller"
    );

    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    assert_request_eq!(handle, "second").send_response("again");
    assert_eq!(assert_ready_ok!(second.poll()), "again");
}

#[cfg(feature = "limit")]
#[test]
fn a_clone_of_a_tower_seen_donjon_service_does_not_inherit_its_reservation() {
    use donjon::limit::ConcurrencyLimit;

    let (mock, _handle) = donjon_pair();
    let mut service = TowerSpawn::new(ConcurrencyLimit::new(mock, 1).into_tower());
    assert_ready_ok!(service.poll_ready());

    let mut clone = TowerSpawn::new(service.get_ref().clone());
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

#[cfg(feature = "limit")]
#[tokio::test]
async fn dropping_response_futures_of_into_tower_releases_donjon_permits() {
    use donjon::limit::ConcurrencyLimit;

    let (mock, mut handle) = donjon_pair();
    let mut service = TowerSpawn::new(ConcurrencyLimit::new(mock, 2).into_tower());

    let mut responses = Vec::new();
    for request in ["one", "two"] {
        assert_ready_ok!(service.poll_ready());
        responses.push(task::spawn(service.call(request)));
    }
    for response in &mut responses {
        assert_pending!(response.poll());
    }
    assert_pending!(service.poll_ready(), "both permits are held");
    // The requests did reach the mock; nobody answers them.
    let one = assert_request_eq!(handle, "one");
    let two = assert_request_eq!(handle, "two");

    drop(responses.pop());
    assert!(service.is_woken(), "the first drop gives a permit back");
    drop(responses.pop());

    // Both permits are back: two calls can be in flight again.
    let mut again = Vec::new();
    for request in ["three", "four"] {
        assert_ready_ok!(service.poll_ready());
        again.push(task::spawn(service.call(request)));
    }
    assert_pending!(service.poll_ready());

    // Answers to the dropped calls go nowhere and change nothing.
    one.send_response("late");
    two.send_response("late");
    assert_request_eq!(handle, "three").send_response("3");
    assert_request_eq!(handle, "four").send_response("4");
    assert_eq!(assert_ready_ok!(again[0].poll()), "3");
    assert_eq!(assert_ready_ok!(again[1].poll()), "4");
}

#[test]
fn dropping_the_donjon_mock_handle_fails_a_pending_tower_caller_with_closed() {
    let (mock, mut handle) = donjon_pair();
    let mut service = TowerSpawn::new(mock.into_tower());

    handle.allow(0);
    assert_pending!(service.poll_ready());
    drop(handle);
    assert!(service.is_woken(), "the caller is not left hanging");
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "{error}");
}

#[test]
fn dropping_the_donjon_mock_handle_fails_an_outstanding_response_with_closed() {
    let (mock, handle) = donjon_pair();
    let mut service = TowerSpawn::new(mock.into_tower());

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    drop(handle);
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "{error}");
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn calling_into_tower_after_pending_panics_as_the_donjon_mock_does() {
    let (mock, mut handle) = donjon_pair();
    let mut service: TowerSpawn<TowerService<crate::Mock>> = TowerSpawn::new(mock.into_tower());

    handle.allow(0);
    assert_pending!(service.poll_ready());
    // No readiness was reported, so none may be assumed: the mock panics.
    let _response = service.call("hello");
}
