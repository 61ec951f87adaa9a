//! `Fallback`.

use donjon::fallback::{Failure, FallbackLayer};

use super::*;

#[tokio::test(start_paused = true)]
async fn fallback_keeps_the_contract() {
    let backup = donjon::service_fn(|_: Failure<Req, Res>| async { Ok::<Res, BoxError>("backup") });
    Contract::new(FallbackLayer::new(backup), hello)
        .check_cloneable::<Req, Res>()
        .await;
}
