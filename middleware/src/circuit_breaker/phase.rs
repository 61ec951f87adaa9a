//! The breaker's phases, as its state machine holds them; the public
//! [`State`] each shows as; and the layout of the state word, which holds a
//! state's tag beside the epoch. `Phase::state`, [`to_tag`] and
//! [`from_tag`] are the one mapping between the three.

use tokio::time::Instant;

use super::handle::State;
use super::window::Totals;

/// The bits of the state word that hold the state's [tag](to_tag); the
/// rest is the epoch.
const TAG_BITS: u32 = 3;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;

/// The state word for `tag` in `epoch`.
pub(super) const fn pack(epoch: u64, tag: u64) -> u64 {
    (epoch << TAG_BITS) | tag
}

/// The epoch in a state word.
pub(super) const fn epoch_of(word: u64) -> u64 {
    word >> TAG_BITS
}

/// The tags of the two states that admit a call without the lock, for the
/// fast path's match on the state word.
pub(super) const CLOSED_TAG: u64 = to_tag(State::Closed);
pub(super) const DISABLED_TAG: u64 = to_tag(State::Disabled);

/// The [tag](to_tag) in a state word.
pub(super) const fn tag_of(word: u64) -> u64 {
    word & TAG_MASK
}

/// The state in a state word.
///
/// # Panics
///
/// As [`from_tag`], if the word holds no state's tag.
#[inline]
pub(super) fn state_of(word: u64) -> State {
    from_tag(tag_of(word))
}

/// The tag of `state` in the state word: with [`from_tag`], the one mapping
/// between the two.
pub(super) const fn to_tag(state: State) -> u64 {
    match state {
        State::Closed => 0,
        State::Open => 1,
        State::HalfOpen => 2,
        State::ForcedOpen => 3,
        State::Disabled => 4,
    }
}

/// The state whose [tag](to_tag) is `tag`.
///
/// # Panics
///
/// If `tag` is no state's: the state word is only ever written with a
/// phase's tag.
#[inline]
fn from_tag(tag: u64) -> State {
    match tag {
        0 => State::Closed,
        1 => State::Open,
        2 => State::HalfOpen,
        3 => State::ForcedOpen,
        4 => State::Disabled,
        _ => unreachable!(
            "the state word holds a tag that no phase has: it is only written from a phase"
        ),
    }
}

/// Where the breaker's state machine is, with what each state needs.
#[derive(Debug, Clone, Copy)]
pub(super) enum Phase {
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        /// Probes let through and not given back.
        admitted: u32,
        /// The outcomes of the probes that finished.
        finished: Totals,
    },
    ForcedOpen,
    Disabled,
}

impl Phase {
    /// The public state the phase shows as: the one mapping from phases to
    /// states.
    pub(super) const fn state(&self) -> State {
        match self {
            Phase::Closed => State::Closed,
            Phase::Open { .. } => State::Open,
            Phase::HalfOpen { .. } => State::HalfOpen,
            Phase::ForcedOpen => State::ForcedOpen,
            Phase::Disabled => State::Disabled,
        }
    }

    /// The phase's tag in the state word.
    pub(super) const fn to_tag(self) -> u64 {
        to_tag(self.state())
    }

    /// When an open period ends, while open.
    pub(super) const fn open_until(&self) -> Option<Instant> {
        match *self {
            Phase::Open { until } => Some(until),
            Phase::Closed | Phase::HalfOpen { .. } | Phase::ForcedOpen | Phase::Disabled => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_has_its_own_tag_which_maps_back_to_it() {
        let states = [
            State::Closed,
            State::Open,
            State::HalfOpen,
            State::ForcedOpen,
            State::Disabled,
        ];
        for state in states {
            assert!(to_tag(state) <= TAG_MASK, "{state}'s tag fits its bits");
            assert_eq!(from_tag(to_tag(state)), state);
        }
    }
}
