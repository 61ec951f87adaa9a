//! `ConcurrencyLimit`, `ConcurrencyLimitLayer`, `GlobalConcurrencyLimitLayer`
//! and `ServiceBuilder::concurrency_limit`.

use std::sync::Arc;

use donjon::limit::{ConcurrencyLimit, ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer};
use donjon::{BoxError, ServiceBuilder};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn, error::Closed};
use tokio::sync::Semaphore;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Boom, Broken, Echo};
use crate::{Handle, Mock};

/// A limit of `max` around a fresh mock.
fn new_service(max: usize) -> (Spawn<ConcurrencyLimit<Mock>>, Handle) {
    mock::spawn_layer(ConcurrencyLimitLayer::new(max))
}

/// A limit drawing on `semaphore`, around a fresh mock.
fn with_semaphore(semaphore: &Arc<Semaphore>) -> (Spawn<ConcurrencyLimit<Mock>>, Handle) {
    mock::spawn_with(|mock| ConcurrencyLimit::with_semaphore(mock, Arc::clone(semaphore)))
}

// The behaviours upstream's tests check.

#[tokio::test]
async fn a_limit_of_two_admits_two_calls_and_a_completed_response_frees_a_permit() {
    let (mut service, mut handle) = new_service(2);

    assert_ready_ok!(service.poll_ready());
    let first = service.call("hello 1");
    assert_ready_ok!(service.poll_ready());
    let second = service.call("hello 2");
    assert_pending!(service.poll_ready(), "both permits are out");
    assert!(!service.is_woken());

    assert_request_eq!(handle, "hello 1").send_response("world 1");
    assert_request_eq!(handle, "hello 2").send_response("world 2");
    assert_pending!(handle.poll_request(), "no third request got through");

    assert_eq!(first.await.unwrap(), "world 1");
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    let third = service.call("hello 3");
    assert_pending!(service.poll_ready());

    assert_eq!(second.await.unwrap(), "world 2");
    assert_request_eq!(handle, "hello 3").send_response("world 3");
    assert_eq!(third.await.unwrap(), "world 3");
}

#[tokio::test]
async fn only_a_completed_response_wakes_a_waiting_caller() {
    let (mut service, mut handle) = new_service(2);

    assert_ready_ok!(service.poll_ready());
    let first = service.call("hello 1");
    assert_ready_ok!(service.poll_ready());
    let second = service.call("hello 2");
    assert_pending!(service.poll_ready());

    // The inner service receiving and answering requests frees nothing...
    assert_request_eq!(handle, "hello 1").send_response("world 1");
    assert!(!service.is_woken());
    assert_request_eq!(handle, "hello 2").send_response("world 2");
    assert!(!service.is_woken());

    // ...the response future completing does.
    assert_eq!(first.await.unwrap(), "world 1");
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    let third = service.call("hello 3");
    assert_pending!(service.poll_ready());

    assert_eq!(second.await.unwrap(), "world 2");
    assert!(service.is_woken());
    assert_request_eq!(handle, "hello 3").send_response("world 3");
    assert_eq!(third.await.unwrap(), "world 3");
}

#[test]
fn a_limit_of_zero_is_never_ready() {
    let (mut service, _handle) = new_service(0);
    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());

    let mut clone = service.clone();
    assert_pending!(clone.poll_ready());
    drop(clone);
    assert!(!service.is_woken(), "no permit ever comes");
    assert_pending!(service.poll_ready());
}

#[tokio::test]
async fn an_unused_reservation_holds_its_permit() {
    let (mut first, mut handle) = new_service(1);
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    assert_pending!(
        second.poll_ready(),
        "the clone does not share the reservation"
    );

    let response = first.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_pending!(second.poll_ready(), "the response is not complete yet");
    assert_eq!(response.await.unwrap(), "world");
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
}

#[test]
fn dropping_a_clone_with_a_reservation_frees_its_permit() {
    let (mut first, _handle) = new_service(1);
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready());
    drop(first);
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
}

#[tokio::test]
async fn a_failed_response_frees_its_permit() {
    let (mut first, mut handle) = new_service(1);
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    let response = first.call("hello");
    assert_pending!(second.poll_ready());
    assert_request_eq!(handle, "hello").send_error(Boom("failed"));
    let error = response.await.unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("failed")));
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
}

#[test]
fn dropping_an_unfinished_response_future_frees_its_permit() {
    let (mut first, _handle) = new_service(1);
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    let response = first.call("hello");
    assert_pending!(second.poll_ready());
    drop(response);
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
}

#[test]
fn a_freed_permit_wakes_only_the_first_waiter_and_a_dropped_waiter_passes_it_on() {
    let (mut first, _handle) = new_service(1);
    let mut second = first.clone();
    let mut third = first.clone();

    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready());
    assert_pending!(third.poll_ready());

    drop(first);
    assert!(second.is_woken(), "the first in line is woken");
    assert!(!third.is_woken(), "the next one keeps waiting");

    // The second was handed the permit but never polled for it.
    drop(second);
    assert!(third.is_woken(), "the permit moves on down the line");
    assert_ready_ok!(third.poll_ready());
}

// Fairness, beyond upstream's tests.

#[test]
fn a_waiter_dropped_before_its_turn_leaves_the_line() {
    let (mut first, _handle) = new_service(1);
    let mut second = first.clone();
    let mut third = first.clone();

    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready());
    assert_pending!(third.poll_ready());

    drop(second);
    assert!(!third.is_woken(), "no permit was freed");
    assert_pending!(third.poll_ready());

    drop(first);
    assert!(third.is_woken());
    assert_ready_ok!(third.poll_ready());
}

#[tokio::test]
async fn waiters_are_served_in_the_order_they_started_waiting() {
    let (mut first, mut handle) = new_service(1);
    let mut second = first.clone();
    let mut third = first.clone();

    assert_ready_ok!(first.poll_ready());
    // The third starts waiting before the second.
    assert_pending!(third.poll_ready());
    assert_pending!(second.poll_ready());

    let response = first.call("first");
    assert_request_eq!(handle, "first").send_response("done");
    assert_eq!(response.await.unwrap(), "done");
    assert!(third.is_woken());
    assert!(!second.is_woken());
    assert_ready_ok!(third.poll_ready());
    assert_pending!(second.poll_ready());
}

// Donjon releases the permit when the response completes.

#[tokio::test]
async fn a_completed_response_frees_its_permit_while_its_future_is_kept() {
    let semaphore = Arc::new(Semaphore::new(1));
    let (mut first, mut handle) = with_semaphore(&semaphore);
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    let mut response = task::spawn(first.call("hello"));
    assert_pending!(response.poll());
    assert_pending!(second.poll_ready());
    assert_eq!(semaphore.available_permits(), 0);

    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    // `response` is still alive here.
    assert!(second.is_woken(), "the permit went back at completion");
    assert_ready_ok!(second.poll_ready());
    assert_eq!(semaphore.available_permits(), 0, "the second holds it now");
    drop(second);
    assert_eq!(semaphore.available_permits(), 1);
    drop(response);
    assert_eq!(
        semaphore.available_permits(),
        1,
        "no permit is returned twice"
    );
}

#[test]
fn dropping_n_response_futures_makes_the_service_ready_again() {
    let semaphore = Arc::new(Semaphore::new(3));
    let (mut service, _handle) = with_semaphore(&semaphore);

    let mut responses = Vec::new();
    for request in ["one", "two", "three"] {
        assert_ready_ok!(service.poll_ready());
        responses.push(service.call(request));
    }
    assert_pending!(service.poll_ready());
    assert_eq!(semaphore.available_permits(), 0);

    drop(responses);
    assert!(service.is_woken());
    assert_eq!(
        semaphore.available_permits(),
        2,
        "one went to the waiting caller"
    );
    assert_ready_ok!(service.poll_ready());
    drop(service);
    assert_eq!(semaphore.available_permits(), 3);
}

// Permits and semaphores.

#[test]
fn repeated_poll_ready_holds_one_permit() {
    // With a single permit, asking again while holding it stays ready.
    let (mut service, _handle) = new_service(1);
    for _ in 0..5 {
        assert_ready_ok!(service.poll_ready());
    }

    // With two, the second stays free for someone else.
    let semaphore = Arc::new(Semaphore::new(2));
    let (mut service, _handle) = with_semaphore(&semaphore);

    for _ in 0..5 {
        assert_ready_ok!(service.poll_ready());
    }
    assert_eq!(semaphore.available_permits(), 1);

    let mut clone = service.clone();
    assert_ready_ok!(clone.poll_ready(), "the second permit is still free");
    assert_eq!(semaphore.available_permits(), 0);
}

#[test]
fn with_semaphore_draws_on_the_given_semaphore() {
    let semaphore = Arc::new(Semaphore::new(0));
    let (mut service, _handle) = with_semaphore(&semaphore);

    assert_pending!(service.poll_ready());
    semaphore.add_permits(1);
    assert!(
        service.is_woken(),
        "a permit added from outside wakes the caller"
    );
    assert_ready_ok!(service.poll_ready());
    assert_eq!(semaphore.available_permits(), 0);

    let response = service.call("hello");
    assert_eq!(
        semaphore.available_permits(),
        0,
        "the response future holds it"
    );
    drop(response);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn a_global_layer_shares_one_limit_across_services() {
    let layer = GlobalConcurrencyLimitLayer::new(1);
    let (mut users, _users_handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut orders, _orders_handle) = mock::spawn_layer::<&str, &str, _>(&layer);

    assert_ready_ok!(users.poll_ready());
    assert_pending!(orders.poll_ready(), "the one permit is taken");

    let response = users.call("hello");
    drop(response);
    assert!(orders.is_woken());
    assert_ready_ok!(orders.poll_ready());
}

#[test]
fn a_global_layer_with_semaphore_uses_it() {
    let semaphore = Arc::new(Semaphore::new(2));
    let layer = GlobalConcurrencyLimitLayer::with_semaphore(Arc::clone(&semaphore));
    let (mut users, _users_handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut orders, _orders_handle) = mock::spawn_layer::<&str, &str, _>(layer);

    assert_ready_ok!(users.poll_ready());
    assert_ready_ok!(orders.poll_ready());
    assert_eq!(semaphore.available_permits(), 0);
    drop(users);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn a_per_service_layer_gives_each_service_its_own_limit() {
    let layer = ConcurrencyLimitLayer::new(1);
    let (mut users, _users_handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut orders, _orders_handle) = mock::spawn_layer::<&str, &str, _>(layer);

    assert_ready_ok!(users.poll_ready());
    assert_ready_ok!(orders.poll_ready(), "a permit of its own");
    let _users_response = users.call("hello");
    let _orders_response = orders.call("hello");
    assert_pending!(users.poll_ready());
    assert_pending!(orders.poll_ready());
}

#[tokio::test]
async fn service_builder_concurrency_limit_limits_requests_in_flight() {
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(|mock| {
        ServiceBuilder::new().concurrency_limit(1).service(mock)
    });

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_pending!(service.poll_ready());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

// Inner readiness and errors.

#[test]
fn inner_pending_readiness_keeps_the_permit_and_passes_the_wake_up() {
    let semaphore = Arc::new(Semaphore::new(1));
    let (mut service, mut handle) = with_semaphore(&semaphore);

    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert_eq!(semaphore.available_permits(), 0, "the permit is kept");
    assert!(!service.is_woken());
    assert_pending!(service.poll_ready());
    assert_eq!(semaphore.available_permits(), 0);

    handle.allow(1);
    assert!(service.is_woken(), "the mock's wake-up reaches the caller");
    assert_ready_ok!(service.poll_ready());
    assert_eq!(semaphore.available_permits(), 0, "still one permit");
}

#[test]
fn a_readiness_error_passes_through_unchanged() {
    let (mut service, mut handle) = new_service(1);
    handle.send_error(Boom("not ready"));
    let error: BoxError = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));

    // An inner error type that is not boxed stays as it is.
    let semaphore = Arc::new(Semaphore::new(1));
    let mut service = Spawn::new(ConcurrencyLimit::with_semaphore(
        Broken { ready: false },
        Arc::clone(&semaphore),
    ));
    let error: Boom = assert_ready_err!(service.poll_ready::<()>());
    assert_eq!(error, Boom("readiness"));
    // The failed service keeps its permit until it is dropped.
    assert_eq!(semaphore.available_permits(), 0);
    drop(service);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn a_response_error_passes_through_unchanged() {
    let semaphore = Arc::new(Semaphore::new(1));
    let mut service = Spawn::new(ConcurrencyLimit::with_semaphore(
        Broken { ready: true },
        Arc::clone(&semaphore),
    ));
    assert_ready_ok!(service.poll_ready::<()>());
    let mut response = task::spawn(service.call(()));
    let error: Boom = assert_ready_err!(response.poll());
    assert_eq!(error, Boom("response"));
    assert_eq!(semaphore.available_permits(), 1);
}

// The inner service gone.

#[test]
fn a_dropped_mock_handle_fails_poll_ready_with_closed() {
    let (mut service, handle) = new_service(1);
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[test]
fn a_request_in_flight_fails_with_closed_and_frees_its_permit() {
    let semaphore = Arc::new(Semaphore::new(1));
    let (mut service, handle) = with_semaphore(&semaphore);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    drop(handle);
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
    assert_eq!(semaphore.available_permits(), 1);
}

// Misuse.

#[test]
#[should_panic(expected = "max requests in-flight; poll_ready must be called first")]
fn call_without_poll_ready_panics() {
    let mut service = ConcurrencyLimit::new(Echo, 1);
    let _response = donjon::Service::call(&mut service, "hello");
}

#[test]
#[should_panic(expected = "max requests in-flight; poll_ready must be called first")]
fn a_second_call_on_one_readiness_panics() {
    let mut service = Spawn::new(ConcurrencyLimit::new(Echo, 2));
    assert_ready_ok!(service.poll_ready::<&str>());
    let _first = service.call("first");
    let _second = service.call("second");
}

#[test]
#[should_panic(expected = "semaphore was closed")]
fn a_closed_semaphore_panics_naming_the_contract() {
    let semaphore = Arc::new(Semaphore::new(1));
    semaphore.close();
    let mut service = Spawn::new(ConcurrencyLimit::with_semaphore(Echo, semaphore));
    let _ = service.poll_ready::<&str>();
}

#[test]
#[should_panic(expected = "semaphore was closed")]
fn a_semaphore_closed_while_waiting_wakes_the_caller_and_panics() {
    let semaphore = Arc::new(Semaphore::new(0));
    let mut service = Spawn::new(ConcurrencyLimit::with_semaphore(
        Echo,
        Arc::clone(&semaphore),
    ));
    assert_pending!(service.poll_ready::<&str>());
    semaphore.close();
    assert!(service.is_woken(), "the caller does not hang");
    let _ = service.poll_ready::<&str>();
}

#[test]
fn concurrency_limit_gives_access_to_the_inner_service() {
    let mut service = ConcurrencyLimit::new(Broken { ready: true }, 1);
    assert!(service.get_ref().ready);
    service.get_mut().ready = false;
    assert!(!service.into_inner().ready);
}

/// Many callers on several threads, some dropping their response futures
/// before completion: never more than the limit in flight, every request
/// served, every permit back at the end.
#[cfg(feature = "util")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue_6_many_threads_never_exceed_the_limit_and_lose_no_permit() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use donjon::{Service, ServiceExt, service_fn};

    const LIMIT: usize = 3;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    let inner = {
        let (in_flight, most, served) = (in_flight.clone(), most.clone(), served.clone());
        service_fn(move |n: u32| {
            let (in_flight, most, served) = (in_flight.clone(), most.clone(), served.clone());
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                for _ in 0..(n % 3) {
                    tokio::task::yield_now().await;
                }
                in_flight.fetch_sub(1, Ordering::SeqCst);
                served.fetch_add(1, Ordering::SeqCst);
                Ok::<_, BoxError>(n)
            }
        })
    };
    let limit = ConcurrencyLimit::new(inner, LIMIT);
    let callers: Vec<_> = (0..16u32)
        .map(|caller| {
            let mut limit = limit.clone();
            tokio::spawn(async move {
                for i in 0..500u32 {
                    let n = caller * 1000 + i;
                    let ready = limit.ready().await.expect("always ready in the end");
                    let response = ready.call(n);
                    if n % 7 == 0 {
                        // Dropped unfinished (it never started): its permit
                        // goes back.
                        drop(response);
                    } else {
                        assert_eq!(response.await.expect("served"), n);
                    }
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.expect("no caller panics");
    }
    assert!(
        most.load(Ordering::SeqCst) <= LIMIT,
        "{most:?} in flight at once"
    );
    assert_eq!(most.load(Ordering::SeqCst), LIMIT, "the limit was reached");
    let dropped = (0..16u32)
        .flat_map(|caller| (0..500u32).map(move |i| caller * 1000 + i))
        .filter(|n| n % 7 == 0)
        .count();
    assert_eq!(served.load(Ordering::SeqCst), 16 * 500 - dropped);

    // Every permit is back: LIMIT calls at once are admitted.
    let mut holders: Vec<_> = (0..LIMIT).map(|_| limit.clone()).collect();
    let mut futures = Vec::new();
    for holder in &mut holders {
        let ready = holder.ready().await.expect("a permit");
        futures.push(ready.call(1));
    }
    let mut extra = limit.clone();
    let mut extra = Spawn::new(&mut extra);
    assert!(extra.poll_ready().is_pending(), "the limit holds");
    drop(futures);
    assert!(extra.poll_ready().is_ready(), "permits came back");
}
