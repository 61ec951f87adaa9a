//! The error of [`LoadShed`](super::LoadShed).

pub use crate::overloaded::Overloaded;
