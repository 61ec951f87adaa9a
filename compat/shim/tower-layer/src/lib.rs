//! `tower-layer`, answered by `donjon-layer`.
//!
//! This crate is meant to be put in place of the `tower-layer` crate with a
//! `[patch.crates-io]` section (see donjon's README). `Layer`, `Identity`,
//! `Stack`, `LayerFn` and `layer_fn` are then donjon-layer's, tuple layers
//! included.
//!
//! ```
//! use tower_layer::{Identity, Layer, Stack, layer_fn};
//!
//! struct Logged<S>(S);
//!
//! let layers = Stack::new(layer_fn(Logged), Identity::new());
//! let Logged(inner) = layers.layer("service");
//! assert_eq!(inner, "service");
//!
//! // The same layer, seen through donjon's trait.
//! fn is_donjon_layer<L: donjon_layer::Layer<&'static str>>(_: &L) {}
//! is_donjon_layer(&layers);
//! ```

#![no_std]
#![forbid(unsafe_code)]

pub use donjon_layer::{Identity, Layer, LayerFn, Stack, layer_fn};
