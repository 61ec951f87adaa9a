use std::time::Duration;

use donjon_layer::Layer;

use super::Timeout;
use crate::deadline::NoDeadline;

/// A [`Layer`] that wraps services in a [`Timeout`].
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct TimeoutLayer<D = NoDeadline> {
    timeout: Duration,
    deadlines: D,
}

impl TimeoutLayer {
    /// Creates a layer failing requests that take longer than `timeout`.
    pub const fn new(timeout: Duration) -> Self {
        TimeoutLayer {
            timeout,
            deadlines: NoDeadline,
        }
    }
}

impl<D> TimeoutLayer<D> {
    /// Makes its services end each call at the earlier of the timeout and
    /// the request's deadline, read with `deadlines`; see
    /// [`Timeout::with_deadlines`].
    pub fn with_deadlines<D2>(self, deadlines: D2) -> TimeoutLayer<D2> {
        TimeoutLayer {
            timeout: self.timeout,
            deadlines,
        }
    }
}

impl<S, D: Clone> Layer<S> for TimeoutLayer<D> {
    type Service = Timeout<S, D>;

    fn layer(&self, service: S) -> Self::Service {
        Timeout::new(service, self.timeout).with_deadlines(self.deadlines.clone())
    }
}
