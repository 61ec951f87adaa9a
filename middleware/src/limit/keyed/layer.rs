use donjon_layer::Layer;

use super::error::InvalidKey;
use super::{KeyedRateLimit, RateStore, SharedRateLimit};
use crate::limit::gcra::Quota;
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// A [`Layer`] that wraps services in [`KeyedRateLimit`]s sharing one
/// store: the services it wraps, and their clones, share each key's limit.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceBuilder, ServiceExt};
/// use donjon::limit::gcra::Quota;
/// use donjon::limit::keyed::{KeyedRateLimitLayer, MemoryStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let per_tenant = KeyedRateLimitLayer::new(
///     MemoryStore::new(),
///     |(tenant, _): &(u32, String)| *tenant,
///     Quota::per_second(100)?,
/// );
/// let service = ServiceBuilder::new()
///     .layer(per_tenant)
///     .service_fn(|(_, body): (u32, String)| async move { Ok::<_, BoxError>(body.len()) });
/// assert_eq!(service.oneshot((7, "hello".to_string())).await?, 5);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct KeyedRateLimitLayer<St, F> {
    store: St,
    key: F,
    quota: Quota,
    /// The `name` label of the limits' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
}

impl<St, F> KeyedRateLimitLayer<St, F> {
    /// Creates a layer limiting each key `key` finds in requests to `quota`
    /// in `store`.
    pub const fn new(store: St, key: F, quota: Quota) -> Self {
        KeyedRateLimitLayer {
            store,
            key,
            quota,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed(meter::KEYED_RATE_LIMIT),
        }
    }

    /// Names the limits of the services it wraps in their metrics (the
    /// `name` label; see [`metrics`](crate::metrics)):
    /// `"keyed_rate_limit"` unless set.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S, St: Clone, F: Clone> Layer<S> for KeyedRateLimitLayer<St, F> {
    type Service = KeyedRateLimit<S, St, F>;

    fn layer(&self, service: S) -> Self::Service {
        KeyedRateLimit::with_parts(
            service,
            self.store.clone(),
            self.key.clone(),
            self.quota,
            #[cfg(feature = "metrics")]
            self.name.clone(),
        )
    }
}

/// A [`Layer`] that wraps services in [`SharedRateLimit`]s on one key of
/// one store: together they stay within the key's quota.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceBuilder, ServiceExt};
/// use donjon::limit::gcra::Quota;
/// use donjon::limit::keyed::{MemoryStore, SharedRateLimitLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let layer = SharedRateLimitLayer::new(MemoryStore::new(), "geocoder", Quota::per_second(10)?)?;
/// let service = ServiceBuilder::new()
///     .layer(layer)
///     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
/// assert_eq!(service.oneshot(3).await?, 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct SharedRateLimitLayer<St, K> {
    store: St,
    key: K,
    quota: Quota,
    /// The `name` label of the limits' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
}

impl<St, K> SharedRateLimitLayer<St, K> {
    /// Creates a layer limiting the services it wraps to `quota` on `key`
    /// of `store`.
    ///
    /// # Errors
    ///
    /// [`InvalidKey`] if the store refuses `key`
    /// ([`RateStore::check_key`]).
    pub fn new(store: St, key: K, quota: Quota) -> Result<Self, InvalidKey>
    where
        St: RateStore<K>,
    {
        store.check_key(&key)?;
        Ok(SharedRateLimitLayer {
            store,
            key,
            quota,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed(meter::SHARED_RATE_LIMIT),
        })
    }

    /// Names the limits of the services it wraps in their metrics (the
    /// `name` label; see [`metrics`](crate::metrics)):
    /// `"shared_rate_limit"` unless set.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S, St, K> Layer<S> for SharedRateLimitLayer<St, K>
where
    St: RateStore<K> + Clone,
    K: Clone,
{
    type Service = SharedRateLimit<S, St, K>;

    fn layer(&self, service: S) -> Self::Service {
        SharedRateLimit::with_parts(
            service,
            self.store.clone(),
            self.key.clone(),
            self.quota,
            #[cfg(feature = "metrics")]
            self.name.clone(),
        )
        .expect("the key was checked when the layer was built")
    }
}
