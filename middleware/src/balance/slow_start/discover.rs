//! [`SlowStartDiscover`]: wraps each endpoint a discovery finds in a
//! [`Warming`].

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use pin_project::pin_project;

use super::{SlowStart, Warming};
use crate::discover::{Change, Discover};

/// Wraps each endpoint a [`Discover`] finds in a [`Warming`] that starts
/// warming up when it is yielded (for a balancer, when it takes the
/// endpoint in).
///
/// The endpoints of the first batch (every insertion yielded before the
/// discovery first returns `Pending` or ends) are warm from the start,
/// unless [`SlowStart::with_warm_initial`] says otherwise. Every later
/// insertion is warmed, a replacement (an insertion under a key in use)
/// included: it is a new endpoint, a new connection say. Removals and
/// errors pass through.
///
/// # Examples
///
/// See the [`slow_start`](super) module.
#[pin_project]
pub struct SlowStartDiscover<D> {
    #[pin]
    discover: D,
    config: SlowStart,
    /// Whether the discovery has not returned `Pending` or ended yet.
    first_batch: bool,
}

impl<D> SlowStartDiscover<D> {
    /// Wraps `discover`, warming the endpoints it finds as `config` says.
    pub const fn new(discover: D, config: SlowStart) -> Self {
        SlowStartDiscover {
            discover,
            config,
            first_batch: true,
        }
    }

    /// The slow start configuration.
    pub const fn config(&self) -> &SlowStart {
        &self.config
    }

    /// The inner discovery.
    pub const fn get_ref(&self) -> &D {
        &self.discover
    }

    /// The inner discovery, mutably.
    pub const fn get_mut(&mut self) -> &mut D {
        &mut self.discover
    }

    /// Unwraps the inner discovery.
    pub fn into_inner(self) -> D {
        self.discover
    }
}

impl<D: fmt::Debug> fmt::Debug for SlowStartDiscover<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlowStartDiscover")
            .field("discover", &self.discover)
            .field("config", &self.config)
            .field("first_batch", &self.first_batch)
            .finish()
    }
}

impl<D: Discover> Stream for SlowStartDiscover<D> {
    type Item = Result<Change<D::Key, Warming<D::Service>>, D::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let change = match this.discover.poll_discover(cx) {
            Poll::Pending => {
                *this.first_batch = false;
                return Poll::Pending;
            }
            Poll::Ready(None) => {
                *this.first_batch = false;
                return Poll::Ready(None);
            }
            Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
            Poll::Ready(Some(Ok(change))) => change,
        };
        let warm = *this.first_batch && !this.config.warm_initial();
        let config = *this.config;
        Poll::Ready(Some(Ok(change.map_service(|service| {
            if warm {
                Warming::warm(service)
            } else {
                Warming::new(service, config)
            }
        }))))
    }
}
