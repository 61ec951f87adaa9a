//! The `deadline-chain` example over real HTTP on loopback, on the paused
//! clock: the runtime moves time to the next timer whenever every task
//! waits, so the times measured are exact.

use std::sync::Arc;
use std::time::Duration;

use donjon_examples::deadline_chain::{self, HOP_B_TIMEOUT, Work, hop_a, hop_b, serve};
use http::StatusCode;
use tokio::time::Instant;

/// Hop a's own share of the work.
const OWN_WORK: Duration = Duration::from_millis(100);

/// Starts both hops; returns hop a's URL and what hop b's handler saw.
async fn chain() -> (String, Arc<Work>) {
    let work = Arc::new(Work::default());
    let b = serve(hop_b(Arc::clone(&work))).await;
    let a = serve(hop_a(b, OWN_WORK)).await;
    (a, work)
}

/// Asks hop a, with `grpc_timeout` if given: the status, the body, and
/// how long the answer took.
async fn ask(a: &str, grpc_timeout: Option<&str>) -> (StatusCode, String, Duration) {
    let sent = Instant::now();
    let (status, body) = deadline_chain::ask(a, grpc_timeout).await;
    (status, body, sent.elapsed())
}

#[tokio::test(start_paused = true)]
async fn the_second_hop_gives_up_at_the_callers_deadline() {
    let (a, work) = chain().await;
    // 300 ms: hop a spends 100, hop b gets the 200 left.
    let (status, body, took) = ask(&a, Some("300m")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        body,
        "hop b: out of time (its caller's deadline or its own timeout)\n"
    );
    assert_eq!(
        took,
        Duration::from_millis(300),
        "the caller's deadline, not hop b's minute"
    );
    assert_eq!(
        (work.started(), work.abandoned()),
        (1, 1),
        "hop b's work was dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn without_the_callers_deadline_the_second_hop_waits_for_its_own_timeout() {
    let (a, work) = chain().await;
    let (status, _, took) = ask(&a, None).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(took, OWN_WORK + HOP_B_TIMEOUT);
    assert_eq!((work.started(), work.abandoned()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_request_whose_time_is_up_reaches_no_handler_of_the_second_hop() {
    let (a, work) = chain().await;
    // 50 ms: gone by the time hop a has done its 100.
    let (status, body, took) = ask(&a, Some("50m")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        body,
        "hop b: deadline exceeded: the request's deadline had passed, refused before any work\n"
    );
    assert_eq!(took, OWN_WORK);
    assert_eq!(work.started(), 0, "refused before any work");
}

#[tokio::test(start_paused = true)]
async fn a_malformed_header_is_a_bad_request() {
    let (a, work) = chain().await;
    let (status, body, _) = ask(&a, Some("soon")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with("invalid grpc-timeout \"soon\""), "{body}");
    assert_eq!(work.started(), 0);
}
