//! Bad input: refused when the store is built or the key checked, and
//! answered at once (never a panic) on the request path.

use std::time::Duration;

use donjon::limit::gcra::Quota;
use donjon::limit::keyed::error::InvalidKey;
use donjon::limit::keyed::{Answer, Decision, RateStore, SharedRateLimit};
use donjon::service_fn;
use donjon_redis::{OnFailure, RedisStore};
use donjon_test::redis::RedisServer;

use crate::support::{connect, decide, hourly};

#[tokio::test]
async fn invalid_settings_are_refused_when_the_store_is_built() {
    let server = RedisServer::start();
    let connection = connect(&server.url()).await;
    let builder = || RedisStore::builder(connection.clone());

    let error = builder()
        .with_call_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(error.is_zero_call_timeout());
    assert_eq!(
        error.to_string(),
        "the call timeout must be longer than zero"
    );

    let error = builder()
        .with_on_failure(OnFailure::Local { replicas: 0 })
        .build()
        .unwrap_err();
    assert!(error.is_zero_replicas());
    assert_eq!(
        error.to_string(),
        "a local limit cannot be divided among zero replicas"
    );

    let error = builder().with_batch(0).build().unwrap_err();
    assert!(error.is_zero_batch());
    assert_eq!(error.to_string(), "a batch must take at least one permit");
    assert!(
        builder()
            .with_batch_max_age(Duration::ZERO)
            .build()
            .unwrap_err()
            .is_zero_batch()
    );
    assert!(
        builder()
            .with_batch_max_keys(0)
            .build()
            .unwrap_err()
            .is_zero_batch()
    );

    let error = builder().with_max_key_len(0).build().unwrap_err();
    assert!(error.is_zero_max_key_len());

    let store = builder()
        .with_call_timeout(Duration::from_millis(1))
        .with_on_failure(OnFailure::Local { replicas: 1 })
        .with_batch(1)
        .build()
        .unwrap();
    assert_eq!((store.batch(), store.batch_max_age()), (1, None));
}

#[test]
fn invalid_quotas_are_refused_when_they_are_made() {
    let second = Duration::from_secs(1);
    assert!(Quota::new(0, second).unwrap_err().is_zero_rate());
    assert!(Quota::new(1, Duration::ZERO).unwrap_err().is_zero_period());
    assert!(
        Quota::new(1, second)
            .unwrap()
            .with_burst(0)
            .unwrap_err()
            .is_zero_burst()
    );
}

#[tokio::test]
async fn empty_and_long_keys_are_refused_without_asking_redis() {
    let server = RedisServer::start();
    let store = RedisStore::builder(connect(&server.url()).await)
        .with_max_key_len(8)
        .build()
        .unwrap();
    let quota = hourly(1);

    assert_eq!(
        RateStore::<str>::check_key(&store, ""),
        Err(InvalidKey::empty())
    );
    assert_eq!(
        RateStore::<str>::check_key(&store, "123456789"),
        Err(InvalidKey::too_long(9, 8))
    );
    assert_eq!(RateStore::<str>::check_key(&store, "12345678"), Ok(()));
    // A key's text is what counts, whatever its type.
    assert_eq!(
        store.check_key(&123_456_789u64),
        Err(InvalidKey::too_long(9, 8))
    );

    for key in ["", "123456789"] {
        let Answer::Now(Err(error)) = store.acquire(key, quota) else {
            panic!("the key {key:?} must be refused at once");
        };
        assert!(error.is_invalid_key() && !error.is_unavailable());
        let source = std::error::Error::source(&error).expect("the InvalidKey");
        assert!(source.is::<InvalidKey>());
    }
    assert_eq!(
        decide(&store, "12345678", quota).await.unwrap(),
        Decision::Allowed
    );
    // Nothing reached Redis for the refused keys.
    assert_eq!(server.command(&["DBSIZE"]).unwrap(), "1");
}

#[tokio::test]
async fn a_shared_limit_on_an_invalid_key_is_refused_when_it_is_built() {
    let server = RedisServer::start();
    let store = RedisStore::new(connect(&server.url()).await);
    let service = service_fn(|()| async { Ok::<_, donjon::BoxError>(()) });
    let long = "x".repeat(513);
    let error = SharedRateLimit::new(service, store.clone(), long, hourly(1)).unwrap_err();
    assert_eq!(error, InvalidKey::too_long(513, 512));
    let error = SharedRateLimit::new(service, store, String::new(), hourly(1)).unwrap_err();
    assert!(error.is_empty());
}

#[tokio::test]
async fn the_prefix_names_the_redis_keys() {
    let server = RedisServer::start();
    let store = RedisStore::builder(connect(&server.url()).await)
        .with_prefix("tenant-a:")
        .build()
        .unwrap();
    assert_eq!(
        decide(&store, "alice", hourly(1)).await.unwrap(),
        Decision::Allowed
    );
    assert_eq!(server.command(&["EXISTS", "tenant-a:alice"]).unwrap(), "1");
    // The key lives as long as the limit takes to recover: an hour.
    let ttl: u64 = server
        .command(&["PTTL", "tenant-a:alice"])
        .unwrap()
        .parse()
        .unwrap();
    assert!(ttl > 3_590_000 && ttl <= 3_600_000, "PTTL {ttl}");
}
