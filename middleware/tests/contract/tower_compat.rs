//! Layers passed through tower and back, and tower layers seen as donjon ones.

use donjon::timeout::TimeoutLayer;
use donjon::tower_compat::{DonjonLayer, TowerLayer};

use super::*;

#[tokio::test(start_paused = true)]
async fn a_layer_through_tower_and_back_keeps_the_contract() {
    let layer = DonjonLayer::new(TowerLayer::new(TimeoutLayer::new(SECOND)));
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn a_tower_layer_seen_as_donjon_keeps_the_contract() {
    let layer = DonjonLayer::new(tower::limit::ConcurrencyLimitLayer::new(1));
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}
