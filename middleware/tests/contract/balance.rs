//! `Balance` over one endpoint, which drops a failed endpoint.

use donjon::balance::p2c::Balance;
use donjon::discover::ServiceList;
use donjon::load::Constant;
use donjon_test::contract::Rule;

use super::*;

#[tokio::test(start_paused = true)]
async fn balance_over_one_endpoint_keeps_the_contract_but_drops_a_failed_endpoint() {
    let layer = layer_fn(|mock: Mock<Req, Res>| {
        Balance::new(ServiceList::new::<Req>(vec![Constant::new(mock, 0_u32)]))
    });
    Contract::new(layer, hello)
        .skip(
            Rule::ErrorSurfaces,
            "documented: an endpoint whose poll_ready fails is dropped from the balancer \
             (logged), which then waits for another endpoint",
        )
        .check::<Req, Res>()
        .await;

    // The exception is needed, and is the only one.
    let report = Contract::new(layer, hello).report::<Req, Res>().await;
    assert_eq!(report.broken(), [Rule::ErrorSurfaces], "{report}");
}
