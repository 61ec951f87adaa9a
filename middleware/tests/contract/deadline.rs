//! `Admit`, and a timeout reading deadlines.

use donjon::deadline::{AdmitLayer, Deadline, NoDeadline};

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

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_timeout_reading_deadlines_keeps_the_contract() {
    use donjon::timeout::TimeoutLayer;

    Contract::new(
        TimeoutLayer::new(SECOND).with_deadlines(|_: &Req| Some(Deadline::after(SECOND * 2))),
        hello,
    )
    .check_cloneable::<Req, Res>()
    .await;
}

#[cfg(feature = "http")]
#[tokio::test(start_paused = true)]
async fn the_header_layers_keep_the_contract() {
    use donjon::deadline::{DeadlineFromHeaderLayer, DeadlineToHeaderLayer};

    type HttpReq = http::Request<()>;
    let request = || {
        let mut request = http::Request::new(());
        request.extensions_mut().insert(Deadline::after(SECOND));
        request
    };
    Contract::new(DeadlineToHeaderLayer::new(), request)
        .check_cloneable::<HttpReq, Res>()
        .await;
    let with_header = || {
        http::Request::builder()
            .header("grpc-timeout", "1S")
            .body(())
            .expect("a valid request")
    };
    Contract::new(DeadlineFromHeaderLayer::new(), with_header)
        .check_cloneable::<HttpReq, Res>()
        .await;
}
