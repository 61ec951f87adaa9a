//! [`FallbackLayer`].

use donjon_layer::Layer;

use super::{CloneRequest, Fallback};
use crate::classify::ErrorsAreFailures;

/// Wraps services in a [`Fallback`] to the same fallback service.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct FallbackLayer<Fb, K = CloneRequest, C = ErrorsAreFailures> {
    fallback: Fb,
    keep: K,
    classify: C,
    /// The `name` label of its services' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
}

impl<Fb> FallbackLayer<Fb> {
    /// A layer answering failed calls (every error) from `fallback`.
    pub const fn new(fallback: Fb) -> Self {
        FallbackLayer {
            fallback,
            keep: CloneRequest,
            classify: ErrorsAreFailures,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed("fallback"),
        }
    }
}

impl<Fb, K, C> FallbackLayer<Fb, K, C> {
    /// Keeps requests for the fallback with `keep` instead.
    pub fn keeping<K2>(self, keep: K2) -> FallbackLayer<Fb, K2, C> {
        FallbackLayer {
            fallback: self.fallback,
            keep,
            classify: self.classify,
            #[cfg(feature = "metrics")]
            name: self.name,
        }
    }

    /// Decides what counts as a failed call with `classify` instead.
    pub fn classifying<C2>(self, classify: C2) -> FallbackLayer<Fb, K, C2> {
        FallbackLayer {
            fallback: self.fallback,
            keep: self.keep,
            classify,
            #[cfg(feature = "metrics")]
            name: self.name,
        }
    }

    /// Names its services in their metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"fallback"` unless set. Each service
    /// takes its handle from the recorder installed when it is made.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S, Fb: Clone, K: Clone, C: Clone> Layer<S> for FallbackLayer<Fb, K, C> {
    type Service = Fallback<S, Fb, K, C>;

    fn layer(&self, inner: S) -> Self::Service {
        let service = Fallback::new(inner, self.fallback.clone())
            .keeping(self.keep.clone())
            .classifying(self.classify.clone());
        #[cfg(feature = "metrics")]
        let service = service.with_name(self.name.clone());
        service
    }
}
