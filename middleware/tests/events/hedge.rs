//! `donjon::hedge`: the hedge sent, in the caller's span.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use donjon::hedge::Hedge;
use donjon::{BoxError, Service, ServiceExt};
use tracing::Instrument;

use crate::support::HedgeEvery;
use crate::{capture, lines_with};

/// The first call never answers; the others emit `inner called` and answer
/// at once.
#[derive(Clone, Debug, Default)]
struct SlowFirst(Arc<AtomicUsize>);

impl Service<u32> for SlowFirst {
    type Response = u32;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<u32, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: u32) -> Self::Future {
        if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
            Box::pin(std::future::pending())
        } else {
            tracing::info!("inner called");
            Box::pin(std::future::ready(Ok(request)))
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_hedge_sent_emits_its_threshold_and_budget_in_the_callers_span() {
    let (captured, _guard) = capture();
    let latencies: Vec<u64> = (1..=10).map(|ms| ms * 10).collect();
    let hedge = Hedge::new_with_mock_latencies(
        SlowFirst::default(),
        HedgeEvery,
        10,
        0.9,
        Duration::from_secs(60),
        &latencies,
    );

    let answer = hedge
        .oneshot(7)
        .instrument(tracing::info_span!("caller", id = 7))
        .await
        .expect("the hedge answers");
    assert_eq!(answer, 7);

    let sent = lines_with(&captured, "sending a copy");
    assert_eq!(
        sent,
        [
            "DEBUG caller{id=7}: hedge: the request outlived the latency threshold; \
          sending a copy delay=90ms percentile=0.9 budget_left=9.0"
        ],
    );
    let inner = lines_with(&captured, "inner called");
    assert_eq!(
        inner,
        [" INFO caller{id=7}: inner called"],
        "the hop keeps the span"
    );
}
