//! A balancer's metrics (feature `metrics`): its endpoints, ready and
//! pending.

use std::borrow::Cow;

use metrics::Gauge;

use crate::metrics::names;

/// The handles of one [`Balance`](super::Balance), and what it added to
/// them.
///
/// The gauges are moved by the difference between what the balancer last
/// showed and what it holds now, never set: balancers sharing a name (those
/// one [`MakeBalance`](super::MakeBalance) makes, say) add up, and a
/// balancer dropped, or renamed, takes its share away.
pub(super) struct Meter {
    /// `donjon_balancer_endpoints` with `state = "ready"`.
    ready: Gauge,
    /// `donjon_balancer_endpoints` with `state = "pending"`.
    pending: Gauge,
    /// The ready and pending endpoints the gauges count for this balancer.
    shown: (usize, usize),
}

impl Meter {
    /// The handles for the balancer named `name`, showing no endpoint.
    pub(super) fn new(name: Cow<'static, str>) -> Self {
        let gauge = |state: &'static str| {
            metrics::gauge!(
                names::BALANCER_ENDPOINTS,
                names::NAME => name.clone(),
                names::STATE => state,
            )
        };
        Meter {
            ready: gauge("ready"),
            pending: gauge("pending"),
            shown: (0, 0),
        }
    }

    /// Shows `ready` and `pending` endpoints: a comparison, and the
    /// recorder's calls only when they changed.
    #[inline]
    pub(super) fn show(&mut self, ready: usize, pending: usize) {
        if (ready, pending) != self.shown {
            let (was_ready, was_pending) = std::mem::replace(&mut self.shown, (ready, pending));
            shift(&self.ready, was_ready, ready);
            shift(&self.pending, was_pending, pending);
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.show(0, 0);
    }
}

/// Moves `gauge` by the difference from `from` to `to`.
fn shift(gauge: &Gauge, from: usize, to: usize) {
    if to > from {
        gauge.increment((to - from) as f64);
    } else if to < from {
        gauge.decrement((from - to) as f64);
    }
}
