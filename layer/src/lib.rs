//! The [`Layer`] trait: a decorator that wraps one service into another,
//! and the pieces to compose decorators.
//!
//! Middleware in donjon is a service that wraps an inner service: a timeout
//! around a handler, a retry around a client. A [`Layer`] is the recipe for
//! that wrapping, kept apart from the service it will wrap, so that one
//! stack of middleware can be described once and applied to many services.
//!
//! This crate holds the trait and the protocol-agnostic helpers:
//!
//! - [`Identity`] wraps nothing (the empty stack);
//! - [`Stack`] applies one layer inside another;
//! - [`layer_fn`] turns a closure into a layer;
//! - tuples of layers are layers, outermost first: `(a, b, c)` applied to a
//!   service `s` gives `a(b(c(s)))`;
//! - `&L` is a layer wherever `L` is.
//!
//! It has no dependencies and is `#![no_std]`. Most applications reach these
//! items through the `donjon` crate, whose `ServiceBuilder` composes layers
//! with a readable chain of method calls.
//!
//! # Examples
//!
//! ```
//! use donjon_layer::{Layer, Stack, layer_fn};
//!
//! /// A "service" here is anything; a real layer wraps a `Service`.
//! #[derive(Debug, PartialEq)]
//! struct Logged<S>(S);
//!
//! /// Wraps any value in `Logged`.
//! struct LogLayer;
//!
//! impl<S> Layer<S> for LogLayer {
//!     type Service = Logged<S>;
//!     fn layer(&self, inner: S) -> Logged<S> {
//!         Logged(inner)
//!     }
//! }
//!
//! let double = layer_fn(|n: u32| n * 2);
//! // `Stack::new(inner, outer)`: `double` applies first, then `LogLayer`.
//! let stack = Stack::new(double, LogLayer);
//! assert_eq!(stack.layer(21), Logged(42));
//!
//! // A tuple lists layers outermost first.
//! assert_eq!((LogLayer, layer_fn(|n: u32| n + 1)).layer(1), Logged(2));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod identity;
mod layer_fn;
mod stack;
mod tuple;

pub use crate::identity::Identity;
pub use crate::layer_fn::{LayerFn, layer_fn};
pub use crate::stack::Stack;

/// Decorates a service, turning it into another service.
///
/// A layer is applied with [`layer`](Layer::layer), which takes `&self`: the
/// same layer value can wrap any number of services, each wrap producing an
/// independent service (unless the layer documents shared state, as a global
/// concurrency limit does).
///
/// # Examples
///
/// A layer that counts how many services it wrapped is still applied by
/// shared reference:
///
/// ```
/// use core::cell::Cell;
/// use donjon_layer::Layer;
///
/// struct Numbered<S> {
///     number: u32,
///     inner: S,
/// }
///
/// #[derive(Default)]
/// struct NumberLayer {
///     next: Cell<u32>,
/// }
///
/// impl<S> Layer<S> for NumberLayer {
///     type Service = Numbered<S>;
///     fn layer(&self, inner: S) -> Numbered<S> {
///         let number = self.next.get();
///         self.next.set(number + 1);
///         Numbered { number, inner }
///     }
/// }
///
/// let layer = NumberLayer::default();
/// let first = layer.layer("a");
/// let second = (&layer).layer("b"); // `&L` is a layer too
/// assert_eq!((first.number, first.inner), (0, "a"));
/// assert_eq!((second.number, second.inner), (1, "b"));
/// ```
pub trait Layer<S> {
    /// The service this layer produces around an `S`.
    type Service;

    /// Wraps `inner`, returning the decorated service.
    fn layer(&self, inner: S) -> Self::Service;
}

impl<L, S> Layer<S> for &L
where
    L: ?Sized + Layer<S>,
{
    type Service = L::Service;

    #[inline]
    fn layer(&self, inner: S) -> Self::Service {
        (**self).layer(inner)
    }
}

/// The README examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
