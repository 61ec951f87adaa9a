//! Slow start: the weight curve by hand, the `Warming` load it gives, which
//! endpoints warm up, and the share of a new endpoint in a p2c balancer
//! growing over the window.

use std::time::Duration;

use donjon::balance::slow_start::{AsF64, SlowStart, SlowStartDiscover, Warming};
use futures::StreamExt;
use tokio::time::advance;

use super::*;
use crate::support::ready_and_call;

const WINDOW: Duration = Duration::from_secs(8);

/// `WINDOW` times `n / 8`.
fn eighths(n: u32) -> Duration {
    WINDOW / 8 * n
}

/// Asserts two floats are equal to a millionth.
#[track_caller]
fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "{actual} is not {expected}"
    );
}

#[test]
fn the_weight_follows_the_curve_step_by_step() {
    // Linear: max(0.1, t / window).
    let linear = SlowStart::new(WINDOW);
    assert_eq!(linear.aggression(), 1.0);
    assert_eq!(linear.min_weight(), 0.1);
    assert!(!linear.warm_initial());
    assert_close(linear.weight_after(Duration::ZERO), 0.1);
    assert_close(
        linear.weight_after(eighths(0) + Duration::from_millis(500)),
        0.1,
    );
    assert_close(linear.weight_after(eighths(2)), 0.25);
    assert_close(linear.weight_after(eighths(4)), 0.5);
    assert_close(linear.weight_after(eighths(6)), 0.75);
    assert_close(linear.weight_after(WINDOW - Duration::from_nanos(1)), 1.0);
    assert!(linear.weight_after(WINDOW - Duration::from_nanos(1)) < 1.0);
    assert_eq!(linear.weight_after(WINDOW), 1.0);
    assert_eq!(linear.weight_after(WINDOW * 100), 1.0);

    // Aggression 2: max(0.1, sqrt(t / window)).
    let eager = linear.with_aggression(2.0);
    assert_close(eager.weight_after(Duration::ZERO), 0.1);
    // sqrt(1/64) = 0.125: just above the minimum.
    assert_close(eager.weight_after(Duration::from_millis(125)), 0.125);
    assert_close(eager.weight_after(eighths(2)), 0.5);
    assert_close(eager.weight_after(eighths(4)), 0.5_f64.sqrt());
    assert_eq!(eager.weight_after(WINDOW), 1.0);

    // Aggression 0.5: max(0.1, (t / window)²).
    let cautious = linear.with_aggression(0.5);
    assert_close(cautious.weight_after(eighths(2)), 0.1);
    assert_close(cautious.weight_after(eighths(4)), 0.25);
    assert_close(cautious.weight_after(eighths(6)), 0.5625);

    // A minimum weight of 0.3 holds until t / window passes it.
    let floor = linear.with_min_weight(0.3);
    assert_close(floor.weight_after(Duration::ZERO), 0.3);
    assert_close(floor.weight_after(eighths(2)), 0.3);
    assert_close(floor.weight_after(eighths(4)), 0.5);

    // And a minimum of zero starts from nothing.
    assert_eq!(
        linear.with_min_weight(0.0).weight_after(Duration::ZERO),
        0.0
    );
}

#[tokio::test(start_paused = true)]
async fn a_warming_load_is_the_inner_load_plus_one_over_the_weight() {
    let (mock, _handle) = mock::pair::<Req, Req>();
    let warming = Warming::new(Constant::new(mock, 3_u32), SlowStart::new(WINDOW));
    assert!(warming.is_warming());
    // (3 + 1) / 0.1
    assert_close(warming.load().get(), 40.0);

    advance(eighths(2)).await;
    assert_close(warming.weight(), 0.25);
    assert_close(warming.load().get(), 16.0);

    advance(eighths(2)).await;
    assert_close(warming.load().get(), 8.0);

    advance(eighths(3)).await;
    assert!(warming.is_warming());
    // 4 / (7 / 8)
    assert_close(warming.load().get(), 32.0 / 7.0);

    advance(eighths(1)).await;
    assert!(!warming.is_warming());
    assert_eq!(warming.weight(), 1.0);
    assert_eq!(warming.load().as_f64(), 4.0);

    let (mock, _handle) = mock::pair::<Req, Req>();
    let warm = Warming::warm(Constant::new(mock, 3_u32));
    assert!(!warm.is_warming());
    assert_eq!(warm.load().get(), 4.0);
}

#[tokio::test(start_paused = true)]
async fn after_the_window_loads_order_as_the_inner_ones() {
    let config = SlowStart::new(WINDOW);
    let new = |load: u32| {
        let (mock, _handle) = mock::pair::<Req, Req>();
        Warming::new(Constant::new(mock, load), config)
    };
    let old = |load: u32| {
        let (mock, _handle) = mock::pair::<Req, Req>();
        Warming::warm(Constant::new(mock, load))
    };
    let (new_idle, new_busy) = (new(0), new(5));
    let (old_idle, old_busy, old_busier) = (old(0), old(5), old(6));

    // Warming: the new idle endpoint looks busier than an old busy one.
    assert!(new_idle.load() > old_busy.load());
    assert!(new_busy.load() > old_busier.load());

    advance(WINDOW).await;
    // Warm: the same order as the inner loads, and equal loads for equal
    // inner loads.
    assert_eq!(new_idle.load(), old_idle.load());
    assert_eq!(new_busy.load(), old_busy.load());
    assert!(new_idle.load() < old_busy.load());
    assert!(new_busy.load() < old_busier.load());
    assert!(new_busy.load() > old_idle.load());
}

/// Polls the next change of `discover` without waiting.
fn next_change<D>(discover: &mut D) -> Poll<Option<D::Item>>
where
    D: futures::Stream + Unpin,
{
    let mut next = task::spawn(discover.next());
    next.poll()
}

/// A change polled from a slow start discovery.
type Polled<K, S, E> = Poll<Option<Result<Change<K, Warming<S>>, E>>>;

/// The key and weight of an insertion.
#[track_caller]
fn inserted<K, S, E>(change: Polled<K, S, E>) -> (K, f64)
where
    K: fmt::Debug,
    E: fmt::Debug,
{
    match change {
        Poll::Ready(Some(Ok(Change::Insert(key, service)))) => (key, service.weight()),
        Poll::Ready(Some(Ok(Change::Remove(key)))) => panic!("removed {key:?}"),
        Poll::Ready(Some(Err(error))) => panic!("failed: {error:?}"),
        Poll::Ready(None) => panic!("ended"),
        Poll::Pending => panic!("pending"),
    }
}

#[tokio::test(start_paused = true)]
async fn the_first_batch_is_warm_and_later_insertions_warm_up() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<u8, Mock>>();
    let mut discover =
        SlowStartDiscover::new(UnboundedReceiverStream::new(rx), SlowStart::new(WINDOW));
    assert!(!discover.config().warm_initial());
    for key in [1, 2] {
        tx.send(Ok(Change::Insert(key, mock::pair().0))).unwrap();
    }
    assert_eq!(inserted(next_change(&mut discover)), (1, 1.0));
    assert_eq!(inserted(next_change(&mut discover)), (2, 1.0));
    // The first batch ends when the discovery is pending.
    assert!(next_change(&mut discover).is_pending());

    tx.send(Ok(Change::Insert(3, mock::pair().0))).unwrap();
    assert_eq!(inserted(next_change(&mut discover)), (3, 0.1));
    // A replacement is a new endpoint: it warms up too.
    tx.send(Ok(Change::Insert(1, mock::pair().0))).unwrap();
    assert_eq!(inserted(next_change(&mut discover)), (1, 0.1));
    // Removals and errors pass through.
    tx.send(Ok(Change::Remove(2))).unwrap();
    assert!(matches!(
        next_change(&mut discover),
        Poll::Ready(Some(Ok(Change::Remove(2))))
    ));
    tx.send(Err("lost")).unwrap();
    assert!(matches!(
        next_change(&mut discover),
        Poll::Ready(Some(Err("lost")))
    ));
    drop(tx);
    assert!(matches!(next_change(&mut discover), Poll::Ready(None)));
}

#[tokio::test(start_paused = true)]
async fn an_empty_first_poll_leaves_no_endpoint_unwarmed() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<u8, Mock>>();
    let mut discover =
        SlowStartDiscover::new(UnboundedReceiverStream::new(rx), SlowStart::new(WINDOW));
    assert!(next_change(&mut discover).is_pending());
    tx.send(Ok(Change::Insert(1, mock::pair().0))).unwrap();
    assert_eq!(inserted(next_change(&mut discover)), (1, 0.1));
}

#[tokio::test(start_paused = true)]
async fn with_warm_initial_the_first_batch_warms_up_too() {
    let config = SlowStart::new(WINDOW).with_warm_initial(true);
    let endpoints = vec![mock::pair::<Req, Req>().0, mock::pair().0];
    let mut discover = SlowStartDiscover::new(ServiceList::new::<Req>(endpoints), config);
    assert_eq!(inserted(next_change(&mut discover)), (0, 0.1));
    advance(eighths(4)).await;
    assert_eq!(inserted(next_change(&mut discover)), (1, 0.1));
    assert!(matches!(next_change(&mut discover), Poll::Ready(None)));
}

#[tokio::test(start_paused = true)]
async fn a_warming_endpoint_passes_readiness_requests_and_errors_through() {
    let (mock, mut handle) = mock::pair::<Req, Req>();
    let mut service = mock::Spawn::new(Warming::new(mock, SlowStart::new(WINDOW)));
    assert_passes_through(&mut service, &mut handle).await;
}

/// An always ready endpoint whose load is the number of its responses still
/// held: each response carries a guard that counts until it is dropped.
#[derive(Debug)]
struct Held {
    name: &'static str,
    in_flight: Arc<()>,
}

impl Held {
    fn new(name: &'static str) -> Self {
        Held {
            name,
            in_flight: Arc::new(()),
        }
    }
}

impl Load for Held {
    type Metric = usize;

    fn load(&self) -> usize {
        Arc::strong_count(&self.in_flight) - 1
    }
}

impl Service<Req> for Held {
    type Response = (&'static str, Arc<()>);
    type Error = BoxError;
    type Future = std::future::Ready<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Req) -> Self::Future {
        std::future::ready(Ok((self.name, Arc::clone(&self.in_flight))))
    }
}

/// Sends `requests` requests through `balance`, holding every response (so
/// each counts in its endpoint's load) until all are sent; returns how many
/// went to the endpoint named `"new"`.
async fn to_new<S>(balance: &mut S, requests: usize) -> usize
where
    S: Service<Req, Response = (&'static str, Arc<()>), Error = BoxError>,
{
    let mut held = Vec::with_capacity(requests);
    let mut new = 0;
    for _ in 0..requests {
        let (name, guard) = ready_and_call(balance, "request").await.expect("served");
        if name == "new" {
            new += 1;
        }
        held.push(guard);
    }
    new
}

/// An old endpoint and a new one, equal but for slow start: their loads are
/// `(n + 1) / f` for `n` responses held, with `f = 1` for the old one. Each
/// request goes to the lower, so 40 requests (held until all are sent) go
/// to the 40 smallest of the merged sequences `1, 2, 3...` (old) and `1/f,
/// 2/f, 3/f...` (new); ties inside do not change the counts, and there is
/// none at the 40th. By hand, the new one gets:
///
/// | t (window 8 s) | f    | new's costs ≤ the 40th            | share |
/// |----------------|------|-----------------------------------|-------|
/// | 0 s            | 0.1  | 10, 20, 30 (the 40th is 37)       | 3     |
/// | 2 s            | 0.25 | 4, 8, ..., 32 (the 40th is 32)    | 8     |
/// | 4 s            | 0.5  | 2, 4, ..., 26 (the 40th is 27)    | 13    |
/// | 6 s            | 0.75 | 4/3, ..., 68/3 (the 40th is 23)   | 17    |
/// | 8 s, 10 s      | 1    | 1, ..., 20 (the 40th is 20)       | 20    |
///
/// that is `f / (1 + f)` of them, rounded: 7.5 %, 20 %, 32.5 %, 42.5 %, then
/// half. The same endpoints without slow start would split them evenly
/// from the start.
#[tokio::test(start_paused = true)]
async fn a_new_endpoint_s_share_grows_over_the_window_to_half() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<&'static str, Held>>();
    let discover = SlowStartDiscover::new(UnboundedReceiverStream::new(rx), SlowStart::new(WINDOW));
    let mut balance = Balance::from_rng(discover, seeded_rng());

    tx.send(Ok(Change::Insert("old", Held::new("old"))))
        .unwrap();
    assert_eq!(to_new(&mut balance, 1).await, 0, "the first batch: old");
    tx.send(Ok(Change::Insert("new", Held::new("new"))))
        .unwrap();

    let mut shares = Vec::new();
    for step in 0..6 {
        if step > 0 {
            advance(eighths(2)).await;
        }
        shares.push(to_new(&mut balance, 40).await);
    }
    assert_eq!(shares, [3, 8, 13, 17, 20, 20]);
}

#[tokio::test(start_paused = true)]
async fn without_slow_start_the_same_endpoints_split_evenly_at_once() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<&'static str, Held>>();
    let discover = UnboundedReceiverStream::new(rx);
    let mut balance = Balance::from_rng(discover, seeded_rng());
    tx.send(Ok(Change::Insert("old", Held::new("old"))))
        .unwrap();
    assert_eq!(to_new(&mut balance, 1).await, 0);
    tx.send(Ok(Change::Insert("new", Held::new("new"))))
        .unwrap();
    assert_eq!(to_new(&mut balance, 40).await, 20);
}

#[test]
#[should_panic(expected = "the slow start window must be longer than zero")]
fn a_zero_window_panics() {
    let _ = SlowStart::new(Duration::ZERO);
}

#[test]
#[should_panic(expected = "the slow start aggression must be finite and above zero")]
fn a_zero_aggression_panics() {
    let _ = SlowStart::new(WINDOW).with_aggression(0.0);
}

#[test]
#[should_panic(expected = "the slow start aggression must be finite and above zero")]
fn a_nan_aggression_panics() {
    let _ = SlowStart::new(WINDOW).with_aggression(f64::NAN);
}

#[test]
#[should_panic(expected = "the slow start minimum weight must be a fraction in [0, 1]")]
fn a_minimum_weight_above_one_panics() {
    let _ = SlowStart::new(WINDOW).with_min_weight(1.5);
}

#[test]
fn the_metrics_read_as_numbers() {
    assert_eq!(7_u8.as_f64(), 7.0);
    assert_eq!(7_u16.as_f64(), 7.0);
    assert_eq!(7_u32.as_f64(), 7.0);
    assert_eq!(7_u64.as_f64(), 7.0);
    assert_eq!(7_usize.as_f64(), 7.0);
    assert_eq!(0.5_f32.as_f64(), 0.5);
    assert_eq!(0.5_f64.as_f64(), 0.5);
}

#[tokio::test(start_paused = true)]
async fn the_loads_of_pending_requests_and_peak_ewma_are_warmed_too() {
    use donjon::load::{CompleteOnResponse, Load, PeakEwma, PendingRequests};

    let config = SlowStart::new(Duration::from_secs(8));
    let service = || donjon::service_fn(|()| async { Ok::<_, donjon::BoxError>(()) });
    // No request in flight: the inner count is 0, so the load is 1 / f(0)
    // = 1 / 0.1.
    let pending = Warming::new(
        PendingRequests::new(service(), CompleteOnResponse::default()),
        config,
    );
    assert_eq!(pending.load().get(), 10.0);
    // PeakEwma's cost, read through the same trait, warmed the same way.
    let ewma = PeakEwma::new(
        service(),
        Duration::from_millis(1),
        1e9,
        CompleteOnResponse::default(),
    );
    let inner = ewma.load().as_f64();
    let warming = Warming::new(ewma, config);
    assert_eq!(warming.load().get(), (inner + 1.0) / 0.1);
    advance(Duration::from_secs(8)).await;
    assert_eq!(pending.load().get(), 1.0, "warm after the window");
}
