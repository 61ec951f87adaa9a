//! The public behaviour of `retry::backoff` (delays of `ExponentialBackoff`
//! made by `ExponentialBackoffMaker`, as tokio timers on the paused clock,
//! and `InvalidBackoff`), and a `Retry` whose policy waits out those
//! delays.

use std::error::Error;
use std::time::Duration;

use donjon::BoxError;
use donjon::retry::backoff::{
    Backoff, ExponentialBackoff, ExponentialBackoffMaker, InvalidBackoff, MakeBackoff,
};
use donjon::util::rng::{HasherRng, Rng};
use donjon_test::assert_request_eq;
use tokio::time::{Instant, advance};
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use crate::{RetryErrors, new_service};

/// A number of milliseconds.
const fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// An `Rng` whose `next_f64` is always exactly one half.
#[derive(Clone, Copy, Debug)]
struct Half;

impl Rng for Half {
    fn next_u64(&mut self) -> u64 {
        1 << 63
    }
}

/// A maker of backoffs from `min` to `max` milliseconds.
fn maker<R: Rng>(
    min: u64,
    max: u64,
    jitter: f64,
    rng: R,
) -> Result<ExponentialBackoffMaker<R>, InvalidBackoff> {
    ExponentialBackoffMaker::new(ms(min), ms(max), jitter, rng)
}

/// The delays of the next `count` backoffs, read from their timers'
/// deadlines (the paused clock does not move meanwhile).
fn delays<B: Backoff<Future = tokio::time::Sleep>>(backoff: &mut B, count: usize) -> Vec<Duration> {
    let now = Instant::now();
    (0..count)
        .map(|_| backoff.next_backoff().deadline() - now)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn without_jitter_the_delays_double_from_the_minimum_up_to_the_maximum() {
    let mut backoff = maker(100, 1_000, 0.0, HasherRng::default())
        .expect("valid backoff")
        .make_backoff();
    let expected = [100, 200, 400, 800, 1_000, 1_000].map(ms);
    assert_eq!(delays(&mut backoff, expected.len()), expected);
}

#[tokio::test(start_paused = true)]
async fn jittered_delays_stay_between_the_base_delay_and_the_maximum() {
    for jitter in [0.5, 1.0, 100.0] {
        let mut backoff = maker(100, 1_000, jitter, HasherRng::default())
            .expect("valid backoff")
            .make_backoff();
        for (n, delay) in delays(&mut backoff, 30).into_iter().enumerate() {
            let base = ms(100 << n.min(4)).min(ms(1_000));
            assert!(
                (base..=ms(1_000)).contains(&delay),
                "delay {n} is {delay:?}, outside [{base:?}, 1 s] with jitter {jitter}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn jitter_adds_the_random_share_of_the_base_delay_capped_at_the_maximum() {
    // With a random factor of 0.5 and a jitter of 1, each delay is 1.5 times
    // its base, but never more than the maximum.
    let mut backoff = maker(100, 1_000, 1.0, Half)
        .expect("valid backoff")
        .make_backoff();
    let expected = [150, 300, 600, 1_000, 1_000].map(ms);
    assert_eq!(delays(&mut backoff, expected.len()), expected);
}

#[tokio::test(start_paused = true)]
async fn each_backoff_made_starts_from_the_minimum() {
    let mut maker = maker(100, 1_000, 0.0, HasherRng::default()).expect("valid backoff");
    let mut first = maker.make_backoff();
    assert_eq!(delays(&mut first, 3), [100, 200, 400].map(ms));
    let mut second = maker.make_backoff();
    assert_eq!(delays(&mut second, 1), [ms(100)]);
    assert_eq!(delays(&mut first, 1), [ms(800)], "the first one goes on");
}

#[tokio::test(start_paused = true)]
async fn the_default_maker_starts_at_50_ms_with_up_to_99_percent_jitter() {
    let mut backoff: ExponentialBackoff = ExponentialBackoffMaker::default().make_backoff();
    let [first, second] = delays(&mut backoff, 2)[..] else {
        unreachable!("two delays were asked for");
    };
    assert!(
        (ms(50)..=Duration::from_micros(99_500)).contains(&first),
        "first delay {first:?}"
    );
    assert!(
        (ms(100)..=ms(199)).contains(&second),
        "second delay {second:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_backoff_delay_is_a_tokio_timer_driven_by_advance() {
    let mut backoff = maker(100, 1_000, 0.0, HasherRng::default())
        .expect("valid backoff")
        .make_backoff();
    let mut sleep = task::spawn(backoff.next_backoff());
    assert_pending!(sleep.poll());
    advance(ms(99)).await;
    assert!(!sleep.is_woken());
    assert_pending!(sleep.poll());
    advance(ms(1)).await;
    assert!(sleep.is_woken(), "the timer fired at 100 ms");
    assert_ready!(sleep.poll());
}

#[test]
fn invalid_configurations_are_rejected_with_a_readable_error() {
    let error = maker(2_000, 1_000, 0.0, HasherRng::default()).expect_err("min > max");
    assert_eq!(
        error.to_string(),
        "invalid backoff: maximum must not be less than minimum"
    );
    assert!(error.source().is_none());
    assert!(format!("{error:?}").starts_with("InvalidBackoff"));

    let boxed: BoxError = maker(1, 1_000, f64::NAN, HasherRng::default())
        .expect_err("NaN jitter")
        .into();
    assert_eq!(boxed.to_string(), "invalid backoff: jitter must not be NaN");
    assert!(boxed.is::<InvalidBackoff>());
}

#[tokio::test(start_paused = true)]
async fn a_retry_waits_for_each_backoff_delay() {
    let backoff = maker(100, 1_000, 0.0, HasherRng::default())
        .expect("valid backoff")
        .make_backoff();
    let (mut service, mut handle) = new_service(RetryErrors::with_backoff(2, backoff));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("first");
    assert_pending!(response.poll());
    advance(ms(99)).await;
    assert!(!response.is_woken());
    assert_pending!(response.poll());
    assert_pending!(handle.poll_request(), "no retry before 100 ms");

    advance(ms(1)).await;
    assert!(response.is_woken(), "the delay's timer wakes the response");
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_error("second");
    assert_pending!(response.poll());
    advance(ms(199)).await;
    assert_pending!(response.poll());
    assert_pending!(handle.poll_request(), "the second delay is 200 ms");

    advance(ms(1)).await;
    assert!(response.is_woken());
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_error("third");
    assert_eq!(
        assert_ready_err!(response.poll()).to_string(),
        "third",
        "out of retries: no more delay"
    );
}

#[tokio::test(start_paused = true)]
async fn each_request_backs_off_from_the_minimum() {
    let backoff = maker(100, 1_000, 0.0, HasherRng::default())
        .expect("valid backoff")
        .make_backoff();
    let (mut service, mut handle) = new_service(RetryErrors::with_backoff(5, backoff));

    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("first"));
    assert_request_eq!(handle, "first").send_error("first 1");
    assert_pending!(first.poll());
    advance(ms(100)).await;
    assert_pending!(first.poll());
    assert_request_eq!(handle, "first").send_error("first 2");
    assert_pending!(first.poll(), "the first request now waits 200 ms");

    // A request failing now waits 100 ms, not 400 ms: its backoff is its own.
    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    assert_request_eq!(handle, "second").send_error("second 1");
    assert_pending!(second.poll());
    advance(ms(100)).await;
    assert!(second.is_woken());
    assert!(!first.is_woken());
    assert_pending!(second.poll());
    assert_request_eq!(handle, "second").send_response("second done");
    assert_eq!(assert_ready_ok!(second.poll()), "second done");

    advance(ms(100)).await;
    assert!(first.is_woken());
    assert_pending!(first.poll());
    assert_request_eq!(handle, "first").send_response("first done");
    assert_eq!(assert_ready_ok!(first.poll()), "first done");
}
