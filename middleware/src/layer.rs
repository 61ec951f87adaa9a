//! The [`Layer`] trait and the helpers to build and compose layers.
//!
//! These are re-exports of the `donjon-layer` crate, so that applications
//! can depend on `donjon` alone.
//!
//! # Examples
//!
//! ```
//! use donjon::layer::{Layer, layer_fn};
//! use donjon::layer::util::{Identity, Stack};
//!
//! let double = layer_fn(|n: u32| n * 2);
//! let stack = Stack::new(double, Identity::new());
//! assert_eq!(stack.layer(21), 42);
//! ```

pub use donjon_layer::{Layer, LayerFn, layer_fn};

/// Layers that compose other layers.
pub mod util {
    pub use donjon_layer::{Identity, Stack};
}
