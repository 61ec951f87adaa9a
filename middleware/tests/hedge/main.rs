//! Integration tests of `donjon::hedge`: `Hedge`, its `Policy` and its
//! response `Future`, driven by mock inner services and tokio's paused
//! clock.
//!
//! Most tests use upstream's setup: the previous period is pre-filled with
//! the response times `[1, 1, 1, 1, 1, 1, 1, 1, 10, 10]` ms, ten of them are
//! enough to hedge, and the 0.9 quantile makes the hedge delay 10 ms. The
//! mock is `Clone` and its clones share the handle, so the hedge's copy of a
//! request reaches the same handle as the original.
#![cfg(feature = "hedge")]

#[path = "../support/mod.rs"]
mod support;

/// `donjon_test::assert_request_eq!`, bounded in (paused) time: with tokio's
/// clock auto-advancing while the test waits, a request that never comes
/// fails the test after [`HANG_GUARD`] instead of hanging it.
macro_rules! request_eq {
    ($handle:expr, $expected:expr) => {
        tokio::time::timeout(crate::HANG_GUARD, async {
            donjon_test::assert_request_eq!($handle, $expected)
        })
        .await
        .expect(concat!("expected the request ", stringify!($expected)))
    };
}

mod budget;
mod cancellation;
mod construction;
mod delay;
mod latencies;
mod policy;
mod race;
mod readiness;
mod upstream;

use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::Duration;

use donjon::hedge::{Hedge, Policy};
use donjon_test::mock::{self, Handle, Mock, SendResponse, Spawn};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_ok, task};

use support::Tally;

/// The request type of the tests.
type Req = &'static str;
/// The response type of most tests.
type Res = &'static str;

/// A `Hedge` around a mock answering with `U`, polled by its own mock task.
type Hedged<P, U = Res> = Spawn<Hedge<Mock<Req, U>, P>>;

/// Upstream's `min_data_points`.
const MIN_DATA_POINTS: u64 = 10;
/// Upstream's `latency_percentile`: a fraction.
const PERCENTILE: f32 = 0.9;
/// Upstream's rotation period of the latency histograms.
const PERIOD: Duration = Duration::from_secs(60);
/// Upstream's pre-filled response times, in milliseconds; their 0.9
/// quantile is [`DELAY`].
const MOCK_LATENCIES: [u64; 10] = [1, 1, 1, 1, 1, 1, 1, 1, 10, 10];
/// The hedge delay that follows from the settings above.
const DELAY: Duration = Duration::from_millis(10);
/// The resolution of tokio's timer.
const MS: Duration = Duration::from_millis(1);
/// A whole millisecond short of [`DELAY`].
const BEFORE_DELAY: Duration = DELAY.saturating_sub(MS);
/// A millisecond past [`DELAY`], clear of the timer's rounding.
const PAST_DELAY: Duration = DELAY.saturating_add(MS);

/// How long [`request_eq!`] waits for a request.
const HANG_GUARD: Duration = Duration::from_secs(1);

/// A request [`TestPolicy`] copies but refuses to hedge.
const NOT_RETRYABLE: Req = "NOT_RETRYABLE";
/// A request [`TestPolicy`] cannot copy.
const NOT_CLONABLE: Req = "NOT_CLONABLE";

/// Upstream's policy: hedges every request but [`NOT_RETRYABLE`] and
/// [`NOT_CLONABLE`].
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

/// A policy that copies every request as [`Watched::COPY`], agrees to
/// every hedge, and records what it was asked, across its clones.
#[derive(Clone, Debug, Default)]
struct Watched {
    clones: Tally,
    asked: Arc<Mutex<Vec<Req>>>,
}

impl Watched {
    /// What `clone_request` returns, so that a hedge is told apart from the
    /// original at the handle.
    const COPY: Req = "copy";

    /// How many times `clone_request` was called.
    fn clones(&self) -> usize {
        self.clones.get()
    }

    /// The requests `can_retry` was asked about, in order.
    fn asked(&self) -> Vec<Req> {
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Policy<Req> for Watched {
    fn clone_request(&self, _: &Req) -> Option<Req> {
        self.clones.bump();
        Some(Self::COPY)
    }

    fn can_retry(&self, req: &Req) -> bool {
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(req);
        true
    }
}

/// A response that tells when it is dropped: sent to a response future that
/// is gone, it is dropped at once by `SendResponse::send_response`, which
/// shows that the attempt was cancelled.
#[derive(Debug)]
struct Witness {
    name: &'static str,
    dropped: Tally,
}

impl Witness {
    fn new(name: &'static str) -> Self {
        Witness {
            name,
            dropped: Tally::new(),
        }
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        self.dropped.bump();
    }
}

/// Answers through `send` and tells whether the response future of that
/// attempt was already gone (the answer was dropped instead of delivered).
fn receiver_gone(send: SendResponse<Witness>) -> bool {
    let witness = Witness::new("late");
    let dropped = witness.dropped.clone();
    send.send_response(witness);
    dropped.get() == 1
}

/// A `Hedge` with upstream's setup around a fresh mock answering with `U`,
/// and the mock's handle.
fn upstream_setup<P, U>(policy: P) -> (Hedged<P, U>, Handle<Req, U>)
where
    P: Policy<Req> + Clone,
{
    with_latencies(policy, PERCENTILE, &MOCK_LATENCIES)
}

/// A `Hedge` around a fresh mock, with upstream's `min_data_points` and
/// period, the given percentile, and `latencies` as the previous period's
/// response times.
fn with_latencies<P, U>(
    policy: P,
    percentile: f32,
    latencies: &[u64],
) -> (Hedged<P, U>, Handle<Req, U>)
where
    P: Policy<Req> + Clone,
{
    mock::spawn_with(|mock| {
        Hedge::new_with_mock_latencies(
            mock,
            policy.clone(),
            MIN_DATA_POINTS,
            percentile,
            PERIOD,
            latencies,
        )
    })
}

/// A `Hedge` built with `Hedge::new` (no response time known yet) with
/// upstream's settings, around a fresh mock.
fn without_latencies<P>(policy: P) -> (Hedged<P>, Handle<Req, Res>)
where
    P: Policy<Req> + Clone,
{
    mock::spawn_with(|mock| Hedge::new(mock, policy.clone(), MIN_DATA_POINTS, PERCENTILE, PERIOD))
}

/// Takes the request the mock must already have received, checks it, and
/// returns its `SendResponse`. Unlike `assert_request_eq!`, it does not
/// wait, so a missing request fails the test instead of hanging it.
#[track_caller]
fn expect_request<U>(handle: &mut Handle<Req, U>, expected: Req) -> SendResponse<U> {
    match handle.poll_request() {
        Poll::Ready(Some((request, send))) => {
            assert_eq!(request, expected, "the mock received another request");
            send
        }
        Poll::Ready(None) => panic!("expected {expected:?}, but every mock clone is gone"),
        Poll::Pending => panic!("expected {expected:?}, but the mock received nothing"),
    }
}

/// Checks that the mock has received nothing more (while some clone of it
/// is still alive).
#[track_caller]
fn assert_no_request<U>(handle: &mut Handle<Req, U>, context: &str) {
    match handle.poll_request() {
        Poll::Pending => {}
        Poll::Ready(Some((request, _))) => panic!("{context}: unexpected request {request:?}"),
        Poll::Ready(None) => panic!("{context}: every mock clone is gone"),
    }
}

/// Sends `request`, lets it run past the hedge delay, then answers the
/// original; returns whether a hedge (a copy equal to `request`) was sent.
async fn slow_request<P>(
    service: &mut Hedged<P>,
    handle: &mut Handle<Req, Res>,
    request: Req,
) -> bool
where
    P: Policy<Req> + Clone,
{
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(request));
    let original = expect_request(handle, request);
    assert_pending!(response.poll());

    advance(PAST_DELAY).await;
    assert_pending!(response.poll(), "nobody answered yet");
    let hedge = match handle.poll_request() {
        Poll::Ready(Some((copy, send))) => {
            assert_eq!(copy, request, "the hedge is a copy of the request");
            Some(send)
        }
        Poll::Pending => None,
        Poll::Ready(None) => panic!("every mock clone is gone"),
    };

    original.send_response("original");
    assert_eq!(assert_ready_ok!(response.poll()), "original");
    hedge.is_some()
}

/// Sends `request` and answers it at once, before any hedge delay.
async fn fast_request<P>(service: &mut Hedged<P>, handle: &mut Handle<Req, Res>, request: Req)
where
    P: Policy<Req> + Clone,
{
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(request));
    expect_request(handle, request).send_response("fast");
    assert_eq!(assert_ready_ok!(response.poll()), "fast");
    // Keeps tokio's cooperative budget from running out in long loops.
    tokio::task::yield_now().await;
}

/// Sends a request and checks that its hedge is sent exactly `delay` after
/// the call (a whole number of milliseconds): not a millisecond earlier
/// (on tokio's paused clock, a timer fires exactly at its deadline). Then
/// answers the original.
async fn assert_hedge_delay<P>(
    service: &mut Hedged<P>,
    handle: &mut Handle<Req, Res>,
    delay: Duration,
) where
    P: Policy<Req> + Clone,
{
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("probe"));
    let original = expect_request(handle, "probe");
    assert_pending!(response.poll());

    advance(delay - MS).await;
    assert_pending!(response.poll());
    assert_no_request(handle, "no hedge before the delay");

    advance(MS).await;
    assert_pending!(response.poll());
    let hedge = expect_request(handle, "probe");

    original.send_response("original");
    assert_eq!(assert_ready_ok!(response.poll()), "original");
    drop(hedge);
}
