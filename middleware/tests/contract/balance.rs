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

#[tokio::test(start_paused = true)]
async fn an_outlier_detection_endpoint_keeps_the_contract() {
    use donjon::balance::outlier::OutlierDetection;

    // Every service the kit builds registers with one detector; an
    // endpoint out of service is `Pending`, never an error, and one in
    // service is its inner service's readiness.
    let layer = OutlierDetection::new().layer();
    Contract::new(layer.clone(), hello)
        .check::<Req, Res>()
        .await;
    assert_eq!(layer.detector().ejected_len(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_warming_endpoint_keeps_the_contract() {
    use donjon::balance::slow_start::{SlowStart, Warming};

    let config = SlowStart::new(std::time::Duration::from_secs(10));
    let layer = layer_fn(move |mock: Mock<Req, Res>| Warming::new(mock, config));
    Contract::new(layer, hello).check::<Req, Res>().await;
}

#[tokio::test(start_paused = true)]
async fn a_checked_endpoint_keeps_the_contract_while_healthy() {
    use donjon::balance::health::{Checked, HealthCheck};

    let config = HealthCheck::new(std::time::Duration::from_secs(1));
    let passes = |_: &&str| async { Ok::<_, &str>(()) };
    let layer = layer_fn(move |mock: Mock<Req, Res>| Checked::new(mock, "a", config, passes));
    Contract::new(layer, hello).check::<Req, Res>().await;
    let layer = layer_fn(Checked::unchecked);
    Contract::new(layer, hello).check::<Req, Res>().await;
}
