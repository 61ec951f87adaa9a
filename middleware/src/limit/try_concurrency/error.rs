//! The error of [`TryConcurrencyLimit`](super::TryConcurrencyLimit).

pub use crate::overloaded::Overloaded;
