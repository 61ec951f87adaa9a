//! [`Handle`]: a view on a limiter's figures.

use std::fmt;
use std::sync::Arc;

use crate::sync::Gate;

/// Reads the current limit and the number of requests in flight of an
/// [`AdaptiveConcurrencyLimit`](super::AdaptiveConcurrencyLimit) and its
/// clones.
///
/// Get one with
/// [`AdaptiveConcurrencyLimit::handle`](super::AdaptiveConcurrencyLimit::handle).
/// Clones read the same limiter; a handle keeps reading it after the
/// services are dropped. Both figures are read without a lock, and may be
/// stale by the time they are used.
///
/// # Examples
///
/// ```
/// use donjon::limit::adaptive::{AdaptiveConcurrencyLimitLayer, Aimd};
/// use donjon::Layer;
///
/// # #[derive(Clone)] struct Backend;
/// let service = AdaptiveConcurrencyLimitLayer::new(Aimd::new())
///     .with_initial_limit(10)
///     .layer(Backend);
/// let handle = service.handle();
/// assert_eq!(handle.limit(), 10);
/// assert_eq!(handle.in_flight(), 0);
/// ```
#[derive(Clone)]
pub struct Handle {
    slots: Arc<Gate>,
}

impl Handle {
    pub(super) fn new(slots: Arc<Gate>) -> Self {
        Handle { slots }
    }

    /// The current limit: how many requests may be in flight at once.
    pub fn limit(&self) -> usize {
        self.slots.limit()
    }

    /// How many requests are in flight: admitted by `poll_ready` (reserved
    /// slots count) and not yet finished or dropped.
    ///
    /// It may be above [`limit`](Self::limit) for a while after the limit
    /// shrinks.
    pub fn in_flight(&self) -> usize {
        self.slots.in_flight()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("limit", &self.limit())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}
