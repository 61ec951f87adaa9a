//! A permit of the fleet-wide limit (a lease in Redis, or one the failure
//! policy gave), and the renewals of a lease.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep, sleep_until};

use super::semaphore::Shared;
use crate::error::StoreError;

/// A permit to have one request in flight. A lease is given back to Redis
/// when the permit is dropped.
pub(super) struct Permit {
    kind: Kind,
}

enum Kind {
    /// A lease in Redis, taken (or last renewed) at `renewed`; `granted`
    /// once Redis said so (before, Redis may or may not hold it).
    Lease {
        shared: Arc<Shared>,
        id: String,
        renewed: Instant,
        granted: bool,
    },
    /// A permit of the in-process limit of `OnFailure::Local`, given back
    /// when dropped.
    Local { _permit: OwnedSemaphorePermit },
    /// No limit: Redis failed and the policy is to fail open.
    Open,
    /// Given back, or never granted.
    None,
}

impl Permit {
    /// A lease that Redis may grant; released on drop unless
    /// [`forget`](Self::forget) is called.
    pub(super) fn lease(shared: Arc<Shared>, id: String, renewed: Instant) -> Self {
        Permit {
            kind: Kind::Lease {
                shared,
                id,
                renewed,
                granted: false,
            },
        }
    }

    pub(super) fn local(permit: OwnedSemaphorePermit) -> Self {
        Permit {
            kind: Kind::Local { _permit: permit },
        }
    }

    pub(super) fn open() -> Self {
        Permit { kind: Kind::Open }
    }

    /// Redis granted the lease now.
    pub(super) fn taken_now(mut self) -> Self {
        if let Kind::Lease {
            renewed,
            granted,
            shared,
            ..
        } = &mut self.kind
        {
            *renewed = Instant::now();
            *granted = true;
            #[cfg(feature = "metrics")]
            shared.meter.leases.increment(1.0);
            #[cfg(not(feature = "metrics"))]
            let _ = shared;
        }
        self
    }

    /// Redis refused the lease: there is nothing to give back.
    pub(super) fn forget(mut self) {
        self.kind = Kind::None;
    }

    /// Whether the permit is a lease in Redis (to be renewed).
    pub(super) fn is_lease(&self) -> bool {
        matches!(self.kind, Kind::Lease { .. })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Kind::Lease {
            shared,
            id,
            granted,
            ..
        } = std::mem::replace(&mut self.kind, Kind::None)
        {
            #[cfg(feature = "metrics")]
            if granted {
                shared.meter.leases.decrement(1.0);
            }
            #[cfg(not(feature = "metrics"))]
            let _ = granted;
            shared.release(id);
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Lease { id, .. } => f.debug_tuple("Lease").field(id).finish(),
            Kind::Local { .. } => f.write_str("Local"),
            Kind::Open => f.write_str("Open"),
            Kind::None => f.write_str("None"),
        }
    }
}

type RenewFuture = Pin<Box<dyn Future<Output = Result<bool, StoreError>> + Send>>;

/// The renewals of a lease while its request is in flight: one every third
/// of the lease time, counted from when the lease was taken or last sent
/// for renewal.
pub(super) enum Renewal {
    /// Not needed yet (no pending poll so far), or not a lease.
    Idle,
    Running {
        sleep: Pin<Box<Sleep>>,
        call: Option<(RenewFuture, Instant)>,
    },
    /// The lease was lost, or the permit is not a lease.
    Stopped,
}

impl Renewal {
    /// Keeps `permit`'s lease alive: arms the timer, sends renewals, and
    /// registers the wake-ups that drive them. Call it whenever the
    /// request is pending.
    pub(super) fn poll(&mut self, permit: &mut Permit, cx: &mut Context<'_>) {
        let Kind::Lease {
            shared,
            id,
            renewed,
            ..
        } = &mut permit.kind
        else {
            *self = Renewal::Stopped;
            return;
        };
        if let Renewal::Idle = self {
            *self = Renewal::Running {
                sleep: Box::pin(sleep_until(*renewed + shared.lease() / 3)),
                call: None,
            };
        }
        let Renewal::Running { sleep, call } = self else {
            return;
        };
        // Loops only when a renewal just finished, and at most twice then.
        loop {
            if let Some((renewing, sent)) = call {
                let Poll::Ready(result) = renewing.as_mut().poll(cx) else {
                    return;
                };
                let sent = *sent;
                *call = None;
                match result {
                    Ok(true) => *renewed = sent,
                    Ok(false) => {
                        tracing::warn!(
                            key = shared.key(),
                            lease = %id,
                            lease_time = ?shared.lease(),
                            "a lease of the fleet-wide concurrency limit expired before its \
                             request completed; the request goes on, and another may take its \
                             permit"
                        );
                        *self = Renewal::Stopped;
                        return;
                    }
                    // The failure was reported by `renew`; try again a third
                    // of the lease after this attempt.
                    Err(_) => {}
                }
                sleep.as_mut().reset(sent + shared.lease() / 3);
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return;
            }
            let sent = Instant::now();
            *call = Some((Box::pin(Arc::clone(shared).renew(id.clone())), sent));
        }
    }

    /// Whether renewals stopped because the lease was lost, or never
    /// started.
    pub(super) fn is_stopped(&self) -> bool {
        matches!(self, Renewal::Stopped)
    }
}

impl fmt::Debug for Renewal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Renewal::Idle => "Idle",
            Renewal::Running { call: Some(_), .. } => "Renewing",
            Renewal::Running { call: None, .. } => "Waiting",
            Renewal::Stopped => "Stopped",
        })
    }
}
