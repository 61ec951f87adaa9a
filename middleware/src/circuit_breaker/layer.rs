use std::fmt;

use donjon_layer::Layer;

use super::CircuitBreaker;
use super::config::Config;
use crate::classify::ErrorsAreFailures;

/// A [`Layer`] that wraps each service in a [`CircuitBreaker`] of its own.
///
/// Every service it wraps gets a separate breaker (so that, behind a load
/// balancer, each endpoint trips on its own); clones of one wrapped
/// service share theirs. Reach a breaker through
/// [`CircuitBreaker::handle`].
///
/// # Examples
///
/// Counting responses with a 5xx status as failures:
///
/// ```
/// use donjon::{BoxError, Layer, Service, ServiceExt};
/// use donjon::circuit_breaker::{CircuitBreakerLayer, Config, State};
/// use donjon::classify::Outcome;
/// # mod backend {
/// #     use std::future::{Ready, ready};
/// #     use std::task::{Context, Poll};
/// #     use donjon::BoxError;
/// #     /// Answers each request with the status it asks for.
/// #     pub struct Backend;
/// #     impl donjon::Service<u16> for Backend {
/// #         type Response = u16;
/// #         type Error = BoxError;
/// #         type Future = Ready<Result<u16, BoxError>>;
/// #         fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
/// #             Poll::Ready(Ok(()))
/// #         }
/// #         fn call(&mut self, status: u16) -> Self::Future {
/// #             ready(Ok(status))
/// #         }
/// #     }
/// # }
/// # use backend::Backend;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let layer = CircuitBreakerLayer::with_classifier(
///     Config::new().with_consecutive_failures(1),
///     |result: &Result<u16, BoxError>| match result {
///         Ok(status) if *status >= 500 => Outcome::Failure,
///         Ok(_) => Outcome::Success,
///         Err(_) => Outcome::Failure,
///     },
/// );
/// let mut breaker = layer.layer(Backend);
///
/// assert_eq!(breaker.ready().await?.call(503).await?, 503);
/// assert_eq!(breaker.handle().state(), State::Open);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct CircuitBreakerLayer<C = ErrorsAreFailures> {
    config: Config,
    classify: C,
}

impl CircuitBreakerLayer {
    /// Creates a layer of breakers configured by `config`, counting every
    /// error as a failure and every response as a success.
    pub const fn new(config: Config) -> Self {
        CircuitBreakerLayer {
            config,
            classify: ErrorsAreFailures,
        }
    }
}

impl<C> CircuitBreakerLayer<C> {
    /// Creates a layer of breakers configured by `config`, with `classify`
    /// deciding what each finished call counts as.
    pub const fn with_classifier(config: Config, classify: C) -> Self {
        CircuitBreakerLayer { config, classify }
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreaker<S, C>;

    fn layer(&self, service: S) -> Self::Service {
        CircuitBreaker::with_classifier(service, self.config.clone(), self.classify.clone())
    }
}

impl<C> fmt::Debug for CircuitBreakerLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("config", &self.config)
            .field("classify", &format_args!("{}", std::any::type_name::<C>()))
            .finish()
    }
}
