//! The response future of [`TryConcurrencyLimit`](super::TryConcurrencyLimit).

pub use crate::overloaded::ResponseFuture;
