//! The error of [`LoadShed`](super::LoadShed).

use std::fmt;

/// The error of a request rejected because the service was not ready.
///
/// [`LoadShed`](super::LoadShed) returns it boxed in a
/// [`BoxError`](crate::BoxError): recognise it with
/// `error.is::<Overloaded>()`.
#[derive(Default)]
pub struct Overloaded(());

impl Overloaded {
    /// Creates the error.
    pub const fn new() -> Self {
        Overloaded(())
    }
}

impl fmt::Debug for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Overloaded")
    }
}

impl fmt::Display for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("service overloaded")
    }
}

impl std::error::Error for Overloaded {}
