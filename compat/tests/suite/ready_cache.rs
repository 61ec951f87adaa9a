//! `tower::ready_cache`: `ReadyCache` driven by hand (pending and ready
//! sets, lookups by key, by index and through a user `Equivalent` key,
//! replacement, eviction, calls), its `error::Failed`, and the
//! `cache::Equivalent` re-export.

use std::error::Error as _;
use std::future::{Future, poll_fn};
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};
use tower::BoxError;
use tower::Service;
use tower::ready_cache::cache::{Equivalent, ReadyCache as CacheReadyCache};
use tower::ready_cache::error::Failed;
use tower::ready_cache::{ReadyCache, error};
use tower_test::mock::{self, Handle, Mock};

use super::support::{
    AddOne, Instant, Oops, assert_debug, assert_default, assert_send, assert_sync, assert_unpin,
};

type Req = &'static str;
type MockCache<K> = ReadyCache<K, Mock<Req, Req>, Req>;

/// A mock with the given allowance, and its handle.
fn mock(allow: u64) -> (Mock<Req, Req>, Handle<Req, Req>) {
    let (svc, mut handle) = mock::pair::<Req, Req>();
    handle.allow(allow);
    (svc, handle)
}

/// No request reached this mock, and it is still alive.
fn assert_idle(handle: &mut Handle<Req, Req>) {
    assert_pending!(handle.poll_request());
}

/// The mock behind this handle was dropped (after any request it got).
fn assert_dropped(handle: &mut Handle<Req, Req>) {
    loop {
        match handle.poll_request() {
            Poll::Ready(None) => return,
            Poll::Ready(Some(_)) => continue,
            Poll::Pending => panic!("the mock is still alive"),
        }
    }
}

// ---- a switchable service ----------------------------------------------

#[derive(Debug, Default)]
struct SwitchState {
    ready: bool,
    fail: Option<&'static str>,
    polls: usize,
    waker: Option<Waker>,
}

/// A service whose readiness the test turns on and off (or into an
/// error) at will; answers with its name.
#[derive(Debug, Clone)]
struct Switch {
    name: &'static str,
    state: Arc<Mutex<SwitchState>>,
}

impl Switch {
    fn new(name: &'static str, ready: bool) -> Switch {
        let state = SwitchState {
            ready,
            ..SwitchState::default()
        };
        Switch {
            name,
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn set_ready(&self, ready: bool) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            state.ready = ready;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn fail(&self, msg: &'static str) {
        self.state.lock().unwrap().fail = Some(msg);
    }

    fn polls(&self) -> usize {
        self.state.lock().unwrap().polls
    }
}

impl Service<u32> for Switch {
    type Response = (&'static str, u32);
    type Error = Oops;
    type Future = Instant<(&'static str, u32), Oops>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        let mut state = self.state.lock().unwrap();
        state.polls += 1;
        if let Some(msg) = state.fail {
            return Poll::Ready(Err(Oops(msg)));
        }
        if state.ready {
            Poll::Ready(Ok(()))
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    fn call(&mut self, req: u32) -> Self::Future {
        assert!(
            self.state.lock().unwrap().ready,
            "{} called while not ready",
            self.name
        );
        std::future::ready(Ok((self.name, req)))
    }
}

type SwitchCache = ReadyCache<&'static str, Switch, u32>;

fn keys(cache: &SwitchCache) -> Vec<&'static str> {
    cache.iter_ready().map(|(key, _)| *key).collect()
}

// ---- upstream's cases --------------------------------------------------

#[test]
fn a_failing_pending_service_is_reported_with_its_key() {
    let mut task = task::spawn(());
    let mut cache = MockCache::<usize>::default();

    let (failing, mut failing_handle) = mock::pair::<Req, Req>();
    failing_handle.send_error("doom");
    cache.push(0, failing);
    let (ok, _ok_handle) = mock(1);
    cache.push(1, ok);

    let failed: Failed<usize> =
        assert_ready!(task.enter(|cx, _| cache.poll_pending(cx))).unwrap_err();
    assert_eq!(failed.0, 0);
    assert_eq!(format!("{}", failed.1), "doom");
    assert_eq!(failed.to_string(), "doom");
    assert_eq!(format!("{failed:?}"), "Failed(0, \"doom\")");
    assert_eq!(failed.source().unwrap().to_string(), "doom");
    assert_eq!(cache.len(), 1);
    assert_dropped(&mut failing_handle);

    // Going on promotes the other one.
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert_eq!(cache.ready_len(), 1);
    assert!(cache.get_ready(&1).is_some());
}

#[test]
fn services_that_are_not_ready_stay_pending() {
    let mut task = task::spawn(());
    let mut cache = MockCache::<usize>::default();
    let (a, mut ha) = mock(0);
    let (b, _hb) = mock(0);
    cache.push(0, a);
    cache.push(1, b);

    assert_pending!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert_eq!(cache.ready_len(), 0);
    assert_eq!(cache.pending_len(), 2);
    assert_eq!(cache.len(), 2);
    assert!(!cache.is_empty());
    assert!(cache.pending_contains(&0));
    assert!(cache.pending_contains(&1));
    assert!(!cache.pending_contains(&2));

    // A service becoming ready wakes the task.
    ha.allow(1);
    assert!(task.is_woken());
    assert_pending!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert_eq!(cache.ready_len(), 1);
    assert_eq!(cache.pending_len(), 1);
    assert!(!cache.pending_contains(&0));
}

#[test]
fn ready_services_are_promoted() {
    let mut task = task::spawn(());
    let mut cache = MockCache::<usize>::default();
    assert!(cache.is_empty());
    let (a, _ha) = mock(1);
    let (b, _hb) = mock(1);
    cache.push(0, a);
    cache.push(1, b);
    assert_eq!(
        (cache.ready_len(), cache.pending_len(), cache.len()),
        (0, 2, 2)
    );

    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert_eq!(
        (cache.ready_len(), cache.pending_len(), cache.len()),
        (2, 0, 2)
    );
}

#[test]
fn an_evicted_ready_service_never_reports_its_error() {
    let mut task = task::spawn(());
    let mut cache = MockCache::<usize>::default();
    let (svc, mut handle) = mock(0);
    cache.push(0, svc);
    assert_pending!(task.enter(|cx, _| cache.poll_pending(cx)));
    handle.allow(1);
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));

    handle.send_error("doom");
    assert!(cache.evict(&0));
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert!(cache.is_empty());
    assert_dropped(&mut handle);
    assert!(!cache.evict(&0), "nothing left to evict");
}

#[test]
fn an_evicted_pending_service_never_reports_its_error() {
    let mut task = task::spawn(());
    let mut cache = MockCache::<usize>::default();
    let (svc, mut handle) = mock(0);
    cache.push(0, svc);
    assert_pending!(task.enter(|cx, _| cache.poll_pending(cx)));

    handle.send_error("doom");
    assert!(cache.evict(&0));
    assert!(!cache.pending_contains(&0));
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert_eq!(cache.len(), 0);
    assert_dropped(&mut handle);
}

#[test]
fn evict_right_after_push() {
    let mut task = task::spawn(());
    let mut cache = MockCache::<usize>::default();
    let (svc, mut handle) = mock(0);
    cache.push(0, svc);
    handle.send_error("doom");
    assert!(cache.evict(&0));
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert!(cache.is_empty());
}

#[test]
fn an_error_after_promotion_is_not_reported_by_poll_pending() {
    let mut task = task::spawn(());
    let mut cache = MockCache::<usize>::default();
    let (svc, mut handle) = mock(0);
    cache.push(0, svc);
    assert_pending!(task.enter(|cx, _| cache.poll_pending(cx)));
    handle.allow(1);
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));

    handle.send_error("doom");
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert_eq!(cache.ready_len(), 1);
}

#[test]
fn a_key_pushed_again_and_evicted() {
    let mut task = task::spawn(());
    let mut cache = MockCache::<usize>::default();
    let (first, mut h0) = mock(1);
    cache.push(0, first);
    // Cancels the first.
    let (second, mut h1) = mock(1);
    cache.push(0, second);
    // Cancels the second.
    cache.evict(&0);

    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert!(!task.enter(|cx, _| cache.check_ready(cx, &0)).unwrap());
    assert_eq!(cache.len(), 0);
    assert_dropped(&mut h0);
    assert_dropped(&mut h1);

    let (third, mut h2) = mock(1);
    cache.push(0, third);
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert!(task.enter(|cx, _| cache.check_ready(cx, &0)).unwrap());
    let fut: mock::future::ResponseFuture<Req> = cache.call_ready(&0, "third");
    let (req, send) = assert_ready!(h2.poll_request()).unwrap();
    assert_eq!(req, "third");
    send.send_response("ok");
    let mut fut = task::spawn(fut);
    assert_eq!(assert_ready_ok!(fut.poll()), "ok");
}

/// Drives the cache's pending set to completion from a future.
struct DrivePending<'a, K: Eq + Hash, S, R>(&'a mut ReadyCache<K, S, R>);

impl<K, S, R> Future for DrivePending<'_, K, S, R>
where
    K: Clone + Eq + Hash,
    S: Service<R>,
    S::Error: Into<BoxError>,
{
    type Output = Result<(), error::Failed<K>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().0.poll_pending(cx)
    }
}

#[tokio::test]
async fn many_cancellations_of_one_key_complete() {
    let mut cache: ReadyCache<&'static str, Mock<(), ()>, ()> = ReadyCache::default();
    let mut handles = Vec::new();
    for _ in 0..130 {
        let (svc, mut handle) = mock::pair::<(), ()>();
        handle.allow(1);
        cache.push("ep0", svc);
        handles.push(handle);
    }
    DrivePending(&mut cache).await.unwrap();
    assert_eq!(cache.ready_len(), 1);
    assert_eq!(cache.len(), 1);

    // And inside a spawned task, owning the cache.
    let mut cache: ReadyCache<&'static str, Mock<(), ()>, ()> = ReadyCache::default();
    for _ in 0..130 {
        let (svc, mut handle) = mock::pair::<(), ()>();
        handle.allow(1);
        cache.push("ep0", svc);
        handles.push(handle);
    }
    let cache = tokio::spawn(async move {
        poll_fn(|cx| cache.poll_pending(cx)).await.unwrap();
        cache
    })
    .await
    .unwrap();
    assert_eq!(cache.ready_len(), 1);
}

// ---- lookups -------------------------------------------------------------

#[test]
fn lookups_by_key_and_by_index() {
    let mut task = task::spawn(());
    let mut cache = SwitchCache::default();
    for name in ["a", "b", "c"] {
        cache.push(name, Switch::new(name, true));
    }
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    let mut order = keys(&cache);
    order.sort_unstable();
    assert_eq!(order, ["a", "b", "c"]);

    let (index, key, svc): (usize, &&str, &Switch) = cache.get_ready(&"b").unwrap();
    assert_eq!((*key, svc.name), ("b", "b"));
    let (key, svc) = cache.get_ready_index(index).unwrap();
    assert_eq!((*key, svc.name), ("b", "b"));
    assert!(cache.get_ready(&"z").is_none());
    assert!(cache.get_ready_index(3).is_none());

    let (i, _, svc): (usize, &&str, &mut Switch) = cache.get_ready_mut(&"c").unwrap();
    svc.name = "C";
    let (_, svc) = cache.get_ready_index_mut(i).unwrap();
    assert_eq!(svc.name, "C");
    for (_, svc) in cache.iter_ready_mut() {
        svc.name = "renamed";
    }
    assert!(cache.iter_ready().all(|(_, svc)| svc.name == "renamed"));
    assert_eq!(cache.iter_ready().count(), 3);
}

#[test]
fn eviction_swaps_the_last_ready_service_into_the_hole() {
    let mut task = task::spawn(());
    let mut cache = SwitchCache::default();
    for name in ["a", "b", "c"] {
        cache.push(name, Switch::new(name, true));
        // One at a time, so the insertion order is known.
        assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    }
    assert_eq!(keys(&cache), ["a", "b", "c"]);
    assert_eq!(cache.get_ready(&"c").unwrap().0, 2);

    assert!(cache.evict(&"a"));
    assert_eq!(keys(&cache), ["c", "b"]);
    assert_eq!(cache.get_ready(&"c").unwrap().0, 0);
    assert!(!cache.evict(&"a"));
}

/// A borrowed form of the `(String, u16)` key: hashes like it and compares
/// equal to it.
struct Endpoint<'a> {
    host: &'a str,
    port: u16,
}

impl Hash for Endpoint<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.host.hash(state);
        self.port.hash(state);
    }
}

impl Equivalent<(String, u16)> for Endpoint<'_> {
    fn equivalent(&self, key: &(String, u16)) -> bool {
        self.host == key.0 && self.port == key.1
    }
}

#[test]
fn lookups_through_a_user_equivalent_key() {
    let mut task = task::spawn(());
    let mut cache: ReadyCache<(String, u16), Switch, u32> = ReadyCache::default();
    let web = Switch::new("web", true);
    cache.push(("example.org".to_string(), 80), web.clone());
    cache.push(("example.org".to_string(), 443), Switch::new("tls", false));
    assert_pending!(task.enter(|cx, _| cache.poll_pending(cx)));

    let http = Endpoint {
        host: "example.org",
        port: 80,
    };
    let https = Endpoint {
        host: "example.org",
        port: 443,
    };
    assert!(cache.get_ready(&http).is_some());
    assert!(cache.get_ready(&https).is_none());
    assert!(cache.pending_contains(&https));
    assert!(!cache.pending_contains(&http));
    assert!(task.enter(|cx, _| cache.check_ready(cx, &http)).unwrap());
    let fut = cache.call_ready(&http, 7);
    assert_eq!(task::spawn(fut).poll(), Poll::Ready(Ok(("web", 7))));
    assert!(cache.pending_contains(&http));
    assert!(cache.get_ready_mut(&http).is_none());

    // The owned key works too (the blanket `Equivalent` impl).
    assert_ready_ok!(task.enter(|cx, _| {
        let _ = cache.poll_pending(cx);
        cache.evict(&("example.org".to_string(), 443));
        cache.poll_pending(cx)
    }));
    assert!(cache.get_ready(&("example.org".to_string(), 80)).is_some());
    assert!(cache.evict(&http));
    assert!(cache.is_empty());
}

// ---- readiness checks and calls ----------------------------------------

#[test]
fn check_ready_follows_the_service() {
    let mut task = task::spawn(());
    let mut cache = SwitchCache::default();
    let a = Switch::new("a", true);
    let b = Switch::new("b", true);
    cache.push("a", a.clone());
    cache.push("b", b.clone());
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));

    // Still ready.
    assert!(task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
    let index = cache.get_ready(&"b").unwrap().0;
    assert!(
        task.enter(|cx, _| cache.check_ready_index(cx, index))
            .unwrap()
    );

    // No longer ready: back to pending.
    a.set_ready(false);
    assert!(!task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
    assert!(cache.pending_contains(&"a"));
    assert!(cache.get_ready(&"a").is_none());
    assert_eq!(cache.len(), 2);
    assert_pending!(task.enter(|cx, _| cache.poll_pending(cx)));
    a.set_ready(true);
    assert!(task.is_woken());
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert!(cache.get_ready(&"a").is_some());

    // Failed: removed and reported.
    b.fail("broken");
    let failed = task.enter(|cx, _| cache.check_ready(cx, &"b")).unwrap_err();
    assert_eq!(failed.0, "b");
    assert_eq!(failed.1.downcast_ref::<Oops>(), Some(&Oops("broken")));
    assert_eq!(failed.to_string(), "oops: broken");
    assert_eq!(cache.len(), 1);
    assert!(cache.get_ready(&"b").is_none());

    // Unknown keys and indices are simply not ready.
    assert!(!task.enter(|cx, _| cache.check_ready(cx, &"zzz")).unwrap());
    assert!(!task.enter(|cx, _| cache.check_ready_index(cx, 5)).unwrap());
}

#[test]
fn a_failing_index_is_reported_with_its_key() {
    let mut task = task::spawn(());
    let mut cache = SwitchCache::default();
    let a = Switch::new("a", true);
    cache.push("a", a.clone());
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    a.fail("index");
    let failed = task
        .enter(|cx, _| cache.check_ready_index(cx, 0))
        .unwrap_err();
    assert_eq!(failed.0, "a");
    assert_eq!(format!("{failed}"), "oops: index");
    assert!(cache.is_empty());
}

#[test]
fn a_called_service_goes_back_to_pending() {
    let mut task = task::spawn(());
    let mut cache = SwitchCache::default();
    let a = Switch::new("a", true);
    cache.push("a", a.clone());
    cache.push("b", Switch::new("b", true));
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));

    assert!(task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
    let fut: Instant<(&'static str, u32), Oops> = cache.call_ready(&"a", 1);
    assert_eq!(task::spawn(fut).poll(), Poll::Ready(Ok(("a", 1))));
    assert!(cache.pending_contains(&"a"));
    assert_eq!((cache.ready_len(), cache.pending_len()), (1, 1));

    let polls = a.polls();
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert!(a.polls() > polls, "poll_pending drives it again");
    assert_eq!(cache.ready_len(), 2);

    let index = cache.get_ready(&"b").unwrap().0;
    assert!(
        task.enter(|cx, _| cache.check_ready_index(cx, index))
            .unwrap()
    );
    let fut = cache.call_ready_index(index, 2);
    assert_eq!(task::spawn(fut).poll(), Poll::Ready(Ok(("b", 2))));
    assert!(cache.pending_contains(&"b"));
}

#[test]
fn a_ready_service_serves_until_its_replacement_is_ready() {
    let mut task = task::spawn(());
    let mut cache = SwitchCache::default();
    cache.push("x", Switch::new("old", true));
    cache.push("y", Switch::new("other", true));
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    let index = cache.get_ready(&"x").unwrap().0;

    let new = Switch::new("new", false);
    cache.push("x", new.clone());
    assert!(cache.pending_contains(&"x"));
    assert_pending!(task.enter(|cx, _| cache.poll_pending(cx)));
    // The old one is still there and usable.
    assert_eq!(cache.get_ready(&"x").unwrap().2.name, "old");

    // Once the new one is ready it takes the old one's place.
    new.set_ready(true);
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    let (new_index, _, svc) = cache.get_ready(&"x").unwrap();
    assert_eq!((new_index, svc.name), (index, "new"));
    assert_eq!(cache.len(), 2);
}

#[test]
fn a_replaced_service_that_is_used_is_dropped_after_the_call() {
    let mut task = task::spawn(());
    let mut cache = MockCache::<u8>::default();
    let (old, mut old_handle) = mock(1);
    cache.push(0, old);
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));

    let (new, mut new_handle) = mock(0);
    cache.push(0, new);
    assert!(task.enter(|cx, _| cache.check_ready(cx, &0)).unwrap());
    let _fut = cache.call_ready(&0, "last");
    let (req, _send) = assert_ready!(old_handle.poll_request()).unwrap();
    assert_eq!(req, "last");
    assert_dropped(&mut old_handle);

    assert!(cache.pending_contains(&0));
    assert_eq!(cache.ready_len(), 0);
    new_handle.allow(1);
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert_eq!(cache.len(), 1);
    assert_idle(&mut new_handle);
}

#[test]
fn a_service_not_ready_at_check_is_not_put_over_its_replacement() {
    let mut task = task::spawn(());
    let mut cache = SwitchCache::default();
    let old = Switch::new("old", true);
    cache.push("x", old.clone());
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    let new = Switch::new("new", false);
    cache.push("x", new.clone());
    old.set_ready(false);
    assert!(!task.enter(|cx, _| cache.check_ready(cx, &"x")).unwrap());
    new.set_ready(true);
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert_eq!(cache.get_ready(&"x").unwrap().2.name, "new");
    assert_eq!(cache.len(), 1);
}

#[test]
#[should_panic(expected = "check_ready was not called")]
fn call_ready_without_a_ready_service_panics() {
    let mut cache = SwitchCache::default();
    cache.push("a", Switch::new("a", true));
    drop(cache.call_ready(&"a", 1));
}

#[test]
#[should_panic(expected = "check_ready_index was not called")]
fn call_ready_index_out_of_range_panics() {
    let mut cache = SwitchCache::default();
    drop(cache.call_ready_index(0, 1));
}

// ---- types -------------------------------------------------------------

#[test]
fn failed_is_a_public_tuple_error() {
    let failed = Failed("key", Box::new(Oops("inner")) as BoxError);
    assert_eq!(failed.to_string(), "oops: inner");
    assert_eq!(format!("{failed:?}"), "Failed(\"key\", Oops(\"inner\"))");
    let source = failed.source().unwrap();
    assert_eq!(source.downcast_ref::<Oops>(), Some(&Oops("inner")));
    let boxed: BoxError = Box::new(failed);
    let back = boxed.downcast_ref::<Failed<&str>>().unwrap();
    assert_eq!(back.0, "key");
    let Failed(key, err) = *boxed.downcast::<Failed<&str>>().unwrap();
    assert_eq!((key, err.to_string()), ("key", "oops: inner".to_string()));
}

#[test]
fn auto_traits() {
    assert_default::<ReadyCache<u32, AddOne, u32>>();
    assert_debug::<ReadyCache<u32, AddOne, u32>>();
    assert_unpin::<ReadyCache<u32, AddOne, u32>>();
    assert_send::<ReadyCache<u32, AddOne, u32>>();
    assert_sync::<ReadyCache<u32, AddOne, u32>>();
    assert_send::<MockCache<String>>();
    assert_sync::<MockCache<String>>();
    assert_debug::<MockCache<String>>();
    assert_unpin::<CacheReadyCache<u32, Mock<Req, Req>, std::rc::Rc<u8>>>();
    assert_debug::<Failed<u32>>();
    assert_send::<Failed<u32>>();
    assert_sync::<Failed<u32>>();
    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
    is_error::<Failed<String>>();
    // `cache::ReadyCache` and `ReadyCache` are the same type.
    let cache: CacheReadyCache<u8, AddOne, u32> = ReadyCache::default();
    let _: ReadyCache<u8, AddOne, u32> = cache;
}

// ---- lifetimes and globs ---------------------------------------------------

/// A service borrowing from its caller, for borrowed requests.
#[derive(Debug)]
struct Prefix<'a>(&'a str);

impl<'a> Service<&'a str> for Prefix<'a> {
    type Response = String;
    type Error = Oops;
    type Future = Instant<String, Oops>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: &'a str) -> Self::Future {
        std::future::ready(Ok(format!("{}{req}", self.0)))
    }
}

#[test]
fn borrowed_keys_services_and_requests() {
    let prefix = String::from("> ");
    let key = String::from("key");
    let request = String::from("borrowed");
    let mut task = task::spawn(());
    let mut cache: ReadyCache<&str, Prefix<'_>, &str> = ReadyCache::default();
    cache.push(&key, Prefix(&prefix));
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    assert!(
        task.enter(|cx, _| cache.check_ready(cx, &key.as_str()))
            .unwrap()
    );
    let fut = cache.call_ready(&key.as_str(), &request);
    assert_eq!(
        task::spawn(fut).poll(),
        Poll::Ready(Ok("> borrowed".to_string()))
    );
}

mod globs {
    use tower::ready_cache::cache::*;
    use tower::ready_cache::error::*;
    use tower::ready_cache::*;

    use super::super::support::AddOne;

    #[test]
    fn ready_cache_globs() {
        let mut cache: ReadyCache<u8, AddOne, u32> = ReadyCache::default();
        cache.push(1, AddOne);
        assert_eq!(cache.len(), 1);
        let _: Option<Failed<u8>> = None;
        let _: Option<error::Failed<u8>> = None;
        let _: Option<cache::ReadyCache<u8, AddOne, u32>> = None;
        fn is_equivalent<Q: Equivalent<u8>>() {}
        is_equivalent::<u8>();
    }
}

/// A service that is `Send` but not `Sync`.
#[derive(Debug, Default)]
struct Counting(std::cell::Cell<u32>);

impl Service<u32> for Counting {
    type Response = u32;
    type Error = Oops;
    type Future = Instant<u32, Oops>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: u32) -> Self::Future {
        self.0.set(self.0.get() + 1);
        std::future::ready(Ok(req))
    }
}

#[test]
fn a_cache_of_send_services_is_send() {
    assert_send::<ReadyCache<u8, Counting, u32>>();
    assert_send::<
        tower::balance::p2c::Balance<
            tower::discover::ServiceList<Vec<tower::load::Constant<Counting, u8>>>,
            u32,
        >,
    >();
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<u8, Counting, u32>::default();
    cache.push(0, Counting::default());
    assert_ready_ok!(task.enter(|cx, _| cache.poll_pending(cx)));
    let moved = std::thread::spawn(move || cache.len()).join().unwrap();
    assert_eq!(moved, 1);
}
