//! `SpawnReady`.

use donjon::spawn_ready::SpawnReadyLayer;

use super::*;

#[tokio::test(start_paused = true)]
async fn spawn_ready_keeps_the_contract() {
    Contract::new(SpawnReadyLayer::new(), hello)
        .check::<Req, Res>()
        .await;
}
