//! `tower::reconnect`: `Reconnect` connects through a make-service, reports
//! a failed connect at the next call, and replaces a broken connection.
//! Both the connector and the connections are mocks here.

use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok};
use tower::reconnect::{Reconnect, ResponseFuture};
use tower::util::ServiceFn;
use tower::{BoxError, Service, ServiceExt, service_fn};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Mock, Spawn};

use super::support::{AddOne, Instant, Oops, assert_debug, assert_send, assert_sync};

type Target = &'static str;
type Conn = Mock<u32, u32>;
type Connector = Mock<Target, Conn>;

const ADDR: Target = "db:5432";

fn reconnecting() -> (Spawn<Reconnect<Connector, Target>>, Handle<Target, Conn>) {
    let (connector, connects) = mock::pair();
    (Spawn::new(Reconnect::new(connector, ADDR)), connects)
}

/// Answers the next connect with a fresh connection; returns its handle.
async fn accept(connects: &mut Handle<Target, Conn>) -> Handle<u32, u32> {
    let (conn, handle) = mock::pair();
    assert_request_eq!(connects, ADDR).send_response(conn);
    handle
}

#[tokio::test]
async fn connects_at_the_first_poll_ready() {
    let (mut svc, mut connects) = reconnecting();
    // Nothing happens before the first `poll_ready`.
    assert_pending!(connects.poll_request());
    assert_pending!(svc.poll_ready());
    let mut conn = accept(&mut connects).await;
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());

    let fut: ResponseFuture<mock::future::ResponseFuture<u32>, BoxError> = svc.call(1);
    assert_request_eq!(conn, 1).send_response(2);
    let rsp: Result<u32, BoxError> = fut.await;
    assert_eq!(rsp.unwrap(), 2);

    // The connection is kept for later requests.
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(3);
    assert_request_eq!(conn, 3).send_response(4);
    assert_eq!(fut.await.unwrap(), 4);
    assert_pending!(connects.poll_request());
}

#[tokio::test]
async fn a_failed_connect_is_reported_by_the_next_call() {
    let (mut svc, mut connects) = reconnecting();
    assert_pending!(svc.poll_ready());
    assert_request_eq!(connects, ADDR).send_error(Oops("refused"));
    // Readiness succeeds, so that the caller learns the error from `call`.
    assert_ready_ok!(svc.poll_ready());
    let err = svc.call(1).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("refused")));

    // The next `poll_ready` connects again.
    assert_pending!(svc.poll_ready());
    let mut conn = accept(&mut connects).await;
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(5);
    assert_request_eq!(conn, 5).send_response(6);
    assert_eq!(fut.await.unwrap(), 6);
}

#[tokio::test]
async fn a_broken_connection_is_replaced_silently() {
    let (first, mut first_handle) = mock::pair::<u32, u32>();
    let (connector, mut connects) = mock::pair::<Target, Conn>();
    let mut svc: Spawn<Reconnect<Connector, Target>> =
        Spawn::new(Reconnect::with_connection(first, connector, ADDR));

    // Already connected: no connect needed.
    assert_ready_ok!(svc.poll_ready());
    assert_pending!(connects.poll_request());
    let fut = svc.call(1);
    assert_request_eq!(first_handle, 1).send_response(10);
    assert_eq!(fut.await.unwrap(), 10);

    // The connection fails its readiness: it is dropped and a new one made,
    // without the error reaching the caller.
    first_handle.send_error(Oops("reset"));
    assert_pending!(svc.poll_ready());
    assert!(assert_ready!(first_handle.poll_request()).is_none());
    let mut second = accept(&mut connects).await;
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(2);
    assert_request_eq!(second, 2).send_response(20);
    assert_eq!(fut.await.unwrap(), 20);
}

#[tokio::test]
async fn connector_readiness_is_forwarded() {
    let (mut svc, mut connects) = reconnecting();
    connects.allow(0);
    assert_pending!(svc.poll_ready());
    assert_pending!(connects.poll_request());
    connects.allow(1);
    assert!(svc.is_woken());
    assert_pending!(svc.poll_ready());
    let _conn = accept(&mut connects).await;
    assert_ready_ok!(svc.poll_ready());

    let (mut svc, mut connects) = reconnecting();
    connects.send_error(Oops("connector down"));
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("connector down")));
}

#[tokio::test]
async fn response_errors_are_boxed_but_not_wrapped() {
    let (mut svc, mut connects) = reconnecting();
    assert_pending!(svc.poll_ready());
    let mut conn = accept(&mut connects).await;
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(1);
    assert_request_eq!(conn, 1).send_error(Oops("bad request"));
    let err = fut.await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("bad request")));
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn call_before_connecting_panics() {
    let (connector, _connects) = mock::pair::<Target, Conn>();
    let mut svc = Reconnect::new(connector, ADDR);
    drop(svc.call(1));
}

type MakeAddOne = ServiceFn<fn(Target) -> Instant<AddOne, Oops>>;

fn make_add_one(_: Target) -> Instant<AddOne, Oops> {
    std::future::ready(Ok(AddOne))
}

#[tokio::test]
async fn connectors_and_connections_of_other_types() {
    let connector: MakeAddOne = service_fn(make_add_one);
    let svc: Reconnect<MakeAddOne, Target> = Reconnect::new(connector, "anywhere");
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);

    let (connector, _connects) = mock::pair::<Target, Conn>();
    let (conn, _conn_handle) = mock::pair::<u32, u32>();
    let _: Reconnect<Connector, Target> = connected(conn, connector);
    let (connector, _connects) = mock::pair::<Target, Conn>();
    let _: Reconnect<Connector, Target> = idle(connector);

    assert_debug::<Reconnect<Connector, Target>>();
    assert_send::<Reconnect<Connector, Target>>();
    assert_sync::<Reconnect<Connector, Target>>();
    assert_debug::<ResponseFuture<mock::future::ResponseFuture<u32>, BoxError>>();
    assert_send::<ResponseFuture<mock::future::ResponseFuture<u32>, BoxError>>();
}

// Both constructors are `const fn`s.
const fn connected(conn: Conn, connector: Connector) -> Reconnect<Connector, Target> {
    Reconnect::with_connection(conn, connector, ADDR)
}

const fn idle(connector: Connector) -> Reconnect<Connector, Target> {
    Reconnect::new(connector, ADDR)
}
