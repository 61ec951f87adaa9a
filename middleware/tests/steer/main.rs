//! Integration tests of `donjon::steer`: `Steer` routing requests with a
//! `Picker`, waiting for every service to be ready, passing errors through,
//! and its clones starting over.
#![cfg(feature = "steer")]

#[path = "../support/mod.rs"]
mod support;

use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use donjon::Service;
use donjon::steer::{Picker, Steer};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Handle, Mock, Spawn, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use support::Boom;

type Svc = Mock<&'static str, &'static str>;

/// Two mocks and their handles.
fn two_mocks() -> ([Svc; 2], [Handle<&'static str, &'static str>; 2]) {
    let (first, first_handle) = mock::pair();
    let (second, second_handle) = mock::pair();
    ([first, second], [first_handle, second_handle])
}

/// A picker that always answers `index`.
fn always(index: usize) -> impl Fn(&&'static str, &[Svc]) -> usize + Clone {
    move |_: &&'static str, _: &[Svc]| index
}

/// Forwards to `inner` and counts the `poll_ready` calls, clones included.
#[derive(Clone, Debug)]
struct Counted<S> {
    inner: S,
    polls: Arc<AtomicUsize>,
}

impl<S> Counted<S> {
    fn new(inner: S) -> Self {
        Counted {
            inner,
            polls: Arc::default(),
        }
    }

    fn polls(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.polls)
    }
}

impl<S: Service<R>, R> Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

fn counts(polls: &[Arc<AtomicUsize>]) -> Vec<usize> {
    polls.iter().map(|p| p.load(Ordering::SeqCst)).collect()
}

/// A service whose error type is `Boom`: ready unless built refusing,
/// and answering with its own name.
#[derive(Clone, Debug)]
struct Named {
    name: &'static str,
    refuse: Option<&'static str>,
}

impl Service<&'static str> for Named {
    type Response = String;
    type Error = Boom;
    type Future = Ready<Result<String, Boom>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        match self.refuse {
            Some(why) => Poll::Ready(Err(Boom(why))),
            None => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: &'static str) -> Self::Future {
        ready(Ok(format!("{} got {request}", self.name)))
    }
}

/// A picker with state: sends requests to the services in turn.
#[derive(Clone, Debug, Default)]
struct RoundRobin {
    next: usize,
}

impl<S, R> Picker<S, R> for RoundRobin {
    fn pick(&mut self, _: &R, services: &[S]) -> usize {
        let index = self.next % services.len();
        self.next += 1;
        index
    }
}

#[tokio::test]
async fn pick_correctly() {
    let (services, [mut first, mut second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(1)));

    assert_ready_ok!(steer.poll_ready());
    let mut response = task::spawn(steer.call("hello"));

    assert_request_eq!(second, "hello").send_response("from the second");
    assert_eq!(assert_ready_ok!(response.poll()), "from the second");
    assert!(
        first.poll_request().is_pending(),
        "the first service received nothing"
    );
}

#[tokio::test]
async fn a_closure_picker_routes_by_the_request() {
    let (services, [mut first, mut second]) = two_mocks();
    let picker = |request: &&'static str, _: &[Svc]| usize::from(request.starts_with("/files"));
    let mut steer = Spawn::new(Steer::new(services, picker));

    assert_ready_ok!(steer.poll_ready());
    let mut api = task::spawn(steer.call("/api/users"));
    assert_ready_ok!(steer.poll_ready());
    let mut files = task::spawn(steer.call("/files/a.txt"));

    assert_request_eq!(first, "/api/users").send_response("users");
    assert_request_eq!(second, "/files/a.txt").send_response("a.txt");
    assert_eq!(assert_ready_ok!(api.poll()), "users");
    assert_eq!(assert_ready_ok!(files.poll()), "a.txt");
    assert!(first.poll_request().is_pending());
    assert!(second.poll_request().is_pending());
}

#[tokio::test]
async fn a_picker_struct_keeps_its_state_between_requests() {
    let services = [
        Named {
            name: "a",
            refuse: None,
        },
        Named {
            name: "b",
            refuse: None,
        },
    ];
    let mut steer = Spawn::new(Steer::new(services, RoundRobin::default()));

    let mut answers = Vec::new();
    for request in ["one", "two", "three"] {
        assert_ready_ok!(steer.poll_ready());
        answers.push(steer.call(request).await.unwrap());
    }
    assert_eq!(answers, ["a got one", "b got two", "a got three"]);
}

#[test]
fn the_picker_sees_the_request_and_every_service() {
    let seen = Arc::new(AtomicUsize::new(usize::MAX));
    let recorded = Arc::clone(&seen);
    let picker = move |request: &&'static str, services: &[Named]| {
        recorded.store(services.len(), Ordering::SeqCst);
        services
            .iter()
            .position(|service| service.name == *request)
            .expect("a service with the requested name")
    };
    let services = ["a", "b", "c"].map(|name| Named { name, refuse: None });
    let mut steer = Spawn::new(Steer::new(services, picker));

    assert_ready_ok!(steer.poll_ready());
    let answer = futures::executor::block_on(steer.call("c")).unwrap();
    assert_eq!(answer, "c got c");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn pending_all_ready() {
    let (services, [mut first, mut second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(1)));

    first.allow(0);
    second.allow(0);
    assert_pending!(steer.poll_ready());
    assert!(!steer.is_woken());

    // The first service becoming ready is not enough.
    first.allow(1);
    assert!(
        steer.is_woken(),
        "the first service's wake-up reaches the caller"
    );
    assert_pending!(steer.poll_ready(), "the second service is not ready");
    assert!(!steer.is_woken());

    second.allow(1);
    assert!(
        steer.is_woken(),
        "the second service's wake-up reaches the caller"
    );
    assert_ready_ok!(steer.poll_ready());

    let mut response = task::spawn(steer.call("hi"));
    assert_request_eq!(second, "hi").send_response("there");
    assert_eq!(assert_ready_ok!(response.poll()), "there");
}

#[tokio::test]
async fn a_service_not_ready_blocks_requests_meant_for_the_others() {
    let (services, [mut first, _second]) = two_mocks();
    // Every request would go to the second service, which is ready...
    let mut steer = Spawn::new(Steer::new(services, always(1)));

    // ...but the first is not, so Steer is not either.
    first.allow(0);
    assert_pending!(steer.poll_ready());
    assert_pending!(steer.poll_ready());

    first.allow(1);
    assert!(steer.is_woken());
    assert_ready_ok!(steer.poll_ready());
}

#[test]
fn after_a_call_only_the_used_service_is_polled_again() {
    let services = [
        Counted::new(Named {
            name: "a",
            refuse: None,
        }),
        Counted::new(Named {
            name: "b",
            refuse: None,
        }),
        Counted::new(Named {
            name: "c",
            refuse: None,
        }),
    ];
    let polls: Vec<_> = services.iter().map(Counted::polls).collect();
    let mut steer = Spawn::new(Steer::new(services, |_: &&'static str, _: &[_]| 1));

    assert_ready_ok!(steer.poll_ready());
    assert_eq!(counts(&polls), [1, 1, 1]);

    // Ready again at once: no service is polled twice for one call.
    assert_ready_ok!(steer.poll_ready());
    assert_eq!(counts(&polls), [1, 1, 1]);

    let answer = futures::executor::block_on(steer.call("x")).unwrap();
    assert_eq!(answer, "b got x");

    assert_ready_ok!(steer.poll_ready());
    assert_eq!(
        counts(&polls),
        [1, 2, 1],
        "only the service called is re-polled"
    );
}

#[tokio::test]
async fn after_a_call_steer_waits_for_the_used_service_again() {
    let (services, [_first, mut second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(1)));

    second.allow(1);
    assert_ready_ok!(steer.poll_ready());
    let response = steer.call("one");

    // The call spent the second service's only allowance.
    assert_pending!(steer.poll_ready());
    assert!(!steer.is_woken());

    second.allow(1);
    assert!(steer.is_woken());
    assert_ready_ok!(steer.poll_ready());
    let response_two = steer.call("two");

    assert_request_eq!(second, "one").send_response("1");
    assert_request_eq!(second, "two").send_response("2");
    assert_eq!(response.await.unwrap(), "1");
    assert_eq!(response_two.await.unwrap(), "2");
}

#[test]
fn a_pending_service_stops_the_polling_of_the_services_after_it() {
    let (first, mut first_handle) = mock::pair::<&'static str, &'static str>();
    let (second, _second_handle) = mock::pair();
    let services = [Counted::new(first), Counted::new(second)];
    let polls: Vec<_> = services.iter().map(Counted::polls).collect();
    let mut steer = Spawn::new(Steer::new(services, |_: &&'static str, _: &[_]| 0));

    first_handle.allow(0);
    assert_pending!(steer.poll_ready());
    assert_pending!(steer.poll_ready());
    assert_eq!(counts(&polls), [2, 0]);

    first_handle.allow(1);
    assert_ready_ok!(steer.poll_ready());
    assert_eq!(counts(&polls), [3, 1]);
}

#[test]
fn a_readiness_error_is_returned_unchanged() {
    let services = [
        Named {
            name: "a",
            refuse: None,
        },
        Named {
            name: "b",
            refuse: Some("overloaded"),
        },
    ];
    let mut steer = Spawn::new(Steer::new(services, |_: &&'static str, _: &[_]| 0));

    // The error type is the services' own: no boxing, no wrapping.
    let error: Boom = assert_ready_err!(steer.poll_ready());
    assert_eq!(error, Boom("overloaded"));
}

#[test]
fn a_mock_readiness_error_keeps_its_type() {
    let (services, [_first, mut second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(0)));

    second.send_error(Boom("busy"));
    let error = assert_ready_err!(steer.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("busy")));
}

#[tokio::test]
async fn a_readiness_error_while_pending_wakes_the_caller() {
    let (services, [mut first, _second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(0)));

    first.allow(0);
    assert_pending!(steer.poll_ready());
    first.send_error(Boom("gone bad"));
    assert!(steer.is_woken());
    let error = assert_ready_err!(steer.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("gone bad")));
}

#[tokio::test]
async fn a_response_error_is_returned_unchanged() {
    let (services, [mut first, _second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(0)));

    assert_ready_ok!(steer.poll_ready());
    let mut response = task::spawn(steer.call("hello"));
    assert_request_eq!(first, "hello").send_error(Boom("no such user"));

    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("no such user")));
}

#[tokio::test]
async fn a_dropped_response_future_leaves_steer_usable() {
    let (services, [mut first, _second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(0)));

    for _ in 0..3 {
        assert_ready_ok!(steer.poll_ready());
        drop(steer.call("abandoned"));
        // Answering a request whose caller left is harmless.
        assert_request_eq!(first, "abandoned").send_response("nobody listens");
    }

    assert_ready_ok!(steer.poll_ready());
    let mut response = task::spawn(steer.call("kept"));
    assert_request_eq!(first, "kept").send_response("delivered");
    assert_eq!(assert_ready_ok!(response.poll()), "delivered");
}

#[tokio::test]
async fn a_dropped_service_handle_fails_readiness_with_closed() {
    let (services, [first, _second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(1)));

    drop(first);
    let error = assert_ready_err!(steer.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn a_service_handle_dropped_while_pending_wakes_and_fails_the_caller() {
    let (services, [mut first, _second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(1)));

    first.allow(0);
    assert_pending!(steer.poll_ready());
    drop(first);
    assert!(steer.is_woken(), "closing the service wakes the caller");
    let error = assert_ready_err!(steer.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn an_in_flight_response_fails_with_closed_when_its_service_goes_away() {
    let (services, [first, _second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(0)));

    assert_ready_ok!(steer.poll_ready());
    let mut response = task::spawn(steer.call("hello"));
    assert_pending!(response.poll());

    drop(first);
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[test]
#[should_panic(
    expected = "Steer must wait for all services to be ready. Did you forget to call poll_ready()?"
)]
fn call_before_poll_ready_panics() {
    let (services, _handles) = two_mocks();
    let mut steer = Steer::new(services, always(0));
    drop(steer.call("too early"));
}

#[test]
#[should_panic(
    expected = "Steer must wait for all services to be ready. Did you forget to call poll_ready()?"
)]
fn a_second_call_after_one_poll_ready_panics() {
    let (services, _handles) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(0)));

    assert_ready_ok!(steer.poll_ready());
    drop(steer.call("first"));
    drop(steer.call("second"));
}

#[test]
#[should_panic(expected = "Steer must wait for all services to be ready")]
fn call_after_a_pending_poll_ready_panics() {
    let (services, [_first, mut second]) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(0)));

    // The request would go to the first service, which is ready, but Steer
    // is not: the second one is not.
    second.allow(0);
    assert_pending!(steer.poll_ready());
    drop(steer.call("hello"));
}

#[test]
#[should_panic(expected = "picker chose service 2, but there are only 2 services")]
fn a_picker_index_out_of_range_panics() {
    let (services, _handles) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(2)));

    assert_ready_ok!(steer.poll_ready());
    drop(steer.call("nowhere"));
}

#[test]
#[should_panic(expected = "picker chose service 0, but there are only 0 services")]
fn steer_without_services_is_ready_but_cannot_route() {
    let mut steer = Spawn::new(Steer::new(Vec::<Svc>::new(), always(0)));

    assert_ready_ok!(steer.poll_ready());
    drop(steer.call("nowhere"));
}

#[test]
#[should_panic(
    expected = "Steer must wait for all services to be ready. Did you forget to call poll_ready()?"
)]
fn a_clone_of_a_ready_steer_is_not_ready() {
    let (services, _handles) = two_mocks();
    let mut steer = Spawn::new(Steer::new(services, always(0)));
    assert_ready_ok!(steer.poll_ready());

    let mut clone = steer.get_ref().clone();
    drop(clone.call("borrowed readiness"));
}

#[tokio::test]
async fn a_clone_polls_the_clones_of_the_services() {
    let (first, mut first_handle) = mock::pair::<&'static str, &'static str>();
    let (second, mut second_handle) = mock::pair();
    let services = [Counted::new(first), Counted::new(second)];
    let polls: Vec<_> = services.iter().map(Counted::polls).collect();
    let mut steer = Spawn::new(Steer::new(services, |_: &&'static str, _: &[_]| 0));

    assert_ready_ok!(steer.poll_ready());
    assert_eq!(counts(&polls), [1, 1]);

    let mut clone = steer.clone();
    // The mocks' clones hold no reservation, and there is nothing left to
    // reserve: the clone has to wait, the original does not.
    first_handle.allow(0);
    assert_pending!(clone.poll_ready());
    assert_eq!(counts(&polls), [2, 1], "the clone polled its own services");

    first_handle.allow(1);
    assert!(clone.is_woken());
    assert_ready_ok!(clone.poll_ready());
    assert_eq!(counts(&polls), [3, 2]);

    let mut from_original = task::spawn(steer.call("original"));
    let mut from_clone = task::spawn(clone.call("clone"));
    assert_request_eq!(first_handle, "original").send_response("1");
    assert_request_eq!(first_handle, "clone").send_response("2");
    assert_eq!(assert_ready_ok!(from_original.poll()), "1");
    assert_eq!(assert_ready_ok!(from_clone.poll()), "2");
    assert!(second_handle.poll_request().is_pending());
}

#[test]
fn debug_shows_the_router_the_services_and_the_not_ready_queue() {
    let services = [
        Named {
            name: "a",
            refuse: None,
        },
        Named {
            name: "b",
            refuse: None,
        },
    ];
    let mut steer = Spawn::new(Steer::new(services, RoundRobin::default()));

    let before = format!("{:?}", steer.get_ref());
    assert!(
        before.starts_with("Steer { router: RoundRobin { next: 0 }, services: [Named"),
        "{before}"
    );
    assert!(before.ends_with("not_ready: [0, 1] }"), "{before}");

    assert_ready_ok!(steer.poll_ready());
    let ready = format!("{:?}", steer.get_ref());
    assert!(ready.ends_with("not_ready: [] }"), "{ready}");

    drop(steer.call("x"));
    let after = format!("{:?}", steer.get_ref());
    assert!(after.contains("router: RoundRobin { next: 1 }"), "{after}");
    assert!(after.ends_with("not_ready: [0] }"), "{after}");
}
