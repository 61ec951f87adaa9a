//! The breaker's metrics (feature `metrics`): its state, and each
//! transition by the state it led to.

use metrics::{Counter, Gauge, SharedString};

use super::handle::State;
use super::phase::to_tag;
use crate::metrics::names;

/// Every state, in the order of their tags.
const STATES: [State; 5] = [
    State::Closed,
    State::Open,
    State::HalfOpen,
    State::ForcedOpen,
    State::Disabled,
];

/// The label value of `state`.
const fn label(state: State) -> &'static str {
    match state {
        State::Closed => "closed",
        State::Open => "open",
        State::HalfOpen => "half_open",
        State::ForcedOpen => "forced_open",
        State::Disabled => "disabled",
    }
}

/// The breaker's handles, taken from the recorder when it is built.
#[derive(Debug)]
pub(super) struct Meter {
    /// 1 for the state the breaker is in, 0 for the others; by tag.
    state: [Gauge; 5],
    /// Transitions, by the state they led to; by tag.
    transitions: [Counter; 5],
}

impl Meter {
    /// The handles for the breaker named `name`, closed.
    pub(super) fn new(name: &str) -> Self {
        let name = SharedString::from_owned(name.to_owned());
        let meter = Meter {
            state: STATES.map(|state| {
                let labels = [
                    (names::NAME, name.clone()),
                    (names::STATE, label(state).into()),
                ];
                metrics::gauge!(names::BREAKER_STATE, &labels)
            }),
            transitions: STATES.map(|state| {
                let labels = [
                    (names::NAME, name.clone()),
                    (names::TO, label(state).into()),
                ];
                metrics::counter!(names::BREAKER_TRANSITIONS, &labels)
            }),
        };
        meter.state[tag(State::Closed)].set(1.0);
        meter
    }

    /// Records a transition from `from` to `to`.
    pub(super) fn transition(&self, from: State, to: State) {
        self.state[tag(from)].set(0.0);
        self.state[tag(to)].set(1.0);
        self.transitions[tag(to)].increment(1);
    }
}

fn tag(state: State) -> usize {
    // Tags are below 8 (three bits).
    to_tag(state) as usize
}
