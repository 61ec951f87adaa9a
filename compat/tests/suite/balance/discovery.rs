//! Discovery over a channel or a queue: endpoints come, go and are replaced; errors; misuse.

use super::*;

#[tokio::test]
async fn endpoints_come_and_go_through_the_discover() {
    let (mut svc, tx) = channel_balancer::<Endpoint>();
    assert_pending!(svc.poll_ready());

    let (a, mut ha) = endpoint(1);
    tx.send(Ok(Change::Insert(1, a))).unwrap();
    assert!(svc.is_woken(), "a discovery wakes the balancer");
    assert_ready_ok!(svc.poll_ready());
    assert_eq!(svc.get_ref().len(), 1);
    let fut = svc.call("one");
    assert_request_eq!(ha, "one").send_response("a");
    assert_eq!(fut.await.unwrap(), "a");

    let (b, mut hb) = endpoint(1);
    tx.send(Ok(Change::Insert(2, b))).unwrap();
    tx.send(Ok(Change::Remove(1))).unwrap();
    assert_ready_ok!(svc.poll_ready());
    assert_eq!(svc.get_ref().len(), 1);
    assert!(
        matches!(ha.poll_request(), Poll::Ready(None)),
        "a removed endpoint is dropped"
    );
    let fut = svc.call("two");
    assert_request_eq!(hb, "two").send_response("b");
    assert_eq!(fut.await.unwrap(), "b");

    // The end of the discovery is not an error: `b` keeps serving.
    drop(tx);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("three");
    assert_request_eq!(hb, "three").send_response("b");
    assert_eq!(fut.await.unwrap(), "b");
    assert_ready_ok!(svc.poll_ready());
}

#[tokio::test]
async fn a_key_inserted_again_is_replaced_once_the_new_service_is_ready() {
    let (mut svc, tx) = channel_balancer::<Endpoint>();
    let (old, mut h_old) = endpoint(1);
    tx.send(Ok(Change::Insert(7, old))).unwrap();
    assert_ready_ok!(svc.poll_ready());

    let (new, mut h_new) = endpoint(1);
    h_new.allow(0);
    tx.send(Ok(Change::Insert(7, new))).unwrap();
    // The old one serves while the new one is not ready.
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("before");
    assert_request_eq!(h_old, "before").send_response("old");
    assert_eq!(fut.await.unwrap(), "old");

    h_new.allow(1);
    assert_ready_ok!(svc.poll_ready());
    assert_eq!(svc.get_ref().len(), 1);
    assert!(matches!(h_old.poll_request(), Poll::Ready(None)));
    let fut = svc.call("after");
    assert_request_eq!(h_new, "after").send_response("new");
    assert_eq!(fut.await.unwrap(), "new");
}

#[tokio::test]
async fn a_discovery_error_is_returned_wrapped() {
    let (mut svc, tx) = channel_balancer::<Endpoint>();
    let (a, _ha) = endpoint(1);
    tx.send(Ok(Change::Insert(1, a))).unwrap();
    assert_ready_ok!(svc.poll_ready());

    tx.send(Err(Box::new(Oops("lost")))).unwrap();
    let err: BoxError = assert_ready_err!(svc.poll_ready());
    let discover = err
        .downcast_ref::<DiscoverError>()
        .unwrap_or_else(|| panic!("expected balance::error::Discover, got {err:?}"));
    assert_eq!(
        discover.to_string(),
        "load balancer discovery error: oops: lost"
    );
    assert_eq!(err.to_string(), "load balancer discovery error: oops: lost");
    let source = discover.source().unwrap();
    assert_eq!(source.downcast_ref::<Oops>(), Some(&Oops("lost")));

    // A discover whose error is a plain error type.
    let failing = futures::stream::iter(vec![Err::<Change<u8, Endpoint>, Oops>(Oops("plain"))]);
    let mut svc = Spawn::new(Balance::<_, Req>::new(failing));
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(
        err.to_string(),
        "load balancer discovery error: oops: plain"
    );
    assert!(err.is::<DiscoverError>());
}

#[tokio::test]
async fn endpoint_errors_are_boxed_but_not_wrapped() {
    let mut svc = Balance::new(ServiceList::new(vec![Constant::new(AddOne, 0u8)]));
    let ready: &mut Balance<ServiceList<Vec<Constant<AddOne, u8>>>, u32> =
        svc.ready().await.unwrap();
    let fut: MapErr<Instant<u32, Oops>, fn(Oops) -> BoxError> = ready.call(1);
    let rsp: Result<u32, BoxError> = fut.await;
    assert_eq!(rsp.unwrap(), 2);

    let err = svc.ready().await.unwrap().call(u32::MAX).await.unwrap_err();
    assert!(!err.is::<DiscoverError>());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));
}

#[test]
#[should_panic(expected = "called before ready")]
fn call_before_ready_panics() {
    let mut svc = Balance::new(ServiceList::new(vec![Constant::new(AddOne, 0u8)]));
    drop(svc.call(1));
}

/// A naive discover over a shared queue: it answers `None` whenever the
/// queue is empty, and has more once the queue is refilled. (A stream that
/// "ends" and then goes on; upstream's balancer polls the discover on every
/// `poll_ready`, so such a queue works with it.)
#[derive(Clone, Default)]
struct Queue(std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Change<u8, Endpoint>>>>);

impl futures::Stream for Queue {
    type Item = Result<Change<u8, Endpoint>, Infallible>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.lock().unwrap().pop_front().map(Ok))
    }
}

#[test]
fn a_discover_that_answers_none_when_empty_is_polled_again() {
    let queue = Queue::default();
    let mut balance = Balance::<_, Req>::new(queue.clone());
    let mut task = task::spawn(());
    assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_pending());

    let (a, mut ha) = endpoint(0);
    queue.0.lock().unwrap().push_back(Change::Insert(1, a));
    assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
    assert_eq!(balance.len(), 1);
    let mut fut = task::spawn(balance.call("req"));
    assert_eq!(answer(&mut [("a", &mut ha)], "req"), "a");
    assert_eq!(assert_ready_ok!(fut.poll()), "a");

    queue.0.lock().unwrap().push_back(Change::Remove(1));
    assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_pending());
    assert!(balance.is_empty());
}
