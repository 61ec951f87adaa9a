use donjon::Layer;

use super::{GlobalConcurrencyLimit, RedisSemaphore};

/// A [`Layer`] that wraps services in [`GlobalConcurrencyLimit`]s on one
/// [`RedisSemaphore`]: together, and with every other process using the
/// semaphore's key, they have at most its `max` requests in flight.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceBuilder, ServiceExt};
/// use donjon_redis::{GlobalConcurrencyLimitLayer, RedisSemaphore};
/// # use donjon_test::redis::RedisServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// # let server = RedisServer::start();
/// let connection = donjon_redis::connect(&server.url()).await?;
/// let semaphore = RedisSemaphore::builder(connection, "ledger-db", 20).build()?;
/// let service = ServiceBuilder::new()
///     .layer(GlobalConcurrencyLimitLayer::new(semaphore))
///     .service_fn(|query: &'static str| async move { Ok::<_, BoxError>(query.len()) });
/// assert_eq!(service.oneshot("SELECT 1").await?, 8);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct GlobalConcurrencyLimitLayer {
    semaphore: RedisSemaphore,
}

impl GlobalConcurrencyLimitLayer {
    /// Creates a layer whose services take their permits from `semaphore`.
    pub fn new(semaphore: RedisSemaphore) -> Self {
        GlobalConcurrencyLimitLayer { semaphore }
    }
}

impl<S> Layer<S> for GlobalConcurrencyLimitLayer {
    type Service = GlobalConcurrencyLimit<S>;

    fn layer(&self, service: S) -> Self::Service {
        GlobalConcurrencyLimit::new(service, self.semaphore.clone())
    }
}
