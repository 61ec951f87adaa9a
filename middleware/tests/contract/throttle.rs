//! `Throttle`.

use donjon::throttle::ThrottleLayer;

use super::*;

#[tokio::test(start_paused = true)]
async fn throttle_keeps_the_contract() {
    // The checks' failed calls count as refusals by the backend; with this
    // seed none of the calls that follow is drawn for refusal (a refused
    // call is ready at once without polling the inner service, which the
    // Pending checks would report, as documented).
    Contract::new(ThrottleLayer::new().seed(1), hello)
        .check_cloneable::<Req, Res>()
        .await;
}
