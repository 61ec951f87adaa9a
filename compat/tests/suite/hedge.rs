//! `tower::hedge`: `Hedge` with a user `Policy`, its response future (named
//! through the `Service` impl only, since its first parameter is private),
//! the latency percentile, data-point threshold and histogram period, all on
//! tokio's paused clock.

use std::future::Future;
use std::time::Duration;

use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::hedge::{self, Hedge, Policy};
use tower::{BoxError, Service, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Mock, Spawn};

use super::support::{AddOne, Oops, assert_debug, assert_send, assert_service, assert_sync};

type Req = &'static str;
type Res = &'static str;
type HedgeFuture = <Hedge<Mock<Req, Res>, TestPolicy> as Service<Req>>::Future;

const NOT_RETRYABLE: Req = "not retryable";
const NOT_CLONABLE: Req = "not clonable";
const LATENCIES: [u64; 10] = [1, 1, 1, 1, 1, 1, 1, 1, 10, 10];
const PERIOD: Duration = Duration::from_secs(60);

/// Clones every request but `NOT_CLONABLE`; hedges every one but
/// `NOT_RETRYABLE`.
#[derive(Clone, Copy, Debug)]
struct TestPolicy;

impl Policy<Req> for TestPolicy {
    fn clone_request(&self, req: &Req) -> Option<Req> {
        (*req != NOT_CLONABLE).then_some(*req)
    }

    fn can_retry(&self, req: &Req) -> bool {
        *req != NOT_RETRYABLE
    }
}

/// A hedge over a mock, as upstream's tests build it: 10 recorded
/// latencies, 10 data points needed, the 90th percentile (10 ms), and a 60 s
/// period.
fn hedged<P>(policy: P, percentile: f32) -> (Spawn<Hedge<Mock<Req, Res>, P>>, Handle<Req, Res>)
where
    P: Policy<Req> + Clone,
{
    let (svc, handle) = mock::pair();
    let svc = Hedge::new_with_mock_latencies(svc, policy, 10, percentile, PERIOD, &LATENCIES);
    (Spawn::new(svc), handle)
}

fn standard() -> (Spawn<Hedge<Mock<Req, Res>, TestPolicy>>, Handle<Req, Res>) {
    hedged(TestPolicy, 0.9)
}

// ---- upstream's cases ------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn the_original_completes_first() {
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let fut: HedgeFuture = svc.call("orig");
    let mut fut = task::spawn(fut);

    let orig = assert_request_eq!(handle, "orig");
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request(), "no hedge before the delay");

    advance(Duration::from_millis(11)).await;
    assert_pending!(fut.poll());
    let _hedge = assert_request_eq!(handle, "orig");

    orig.send_response("orig-done");
    assert_eq!(assert_ready_ok!(fut.poll()), "orig-done");
}

#[tokio::test(start_paused = true)]
async fn the_hedge_completes_first() {
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("orig"));

    let _orig = assert_request_eq!(handle, "orig");
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());

    advance(Duration::from_millis(11)).await;
    assert_pending!(fut.poll());
    let hedge = assert_request_eq!(handle, "orig");
    hedge.send_response("hedge-done");
    assert_eq!(assert_ready_ok!(fut.poll()), "hedge-done");
}

#[tokio::test(start_paused = true)]
async fn a_response_before_the_delay_prevents_the_hedge() {
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("orig"));

    let orig = assert_request_eq!(handle, "orig");
    assert_pending!(fut.poll());
    orig.send_response("orig-done");
    assert_pending!(handle.poll_request());
    assert_eq!(assert_ready_ok!(fut.poll()), "orig-done");

    advance(Duration::from_millis(50)).await;
    assert_pending!(handle.poll_request(), "still no hedge");
}

#[tokio::test(start_paused = true)]
async fn a_request_that_may_not_be_retried_is_not_hedged() {
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(NOT_RETRYABLE));

    let orig = assert_request_eq!(handle, NOT_RETRYABLE);
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());

    advance(Duration::from_millis(10)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    advance(Duration::from_millis(100)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());

    orig.send_response("orig-done");
    assert_eq!(assert_ready_ok!(fut.poll()), "orig-done");
}

#[tokio::test(start_paused = true)]
async fn a_request_that_cannot_be_cloned_is_not_hedged() {
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(NOT_CLONABLE));

    let orig = assert_request_eq!(handle, NOT_CLONABLE);
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());

    advance(Duration::from_millis(10)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    advance(Duration::from_millis(100)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());

    orig.send_response("orig-done");
    assert_eq!(assert_ready_ok!(fut.poll()), "orig-done");
}

// ---- the delay -------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn the_delay_is_the_latency_at_the_percentile() {
    // The 90th percentile of the recorded latencies is 10 ms.
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    let _orig = assert_request_eq!(handle, "req");
    advance(Duration::from_millis(9)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request(), "not yet at 9 ms");
    advance(Duration::from_millis(2)).await;
    assert_pending!(fut.poll());
    let _hedge = assert_request_eq!(handle, "req");

    // The median is 1 ms: the percentile is a fraction, not a percentage.
    let (mut svc, mut handle) = hedged(TestPolicy, 0.5);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    let _orig = assert_request_eq!(handle, "req");
    advance(Duration::from_millis(2)).await;
    assert_pending!(fut.poll());
    let hedge = assert_request_eq!(handle, "req");
    hedge.send_response("hedge");
    assert_eq!(assert_ready_ok!(fut.poll()), "hedge");
}

#[tokio::test(start_paused = true)]
async fn too_few_data_points_means_no_hedge() {
    // Eleven points are needed; ten are recorded.
    let (svc, mut handle) = mock::pair::<Req, Res>();
    let svc = Hedge::new_with_mock_latencies(svc, TestPolicy, 11, 0.9, PERIOD, &LATENCIES);
    let mut svc = Spawn::new(svc);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    let orig = assert_request_eq!(handle, "req");
    advance(Duration::from_millis(100)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    orig.send_response("orig");
    assert_eq!(assert_ready_ok!(fut.poll()), "orig");

    // With no recorded latencies at all.
    let (svc, mut handle) = mock::pair::<Req, Res>();
    let mut svc: Spawn<Hedge<Mock<Req, Res>, TestPolicy>> =
        Spawn::new(Hedge::new(svc, TestPolicy, 1, 0.9, PERIOD));
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    let orig = assert_request_eq!(handle, "req");
    advance(Duration::from_secs(5)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    orig.send_response("orig");
    assert_eq!(assert_ready_ok!(fut.poll()), "orig");
}

#[tokio::test(start_paused = true)]
async fn latencies_are_learned_one_period_later() {
    let period = Duration::from_secs(1);
    let (svc, mut handle) = mock::pair::<Req, Res>();
    let mut svc = Spawn::new(Hedge::new(svc, TestPolicy, 1, 0.9, period));

    // A request that takes 20 ms is recorded...
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("first"));
    let orig = assert_request_eq!(handle, "first");
    advance(Duration::from_millis(20)).await;
    orig.send_response("done");
    assert_eq!(assert_ready_ok!(fut.poll()), "done");

    // ...but not used within the period it was recorded in.
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("second"));
    let orig = assert_request_eq!(handle, "second");
    advance(Duration::from_millis(100)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    drop(orig);
    drop(fut);

    // Once the period is over it is: the hedge goes after 20 ms.
    advance(Duration::from_millis(1000)).await;
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("third"));
    let orig = assert_request_eq!(handle, "third");
    advance(Duration::from_millis(19)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    advance(Duration::from_millis(2)).await;
    assert_pending!(fut.poll());
    let hedge = assert_request_eq!(handle, "third");
    orig.send_response("orig");
    assert_eq!(assert_ready_ok!(fut.poll()), "orig");
    drop(hedge);

    // Two periods with nothing new recorded forget everything.
    advance(Duration::from_secs(3)).await;
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("fourth"));
    let orig = assert_request_eq!(handle, "fourth");
    advance(Duration::from_millis(100)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    orig.send_response("orig");
    assert_eq!(assert_ready_ok!(fut.poll()), "orig");
}

// ---- errors and readiness ------------------------------------------------

#[tokio::test(start_paused = true)]
async fn the_first_answer_wins_even_an_error() {
    // The original fails after the hedge went out: that error is final.
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    let orig = assert_request_eq!(handle, "req");
    advance(Duration::from_millis(11)).await;
    assert_pending!(fut.poll());
    let _hedge = assert_request_eq!(handle, "req");
    orig.send_error(Oops("original failed"));
    let err: BoxError = assert_ready_err!(fut.poll());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("original failed")));

    // The hedge fails first: that error is final too.
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    let _orig = assert_request_eq!(handle, "req");
    advance(Duration::from_millis(11)).await;
    assert_pending!(fut.poll());
    let hedge = assert_request_eq!(handle, "req");
    hedge.send_error(Oops("hedge failed"));
    let err = assert_ready_err!(fut.poll());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("hedge failed")));

    // Before any hedge.
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    assert_request_eq!(handle, "req").send_error(Oops("early"));
    let err = assert_ready_err!(fut.poll());
    assert_eq!(err.to_string(), "oops: early");
    assert_pending!(handle.poll_request());
}

#[tokio::test(start_paused = true)]
async fn readiness_follows_the_inner_service() {
    let (mut svc, mut handle) = standard();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    handle.allow(1);
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());

    let (mut svc, mut handle) = standard();
    handle.send_error(Oops("not ready"));
    let err: BoxError = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("not ready")));
}

// ---- types and generic use -------------------------------------------------

/// A user's generic constructor: the bounds `Hedge::new` asks for.
fn hedge_with<S, P, R>(service: S, policy: P) -> Hedge<S, P>
where
    S: Service<R> + Clone,
    S::Error: Into<BoxError>,
    P: Policy<R> + Clone,
{
    Hedge::new::<R>(service, policy, 10, 0.95, Duration::from_secs(10))
}

/// The future's type is `hedge::Future<_, R>`: generic code can take it.
fn output_of<S, R>(fut: hedge::Future<S, R>) -> hedge::Future<S, R>
where
    S: Service<R>,
    S::Error: Into<BoxError>,
{
    fut
}

/// A policy generic over its request type.
#[derive(Clone, Debug)]
struct Always;

impl<R: Clone> Policy<R> for Always {
    fn clone_request(&self, req: &R) -> Option<R> {
        Some(req.clone())
    }

    fn can_retry(&self, _: &R) -> bool {
        true
    }
}

#[tokio::test(start_paused = true)]
async fn hedge_in_generic_code_and_spawned_tasks() {
    let mut svc: Hedge<AddOne, Always> = hedge_with(AddOne, Always);
    let fut = output_of(svc.ready().await.unwrap().call(1));
    let rsp: Result<u32, BoxError> = fut.await;
    assert_eq!(rsp.unwrap(), 2);
    let err = svc.ready().await.unwrap().call(u32::MAX).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));
    assert_eq!(svc.oneshot(41).await.unwrap(), 42);

    // Response futures are `Send + 'static`: they can be spawned.
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let join = tokio::spawn(svc.call("spawned"));
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req, "spawned");
    send.send_response("ok");
    assert_eq!(join.await.unwrap().unwrap(), "ok");
}

#[test]
fn auto_traits() {
    assert_service::<Hedge<Mock<Req, Res>, TestPolicy>, Req>();
    assert_service::<Hedge<AddOne, Always>, u32>();
    assert_debug::<Hedge<Mock<Req, Res>, TestPolicy>>();
    assert_send::<Hedge<Mock<Req, Res>, TestPolicy>>();
    assert_sync::<Hedge<Mock<Req, Res>, TestPolicy>>();
    assert_send::<HedgeFuture>();
    assert_debug::<HedgeFuture>();
    fn output<F: Future<Output = Result<Res, BoxError>>>() {}
    output::<HedgeFuture>();
    fn is_policy<P: Policy<Req> + Clone>() {}
    is_policy::<TestPolicy>();
    is_policy::<Always>();
}

// ---- more of what users write ----------------------------------------------

#[tokio::test(start_paused = true)]
async fn long_latencies_keep_three_significant_digits() {
    // 2500 ms is recorded in a bucket two milliseconds wide: the delay is
    // its highest value.
    let (svc, mut handle) = mock::pair::<Req, Res>();
    let svc = Hedge::new_with_mock_latencies::<Req>(svc, TestPolicy, 10, 0.9, PERIOD, &[2500; 10]);
    let mut svc = Spawn::new(svc);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("slow"));
    let _orig = assert_request_eq!(handle, "slow");
    advance(Duration::from_millis(2500)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    advance(Duration::from_millis(2)).await;
    assert_pending!(fut.poll());
    let hedge = assert_request_eq!(handle, "slow");
    hedge.send_response("hedge");
    assert_eq!(assert_ready_ok!(fut.poll()), "hedge");
}

#[tokio::test(start_paused = true)]
async fn a_hedge_behind_a_buffer() {
    let (svc, mut handle) = mock::pair::<Req, Res>();
    let hedge = Hedge::new_with_mock_latencies(svc, TestPolicy, 10, 0.9, PERIOD, &LATENCIES);
    let svc: tower::buffer::Buffer<Req, HedgeFuture> = tower::buffer::Buffer::new(hedge, 4);
    let call = tokio::spawn(svc.clone().oneshot("buffered"));
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req, "buffered");
    send.send_response("ok");
    assert_eq!(call.await.unwrap().unwrap(), "ok");
}

#[test]
fn policies_are_object_safe() {
    let policy: &dyn Policy<Req> = &TestPolicy;
    assert_eq!(policy.clone_request(&"a"), Some("a"));
    assert_eq!(policy.clone_request(&NOT_CLONABLE), None);
    assert!(!policy.can_retry(&NOT_RETRYABLE));
    let boxed: Box<dyn Policy<u32>> = Box::new(Always);
    assert!(boxed.can_retry(&1));
}

mod globs {
    use std::time::Duration;

    use tower::hedge::*;
    use tower::{Service, ServiceExt};

    use super::super::support::AddOne;
    use super::Always;

    #[tokio::test(start_paused = true)]
    async fn hedge_glob() {
        let svc: Hedge<AddOne, Always> = Hedge::new(AddOne, Always, 1, 0.5, Duration::from_secs(1));
        fn is_policy<P: Policy<u32>>(_: &P) {}
        is_policy(&Always);
        fn takes<S: Service<u32>>(fut: Future<S, u32>) -> Future<S, u32> {
            fut
        }
        let mut svc = svc;
        let fut = takes(svc.ready().await.unwrap().call(1));
        assert_eq!(fut.await.unwrap(), 2);
    }
}

/// Counts what the hedge asks its policy; `can_retry` answers what the test
/// says at the time.
#[derive(Clone, Debug, Default)]
struct Watched {
    clones: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    allow: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Policy<Req> for Watched {
    fn clone_request(&self, req: &Req) -> Option<Req> {
        self.clones
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(*req)
    }

    fn can_retry(&self, _: &Req) -> bool {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.allow.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test(start_paused = true)]
async fn can_retry_is_asked_when_the_delay_is_over() {
    use std::sync::atomic::Ordering::SeqCst;

    let policy = Watched::default();
    let (mut svc, mut handle) = hedged(policy.clone(), 0.9);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    let _orig = assert_request_eq!(handle, "req");
    assert_eq!(
        policy.clones.load(SeqCst),
        1,
        "clone_request: when the request arrives"
    );
    assert_eq!(policy.asked.load(SeqCst), 0, "can_retry: not yet");

    // Not allowed at call time, allowed by the time the delay is over.
    policy.allow.store(true, SeqCst);
    advance(Duration::from_millis(11)).await;
    assert_pending!(fut.poll());
    assert_eq!(policy.asked.load(SeqCst), 1);
    let hedge = assert_request_eq!(handle, "req");
    hedge.send_response("hedge");
    assert_eq!(assert_ready_ok!(fut.poll()), "hedge");

    // Allowed at call time, refused when the delay is over.
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("again"));
    let orig = assert_request_eq!(handle, "again");
    policy.allow.store(false, SeqCst);
    advance(Duration::from_millis(11)).await;
    assert_pending!(fut.poll());
    assert_eq!(policy.asked.load(SeqCst), 2);
    assert_pending!(handle.poll_request());
    orig.send_response("orig");
    assert_eq!(assert_ready_ok!(fut.poll()), "orig");
}

#[tokio::test(start_paused = true)]
async fn the_hedge_waits_for_its_service_to_be_ready() {
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    let orig = assert_request_eq!(handle, "req");
    handle.allow(0);
    advance(Duration::from_millis(11)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request(), "the hedge's service is not ready");

    handle.allow(1);
    assert!(fut.is_woken());
    assert_pending!(fut.poll());
    let hedge = assert_request_eq!(handle, "req");
    orig.send_response("orig");
    assert_eq!(assert_ready_ok!(fut.poll()), "orig");
    drop(hedge);
}

#[tokio::test(start_paused = true)]
async fn a_hedge_whose_service_fails_to_get_ready_fails_the_response() {
    let (mut svc, mut handle) = standard();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("req"));
    let _orig = assert_request_eq!(handle, "req");
    handle.send_error(Oops("hedge not ready"));
    advance(Duration::from_millis(11)).await;
    let err = assert_ready_err!(fut.poll());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("hedge not ready")));
}

/// A service that is neither `Send` nor `Sync`.
#[derive(Clone, Debug, Default)]
struct Local(std::rc::Rc<std::cell::Cell<u32>>);

impl Service<u32> for Local {
    type Response = u32;
    type Error = Oops;
    type Future = super::support::Instant<u32, Oops>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Oops>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: u32) -> Self::Future {
        self.0.set(self.0.get() + 1);
        std::future::ready(Ok(req + 1))
    }
}

#[tokio::test(start_paused = true)]
async fn a_hedge_over_a_local_service() {
    let local = Local::default();
    let svc = Hedge::new(local.clone(), Always, 1, 0.9, PERIOD);
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);
    assert_eq!(local.0.get(), 1);
}
