//! [`FallbackLayer`].

use donjon_layer::Layer;

use super::{CloneRequest, Fallback};
use crate::classify::ErrorsAreFailures;

/// Wraps services in a [`Fallback`] to the same fallback service.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct FallbackLayer<F, K = CloneRequest, C = ErrorsAreFailures> {
    fallback: F,
    keep: K,
    classify: C,
}

impl<F> FallbackLayer<F> {
    /// A layer answering failed calls (every error) from `fallback`.
    pub const fn new(fallback: F) -> Self {
        FallbackLayer {
            fallback,
            keep: CloneRequest,
            classify: ErrorsAreFailures,
        }
    }
}

impl<F, K, C> FallbackLayer<F, K, C> {
    /// Keeps requests for the fallback with `keep` instead.
    pub fn keeping<K2>(self, keep: K2) -> FallbackLayer<F, K2, C> {
        FallbackLayer {
            fallback: self.fallback,
            keep,
            classify: self.classify,
        }
    }

    /// Decides what counts as a failed call with `classify` instead.
    pub fn classifying<C2>(self, classify: C2) -> FallbackLayer<F, K, C2> {
        FallbackLayer {
            fallback: self.fallback,
            keep: self.keep,
            classify,
        }
    }
}

impl<S, F: Clone, K: Clone, C: Clone> Layer<S> for FallbackLayer<F, K, C> {
    type Service = Fallback<S, F, K, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Fallback::new(inner, self.fallback.clone())
            .keeping(self.keep.clone())
            .classifying(self.classify.clone())
    }
}
