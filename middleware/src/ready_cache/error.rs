//! The error of [`ReadyCache`](super::ReadyCache).

use std::fmt;

use crate::BoxError;

/// A service of a [`ReadyCache`](super::ReadyCache) failed: its key, and its
/// error.
///
/// The failed service has been dropped from the cache. Its `Display` is the
/// service's error's, and its `source` is that error.
pub struct Failed<K>(pub K, pub BoxError);

impl<K: fmt::Debug> fmt::Debug for Failed<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Failed")
            .field(&self.0)
            .field(&self.1)
            .finish()
    }
}

impl<K> fmt::Display for Failed<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.1.fmt(f)
    }
}

impl<K: fmt::Debug> std::error::Error for Failed<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.1)
    }
}
