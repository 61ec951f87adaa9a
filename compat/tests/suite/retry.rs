//! `tower::retry`: `Retry` with hand-written policies, `RetryLayer`, the
//! builder method, `retry::backoff` and `retry::budget`.

use std::future::Ready;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Sleep;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::layer::util::{Identity, Stack};
use tower::retry::backoff::{
    Backoff, ExponentialBackoff, ExponentialBackoffMaker, InvalidBackoff, MakeBackoff,
};
use tower::retry::budget::{Budget, TpsBudget};
use tower::retry::future::ResponseFuture;
use tower::retry::{Policy, Retry, RetryLayer};
use tower::util::rng::{HasherRng, Rng};
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Mock, Spawn};

use super::support::{
    AddOne, Oops, assert_clone, assert_debug, assert_default, assert_send, assert_sync,
};

type Req = &'static str;
type Res = &'static str;

fn ready() -> Ready<()> {
    std::future::ready(())
}

/// Retries every error, forever.
#[derive(Clone, Copy, Debug)]
struct RetryErrors;

impl<R: Clone, T, E> Policy<R, T, E> for RetryErrors {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut R, result: &mut Result<T, E>) -> Option<Ready<()>> {
        result.is_err().then(ready)
    }

    fn clone_request(&mut self, req: &R) -> Option<R> {
        Some(req.clone())
    }
}

/// Retries errors, at most this many times per request.
#[derive(Clone, Copy, Debug)]
struct Limit(usize);

impl Policy<Req, Res, BoxError> for Limit {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        if result.is_err() && self.0 > 0 {
            self.0 -= 1;
            Some(ready())
        } else {
            None
        }
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(*req)
    }
}

/// Retries errors unless the error says this.
#[derive(Clone, Copy, Debug)]
struct UnlessError(&'static str);

impl Policy<Req, Res, BoxError> for UnlessError {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        match result {
            Err(e) if e.to_string() != self.0 => Some(ready()),
            _ => None,
        }
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(*req)
    }
}

/// Cannot copy requests, so never retries.
#[derive(Clone, Copy, Debug)]
struct CannotClone;

impl Policy<Req, Res, BoxError> for CannotClone {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, _: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        unreachable!("retry is never called for a request that could not be cloned")
    }

    fn clone_request(&mut self, _: &Req) -> Option<Req> {
        None
    }
}

/// Treats the response "busy" as a failure: retries it with the request
/// rewritten to "retrying", and when out of retries turns it into an error.
#[derive(Clone, Copy, Debug)]
struct Rewrite {
    remaining: usize,
}

impl Policy<Req, Res, BoxError> for Rewrite {
    type Future = Ready<()>;

    fn retry(&mut self, req: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        if !matches!(result, Ok("busy")) {
            return None;
        }
        if self.remaining == 0 {
            *result = Err("out of retries".into());
            return None;
        }
        self.remaining -= 1;
        *req = "retrying";
        Some(ready())
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(*req)
    }
}

fn retrying<P>(policy: P) -> (Spawn<Retry<P, Mock<Req, Res>>>, Handle<Req, Res>)
where
    P: Policy<Req, Res, BoxError> + Clone,
{
    mock::spawn_layer(RetryLayer::new(policy))
}

#[tokio::test]
async fn an_error_is_retried() {
    let (mut svc, mut handle) = retrying(RetryErrors);
    assert_ready_ok!(svc.poll_ready());
    let fut: ResponseFuture<RetryErrors, Mock<Req, Res>, Req> = svc.call("hello");
    let mut fut = task::spawn(fut);
    assert_request_eq!(handle, "hello").send_error("retry me");
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(fut.poll()), "world");
}

#[tokio::test]
async fn retries_stop_at_the_policys_limit() {
    let (mut svc, mut handle) = retrying(Limit(2));
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry 1");
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_error("retry 2");
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_error("retry 3");
    assert_eq!(assert_ready_err!(fut.poll()).to_string(), "retry 3");
    assert_pending!(handle.poll_request());

    // Each request starts with the full allowance: the future works on its
    // own copy of the policy.
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("again"));
    assert_request_eq!(handle, "again").send_error("retry 1");
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "again").send_error("retry 2");
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "again").send_response("finally");
    assert_eq!(assert_ready_ok!(fut.poll()), "finally");
}

#[tokio::test]
async fn the_policy_can_inspect_the_error() {
    let (mut svc, mut handle) = retrying(UnlessError("reject"));
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry 1");
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_error("reject");
    assert_eq!(assert_ready_err!(fut.poll()).to_string(), "reject");
}

#[tokio::test]
async fn a_request_that_cannot_be_cloned_is_not_retried() {
    let (mut svc, mut handle) = retrying(CannotClone);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry 1");
    assert_eq!(assert_ready_err!(fut.poll()).to_string(), "retry 1");
    assert_pending!(handle.poll_request());

    // It still succeeds at the first attempt.
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(fut.poll()), "world");
}

#[tokio::test]
async fn the_policy_can_rewrite_request_and_result() {
    let (mut svc, mut handle) = retrying(Rewrite { remaining: 2 });
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_request_eq!(handle, "hello").send_response("busy");
    assert_pending!(fut.poll());
    // Later attempts send the rewritten request.
    assert_request_eq!(handle, "retrying").send_response("busy");
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "retrying").send_response("busy");
    // A success that the policy turned into an error.
    let err = assert_ready_err!(fut.poll());
    assert_eq!(err.to_string(), "out of retries");
}

/// Retries errors and counts the copies it makes.
#[derive(Clone, Debug, Default)]
struct Counting(Arc<std::sync::atomic::AtomicUsize>);

impl Policy<Req, Res, BoxError> for Counting {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        result.is_err().then(ready)
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(*req)
    }
}

#[tokio::test]
async fn a_copy_of_the_request_is_made_for_every_attempt() {
    let policy = Counting::default();
    let copies = policy.0.clone();
    let count = || copies.load(std::sync::atomic::Ordering::SeqCst);
    let (mut svc, mut handle) = retrying(policy);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    // One copy when the request comes in...
    assert_eq!(count(), 1);
    assert_request_eq!(handle, "hello").send_error("first");
    assert_pending!(fut.poll());
    // ...and one more for each retry.
    assert_eq!(count(), 2);
    assert_request_eq!(handle, "hello").send_error("second");
    assert_pending!(fut.poll());
    assert_eq!(count(), 3);
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(fut.poll()), "world");
    assert_eq!(count(), 3);
}

#[tokio::test]
async fn retries_wait_for_the_inner_service_to_be_ready() {
    let (mut svc, mut handle) = retrying(RetryErrors);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    handle.allow(0);
    assert_request_eq!(handle, "hello").send_error("retry me");
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    handle.allow(1);
    assert!(fut.is_woken());
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(fut.poll()), "world");

    // A readiness error of a retry ends the request with that error.
    handle.allow(2);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry me");
    handle.send_error("gone");
    let err = assert_ready_err!(fut.poll());
    assert_eq!(err.to_string(), "gone");
}

#[tokio::test]
async fn errors_are_not_boxed_and_types_can_be_named() {
    const SVC: Retry<RetryErrors, AddOne> = Retry::new(RetryErrors, AddOne);
    let mut svc = SVC;
    let _: &AddOne = svc.get_ref();
    let _: &mut AddOne = svc.get_mut();
    let fut: ResponseFuture<RetryErrors, AddOne, u32> = svc.ready().await.unwrap().call(1);
    let rsp: Result<u32, Oops> = fut.await;
    assert_eq!(rsp, Ok(2));
    assert_eq!(svc.clone().into_inner(), AddOne);

    // A policy that gives up at once.
    let svc = Retry::new(Give::Up, AddOne);
    assert_eq!(svc.oneshot(u32::MAX).await, Err(Oops("overflow")));

    const LAYER: RetryLayer<RetryErrors> = RetryLayer::new(RetryErrors);
    let svc: Retry<RetryErrors, AddOne> = LAYER.layer(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let builder: ServiceBuilder<Stack<RetryLayer<RetryErrors>, Identity>> =
        ServiceBuilder::new().retry(RetryErrors);
    let svc: Retry<RetryErrors, AddOne> = builder.service(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));

    assert_clone::<Retry<RetryErrors, AddOne>>();
    assert_debug::<Retry<RetryErrors, AddOne>>();
    assert_send::<Retry<RetryErrors, AddOne>>();
    assert_sync::<Retry<RetryErrors, AddOne>>();
    assert_clone::<RetryLayer<RetryErrors>>();
    assert_debug::<RetryLayer<RetryErrors>>();
    assert_send::<ResponseFuture<RetryErrors, AddOne, u32>>();
    assert_debug::<ResponseFuture<RetryErrors, AddOne, u32>>();
}

#[derive(Clone, Copy, Debug)]
enum Give {
    Up,
}

impl Policy<u32, u32, Oops> for Give {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut u32, _: &mut Result<u32, Oops>) -> Option<Ready<()>> {
        None
    }

    fn clone_request(&mut self, req: &u32) -> Option<u32> {
        Some(*req)
    }
}

#[test]
fn policies_are_object_safe() {
    let mut policy: Box<dyn Policy<(), (), (), Future = Ready<()>>> = Box::new(RetryErrors);
    assert!(policy.clone_request(&()).is_some());
    assert!(policy.retry(&mut (), &mut Err(())).is_some());
    assert!(policy.retry(&mut (), &mut Ok(())).is_none());
}

// ---- backoff -----------------------------------------------------------

/// An rng whose `next_f64` is exactly one half.
#[derive(Clone, Copy, Debug)]
struct Half;

impl Rng for Half {
    fn next_u64(&mut self) -> u64 {
        1 << 63
    }
}

fn delay_of(sleep: &Sleep) -> Duration {
    sleep.deadline() - tokio::time::Instant::now()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_up_to_the_maximum() {
    let mut maker: ExponentialBackoffMaker<HasherRng> =
        ExponentialBackoffMaker::new(ms(100), ms(1000), 0.0, HasherRng::new()).unwrap();
    let mut backoff: ExponentialBackoff<HasherRng> = maker.make_backoff();
    let delays: Vec<Duration> = (0..6).map(|_| delay_of(&backoff.next_backoff())).collect();
    assert_eq!(
        delays,
        [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
    );
    // Every backoff made starts over.
    let mut again = maker.make_backoff();
    assert_eq!(delay_of(&again.next_backoff()), ms(100));
    // Clones carry on from where they were.
    let mut copy = backoff.clone();
    assert_eq!(delay_of(&copy.next_backoff()), ms(1000));
}

#[tokio::test(start_paused = true)]
async fn jitter_is_added_and_capped_at_the_maximum() {
    let mut maker = ExponentialBackoffMaker::new(ms(100), ms(500), 1.0, Half).unwrap();
    let mut backoff: ExponentialBackoff<Half> = maker.make_backoff();
    let delays: Vec<Duration> = (0..5).map(|_| delay_of(&backoff.next_backoff())).collect();
    assert_eq!(delays, [ms(150), ms(300), ms(500), ms(500), ms(500)]);

    // Jitter is a multiplier, up to 100.
    let mut maker = ExponentialBackoffMaker::new(ms(10), ms(10_000), 100.0, Half).unwrap();
    assert_eq!(delay_of(&maker.make_backoff().next_backoff()), ms(510));

    // With random jitter the delays stay within [min, max].
    let mut maker = ExponentialBackoffMaker::new(ms(10), ms(300), 0.99, HasherRng::new()).unwrap();
    let mut backoff = maker.make_backoff();
    let first = delay_of(&backoff.next_backoff());
    assert!(first >= ms(10) && first < ms(20), "{first:?}");
    for _ in 0..20 {
        let delay = delay_of(&backoff.next_backoff());
        assert!(delay >= ms(10) && delay <= ms(300), "{delay:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn no_jitter_without_room_for_it() {
    // A zero minimum keeps every delay at zero.
    let mut maker = ExponentialBackoffMaker::new(ms(0), ms(100), 1.0, Half).unwrap();
    let mut backoff = maker.make_backoff();
    for _ in 0..4 {
        assert_eq!(delay_of(&backoff.next_backoff()), ms(0));
    }
    // With the minimum at the maximum there is no room above it.
    let mut maker = ExponentialBackoffMaker::new(ms(100), ms(100), 1.0, Half).unwrap();
    let mut backoff = maker.make_backoff();
    for _ in 0..4 {
        assert_eq!(delay_of(&backoff.next_backoff()), ms(100));
    }
}

#[tokio::test(start_paused = true)]
async fn the_default_maker() {
    assert_default::<ExponentialBackoffMaker>();
    let mut maker: ExponentialBackoffMaker = ExponentialBackoffMaker::default();
    let mut backoff: ExponentialBackoff = maker.make_backoff();
    let first = delay_of(&backoff.next_backoff());
    assert!(first >= ms(50) && first < ms(100), "{first:?}");
}

#[test]
fn invalid_backoffs_are_rejected() {
    fn reason(min: u64, max: u64, jitter: f64) -> String {
        let err: InvalidBackoff =
            ExponentialBackoffMaker::new(ms(min), ms(max), jitter, HasherRng::new()).unwrap_err();
        err.to_string()
    }
    assert_eq!(
        reason(20, 10, 0.5),
        "invalid backoff: maximum must not be less than minimum"
    );
    assert_eq!(
        reason(0, 0, 0.5),
        "invalid backoff: maximum must be non-zero"
    );
    assert_eq!(
        reason(0, 10, -0.1),
        "invalid backoff: jitter must not be negative"
    );
    assert_eq!(
        reason(0, 10, 100.5),
        "invalid backoff: jitter must not be greater than 100"
    );
    assert_eq!(
        reason(0, 10, f64::NAN),
        "invalid backoff: jitter must not be NaN"
    );
    assert_eq!(
        reason(0, 10, f64::INFINITY),
        "invalid backoff: jitter must not be greater than 100"
    );
    assert_eq!(
        reason(0, 10, f64::NEG_INFINITY),
        "invalid backoff: jitter must not be negative"
    );
    // The first failing check wins.
    assert_eq!(
        reason(20, 10, f64::NAN),
        "invalid backoff: maximum must not be less than minimum"
    );
    assert!(ExponentialBackoffMaker::new(ms(0), ms(10), 100.0, HasherRng::new()).is_ok());
    assert!(ExponentialBackoffMaker::new(ms(10), ms(10), 0.0, Half).is_ok());

    assert_debug::<InvalidBackoff>();
    assert_send::<InvalidBackoff>();
    assert_sync::<InvalidBackoff>();
    let boxed: BoxError = ExponentialBackoffMaker::new(ms(1), ms(0), 0.0, Half)
        .unwrap_err()
        .into();
    assert!(boxed.is::<InvalidBackoff>());
}

/// A policy that waits between attempts, as its backoff says.
#[derive(Clone, Debug)]
struct Patient {
    backoff: ExponentialBackoff,
}

impl Policy<Req, Res, BoxError> for Patient {
    type Future = Sleep;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Sleep> {
        result.is_err().then(|| self.backoff.next_backoff())
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(*req)
    }
}

#[tokio::test(start_paused = true)]
async fn a_policy_can_back_off_between_attempts() {
    let mut maker = ExponentialBackoffMaker::new(ms(100), ms(1000), 0.0, HasherRng::new()).unwrap();
    let (mut svc, mut handle) = retrying(Patient {
        backoff: maker.make_backoff(),
    });
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_request_eq!(handle, "hello").send_error("first");
    assert_pending!(fut.poll());
    tokio::time::advance(ms(99)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    tokio::time::advance(ms(1)).await;
    assert!(fut.is_woken());
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_error("second");
    assert_pending!(fut.poll());
    tokio::time::advance(ms(199)).await;
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    tokio::time::advance(ms(1)).await;
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(fut.poll()), "world");
}

#[test]
fn backoff_traits_can_be_implemented() {
    #[derive(Debug)]
    struct Immediately;
    impl Backoff for Immediately {
        type Future = Ready<()>;
        fn next_backoff(&mut self) -> Ready<()> {
            ready()
        }
    }
    #[derive(Debug)]
    struct MakeImmediately;
    impl MakeBackoff for MakeImmediately {
        type Backoff = Immediately;
        fn make_backoff(&mut self) -> Immediately {
            Immediately
        }
    }
    fn first_backoff<M: MakeBackoff>(maker: &mut M) -> <M::Backoff as Backoff>::Future {
        maker.make_backoff().next_backoff()
    }
    let fut: Ready<()> = first_backoff(&mut MakeImmediately);
    drop(fut);

    assert_clone::<ExponentialBackoffMaker>();
    assert_debug::<ExponentialBackoffMaker>();
    assert_clone::<ExponentialBackoff>();
    assert_debug::<ExponentialBackoff>();
    assert_send::<ExponentialBackoff<HasherRng>>();
    assert_sync::<ExponentialBackoff<HasherRng>>();
}

// ---- budget ------------------------------------------------------------

#[test]
fn an_empty_budget_refuses() {
    let budget = TpsBudget::new(Duration::from_secs(1), 0, 1.0);
    assert!(!budget.withdraw());
}

#[test]
fn the_reserve_allows_a_fixed_number_of_withdrawals() {
    // 3 per second for 1 s, at 2 deposits per withdrawal: a reserve of 3.
    let budget = TpsBudget::new(Duration::from_secs(1), 3, 0.5);
    for _ in 0..3 {
        assert!(budget.withdraw());
    }
    assert!(!budget.withdraw());
    // Two deposits pay for one more.
    budget.deposit();
    assert!(!budget.withdraw());
    budget.deposit();
    assert!(budget.withdraw());
    assert!(!budget.withdraw());

    // At 0 % deposits earn nothing; only the reserve can be spent.
    let budget = TpsBudget::new(Duration::from_secs(2), 1, 0.0);
    for _ in 0..10 {
        budget.deposit();
    }
    assert!(budget.withdraw());
    assert!(budget.withdraw());
    assert!(!budget.withdraw());
}

#[tokio::test(start_paused = true)]
async fn deposits_expire_after_the_ttl() {
    let budget = TpsBudget::new(Duration::from_secs(2), 0, 1.0);
    budget.deposit();
    tokio::time::advance(Duration::from_secs(5)).await;
    assert!(!budget.withdraw());

    budget.deposit();
    tokio::time::advance(Duration::from_millis(1500)).await;
    assert!(budget.withdraw());
    assert!(!budget.withdraw());
}

#[tokio::test(start_paused = true)]
async fn deposits_combine_across_slots() {
    // 2 s window in 10 slots; one withdrawal costs two deposits.
    let budget = TpsBudget::new(Duration::from_secs(2), 0, 0.5);
    budget.deposit();
    tokio::time::advance(Duration::from_millis(1000)).await;
    budget.deposit();
    tokio::time::advance(Duration::from_millis(1100)).await;
    // The first deposit is gone; the second is still there, but alone.
    assert!(!budget.withdraw());
    budget.deposit();
    assert!(budget.withdraw());
    assert!(!budget.withdraw());
}

#[test]
#[should_panic]
fn a_budget_ttl_under_a_second_panics() {
    let _ = TpsBudget::new(Duration::from_millis(999), 1, 0.5);
}

#[test]
#[should_panic]
fn a_budget_ttl_over_a_minute_panics() {
    let _ = TpsBudget::new(Duration::from_secs(61), 1, 0.5);
}

#[test]
#[should_panic]
fn a_negative_retry_percent_panics() {
    let _ = TpsBudget::new(Duration::from_secs(1), 1, -0.5);
}

#[test]
#[should_panic]
fn a_retry_percent_over_1000_panics() {
    let _ = TpsBudget::new(Duration::from_secs(1), 1, 1000.5);
}

#[test]
fn retry_percent_over_one_allows_several_retries_per_deposit() {
    // 200 %: each deposit pays for two withdrawals.
    let budget = TpsBudget::new(Duration::from_secs(1), 0, 2.0);
    budget.deposit();
    assert!(budget.withdraw());
    assert!(budget.withdraw());
    assert!(!budget.withdraw());
}

#[test]
fn budget_traits_and_formatting() {
    assert_default::<TpsBudget>();
    assert_send::<TpsBudget>();
    assert_sync::<TpsBudget>();
    assert_debug::<TpsBudget>();
    // The default reserve is 10 per second for 10 s at 20 %.
    let budget = TpsBudget::default();
    let debug = format!("{budget:?}");
    assert!(debug.starts_with("Budget {"), "{debug}");
    for field in ["deposit", "withdraw", "balance"] {
        assert!(debug.contains(field), "{debug}");
    }
    let shared: Arc<dyn Budget + Send + Sync> = Arc::new(budget);
    assert!(shared.withdraw());
    shared.deposit();
    let _: &tower::retry::budget::tps_budget::TpsBudget = &TpsBudget::default();
}

/// A policy that spends a shared budget on its retries and refills it with
/// successes.
#[derive(Clone, Debug)]
struct Budgeted(Arc<TpsBudget>);

impl Policy<Req, Res, BoxError> for Budgeted {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        match result {
            Ok(_) => {
                self.0.deposit();
                None
            }
            Err(_) => self.0.withdraw().then(ready),
        }
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(*req)
    }
}

#[tokio::test]
async fn a_policy_can_spend_a_budget() {
    // A reserve of one retry.
    let budget = Arc::new(TpsBudget::new(Duration::from_secs(1), 1, 1.0));
    let (mut svc, mut handle) = retrying(Budgeted(budget.clone()));
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_request_eq!(handle, "hello").send_error("first");
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_error("second");
    assert_eq!(assert_ready_err!(fut.poll()).to_string(), "second");

    // A success earns another retry.
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("ok"));
    assert_request_eq!(handle, "ok").send_response("fine");
    assert_eq!(assert_ready_ok!(fut.poll()), "fine");
    assert!(budget.withdraw());
    assert!(!budget.withdraw());
}
