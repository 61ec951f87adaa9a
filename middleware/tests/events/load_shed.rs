//! `donjon::load_shed`: a request shed after its wait.

use std::time::Duration;

use donjon::limit::ConcurrencyLimitLayer;
use donjon::load_shed::LoadShedLayer;
use donjon::{BoxError, Layer, ServiceExt, service_fn};

use crate::{capture, lines_with};

#[tokio::test(start_paused = true)]
async fn a_request_shed_after_its_wait_reports_the_wait() {
    let (captured, _guard) = capture();
    let slow = service_fn(|ms: u64| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok::<_, BoxError>(ms)
    });
    let bulkhead = LoadShedLayer::with_max_wait(Duration::from_millis(100))
        .layer(ConcurrencyLimitLayer::new(1).layer(slow));

    let long = tokio::spawn(bulkhead.clone().oneshot(1_000));
    tokio::task::yield_now().await;
    assert!(bulkhead.clone().oneshot(10).await.is_err(), "shed");
    assert_eq!(long.await.unwrap().unwrap(), 1_000);

    assert_eq!(
        lines_with(&captured, "load shed"),
        ["DEBUG load shed: the inner service was not ready in time max_wait=100ms"]
    );
}
