//! `Steer` over one service.

use donjon::steer::Steer;

use super::*;

#[tokio::test(start_paused = true)]
async fn steer_over_one_service_keeps_the_contract() {
    let layer =
        layer_fn(|mock: Mock<Req, Res>| Steer::new([mock], |_: &Req, _: &[Mock<Req, Res>]| 0));
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}
