//! Integration tests of `donjon::priority`: `Priority`, `PriorityShed`,
//! `PriorityShedLayer` and `Shares`.
#![cfg(all(feature = "priority", feature = "util"))]

#[path = "../support/mod.rs"]
mod support;

use donjon::priority::error::Overloaded;
use donjon::priority::{Priority, PriorityShed, PriorityShedLayer, Shares};
use donjon::{BoxError, Layer, Service, ServiceExt};
use donjon_test::mock::{self, Spawn};
use tokio_test::{assert_ready_err, assert_ready_ok, task};

use support::{Boom, assert_readiness_follows_mock, take_request};

use Priority::{Critical, CriticalPlus, Sheddable, SheddablePlus};

type Req = (Priority, &'static str);
type Mock = mock::Mock<Req, &'static str>;
type Handle = mock::Handle<Req, &'static str>;
type ClassOf = fn(&Req) -> Priority;
type Response = <PriorityShed<Mock, ClassOf> as Service<Req>>::Future;

fn class_of(request: &Req) -> Priority {
    request.0
}

/// A `PriorityShed` of `max` over a mock that allows every call.
fn shed(max: usize) -> (Spawn<PriorityShed<Mock, ClassOf>>, Handle) {
    let (mock, mut handle) = mock::pair();
    handle.allow(u64::MAX);
    (
        Spawn::new(PriorityShed::new(mock, max, class_of as ClassOf)),
        handle,
    )
}

/// Sends a request of `class`: its pending response if admitted, the
/// error if refused.
fn send(
    service: &mut Spawn<PriorityShed<Mock, ClassOf>>,
    handle: &mut Handle,
    class: Priority,
) -> Result<task::Spawn<Response>, BoxError> {
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call((class, "request")));
    match response.poll() {
        std::task::Poll::Ready(Err(error)) => Err(error),
        std::task::Poll::Ready(Ok(_)) => panic!("answered before the mock was"),
        std::task::Poll::Pending => {
            let _ = take_request(handle);
            Ok(response)
        }
    }
}

#[test]
fn each_class_may_fill_its_share_of_the_bound_rounded_down() {
    let (service, _) = shed(10);
    assert_eq!(
        service.get_ref().limits(),
        [7, 8, 9, 10],
        "70%, 80%, 90%, all"
    );
    let (service, _) = shed(3);
    assert_eq!(service.get_ref().limits(), [2, 2, 2, 3]);
    let (service, _) = shed(0);
    assert_eq!(service.get_ref().limits(), [0, 0, 0, 0]);
    let custom =
        PriorityShed::with_shares((), 20, class_of as ClassOf, Shares::new(0.25, 0.5, 0.5));
    assert_eq!(custom.limits(), [5, 10, 10, 20]);
}

#[tokio::test]
async fn under_growing_load_the_least_critical_are_refused_first() {
    let (mut service, mut handle) = shed(10);
    let mut held = Vec::new();
    // Seven sheddable: all admitted; the eighth is refused.
    for _ in 0..7 {
        held.push(send(&mut service, &mut handle, Sheddable).expect("admitted"));
    }
    let Err(error) = send(&mut service, &mut handle, Sheddable) else {
        panic!("the eighth sheddable request was admitted");
    };
    assert!(error.is::<Overloaded>(), "{error}");
    // Each more critical class still gets in, up to its own share.
    held.push(send(&mut service, &mut handle, SheddablePlus).expect("7 < 8"));
    assert!(
        send(&mut service, &mut handle, SheddablePlus).is_err(),
        "8 in flight"
    );
    held.push(send(&mut service, &mut handle, Critical).expect("8 < 9"));
    assert!(
        send(&mut service, &mut handle, Critical).is_err(),
        "9 in flight"
    );
    held.push(send(&mut service, &mut handle, CriticalPlus).expect("9 < 10"));
    for class in Priority::ALL {
        assert!(
            send(&mut service, &mut handle, class).is_err(),
            "{class:?}: all 10 used"
        );
    }
    assert_eq!(service.get_ref().in_flight(), 10);

    // One done (its caller gave up): the slot goes to the most critical
    // class only.
    drop(held.remove(0));
    assert_eq!(service.get_ref().in_flight(), 9);
    assert!(send(&mut service, &mut handle, Critical).is_err(), "9 of 9");
    held.push(send(&mut service, &mut handle, CriticalPlus).expect("9 < 10"));
}

#[tokio::test]
async fn a_slot_is_held_until_the_response_and_freed_by_a_drop() {
    let (mut service, mut handle) = shed(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call((CriticalPlus, "a")));
    assert!(response.poll().is_pending());
    assert_eq!(service.get_ref().in_flight(), 1);
    take_request(&mut handle).1.send_response("done");
    assert_eq!(assert_ready_ok!(response.poll()), "done");
    assert_eq!(service.get_ref().in_flight(), 0, "answered: freed");

    assert_ready_ok!(service.poll_ready());
    let dropped = service.call((CriticalPlus, "b"));
    assert_eq!(service.get_ref().in_flight(), 1);
    drop(dropped);
    assert_eq!(service.get_ref().in_flight(), 0, "dropped: freed");
}

#[tokio::test]
async fn readiness_and_errors_are_the_inner_services() {
    let (mock, mut handle) = mock::pair::<Req, &'static str>();
    let mut service = Spawn::new(PriorityShed::new(mock, 4, class_of as ClassOf));
    assert_readiness_follows_mock::<Req, _, _, _>(&mut service, &mut handle);
    let mut response = task::spawn(service.call((Critical, "a")));
    take_request(&mut handle).1.send_error(Boom("inner"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("inner")));
    assert_eq!(
        service.get_ref().in_flight(),
        0,
        "a failed call frees its slot"
    );

    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
    drop(handle);
    assert!(assert_ready_err!(service.poll_ready()).is::<mock::error::Closed>());
}

#[tokio::test]
async fn clones_share_the_bound_and_each_layered_service_has_its_own() {
    let layer = PriorityShedLayer::new(1, class_of as ClassOf);
    let (first, mut handle) = mock::spawn_layer::<Req, &'static str, _>(layer.clone());
    let mut first = first;
    handle.allow(10);
    let mut clone = Spawn::new(first.get_ref().clone());
    assert_ready_ok!(first.poll_ready());
    let _held = first.call((CriticalPlus, "a"));
    assert_ready_ok!(clone.poll_ready());
    assert!(
        clone
            .call((CriticalPlus, "b"))
            .await
            .unwrap_err()
            .is::<Overloaded>()
    );

    let (mut other, mut other_handle) = mock::spawn_layer::<Req, &'static str, _>(layer);
    other_handle.allow(1);
    assert_ready_ok!(other.poll_ready());
    let mut response = task::spawn(other.call((CriticalPlus, "c")));
    take_request(&mut other_handle).1.send_response("own bound");
    assert_eq!(assert_ready_ok!(response.poll()), "own bound");
}

#[tokio::test]
async fn a_closure_or_the_layer_reads_the_class() {
    let backend = donjon::service_fn(|request: Req| async move { Ok::<_, BoxError>(request.1) });
    let service = PriorityShedLayer::new(10, class_of as ClassOf)
        .shares(Shares::new(0.0, 0.0, 1.0))
        .layer(backend);
    let error = service.clone().oneshot((Sheddable, "x")).await.unwrap_err();
    assert!(error.is::<Overloaded>(), "sheddable requests get nothing");
    assert_eq!(service.oneshot((Critical, "y")).await.unwrap(), "y");
}

#[test]
fn classes_compare_least_critical_first_and_have_grpc_names() {
    assert!(Sheddable < SheddablePlus && SheddablePlus < Critical && Critical < CriticalPlus);
    assert_eq!(Priority::default(), Critical);
    for class in Priority::ALL {
        assert_eq!(Priority::from_name(class.as_str()), Some(class));
    }
    assert_eq!(CriticalPlus.as_str(), "CRITICAL_PLUS");
    assert_eq!(Priority::from_name("critical"), None);
}

#[cfg(feature = "http")]
#[test]
fn an_http_request_carries_its_class_in_its_extensions() {
    use donjon::priority::{FromExtensions, PriorityFor};

    let mut request = http::Request::new(());
    assert_eq!(
        FromExtensions.priority_for(&request),
        Critical,
        "the default"
    );
    request.extensions_mut().insert(Sheddable);
    assert_eq!(FromExtensions.priority_for(&request), Sheddable);
}

#[test]
#[should_panic(expected = "a PriorityShed's shares are fractions between 0 and 1")]
fn shares_out_of_order_panic() {
    let _ = Shares::new(0.9, 0.5, 0.95);
}

#[test]
#[should_panic(expected = "a PriorityShed's shares are fractions between 0 and 1")]
fn a_share_above_one_panics() {
    let _ = Shares::new(0.5, 0.6, 1.5);
}

#[tokio::test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
async fn a_call_without_readiness_is_the_inner_services_concern() {
    // PriorityShed takes no slot in poll_ready: the misuse reaches the
    // mock, which panics.
    let (mock, _handle) = mock::pair::<Req, &'static str>();
    let mut service = PriorityShed::new(mock, 4, class_of as ClassOf);
    drop(service.call((Critical, "a")));
}

#[test]
fn its_types_are_send_sync_and_unpin() {
    support::assert_send::<PriorityShed<Mock, ClassOf>>();
    support::assert_sync::<PriorityShed<Mock, ClassOf>>();
    support::assert_send::<<PriorityShed<Mock, ClassOf> as Service<Req>>::Future>();
    support::assert_unpin::<PriorityShed<Mock, ClassOf>>();
}

/// The queue-delay signal: a delay the test sets, in milliseconds.
#[derive(Clone, Default)]
struct Delay(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Delay {
    fn set(&self, millis: u64) {
        self.0.store(millis, std::sync::atomic::Ordering::SeqCst);
    }

    fn signal(&self) -> impl Fn() -> std::time::Duration + Send + Sync + 'static {
        let delay = self.0.clone();
        move || std::time::Duration::from_millis(delay.load(std::sync::atomic::Ordering::SeqCst))
    }
}

#[tokio::test]
async fn a_queue_delay_past_each_classs_share_of_the_target_refuses_that_class() {
    let delay = Delay::default();
    let (mock, mut handle) = mock::pair();
    handle.allow(u64::MAX);
    // Target 100 ms, default shares: sheddable refused from 70 ms,
    // sheddable-plus from 80, critical from 90, critical-plus from 100.
    let mut service = Spawn::new(
        PriorityShed::new(mock, usize::MAX, class_of as ClassOf)
            .with_queue_delay(delay.signal(), std::time::Duration::from_millis(100)),
    );
    let admitted = |service: &mut Spawn<_>, handle: &mut Handle, class| {
        send(service, handle, class).map(drop).is_ok()
    };
    let steps: [(u64, [bool; 4]); 6] = [
        (0, [true, true, true, true]),
        (69, [true, true, true, true]),
        (70, [false, true, true, true]),
        (80, [false, false, true, true]),
        (90, [false, false, false, true]),
        (100, [false, false, false, false]),
    ];
    for (millis, expected) in steps {
        delay.set(millis);
        let got = Priority::ALL.map(|class| admitted(&mut service, &mut handle, class));
        assert_eq!(got, expected, "at a delay of {millis} ms");
    }
    // The delay falls: everyone is admitted again.
    delay.set(10);
    let got = Priority::ALL.map(|class| admitted(&mut service, &mut handle, class));
    assert_eq!(got, [true; 4]);
}

#[tokio::test]
async fn a_refusal_for_the_delay_is_overloaded_and_takes_no_slot_and_the_layer_shares_the_signal() {
    let delay = Delay::default();
    let layer = PriorityShedLayer::new(1, class_of as ClassOf)
        .with_queue_delay(delay.signal(), std::time::Duration::from_millis(100));
    let (mock, mut handle) = mock::pair();
    handle.allow(u64::MAX);
    let mut service = Spawn::new(layer.layer(mock));
    delay.set(75);
    let error = send(&mut service, &mut handle, Sheddable)
        .map(drop)
        .unwrap_err();
    assert!(error.is::<Overloaded>(), "{error}");
    assert_eq!(service.get_ref().in_flight(), 0, "no slot taken");
    // Critical-plus (whose share of a bound of 1 is the one slot) is
    // admitted at 75 ms.
    let held = send(&mut service, &mut handle, CriticalPlus).map_err(|error| error.to_string());
    let held = held.expect("admitted");
    assert_eq!(service.get_ref().in_flight(), 1);
    drop(held);
}

#[cfg(feature = "limit")]
#[tokio::test(start_paused = true)]
async fn a_concurrency_limits_queue_delay_sheds_the_least_critical_first() {
    use donjon::limit::{ConcurrencyLimit, QueueDiscipline};
    use std::time::Duration;

    // A pool of one behind a limit, with a caller waiting for it.
    let (pool, _pool_handle) = mock::pair::<&'static str, &'static str>();
    let limit = ConcurrencyLimit::new(pool, 1).with_queue(QueueDiscipline::fifo());
    let delay = limit.queue_delay();
    let mut holder = Spawn::new(limit.clone());
    let mut waiter = Spawn::new(limit);
    assert_ready_ok!(holder.poll_ready());
    let _held = holder.call("held");
    tokio_test::assert_pending!(waiter.poll_ready(), "a caller waits at the limit");

    // The admission in front sheds by that queue's delay.
    let (mock, mut handle) = mock::pair();
    handle.allow(u64::MAX);
    let mut front = Spawn::new(
        PriorityShed::new(mock, usize::MAX, class_of as ClassOf)
            .with_queue_delay(delay, Duration::from_millis(100)),
    );
    tokio::time::advance(Duration::from_millis(75)).await;
    // The waiter has waited 75 ms: past sheddable's 70, short of
    // sheddable-plus's 80.
    let error = send(&mut front, &mut handle, Sheddable)
        .map(drop)
        .unwrap_err();
    assert!(error.is::<Overloaded>(), "{error}");
    assert!(send(&mut front, &mut handle, SheddablePlus).is_ok());
    tokio::time::advance(Duration::from_millis(5)).await;
    assert!(
        send(&mut front, &mut handle, SheddablePlus).is_err(),
        "80 ms now"
    );
}

#[cfg(feature = "buffer")]
#[tokio::test(start_paused = true)]
async fn in_front_of_a_buffer_the_buffers_queue_delay_sheds_before_queueing() {
    use donjon::buffer::{Buffer, QueueDiscipline};
    use std::time::Duration;

    // A backend that is not ready: requests wait in the buffer's queue.
    let (mock, mut handle) = mock::pair::<Req, &'static str>();
    handle.allow(0);
    let buffer = Buffer::new(mock, 16).with_queue(QueueDiscipline::fifo());
    let delay = buffer.queue_delay();
    let mut server = PriorityShed::new(buffer, usize::MAX, class_of as ClassOf)
        .with_queue_delay(delay, Duration::from_millis(100));

    let first = tokio::spawn(server.ready().await.unwrap().call((Critical, "first")));
    tokio::time::advance(Duration::from_millis(75)).await;
    // `first` has waited 75 ms in the queue: a sheddable request is refused
    // before it joins the queue; a sheddable-plus one (80 ms) still joins.
    let error = server
        .ready()
        .await
        .unwrap()
        .call((Sheddable, "shed"))
        .await
        .unwrap_err();
    assert!(error.is::<Overloaded>(), "{error}");
    let second = tokio::spawn(
        server
            .ready()
            .await
            .unwrap()
            .call((SheddablePlus, "second")),
    );
    tokio::task::yield_now().await;

    handle.allow(2);
    let (request, reply) = handle.next_request().await.expect("the buffer sends it");
    assert_eq!(request, (Critical, "first"));
    reply.send_response("one");
    let (request, reply) = handle.next_request().await.expect("the buffer sends it");
    assert_eq!(
        request,
        (SheddablePlus, "second"),
        "the refused one never reached it"
    );
    reply.send_response("two");
    assert_eq!(first.await.unwrap().unwrap(), "one");
    assert_eq!(second.await.unwrap().unwrap(), "two");
}
