//! `Hedge`, with and without armed hedges.

use donjon::hedge::{Hedge, Policy};

use super::*;

/// Hedges every request.
#[derive(Clone)]
struct HedgeAll;

impl Policy<Req> for HedgeAll {
    fn clone_request(&self, request: &Req) -> Option<Req> {
        Some(*request)
    }

    fn can_retry(&self, _: &Req) -> bool {
        true
    }
}

#[tokio::test(start_paused = true)]
async fn hedge_keeps_the_contract() {
    let layer = layer_fn(|mock: Mock<Req, Res>| Hedge::new(mock, HedgeAll, 10, 0.9, SECOND));
    Contract::new(layer, hello).check::<Req, Res>().await;
}

#[tokio::test(start_paused = true)]
async fn hedge_with_armed_hedges_keeps_the_contract() {
    // Enough known latencies that every request arms a hedge (which
    // would fire after 10 ms; the clock does not move).
    let layer = layer_fn(|mock: Mock<Req, Res>| {
        Hedge::new_with_mock_latencies(mock, HedgeAll, 1, 0.9, SECOND, &[10; 10])
    });
    Contract::new(layer, hello).check::<Req, Res>().await;
}
