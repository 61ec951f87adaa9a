//! The cap on extra load: each request earns a share of a hedge (by default
//! `1 - latency_percentile`), each hedge spends one, and up to 10 hedges are
//! saved up, all available from the start.

use donjon::hedge::Hedge;
use donjon_test::mock;

use crate::{
    Hedged, MIN_DATA_POINTS, MOCK_LATENCIES, NOT_CLONABLE, NOT_RETRYABLE, PERCENTILE, PERIOD, Req,
    Res, TestPolicy, fast_request, slow_request, upstream_setup,
};

/// The hedges that can be saved up, all available from the start.
const BURST: usize = 10;

/// Upstream's setup, with the extra load capped at `share`.
fn capped(share: f32) -> (Hedged<TestPolicy>, mock::Handle<Req, Res>) {
    mock::spawn_with(|mock| {
        Hedge::new_with_mock_latencies(
            mock,
            TestPolicy,
            MIN_DATA_POINTS,
            PERCENTILE,
            PERIOD,
            &MOCK_LATENCIES,
        )
        .max_extra_load(share)
    })
}

/// Sends `count` slow requests one after the other; returns, for each,
/// whether it was hedged.
async fn slow_requests(
    service: &mut Hedged<TestPolicy>,
    handle: &mut mock::Handle<Req, Res>,
    count: usize,
) -> Vec<bool> {
    let mut hedged = Vec::with_capacity(count);
    for _ in 0..count {
        hedged.push(slow_request(service, handle, "orig").await);
    }
    hedged
}

/// How many of `hedged` are `true`.
fn hedges(hedged: &[bool]) -> usize {
    hedged.iter().filter(|&&h| h).count()
}

#[tokio::test(start_paused = true)]
async fn hedges_are_capped_at_the_burst_plus_a_tenth_of_the_requests() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);
    let requests = 100;
    let hedged = slow_requests(&mut service, &mut handle, requests).await;

    assert!(
        hedged[..BURST].iter().all(|&h| h),
        "the saved-up hedges are available from the start: {hedged:?}"
    );
    // 10% of 100 requests, on top of the burst.
    let cap = BURST + requests / 10;
    assert!(
        hedges(&hedged) <= cap,
        "{} hedges for {requests} requests, more than {cap}",
        hedges(&hedged)
    );
    // The cap is a rate, not an end to hedging: the 90 requests after the
    // burst earn about 9 hedges.
    let later = hedges(&hedged[BURST..]);
    assert!(
        (8..=10).contains(&later),
        "{later} hedges for the 90 requests after the burst"
    );
}

#[tokio::test(start_paused = true)]
async fn max_extra_load_sets_the_share() {
    let (mut service, mut handle) = capped(0.5);
    let requests = 40;
    let hedged = slow_requests(&mut service, &mut handle, requests).await;

    let cap = BURST + requests / 2;
    let total = hedges(&hedged);
    assert!(total <= cap, "{total} hedges for {requests} requests");
    // With the default share (0.1) these 40 requests would get about 13.
    assert!(
        total >= cap - 5,
        "{total} hedges for {requests} requests at a 0.5 share"
    );
}

#[tokio::test(start_paused = true)]
async fn max_extra_load_zero_never_hedges() {
    let (mut service, mut handle) = capped(0.0);
    let hedged = slow_requests(&mut service, &mut handle, 20).await;
    assert_eq!(hedges(&hedged), 0, "{hedged:?}");
}

#[tokio::test(start_paused = true)]
async fn declined_hedges_spend_nothing() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);
    for _ in 0..BURST {
        assert!(!slow_request(&mut service, &mut handle, NOT_RETRYABLE).await);
    }

    // Had they spent the burst, only about one hedge would be left.
    let hedged = slow_requests(&mut service, &mut handle, BURST).await;
    assert_eq!(hedges(&hedged), BURST, "{hedged:?}");
}

#[tokio::test(start_paused = true)]
async fn requests_that_cannot_be_copied_spend_nothing() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);
    for _ in 0..BURST {
        assert!(!slow_request(&mut service, &mut handle, NOT_CLONABLE).await);
    }

    let hedged = slow_requests(&mut service, &mut handle, BURST).await;
    assert_eq!(hedges(&hedged), BURST, "{hedged:?}");
}

#[tokio::test(start_paused = true)]
async fn requests_answered_before_the_delay_spend_nothing() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);
    for _ in 0..BURST * 2 {
        fast_request(&mut service, &mut handle, "fast").await;
    }

    let hedged = slow_requests(&mut service, &mut handle, BURST).await;
    assert_eq!(hedges(&hedged), BURST, "{hedged:?}");
}
