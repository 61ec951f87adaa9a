use core::fmt;

use crate::Layer;

/// Two layers applied one inside the other.
///
/// `Stack::new(inner, outer).layer(s)` is `outer.layer(inner.layer(s))`:
/// `inner` wraps the service first and `outer` wraps the result, so requests
/// pass through `outer` before `inner`.
///
/// Its `Debug` output is a flat, outermost-first list of the layers, so that
/// deeply nested stacks (such as the ones a `ServiceBuilder` builds) print
/// readably.
///
/// # Examples
///
/// ```
/// use donjon_layer::{Layer, Stack, layer_fn};
///
/// let add_one = layer_fn(|n: i32| n + 1);
/// let double = layer_fn(|n: i32| n * 2);
/// // Inner first: (5 + 1) * 2.
/// assert_eq!(Stack::new(add_one, double).layer(5), 12);
/// ```
#[derive(Clone, Copy)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct Stack<Inner, Outer> {
    inner: Inner,
    outer: Outer,
}

impl<Inner, Outer> Stack<Inner, Outer> {
    /// Stacks `outer` around `inner`.
    pub const fn new(inner: Inner, outer: Outer) -> Self {
        Stack { inner, outer }
    }
}

impl<S, Inner, Outer> Layer<S> for Stack<Inner, Outer>
where
    Inner: Layer<S>,
    Outer: Layer<Inner::Service>,
{
    type Service = Outer::Service;

    #[inline]
    fn layer(&self, service: S) -> Self::Service {
        self.outer.layer(self.inner.layer(service))
    }
}

impl<Inner: fmt::Debug, Outer: fmt::Debug> fmt::Debug for Stack<Inner, Outer> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            write!(f, "{:#?},\n{:#?}", self.outer, self.inner)
        } else {
            write!(f, "{:?}, {:?}", self.outer, self.inner)
        }
    }
}
