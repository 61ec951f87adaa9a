//! `donjon::throttle`: starting and stopping to refuse requests.

use std::time::Duration;

use donjon::throttle::ThrottleLayer;
use donjon::{BoxError, Layer, Service, ServiceExt, service_fn};
use tokio::time::advance;

use crate::{capture, lines_with};

#[tokio::test(start_paused = true)]
async fn refusing_and_stopping_to_refuse_are_reported_once_each() {
    let (captured, _guard) = capture();
    let backend = service_fn(|n: u32| async move {
        if n < 2 {
            Ok(n)
        } else {
            Err::<u32, BoxError>("refused".into())
        }
    });
    let mut client = ThrottleLayer::new()
        .window(Duration::from_secs(10), 2)
        .seed(3)
        .layer(backend);

    // 2 accepted, then refusals: (5 - 4) / 6 after the fifth request.
    for n in 0..8 {
        let _ = client.ready().await.unwrap().call(n).await;
    }
    assert_eq!(
        lines_with(&captured, "throttle:"),
        [
            " WARN throttle: the backend accepts too few requests, some are refused locally \
          requests=5 accepts=2 k=2.0 probability=0.16666666666666666"
        ]
    );

    advance(Duration::from_secs(10)).await;
    let _ = client.ready().await.unwrap().call(0).await;
    assert_eq!(
        lines_with(&captured, "throttle:")[1..],
        [
            " INFO throttle: the backend accepts enough requests, none are refused \
          requests=0 accepts=0 k=2.0"
        ]
    );
}
