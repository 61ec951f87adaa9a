//! [`HealthCheckDiscover`]: wraps each endpoint a discovery finds in a
//! [`Checked`].

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use pin_project::pin_project;

use super::{Checked, HealthCheck, Probe};
use crate::discover::{Change, Discover};

/// Wraps each endpoint a [`Discover`] finds in a [`Checked`], probed as the
/// [`HealthCheck`] says by the one [`Probe`], given the endpoint's key.
///
/// An endpoint that the probe does not [check](Probe::checks) is wrapped
/// unchecked. Each checked endpoint's probing task is spawned when the
/// endpoint is yielded (for a balancer, when it takes the endpoint in), and
/// aborted when the endpoint is dropped: for a balancer, when it is removed
/// or replaced, when its readiness fails, or with the balancer. Removals
/// and errors pass through.
///
/// # Panics
///
/// Polled outside a tokio runtime, when it yields a checked endpoint.
///
/// # Examples
///
/// See the [`health`](super) module.
#[pin_project]
pub struct HealthCheckDiscover<D, P> {
    #[pin]
    discover: D,
    config: HealthCheck,
    probe: Arc<P>,
}

impl<D, P> HealthCheckDiscover<D, P> {
    /// Wraps `discover`, checking the endpoints it finds with `probe`, as
    /// `config` says.
    pub fn new(discover: D, config: HealthCheck, probe: P) -> Self {
        HealthCheckDiscover {
            discover,
            config,
            probe: Arc::new(probe),
        }
    }

    /// The health check configuration.
    pub const fn config(&self) -> &HealthCheck {
        &self.config
    }

    /// The probe.
    pub fn probe(&self) -> &P {
        &self.probe
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

impl<D: fmt::Debug, P> fmt::Debug for HealthCheckDiscover<D, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthCheckDiscover")
            .field("discover", &self.discover)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<D, P> Stream for HealthCheckDiscover<D, P>
where
    D: Discover,
    D::Key: Clone + fmt::Debug + Send + 'static,
    P: Probe<D::Key> + Send + Sync + 'static,
{
    type Item = Result<Change<D::Key, Checked<D::Service>>, D::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let change = match std::task::ready!(this.discover.poll_discover(cx)) {
            None => return Poll::Ready(None),
            Some(Err(error)) => return Poll::Ready(Some(Err(error))),
            Some(Ok(change)) => change,
        };
        Poll::Ready(Some(Ok(match change {
            Change::Insert(key, service) => {
                let service =
                    Checked::with_shared_probe(service, key.clone(), *this.config, this.probe);
                Change::Insert(key, service)
            }
            Change::Remove(key) => Change::Remove(key),
        })))
    }
}
