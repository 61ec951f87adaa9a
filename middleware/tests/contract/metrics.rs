//! `Metrics`.

use donjon::metrics::MetricsLayer;

use super::*;

#[tokio::test(start_paused = true)]
async fn metrics_keeps_the_contract() {
    Contract::new(MetricsLayer::new("contract"), hello)
        .check_cloneable::<Req, Res>()
        .await;
}
