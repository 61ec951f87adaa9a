//! `ServiceExt::call_all`, `CallAll` and `CallAllUnordered`: ordering,
//! readiness only with a request in hand, errors, and taking the service.

use std::pin::Pin;

use futures::StreamExt;
use futures::channel::mpsc;
use tokio_test::{assert_pending, assert_ready, task};
use tower::ServiceExt;
use tower::util::{CallAll, CallAllUnordered};
use tower_test::mock;

use super::support::{SlowStart, Stats};

type Requests = mpsc::UnboundedReceiver<&'static str>;

fn setup() -> (
    task::Spawn<CallAll<mock::Mock<&'static str, &'static str>, Requests>>,
    mpsc::UnboundedSender<&'static str>,
    mock::Handle<&'static str, &'static str>,
) {
    let (svc, handle) = mock::pair::<&'static str, &'static str>();
    let (tx, rx) = mpsc::unbounded();
    (task::spawn(svc.call_all(rx)), tx, handle)
}

#[test]
fn ordered_yields_in_request_order() {
    let (mut all, tx, mut handle) = setup();
    assert_pending!(all.poll_next());
    tx.unbounded_send("one").unwrap();
    tx.unbounded_send("two").unwrap();
    assert_pending!(all.poll_next());

    let (req1, send1) = assert_ready!(handle.poll_request()).unwrap();
    let (req2, send2) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!((req1, req2), ("one", "two"));
    // The second answer arrives first, but waits for the first one.
    send2.send_response("TWO");
    assert_pending!(all.poll_next());
    send1.send_response("ONE");
    assert_eq!(assert_ready!(all.poll_next()).unwrap().unwrap(), "ONE");
    assert_eq!(assert_ready!(all.poll_next()).unwrap().unwrap(), "TWO");
    // Pending again while the request stream is open.
    assert_pending!(all.poll_next());

    drop(tx);
    assert!(assert_ready!(all.poll_next()).is_none());
}

#[test]
fn unordered_yields_in_completion_order() {
    let (svc, mut handle) = mock::pair::<&'static str, &'static str>();
    let (tx, rx) = mpsc::unbounded();
    let unordered: CallAllUnordered<mock::Mock<&'static str, &'static str>, Requests> =
        svc.call_all(rx).unordered();
    let mut all = task::spawn(unordered);
    tx.unbounded_send("one").unwrap();
    tx.unbounded_send("two").unwrap();
    assert_pending!(all.poll_next());
    let (_, send1) = assert_ready!(handle.poll_request()).unwrap();
    let (_, send2) = assert_ready!(handle.poll_request()).unwrap();
    send2.send_response("TWO");
    assert_eq!(assert_ready!(all.poll_next()).unwrap().unwrap(), "TWO");
    assert_pending!(all.poll_next());
    send1.send_response("ONE");
    assert!(all.is_woken());
    assert_eq!(assert_ready!(all.poll_next()).unwrap().unwrap(), "ONE");
    drop(tx);
    assert!(assert_ready!(all.poll_next()).is_none());
}

#[test]
fn response_errors_are_items_and_the_stream_goes_on() {
    let (mut all, tx, mut handle) = setup();
    tx.unbounded_send("bad").unwrap();
    tx.unbounded_send("good").unwrap();
    assert_pending!(all.poll_next());
    let (_, send1) = assert_ready!(handle.poll_request()).unwrap();
    let (_, send2) = assert_ready!(handle.poll_request()).unwrap();
    send1.send_error("failed");
    send2.send_response("fine");
    let err = assert_ready!(all.poll_next()).unwrap().unwrap_err();
    assert_eq!(err.to_string(), "failed");
    assert_eq!(assert_ready!(all.poll_next()).unwrap().unwrap(), "fine");
}

#[test]
fn readiness_error_ends_the_calls_but_not_the_responses() {
    let (mut all, tx, mut handle) = setup();
    tx.unbounded_send("first").unwrap();
    assert_pending!(all.poll_next());
    let (_, send1) = assert_ready!(handle.poll_request()).unwrap();

    handle.send_error("not ready");
    tx.unbounded_send("second").unwrap();
    let err = assert_ready!(all.poll_next()).unwrap().unwrap_err();
    assert_eq!(err.to_string(), "not ready");

    // Nothing more is called, even with requests queued.
    tx.unbounded_send("third").unwrap();
    assert_pending!(all.poll_next());
    assert_pending!(handle.poll_request());
    // The response already in flight still comes out, then the end.
    send1.send_response("one");
    assert_eq!(assert_ready!(all.poll_next()).unwrap().unwrap(), "one");
    assert!(assert_ready!(all.poll_next()).is_none());
}

#[test]
fn readiness_is_only_polled_with_a_request_in_hand() {
    let (svc, stats): (SlowStart, Stats) = SlowStart::new(0);
    let (tx, rx) = mpsc::unbounded::<u32>();
    let mut all = task::spawn(svc.call_all(rx));
    assert_pending!(all.poll_next());
    assert_pending!(all.poll_next());
    assert_eq!(
        stats.polls(),
        0,
        "an idle request stream must not reserve capacity"
    );
    tx.unbounded_send(4).unwrap();
    assert_eq!(assert_ready!(all.poll_next()).unwrap().unwrap(), 8);
    assert_eq!((stats.polls(), stats.calls()), (1, 1));
}

#[test]
fn a_pending_service_holds_the_request() {
    let (svc, mut handle) = mock::pair::<&'static str, &'static str>();
    handle.allow(0);
    let (tx, rx) = mpsc::unbounded();
    let mut all = task::spawn(svc.call_all(rx));
    tx.unbounded_send("held").unwrap();
    assert_pending!(all.poll_next());
    assert_pending!(handle.poll_request());
    handle.allow(1);
    assert!(all.is_woken());
    assert_pending!(all.poll_next());
    let (req, send) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(req, "held");
    send.send_response("done");
    assert_eq!(assert_ready!(all.poll_next()).unwrap().unwrap(), "done");
}

#[tokio::test]
async fn take_service_and_into_inner_give_the_service_back() {
    let (svc, stats) = SlowStart::new(0);
    let mut all = svc.call_all(futures::stream::iter(vec![1_u32, 2, 3]));
    let mut rsps = Vec::new();
    while let Some(rsp) = all.next().await {
        rsps.push(rsp.unwrap());
    }
    assert_eq!(rsps, vec![2, 4, 6]);
    let svc: SlowStart = Pin::new(&mut all).take_service();
    assert_eq!(stats.calls(), 3);
    drop(svc);

    let (svc, _) = SlowStart::new(0);
    let all = svc.call_all(futures::stream::iter(vec![1_u32]));
    let _: SlowStart = all.into_inner();
    let (svc, _) = SlowStart::new(0);
    let all = svc.call_all(futures::stream::iter(vec![1_u32])).unordered();
    let _: SlowStart = all.into_inner();
    let (svc, _) = SlowStart::new(0);
    let mut all = svc.call_all(futures::stream::iter(vec![1_u32])).unordered();
    let _: SlowStart = Pin::new(&mut all).take_service();
}

#[test]
#[should_panic(expected = "Service already taken")]
fn into_inner_after_take_service_panics() {
    let (svc, _) = SlowStart::new(0);
    let mut all = svc.call_all(futures::stream::iter(vec![1_u32]));
    drop(Pin::new(&mut all).take_service());
    drop(all.into_inner());
}

#[test]
#[should_panic(expected = "Using CallAll after extracting inner Service")]
fn polling_after_take_service_panics() {
    let (svc, _) = SlowStart::new(0);
    let mut all = task::spawn(svc.call_all(futures::stream::iter(vec![1_u32])));
    drop(Pin::new(&mut *all).take_service());
    let _ = all.poll_next();
}

#[test]
#[should_panic]
fn unordered_after_the_stream_ended_panics() {
    let (svc, _) = SlowStart::new(0);
    let mut all = task::spawn(svc.call_all(futures::stream::iter(Vec::<u32>::new())));
    assert!(assert_ready!(all.poll_next()).is_none());
    drop(all.into_inner().unordered());
}
