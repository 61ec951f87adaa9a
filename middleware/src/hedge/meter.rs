//! A hedge's metrics (feature `metrics`): the hedges sent, and those that
//! answered first.

use std::borrow::Cow;

use metrics::Counter;

use crate::metrics::names;

/// The handles of one [`Hedge`](super::Hedge), taken from the recorder when
/// it is made or named, and shared by its requests.
pub(super) struct Meter {
    /// `donjon_hedges_total`.
    pub(super) sent: Counter,
    /// `donjon_hedges_won_total`.
    pub(super) won: Counter,
}

impl Meter {
    /// The handles for the hedge named `name`.
    pub(super) fn new(name: Cow<'static, str>) -> Self {
        Meter {
            sent: metrics::counter!(names::HEDGES, names::NAME => name.clone()),
            won: metrics::counter!(names::HEDGES_WON, names::NAME => name),
        }
    }
}
