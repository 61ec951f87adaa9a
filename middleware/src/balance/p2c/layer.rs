use std::fmt;
use std::marker::PhantomData;

use donjon_layer::Layer;

use super::MakeBalance;

/// A [`Layer`] that wraps a make-discover service in a [`MakeBalance`].
///
/// Its first type parameter must be the type of the service it wraps.
#[must_use = "a layer does nothing until it wraps a service"]
pub struct MakeBalanceLayer<D, Req> {
    /// The `name` label of the metrics of the balancers its services make.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
    _marker: PhantomData<fn(D, Req)>,
}

impl<D, Req> MakeBalanceLayer<D, Req> {
    /// Creates the layer.
    pub const fn new() -> Self {
        MakeBalanceLayer {
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed(super::service::DEFAULT_NAME),
            _marker: PhantomData,
        }
    }

    /// Names the balancers its services make in their metrics (the `name`
    /// label; see [`MakeBalance::with_name`]): `"balance"` unless set.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<D, Req> Default for MakeBalanceLayer<D, Req> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D, Req> Clone for MakeBalanceLayer<D, Req> {
    fn clone(&self) -> Self {
        MakeBalanceLayer {
            #[cfg(feature = "metrics")]
            name: self.name.clone(),
            _marker: PhantomData,
        }
    }
}

impl<S, Req> Layer<S> for MakeBalanceLayer<S, Req> {
    type Service = MakeBalance<S, Req>;

    fn layer(&self, make_discover: S) -> Self::Service {
        let make = MakeBalance::new(make_discover);
        #[cfg(feature = "metrics")]
        let make = make.with_name(self.name.clone());
        make
    }
}

impl<D, Req> fmt::Debug for MakeBalanceLayer<D, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MakeBalanceLayer")
    }
}
