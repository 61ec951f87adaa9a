//! `Admit`, and a timeout reading deadlines.

use donjon::deadline::{AdmitLayer, Deadline, NoDeadline};
use donjon::timeout::TimeoutLayer;

use super::*;

#[tokio::test(start_paused = true)]
async fn admit_keeps_the_contract() {
    Contract::new(AdmitLayer::new(NoDeadline), hello)
        .check_cloneable::<Req, Res>()
        .await;
    // Every request with a second left: all admitted.
    Contract::new(
        AdmitLayer::new(|_: &Req| Some(Deadline::after(SECOND))),
        hello,
    )
    .check_cloneable::<Req, Res>()
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_timeout_reading_deadlines_keeps_the_contract() {
    Contract::new(
        TimeoutLayer::new(SECOND).with_deadlines(|_: &Req| Some(Deadline::after(SECOND * 2))),
        hello,
    )
    .check_cloneable::<Req, Res>()
    .await;
}
