//! The `load` wrappers: `Constant`, `PendingRequests` and `PeakEwma`.

use std::time::Duration;

use donjon::load::{CompleteOnResponse, Constant, PeakEwma, PendingRequests};

use super::*;

#[tokio::test(start_paused = true)]
async fn constant_keeps_the_contract() {
    let layer = layer_fn(|mock: Mock<Req, Res>| Constant::new(mock, 1_u32));
    Contract::new(layer, hello).check::<Req, Res>().await;
}

#[tokio::test(start_paused = true)]
async fn pending_requests_keeps_the_contract() {
    let layer =
        layer_fn(|mock: Mock<Req, Res>| PendingRequests::new(mock, CompleteOnResponse::default()));
    Contract::new(layer, hello).check::<Req, Res>().await;
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_keeps_the_contract() {
    let layer = layer_fn(|mock: Mock<Req, Res>| {
        PeakEwma::new(
            mock,
            Duration::from_millis(30),
            10e9,
            CompleteOnResponse::default(),
        )
    });
    Contract::new(layer, hello).check::<Req, Res>().await;
}
