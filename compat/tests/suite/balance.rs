//! `tower::balance`: the power-of-two-choices `Balance` over `ServiceList`
//! and channel discovers, with `Constant`, `PendingRequests` and `PeakEwma`
//! loads; its discovery error; `MakeBalance`, `MakeBalanceLayer` and
//! `MakeFuture`; and a randomized stress run.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::convert::Infallible;
use std::error::Error as _;
use std::hash::{BuildHasher, Hasher};
use std::task::Poll;
use std::time::Duration;

use futures::future::MapErr;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};
use tower::balance::error::Discover as DiscoverError;
use tower::balance::p2c::{Balance, MakeBalance, MakeBalanceLayer, MakeFuture};
use tower::discover::{Change, Discover, ServiceList};
use tower::layer::util::{Identity, Stack};
use tower::load::{CompleteOnResponse, Constant, PeakEwmaDiscover, PendingRequestsDiscover};
use tower::util::rng::{HasherRng, Rng};
use tower::{BoxError, Layer, MakeService, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Mock, Spawn};

use super::support::{
    AddOne, Instant, Oops, assert_clone, assert_debug, assert_default, assert_send, assert_sync,
    assert_unpin,
};

type Req = &'static str;
type Endpoint = Constant<Mock<Req, Req>, u8>;
type Changes<K, S> = UnboundedReceiverStream<Result<Change<K, S>, BoxError>>;

fn endpoint(load: u8) -> (Endpoint, Handle<Req, Req>) {
    let (svc, handle) = mock::pair::<Req, Req>();
    (Constant::new(svc, load), handle)
}

/// A balancer fed by a channel, with the sending side.
fn channel_balancer<S>() -> (
    Spawn<Balance<Changes<u32, S>, Req>>,
    UnboundedSender<Result<Change<u32, S>, BoxError>>,
)
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    let (tx, rx) = unbounded_channel();
    let balance = Balance::new(UnboundedReceiverStream::new(rx));
    (Spawn::new(balance), tx)
}

/// Answers the request that reached one of `handles`, and says which.
fn answer(handles: &mut [(&'static str, &mut Handle<Req, Req>)], req: Req) -> &'static str {
    let mut hit = None;
    for (name, handle) in handles.iter_mut() {
        if let Poll::Ready(Some((got, send))) = handle.poll_request() {
            assert_eq!(got, req);
            assert!(hit.is_none(), "two endpoints got the request");
            send.send_response(name);
            hit = Some(*name);
        }
    }
    hit.expect("no endpoint got the request")
}

// ---- upstream's unit cases -----------------------------------------------

#[tokio::test]
async fn an_empty_balancer_is_pending() {
    let empty: Vec<Constant<Mock<(), &'static str>, usize>> = vec![];
    let mut svc = Spawn::new(Balance::new(ServiceList::new(empty)));
    assert_pending!(svc.poll_ready());
    assert!(svc.get_ref().is_empty());
    assert_eq!(svc.get_ref().len(), 0);
}

#[tokio::test]
async fn a_single_endpoint_is_discovered_used_and_dropped_on_failure() {
    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<(), u32>| {
        let list = ServiceList::new(vec![Constant::new(mock, 0u8)].into_iter());
        Balance::new(list)
    });
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    assert_eq!(svc.get_ref().len(), 1, "discovered on the first poll");

    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(()));
    assert_request_eq!(handle, ()).send_response(1);
    assert_eq!(assert_ready_ok!(fut.poll()), 1);

    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    handle.send_error("endpoint lost");
    assert_pending!(svc.poll_ready());
    assert!(svc.get_ref().is_empty(), "a failed endpoint is dropped");
}

#[tokio::test]
async fn two_endpoints_with_equal_load() {
    let (a, mut ha) = endpoint(1);
    let (b, mut hb) = endpoint(1);
    let mut svc = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));

    ha.allow(0);
    hb.allow(0);
    assert_pending!(svc.poll_ready());
    assert_eq!(svc.get_ref().len(), 2);

    // Only `a` is ready: it gets the request.
    ha.allow(1);
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("x"));
    assert_request_eq!(ha, "x").send_response("a");
    assert_eq!(assert_ready_ok!(fut.poll()), "a");

    // Only `b`.
    ha.allow(0);
    hb.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("y"));
    assert_request_eq!(hb, "y").send_response("b");
    assert_eq!(assert_ready_ok!(fut.poll()), "b");

    // Both: each request goes to exactly one of them.
    ha.allow(1);
    hb.allow(1);
    for _ in 0..2 {
        assert_ready_ok!(svc.poll_ready());
        let mut fut = task::spawn(svc.call("z"));
        let name = answer(&mut [("a", &mut ha), ("b", &mut hb)], "z");
        assert_eq!(assert_ready_ok!(fut.poll()), name);
        match name {
            "a" => ha.allow(0),
            _ => hb.allow(0),
        }
    }

    ha.send_error("endpoint lost");
    hb.allow(0);
    assert_pending!(svc.poll_ready());
    assert_eq!(svc.get_ref().len(), 1);
}

// ---- picking by load -----------------------------------------------------

// No runtime: many channel operations in one task poll would run out of
// tokio's cooperative budget.
#[test]
fn the_most_loaded_of_three_is_never_picked() {
    let (low, mut h_low) = endpoint(1);
    let (mid, mut h_mid) = endpoint(5);
    let (high, mut h_high) = endpoint(9);
    let mut svc = Spawn::new(Balance::from_rng(
        ServiceList::new(vec![high, low, mid]),
        HasherRng::default(),
    ));
    let mut seen = BTreeMap::new();
    for _ in 0..200 {
        assert_ready_ok!(svc.poll_ready());
        let mut fut = task::spawn(svc.call("req"));
        let name = answer(
            &mut [
                ("low", &mut h_low),
                ("mid", &mut h_mid),
                ("high", &mut h_high),
            ],
            "req",
        );
        assert_eq!(assert_ready_ok!(fut.poll()), name);
        *seen.entry(name).or_insert(0) += 1;
    }
    assert!(!seen.contains_key("high"), "{seen:?}");
    assert!(seen["low"] > 0, "{seen:?}");
}

// No runtime: many channel operations in one task poll would run out of
// tokio's cooperative budget.
#[test]
fn of_two_ready_endpoints_the_lower_load_wins() {
    let (busy, mut h_busy) = endpoint(200);
    let (idle, mut h_idle) = endpoint(3);
    let mut svc = Spawn::new(Balance::new(ServiceList::new(vec![busy, idle])));
    for _ in 0..20 {
        assert_ready_ok!(svc.poll_ready());
        let mut fut = task::spawn(svc.call("req"));
        let name = answer(&mut [("busy", &mut h_busy), ("idle", &mut h_idle)], "req");
        assert_eq!(name, "idle");
        assert_eq!(assert_ready_ok!(fut.poll()), "idle");
    }
}

#[tokio::test]
async fn pending_requests_steer_calls_to_the_idle_endpoint() {
    let (a, mut ha) = mock::pair::<Req, Req>();
    let (b, mut hb) = mock::pair::<Req, Req>();
    let discover =
        PendingRequestsDiscover::new(ServiceList::new(vec![a, b]), CompleteOnResponse::default());
    let mut svc: Spawn<Balance<PendingRequestsDiscover<ServiceList<Vec<Mock<Req, Req>>>>, Req>> =
        Spawn::new(Balance::new(discover));

    // The first request is outstanding on one endpoint...
    assert_ready_ok!(svc.poll_ready());
    let mut first = task::spawn(svc.call("first"));
    let (first_name, first_send) = match (ha.poll_request(), hb.poll_request()) {
        (Poll::Ready(Some((_, send))), Poll::Pending) => ("a", send),
        (Poll::Pending, Poll::Ready(Some((_, send)))) => ("b", send),
        _ => panic!("exactly one endpoint gets the first request"),
    };

    // ...so the second goes to the other one.
    assert_ready_ok!(svc.poll_ready());
    let mut second = task::spawn(svc.call("second"));
    let (got, second_send) = match first_name {
        "a" => assert_ready!(hb.poll_request()).unwrap(),
        _ => assert_ready!(ha.poll_request()).unwrap(),
    };
    assert_eq!(got, "second");
    assert_pending!(ha.poll_request());
    assert_pending!(hb.poll_request());

    // The first finishes: its endpoint is now the idle one.
    first_send.send_response("one");
    assert_eq!(assert_ready_ok!(first.poll()), "one");
    assert_ready_ok!(svc.poll_ready());
    let _third = svc.call("third");
    let (got, _send) = match first_name {
        "a" => assert_ready!(ha.poll_request()).unwrap(),
        _ => assert_ready!(hb.poll_request()).unwrap(),
    };
    assert_eq!(got, "third");

    second_send.send_response("two");
    assert_eq!(assert_ready_ok!(second.poll()), "two");
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_steers_calls_away_from_a_slow_endpoint() {
    let (a, mut ha) = mock::pair::<Req, Req>();
    let (b, mut hb) = mock::pair::<Req, Req>();
    let discover = PeakEwmaDiscover::new(
        ServiceList::new(vec![a, b]),
        Duration::from_millis(10),
        Duration::from_secs(10),
        CompleteOnResponse::default(),
    );
    let mut svc = Spawn::new(Balance::new(discover));

    assert_ready_ok!(svc.poll_ready());
    let mut first = task::spawn(svc.call("first"));
    let (slow, send) = match (ha.poll_request(), hb.poll_request()) {
        (Poll::Ready(Some((_, send))), Poll::Pending) => ("a", send),
        (Poll::Pending, Poll::Ready(Some((_, send)))) => ("b", send),
        _ => panic!("exactly one endpoint gets the first request"),
    };
    tokio::time::advance(Duration::from_millis(500)).await;
    send.send_response("slow");
    assert_eq!(assert_ready_ok!(first.poll()), "slow");

    // The slow endpoint's estimate is 500 ms; the other's is under 10 ms.
    for _ in 0..5 {
        assert_ready_ok!(svc.poll_ready());
        let mut fut = task::spawn(svc.call("next"));
        let (fast_handle, slow_handle) = match slow {
            "a" => (&mut hb, &mut ha),
            _ => (&mut ha, &mut hb),
        };
        assert_pending!(slow_handle.poll_request());
        let (got, send) = assert_ready!(fast_handle.poll_request()).unwrap();
        assert_eq!(got, "next");
        send.send_response("fast");
        assert_eq!(assert_ready_ok!(fut.poll()), "fast");
    }
}

// ---- discovery over a channel -------------------------------------------

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

// ---- MakeBalance ---------------------------------------------------------

type List = ServiceList<Vec<Constant<AddOne, u8>>>;

/// A make-discover service: a target is a number of endpoints.
#[derive(Clone, Copy, Debug)]
struct Endpoints;

impl Service<usize> for Endpoints {
    type Response = List;
    type Error = Oops;
    type Future = Instant<List, Oops>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, n: usize) -> Self::Future {
        if n == 0 {
            return std::future::ready(Err(Oops("no endpoints")));
        }
        let endpoints = (0..n).map(|i| Constant::new(AddOne, i as u8)).collect();
        std::future::ready(Ok(ServiceList::new(endpoints)))
    }
}

#[tokio::test]
async fn make_balance_turns_each_discover_into_a_balancer() {
    let mut make: MakeBalance<Endpoints, u32> = MakeBalance::new(Endpoints);
    let fut: MakeFuture<Instant<List, Oops>, u32> = make.ready().await.unwrap().call(3);
    let mut balance: Balance<List, u32> = fut.await.unwrap();
    assert_eq!(balance.ready().await.unwrap().call(1).await.unwrap(), 2);
    assert_eq!(balance.len(), 3);

    // Make errors come through as they are.
    let err: Oops = make.ready().await.unwrap().call(0).await.unwrap_err();
    assert_eq!(err, Oops("no endpoints"));

    // It is a `MakeService`.
    let balance = make.make_service(2).await.unwrap();
    assert_eq!(balance.oneshot(41).await.unwrap(), 42);

    let copy: MakeBalance<Endpoints, u32> = make.clone();
    assert_eq!(format!("{copy:?}"), "MakeBalance { inner: Endpoints }");
}

#[tokio::test]
async fn make_balance_layer() {
    const LAYER: MakeBalanceLayer<Endpoints, u32> = MakeBalanceLayer::new();
    let layer: MakeBalanceLayer<Endpoints, u32> = LAYER;
    assert_eq!(format!("{layer:?}"), "MakeBalanceLayer");
    let make: MakeBalance<Endpoints, u32> = layer.clone().layer(Endpoints);
    let balance = make.oneshot(1).await.unwrap();
    assert_eq!(balance.oneshot(1).await.unwrap(), 2);

    let builder: ServiceBuilder<Stack<MakeBalanceLayer<Endpoints, u32>, Identity>> =
        ServiceBuilder::new().layer(MakeBalanceLayer::default());
    let make: MakeBalance<Endpoints, u32> = builder.service(Endpoints);
    let balance = make.oneshot(2).await.unwrap();
    assert_eq!(balance.oneshot(1).await.unwrap(), 2);
}

/// A user's generic helper that balances over whatever a make-discover
/// service gives.
async fn balance_over<M, T>(make: M, target: T) -> Balance<M::Response, u32>
where
    M: Service<T>,
    M::Error: std::fmt::Debug,
    M::Response: Discover,
    <M::Response as Discover>::Key: std::hash::Hash,
    <M::Response as Discover>::Service: Service<u32>,
    <<M::Response as Discover>::Service as Service<u32>>::Error: Into<BoxError>,
{
    MakeBalance::new(make).oneshot(target).await.unwrap()
}

#[tokio::test]
async fn make_balance_in_generic_code() {
    let balance = balance_over(Endpoints, 2).await;
    assert_eq!(
        balance.len(),
        0,
        "nothing is discovered before the first poll"
    );
    assert_eq!(balance.oneshot(5).await.unwrap(), 6);
}

// ---- stress ----------------------------------------------------------------

/// A seeded hasher, so the run is reproducible.
#[derive(Clone, Copy, Debug)]
struct Seed(u64);

impl BuildHasher for Seed {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        let mut hasher = DefaultHasher::new();
        hasher.write_u64(self.0);
        hasher
    }
}

#[derive(Debug)]
struct Live {
    handle: Handle<Req, Req>,
    ready: bool,
}

fn stress_run(seed: u64, steps: usize) {
    let mut rng = HasherRng::with_hasher(Seed(seed));
    let mut task = task::spawn(());
    let (tx, rx) = unbounded_channel::<Result<Change<u64, Endpoint>, BoxError>>();
    let mut balance: Balance<Changes<u64, Endpoint>, Req> = Balance::from_rng(
        UnboundedReceiverStream::new(rx),
        HasherRng::with_hasher(Seed(seed ^ 0x5eed)),
    );

    let mut next_key = 0u64;
    let mut live: BTreeMap<u64, Live> = BTreeMap::new();
    let mut removed: Vec<Handle<Req, Req>> = Vec::new();
    let mut failed: Vec<Handle<Req, Req>> = Vec::new();
    let mut served = 0usize;

    let pick = |rng: &mut HasherRng<Seed>, live: &BTreeMap<u64, Live>, ready: Option<bool>| {
        let keys: Vec<u64> = live
            .iter()
            .filter(|(_, l)| ready.is_none_or(|r| l.ready == r))
            .map(|(k, _)| *k)
            .collect();
        if keys.is_empty() {
            None
        } else {
            Some(keys[rng.next_range(0..keys.len() as u64) as usize])
        }
    };

    for step in 0..steps {
        for _ in 0..rng.next_range(0..4) {
            match rng.next_range(0..10) {
                // Insert a new endpoint, not ready yet.
                0 | 1 if live.len() < 16 => {
                    let (svc, mut handle) = endpoint(rng.next_range(0..8) as u8);
                    handle.allow(0);
                    tx.send(Ok(Change::Insert(next_key, svc))).unwrap();
                    live.insert(
                        next_key,
                        Live {
                            handle,
                            ready: false,
                        },
                    );
                    next_key += 1;
                }
                // Make an endpoint ready.
                2..=4 => {
                    if let Some(key) = pick(&mut rng, &live, Some(false)) {
                        let l = live.get_mut(&key).unwrap();
                        l.handle.allow(1);
                        l.ready = true;
                    }
                }
                // Remove one.
                5 => {
                    if let Some(key) = pick(&mut rng, &live, None) {
                        removed.push(live.remove(&key).unwrap().handle);
                        tx.send(Ok(Change::Remove(key))).unwrap();
                    }
                }
                // Fail one.
                6 => {
                    if let Some(key) = pick(&mut rng, &live, None) {
                        let mut handle = live.remove(&key).unwrap().handle;
                        handle.send_error("doom");
                        failed.push(handle);
                    }
                }
                // Use the balancer.
                _ => {
                    let nready = live.values().filter(|l| l.ready).count();
                    match task.enter(|cx, _| balance.poll_ready(cx)) {
                        Poll::Ready(Ok(())) => {
                            assert_ne!(nready, 0, "step {step}: ready with no ready endpoint");
                            let mut fut = task::spawn(balance.call("hello"));
                            let mut hit = None;
                            for (key, l) in live.iter_mut() {
                                if let Poll::Ready(Some((req, send))) = l.handle.poll_request() {
                                    assert_eq!(req, "hello");
                                    assert!(l.ready, "step {step}: endpoint {key} was not ready");
                                    assert!(hit.is_none(), "two endpoints got the request");
                                    send.send_response("world");
                                    l.ready = false;
                                    hit = Some(*key);
                                }
                            }
                            assert!(
                                hit.is_some(),
                                "step {step}: no live endpoint got the request"
                            );
                            assert_eq!(assert_ready_ok!(fut.poll()), "world");
                            served += 1;
                        }
                        Poll::Ready(Err(err)) => panic!("step {step}: {err}"),
                        Poll::Pending => {
                            assert_eq!(nready, 0, "step {step}: pending with a ready endpoint");
                        }
                    }
                }
            }
        }

        let polled = task.enter(|cx, _| balance.poll_ready(cx));
        let nready = live.values().filter(|l| l.ready).count();
        match polled {
            Poll::Ready(Ok(())) => assert_ne!(nready, 0, "step {step}: ready with none ready"),
            Poll::Ready(Err(err)) => panic!("step {step}: {err}"),
            Poll::Pending => assert_eq!(nready, 0, "step {step}: pending with one ready"),
        }

        // Removed endpoints are gone once the balancer has seen the removal.
        for handle in removed.iter_mut() {
            assert!(
                matches!(handle.poll_request(), Poll::Ready(None)),
                "step {step}: a removed endpoint is still alive"
            );
        }
        removed.clear();
        // Failed endpoints never get a request, and are dropped once polled.
        failed.retain_mut(|handle| match handle.poll_request() {
            Poll::Ready(None) => false,
            Poll::Pending => true,
            Poll::Ready(Some((req, _))) => panic!("step {step}: a failed endpoint got {req}"),
        });
        assert_eq!(
            balance.len(),
            live.len() + failed.len(),
            "step {step}: the balancer tracks the live endpoints and the failed ones not yet seen"
        );
    }
    assert!(served > steps / 10, "only {served} requests were served");
}

#[test]
fn stress() {
    for seed in 0..3 {
        stress_run(seed, 5_000);
    }
}

// ---- types -----------------------------------------------------------------

#[test]
fn auto_traits() {
    type OverList = Balance<ServiceList<Vec<Endpoint>>, Req>;
    type OverChannel = Balance<Changes<u32, Endpoint>, Req>;
    assert_send::<OverList>();
    assert_sync::<OverList>();
    assert_debug::<OverList>();
    assert_send::<OverChannel>();
    assert_sync::<OverChannel>();
    assert_unpin::<OverChannel>();
    assert_unpin::<<OverList as Service<Req>>::Future>();
    assert_send::<<OverList as Service<Req>>::Future>();
    assert_clone::<MakeBalance<Endpoints, u32>>();
    assert_debug::<MakeBalance<Endpoints, u32>>();
    assert_send::<MakeBalance<Endpoints, u32>>();
    assert_sync::<MakeBalance<Endpoints, u32>>();
    assert_debug::<MakeFuture<Instant<List, Oops>, u32>>();
    assert_send::<MakeFuture<Instant<List, Oops>, u32>>();
    assert_clone::<MakeBalanceLayer<Endpoints, u32>>();
    assert_clone::<MakeBalanceLayer<std::rc::Rc<u8>, std::rc::Rc<u8>>>();
    assert_default::<MakeBalanceLayer<std::rc::Rc<u8>, u32>>();
    assert_debug::<MakeBalanceLayer<std::rc::Rc<u8>, u32>>();
    assert_send::<MakeBalanceLayer<Endpoints, u32>>();
    assert_sync::<MakeBalanceLayer<Endpoints, u32>>();
    assert_debug::<DiscoverError>();
    assert_send::<DiscoverError>();
    assert_sync::<DiscoverError>();
    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
    is_error::<DiscoverError>();
}

// ---- a user's random numbers ---------------------------------------------

/// Replays fixed words, as a user's seeded generator would give.
#[derive(Debug)]
struct Words(std::collections::VecDeque<u64>);

impl Rng for Words {
    fn next_u64(&mut self) -> u64 {
        self.0
            .pop_front()
            .expect("the balancer asked for too many words")
    }
}

/// With equal loads the first of the two sampled endpoints is taken; the
/// sampling and the ready set's order (insertion order, a used endpoint
/// leaving its slot to the last one and coming back at the end) are what
/// upstream documents, so a user's generator gives the same picks.
#[test]
fn a_user_rng_decides_between_equal_loads() {
    let words: Vec<u64> = {
        let mut rng = HasherRng::with_hasher(Seed(42));
        (0..60).map(|_| rng.next_u64()).collect()
    };
    let mut task = task::spawn(());
    let (tx, rx) = unbounded_channel::<Result<Change<&'static str, Endpoint>, BoxError>>();
    let mut balance = Balance::<_, Req>::from_rng(
        UnboundedReceiverStream::new(rx),
        Words(words.iter().copied().collect()),
    );

    // Endpoints become ready one at a time, so the ready order is known.
    let mut handles = Vec::new();
    for name in ["a", "b", "c"] {
        let (svc, handle) = endpoint(0);
        tx.send(Ok(Change::Insert(name, svc))).unwrap();
        handles.push((name, handle));
        assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
    }
    let mut order = vec!["a", "b", "c"];
    let mut words = words.into_iter();
    // The first poll saw one endpoint (no sampling); the second two
    // endpoints while one was already picked (re-checked, no sampling); the
    // third likewise. So nothing was sampled yet and "a" is picked.
    let mut picked = Some(0usize);
    for round in 0..25 {
        let index = match picked.take() {
            Some(index) => index,
            None => {
                let len = order.len() as u64;
                let a = words.next().unwrap() % (len - 1);
                let b = words.next().unwrap() % len;
                (if a == b { len - 1 } else { a }) as usize
            }
        };
        let expected = order[index];
        assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
        let mut fut = task::spawn(balance.call("req"));
        let mut refs: Vec<(&'static str, &mut Handle<Req, Req>)> =
            handles.iter_mut().map(|(n, h)| (*n, h)).collect();
        let got = answer(&mut refs, "req");
        assert_eq!(got, expected, "round {round}");
        assert_eq!(assert_ready_ok!(fut.poll()), got);
        // The used endpoint leaves its slot to the last one and comes back
        // at the end once ready again.
        let used = order.swap_remove(index);
        order.push(used);
    }
}

// ---- in a user's stack -----------------------------------------------------

/// What a user writes to share a balancer between tasks: the bounds of
/// `Balance`'s `Service` impl, plus what `Buffer` needs to spawn it.
fn shared_balancer<D, R>(
    discover: D,
) -> tower::buffer::Buffer<R, <Balance<D, R> as Service<R>>::Future>
where
    D: Discover + Unpin + Send + 'static,
    D::Key: std::hash::Hash + Clone + Send,
    D::Error: Into<BoxError>,
    D::Service: Service<R> + tower::load::Load + Send,
    <D::Service as tower::load::Load>::Metric: std::fmt::Debug,
    <D::Service as Service<R>>::Error: Into<BoxError>,
    <D::Service as Service<R>>::Future: Send,
    R: Send + 'static,
{
    tower::buffer::Buffer::new(Balance::new(discover), 16)
}

#[tokio::test]
async fn a_balancer_behind_a_buffer() {
    let (tx, rx) = unbounded_channel::<Result<Change<u32, Mock<Req, Req>>, Infallible>>();
    let discover = PeakEwmaDiscover::new(
        UnboundedReceiverStream::new(rx),
        Duration::from_millis(5),
        Duration::from_secs(5),
        CompleteOnResponse::default(),
    );
    let svc = shared_balancer(discover);
    let (a, mut ha) = mock::pair::<Req, Req>();
    tx.send(Ok(Change::Insert(1, a))).unwrap();

    let calls: Vec<_> = (0..3)
        .map(|_| tokio::spawn(svc.clone().oneshot("hi")))
        .collect();
    for _ in 0..3 {
        let (req, send) = ha.next_request().await.unwrap();
        assert_eq!(req, "hi");
        send.send_response("there");
    }
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "there");
    }

    // Through `ServiceBuilder`, over a boxed discover.
    type Boxed = std::pin::Pin<
        Box<dyn futures::Stream<Item = Result<Change<u8, Constant<AddOne, u8>>, Oops>> + Send>,
    >;
    let boxed: Boxed = Box::pin(futures::stream::iter(vec![Ok(Change::Insert(
        0,
        Constant::new(AddOne, 0),
    ))]));
    let svc = ServiceBuilder::new()
        .buffer(4)
        .service(Balance::<Boxed, u32>::new(boxed));
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);
}

// ---- lifetimes -------------------------------------------------------------

/// A service borrowing from its caller, for borrowed requests.
#[derive(Debug)]
struct Prefix<'a>(&'a str);

impl<'a> Service<&'a str> for Prefix<'a> {
    type Response = String;
    type Error = Oops;
    type Future = Instant<String, Oops>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: &'a str) -> Self::Future {
        std::future::ready(Ok(format!("{}{req}", self.0)))
    }
}

#[tokio::test]
async fn borrowed_services_and_requests() {
    let prefix = String::from("> ");
    let request = String::from("borrowed");
    let list = ServiceList::new(vec![
        Constant::new(Prefix(&prefix), 1u8),
        Constant::new(Prefix(&prefix), 2u8),
    ]);
    let mut balance: Balance<ServiceList<Vec<Constant<Prefix<'_>, u8>>>, &str> = Balance::new(list);
    let rsp = balance.ready().await.unwrap().call(&request).await.unwrap();
    assert_eq!(rsp, "> borrowed");
}

mod globs {
    use tower::ServiceExt as _;
    use tower::balance::p2c::*;
    use tower::discover::*;
    use tower::load::*;

    use super::super::support::AddOne;

    #[tokio::test]
    async fn balance_discover_and_load_globs() {
        let list: ServiceList<Vec<Constant<AddOne, u8>>> =
            ServiceList::new(vec![Constant::new(AddOne, 0)]);
        let balance: Balance<_, u32> = Balance::new(list);
        let _: Option<MakeBalance<AddOne, u32>> = None;
        let _: Option<MakeBalanceLayer<AddOne, u32>> = None;
        let _: Option<MakeFuture<std::future::Ready<()>, u32>> = None;
        let _: Option<Change<u8, AddOne>> = None;
        fn is_discover<D: Discover>(_: &D) {}
        is_discover(&ServiceList::new(vec![AddOne]));
        fn is_load<L: Load>(_: &L) {}
        is_load(&Constant::new(AddOne, 1u8));
        let _: Option<PeakEwma<AddOne>> = None;
        let _: Option<PendingRequests<AddOne>> = None;
        let _: Option<CompleteOnResponse> = None;
        assert_eq!(balance.oneshot(1).await.unwrap(), 2);
    }
}

// ---- readiness of the chosen endpoint ----------------------------------------

#[derive(Debug, Default)]
struct GateState {
    ready: bool,
    fail: bool,
    calls: usize,
    waker: Option<std::task::Waker>,
}

/// An endpoint whose readiness the test switches; no `Debug` on purpose
/// (the balancer must not need it), and a `Load` of its own.
#[derive(Clone)]
struct Gate(
    std::sync::Arc<std::sync::Mutex<GateState>>,
    &'static str,
    u8,
);

impl Gate {
    fn new(name: &'static str, load: u8) -> Gate {
        let state = GateState {
            ready: true,
            ..GateState::default()
        };
        Gate(
            std::sync::Arc::new(std::sync::Mutex::new(state)),
            name,
            load,
        )
    }

    fn set(&self, ready: bool, fail: bool) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.ready = ready;
            state.fail = fail;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn calls(&self) -> usize {
        self.0.lock().unwrap().calls
    }
}

impl Service<std::rc::Rc<str>> for Gate {
    type Response = &'static str;
    type Error = Oops;
    type Future = Instant<&'static str, Oops>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Oops>> {
        let mut state = self.0.lock().unwrap();
        if state.fail {
            return Poll::Ready(Err(Oops("gate failed")));
        }
        if state.ready {
            Poll::Ready(Ok(()))
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    fn call(&mut self, _: std::rc::Rc<str>) -> Self::Future {
        let mut state = self.0.lock().unwrap();
        assert!(
            state.ready && !state.fail,
            "{} called while not ready",
            self.1
        );
        state.calls += 1;
        std::future::ready(Ok(self.1))
    }
}

impl tower::load::Load for Gate {
    type Metric = u8;

    fn load(&self) -> u8 {
        self.2
    }
}

/// A key type with no `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key(u8);

#[test]
fn the_chosen_endpoint_is_checked_again_before_use() {
    // `a` is the less loaded: it is chosen whenever it is ready.
    let a = Gate::new("a", 0);
    let b = Gate::new("b", 1);
    let list = futures::stream::iter(vec![
        Ok::<_, Infallible>(Change::Insert(Key(0), a.clone())),
        Ok(Change::Insert(Key(1), b.clone())),
    ]);
    // A request type that is neither `Send` nor `Debug`-constrained.
    let mut balance: Balance<_, std::rc::Rc<str>> = Balance::new(list);
    let mut task = task::spawn(());
    let req: std::rc::Rc<str> = "req".into();

    for (round, fail) in [(0, false), (1, true)] {
        assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
        // The chosen `a` stops being ready (or fails) before the call: the
        // next `poll_ready` checks it again and picks `b`.
        a.set(false, fail);
        assert!(
            task.enter(|cx, _| balance.poll_ready(cx)).is_ready(),
            "round {round}"
        );
        let mut fut = task::spawn(balance.call(req.clone()));
        assert_eq!(assert_ready_ok!(fut.poll()), "b", "round {round}");
        a.set(true, false);
    }
    // `a` failed in the second round: it was dropped.
    assert_eq!(balance.len(), 1);
    assert_eq!(a.calls(), 0);
    assert_eq!(b.calls(), 2);
}

// ---- partially ordered loads -------------------------------------------------

/// A user's two-criteria load: one endpoint is less loaded than another only
/// if it is no worse on both counts, so some loads cannot be compared.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Health {
    latency: u32,
    errors: u32,
}

impl PartialOrd for Health {
    fn partial_cmp(&self, other: &Health) -> Option<std::cmp::Ordering> {
        use std::cmp::Ordering::Equal;
        match (
            self.latency.cmp(&other.latency),
            self.errors.cmp(&other.errors),
        ) {
            (a, b) if a == b => Some(a),
            (Equal, o) | (o, Equal) => Some(o),
            _ => None,
        }
    }
}

/// Upstream keeps the first sampled endpoint only when its load is lower
/// than or equal to the second's (`a <= b`); when the two loads cannot be
/// compared, the second sampled one is taken. With a user's generator the
/// pick is therefore known.
#[test]
fn incomparable_loads_go_to_the_second_sampled_endpoint() {
    let fast_but_failing = Health {
        latency: 1,
        errors: 9,
    };
    let slow_but_sound = Health {
        latency: 9,
        errors: 1,
    };
    assert_eq!(fast_but_failing.partial_cmp(&slow_but_sound), None);

    let (x, mut hx) = mock::pair::<Req, Req>();
    let (y, mut hy) = mock::pair::<Req, Req>();
    let (tx, rx) =
        unbounded_channel::<Result<Change<u8, Constant<Mock<Req, Req>, Health>>, BoxError>>();
    // Words for the samples: `[a, b]` is `[0, 1]` when the second word is
    // odd and `[1, 0]` when it is even (two endpoints).
    let words = [7u64, 3, 7, 4, 7, 5, 7, 6, 7, 9, 7, 8];
    let mut balance = Balance::<_, Req>::from_rng(
        UnboundedReceiverStream::new(rx),
        Words(words.iter().copied().collect()),
    );
    let mut task = task::spawn(());
    tx.send(Ok(Change::Insert(0, Constant::new(x, fast_but_failing))))
        .unwrap();
    assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
    tx.send(Ok(Change::Insert(1, Constant::new(y, slow_but_sound))))
        .unwrap();
    // `y` becomes ready too, but `x` was already picked: no sampling yet.
    assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
    assert_eq!(balance.len(), 2);
    let mut fut = task::spawn(balance.call("warm-up"));
    assert_eq!(
        answer(&mut [("x", &mut hx), ("y", &mut hy)], "warm-up"),
        "x"
    );
    assert_ready_ok!(fut.poll());

    // The ready order is known: `x` left its slot to `y` and comes back
    // after it.
    let mut order = vec!["y", "x"];
    for (round, pair) in words.chunks(2).enumerate() {
        let second = (pair[1] % 2) as usize;
        let expected = order[second];
        assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
        let mut fut = task::spawn(balance.call("req"));
        let got = answer(&mut [("x", &mut hx), ("y", &mut hy)], "req");
        assert_eq!(got, expected, "round {round}");
        assert_ready_ok!(fut.poll());
        let used = order.remove(second);
        order.push(used);
    }
}

// ---- a discover that is drained on each poll ----------------------------------

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
