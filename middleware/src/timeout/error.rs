//! The error of [`Timeout`](super::Timeout).

use std::fmt;

/// The error of a request that took longer than its timeout.
///
/// [`Timeout`](super::Timeout) returns it boxed in a
/// [`BoxError`](crate::BoxError): recognise it with `error.is::<Elapsed>()`.
#[derive(Debug, Default)]
pub struct Elapsed(());

impl Elapsed {
    /// Creates the error.
    pub const fn new() -> Self {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("request timed out")
    }
}

impl std::error::Error for Elapsed {}
