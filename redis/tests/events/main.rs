//! The `tracing` events of the failure policies and of lost leases, in a
//! test binary of its own: the collecting subscriber is the global default
//! from the start, so no callsite's interest is cached without it.

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use donjon::{BoxError, ServiceExt, service_fn};
use donjon_redis::{GlobalConcurrencyLimit, OnFailure, RedisSemaphore, RedisStore};
use donjon_test::redis::RedisServer;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};

use support::{connect, decide, eventually, hourly};

/// One event: its level, its message, its other fields.
#[derive(Debug, Clone)]
struct Recorded {
    level: Level,
    message: String,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Recorded>>>);

impl Collector {
    fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

struct Fields<'a>(&'a mut Recorded);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let value = format!("{value:?}");
        if field.name() == "message" {
            self.0.message = value;
        } else {
            self.0.fields.insert(field.name().to_owned(), value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.message = value.to_owned();
        } else {
            self.0
                .fields
                .insert(field.name().to_owned(), value.to_owned());
        }
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for Collector {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !event.metadata().target().starts_with("donjon_redis") {
            return;
        }
        let mut recorded = Recorded {
            level: *event.metadata().level(),
            message: String::new(),
            fields: BTreeMap::new(),
        };
        event.record(&mut Fields(&mut recorded));
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(recorded);
    }
}

fn count(events: &[Recorded], level: Level, message: &str) -> usize {
    events
        .iter()
        .filter(|event| event.level == level && event.message.contains(message))
        .count()
}

#[test]
fn failures_recoveries_and_lost_leases_are_reported() {
    let collector = Collector::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(collector.clone()))
        .expect("the only subscriber of this binary");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        store_failure_and_recovery(&collector).await;
        lost_lease(&collector).await;
    });
}

async fn store_failure_and_recovery(collector: &Collector) {
    let mut server = RedisServer::start();
    let store = RedisStore::builder(connect(&server.url()).await)
        .with_call_timeout(Duration::from_millis(100))
        .with_on_failure(OnFailure::FailOpen)
        .build()
        .unwrap();
    let quota = hourly(100);
    decide(&store, "events", quota).await.unwrap();
    assert!(collector.take().is_empty(), "no event while Redis answers");

    server.stop();
    for _ in 0..3 {
        assert!(decide(&store, "events", quota).await.unwrap().is_allowed());
    }
    let events = collector.take();
    let warning = "redis cannot decide: the failure policy applies until it answers again";
    assert_eq!(
        count(&events, Level::WARN, warning),
        1,
        "one warning when Redis fails: {events:#?}"
    );
    let warned = events
        .iter()
        .find(|event| event.level == Level::WARN)
        .unwrap();
    assert_eq!(warned.fields["policy"], "fail open");
    assert_eq!(warned.fields["limiter"], "rate store");
    assert!(!warned.fields["error"].is_empty());
    let decided = "redis could not decide: the failure policy did";
    assert_eq!(
        count(&events, Level::DEBUG, decided),
        3,
        "one per decision: {events:#?}"
    );
    assert_eq!(count(&events, Level::INFO, "redis answers again"), 0);

    server.restart();
    let back = eventually(Duration::from_secs(10), || async {
        decide(&store, "events", quota).await.is_ok() && collector_has_info(collector)
    })
    .await;
    assert!(back, "no recovery event within 10 s");
    let events = collector.take();
    assert_eq!(
        count(
            &events,
            Level::INFO,
            "redis answers again: limits are decided by redis"
        ),
        1,
        "{events:#?}"
    );
    decide(&store, "events", quota).await.unwrap();
    assert!(
        collector.take().is_empty(),
        "one recovery event, not one per decision"
    );
}

/// Whether an INFO event was collected (without taking the events).
fn collector_has_info(collector: &Collector) -> bool {
    collector
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .any(|event| event.level == Level::INFO)
}

async fn lost_lease(collector: &Collector) {
    let server = RedisServer::start();
    let semaphore = RedisSemaphore::builder(connect(&server.url()).await, "lost-lease", 2)
        .with_lease(Duration::from_millis(300))
        .with_call_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let service = GlobalConcurrencyLimit::new(
        service_fn(|()| async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            Ok::<_, BoxError>(())
        }),
        semaphore.clone(),
    );
    let request = tokio::spawn(service.oneshot(()));
    assert!(
        eventually(Duration::from_millis(500), || async {
            semaphore.held().await.unwrap() == 1
        })
        .await
    );
    server
        .command(&["DEL", "donjon:leases:lost-lease"])
        .unwrap();
    request.await.unwrap().unwrap();
    let events = collector.take();
    let lost = "a lease of the fleet-wide concurrency limit expired before its request completed";
    assert_eq!(count(&events, Level::WARN, lost), 1, "{events:#?}");
    let warned = events
        .iter()
        .find(|event| event.message.contains(lost))
        .unwrap();
    assert_eq!(warned.fields["key"], "lost-lease");
}
