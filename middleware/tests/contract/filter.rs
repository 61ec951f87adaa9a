//! `Filter` and `AsyncFilter`.

use donjon::filter::{AsyncFilterLayer, FilterLayer};

use super::*;

#[tokio::test(start_paused = true)]
async fn filter_keeps_the_contract() {
    let layer = FilterLayer::new(|request: Req| Ok::<_, BoxError>(request));
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn async_filter_keeps_the_contract() {
    let layer = AsyncFilterLayer::new(|request: Req| async move { Ok::<_, BoxError>(request) });
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}
