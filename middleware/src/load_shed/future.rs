//! The response future of [`LoadShed`](super::LoadShed).

pub use crate::overloaded::ResponseFuture;
