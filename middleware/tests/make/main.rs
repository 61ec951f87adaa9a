//! Integration tests of `donjon::make`: `MakeService` and `MakeConnection`
//! over plain services, `IntoService` / `AsService`, and `Shared`.
#![cfg(feature = "make")]

use std::convert::Infallible;
use std::error::Error;
use std::fmt;
use std::future::{Ready, ready};
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use donjon::make::{MakeConnection, Shared};
use donjon::{MakeService, Service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Mock, Spawn, error::Closed};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

/// A service that tells which instance answered: clones share the `Arc`.
#[derive(Clone, Debug)]
struct Tagged {
    tag: Arc<str>,
}

impl Tagged {
    fn new(tag: &'static str) -> Self {
        Tagged {
            tag: Arc::from(tag),
        }
    }
}

impl Service<u32> for Tagged {
    type Response = String;
    type Error = Infallible;
    type Future = Ready<Result<String, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: u32) -> Self::Future {
        ready(Ok(format!("{} {request}", self.tag)))
    }
}

/// The service a mock maker makes: itself a mock.
type Made = Mock<u32, u32>;

/// A concrete error type, to check errors keep theirs.
#[derive(Debug, PartialEq, Eq)]
struct NoRoute(&'static str);

impl fmt::Display for NoRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no route to {}", self.0)
    }
}

impl Error for NoRoute {}

fn noop_context() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

#[test]
fn shared_is_always_ready() {
    let mut shared = Shared::new(Tagged::new("shared"));
    let mut cx = noop_context();
    for _ in 0..3 {
        assert_eq!(
            MakeService::<(), u32>::poll_ready(&mut shared, &mut cx),
            Poll::Ready(Ok(()))
        );
    }
}

#[test]
fn shared_makes_a_clone_of_its_service_for_each_target() {
    let original = Tagged::new("shared");
    let mut shared = Shared::new(original.clone());
    let mut cx = noop_context();

    let mut made = Vec::new();
    for _ in 0..2 {
        assert_ready_ok!(MakeService::<(), u32>::poll_ready(&mut shared, &mut cx));
        // The future is ready at once.
        let mut future = task::spawn(shared.make_service(()));
        made.push(assert_ready_ok!(future.poll()));
    }

    for service in &made {
        assert!(
            Arc::ptr_eq(&service.tag, &original.tag),
            "a clone, not a new service"
        );
    }
    // The original, the one inside `Shared`, and the two made.
    assert_eq!(Arc::strong_count(&original.tag), 4);
    drop(shared);
    drop(made);
    assert_eq!(Arc::strong_count(&original.tag), 1);
}

#[test]
fn shared_answers_any_target_type() {
    let mut shared = Shared::new(Tagged::new("any"));

    let mut by_name = task::spawn(MakeService::<&str, u32>::make_service(&mut shared, "db"));
    let mut by_number = task::spawn(MakeService::<u16, u32>::make_service(&mut shared, 5432));
    let mut service = assert_ready_ok!(by_name.poll());
    assert_ready_ok!(by_number.poll());

    let mut response = task::spawn(service.call(7));
    assert_eq!(assert_ready_ok!(response.poll()), "any 7");
}

#[test]
fn shared_through_a_make_service_bound() {
    /// Makes one service and calls it: usable with any `MakeService`.
    fn make_and_call<M>(make: &mut M, request: u32) -> String
    where
        M: MakeService<(), u32, Response = String>,
        M::MakeError: fmt::Debug,
        M::Error: fmt::Debug,
    {
        let mut cx = noop_context();
        assert_ready_ok!(make.poll_ready(&mut cx));
        let mut made = task::spawn(make.make_service(()));
        let mut service = assert_ready_ok!(made.poll());
        assert_ready_ok!(service.poll_ready(&mut cx));
        let mut response = task::spawn(service.call(request));
        assert_ready_ok!(response.poll())
    }

    let mut shared = Shared::new(Tagged::new("bound"));
    assert_eq!(make_and_call(&mut shared, 1), "bound 1");
    assert_eq!(make_and_call(&mut shared, 2), "bound 2");
}

#[test]
fn shared_into_service_is_a_ready_service_of_targets() {
    let shared = Shared::new(Tagged::new("into"));
    let mut service = Spawn::new(MakeService::<(), u32>::into_service(shared));

    assert_ready_ok!(service.poll_ready::<()>());
    let mut made = task::spawn(service.call(()));
    let mut made = assert_ready_ok!(made.poll());
    let mut response = task::spawn(made.call(3));
    assert_eq!(assert_ready_ok!(response.poll()), "into 3");
}

#[cfg(feature = "util")]
#[tokio::test]
async fn shared_into_service_works_with_oneshot() {
    use donjon::ServiceExt;

    let shared = Shared::new(Tagged::new("oneshot"));
    let made = MakeService::<(), u32>::into_service(shared)
        .oneshot(())
        .await
        .unwrap();
    assert_eq!(made.oneshot(9).await.unwrap(), "oneshot 9");
}

#[test]
fn shared_as_service_borrows_the_maker() {
    let mut shared = Shared::new(Tagged::new("borrowed"));
    {
        let mut service = Spawn::new(MakeService::<(), u32>::as_service(&mut shared));
        assert_ready_ok!(service.poll_ready::<()>());
        let mut made = task::spawn(service.call(()));
        assert_ready_ok!(made.poll());
    }
    // Still usable after the borrow ends.
    let mut made = task::spawn(shared.make_service(()));
    let mut made = assert_ready_ok!(made.poll());
    let mut response = task::spawn(made.call(4));
    assert_eq!(assert_ready_ok!(response.poll()), "borrowed 4");
}

#[test]
fn shared_future_debug_hides_its_contents() {
    let mut shared = Shared::new(Tagged::new("debug"));
    let future = shared.make_service(());
    assert_eq!(format!("{future:?}"), "SharedFuture(...)");
}

#[test]
fn shared_is_copy_when_its_service_is() {
    #[derive(Clone, Copy, Debug)]
    struct Unit;

    let shared = Shared::new(Unit);
    let copy = shared;
    // Both are still usable: `Shared<Unit>` is `Copy`.
    assert_eq!(format!("{shared:?}"), format!("{copy:?}"));
    assert!(format!("{shared:?}").starts_with("Shared"));
}

#[tokio::test]
async fn make_service_forwards_readiness_and_its_wake_up() {
    let (mut maker, mut handle) = mock::pair::<&'static str, Made>();
    let mut task = task::spawn(());

    handle.allow(0);
    assert_pending!(task.enter(|cx, _| MakeService::<&str, u32>::poll_ready(&mut maker, cx)));
    assert!(!task.is_woken());

    handle.allow(1);
    assert!(task.is_woken(), "the maker's wake-up reaches the caller");
    assert_ready_ok!(task.enter(|cx, _| MakeService::<&str, u32>::poll_ready(&mut maker, cx)));

    // The target reaches the maker; the service it answers with is the one
    // made, and the requests to that go to it.
    let mut making = task::spawn(MakeService::<&str, u32>::make_service(&mut maker, "db"));
    assert_pending!(making.poll());
    let (made, mut made_handle) = mock::pair::<u32, u32>();
    assert_request_eq!(handle, "db").send_response(made);
    assert!(making.is_woken());
    let mut made = Spawn::new(assert_ready_ok!(making.poll()));

    assert_ready_ok!(made.poll_ready());
    let mut response = task::spawn(made.call(1));
    assert_request_eq!(made_handle, 1).send_response(2);
    assert_eq!(assert_ready_ok!(response.poll()), 2);
}

#[tokio::test]
async fn the_maker_readiness_error_is_the_make_error() {
    let (mut maker, mut handle) = mock::pair::<&'static str, Made>();
    let mut cx = noop_context();

    handle.send_error(NoRoute("db"));
    let error = assert_ready_err!(MakeService::<&str, u32>::poll_ready(&mut maker, &mut cx));
    assert_eq!(error.downcast_ref::<NoRoute>(), Some(&NoRoute("db")));
}

#[tokio::test]
async fn a_failed_make_service_future_returns_the_maker_error() {
    let (mut maker, mut handle) = mock::pair::<&'static str, Made>();
    let mut cx = noop_context();

    assert_ready_ok!(MakeService::<&str, u32>::poll_ready(&mut maker, &mut cx));
    let mut making = task::spawn(MakeService::<&str, u32>::make_service(&mut maker, "db"));
    assert_request_eq!(handle, "db").send_error(NoRoute("db"));

    let error = assert_ready_err!(making.poll());
    assert_eq!(error.downcast_ref::<NoRoute>(), Some(&NoRoute("db")));
}

#[test]
fn a_make_error_keeps_its_concrete_type() {
    /// Refuses every target with an `io::Error`.
    struct Refusing;

    impl Service<&'static str> for Refusing {
        type Response = Tagged;
        type Error = io::Error;
        type Future = Ready<Result<Tagged, io::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: &'static str) -> Self::Future {
            ready(Err(io::Error::from(io::ErrorKind::ConnectionRefused)))
        }
    }

    let mut make = Refusing;
    let mut making = task::spawn(MakeService::<&str, u32>::make_service(&mut make, "db"));
    // `MakeError` is the service's `io::Error`, not boxed.
    let error: io::Error = assert_ready_err!(making.poll());
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn a_dropped_make_service_future_leaves_the_maker_usable() {
    let (mut maker, mut handle) = mock::pair::<&'static str, Made>();
    let mut cx = noop_context();

    assert_ready_ok!(MakeService::<&str, u32>::poll_ready(&mut maker, &mut cx));
    drop(MakeService::<&str, u32>::make_service(&mut maker, "first"));
    // Answering the abandoned attempt is harmless.
    let (abandoned, _abandoned_handle) = mock::pair::<u32, u32>();
    assert_request_eq!(handle, "first").send_response(abandoned);

    assert_ready_ok!(MakeService::<&str, u32>::poll_ready(&mut maker, &mut cx));
    let mut making = task::spawn(MakeService::<&str, u32>::make_service(&mut maker, "second"));
    let (made, _made_handle) = mock::pair::<u32, u32>();
    assert_request_eq!(handle, "second").send_response(made);
    assert_ready_ok!(making.poll());
}

#[tokio::test]
async fn a_dropped_maker_handle_fails_readiness_and_pending_makes() {
    let (mut maker, handle) = mock::pair::<&'static str, Made>();
    let mut cx = noop_context();

    assert_ready_ok!(MakeService::<&str, u32>::poll_ready(&mut maker, &mut cx));
    let mut making = task::spawn(MakeService::<&str, u32>::make_service(&mut maker, "db"));
    assert_pending!(making.poll());

    drop(handle);
    assert!(making.is_woken());
    let error = assert_ready_err!(making.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");

    let error = assert_ready_err!(MakeService::<&str, u32>::poll_ready(&mut maker, &mut cx));
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn into_service_forwards_pending_and_ready() {
    let (maker, mut handle) = mock::pair::<&'static str, Made>();
    let mut service = Spawn::new(MakeService::<&str, u32>::into_service(maker));

    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());

    let mut making = task::spawn(service.call("cache"));
    let (made, _made_handle) = mock::pair::<u32, u32>();
    assert_request_eq!(handle, "cache").send_response(made);
    assert_ready_ok!(making.poll());

    // The call spent the only allowance.
    assert_pending!(service.poll_ready());
}

#[tokio::test]
async fn into_service_forwards_errors() {
    let (maker, mut handle) = mock::pair::<&'static str, Made>();
    let mut service = Spawn::new(MakeService::<&str, u32>::into_service(maker));

    handle.send_error(NoRoute("cache"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<NoRoute>(), Some(&NoRoute("cache")));

    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn as_service_forwards_pending_and_ready() {
    let (mut maker, mut handle) = mock::pair::<&'static str, Made>();
    handle.allow(0);
    {
        let mut service = Spawn::new(MakeService::<&str, u32>::as_service(&mut maker));
        assert_pending!(service.poll_ready());

        handle.allow(1);
        assert!(service.is_woken());
        assert_ready_ok!(service.poll_ready());

        let mut making = task::spawn(service.call("queue"));
        let (made, _made_handle) = mock::pair::<u32, u32>();
        assert_request_eq!(handle, "queue").send_response(made);
        assert_ready_ok!(making.poll());
    }

    // The reservation was the borrowed maker's own: it is spent.
    let mut task = task::spawn(());
    assert_pending!(task.enter(|cx, _| MakeService::<&str, u32>::poll_ready(&mut maker, cx)));
}

#[test]
fn into_service_is_clone_and_debug() {
    let service = MakeService::<(), u32>::into_service(Shared::new(Tagged::new("dbg")));
    let clone = service.clone();
    let text = format!("{clone:?}");
    assert!(text.starts_with("IntoService { make: Shared"), "{text}");
    assert!(text.contains("dbg"), "{text}");
}

#[test]
fn as_service_is_debug() {
    let mut shared = Shared::new(Tagged::new("dbg"));
    let service = MakeService::<(), u32>::as_service(&mut shared);
    let text = format!("{service:?}");
    assert!(text.starts_with("AsService { make: Shared"), "{text}");
}

/// Connects by handing out one end of an in-memory pipe, keeping the other.
#[derive(Debug, Default)]
struct Pipes {
    server_ends: Vec<(&'static str, DuplexStream)>,
}

impl Service<&'static str> for Pipes {
    type Response = DuplexStream;
    type Error = io::Error;
    type Future = Ready<Result<DuplexStream, io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, target: &'static str) -> Self::Future {
        if target == "unreachable" {
            return ready(Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "unreachable",
            )));
        }
        let (client, server) = tokio::io::duplex(64);
        self.server_ends.push((target, server));
        ready(Ok(client))
    }
}

#[tokio::test]
async fn make_connection_makes_a_connection_to_the_target() {
    let mut pipes = Pipes::default();
    let mut cx = noop_context();

    assert_ready_ok!(MakeConnection::poll_ready(&mut pipes, &mut cx));
    let mut connection = pipes.make_connection("db").await.unwrap();

    let (target, server) = &mut pipes.server_ends[0];
    assert_eq!(*target, "db");
    connection.write_all(b"ping").await.unwrap();
    let mut received = [0; 4];
    server.read_exact(&mut received).await.unwrap();
    assert_eq!(&received, b"ping");

    server.write_all(b"pong").await.unwrap();
    connection.read_exact(&mut received).await.unwrap();
    assert_eq!(&received, b"pong");
}

#[tokio::test]
async fn make_connection_returns_the_connector_error_unchanged() {
    async fn connect<C>(connector: &mut C, target: &'static str) -> Result<C::Connection, C::Error>
    where
        C: MakeConnection<&'static str>,
    {
        std::future::poll_fn(|cx| connector.poll_ready(cx)).await?;
        connector.make_connection(target).await
    }

    let mut pipes = Pipes::default();
    let error = connect(&mut pipes, "unreachable").await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    assert!(pipes.server_ends.is_empty());

    assert!(connect(&mut pipes, "db").await.is_ok());
    assert_eq!(pipes.server_ends.len(), 1);
}

#[tokio::test]
async fn make_connection_forwards_readiness_and_its_wake_up() {
    let (mut connector, mut handle) = mock::pair::<&'static str, DuplexStream>();
    let mut task = task::spawn(());

    handle.allow(0);
    assert_pending!(task.enter(|cx, _| MakeConnection::poll_ready(&mut connector, cx)));
    handle.allow(1);
    assert!(task.is_woken());
    assert_ready_ok!(task.enter(|cx, _| MakeConnection::poll_ready(&mut connector, cx)));

    let mut connecting = task::spawn(connector.make_connection("db"));
    let (client, mut server) = tokio::io::duplex(16);
    assert_request_eq!(handle, "db").send_response(client);
    let mut connection = assert_ready_ok!(connecting.poll());

    connection.write_all(b"hi").await.unwrap();
    let mut received = [0; 2];
    server.read_exact(&mut received).await.unwrap();
    assert_eq!(&received, b"hi");

    drop(handle);
    let error =
        assert_ready_err!(task.enter(|cx, _| MakeConnection::poll_ready(&mut connector, cx)));
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[test]
fn shared_make_service_is_infallible_and_ready_at_once() {
    let mut shared = Shared::new(Tagged::new("now"));
    let mut future = task::spawn(MakeService::<(), u32>::make_service(&mut shared, ()));
    // The output type names `Infallible`: `Shared` cannot fail.
    let made: Result<Tagged, Infallible> = assert_ready!(future.poll());
    assert!(made.is_ok());
}
