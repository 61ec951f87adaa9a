use std::fmt;
use std::marker::PhantomData;

use donjon_layer::Layer;

use super::MakeBalance;

/// A [`Layer`] that wraps a make-discover service in a [`MakeBalance`].
///
/// Its first type parameter must be the type of the service it wraps.
#[must_use = "a layer does nothing until it wraps a service"]
pub struct MakeBalanceLayer<D, Req> {
    _marker: PhantomData<fn(D, Req)>,
}

impl<D, Req> MakeBalanceLayer<D, Req> {
    /// Creates the layer.
    pub const fn new() -> Self {
        MakeBalanceLayer {
            _marker: PhantomData,
        }
    }
}

impl<D, Req> Default for MakeBalanceLayer<D, Req> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D, Req> Clone for MakeBalanceLayer<D, Req> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<S, Req> Layer<S> for MakeBalanceLayer<S, Req> {
    type Service = MakeBalance<S, Req>;

    fn layer(&self, make_discover: S) -> Self::Service {
        MakeBalance::new(make_discover)
    }
}

impl<D, Req> fmt::Debug for MakeBalanceLayer<D, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MakeBalanceLayer")
    }
}
