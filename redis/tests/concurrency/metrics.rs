//! The fleet limit's metrics (feature `metrics`), read back from a
//! recorder of the test's own, against a real `redis-server`.

use std::future::pending;
use std::time::Duration;

use donjon::{BoxError, Service, ServiceExt, service_fn};
use donjon_redis::{GlobalConcurrencyLimit, OnFailure, RedisSemaphore};
use donjon_test::metrics::Recorded;
use donjon_test::redis::RedisServer;
use tokio_test::task;

use crate::support;

const LEASE: Duration = Duration::from_millis(600);

async fn build(
    url: &str,
    key: &str,
    name: Option<&str>,
    on_failure: OnFailure,
    recorded: &Recorded,
) -> RedisSemaphore {
    let builder = RedisSemaphore::builder(support::connect(url).await, key, 2)
        .with_lease(LEASE)
        .with_call_timeout(LEASE / 3)
        .with_retry_interval(Duration::from_millis(20))
        .with_on_failure(on_failure);
    let builder = match name {
        Some(name) => builder.with_name(name),
        None => builder,
    };
    recorded.with(|| builder.build().expect("valid settings"))
}

fn hold() -> impl Service<u32, Response = u32, Error = BoxError, Future: Send> + Clone {
    service_fn(|_: u32| pending::<Result<u32, BoxError>>())
}

#[tokio::test]
async fn leases_held_and_tries_refused_are_recorded_under_the_name() {
    let server = RedisServer::start();
    let recorded = Recorded::default();
    let semaphore = build(
        &server.url(),
        "exports",
        Some("exporter"),
        OnFailure::FailClosed,
        &recorded,
    )
    .await;
    let name = [("name", "exporter")];
    let leases = || recorded.gauge("donjon_fleet_limit_leases", &name);
    let refusals = || recorded.counter("donjon_fleet_limit_refusals_total", &name);
    assert_eq!(leases(), 0.0);
    assert_eq!(refusals(), 0);

    let mut first = GlobalConcurrencyLimit::new(hold(), semaphore.clone());
    let mut second = GlobalConcurrencyLimit::new(hold(), semaphore.clone());
    let one = first.ready().await.unwrap().call(1);
    let two = second.ready().await.unwrap().call(2);
    assert_eq!(leases(), 2.0);

    // A third finds every permit held: refused, it waits and tries again.
    let mut third = GlobalConcurrencyLimit::new(hold(), semaphore);
    let mut waiting = task::spawn(async move {
        third
            .ready()
            .await
            .expect("a lease, once one is given back");
        third
    });
    while refusals() == 0 {
        assert!(waiting.poll().is_pending(), "every permit is held");
        tokio::task::yield_now().await;
    }
    drop(one);
    let third = waiting.await;
    assert_eq!(leases(), 2.0, "one given back, one taken");
    drop(two);
    assert_eq!(leases(), 1.0, "the third's, held for its next call");
    drop(third);
    assert_eq!(leases(), 0.0);
}

#[tokio::test]
async fn tries_the_failure_policy_decided_are_recorded_with_the_policy() {
    let mut server = RedisServer::start();
    let recorded = Recorded::default();
    // Unnamed: the key is the name.
    let semaphore = build(
        &server.url(),
        "reports",
        None,
        OnFailure::FailOpen,
        &recorded,
    )
    .await;
    let labels = [("name", "reports"), ("policy", "fail_open")];
    let fallbacks = || recorded.counter("donjon_fleet_limit_fallbacks_total", &labels);
    assert_eq!(fallbacks(), 0);

    server.stop();
    let mut service = GlobalConcurrencyLimit::new(hold(), semaphore);
    let _open = service.ready().await.unwrap().call(1);
    assert_eq!(fallbacks(), 1);
    assert_eq!(
        recorded.gauge("donjon_fleet_limit_leases", &[("name", "reports")]),
        0.0,
        "a permit the policy gave is no lease"
    );
}
