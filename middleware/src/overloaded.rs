//! [`Overloaded`], the error of a request refused at once: shared by
//! `load_shed` and the refusing concurrency limit, so that one check
//! recognises both.

use std::fmt;

/// The error of a request refused at once because the service had no room
/// for it.
///
/// [`LoadShed`](crate::load_shed::LoadShed) returns it for a request the
/// service was not ready for, and
/// [`TryConcurrencyLimit`](crate::limit::TryConcurrencyLimit) for a request
/// over its limit, each boxed in a [`BoxError`](crate::BoxError): recognise
/// it with `error.is::<Overloaded>()`. It is one type under both paths,
/// `load_shed::error::Overloaded` and `limit::try_concurrency::error::Overloaded`.
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
