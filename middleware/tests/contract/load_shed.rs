//! `LoadShed`, always ready or with a bounded wait.

use donjon::load_shed::LoadShedLayer;
use donjon_test::contract::Rule;

use super::*;

#[tokio::test(start_paused = true)]
async fn load_shed_keeps_the_contract_but_is_always_ready() {
    Contract::new(LoadShedLayer::new(), hello)
        .skip(
            Rule::PendingPropagates,
            "documented: always ready; a call made while the inner service is not ready \
             fails with Overloaded instead of waiting",
        )
        .check_cloneable::<Req, Res>()
        .await;

    // The exception is needed, and is the only one.
    let report = Contract::new(LoadShedLayer::new(), hello)
        .report_cloneable::<Req, Res>()
        .await;
    assert_eq!(report.broken(), [Rule::PendingPropagates], "{report}");
}

#[tokio::test(start_paused = true)]
async fn load_shed_with_a_bounded_wait_keeps_the_contract() {
    // The clock is paused: the wait never ends, so `Pending` propagates.
    Contract::new(LoadShedLayer::with_max_wait(SECOND), hello)
        .check_cloneable::<Req, Res>()
        .await;
}
