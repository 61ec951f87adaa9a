//! `tower::load`: the `Load` trait (implemented by users and forwarded by
//! `ConcurrencyLimit`/`RateLimit`), `Constant`, `PendingRequests` and
//! `PeakEwma` (on tokio's paused clock), completion tracking, and the
//! `*Discover` wrappers.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::{self, Stream};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::discover::{Change, Discover, ServiceList};
use tower::limit::{ConcurrencyLimit, RateLimit};
use tower::load::completion::{
    CompleteOnResponse as CompletionCompleteOnResponse,
    TrackCompletion as CompletionTrackCompletion, TrackCompletionFuture,
};
use tower::load::peak_ewma::{
    self, Cost, PeakEwma as PeakEwmaPath, PeakEwmaDiscover as PeakEwmaDiscoverPath,
};
use tower::load::pending_requests::{
    self, Count, PendingRequests as PendingRequestsPath,
    PendingRequestsDiscover as PendingRequestsDiscoverPath,
};
use tower::load::{
    CompleteOnResponse, Constant, Load, PeakEwma, PeakEwmaDiscover, PendingRequests,
    PendingRequestsDiscover, TrackCompletion,
};
use tower::{Service, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Mock};

use super::support::{
    AddOne, Instant, Oops, assert_clone, assert_copy, assert_debug, assert_default, assert_send,
    assert_service, assert_sync,
};

type Req = &'static str;
type MockFuture = mock::future::ResponseFuture<Req>;

const DECAY_NS: f64 = 1_000_000_000.0;

fn complete() -> CompleteOnResponse {
    CompleteOnResponse::default()
}

/// The cost a fresh `PeakEwma` reports for a default RTT: exactly the RTT
/// in nanoseconds, with nothing pending. Used as a yardstick, since `Cost`
/// cannot be built by hand.
fn cost_of(rtt: Duration) -> Cost {
    PeakEwma::new(AddOne, rtt, DECAY_NS, complete()).load()
}

fn ms(n: u64) -> Cost {
    cost_of(Duration::from_millis(n))
}

// ---- the trait ---------------------------------------------------------

/// A user's own load metric.
#[derive(Debug)]
struct Queue {
    depth: u16,
}

impl Load for Queue {
    type Metric = u16;

    fn load(&self) -> u16 {
        self.depth
    }
}

/// Generic code over `Load`, as a user writes it.
fn least_loaded<L: Load>(items: &[L]) -> Option<usize> {
    let mut best: Option<(usize, L::Metric)> = None;
    for (i, item) in items.iter().enumerate() {
        let load = item.load();
        match &best {
            Some((_, min)) if load >= *min => {}
            _ => best = Some((i, load)),
        }
    }
    best.map(|(i, _)| i)
}

#[test]
fn load_is_implemented_by_users_and_used_generically() {
    let queues = [Queue { depth: 3 }, Queue { depth: 1 }, Queue { depth: 2 }];
    assert_eq!(least_loaded(&queues), Some(1));
    let constants = [Constant::new(AddOne, 2.5f64), Constant::new(AddOne, 0.5)];
    assert_eq!(least_loaded(&constants), Some(1));
    let empty: [Constant<AddOne, u8>; 0] = [];
    assert_eq!(least_loaded(&empty), None);
}

#[tokio::test(start_paused = true)]
async fn limits_forward_the_load_of_their_inner_service() {
    let limited: ConcurrencyLimit<Constant<AddOne, u8>> =
        ConcurrencyLimit::new(Constant::new(AddOne, 7), 2);
    let load: u8 = limited.load();
    assert_eq!(load, 7);

    let rated: RateLimit<PendingRequests<AddOne>> = RateLimit::new(
        PendingRequests::new(AddOne, complete()),
        tower::limit::rate::Rate::new(5, Duration::from_secs(1)),
    );
    let count: Count = rated.load();
    assert_eq!(count, Count::default());
}

// ---- Constant ----------------------------------------------------------

const FIXED: Constant<AddOne, u32> = Constant::new(AddOne, 9);

#[tokio::test]
async fn constant_is_a_passthrough_with_a_fixed_load() {
    let mut svc: Constant<AddOne, u32> = FIXED;
    assert_eq!(svc.load(), 9);
    let fut: Instant<u32, Oops> = svc.ready().await.unwrap().call(1);
    assert_eq!(fut.await, Ok(2));
    let err: Oops = svc.oneshot(u32::MAX).await.unwrap_err();
    assert_eq!(err, Oops("overflow"));

    // Over a mock: readiness and errors come through untouched.
    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<Req, Req>| Constant::new(mock, 1u8));
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let fut: MockFuture = svc.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(fut.await.unwrap(), "world");
    handle.send_error(Oops("down"));
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("down")));
    assert_eq!(svc.get_ref().load(), 1);
}

#[tokio::test]
async fn constant_wraps_every_discovered_service() {
    let list = ServiceList::new(vec![AddOne, AddOne]);
    let mut discover: Constant<ServiceList<Vec<AddOne>>, u8> = Constant::new(list, 4);
    let first: Option<Result<Change<usize, Constant<AddOne, u8>>, Infallible>> =
        discover.next().await;
    let Some(Ok(Change::Insert(0, svc))) = first else {
        panic!("expected the first insert");
    };
    assert_eq!(svc.load(), 4);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    assert!(matches!(
        discover.next().await,
        Some(Ok(Change::Insert(1, _)))
    ));
    assert!(discover.next().await.is_none());

    // Removals and errors are passed on.
    let changes = stream::iter(vec![
        Ok(Change::Insert("a", AddOne)),
        Ok(Change::Remove("a")),
        Err(Oops("lost")),
    ]);
    let mut discover = Constant::new(changes, 0.5f32);
    assert!(matches!(
        discover.next().await,
        Some(Ok(Change::Insert("a", _)))
    ));
    assert!(matches!(
        discover.next().await,
        Some(Ok(Change::Remove("a")))
    ));
    assert!(matches!(discover.next().await, Some(Err(Oops("lost")))));
    assert!(discover.next().await.is_none());

    // And the wrapper is itself a discover.
    fn is_discover<D: Discover<Key = usize, Service = Constant<AddOne, u8>>>(_: &D) {}
    is_discover(&Constant::new(ServiceList::new(vec![AddOne]), 1u8));
}

// ---- completion --------------------------------------------------------

/// Keeps the load handle in the response, so the request counts as pending
/// until the response is dropped (say, a streaming body).
#[derive(Clone, Copy, Debug)]
struct KeepHandle;

#[derive(Debug)]
struct Tracked<H, V> {
    handle: H,
    value: V,
}

impl<H, V> TrackCompletion<H, V> for KeepHandle {
    type Output = Tracked<H, V>;

    fn track_completion(&self, handle: H, value: V) -> Tracked<H, V> {
        Tracked { handle, value }
    }
}

/// A completion policy that checks what it is handed.
#[derive(Clone, Debug)]
struct Label(&'static str);

impl CompletionTrackCompletion<u8, u32> for Label {
    type Output = String;

    fn track_completion(&self, handle: u8, value: u32) -> String {
        format!("{}:{handle}:{value}", self.0)
    }
}

#[tokio::test]
async fn track_completion_future_hands_the_handle_to_the_policy() {
    let fut: TrackCompletionFuture<Instant<u32, Oops>, Label, u8> =
        TrackCompletionFuture::new(Label("done"), 7, std::future::ready(Ok(42)));
    let out: Result<String, Oops> = fut.await;
    assert_eq!(out.unwrap(), "done:7:42");

    // An error is passed on and the policy is not asked.
    let fut = TrackCompletionFuture::new(Label("never"), 7, std::future::ready(Err(Oops("no"))));
    assert_eq!(fut.await, Err::<String, _>(Oops("no")));

    // `CompleteOnResponse` returns the value and drops the handle.
    let fut = TrackCompletionFuture::new(
        CompletionCompleteOnResponse::default(),
        String::from("handle"),
        std::future::ready(Ok::<_, Oops>(5u8)),
    );
    assert_eq!(fut.await, Ok(5));
    let value: u8 = CompleteOnResponse::default().track_completion("any handle", 3u8);
    assert_eq!(value, 3);

    // `new` is a `const fn`.
    const FUT: TrackCompletionFuture<Answer, KeepHandle, char> =
        TrackCompletionFuture::new(KeepHandle, 'h', Answer);
    let tracked = FUT.await.unwrap();
    assert_eq!((tracked.handle, tracked.value), ('h', 42));
}

/// A future that answers at once; buildable in a constant.
#[derive(Debug)]
struct Answer;

impl Future for Answer {
    type Output = Result<u32, Oops>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<u32, Oops>> {
        Poll::Ready(Ok(42))
    }
}

// ---- PendingRequests ---------------------------------------------------

fn count(n: usize) -> String {
    format!("Count({n})")
}

#[tokio::test]
async fn pending_requests_counts_responses_not_yet_resolved() {
    let mut svc: PendingRequests<AddOne> = PendingRequests::new(AddOne, complete());
    assert_eq!(svc.load(), Count::default());

    let first: TrackCompletionFuture<
        Instant<u32, Oops>,
        CompleteOnResponse,
        pending_requests::Handle,
    > = svc.call(1);
    assert_eq!(format!("{:?}", svc.load()), count(1));
    let second = svc.call(2);
    assert_eq!(format!("{:?}", svc.load()), count(2));
    assert!(svc.load() > Count::default());

    assert_eq!(first.await, Ok(2));
    assert_eq!(format!("{:?}", svc.load()), count(1));
    assert_eq!(second.await, Ok(3));
    assert_eq!(svc.load(), Count::default());

    // A response future dropped unfinished stops counting.
    let third = svc.call(3);
    assert_eq!(format!("{:?}", svc.load()), count(1));
    drop(third);
    assert_eq!(svc.load(), Count::default());
}

#[tokio::test]
async fn pending_requests_with_a_handle_keeping_completion() {
    let mut svc = PendingRequests::new(AddOne, KeepHandle);
    assert_eq!(svc.load(), Count::default());

    let rsp = svc.call(1);
    assert_eq!(format!("{:?}", svc.load()), count(1));
    let one: Tracked<pending_requests::Handle, u32> = rsp.await.unwrap();
    assert_eq!(one.value, 2);
    assert_eq!(
        format!("{:?}", svc.load()),
        count(1),
        "the response holds the handle"
    );

    let two = svc.call(2).await.unwrap();
    assert_eq!(two.value, 3);
    assert_eq!(format!("{:?}", svc.load()), count(2));

    let _ = format!("{:?}", two.handle);
    drop(two);
    assert_eq!(format!("{:?}", svc.load()), count(1));
    drop(one);
    assert_eq!(svc.load(), Count::default());
}

#[tokio::test]
async fn pending_requests_over_a_mock() {
    let (mut svc, mut handle) =
        mock::spawn_with(|mock: Mock<Req, Req>| PendingRequests::new(mock, complete()));
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    handle.allow(2);
    assert_ready_ok!(svc.poll_ready());
    let mut ok = task::spawn(svc.call("ok"));
    assert_ready_ok!(svc.poll_ready());
    let mut failing = task::spawn(svc.call("fail"));
    assert_eq!(format!("{:?}", svc.get_ref().load()), count(2));

    assert_request_eq!(handle, "ok").send_response("fine");
    assert_request_eq!(handle, "fail").send_error(Oops("bad"));
    assert_eq!(assert_ready_ok!(ok.poll()), "fine");
    assert_eq!(format!("{:?}", svc.get_ref().load()), count(1));

    // An error is returned as it is; the handle goes with the future.
    let err = assert_ready_err!(failing.poll());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("bad")));
    assert_eq!(format!("{:?}", svc.get_ref().load()), count(1));
    drop(failing);
    assert_eq!(svc.get_ref().load(), Count::default());
}

#[test]
fn count_is_an_ordered_copy_value() {
    let zero = Count::default();
    let copy = zero;
    assert_eq!(zero, copy);
    assert_eq!(zero.cmp(&copy), std::cmp::Ordering::Equal);
    assert_eq!(format!("{zero:?}"), "Count(0)");
    let mut svc = PendingRequestsPath::new(AddOne, complete());
    let _rsp = svc.call(1);
    let one = svc.load();
    assert!(one > zero);
    assert_eq!(std::cmp::max(zero, one), one);
}

#[tokio::test]
async fn pending_requests_discover_wraps_each_service() {
    let list = ServiceList::new(vec![AddOne, AddOne]);
    let mut discover: PendingRequestsDiscover<ServiceList<Vec<AddOne>>> =
        PendingRequestsDiscover::new(list, complete());
    let first: Option<Result<Change<usize, PendingRequests<AddOne>>, Infallible>> =
        poll_fn(|cx| Pin::new(&mut discover).poll_next(cx)).await;
    let Some(Ok(Change::Insert(0, mut svc))) = first else {
        panic!("expected the first insert");
    };
    assert_eq!(svc.load(), Count::default());
    let rsp = svc.call(1);
    assert_eq!(format!("{:?}", svc.load()), count(1));
    assert_eq!(rsp.await, Ok(2));
    assert!(matches!(
        discover.next().await,
        Some(Ok(Change::Insert(1, _)))
    ));
    assert!(discover.next().await.is_none());

    // With a custom completion, and through the `pending_requests` path.
    let changes = stream::iter(vec![
        Ok::<_, Oops>(Change::Insert("a", AddOne)),
        Ok(Change::Remove("a")),
    ]);
    let mut discover: PendingRequestsDiscoverPath<_, KeepHandle> =
        PendingRequestsDiscoverPath::new(changes, KeepHandle);
    let Some(Ok(Change::Insert("a", mut svc))) = discover.next().await else {
        panic!("expected an insert");
    };
    let tracked = svc.call(1).await.unwrap();
    assert_eq!(tracked.value, 2);
    assert_eq!(format!("{:?}", svc.load()), count(1));
    assert!(matches!(
        discover.next().await,
        Some(Ok(Change::Remove("a")))
    ));

    // `new` is a `const fn`.
    const DISCOVER: PendingRequestsDiscover<NoChanges, KeepHandle> =
        PendingRequestsDiscover::new(NoChanges, KeepHandle);
    let mut discover = DISCOVER;
    assert!(discover.next().await.is_none());
}

/// A discover that never has anything.
#[derive(Debug)]
struct NoChanges;

impl Stream for NoChanges {
    type Item = Result<Change<u8, AddOne>, Infallible>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(None)
    }
}

// ---- PeakEwma ----------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn peak_ewma_default_rtt_decays() {
    let svc = PeakEwma::new(AddOne, Duration::from_millis(10), DECAY_NS, complete());
    assert_eq!(svc.load(), ms(10));

    tokio::time::advance(Duration::from_millis(100)).await;
    let load = svc.load();
    assert!(ms(9) < load && load < ms(10), "{load:?}");

    tokio::time::advance(Duration::from_millis(100)).await;
    let load = svc.load();
    assert!(ms(8) < load && load < ms(9), "{load:?}");
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_compound_decay() {
    let mut svc: PeakEwma<AddOne> =
        PeakEwma::new(AddOne, Duration::from_millis(20), DECAY_NS, complete());
    assert_eq!(svc.load(), ms(20));

    tokio::time::advance(Duration::from_millis(100)).await;
    let mut first = task::spawn(svc.call(1));
    assert!(svc.load() > ms(20));

    tokio::time::advance(Duration::from_millis(100)).await;
    let mut second = task::spawn(svc.call(2));
    assert!(svc.load() > ms(40));

    // The first response took 200 ms: that peak is taken at once, times the
    // two requests (one still pending).
    tokio::time::advance(Duration::from_millis(100)).await;
    assert_eq!(assert_ready_ok!(first.poll()), 2);
    assert_eq!(svc.load(), ms(400));

    tokio::time::advance(Duration::from_millis(100)).await;
    assert_eq!(assert_ready_ok!(second.poll()), 3);
    assert_eq!(svc.load(), ms(200));

    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(svc.load() < ms(100));

    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(svc.load() < cost_of(Duration::from_micros(100)));
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_converts_durations_to_saturating_nanoseconds() {
    let max = cost_of(Duration::MAX);
    let whole_seconds = cost_of(Duration::new(u64::MAX, 0));
    assert!(max > whole_seconds);
    // Saturated: far below `Duration::MAX.as_nanos()`, which is about 1.8e28.
    let mut twice = PeakEwma::new(AddOne, Duration::new(u64::MAX, 0), DECAY_NS, complete());
    let _pending = twice.call(1);
    assert!(max < twice.load());

    assert_eq!(
        cost_of(Duration::new(1, 23)),
        cost_of(Duration::from_nanos(1_000_000_023))
    );
    assert!(cost_of(Duration::new(0, 123)) < cost_of(Duration::new(0, 124)));
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_counts_pending_requests_and_cancelled_ones_record_a_sample() {
    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<Req, Req>| {
        PeakEwma::new(mock, Duration::from_millis(10), DECAY_NS, complete())
    });
    assert_ready_ok!(svc.poll_ready());
    let fut: TrackCompletionFuture<MockFuture, CompleteOnResponse, peak_ewma::Handle> =
        svc.call("slow");
    let _send = assert_request_eq!(handle, "slow");
    assert_eq!(svc.get_ref().load(), ms(20), "10 ms times (1 pending + 1)");

    // Dropped after 500 ms: the sample is recorded as a new peak.
    tokio::time::advance(Duration::from_millis(500)).await;
    drop(fut);
    assert_eq!(svc.get_ref().load(), ms(500));
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_with_a_handle_keeping_completion() {
    let mut svc = PeakEwmaPath::new(AddOne, Duration::from_millis(10), DECAY_NS, KeepHandle);
    let tracked: Tracked<peak_ewma::Handle, u32> = svc.call(1).await.unwrap();
    assert_eq!(tracked.value, 2);
    assert_eq!(svc.load(), ms(20), "the response still counts as pending");
    tokio::time::advance(Duration::from_millis(30)).await;
    drop(tracked);
    assert_eq!(svc.load(), ms(30));
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_discover_wraps_each_service() {
    let list = ServiceList::new(vec![AddOne]);
    let mut discover: PeakEwmaDiscover<ServiceList<Vec<AddOne>>> = PeakEwmaDiscover::new(
        list,
        Duration::from_millis(15),
        Duration::from_secs(1),
        complete(),
    );
    let first: Option<Result<Change<usize, PeakEwma<AddOne>>, Infallible>> = discover.next().await;
    let Some(Ok(Change::Insert(0, mut svc))) = first else {
        panic!("expected the first insert");
    };
    assert_eq!(svc.load(), ms(15));
    assert_eq!(svc.call(1).await, Ok(2));
    assert!(discover.next().await.is_none());

    // With a custom completion, through the `peak_ewma` path.
    let changes = stream::iter(vec![
        Ok::<_, Oops>(Change::Insert("a", AddOne)),
        Err(Oops("lost")),
    ]);
    let mut discover: PeakEwmaDiscoverPath<_, KeepHandle> = PeakEwmaDiscoverPath::new(
        changes,
        Duration::from_millis(5),
        Duration::from_millis(100),
        KeepHandle,
    );
    let Some(Ok(Change::Insert("a", mut svc))) = discover.next().await else {
        panic!("expected an insert");
    };
    assert_eq!(svc.load(), ms(5));
    let tracked = svc.call(1).await.unwrap();
    assert_eq!(svc.load(), ms(10));
    drop(tracked);
    assert!(matches!(discover.next().await, Some(Err(Oops("lost")))));
}

#[test]
fn cost_is_a_copy_partial_ord_value() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let _entered = rt.enter();
    let low = ms(1);
    let high = ms(2);
    let copy = low;
    assert_eq!(low, copy);
    assert!(low < high);
    assert_eq!(low.partial_cmp(&high), Some(std::cmp::Ordering::Less));
}

// ---- types -------------------------------------------------------------

#[test]
fn services_and_streams_are_named_in_full() {
    assert_service::<PeakEwma<Mock<Req, Req>, KeepHandle>, Req>();
    assert_service::<PendingRequests<Mock<Req, Req>, KeepHandle>, Req>();
    assert_service::<Constant<Mock<Req, Req>, f64>, Req>();
    fn stream_of<T: Stream<Item = I>, I>() {}
    stream_of::<
        PeakEwmaDiscover<ServiceList<Vec<AddOne>>, KeepHandle>,
        Result<Change<usize, PeakEwma<AddOne, KeepHandle>>, Infallible>,
    >();
    stream_of::<
        PendingRequestsDiscover<ServiceList<Vec<AddOne>>>,
        Result<Change<usize, PendingRequests<AddOne>>, Infallible>,
    >();
    fn future_of<F: Future<Output = O>, O>() {}
    future_of::<
        <PeakEwma<Mock<Req, Req>, KeepHandle> as Service<Req>>::Future,
        Result<Tracked<peak_ewma::Handle, Req>, tower::BoxError>,
    >();
    future_of::<
        <PendingRequests<Mock<Req, Req>> as Service<Req>>::Future,
        Result<Req, tower::BoxError>,
    >();
}

#[test]
fn auto_traits() {
    assert_debug::<Constant<AddOne, u8>>();
    assert_send::<Constant<AddOne, u8>>();
    assert_sync::<Constant<AddOne, u8>>();
    assert_debug::<PendingRequests<AddOne>>();
    assert_send::<PendingRequests<AddOne>>();
    assert_sync::<PendingRequests<AddOne>>();
    assert_debug::<PeakEwma<AddOne>>();
    assert_send::<PeakEwma<AddOne>>();
    assert_sync::<PeakEwma<AddOne>>();
    assert_debug::<PeakEwmaDiscover<ServiceList<Vec<AddOne>>>>();
    assert_send::<PeakEwmaDiscover<ServiceList<Vec<AddOne>>>>();
    assert_debug::<PendingRequestsDiscover<ServiceList<Vec<AddOne>>>>();
    assert_send::<PendingRequestsDiscover<ServiceList<Vec<AddOne>>>>();
    assert_debug::<peak_ewma::Handle>();
    assert_send::<peak_ewma::Handle>();
    assert_sync::<peak_ewma::Handle>();
    assert_debug::<pending_requests::Handle>();
    assert_send::<pending_requests::Handle>();
    assert_sync::<pending_requests::Handle>();
    assert_copy::<Cost>();
    assert_debug::<Cost>();
    assert_send::<Cost>();
    assert_copy::<Count>();
    assert_default::<Count>();
    assert_debug::<Count>();
    assert_copy::<CompleteOnResponse>();
    assert_clone::<CompleteOnResponse>();
    assert_default::<CompleteOnResponse>();
    assert_debug::<CompleteOnResponse>();
    assert_send::<CompleteOnResponse>();
    assert_sync::<CompleteOnResponse>();
    assert_debug::<TrackCompletionFuture<Instant<u32, Oops>, CompleteOnResponse, Count>>();
    assert_send::<TrackCompletionFuture<MockFuture, CompleteOnResponse, peak_ewma::Handle>>();
    assert_send::<TrackCompletionFuture<MockFuture, CompleteOnResponse, pending_requests::Handle>>(
    );
}

// ---- more of what users write ----------------------------------------------

#[test]
fn load_is_object_safe() {
    let loads: Vec<Box<dyn Load<Metric = u8>>> = vec![
        Box::new(Constant::new(AddOne, 3u8)),
        Box::new(ConcurrencyLimit::new(Constant::new(AddOne, 1u8), 1)),
    ];
    let lowest = loads.iter().map(|l| l.load()).min();
    assert_eq!(lowest, Some(1));
    let counted: &dyn Load<Metric = Count> = &PendingRequests::new(AddOne, complete());
    assert_eq!(counted.load(), Count::default());
}

#[tokio::test(start_paused = true)]
async fn discover_wrappers_with_the_request_type_spelled_out() {
    let list = ServiceList::new::<u32>(vec![AddOne]);
    let mut pending = PendingRequestsDiscover::new::<u32>(list, complete());
    assert!(matches!(
        pending.next().await,
        Some(Ok(Change::Insert(0, _)))
    ));
    let list = ServiceList::new::<u32>(vec![AddOne]);
    let mut ewma = PeakEwmaDiscover::new::<u32>(
        list,
        Duration::from_millis(1),
        Duration::from_secs(1),
        complete(),
    );
    let Some(Ok(Change::Insert(0, svc))) = ewma.next().await else {
        panic!("expected an insert");
    };
    assert_eq!(svc.load(), ms(1));
}

#[tokio::test(start_paused = true)]
async fn borrowed_services() {
    let mut inner = AddOne;
    {
        let mut svc: PendingRequests<&mut AddOne> = PendingRequests::new(&mut inner, complete());
        let fut = svc.call(1);
        assert_eq!(format!("{:?}", svc.load()), count(1));
        assert_eq!(fut.await, Ok(2));
    }
    let mut svc: PeakEwma<&mut AddOne> =
        PeakEwma::new(&mut inner, Duration::from_millis(3), DECAY_NS, complete());
    assert_eq!(svc.ready().await.unwrap().call(2).await, Ok(3));
    let limited = Constant::new(&mut inner, 1u8);
    assert_eq!(limited.oneshot(3).await, Ok(4));
}

mod globs {
    use std::time::Duration;

    use tower::load::completion::*;
    use tower::load::peak_ewma::*;
    use tower::load::*;

    use super::super::support::AddOne;

    #[tokio::test(start_paused = true)]
    async fn load_globs() {
        let svc: PeakEwma<AddOne, CompleteOnResponse> = PeakEwma::new(
            AddOne,
            Duration::from_millis(1),
            1e9,
            CompleteOnResponse::default(),
        );
        let cost: Cost = svc.load();
        assert!(
            cost > PeakEwma::new(
                AddOne,
                Duration::from_nanos(1),
                1e9,
                CompleteOnResponse::default()
            )
            .load()
        );
        let _: Option<Handle> = None;
        let _: Option<PeakEwmaDiscover<AddOne>> = None;
        let _: Option<TrackCompletionFuture<std::future::Ready<()>, CompleteOnResponse, Handle>> =
            None;
        let _: Option<Constant<AddOne, u8>> = None;
        let _: Option<PendingRequests<AddOne>> = None;
        let _: Option<PendingRequestsDiscover<AddOne>> = None;
        fn is_tracker<T: TrackCompletion<Handle, u32>>(_: &T) {}
        is_tracker(&CompleteOnResponse::default());
    }
}

#[tokio::test(start_paused = true)]
async fn reading_the_load_decays_the_shared_estimate() {
    // Two services with the same history, but the load of one is read just
    // before its response arrives: reading applies the decay so far, so the
    // response's sample is weighed against a fresher estimate.
    let mut read = PeakEwma::new(AddOne, Duration::from_millis(100), DECAY_NS, complete());
    let mut unread = PeakEwma::new(AddOne, Duration::from_millis(100), DECAY_NS, complete());
    tokio::time::advance(Duration::from_secs(1)).await;
    let a = task::spawn(read.call(1));
    let b = task::spawn(unread.call(1));
    let decayed = read.load();
    assert!(decayed < ms(2 * 40) && decayed > ms(2 * 35), "{decayed:?}");

    tokio::time::advance(Duration::from_millis(10)).await;
    let (mut a, mut b) = (a, b);
    assert_ready_ok!(a.poll());
    assert_ready_ok!(b.poll());
    // About 36.5 ms against about 42.8 ms.
    assert!(read.load() < ms(40), "{:?}", read.load());
    assert!(unread.load() > ms(40), "{:?}", unread.load());
}

/// Whatever a new endpoint starts from, finding it leaves the estimates of
/// the endpoints found before it alone: their next sample is weighed as if
/// nothing had happened.
#[tokio::test(start_paused = true)]
async fn a_new_endpoint_leaves_the_estimates_of_earlier_ones_alone() {
    let (tx, rx) =
        tokio::sync::mpsc::unbounded_channel::<Result<Change<u8, Mock<Req, Req>>, Oops>>();
    let mut discover = PeakEwmaDiscover::new(
        tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
        Duration::from_millis(100),
        Duration::from_secs(1),
        complete(),
    );
    let (a, mut ha) = mock::pair::<Req, Req>();
    tx.send(Ok(Change::Insert(1, a))).unwrap();
    let Some(Ok(Change::Insert(1, mut a))) = discover.next().await else {
        panic!("expected the first insert");
    };

    // A request to `a` goes out after a second; another endpoint is found
    // meanwhile; the answer takes 10 ms.
    tokio::time::advance(Duration::from_secs(1)).await;
    let mut fut = task::spawn(a.ready().await.unwrap().call("req"));
    let (b, _hb) = mock::pair::<Req, Req>();
    tx.send(Ok(Change::Insert(2, b))).unwrap();
    assert!(matches!(
        discover.next().await,
        Some(Ok(Change::Insert(2, _)))
    ));
    tokio::time::advance(Duration::from_millis(10)).await;
    assert_request_eq!(ha, "req").send_response("done");
    assert_eq!(assert_ready_ok!(fut.poll()), "done");

    // 100 ms decayed over 1.01 s, weighed against 10 ms: about 42.8 ms (it
    // would be about 36.5 ms had the estimate been decayed at the second
    // endpoint's arrival).
    let load = a.load();
    assert!(load > ms(40) && load < ms(45), "{load:?}");
}
