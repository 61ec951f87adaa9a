use core::fmt;

use crate::Layer;

/// The layer that wraps nothing: it returns the service it is given,
/// untouched.
///
/// It is the empty stack that a `ServiceBuilder` starts from, and the
/// "no layer" arm when a layer is optional.
///
/// # Examples
///
/// ```
/// use donjon_layer::{Identity, Layer};
///
/// assert_eq!(Identity::new().layer("service"), "service");
/// ```
#[derive(Default, Clone, Copy)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct Identity {
    _private: (),
}

impl Identity {
    /// Creates the identity layer.
    pub const fn new() -> Identity {
        Identity { _private: () }
    }
}

impl<S> Layer<S> for Identity {
    type Service = S;

    #[inline]
    fn layer(&self, inner: S) -> S {
        inner
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Identity")
    }
}
