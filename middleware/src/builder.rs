//! [`ServiceBuilder`]: declare a stack of middleware in the order requests
//! go through it.
//!
//! # Examples
//!
//! ```
//! # #[cfg(feature = "util")]
//! # fn main() {
//! use donjon::{BoxError, ServiceBuilder, ServiceExt};
//!
//! # futures::executor::block_on(async {
//! let service = ServiceBuilder::new()
//!     // First added, outermost: sees the request first, the response last.
//!     .map_request(|n: u32| n + 1)
//!     .map_response(|n: u32| n * 10)
//!     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
//!
//! assert_eq!(service.oneshot(1).await?, 20);
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! # }
//! # #[cfg(not(feature = "util"))]
//! # fn main() {}
//! ```

use std::fmt;

use donjon_layer::{Identity, Layer, LayerFn, Stack, layer_fn};
use donjon_service::Service;

#[cfg(feature = "util")]
use crate::util::{
    AndThenLayer, BoxCloneService, BoxCloneSyncServiceLayer, BoxService, Either, MapErrLayer,
    MapFutureLayer, MapRequestLayer, MapResponseLayer, MapResultLayer, ServiceFn, ThenLayer,
};

/// Declares a stack of middleware, outermost first, and applies it to
/// services.
///
/// Each method adds one layer *inside* the ones added before it: the first
/// layer added is the outermost, so a request passes through the layers in
/// the order they were added, and the response comes back through them in
/// reverse. [`service`](ServiceBuilder::service) applies the whole stack to
/// a service; the builder can be reused for as many services as needed.
///
/// A `ServiceBuilder` is itself a [`Layer`], so a stack can be handed to any
/// API that takes one (for instance a web framework's `.layer(...)`), and
/// [`into_inner`](ServiceBuilder::into_inner) gives the composed layer out.
///
/// # Examples
///
/// The order matters: here the length is taken of the already-greeted name.
///
/// ```
/// # #[cfg(feature = "util")]
/// # fn main() {
/// use donjon::{BoxError, ServiceBuilder, ServiceExt};
///
/// # futures::executor::block_on(async {
/// let greeter = ServiceBuilder::new()
///     .map_response(|greeting: String| greeting.len())
///     .map_response(|name: String| format!("hello {name}"))
///     .service_fn(|name: String| async move { Ok::<_, BoxError>(name) });
/// assert_eq!(greeter.oneshot("ada".to_string()).await?, "hello ada".len());
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// # }
/// # #[cfg(not(feature = "util"))]
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct ServiceBuilder<L> {
    layer: L,
}

impl Default for ServiceBuilder<Identity> {
    fn default() -> Self {
        Self::new()
    }
}

impl ServiceBuilder<Identity> {
    /// Creates an empty builder: applied to a service, it returns the
    /// service unchanged.
    pub const fn new() -> Self {
        ServiceBuilder {
            layer: Identity::new(),
        }
    }
}

impl<L> ServiceBuilder<L> {
    /// Adds `layer` inside the layers added so far.
    pub fn layer<Inner>(self, layer: Inner) -> ServiceBuilder<Stack<Inner, L>> {
        ServiceBuilder {
            layer: Stack::new(layer, self.layer),
        }
    }

    /// Adds `layer` if it is `Some`; adds nothing (an [`Identity`]) if it
    /// is `None`.
    ///
    /// Useful when configuration decides whether a middleware is wanted.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceBuilder, ServiceExt};
    /// use donjon::util::MapResponseLayer;
    ///
    /// # futures::executor::block_on(async {
    /// let double = |n: u32| n * 2;
    /// for (enabled, expected) in [(true, 42), (false, 21)] {
    ///     let service = ServiceBuilder::new()
    ///         .option_layer(enabled.then(|| MapResponseLayer::new(double)))
    ///         .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
    ///     assert_eq!(service.oneshot(21).await?, expected);
    /// }
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    pub fn option_layer<Inner>(
        self,
        layer: Option<Inner>,
    ) -> ServiceBuilder<Stack<Either<Inner, Identity>, L>> {
        self.layer(crate::util::option_layer(layer))
    }

    /// Adds a layer made from a closure that wraps a service; see
    /// [`layer_fn`].
    pub fn layer_fn<F>(self, f: F) -> ServiceBuilder<Stack<LayerFn<F>, L>> {
        self.layer(layer_fn(f))
    }

    /// Adds a layer that moves the services inside it into a worker task,
    /// behind a [`Buffer`](crate::buffer::Buffer) of `bound` requests.
    ///
    /// The worker is spawned when the stack is applied to a service, which
    /// must happen inside a tokio runtime.
    #[cfg(feature = "buffer")]
    #[cfg_attr(docsrs, doc(cfg(feature = "buffer")))]
    pub fn buffer<Req>(
        self,
        bound: usize,
    ) -> ServiceBuilder<Stack<crate::buffer::BufferLayer<Req>, L>> {
        self.layer(crate::buffer::BufferLayer::new(bound))
    }

    /// Adds a layer that limits how many requests are in flight at once;
    /// see [`ConcurrencyLimit`](crate::limit::ConcurrencyLimit).
    #[cfg(feature = "limit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "limit")))]
    pub fn concurrency_limit(
        self,
        max: usize,
    ) -> ServiceBuilder<Stack<crate::limit::ConcurrencyLimitLayer, L>> {
        self.layer(crate::limit::ConcurrencyLimitLayer::new(max))
    }

    /// Adds a layer that lets at most `max` requests in flight at once and
    /// refuses the others at once with an `Overloaded` error; see
    /// [`TryConcurrencyLimit`](crate::limit::TryConcurrencyLimit).
    #[cfg(feature = "limit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "limit")))]
    pub fn try_concurrency_limit(
        self,
        max: usize,
    ) -> ServiceBuilder<Stack<crate::limit::TryConcurrencyLimitLayer, L>> {
        self.layer(crate::limit::TryConcurrencyLimitLayer::new(max))
    }

    /// Adds a circuit breaker configured by `config`; see
    /// [`CircuitBreaker`](crate::circuit_breaker::CircuitBreaker).
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceBuilder, ServiceExt};
    /// use donjon::circuit_breaker::Config;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), BoxError> {
    /// let service = ServiceBuilder::new()
    ///     .circuit_breaker(Config::new().with_consecutive_failures(5))
    ///     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
    /// assert_eq!(service.oneshot(7).await?, 7);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "circuit-breaker")]
    #[cfg_attr(docsrs, doc(cfg(feature = "circuit-breaker")))]
    pub fn circuit_breaker(
        self,
        config: crate::circuit_breaker::Config,
    ) -> ServiceBuilder<Stack<crate::circuit_breaker::CircuitBreakerLayer, L>> {
        self.layer(crate::circuit_breaker::CircuitBreakerLayer::new(config))
    }

    /// Adds a concurrency limit that moves with what `algorithm` makes of
    /// the service's latency and failures; see
    /// [`AdaptiveConcurrencyLimit`](crate::limit::AdaptiveConcurrencyLimit).
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceBuilder, ServiceExt};
    /// use donjon::limit::adaptive::Aimd;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), BoxError> {
    /// let service = ServiceBuilder::new()
    ///     .adaptive_concurrency_limit(Aimd::new())
    ///     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
    /// assert_eq!(service.oneshot(7).await?, 7);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "limit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "limit")))]
    pub fn adaptive_concurrency_limit<A>(
        self,
        algorithm: A,
    ) -> ServiceBuilder<Stack<crate::limit::AdaptiveConcurrencyLimitLayer<A>, L>> {
        self.layer(crate::limit::AdaptiveConcurrencyLimitLayer::new(algorithm))
    }

    /// Adds a layer answering failed calls (every error) from `fallback`;
    /// see [`Fallback`](crate::fallback::Fallback).
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::fallback::Failure;
    /// use donjon::{BoxError, ServiceBuilder, ServiceExt, service_fn};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), BoxError> {
    /// let service = ServiceBuilder::new()
    ///     .fallback(service_fn(|_: Failure<u32, u32>| async { Ok::<_, BoxError>(0) }))
    ///     .service_fn(|_: u32| async { Err::<u32, BoxError>("down".into()) });
    /// assert_eq!(service.oneshot(7).await?, 0);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "fallback")]
    #[cfg_attr(docsrs, doc(cfg(feature = "fallback")))]
    pub fn fallback<Fb>(
        self,
        fallback: Fb,
    ) -> ServiceBuilder<Stack<crate::fallback::FallbackLayer<Fb>, L>> {
        self.layer(crate::fallback::FallbackLayer::new(fallback))
    }

    /// Adds a layer that fails requests at once when the services inside it
    /// are not ready, instead of waiting; see
    /// [`LoadShed`](crate::load_shed::LoadShed).
    #[cfg(feature = "load-shed")]
    #[cfg_attr(docsrs, doc(cfg(feature = "load-shed")))]
    pub fn load_shed(self) -> ServiceBuilder<Stack<crate::load_shed::LoadShedLayer, L>> {
        self.layer(crate::load_shed::LoadShedLayer::new())
    }

    /// Adds client-side adaptive throttling with the default settings (for
    /// others, `.layer(ThrottleLayer::new().k(1.5))` and so on); see
    /// [`Throttle`](crate::throttle::Throttle).
    #[cfg(feature = "throttle")]
    #[cfg_attr(docsrs, doc(cfg(feature = "throttle")))]
    pub fn throttle(self) -> ServiceBuilder<Stack<crate::throttle::ThrottleLayer, L>> {
        self.layer(crate::throttle::ThrottleLayer::new())
    }

    /// Adds a smooth rate limit (GCRA) of `quota`; see
    /// [`Gcra`](crate::limit::gcra::Gcra).
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceBuilder, ServiceExt};
    /// use donjon::limit::gcra::Quota;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), BoxError> {
    /// let service = ServiceBuilder::new()
    ///     .gcra(Quota::per_second(100)?.with_burst(10)?)
    ///     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
    /// assert_eq!(service.oneshot(7).await?, 7);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "limit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "limit")))]
    pub fn gcra(
        self,
        quota: crate::limit::gcra::Quota,
    ) -> ServiceBuilder<Stack<crate::limit::GcraLayer, L>> {
        self.layer(crate::limit::GcraLayer::new(quota))
    }

    /// Adds a layer that lets at most `num` requests through per `per`; see
    /// [`RateLimit`](crate::limit::RateLimit).
    ///
    /// # Panics
    ///
    /// If `num` or `per` is zero.
    #[cfg(feature = "limit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "limit")))]
    pub fn rate_limit(
        self,
        num: u64,
        per: std::time::Duration,
    ) -> ServiceBuilder<Stack<crate::limit::RateLimitLayer, L>> {
        self.layer(crate::limit::RateLimitLayer::new(num, per))
    }

    /// Adds a layer that records the requests through it, their errors,
    /// durations and the requests in flight, under the `name` label; see
    /// [`Metrics`](crate::metrics::Metrics).
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics(
        self,
        name: impl Into<std::borrow::Cow<'static, str>>,
    ) -> ServiceBuilder<Stack<crate::metrics::MetricsLayer, L>> {
        self.layer(crate::metrics::MetricsLayer::new(name))
    }

    /// Adds a layer that retries failed requests as `policy` decides; see
    /// [`Retry`](crate::retry::Retry).
    #[cfg(feature = "retry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "retry")))]
    pub fn retry<P>(self, policy: P) -> ServiceBuilder<Stack<crate::retry::RetryLayer<P>, L>> {
        self.layer(crate::retry::RetryLayer::new(policy))
    }

    /// Adds a layer that fails requests taking longer than `timeout`; see
    /// [`Timeout`](crate::timeout::Timeout).
    #[cfg(feature = "timeout")]
    #[cfg_attr(docsrs, doc(cfg(feature = "timeout")))]
    pub fn timeout(
        self,
        timeout: std::time::Duration,
    ) -> ServiceBuilder<Stack<crate::timeout::TimeoutLayer, L>> {
        self.layer(crate::timeout::TimeoutLayer::new(timeout))
    }

    /// Adds a layer that checks each request with the synchronous
    /// `predicate`, rejecting or rewriting it; see
    /// [`Filter`](crate::filter::Filter).
    #[cfg(feature = "filter")]
    #[cfg_attr(docsrs, doc(cfg(feature = "filter")))]
    pub fn filter<P>(
        self,
        predicate: P,
    ) -> ServiceBuilder<Stack<crate::filter::FilterLayer<P>, L>> {
        self.layer(crate::filter::FilterLayer::new(predicate))
    }

    /// Adds a layer that checks each request with the asynchronous
    /// `predicate`, rejecting or rewriting it; see
    /// [`AsyncFilter`](crate::filter::AsyncFilter).
    #[cfg(feature = "filter")]
    #[cfg_attr(docsrs, doc(cfg(feature = "filter")))]
    pub fn filter_async<P>(
        self,
        predicate: P,
    ) -> ServiceBuilder<Stack<crate::filter::AsyncFilterLayer<P>, L>> {
        self.layer(crate::filter::AsyncFilterLayer::new(predicate))
    }

    /// Adds a layer that rewrites each request with `f` before passing it
    /// on; see [`MapRequest`](crate::util::MapRequest).
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    pub fn map_request<F, Req, InnerReq>(self, f: F) -> ServiceBuilder<Stack<MapRequestLayer<F>, L>>
    where
        F: FnMut(Req) -> InnerReq + Clone,
    {
        self.layer(MapRequestLayer::new(f))
    }

    /// Adds a layer that rewrites each successful response with `f`; see
    /// [`MapResponse`](crate::util::MapResponse).
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    pub fn map_response<F>(self, f: F) -> ServiceBuilder<Stack<MapResponseLayer<F>, L>> {
        self.layer(MapResponseLayer::new(f))
    }

    /// Adds a layer that rewrites each error with `f`; see
    /// [`MapErr`](crate::util::MapErr).
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    pub fn map_err<F>(self, f: F) -> ServiceBuilder<Stack<MapErrLayer<F>, L>> {
        self.layer(MapErrLayer::new(f))
    }

    /// Adds a layer that replaces each response future with what `f` makes
    /// of it; see [`MapFuture`](crate::util::MapFuture).
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    pub fn map_future<F>(self, f: F) -> ServiceBuilder<Stack<MapFutureLayer<F>, L>> {
        self.layer(MapFutureLayer::new(f))
    }

    /// Adds a layer that runs the asynchronous `f` on each outcome,
    /// success or error; see [`Then`](crate::util::Then).
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    pub fn then<F>(self, f: F) -> ServiceBuilder<Stack<ThenLayer<F>, L>> {
        self.layer(ThenLayer::new(f))
    }

    /// Adds a layer that runs the asynchronous `f` on each successful
    /// response; see [`AndThen`](crate::util::AndThen).
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    pub fn and_then<F>(self, f: F) -> ServiceBuilder<Stack<AndThenLayer<F>, L>> {
        self.layer(AndThenLayer::new(f))
    }

    /// Adds a layer that rewrites each outcome, success or error, with `f`;
    /// see [`MapResult`](crate::util::MapResult).
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    pub fn map_result<F>(self, f: F) -> ServiceBuilder<Stack<MapResultLayer<F>, L>> {
        self.layer(MapResultLayer::new(f))
    }

    /// Adds a tower layer (tower-http's, say) inside the layers added so
    /// far; see [`DonjonLayer`](crate::tower_compat::DonjonLayer).
    #[cfg(feature = "tower-compat")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tower-compat")))]
    pub fn tower_layer<Inner>(
        self,
        layer: Inner,
    ) -> ServiceBuilder<Stack<crate::tower_compat::DonjonLayer<Inner>, L>> {
        self.layer(crate::tower_compat::DonjonLayer::new(layer))
    }

    /// Returns the composed layer as a tower layer, for frameworks that take
    /// one (axum's `.layer(..)`, say); see
    /// [`TowerLayer`](crate::tower_compat::TowerLayer).
    #[cfg(feature = "tower-compat")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tower-compat")))]
    pub fn into_tower_layer(self) -> crate::tower_compat::TowerLayer<L> {
        crate::tower_compat::TowerLayer::new(self.layer)
    }

    /// Returns the composed layer, outermost first, usable wherever a
    /// [`Layer`] is expected.
    pub fn into_inner(self) -> L {
        self.layer
    }

    /// Wraps `service` in every layer of this builder.
    ///
    /// The builder is not consumed: it can wrap more services.
    pub fn service<S>(&self, service: S) -> L::Service
    where
        L: Layer<S>,
    {
        self.layer.layer(service)
    }

    /// Wraps a closure service (see [`service_fn`](crate::service_fn)) in
    /// every layer of this builder.
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    pub fn service_fn<F>(self, f: F) -> L::Service
    where
        L: Layer<ServiceFn<F>>,
    {
        self.service(crate::util::service_fn(f))
    }

    /// Checks at compile time that this builder is `Clone`; returns it
    /// unchanged.
    ///
    /// Placed in a chain of calls, it turns a confusing type error far away
    /// into a clear one here.
    #[inline]
    pub fn check_clone(self) -> Self
    where
        Self: Clone,
    {
        self
    }

    /// Checks at compile time that the service this builder makes around an
    /// `S` is `Clone`; returns the builder unchanged.
    #[inline]
    pub fn check_service_clone<S>(self) -> Self
    where
        L: Layer<S>,
        L::Service: Clone,
    {
        self
    }

    /// Checks at compile time that the service this builder makes around an
    /// `S` is a `Service<Req, Response = Res, Error = E>`; returns the builder
    /// unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::ServiceBuilder;
    /// use donjon::util::ServiceFn;
    ///
    /// type Echo = ServiceFn<fn(u8) -> std::future::Ready<Result<u8, ()>>>;
    /// let builder = ServiceBuilder::new().check_service::<Echo, u8, u8, ()>();
    /// # let _ = builder;
    /// ```
    #[inline]
    pub fn check_service<S, Req, Res, E>(self) -> Self
    where
        L: Layer<S>,
        L::Service: Service<Req, Response = Res, Error = E>,
    {
        self
    }

    /// Adds a layer that erases the type of the service built so far into a
    /// [`BoxService`].
    ///
    /// Called first, as in `ServiceBuilder::new().boxed().timeout(..)`, it
    /// boxes the whole stack, which gives it a nameable type. Each response
    /// future is boxed as well: one allocation per request.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceBuilder, ServiceExt};
    /// use donjon::util::BoxService;
    ///
    /// # futures::executor::block_on(async {
    /// let service: BoxService<u32, u32, BoxError> = ServiceBuilder::new()
    ///     .boxed()
    ///     .map_request(|n: u32| n + 1)
    ///     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
    /// assert_eq!(service.oneshot(1).await?, 2);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    #[allow(
        clippy::type_complexity,
        reason = "the signature is tower's, kept for source compatibility"
    )]
    pub fn boxed<S, Req>(
        self,
    ) -> ServiceBuilder<
        Stack<
            LayerFn<
                fn(
                    L::Service,
                ) -> BoxService<
                    Req,
                    <L::Service as Service<Req>>::Response,
                    <L::Service as Service<Req>>::Error,
                >,
            >,
            L,
        >,
    >
    where
        L: Layer<S>,
        L::Service: Service<Req> + Send + 'static,
        <L::Service as Service<Req>>::Future: Send + 'static,
    {
        self.layer(BoxService::layer())
    }

    /// Adds a layer that erases the type of the service built so far into a
    /// [`BoxCloneService`], which can be cloned.
    ///
    /// Placed as [`boxed`](ServiceBuilder::boxed) is. Each response future is
    /// boxed: one allocation per request.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceBuilder, ServiceExt};
    /// use donjon::util::BoxCloneService;
    ///
    /// # futures::executor::block_on(async {
    /// let service: BoxCloneService<u32, u32, BoxError> = ServiceBuilder::new()
    ///     .boxed_clone()
    ///     .map_response(|n: u32| n * 2)
    ///     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
    /// let copy = service.clone();
    /// assert_eq!(service.oneshot(1).await?, 2);
    /// assert_eq!(copy.oneshot(2).await?, 4);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    #[allow(
        clippy::type_complexity,
        reason = "the signature is tower's, kept for source compatibility"
    )]
    pub fn boxed_clone<S, Req>(
        self,
    ) -> ServiceBuilder<
        Stack<
            LayerFn<
                fn(
                    L::Service,
                ) -> BoxCloneService<
                    Req,
                    <L::Service as Service<Req>>::Response,
                    <L::Service as Service<Req>>::Error,
                >,
            >,
            L,
        >,
    >
    where
        L: Layer<S>,
        L::Service: Service<Req> + Clone + Send + 'static,
        <L::Service as Service<Req>>::Future: Send + 'static,
    {
        self.layer(BoxCloneService::layer())
    }

    /// Boxes the layers added so far, and what they make, into a
    /// [`BoxCloneSyncServiceLayer`], and starts a fresh builder from it.
    ///
    /// Unlike [`boxed`](ServiceBuilder::boxed) and
    /// [`boxed_clone`](ServiceBuilder::boxed_clone), which add a boxing step
    /// *inside* the layers so far, this takes the layers so far as one boxed
    /// layer: layers added afterwards end up inside them. Called first, it
    /// boxes the whole stack, like `boxed_clone` but `Sync` too. Each
    /// response future is boxed: one allocation per request.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceBuilder, ServiceExt};
    /// use donjon::util::BoxCloneSyncService;
    ///
    /// # futures::executor::block_on(async {
    /// let service: BoxCloneSyncService<u32, u32, BoxError> = ServiceBuilder::new()
    ///     .boxed_clone_sync()
    ///     .map_response(|n: u32| n * 2)
    ///     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
    /// assert_eq!(service.oneshot(4).await?, 8);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    #[cfg(feature = "util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "util")))]
    #[allow(
        clippy::type_complexity,
        reason = "the signature is tower's, kept for source compatibility"
    )]
    pub fn boxed_clone_sync<S, Req>(
        self,
    ) -> ServiceBuilder<
        Stack<
            BoxCloneSyncServiceLayer<
                S,
                Req,
                <L::Service as Service<Req>>::Response,
                <L::Service as Service<Req>>::Error,
            >,
            Identity,
        >,
    >
    where
        L: Layer<S> + Send + Sync + 'static,
        L::Service: Service<Req> + Clone + Send + Sync + 'static,
        <L::Service as Service<Req>>::Future: Send + 'static,
    {
        let layer = BoxCloneSyncServiceLayer::new(self.layer);
        ServiceBuilder::new().layer(layer)
    }
}

impl<L: fmt::Debug> fmt::Debug for ServiceBuilder<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ServiceBuilder").field(&self.layer).finish()
    }
}

impl<S, L> Layer<S> for ServiceBuilder<L>
where
    L: Layer<S>,
{
    type Service = L::Service;

    fn layer(&self, inner: S) -> Self::Service {
        self.layer.layer(inner)
    }
}
