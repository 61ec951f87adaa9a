//! `Reconnect`, which replaces a failed connection.

use std::future::ready;

use donjon::reconnect::Reconnect;
use donjon::service_fn;
use donjon_test::contract::Rule;

use super::*;

const RECONNECTS: &str = "documented: a connection whose poll_ready fails is dropped and \
                          replaced by a new one; the error is only logged";

#[tokio::test(start_paused = true)]
async fn reconnect_keeps_the_contract_but_replaces_a_failed_connection() {
    // Each "connection" is a clone of the mock.
    let connecting = layer_fn(|mock: Mock<Req, Res>| {
        let connect = service_fn(move |()| ready(Ok::<_, BoxError>(mock.clone())));
        Reconnect::new(connect, ())
    });
    Contract::new(connecting, hello)
        .skip(Rule::ErrorSurfaces, RECONNECTS)
        .check::<Req, Res>()
        .await;

    let connected = layer_fn(|mock: Mock<Req, Res>| {
        let spare = mock.clone();
        let connect = service_fn(move |()| ready(Ok::<_, BoxError>(spare.clone())));
        Reconnect::with_connection(mock, connect, ())
    });
    Contract::new(connected, hello)
        .skip(Rule::ErrorSurfaces, RECONNECTS)
        .check::<Req, Res>()
        .await;

    // The exception is needed, and is the only one.
    for report in [
        Contract::new(connecting, hello).report::<Req, Res>().await,
        Contract::new(connected, hello).report::<Req, Res>().await,
    ] {
        assert_eq!(report.broken(), [Rule::ErrorSurfaces], "{report}");
    }
}
