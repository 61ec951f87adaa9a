//! `SharedRateLimit` and its layer.

use std::future::Ready;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use donjon::Layer;
use donjon::limit::gcra::Quota;
use donjon::limit::keyed::error::InvalidKey;
use donjon::limit::keyed::{
    Answer, Decision, MemoryStore, RateStore, SharedRateLimit, SharedRateLimitLayer,
};
use donjon_test::mock::{self, error::Closed};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Boom, take_request};
use crate::{
    Deferred, Failing, INTERVAL, MS, Picky, Req, StoreDown, passes, quota, shared, store_down,
};

#[tokio::test(start_paused = true)]
async fn shared_waits_in_poll_ready_and_is_woken_exactly_at_retry_after() {
    let (mut service, mut handle) = shared(MemoryStore::new(), "api", quota(2));
    passes(&mut service, &mut handle, "one");
    passes(&mut service, &mut handle, "two");
    assert_pending!(service.poll_ready(), "the burst of 2 is spent");

    advance(INTERVAL - MS).await;
    assert!(!service.is_woken(), "one millisecond early");
    assert_pending!(service.poll_ready());
    advance(MS).await;
    assert!(service.is_woken(), "woken when the key admits a request");
    passes(&mut service, &mut handle, "three");
    assert_pending!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn shared_limits_on_one_key_of_one_store_share_it_and_other_keys_do_not() {
    let store = MemoryStore::new();
    let (mut first, mut first_handle) = shared(store.clone(), "api", quota(2));
    let (mut second, mut second_handle) = shared(store.clone(), "api", quota(2));
    let (mut other, mut other_handle) = shared(store, "other", quota(2));

    passes(&mut first, &mut first_handle, "one");
    passes(&mut second, &mut second_handle, "two");
    assert_pending!(first.poll_ready(), "two calls on the key spent its burst");
    assert_pending!(second.poll_ready());
    let mut clone = second.clone();
    assert_pending!(clone.poll_ready(), "clones share it too");
    passes(&mut other, &mut other_handle, "three");
    passes(&mut other, &mut other_handle, "four");

    advance(INTERVAL).await;
    assert!(first.is_woken() && second.is_woken() && clone.is_woken());
    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready(), "one per interval, whoever asks");
}

#[tokio::test(start_paused = true)]
async fn a_shared_clone_does_not_inherit_an_admission() {
    let (mut first, mut handle) = shared(MemoryStore::new(), "api", quota(1));
    assert_ready_ok!(first.poll_ready());
    let mut second = first.clone();
    assert_pending!(second.poll_ready(), "the only request is the original's");
    let mut response = task::spawn(first.call("first"));
    take_request(&mut handle).1.send_response("ok");
    assert_ready_ok!(response.poll());
}

#[tokio::test(start_paused = true)]
async fn shared_keeps_its_admission_while_the_inner_service_is_not_ready() {
    let (mut service, mut handle) = shared(MemoryStore::new(), "api", quota(1));
    // Pending from the inner service propagates, with its wake-up, and
    // the polls in between ask the store for nothing more: with a burst
    // of 1, a second admission would make the service wait.
    handle.allow(0);
    for _ in 0..3 {
        assert_pending!(service.poll_ready());
    }
    assert!(!service.is_woken());
    handle.allow(1);
    assert!(service.is_woken(), "the mock's wake-up reaches the caller");
    passes(&mut service, &mut handle, "one");
}

#[tokio::test(start_paused = true)]
async fn shared_inner_errors_come_through_boxed() {
    let (mut service, mut handle) = shared(MemoryStore::new(), "api", quota(5));
    handle.send_error(Boom("readiness"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("readiness")));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("one"));
    take_request(&mut handle).1.send_error(Boom("response"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));
}

#[tokio::test(start_paused = true)]
async fn shared_sees_the_inner_service_dropped_as_an_error() {
    let (mut service, handle) = shared(MemoryStore::new(), "api", quota(1));
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_store_error_makes_shared_ready_then_fails_the_call_without_the_inner_service() {
    for store in [Failing::Now, Failing::Later] {
        let (mut service, mut handle) = shared(store, "api", quota(1));
        // The inner service is not ready, and is not asked.
        handle.allow(0);
        assert_ready_ok!(service.poll_ready(), "ready with the store's error");
        let mut response = task::spawn(service.call("one"));
        let error = assert_ready_err!(response.poll());
        let expected = match store {
            Failing::Now => StoreDown("now"),
            Failing::Later => StoreDown("later"),
        };
        assert_eq!(store_down(&error), &expected);
        assert_pending!(handle.poll_request());

        // The next call asks the store again.
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("two"));
        let error = assert_ready_err!(response.poll());
        assert_eq!(store_down(&error), &expected);
    }
}

#[tokio::test(start_paused = true)]
async fn shared_with_a_store_answering_later_waits_for_it_and_is_woken_by_it() {
    let store = Deferred::default();
    let (mut service, mut handle) = shared(store.clone(), "api", quota(1));

    assert_pending!(service.poll_ready(), "the store has not answered");
    assert_pending!(service.poll_ready(), "still waiting, asked once");
    assert_eq!(store.waiting(), 1);
    assert!(store.answer(Ok(Decision::Allowed)));
    assert!(service.is_woken(), "the store's answer wakes the caller");
    passes(&mut service, &mut handle, "one");

    // Limited: the service waits for the retry_after, then asks again.
    assert_pending!(service.poll_ready());
    let retry = Duration::from_millis(50);
    assert!(store.answer(Ok(Decision::Limited { retry_after: retry })));
    assert!(service.is_woken());
    assert_pending!(service.poll_ready());
    assert_eq!(store.waiting(), 0, "not asked again before the retry_after");
    advance(retry - MS).await;
    assert!(!service.is_woken());
    advance(MS).await;
    assert!(service.is_woken());
    assert_pending!(service.poll_ready());
    assert_eq!(store.waiting(), 1, "asked again");
    assert!(store.answer(Ok(Decision::Allowed)));
    passes(&mut service, &mut handle, "two");
}

#[tokio::test(start_paused = true)]
async fn shared_dropped_while_the_store_decides_drops_the_question() {
    let store = Deferred::default();
    let (mut service, _handle) = shared(store.clone(), "api", quota(1));
    assert_pending!(service.poll_ready());
    drop(service);
    assert!(!store.answer(Ok(Decision::Allowed)), "nobody waits");
}

#[test]
fn shared_construction_refuses_a_key_the_store_refuses() {
    let store = Picky::default();
    let refuse = |key| {
        let (mock, _handle) = mock::pair::<Req, &str>();
        SharedRateLimit::new(mock, store.clone(), key, quota(1)).unwrap_err()
    };
    assert_eq!(refuse(""), InvalidKey::empty());
    let error = refuse("much-too-long");
    assert!(error.is_too_long(), "{error}");
    assert_eq!(
        error.to_string(),
        "a rate limit key of 13 bytes is longer than the 8 the store accepts"
    );

    let error = SharedRateLimitLayer::new(store.clone(), "", quota(1)).unwrap_err();
    assert!(error.is_empty(), "{error}");
    let layer = SharedRateLimitLayer::new(store, "api", quota(1)).expect("a key it takes");
    let (mock, _handle) = mock::pair::<Req, &str>();
    assert_eq!(layer.layer(mock).key(), &"api");
}

#[tokio::test(start_paused = true)]
#[should_panic(
    expected = "SharedRateLimit called without an admitted request; poll_ready must return \
                Ready(Ok(())) before each call"
)]
async fn shared_call_without_poll_ready_panics_naming_the_contract() {
    let (mut service, _handle) = shared(MemoryStore::new(), "api", quota(1));
    let _response = service.call("one");
}

#[tokio::test(start_paused = true)]
#[should_panic(
    expected = "SharedRateLimit called without an admitted request; poll_ready must return \
                Ready(Ok(())) before each call"
)]
async fn shared_ready_allows_exactly_one_call() {
    let (mut service, mut handle) = shared(MemoryStore::new(), "api", quota(5));
    passes(&mut service, &mut handle, "one");
    let _second = service.call("two");
}

/// A store that refuses once with a wait of zero, then admits.
#[derive(Clone, Debug, Default)]
struct ZeroWait {
    asked: Arc<AtomicUsize>,
}

impl<K: ?Sized> RateStore<K> for ZeroWait {
    type Error = StoreDown;
    type Future = Ready<Result<Decision, StoreDown>>;

    fn acquire(&self, _: &K, _: Quota) -> Answer<Self::Future, StoreDown> {
        let asked = self.asked.fetch_add(1, Ordering::SeqCst);
        Answer::Now(Ok(if asked == 0 {
            Decision::Limited {
                retry_after: Duration::ZERO,
            }
        } else {
            Decision::Allowed
        }))
    }
}

#[tokio::test(start_paused = true)]
async fn issue_11_a_store_refusing_with_no_wait_is_asked_again_after_a_tick_not_at_once() {
    let store = ZeroWait::default();
    let (mut service, mut handle) = shared(store.clone(), "api", quota(1));
    handle.allow(1);
    assert_pending!(service.poll_ready());
    assert_eq!(
        store.asked.load(Ordering::SeqCst),
        1,
        "asked once, not in a loop"
    );
    advance(MS).await;
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    assert_eq!(store.asked.load(Ordering::SeqCst), 2);
}
