//! The power-of-two-choices balancer, and a make-service of balancers.
//!
//! See the [`balance`](super) module for an example.

mod layer;
mod make;
#[cfg(feature = "metrics")]
mod meter;
mod service;

pub use self::layer::MakeBalanceLayer;
pub use self::make::{MakeBalance, MakeFuture};
pub use self::service::Balance;
