//! `Timeout`, `RequestTimeout` and `TotalTimeout`.

use donjon::timeout::{RequestTimeoutLayer, TimeoutLayer, TotalTimeoutLayer};

use super::*;

#[tokio::test(start_paused = true)]
async fn timeout_keeps_the_contract() {
    Contract::new(TimeoutLayer::new(SECOND), hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn request_timeout_keeps_the_contract() {
    let layer = RequestTimeoutLayer::new(|_: &Req| Some(SECOND));
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
    let layer = RequestTimeoutLayer::with_default(SECOND, |_: &Req| None);
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn total_timeout_keeps_the_contract() {
    Contract::new(TotalTimeoutLayer::new(SECOND), hello)
        .check_cloneable::<Req, Res>()
        .await;
}
