//! [`OutlierDiscover`]: a discovery whose endpoints are [`Ejectable`]s of
//! one detector.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use pin_project::pin_project;

use super::{Detector, Ejectable};
use crate::classify::ErrorsAreFailures;
use crate::discover::{Change, Discover};

/// Wraps each endpoint a [`Discover`] inserts in an [`Ejectable`]
/// registered with one [`Detector`].
///
/// Made by [`OutlierDetection::discover`](super::OutlierDetection::discover)
/// or [`Detector::discover`]. An endpoint is registered when it is
/// inserted, and unregistered when its `Ejectable` is dropped: when the
/// balancer drops it on its removal, its replacement, or a failed
/// readiness. Removals pass through.
///
/// # Examples
///
/// See the [module documentation](super).
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub struct OutlierDiscover<D, C = ErrorsAreFailures> {
    #[pin]
    discover: D,
    detector: Detector<C>,
}

impl<D, C> OutlierDiscover<D, C> {
    /// Wraps `discover`, registering its endpoints with `detector`.
    pub const fn new(discover: D, detector: Detector<C>) -> Self {
        OutlierDiscover { discover, detector }
    }

    /// The detector the endpoints are registered with.
    pub fn detector(&self) -> &Detector<C> {
        &self.detector
    }

    /// The inner discovery.
    pub fn get_ref(&self) -> &D {
        &self.discover
    }

    /// The inner discovery, mutably.
    pub fn get_mut(&mut self) -> &mut D {
        &mut self.discover
    }

    /// The inner discovery.
    pub fn into_inner(self) -> D {
        self.discover
    }
}

impl<D, C> Stream for OutlierDiscover<D, C>
where
    D: Discover,
{
    type Item = Result<Change<D::Key, Ejectable<D::Service, C>>, D::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let detector = &*this.detector;
        this.discover.poll_discover(cx).map(|change| {
            change.map(|change| change.map(|change| change.map_service(|s| detector.wrap(s))))
        })
    }
}

impl<D: fmt::Debug, C> fmt::Debug for OutlierDiscover<D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutlierDiscover")
            .field("discover", &self.discover)
            .field("detector", &self.detector)
            .finish()
    }
}
