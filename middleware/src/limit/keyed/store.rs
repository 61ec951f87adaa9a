use std::future::Future;
use std::time::Duration;

use crate::BoxError;
use crate::limit::gcra::Quota;

use super::error::InvalidKey;

/// Where keyed limits keep their state: one GCRA state per key, in this
/// process ([`MemoryStore`](super::MemoryStore)) or in a store the whole
/// fleet shares (the `donjon-redis` crate's Redis store, or your own).
///
/// A store decides whether one request for `key` may pass under `quota`,
/// and admits it if so. It answers at once when it can
/// ([`Answer::Now`]: an in-process store always does, a remote store does
/// when it holds permits taken ahead), or with a future that reaches the
/// store ([`Answer::Later`]).
///
/// Implement it for a store of your own; the middleware of this module
/// ([`KeyedRateLimit`](super::KeyedRateLimit),
/// [`SharedRateLimit`](super::SharedRateLimit)) then runs on it unchanged.
///
/// # Examples
///
/// A store that admits everything, for tests:
///
/// ```
/// use std::convert::Infallible;
/// use std::future::Ready;
/// use donjon::limit::gcra::Quota;
/// use donjon::limit::keyed::{Answer, Decision, RateStore};
///
/// #[derive(Clone)]
/// struct Unlimited;
///
/// impl<K: ?Sized> RateStore<K> for Unlimited {
///     type Error = Infallible;
///     type Future = Ready<Result<Decision, Infallible>>;
///
///     fn acquire(&self, _key: &K, _quota: Quota) -> Answer<Self::Future, Infallible> {
///         Answer::Now(Ok(Decision::Allowed))
///     }
/// }
///
/// let quota = Quota::per_second(1).unwrap();
/// assert!(matches!(Unlimited.acquire("anyone", quota), Answer::Now(Ok(Decision::Allowed))));
/// ```
pub trait RateStore<K: ?Sized> {
    /// The error of a store that could not decide (unreachable, too slow).
    type Error: Into<BoxError>;

    /// The future of a decision the store cannot give at once.
    type Future: Future<Output = Result<Decision, Self::Error>>;

    /// Decides whether one request for `key` may pass under `quota`,
    /// admitting it if so.
    fn acquire(&self, key: &K, quota: Quota) -> Answer<Self::Future, Self::Error>;

    /// Checks that the store accepts `key` (not empty, not too long...).
    ///
    /// [`SharedRateLimit`](super::SharedRateLimit) checks its key with it
    /// when it is built. [`acquire`](Self::acquire) still answers an error
    /// for a key the store refuses; it never panics. The default accepts
    /// every key.
    ///
    /// # Errors
    ///
    /// [`InvalidKey`] saying why the key is refused.
    fn check_key(&self, key: &K) -> Result<(), InvalidKey> {
        let _ = key;
        Ok(())
    }
}

/// A store's answer: a decision now, or a future of one.
#[derive(Debug)]
pub enum Answer<F, E> {
    /// The store decided at once.
    Now(Result<Decision, E>),
    /// The store decides when this future completes.
    Later(F),
}

/// Whether a request may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// It may pass; the store counted it.
    Allowed,
    /// It may not pass now.
    Limited {
        /// How long until a request for the same key would pass, if no other
        /// request takes its place first.
        retry_after: Duration,
    },
}

impl Decision {
    /// Whether the request may pass.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed)
    }
}
