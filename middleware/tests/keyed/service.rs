//! `KeyedRateLimit` and its layer, over a `MemoryStore` and over stores
//! that fail or answer later.

use std::sync::Arc;
use std::time::Duration;

use donjon::limit::keyed::error::InvalidKey;
use donjon::limit::keyed::{Decision, KeyedRateLimit, KeyedRateLimitLayer, MemoryStore};
use donjon_test::mock::{self, Spawn, error::Closed};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{self, Boom, Counting, Echo, take_request};
use crate::{
    Deferred, Failing, INTERVAL, KeyFn, MS, Picky, Req, StoreDown, key_of, keyed, passes, quota,
    refused, retry_after, store_down,
};

// KeyedRateLimit with a MemoryStore.

#[tokio::test(start_paused = true)]
async fn each_key_has_a_limit_of_its_own() {
    let store = MemoryStore::new();
    let (mut service, mut handle) = keyed(&store, quota(1));

    passes(&mut service, &mut handle, "alice");
    refused(&mut service, &mut handle, "alice");
    passes(&mut service, &mut handle, "bob");
    refused(&mut service, &mut handle, "bob");
    passes(&mut service, &mut handle, "carol");
    assert_eq!(store.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_request_over_its_keys_limit_fails_at_once_with_the_exact_retry_after() {
    let (mut service, mut handle) = keyed(&MemoryStore::new(), quota(2));
    passes(&mut service, &mut handle, "alice");
    passes(&mut service, &mut handle, "alice");

    advance(Duration::from_millis(30)).await;
    // The TAT is 200 ms; a request passes when it is within the tolerance
    // (100 ms) of the clock: at 100 ms, 70 ms from now.
    let error = {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("alice"));
        assert_ready_err!(response.poll(), "refused at the first poll")
    };
    assert_eq!(retry_after(&error), Duration::from_millis(70));
    assert_eq!(
        error.to_string(),
        "rate limit reached; retry after 70ms",
        "the error is RateLimited, displayed"
    );
    assert_pending!(
        handle.poll_request(),
        "the refused request never reached the mock"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_key_passes_again_after_its_retry_after_and_not_before() {
    let (mut service, mut handle) = keyed(&MemoryStore::new(), quota(1));
    passes(&mut service, &mut handle, "alice");
    let wait = refused(&mut service, &mut handle, "alice");
    assert_eq!(wait, INTERVAL);

    advance(wait - MS).await;
    assert_eq!(refused(&mut service, &mut handle, "alice"), MS);
    advance(MS).await;
    passes(&mut service, &mut handle, "alice");
}

#[tokio::test(start_paused = true)]
async fn refused_requests_do_not_count_against_their_key() {
    let (mut service, mut handle) = keyed(&MemoryStore::new(), quota(1));
    passes(&mut service, &mut handle, "alice");
    for _ in 0..10 {
        assert_eq!(refused(&mut service, &mut handle, "alice"), INTERVAL);
    }
    advance(INTERVAL).await;
    passes(&mut service, &mut handle, "alice");
}

#[tokio::test(start_paused = true)]
async fn keyed_readiness_is_the_inner_services_and_never_the_limits() {
    let (mut service, mut handle) = keyed(&MemoryStore::new(), quota(1));
    support::assert_readiness_follows_mock::<Req, _, _, _>(&mut service, &mut handle);
    let mut response = task::spawn(service.call("alice"));
    take_request(&mut handle).1.send_response("ok");
    assert_ready_ok!(response.poll());

    // Alice is over her limit; the service is still ready, for anyone.
    handle.allow(5);
    assert_ready_ok!(service.poll_ready());
    refused(&mut service, &mut handle, "alice");
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn keyed_inner_errors_come_through_boxed() {
    let (mut service, mut handle) = keyed(&MemoryStore::new(), quota(5));
    handle.send_error(Boom("readiness"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("readiness")));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("alice"));
    take_request(&mut handle).1.send_error(Boom("response"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));
}

#[tokio::test(start_paused = true)]
async fn keyed_sees_the_inner_service_dropped_as_an_error() {
    let (mut service, handle) = keyed(&MemoryStore::new(), quota(5));
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "{error}");
}

#[tokio::test(start_paused = true)]
async fn services_made_by_one_layer_share_each_keys_limit() {
    let layer = KeyedRateLimitLayer::new(MemoryStore::new(), key_of as KeyFn, quota(1));
    let (mut first, mut first_handle) = mock::spawn_layer(layer.clone());
    let (mut second, mut second_handle) = mock::spawn_layer(layer);

    passes(&mut first, &mut first_handle, "alice");
    refused(&mut second, &mut second_handle, "alice");
    passes(&mut second, &mut second_handle, "bob");
    assert_eq!(first.get_ref().store().len(), 2, "one store");
}

// KeyedRateLimit with stores that fail or answer later.

#[tokio::test(start_paused = true)]
async fn a_store_failing_at_once_fails_the_request_without_reaching_the_inner_service() {
    let (mut service, mut handle) = keyed(&Failing::Now, quota(1));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("alice"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(store_down(&error), &StoreDown("now"));
    assert_pending!(handle.poll_request());
}

#[tokio::test(start_paused = true)]
async fn a_store_future_failing_fails_the_request_without_reaching_the_inner_service() {
    let (mut service, mut handle) = keyed(&Failing::Later, quota(1));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("alice"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(store_down(&error), &StoreDown("later"));
    assert_pending!(handle.poll_request());

    let store = Deferred::default();
    let (mut service, mut handle) = keyed(&store, quota(1));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("alice"));
    assert_pending!(response.poll());
    store.answer(Err(StoreDown("timed out")));
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert_eq!(store_down(&error), &StoreDown("timed out"));
    assert_pending!(handle.poll_request());
}

#[tokio::test(start_paused = true)]
async fn with_a_store_answering_later_the_request_reaches_the_inner_service_once_allowed() {
    let store = Deferred::default();
    let (mut service, mut handle) = keyed(&store, quota(1));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("alice"));
    assert_eq!(store.waiting(), 1, "the store was asked");

    assert_pending!(response.poll());
    assert_pending!(handle.poll_request(), "not before the store allows it");
    assert!(store.answer(Ok(Decision::Allowed)));
    assert!(response.is_woken(), "the store's answer wakes the caller");
    assert_pending!(response.poll(), "the mock has not answered");
    let (request, answer) = take_request(&mut handle);
    assert_eq!(request, "alice");
    answer.send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
    assert_pending!(handle.poll_request(), "sent once");
}

#[tokio::test(start_paused = true)]
async fn a_store_answering_later_that_it_is_limited_fails_the_request_with_its_retry_after() {
    let store = Deferred::default();
    let (mut service, mut handle) = keyed(&store, quota(1));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("alice"));
    assert_pending!(response.poll());

    let retry = Duration::from_millis(1234);
    store.answer(Ok(Decision::Limited { retry_after: retry }));
    let error = assert_ready_err!(response.poll());
    assert_eq!(retry_after(&error), retry);
    assert_pending!(handle.poll_request());
}

#[tokio::test(start_paused = true)]
async fn with_a_store_answering_later_the_ready_service_goes_with_the_request() {
    let store = Deferred::default();
    let (mut service, mut handle) = keyed(&store, quota(1));
    assert_ready_ok!(service.poll_ready());
    // The mock allows no more calls than the one made ready.
    handle.allow(0);
    let mut response = task::spawn(service.call("alice"));

    // The service kept a fresh clone of the mock: not ready yet.
    assert_pending!(service.poll_ready(), "a fresh clone must be made ready");

    // The clone made ready went with the request, and can call.
    store.answer(Ok(Decision::Allowed));
    assert_pending!(response.poll());
    let (request, answer) = take_request(&mut handle);
    assert_eq!(request, "alice");
    answer.send_response("ok");
    assert_ready_ok!(response.poll());

    handle.allow(1);
    assert!(
        service.is_woken(),
        "the fresh clone's wake-up reaches the caller"
    );
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_response_future_dropped_while_the_store_decides_drops_the_request_unsent() {
    type ArcKeyFn = fn(&Arc<&'static str>) -> &'static str;
    let store = Deferred::default();
    let inner = Counting::new(Echo);
    let counts = inner.counts();
    let mut service = Spawn::new(KeyedRateLimit::new(
        inner,
        store.clone(),
        (|request: &Arc<&'static str>| **request) as ArcKeyFn,
        quota(1),
    ));

    let request = Arc::new("alice");
    let probe = Arc::downgrade(&request);
    assert_ready_ok!(service.poll_ready::<Arc<&str>>());
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll());
    drop(response);

    assert!(probe.upgrade().is_none(), "the request was dropped");
    assert!(
        !store.answer(Ok(Decision::Allowed)),
        "nobody waits for the store any more"
    );
    assert_eq!(counts.calls(), 0, "the inner service was never called");
}

#[tokio::test(start_paused = true)]
async fn a_key_the_store_refuses_fails_the_keyed_request_without_a_panic() {
    let (mut service, mut handle) = keyed(&Picky::default(), quota(1));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(""));
    let error = assert_ready_err!(response.poll());
    assert_eq!(
        error.downcast_ref::<InvalidKey>(),
        Some(&InvalidKey::empty())
    );
    assert_pending!(handle.poll_request());
    passes(&mut service, &mut handle, "alice");
}
