//! Bad settings, refused when the semaphore is built.

use std::time::Duration;

use donjon::limit::keyed::error::InvalidKey;
use donjon_redis::{OnFailure, RedisSemaphore};
use donjon_test::redis::RedisServer;

use crate::support::connect;

#[tokio::test]
async fn invalid_settings_are_refused_when_the_semaphore_is_built() {
    let server = RedisServer::start();
    let connection = connect(&server.url()).await;
    let builder = |key: &str, max| RedisSemaphore::builder(connection.clone(), key, max);

    let error = builder("k", 0).build().unwrap_err();
    assert!(error.is_zero_max());
    assert_eq!(
        error.to_string(),
        "a concurrency limit must allow at least one request at once"
    );

    let error = builder("k", 1)
        .with_lease(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(error.is_zero_lease());

    let error = builder("k", 1)
        .with_call_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(error.is_zero_call_timeout());

    let short = builder("k", 1)
        .with_lease(Duration::from_millis(299))
        .with_call_timeout(Duration::from_millis(100));
    assert!(short.clone().build().unwrap_err().is_lease_too_short());
    assert!(short.with_lease(Duration::from_millis(300)).build().is_ok());

    let error = builder("k", 1)
        .with_retry_interval(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(error.is_zero_retry_interval());

    let error = builder("k", 1)
        .with_on_failure(OnFailure::Local { replicas: 0 })
        .build()
        .unwrap_err();
    assert!(error.is_zero_replicas());

    let error = builder("", 1).build().unwrap_err();
    assert!(error.is_invalid_key());
    let source =
        std::error::Error::source(&error).and_then(|source| source.downcast_ref::<InvalidKey>());
    assert_eq!(source, Some(&InvalidKey::empty()));

    let long = "k".repeat(513);
    let error = builder(&long, 1).build().unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid key: a rate limit key of 513 bytes is longer than the 512 the store accepts"
    );
    assert!(builder(&long[..512], 1).build().is_ok());

    // More replicas than permits: each process keeps one.
    let semaphore = builder("k", 2)
        .with_on_failure(OnFailure::Local { replicas: 8 })
        .build()
        .unwrap();
    assert_eq!(semaphore.max(), 2);
}
