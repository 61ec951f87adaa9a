//! Integration tests of `donjon::balance`: the power-of-two-choices
//! `Balance` over mock endpoints (discovery, readiness and wake-ups, load-based
//! choice, failures, removal and replacement, misuse), a randomized stress
//! test, background readiness, and `MakeBalance` with its layer.
#![cfg(feature = "balance")]

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasherDefault;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use donjon::balance::error::Discover as DiscoverError;
use donjon::balance::p2c::{Balance, MakeBalance, MakeBalanceLayer};
use donjon::discover::{Change, ServiceList};
use donjon::load::{Constant, Load};
use donjon::util::rng::{HasherRng, Rng};
use donjon::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

type Req = &'static str;
type Mock = mock::Mock<Req, Req>;
type Handle = mock::Handle<Req, Req>;
/// An endpoint: a mock with a fixed load.
type Endpoint = Constant<Mock, u32>;
type Changes<K, S> = Result<Change<K, S>, &'static str>;
type Channel<K, S> = UnboundedReceiverStream<Changes<K, S>>;
type Sender<K, S> = tokio::sync::mpsc::UnboundedSender<Changes<K, S>>;

/// A balancer fed by a channel of changes, under a mock task.
type ChannelBalance<K, S> = Spawn<Balance<Channel<K, S>, Req>>;

/// A balancer fed by a channel of changes, and the channel's sender.
fn channel_balance<K, S>() -> (ChannelBalance<K, S>, Sender<K, S>)
where
    K: Eq + std::hash::Hash,
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    (
        Spawn::new(Balance::new(UnboundedReceiverStream::new(rx))),
        tx,
    )
}

/// A reproducible rng for the balancer.
fn seeded_rng() -> HasherRng<BuildHasherDefault<DefaultHasher>> {
    HasherRng::with_hasher(BuildHasherDefault::default())
}

/// A mock endpoint with a load, and no calls allowed yet.
fn endpoint(load: u32) -> (Endpoint, Handle) {
    let (mock, mut handle) = mock::pair();
    handle.allow(0);
    (Constant::new(mock, load), handle)
}

/// A mock endpoint with a load, always ready (mocks allow any number of
/// calls until told otherwise).
fn open_endpoint(load: u32) -> (Endpoint, Handle) {
    let (mock, handle) = mock::pair();
    (Constant::new(mock, load), handle)
}

/// Whether every clone of the mock behind `handle` was dropped (once the
/// requests it received are taken).
fn mock_dropped(handle: &mut Handle) -> bool {
    loop {
        match handle.poll_request() {
            Poll::Ready(None) => return true,
            Poll::Ready(Some(_)) => {}
            Poll::Pending => return false,
        }
    }
}

/// Asserts that the balancer is `Pending` and waits for a wake-up: polling
/// newly pending endpoints may wake the task once, but the next poll must
/// not, or the caller would spin.
fn assert_parked<S: Service<Req>>(service: &mut Spawn<S>)
where
    S::Error: fmt::Debug,
{
    assert_pending!(service.poll_ready());
    if service.is_woken() {
        assert_pending!(service.poll_ready());
        assert!(!service.is_woken(), "the balancer keeps waking its task");
    }
}

/// Sends a request through the ready balancer and answers it from whichever
/// handle receives it; returns the index of that handle.
fn route<S>(balance: &mut Spawn<S>, handles: &mut [&mut Handle]) -> usize
where
    S: Service<Req, Response = Req, Error = BoxError>,
{
    let mut response = task::spawn(balance.call("request"));
    let mut receivers = Vec::new();
    for (index, handle) in handles.iter_mut().enumerate() {
        if let Poll::Ready(Some((request, reply))) = handle.poll_request() {
            assert_eq!(request, "request");
            reply.send_response("response");
            receivers.push(index);
        }
    }
    assert_eq!(
        receivers.len(),
        1,
        "one endpoint gets the request: {receivers:?}"
    );
    assert_eq!(assert_ready_ok!(response.poll()), "response");
    receivers[0]
}

/// The test's side of a [`Switched`] endpoint.
#[derive(Clone, Debug, Default)]
struct Switch(Arc<Mutex<(bool, Option<std::task::Waker>)>>);

impl Switch {
    fn set(&self, on: bool) {
        let waker = {
            let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            state.0 = on;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A mock endpoint behind a switch: not ready while the switch is off, and
/// ready again when it is turned back on (a mock alone keeps the readiness
/// it reserved).
#[derive(Debug)]
struct Switched {
    switch: Switch,
    inner: Mock,
}

impl Load for Switched {
    type Metric = u32;

    fn load(&self) -> u32 {
        0
    }
}

impl Service<Req> for Switched {
    type Response = Req;
    type Error = BoxError;
    type Future = mock::future::ResponseFuture<Req>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        {
            let mut state = self.switch.0.lock().unwrap_or_else(PoisonError::into_inner);
            if !state.0 {
                state.1 = Some(cx.waker().clone());
                return Poll::Pending;
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        self.inner.call(request)
    }
}

fn switched_endpoint(on: bool) -> (Switched, Switch, Handle) {
    let (inner, handle) = mock::pair();
    let switch = Switch::default();
    switch.set(on);
    (
        Switched {
            switch: switch.clone(),
            inner,
        },
        switch,
        handle,
    )
}

/// An error with a type of its own.
#[derive(Debug, PartialEq, Eq)]
struct Teapot;

impl fmt::Display for Teapot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("i am a teapot")
    }
}

impl std::error::Error for Teapot {}

/// Tests ported from tower's p2c unit tests, in our words.
mod p2c {
    use super::*;

    #[test]
    fn an_empty_balancer_is_pending() {
        let empty: Vec<Endpoint> = Vec::new();
        let mut balance = Spawn::new(Balance::new(ServiceList::new(empty)));
        assert_parked(&mut balance);
        assert!(balance.get_ref().is_empty());
        assert_eq!(balance.get_ref().len(), 0);
    }

    #[tokio::test]
    async fn a_single_endpoint_is_discovered_on_first_poll_and_followed() {
        let (mut balance, mut handle) = mock::spawn_with(|mock: Mock| {
            Balance::new(ServiceList::new(vec![Constant::new(mock, 0)].into_iter()))
        });

        handle.allow(0);
        assert_pending!(balance.poll_ready());
        assert_eq!(balance.get_ref().len(), 1, "discovered while not ready");

        handle.allow(1);
        assert_ready_ok!(balance.poll_ready());
        let mut response = task::spawn(balance.call("hello"));
        assert_request_eq!(handle, "hello").send_response("world");
        assert_eq!(assert_ready_ok!(response.poll()), "world");

        handle.allow(1);
        assert_ready_ok!(balance.poll_ready());

        handle.send_error("endpoint lost");
        assert_pending!(balance.poll_ready());
        assert!(balance.get_ref().is_empty(), "a failed endpoint is dropped");
    }

    #[tokio::test]
    async fn two_endpoints_with_equal_load() {
        let (a, mut handle_a) = endpoint(1);
        let (b, mut handle_b) = endpoint(1);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b].into_iter())));

        assert_pending!(balance.poll_ready());
        assert_eq!(balance.get_ref().len(), 2, "both discovered");

        handle_a.allow(1);
        handle_b.allow(0);
        assert_ready_ok!(balance.poll_ready(), "ready when one of two is");
        let mut response = task::spawn(balance.call("first"));
        assert_request_eq!(handle_a, "first").send_response("a");
        assert_eq!(assert_ready_ok!(response.poll()), "a");

        handle_a.allow(0);
        handle_b.allow(1);
        assert_ready_ok!(balance.poll_ready(), "ready when the other one is");
        let mut response = task::spawn(balance.call("second"));
        assert_request_eq!(handle_b, "second").send_response("b");
        assert_eq!(assert_ready_ok!(response.poll()), "b");

        handle_a.allow(1);
        handle_b.allow(1);
        for _ in 0..2 {
            assert_ready_ok!(balance.poll_ready(), "ready when both are");
            let mut response = task::spawn(balance.call("either"));
            let mut answered = 0;
            for (handle, name) in [(&mut handle_a, "a"), (&mut handle_b, "b")] {
                if let Poll::Ready(Some((_, reply))) = handle.poll_request() {
                    reply.send_response(name);
                    handle.allow(0);
                    answered += 1;
                }
            }
            assert_eq!(answered, 1);
            assert_ready_ok!(response.poll());
        }

        handle_a.send_error("endpoint lost");
        handle_b.allow(1);
        assert_ready_ok!(balance.poll_ready(), "ready with the one left");
        assert_eq!(balance.get_ref().len(), 1, "the failed endpoint is dropped");
    }
}

mod readiness {
    use super::*;

    #[test]
    fn the_arrival_of_an_endpoint_wakes_the_waiting_caller() {
        let (mut balance, tx) = channel_balance::<u32, Endpoint>();
        assert_parked(&mut balance);
        assert!(balance.get_ref().is_empty());

        let (a, mut handle_a) = open_endpoint(0);
        tx.send(Ok(Change::Insert(1, a))).unwrap();
        assert!(balance.is_woken(), "the discovery wakes the caller");
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle_a]), 0);
    }

    #[test]
    fn an_endpoint_becoming_ready_wakes_the_waiting_caller() {
        let (a, mut handle_a) = endpoint(0);
        let (b, mut handle_b) = endpoint(0);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));
        assert_parked(&mut balance);
        assert_eq!(balance.get_ref().len(), 2);

        handle_b.allow(1);
        assert!(balance.is_woken());
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 1);

        // The endpoint used has no call allowed left: waiting again.
        assert_parked(&mut balance);
        handle_a.allow(1);
        assert!(balance.is_woken());
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 0);
    }

    #[test]
    fn polling_again_while_ready_is_harmless() {
        let (a, mut handle_a) = open_endpoint(0);
        let (b, mut handle_b) = open_endpoint(9);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));
        assert_ready_ok!(balance.poll_ready());
        assert_ready_ok!(balance.poll_ready(), "polling again is harmless");
        assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 0);
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 0);
    }

    #[test]
    fn a_chosen_endpoint_that_fails_before_the_call_is_replaced() {
        let (low, mut low_handle) = open_endpoint(0);
        let (high, mut high_handle) = open_endpoint(100);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![low, high])));
        assert_ready_ok!(balance.poll_ready(), "the low-load endpoint is chosen");

        low_handle.send_error("gone");
        assert_ready_ok!(balance.poll_ready(), "the choice is checked again");
        assert_eq!(balance.get_ref().len(), 1);
        assert_eq!(
            route(&mut balance, &mut [&mut low_handle, &mut high_handle]),
            1
        );
        assert!(mock_dropped(&mut low_handle));
    }

    #[test]
    fn an_endpoint_found_no_longer_ready_is_skipped_and_wakes_the_caller_later() {
        let (switched, switch, mut handle) = switched_endpoint(true);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![switched])));
        assert_ready_ok!(balance.poll_ready());

        switch.set(false);
        assert_parked(&mut balance);
        assert_eq!(balance.get_ref().len(), 1, "not ready is not failed");

        switch.set(true);
        assert!(balance.is_woken());
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle]), 0);
    }

    #[test]
    #[should_panic(expected = "called before ready")]
    fn call_without_poll_ready_panics() {
        let (a, _handle_a) = open_endpoint(0);
        let mut balance = Balance::new(ServiceList::new(vec![a]));
        drop(balance.call("too soon"));
    }

    #[test]
    #[should_panic(expected = "called before ready")]
    fn a_second_call_needs_another_poll_ready() {
        let (a, _handle_a) = open_endpoint(0);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a])));
        assert_ready_ok!(balance.poll_ready());
        let _first = balance.call("first");
        let _second = balance.call("second");
    }
}

mod failures {
    use super::*;

    #[test]
    fn an_endpoint_whose_readiness_fails_is_dropped_and_the_others_serve() {
        let (a, mut handle_a) = endpoint(0);
        let (b, mut handle_b) = endpoint(0);
        let (c, mut handle_c) = endpoint(0);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b, c])));
        assert_parked(&mut balance);

        handle_b.send_error("b is down");
        assert!(balance.is_woken());
        assert_parked(&mut balance);
        assert_eq!(balance.get_ref().len(), 2);
        assert!(mock_dropped(&mut handle_b));

        handle_c.allow(1);
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(
            route(
                &mut balance,
                &mut [&mut handle_a, &mut handle_b, &mut handle_c]
            ),
            2
        );
    }

    #[test]
    fn when_every_endpoint_fails_the_balancer_waits_for_new_ones() {
        let (mut balance, tx) = channel_balance::<u32, Endpoint>();
        let (a, mut handle_a) = endpoint(0);
        let (b, handle_b) = endpoint(0);
        tx.send(Ok(Change::Insert(1, a))).unwrap();
        tx.send(Ok(Change::Insert(2, b))).unwrap();
        assert_parked(&mut balance);

        handle_a.send_error("a is down");
        // A dropped handle closes its mock: its readiness fails as well.
        drop(handle_b);
        assert!(balance.is_woken());
        assert_parked(&mut balance);
        assert!(balance.get_ref().is_empty());
        assert!(mock_dropped(&mut handle_a));

        let (c, mut handle_c) = open_endpoint(0);
        tx.send(Ok(Change::Insert(3, c))).unwrap();
        assert!(balance.is_woken());
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle_c]), 0);
    }

    #[test]
    fn response_errors_reach_the_caller_boxed() {
        let (a, mut handle_a) = open_endpoint(0);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a])));

        assert_ready_ok!(balance.poll_ready());
        let mut response = task::spawn(balance.call("hello"));
        let (_, reply) = assert_ready!(handle_a.poll_request()).unwrap();
        reply.send_error(Teapot);
        let error = assert_ready_err!(response.poll());
        assert_eq!(error.downcast_ref::<Teapot>(), Some(&Teapot));

        // An unanswered request fails as the mock says: closed.
        assert_ready_ok!(balance.poll_ready());
        let mut response = task::spawn(balance.call("dropped"));
        drop(assert_ready!(handle_a.poll_request()).unwrap());
        let error = assert_ready_err!(response.poll());
        assert!(error.is::<mock::error::Closed>(), "{error}");
        // The endpoint itself is fine.
        assert_ready_ok!(balance.poll_ready());
    }

    #[test]
    fn a_discovery_error_fails_poll_ready() {
        let (mut balance, tx) = channel_balance::<u32, Endpoint>();
        let (a, _handle_a) = open_endpoint(0);
        tx.send(Ok(Change::Insert(1, a))).unwrap();
        tx.send(Err("dns down")).unwrap();

        let error = assert_ready_err!(balance.poll_ready());
        let discover = error
            .downcast_ref::<DiscoverError>()
            .expect("a balance::error::Discover");
        assert_eq!(
            discover.to_string(),
            "load balancer discovery error: dns down"
        );
        assert_eq!(error.to_string(), "load balancer discovery error: dns down");
        let source = std::error::Error::source(discover).expect("the discovery's error");
        assert_eq!(source.to_string(), "dns down");
        assert!(format!("{discover:?}").starts_with("Discover"));
    }

    #[test]
    fn a_discovery_that_ends_keeps_its_endpoints() {
        let (mut balance, tx) = channel_balance::<u32, Endpoint>();
        let (a, mut handle_a) = open_endpoint(0);
        tx.send(Ok(Change::Insert(1, a))).unwrap();
        drop(tx);

        for _ in 0..5 {
            assert_ready_ok!(balance.poll_ready(), "the end of discovery is no error");
            assert_eq!(route(&mut balance, &mut [&mut handle_a]), 0);
        }
        assert_eq!(balance.get_ref().len(), 1);
    }

    #[test]
    fn a_service_list_that_ends_keeps_its_endpoints_too() {
        let (a, mut handle_a) = open_endpoint(0);
        let (b, mut handle_b) = open_endpoint(0);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));
        let mut served = [0; 2];
        for _ in 0..20 {
            assert_ready_ok!(balance.poll_ready());
            served[route(&mut balance, &mut [&mut handle_a, &mut handle_b])] += 1;
        }
        assert_eq!(served.iter().sum::<usize>(), 20);
        assert_eq!(balance.get_ref().len(), 2);
    }
}

mod membership {
    use super::*;

    #[test]
    fn a_removed_endpoint_is_dropped_and_gets_no_more_requests() {
        let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
        let (a, mut handle_a) = open_endpoint(0);
        let (b, mut handle_b) = open_endpoint(0);
        tx.send(Ok(Change::Insert("a", a))).unwrap();
        tx.send(Ok(Change::Insert("b", b))).unwrap();
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(balance.get_ref().len(), 2);

        tx.send(Ok(Change::Remove("a"))).unwrap();
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(balance.get_ref().len(), 1);
        assert!(mock_dropped(&mut handle_a));
        for _ in 0..10 {
            assert_ready_ok!(balance.poll_ready());
            assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 1);
        }
    }

    #[test]
    fn removing_a_pending_endpoint_drops_it() {
        let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
        let (a, mut handle_a) = endpoint(0);
        tx.send(Ok(Change::Insert("a", a))).unwrap();
        assert_parked(&mut balance);
        assert_eq!(balance.get_ref().len(), 1);

        tx.send(Ok(Change::Remove("a"))).unwrap();
        assert!(balance.is_woken());
        assert_parked(&mut balance);
        assert!(balance.get_ref().is_empty());
        assert!(mock_dropped(&mut handle_a));
    }

    #[test]
    fn removing_an_unknown_key_changes_nothing() {
        let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
        let (a, mut handle_a) = open_endpoint(0);
        tx.send(Ok(Change::Insert("a", a))).unwrap();
        tx.send(Ok(Change::Remove("nobody"))).unwrap();
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(balance.get_ref().len(), 1);
        assert_eq!(route(&mut balance, &mut [&mut handle_a]), 0);
    }

    #[test]
    fn a_removed_endpoint_response_in_flight_still_arrives() {
        let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
        let (a, mut handle_a) = open_endpoint(0);
        tx.send(Ok(Change::Insert("a", a))).unwrap();
        assert_ready_ok!(balance.poll_ready());
        let mut response = task::spawn(balance.call("in flight"));
        let (request, reply) = assert_ready!(handle_a.poll_request()).unwrap();
        assert_eq!(request, "in flight");

        tx.send(Ok(Change::Remove("a"))).unwrap();
        assert_parked(&mut balance);
        assert!(balance.get_ref().is_empty());
        assert!(mock_dropped(&mut handle_a));

        reply.send_response("late but fine");
        assert_eq!(assert_ready_ok!(response.poll()), "late but fine");
    }

    #[test]
    fn inserting_an_existing_key_replaces_the_endpoint() {
        let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
        let (old, mut old_handle) = open_endpoint(0);
        tx.send(Ok(Change::Insert("k", old))).unwrap();
        assert_ready_ok!(balance.poll_ready());

        // The replacement is not ready: the old endpoint keeps serving.
        let (new, mut new_handle) = endpoint(0);
        tx.send(Ok(Change::Insert("k", new))).unwrap();
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(
            route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
            0
        );
        // Once used, the old endpoint is not kept: the key is the new one's.
        assert!(mock_dropped(&mut old_handle));
        assert_parked(&mut balance);
        assert_eq!(balance.get_ref().len(), 1);

        new_handle.allow(1);
        assert!(balance.is_woken());
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(
            route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
            1
        );
    }

    #[test]
    fn a_ready_replacement_takes_over_at_once() {
        let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
        let (old, mut old_handle) = open_endpoint(0);
        tx.send(Ok(Change::Insert("k", old))).unwrap();
        assert_ready_ok!(balance.poll_ready());

        let (new, mut new_handle) = open_endpoint(0);
        tx.send(Ok(Change::Insert("k", new))).unwrap();
        assert_ready_ok!(balance.poll_ready());
        assert!(mock_dropped(&mut old_handle));
        assert_eq!(balance.get_ref().len(), 1);
        assert_eq!(
            route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
            1
        );
    }

    #[test]
    fn endpoints_added_and_removed_while_requests_flow() {
        let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
        let (old, mut old_handle) = open_endpoint(5);
        tx.send(Ok(Change::Insert("old", old))).unwrap();
        assert_ready_ok!(balance.poll_ready());
        let mut in_flight = task::spawn(balance.call("before"));
        let (_, old_reply) = assert_ready!(old_handle.poll_request()).unwrap();

        // A less loaded endpoint arrives: it takes the requests from now on.
        let (new, mut new_handle) = open_endpoint(0);
        tx.send(Ok(Change::Insert("new", new))).unwrap();
        for _ in 0..5 {
            assert_ready_ok!(balance.poll_ready());
            assert_eq!(
                route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
                1
            );
        }

        // It leaves: back to the old one, whose answer still arrives.
        tx.send(Ok(Change::Remove("new"))).unwrap();
        for _ in 0..5 {
            assert_ready_ok!(balance.poll_ready());
            assert_eq!(
                route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
                0
            );
        }
        assert!(mock_dropped(&mut new_handle));
        old_reply.send_response("after");
        assert_eq!(assert_ready_ok!(in_flight.poll()), "after");
    }

    #[test]
    fn dropping_the_balancer_drops_its_endpoints() {
        let (a, mut handle_a) = open_endpoint(0);
        let (b, mut handle_b) = endpoint(0);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));
        assert_ready_ok!(balance.poll_ready());
        drop(balance);
        assert!(mock_dropped(&mut handle_a));
        assert!(mock_dropped(&mut handle_b));
    }
}

mod choice {
    use super::*;

    #[test]
    fn with_two_endpoints_the_lower_load_gets_every_request() {
        for loads in [[0, 100], [100, 0]] {
            let (a, mut handle_a) = open_endpoint(loads[0]);
            let (b, mut handle_b) = open_endpoint(loads[1]);
            let mut balance = Spawn::new(Balance::from_rng(
                ServiceList::new(vec![a, b]),
                seeded_rng(),
            ));
            let lower = if loads[0] < loads[1] { 0 } else { 1 };
            for _ in 0..50 {
                assert_ready_ok!(balance.poll_ready());
                assert_eq!(
                    route(&mut balance, &mut [&mut handle_a, &mut handle_b]),
                    lower,
                    "loads {loads:?}"
                );
            }
        }
    }

    /// A mock endpoint whose `load` is logged, so that a test sees which
    /// endpoints the balancer sampled, in which order.
    #[derive(Debug)]
    struct Logged {
        name: &'static str,
        load: u32,
        inner: Mock,
        log: Arc<Mutex<Vec<&'static str>>>,
    }

    impl Load for Logged {
        type Metric = u32;

        fn load(&self) -> u32 {
            self.log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(self.name);
            self.load
        }
    }

    impl Service<Req> for Logged {
        type Response = Req;
        type Error = BoxError;
        type Future = mock::future::ResponseFuture<Req>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, request: Req) -> Self::Future {
            self.inner.call(request)
        }
    }

    #[test]
    fn of_two_sampled_endpoints_the_lower_load_wins_and_the_first_wins_ties() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let specs = [("low", 1), ("tie-1", 5), ("tie-2", 5), ("high", 9)];
        let mut handles = Vec::new();
        let mut endpoints = Vec::new();
        for (name, load) in specs {
            let (inner, handle) = mock::pair();
            handles.push(handle);
            endpoints.push(Logged {
                name,
                load,
                inner,
                log: Arc::clone(&log),
            });
        }
        let mut balance = Spawn::new(Balance::from_rng(ServiceList::new(endpoints), seeded_rng()));
        let load_of = |name: &str| specs.iter().find(|(n, _)| *n == name).unwrap().1;

        let mut chosen_count = [0; 4];
        let mut ties_by_first = [0; 2];
        for _ in 0..400 {
            log.lock().unwrap().clear();
            assert_ready_ok!(balance.poll_ready());
            let sampled = std::mem::take(&mut *log.lock().unwrap());
            assert_eq!(sampled.len(), 2, "two endpoints sampled: {sampled:?}");
            assert_ne!(sampled[0], sampled[1], "two distinct endpoints");
            // Polled again before the call: the choice is kept, not redrawn.
            assert_ready_ok!(balance.poll_ready());
            assert!(log.lock().unwrap().is_empty(), "no new sampling");

            let mut handle_refs: Vec<&mut Handle> = handles.iter_mut().collect();
            let chosen = route(&mut balance, &mut handle_refs);
            let chosen_name = specs[chosen].0;
            chosen_count[chosen] += 1;

            let (first, second) = (sampled[0], sampled[1]);
            let expected = if load_of(second) < load_of(first) {
                second
            } else {
                first
            };
            assert_eq!(chosen_name, expected, "sampled {sampled:?}");
            if load_of(first) == load_of(second) {
                ties_by_first[usize::from(first == "tie-2")] += 1;
            }
        }
        assert_eq!(chosen_count[3], 0, "the highest load never wins a pair");
        assert!(
            chosen_count[0] > chosen_count[1] && chosen_count[0] > chosen_count[2],
            "the lowest load wins most: {chosen_count:?}"
        );
        assert!(
            ties_by_first[0] > 0 && ties_by_first[1] > 0,
            "ties were met in both orders: {ties_by_first:?}"
        );
    }

    /// An rng of a fixed sequence.
    struct Script(Vec<u64>);

    impl Rng for Script {
        fn next_u64(&mut self) -> u64 {
            self.0.remove(0)
        }
    }

    #[test]
    fn the_given_rng_drives_the_sampling_and_the_first_sampled_wins_ties() {
        // With two endpoints, the first index comes from `0..1` and the
        // second from `0..2`; when they are equal, the first becomes 1.
        // An even second word samples [1, 0], an odd one [0, 1]: with equal
        // loads the first sampled index wins.
        let (a, mut handle_a) = open_endpoint(0);
        let (b, mut handle_b) = open_endpoint(0);
        let mut balance = Spawn::new(Balance::from_rng(
            ServiceList::new(vec![a, b]),
            Script(vec![7, 0, 7, 0, 7, 0, 7, 1]),
        ));
        let mut first = None;
        for _ in 0..3 {
            assert_ready_ok!(balance.poll_ready());
            let chosen = route(&mut balance, &mut [&mut handle_a, &mut handle_b]);
            // The endpoint at index 1 wins [1, 0]; after its call it comes
            // back at the end, at index 1 again: the same endpoint wins.
            assert_eq!(*first.get_or_insert(chosen), chosen);
        }
        // [0, 1]: index 0 holds the other endpoint now.
        assert_ready_ok!(balance.poll_ready());
        let chosen = route(&mut balance, &mut [&mut handle_a, &mut handle_b]);
        assert_ne!(Some(chosen), first);
        // The script is spent: one more pick would panic on it.
    }

    #[test]
    fn pending_requests_steer_requests_to_the_idle_endpoint() {
        use donjon::load::{CompleteOnResponse, PendingRequestsDiscover};

        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<u32, Mock>>();
        let discover = PendingRequestsDiscover::new(
            UnboundedReceiverStream::new(rx),
            CompleteOnResponse::default(),
        );
        let mut balance = Spawn::new(Balance::from_rng(discover, seeded_rng()));
        let (a, mut handle_a) = mock::pair();
        let (b, mut handle_b) = mock::pair();
        tx.send(Ok(Change::Insert(0, a))).unwrap();
        tx.send(Ok(Change::Insert(1, b))).unwrap();

        let receive = |handles: [&mut Handle; 2]| {
            let mut got = Vec::new();
            for (index, handle) in handles.into_iter().enumerate() {
                if let Poll::Ready(Some((_, reply))) = handle.poll_request() {
                    got.push((index, reply));
                }
            }
            assert_eq!(got.len(), 1);
            got.pop().unwrap()
        };

        assert_ready_ok!(balance.poll_ready());
        let mut first = task::spawn(balance.call("first"));
        let (busy, first_reply) = receive([&mut handle_a, &mut handle_b]);

        assert_ready_ok!(balance.poll_ready());
        let mut second = task::spawn(balance.call("second"));
        let (idle, second_reply) = receive([&mut handle_a, &mut handle_b]);
        assert_ne!(
            busy, idle,
            "the endpoint with a request in flight is avoided"
        );

        // The first endpoint finishes: it is the idle one now.
        first_reply.send_response("1");
        assert_ready_ok!(first.poll());
        assert_ready_ok!(balance.poll_ready());
        let _third = balance.call("third");
        let (third_to, _third_reply) = receive([&mut handle_a, &mut handle_b]);
        assert_eq!(third_to, busy);

        second_reply.send_response("2");
        assert_ready_ok!(second.poll());
    }

    #[tokio::test(start_paused = true)]
    async fn peak_ewma_steers_requests_away_from_a_slow_endpoint() {
        use std::time::Duration;

        use donjon::load::{CompleteOnResponse, PeakEwmaDiscover};

        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<u32, Mock>>();
        let discover = PeakEwmaDiscover::new(
            UnboundedReceiverStream::new(rx),
            Duration::from_millis(10),
            Duration::from_secs(10),
            CompleteOnResponse::default(),
        );
        let mut balance = Spawn::new(Balance::from_rng(discover, seeded_rng()));
        let (a, mut handle_a) = mock::pair();
        let (b, mut handle_b) = mock::pair();
        tx.send(Ok(Change::Insert(0, a))).unwrap();
        tx.send(Ok(Change::Insert(1, b))).unwrap();

        // The first request takes a second to answer.
        assert_ready_ok!(balance.poll_ready());
        let mut slow = task::spawn(balance.call("slow"));
        tokio::time::advance(Duration::from_secs(1)).await;
        let slow_one = [&mut handle_a, &mut handle_b]
            .into_iter()
            .position(|handle| match handle.poll_request() {
                Poll::Ready(Some((_, reply))) => {
                    reply.send_response("finally");
                    true
                }
                _ => false,
            })
            .unwrap();
        assert_ready_ok!(slow.poll());

        // Answered at once from now on, the other endpoint gets them all.
        for _ in 0..10 {
            assert_ready_ok!(balance.poll_ready());
            let chosen = route(&mut balance, &mut [&mut handle_a, &mut handle_b]);
            assert_ne!(chosen, slow_one);
        }
    }
}

mod make {
    use super::*;

    /// A discovery made per target: two always-ready endpoints.
    type Made = ServiceList<
        Vec<
            Constant<
                donjon::util::ServiceFn<fn(Req) -> std::future::Ready<Result<String, BoxError>>>,
                u32,
            >,
        >,
    >;

    fn answer_a(request: Req) -> std::future::Ready<Result<String, BoxError>> {
        std::future::ready(Ok(format!("a: {request}")))
    }

    fn answer_b(request: Req) -> std::future::Ready<Result<String, BoxError>> {
        std::future::ready(Ok(format!("b: {request}")))
    }

    fn made() -> Made {
        ServiceList::new(vec![
            Constant::new(donjon::service_fn(answer_a as fn(Req) -> _), 0),
            Constant::new(donjon::service_fn(answer_b as fn(Req) -> _), 1),
        ])
    }

    #[test]
    fn make_balance_makes_a_balancer_per_target() {
        let make = donjon::service_fn(|target: &'static str| async move {
            assert_eq!(target, "eu");
            Ok::<_, BoxError>(made())
        });
        let make = MakeBalance::<_, Req>::new(make);
        let balance = futures::executor::block_on(make.oneshot("eu")).unwrap();
        // Discovery happens when the balancer is first polled.
        assert_eq!(balance.len(), 0);
        let answer = futures::executor::block_on(balance.oneshot("hi")).unwrap();
        assert_eq!(answer, "a: hi", "the lower load");
    }

    #[tokio::test]
    async fn make_balance_follows_its_inner_service() {
        let (mut make, mut handle) =
            mock::spawn_with(|mock: mock::Mock<Req, Made>| MakeBalance::<_, Req>::new(mock));

        handle.allow(0);
        assert_pending!(make.poll_ready());
        handle.allow(1);
        assert!(make.is_woken());
        assert_ready_ok!(make.poll_ready());

        let future = make.call("target");
        assert!(
            format!("{future:?}").starts_with("MakeFuture"),
            "{future:?}"
        );
        let mut future = task::spawn(future);
        assert_pending!(future.poll());
        assert_request_eq!(handle, "target").send_response(made());
        assert!(future.is_woken());
        let balance = assert_ready_ok!(future.poll());
        assert_eq!(balance.oneshot("x").await.unwrap(), "a: x");

        // The inner service's errors come through unchanged.
        handle.allow(1);
        assert_ready_ok!(make.poll_ready());
        let mut future = task::spawn(make.call("broken"));
        assert_request_eq!(handle, "broken").send_error(Teapot);
        let error = assert_ready_err!(future.poll());
        assert!(error.is::<Teapot>());

        handle.send_error("make failed");
        assert_eq!(
            assert_ready_err!(make.poll_ready()).to_string(),
            "make failed"
        );
    }

    #[test]
    fn make_balance_is_clone_and_debug() {
        let (mock, _handle) = mock::pair::<Req, Made>();
        let make = MakeBalance::<_, Req>::new(mock);
        let copy = make.clone();
        let debug = format!("{copy:?}");
        assert!(debug.starts_with("MakeBalance { inner: Mock"), "{debug}");
    }

    #[test]
    fn make_balance_layer_wraps_a_make_discover_service() {
        let layer = MakeBalanceLayer::<_, Req>::new();
        assert_eq!(format!("{layer:?}"), "MakeBalanceLayer");
        let _copy = layer.clone();
        let _default: MakeBalanceLayer<(), Req> = MakeBalanceLayer::default();

        let make = donjon::service_fn(|()| async { Ok::<_, BoxError>(made()) });
        let make = layer.layer(make);
        let balance = futures::executor::block_on(make.oneshot(())).unwrap();
        assert_eq!(
            futures::executor::block_on(balance.oneshot("y")).unwrap(),
            "a: y"
        );

        let make = ServiceBuilder::new()
            .layer(MakeBalanceLayer::<_, Req>::new())
            .service(donjon::service_fn(|()| async { Ok::<_, BoxError>(made()) }));
        let balance = futures::executor::block_on(make.oneshot(())).unwrap();
        assert_eq!(
            futures::executor::block_on(balance.oneshot("z")).unwrap(),
            "a: z"
        );
    }
}

mod traits {
    use super::*;

    #[test]
    fn the_balancer_is_sync_when_its_parts_are() {
        fn sync<T: Sync>() {}
        sync::<Balance<ServiceList<Vec<Endpoint>>, Req>>();
    }

    #[test]
    fn the_balancer_is_send_and_its_future_unpin() {
        fn send<T: Send>(_: &T) {}
        fn unpin<T: Unpin>(_: &T) {}
        let (a, _handle_a) = open_endpoint(0);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a])));
        send(balance.get_ref());
        assert_ready_ok!(balance.poll_ready());
        let mut response = balance.call("x");
        unpin(&response);
        let mut task = task::spawn(());
        assert_pending!(task.enter(|cx, _| Pin::new(&mut response).poll(cx)));
    }

    #[test]
    fn the_balancer_is_debug() {
        let (a, _handle_a) = open_endpoint(3);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a])));
        assert_ready_ok!(balance.poll_ready());
        let debug = format!("{:?}", balance.get_ref());
        for field in ["Balance", "discover", "services", "load: 3"] {
            assert!(debug.contains(field), "{field} in {debug}");
        }
    }
}

mod background {
    use super::*;

    /// Lets the runtime run the background tasks for a while, without
    /// polling the balancer.
    async fn let_the_runtime_run() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    fn background_balance(
        endpoints: Vec<Endpoint>,
    ) -> Spawn<Balance<ServiceList<Vec<Endpoint>>, Req>> {
        Spawn::new(Balance::new(ServiceList::new(endpoints)).with_background_readiness())
    }

    #[tokio::test]
    async fn an_endpoint_ready_in_the_background_wakes_the_waiting_caller() {
        let (a, mut handle_a) = endpoint(0);
        let mut balance = background_balance(vec![a]);
        assert_parked(&mut balance);
        let_the_runtime_run().await;
        assert!(!balance.is_woken(), "nothing to wake for yet");

        handle_a.allow(1);
        let_the_runtime_run().await;
        assert!(balance.is_woken(), "woken without being polled in between");
        assert_ready_ok!(balance.poll_ready(), "ready at the first poll");

        let mut response = task::spawn(balance.call("hello"));
        assert_request_eq!(handle_a, "hello").send_response("world");
        assert_eq!(assert_ready_ok!(response.poll()), "world");
    }

    #[tokio::test]
    async fn an_endpoint_goes_to_the_background_and_back_again() {
        let (a, mut handle_a) = endpoint(0);
        let mut balance = background_balance(vec![a]);
        for round in ["one", "two", "three"] {
            handle_a.allow(0);
            assert_parked(&mut balance);
            handle_a.allow(1);
            let_the_runtime_run().await;
            assert!(balance.is_woken());
            assert_ready_ok!(balance.poll_ready());
            let mut response = task::spawn(balance.call(round));
            assert_request_eq!(handle_a, round).send_response(round);
            assert_eq!(assert_ready_ok!(response.poll()), round);
        }
    }

    /// Wraps a mock; its readiness takes `steps` polls, each pending one
    /// waking the task at once (a connection making progress each time it
    /// is polled, say).
    struct Stepping {
        steps: usize,
        inner: Mock,
    }

    impl Service<Req> for Stepping {
        type Response = Req;
        type Error = BoxError;
        type Future = mock::future::ResponseFuture<Req>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            if self.steps > 0 {
                self.steps -= 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, request: Req) -> Self::Future {
            self.inner.call(request)
        }
    }

    type SteppingBalance = Spawn<Balance<ServiceList<Vec<Constant<Stepping, u32>>>, Req>>;

    fn stepping_balance(background: bool) -> (SteppingBalance, Handle) {
        let (inner, handle) = mock::pair();
        let stepping = Constant::new(Stepping { steps: 5, inner }, 0);
        let balance = Balance::new(ServiceList::new(vec![stepping]));
        let balance = if background {
            balance.with_background_readiness()
        } else {
            balance
        };
        (Spawn::new(balance), handle)
    }

    #[tokio::test]
    async fn an_endpoint_that_needs_polling_gets_ready_with_nothing_polling_the_balancer() {
        let (mut balance, mut handle) = stepping_balance(true);
        assert_pending!(balance.poll_ready());
        let_the_runtime_run().await;
        assert!(balance.is_woken());
        assert_ready_ok!(balance.poll_ready(), "no extra polling rounds");
        let _response = balance.call("hi");
        assert_eq!(assert_ready!(handle.poll_request()).unwrap().0, "hi");
    }

    #[tokio::test]
    async fn without_background_readiness_the_same_endpoint_needs_polling_rounds() {
        // The control for the test above: it shows what the background
        // task saves.
        let (mut balance, _handle) = stepping_balance(false);
        assert_pending!(balance.poll_ready());
        let_the_runtime_run().await;
        assert_pending!(balance.poll_ready());
    }

    #[tokio::test]
    async fn an_endpoint_found_no_longer_ready_is_driven_in_the_background() {
        let (switched, switch, mut handle) = switched_endpoint(true);
        let mut balance =
            Spawn::new(Balance::new(ServiceList::new(vec![switched])).with_background_readiness());
        assert_ready_ok!(balance.poll_ready());

        switch.set(false);
        assert_parked(&mut balance);
        let_the_runtime_run().await;
        switch.set(true);
        let_the_runtime_run().await;
        assert!(balance.is_woken());
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle]), 0);
    }

    #[tokio::test]
    async fn many_endpoints_in_the_background_do_not_stall_the_balancer() {
        // More than tokio's cooperative budget (128) of background tasks
        // hand their endpoints back in one go.
        let mut handles = Vec::new();
        let mut endpoints = Vec::new();
        for _ in 0..200 {
            let (service, handle) = endpoint(0);
            endpoints.push(service);
            handles.push(handle);
        }
        let mut balance = background_balance(endpoints);
        assert_parked(&mut balance);
        let_the_runtime_run().await;

        for handle in &mut handles {
            handle.allow(1);
        }
        // Poll only when woken: a `Pending` without a wake-up to come
        // fails here instead of hanging.
        let mut ready = false;
        for _ in 0..200 {
            tokio::task::yield_now().await;
            if balance.is_woken() && balance.poll_ready().is_ready() {
                ready = true;
                break;
            }
        }
        assert!(ready, "the balancer was never woken to a ready endpoint");
        assert_eq!(balance.get_ref().len(), 200);
    }

    /// A mock endpoint that, after each call, needs `steps` polls to be
    /// ready again (a connection re-established after each use, say).
    struct Rearming {
        steps: usize,
        left: usize,
        inner: Mock,
    }

    impl Service<Req> for Rearming {
        type Response = Req;
        type Error = BoxError;
        type Future = mock::future::ResponseFuture<Req>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            if self.left > 0 {
                self.left -= 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, request: Req) -> Self::Future {
            self.left = self.steps;
            self.inner.call(request)
        }
    }

    #[tokio::test]
    async fn an_endpoint_just_used_is_driven_in_the_background_too() {
        let (inner, mut handle) = mock::pair();
        let rearming = Constant::new(
            Rearming {
                steps: 3,
                left: 0,
                inner,
            },
            0,
        );
        let mut balance =
            Spawn::new(Balance::new(ServiceList::new(vec![rearming])).with_background_readiness());
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle]), 0);

        // Nothing polls the balancer while the endpoint gets ready again.
        let_the_runtime_run().await;
        assert_ready_ok!(
            balance.poll_ready(),
            "ready at the first poll after the idle time"
        );
    }

    #[tokio::test]
    async fn removing_an_endpoint_driven_in_the_background_drops_it() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<u32, Endpoint>>();
        let mut balance =
            Spawn::new(Balance::new(UnboundedReceiverStream::new(rx)).with_background_readiness());
        let (a, mut handle_a) = endpoint(0);
        tx.send(Ok(Change::Insert(1, a))).unwrap();
        assert_parked(&mut balance);
        let_the_runtime_run().await;
        assert!(!mock_dropped(&mut handle_a));

        tx.send(Ok(Change::Remove(1))).unwrap();
        assert!(balance.is_woken());
        assert_parked(&mut balance);
        assert!(balance.get_ref().is_empty());
        let_the_runtime_run().await;
        assert!(
            mock_dropped(&mut handle_a),
            "its background task was aborted"
        );
    }

    #[tokio::test]
    async fn a_replaced_endpoint_driven_in_the_background_is_dropped() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<u32, Endpoint>>();
        let mut balance =
            Spawn::new(Balance::new(UnboundedReceiverStream::new(rx)).with_background_readiness());
        let (old, mut old_handle) = endpoint(0);
        tx.send(Ok(Change::Insert(1, old))).unwrap();
        assert_parked(&mut balance);

        let (new, mut new_handle) = open_endpoint(0);
        tx.send(Ok(Change::Insert(1, new))).unwrap();
        assert_ready_ok!(balance.poll_ready());
        let_the_runtime_run().await;
        assert!(mock_dropped(&mut old_handle));
        assert_eq!(
            route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
            1
        );
    }

    #[tokio::test]
    async fn dropping_the_balancer_aborts_its_background_tasks() {
        let (a, mut handle_a) = endpoint(0);
        let (b, mut handle_b) = endpoint(0);
        let mut balance = background_balance(vec![a, b]);
        assert_parked(&mut balance);
        let_the_runtime_run().await;

        drop(balance);
        let_the_runtime_run().await;
        assert!(mock_dropped(&mut handle_a));
        assert!(mock_dropped(&mut handle_b));
    }

    #[tokio::test]
    async fn an_endpoint_failing_in_the_background_is_dropped_and_the_balancer_carries_on() {
        let (a, mut handle_a) = endpoint(0);
        let (b, mut handle_b) = endpoint(0);
        let (c, handle_c) = endpoint(0);
        let mut balance = background_balance(vec![a, b, c]);
        assert_parked(&mut balance);
        assert_eq!(balance.get_ref().len(), 3);

        handle_a.send_error("a is down");
        drop(handle_c);
        let_the_runtime_run().await;
        assert!(balance.is_woken(), "a failure is news too");
        assert_parked(&mut balance);
        assert_eq!(balance.get_ref().len(), 1);
        assert!(mock_dropped(&mut handle_a));

        handle_b.allow(1);
        let_the_runtime_run().await;
        assert!(balance.is_woken());
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 1);
    }

    #[tokio::test]
    async fn when_every_background_endpoint_fails_the_balancer_is_empty_and_waits() {
        let (a, mut handle_a) = endpoint(0);
        let mut balance = background_balance(vec![a]);
        assert_parked(&mut balance);

        handle_a.send_error("gone");
        let_the_runtime_run().await;
        assert!(balance.is_woken());
        assert_parked(&mut balance);
        assert!(balance.get_ref().is_empty());
    }

    #[test]
    fn ready_endpoints_need_no_runtime() {
        let (a, mut handle_a) = open_endpoint(0);
        let mut balance = background_balance(vec![a]);
        for _ in 0..3 {
            assert_ready_ok!(balance.poll_ready());
            assert_eq!(route(&mut balance, &mut [&mut handle_a]), 0);
        }
    }

    #[test]
    #[should_panic(expected = "must be called from the context of a Tokio 1.x runtime")]
    fn outside_a_runtime_an_endpoint_not_ready_panics() {
        let (a, _handle_a) = endpoint(0);
        let mut balance = background_balance(vec![a]);
        let _ = balance.poll_ready();
    }
}

/// The randomized stress test: a long run of random insertions, removals,
/// readiness changes, failures and requests, checked against a model of
/// which endpoints are ready.
mod stress {
    use super::*;

    /// xorshift64: the test's own reproducible choices.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn coin(&mut self) -> bool {
            self.next() & 1 == 1
        }
    }

    impl Rng for XorShift {
        fn next_u64(&mut self) -> u64 {
            self.next()
        }
    }

    /// An endpoint as the model sees it.
    struct Live {
        handle: Handle,
        /// Allowed one call the balancer has not made yet.
        ready: bool,
    }

    struct Model {
        /// Keys are reused once free, as a slab does.
        slots: Vec<Option<Live>>,
        /// Ready endpoints removed from discovery; the balancer must drop
        /// them at its next `poll_ready`.
        retired: Vec<Handle>,
        /// Ready endpoints, live or retired.
        ready: usize,
        tx: Sender<usize, Endpoint>,
    }

    impl Model {
        fn live_keys(&self) -> Vec<usize> {
            (0..self.slots.len())
                .filter(|&key| self.slots[key].is_some())
                .collect()
        }

        fn insert(&mut self) {
            let (service, handle) = endpoint(0);
            let key = match self.slots.iter().position(Option::is_none) {
                Some(key) => key,
                None => {
                    self.slots.push(None);
                    self.slots.len() - 1
                }
            };
            self.slots[key] = Some(Live {
                handle,
                ready: false,
            });
            self.tx.send(Ok(Change::Insert(key, service))).unwrap();
        }

        fn remove(&mut self, key: usize) {
            let live = self.slots[key].take().unwrap();
            if live.ready {
                self.retired.push(live.handle);
            }
            self.tx.send(Ok(Change::Remove(key))).unwrap();
        }

        /// Fails the endpoint's readiness, without telling the discovery:
        /// the balancer finds out by itself.
        fn fail(&mut self, key: usize) {
            let mut live = self.slots[key].take().unwrap();
            if live.ready {
                self.ready -= 1;
            }
            live.handle.send_error("doom");
        }

        fn make_one_ready(&mut self) {
            if let Some(live) = self.slots.iter_mut().flatten().find(|live| !live.ready) {
                live.handle.allow(1);
                live.ready = true;
                self.ready += 1;
            }
        }

        /// After a `poll_ready`: every retired endpoint must have been
        /// dropped.
        fn check_retired_dropped(&mut self) {
            for mut handle in self.retired.drain(..) {
                assert!(
                    mock_dropped(&mut handle),
                    "a removed endpoint is dropped at the next poll_ready"
                );
                self.ready -= 1;
            }
        }

        /// Checks `outcome`, a `poll_ready` just made, against the model.
        fn check(&mut self, outcome: &Poll<Result<(), BoxError>>) {
            self.check_retired_dropped();
            match outcome {
                Poll::Ready(Ok(())) => {
                    assert_ne!(self.ready, 0, "ready when no endpoint is ready");
                }
                Poll::Ready(Err(error)) => panic!("the discovery has not failed: {error}"),
                Poll::Pending => {
                    assert_eq!(self.ready, 0, "pending while an endpoint is ready");
                }
            }
        }
    }

    #[test]
    fn random_changes_keep_the_balancer_consistent() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut task = task::spawn(());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut balance = Balance::from_rng(
            UnboundedReceiverStream::new(rx),
            XorShift(0x2545_F491_4F6C_DD1D),
        );
        let mut model = Model {
            slots: Vec::new(),
            retired: Vec::new(),
            ready: 0,
            tx,
        };
        let mut served = 0_usize;
        let mut pending_polls = 0_usize;
        let (mut inserted, mut removed, mut failed) = (0_usize, 0_usize, 0_usize);

        for _ in 0..100_000 {
            for _ in 0..rng.below(8) {
                let keys = model.live_keys();
                if !keys.is_empty() && rng.coin() {
                    if model.ready == 0 || rng.below(4) != 0 {
                        model.make_one_ready();
                    } else {
                        // Use an endpoint.
                        let outcome = task.enter(|cx, _| balance.poll_ready(cx));
                        model.check(&outcome);
                        if outcome.is_pending() {
                            pending_polls += 1;
                            continue;
                        }
                        let mut response = balance.call("hello");
                        assert_pending!(task.enter(|cx, _| Pin::new(&mut response).poll(cx)));
                        let mut receivers = 0;
                        for live in model.slots.iter_mut().flatten() {
                            if let Poll::Ready(Some((request, reply))) = live.handle.poll_request()
                            {
                                assert!(
                                    live.ready,
                                    "a request reached an endpoint that was not ready"
                                );
                                assert_eq!(request, "hello");
                                reply.send_response("world");
                                live.ready = false;
                                receivers += 1;
                            }
                        }
                        assert_eq!(receivers, 1, "the request reached one live ready endpoint");
                        model.ready -= 1;
                        let answer =
                            assert_ready!(task.enter(|cx, _| Pin::new(&mut response).poll(cx)));
                        assert_eq!(answer.unwrap(), "world");
                        served += 1;
                    }
                } else if keys.is_empty() || rng.coin() {
                    if keys.is_empty() || model.ready == 0 || rng.coin() {
                        model.insert();
                        inserted += 1;
                    } else {
                        let key = keys[rng.below(keys.len() as u64) as usize];
                        model.remove(key);
                        removed += 1;
                    }
                } else {
                    let key = keys[rng.below(keys.len() as u64) as usize];
                    model.fail(key);
                    failed += 1;
                }
            }

            let outcome = task.enter(|cx, _| balance.poll_ready(cx));
            model.check(&outcome);
            if outcome.is_pending() {
                pending_polls += 1;
            }
        }

        // The run did exercise everything.
        assert!(served > 10_000, "{served} requests served");
        assert!(pending_polls > 1_000, "{pending_polls} pending polls");
        assert!(
            inserted > 10_000 && removed > 1_000 && failed > 1_000,
            "{inserted} {removed} {failed}"
        );
        // And the balancer holds what the model holds, give or take the
        // failed endpoints it has not polled since.
        assert!(balance.len() >= model.live_keys().len());
    }
}

/// The balancer keeps a called endpoint in its ready set (no trip through
/// the pending set per request); these check that it still behaves as if
/// the endpoint had gone back to pending.
mod regressions {
    use super::*;

    #[test]
    fn issue_6_an_endpoint_that_fails_after_a_call_is_dropped_at_the_next_poll() {
        let mut handles = Vec::new();
        let mut endpoints = Vec::new();
        for _ in 0..4 {
            let (endpoint, handle) = open_endpoint(1);
            endpoints.push(endpoint);
            handles.push(handle);
        }
        let mut balance = Spawn::new(Balance::from_rng(ServiceList::new(endpoints), seeded_rng()));
        assert_ready_ok!(balance.poll_ready());
        let mut refs: Vec<&mut Handle> = handles.iter_mut().collect();
        let used = route(&mut balance, &mut refs);

        handles[used].send_error("endpoint lost");
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(
            balance.get_ref().len(),
            3,
            "the endpoint just called is checked, and dropped, at once"
        );
    }

    #[test]
    fn issue_6_an_endpoint_not_ready_after_a_call_wakes_the_balancer_when_it_is() {
        let (endpoint, mut handle) = open_endpoint(1);
        let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![endpoint])));
        assert_ready_ok!(balance.poll_ready());
        handle.allow(1);
        assert_eq!(route(&mut balance, &mut [&mut handle]), 0);

        // Its one call spent, the endpoint is not ready: the balancer waits,
        // and hears when it is ready again.
        assert_parked(&mut balance);
        assert_eq!(balance.get_ref().len(), 1);
        handle.allow(1);
        assert!(
            balance.is_woken(),
            "the endpoint's readiness wakes the balancer"
        );
        assert_ready_ok!(balance.poll_ready());
    }
}
