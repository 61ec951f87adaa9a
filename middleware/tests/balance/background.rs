//! Background readiness: endpoints made ready by spawned tasks, and what
//! needs a runtime.

use super::*;

/// Lets the runtime run the background tasks for a while, without
/// polling the balancer.
async fn let_the_runtime_run() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

fn background_balance(endpoints: Vec<Endpoint>) -> Spawn<Balance<ServiceList<Vec<Endpoint>>, Req>> {
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
