//! The bound across processes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use donjon::{BoxError, ServiceExt, service_fn};
use donjon_redis::GlobalConcurrencyLimit;
use donjon_test::redis::RedisServer;
use futures::future::join_all;

use crate::support::{eventually, in_processes};
use crate::{held, semaphore};

#[derive(Default)]
struct Gauge {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    done: AtomicUsize,
}

#[test]
fn requests_in_flight_never_exceed_max_across_processes() {
    let server = RedisServer::start();
    let url = server.url();
    let gauge = Arc::new(Gauge::default());
    let max = 5;
    in_processes(3, |_, start| {
        let (url, gauge) = (url.clone(), Arc::clone(&gauge));
        async move {
            let semaphore = semaphore(&url, "fleet", max, Duration::from_secs(3)).await;
            let service = GlobalConcurrencyLimit::new(
                service_fn(move |()| {
                    let gauge = Arc::clone(&gauge);
                    async move {
                        let now = gauge.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        gauge.peak.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        gauge.in_flight.fetch_sub(1, Ordering::SeqCst);
                        gauge.done.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, BoxError>(())
                    }
                }),
                semaphore,
            );
            start.wait();
            let requests = (0..10).map(|_| service.clone().oneshot(()));
            for result in join_all(requests).await {
                result.expect("every request completes");
            }
            // Let the tasks giving the last leases back run before this
            // runtime ends: a process that exits at once leaves them to
            // expire.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let peak = gauge.peak.load(Ordering::SeqCst);
    assert!(
        peak <= max,
        "{peak} requests in flight at once, for a limit of {max}"
    );
    assert!(peak >= 2, "the requests never overlapped: peak {peak}");
    assert_eq!(gauge.done.load(Ordering::SeqCst), 30);
    // Every lease is given back.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let semaphore = semaphore(&url, "fleet", max, Duration::from_secs(3)).await;
        assert!(
            eventually(Duration::from_secs(1), || async {
                held(&semaphore).await == 0
            })
            .await
        );
    });
}
