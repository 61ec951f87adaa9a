use core::any::type_name;
use core::fmt;

use crate::Layer;

/// Turns a closure from a service to a service into a [`Layer`].
///
/// Handy for one-off middleware, or to apply a constructor such as
/// `Timeout::new` with some fixed arguments.
///
/// # Examples
///
/// ```
/// use donjon_layer::{Layer, layer_fn};
///
/// #[derive(Debug, PartialEq)]
/// struct Named<S> {
///     name: &'static str,
///     inner: S,
/// }
///
/// let layer = layer_fn(|inner| Named { name: "api", inner });
/// assert_eq!(layer.layer(1), Named { name: "api", inner: 1 });
/// ```
pub fn layer_fn<F>(f: F) -> LayerFn<F> {
    LayerFn { f }
}

/// A [`Layer`] made from a closure; see [`layer_fn`].
///
/// Its `Debug` output names the closure's type.
#[derive(Clone, Copy)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct LayerFn<F> {
    f: F,
}

impl<F, S, Out> Layer<S> for LayerFn<F>
where
    F: Fn(S) -> Out,
{
    type Service = Out;

    #[inline]
    fn layer(&self, inner: S) -> Out {
        (self.f)(inner)
    }
}

impl<F> fmt::Debug for LayerFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerFn")
            .field("f", &format_args!("{}", type_name::<F>()))
            .finish()
    }
}
