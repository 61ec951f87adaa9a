//! `PriorityShed`.

use donjon::priority::{Priority, PriorityShedLayer};

use super::*;

#[tokio::test(start_paused = true)]
async fn priority_shed_keeps_the_contract() {
    // A bound the checks never fill.
    Contract::new(
        PriorityShedLayer::new(100, |_: &Req| Priority::Critical),
        hello,
    )
    .check_cloneable::<Req, Res>()
    .await;
}
