//! [`Detector`]: the state shared by the endpoints of one detection, and
//! [`EndpointId`].

use std::fmt;

use tokio::time::Instant;

use super::config::OutlierDetection;
use super::discover::OutlierDiscover;
use super::state::{Event, State};
use super::{Ejectable, EjectableLayer};
use crate::classify::{Classify, ErrorsAreFailures, Outcome};
use crate::sync::{Arc, Mutex, lock};

/// Identifies an endpoint registered with a [`Detector`]: given in order
/// from 0, never reused by the detector. Shown in its `tracing` events as
/// `endpoint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointId(pub(super) u64);

impl EndpointId {
    /// The number of the endpoint.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The outlier detection of one set of endpoints: what each endpoint's
/// calls finished as, which endpoints are ejected and until when.
///
/// Made by [`OutlierDetection::detector`] (or, with the discovery or layer
/// it registers endpoints through, by [`OutlierDetection::discover`] and
/// [`OutlierDetection::layer`]). Clones share the state: keep one to watch
/// the endpoints. Each [`Ejectable`] registers itself when made and
/// unregisters when dropped; the share of endpoints that may be ejected is
/// counted over those registered.
///
/// Every method first brings the state up to date: it runs the
/// success-rate checks of the intervals that ended, and ends the ejections
/// that are over (see the [module documentation](super)).
///
/// # Locking
///
/// The state is behind one mutex, taken for a few arithmetic steps by each
/// poll of an [`Ejectable`], each finished call, and each method here (a
/// pass over every endpoint at the end of an interval). `tracing` events
/// are emitted after it is released. A panic in the classifier happens
/// outside it.
pub struct Detector<C = ErrorsAreFailures> {
    shared: Arc<Shared<C>>,
}

struct Shared<C> {
    state: Mutex<Locked>,
    classify: C,
    #[cfg(feature = "metrics")]
    meter: Meter,
}

/// What the lock guards: the state, and (feature `metrics`) the ejected
/// count last recorded.
struct Locked {
    state: State,
    #[cfg(feature = "metrics")]
    recorded: usize,
}

/// The handles of a detector's metrics, taken when it is made.
#[cfg(feature = "metrics")]
struct Meter {
    ejected: metrics::Gauge,
    /// By reason: consecutive failures, success rate.
    ejections: [metrics::Counter; 2],
}

#[cfg(feature = "metrics")]
impl Meter {
    fn new(name: std::borrow::Cow<'static, str>) -> Self {
        use crate::metrics::names;
        let name = metrics::SharedString::from(name);
        let ejections = ["consecutive_failures", "success_rate"].map(|reason| {
            let labels = [
                (names::NAME, name.clone()),
                (names::REASON, metrics::SharedString::const_str(reason)),
            ];
            metrics::counter!(names::OUTLIER_EJECTIONS, &labels)
        });
        Meter {
            ejected: metrics::gauge!(names::OUTLIER_EJECTED, names::NAME => name),
            ejections,
        }
    }

    /// Counts the ejection `event` reports, if it reports one.
    fn count(&self, event: &Event) {
        if let Event::Ejected { reason, .. } = event {
            let index = match reason {
                super::state::Reason::ConsecutiveFailures(_) => 0,
                super::state::Reason::SuccessRate { .. } => 1,
            };
            self.ejections[index].increment(1);
        }
    }
}

impl<C> Clone for Detector<C> {
    fn clone(&self) -> Self {
        Detector {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C> Detector<C> {
    /// A detector configured by `detection`, its first interval starting
    /// now.
    pub fn new(detection: OutlierDetection<C>) -> Self {
        Detector {
            shared: Arc::new(Shared {
                state: Mutex::new(Locked {
                    state: State::new(detection.settings, Instant::now()),
                    #[cfg(feature = "metrics")]
                    recorded: 0,
                }),
                classify: detection.classify,
                #[cfg(feature = "metrics")]
                meter: Meter::new(detection.name),
            }),
        }
    }

    /// Wraps `service` in an [`Ejectable`] registered with this detector.
    pub fn wrap<S>(&self, service: S) -> Ejectable<S, C> {
        Ejectable::new(service, self)
    }

    /// A layer that wraps each service in an [`Ejectable`] registered with
    /// this detector.
    pub fn layer(&self) -> EjectableLayer<C> {
        EjectableLayer::new(self.clone())
    }

    /// Wraps `discover`: each endpoint it inserts is wrapped in an
    /// [`Ejectable`] registered with this detector.
    pub fn discover<D>(&self, discover: D) -> OutlierDiscover<D, C> {
        OutlierDiscover::new(discover, self.clone())
    }

    /// The number of registered endpoints, ejected or not.
    pub fn len(&self) -> usize {
        lock(&self.shared.state).state.len()
    }

    /// Whether no endpoint is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of endpoints ejected now.
    pub fn ejected_len(&self) -> usize {
        self.with_state(|state, now, events| state.ejected_len(now, events))
    }

    /// Whether endpoint `id` is ejected now (`false` if it is unknown).
    pub fn is_ejected(&self, id: EndpointId) -> bool {
        self.ejected_until(id).is_some()
    }

    /// When the ejection of endpoint `id` ends, if it is ejected now.
    pub fn ejected_until(&self, id: EndpointId) -> Option<Instant> {
        self.with_state(|state, now, events| state.ejected_until(id, now, events))
    }

    /// Registers a new endpoint.
    pub(super) fn register(&self) -> EndpointId {
        self.with_state(|state, now, events| state.register(now, events))
    }

    /// Forgets endpoint `id`.
    pub(super) fn unregister(&self, id: EndpointId) {
        self.with_state(|state, now, events| state.unregister(id, now, events));
    }

    /// Classifies the result of a call of `id`, and takes it in.
    pub(super) fn report<Res, E>(&self, id: EndpointId, result: &Result<Res, E>)
    where
        C: Classify<Res, E>,
    {
        let outcome = self.shared.classify.classify(result);
        if outcome != Outcome::Ignored {
            self.with_state(|state, now, events| state.report(id, outcome, now, events));
        }
    }

    /// Runs `f` on the state, under the lock, at the current time; emits
    /// what it decided once the lock is released.
    fn with_state<R>(&self, f: impl FnOnce(&mut State, Instant, &mut Vec<Event>) -> R) -> R {
        let mut events = Vec::new();
        let result = {
            let mut locked = lock(&self.shared.state);
            let result = f(&mut locked.state, Instant::now(), &mut events);
            // Under the lock, so that the gauge is set in the order the
            // counts changed; only when it changed.
            #[cfg(feature = "metrics")]
            {
                let ejected = locked.state.ejected_now();
                if ejected != locked.recorded {
                    locked.recorded = ejected;
                    #[allow(clippy::cast_precision_loss, reason = "a count of endpoints")]
                    self.shared.meter.ejected.set(ejected as f64);
                }
            }
            result
        };
        for event in events {
            #[cfg(feature = "metrics")]
            self.shared.meter.count(&event);
            emit(event);
        }
        result
    }
}

/// Reports `event` through `tracing`.
fn emit(event: Event) {
    match event {
        Event::Ejected {
            id,
            reason,
            duration,
            multiplier,
            ejected,
            endpoints,
        } => tracing::info!(
            endpoint = id.0,
            %reason,
            ?duration,
            multiplier,
            ejected,
            endpoints,
            "outlier detection: endpoint ejected"
        ),
        Event::Spared {
            id,
            reason,
            ejected,
            endpoints,
        } => tracing::debug!(
            endpoint = id.0,
            %reason,
            ejected,
            endpoints,
            "outlier detection: endpoint not ejected, as many as allowed are"
        ),
        Event::Returned { id, after } => tracing::info!(
            endpoint = id.0,
            duration = ?after,
            "outlier detection: endpoint returned"
        ),
    }
}

impl<C> fmt::Debug for Detector<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector")
            .field("state", &lock(&self.shared.state).state)
            .finish_non_exhaustive()
    }
}
