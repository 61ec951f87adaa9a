//! [`Rule`]: the parts of the readiness contract that the kit checks.

use std::fmt;

/// One part of the readiness contract a middleware must keep.
///
/// Each rule is checked by its own scenario, on a fresh service built by the
/// layer around a fresh mock; see the [module documentation](super) for
/// what each one does. A rule the middleware legitimately breaks is declared
/// with [`Contract::skip`](super::Contract::skip), with the reason.
///
/// Its [`Display`](fmt::Display) text is the rule as a sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// `Pending` from the inner service makes `poll_ready` `Pending` too, and
    /// `poll_ready` is `Ready` again once the inner service is.
    ///
    /// Checked by making the mock not ready (`allow(0)`): `poll_ready`, polled
    /// twice, must be `Pending`. Once the mock allows one call, `poll_ready`
    /// must become `Ready(Ok(()))`; after that call reached the mock,
    /// `poll_ready` must be `Pending` again.
    PendingPropagates,
    /// After a `Pending`, the wake-up of the inner service reaches the
    /// caller's task.
    ///
    /// Checked in the same scenario as [`PendingPropagates`](Rule::PendingPropagates):
    /// when the mock allows a call again, the task that got `Pending` must be
    /// woken (without being polled), and every later `Pending` on the way to
    /// `Ready` must be followed by a wake-up too. A service that is
    /// `Pending` while a response future is in flight (with the mock ready)
    /// must be woken when dropping that future makes it ready. For a `Clone` service
    /// (checked by the `*_cloneable` methods), a clone that gets `Pending`
    /// after the original did must not take the original's wake-up. A
    /// service that never returns `Pending` keeps this rule trivially.
    WakeupReachesCaller,
    /// Each `Ready(Ok(()))` allows one call, which reaches the inner service
    /// at most once, and only with the inner service's own readiness.
    ///
    /// Checked by calling a ready service and counting the requests that
    /// reach the mock (at most one, for each call of the
    /// [`DropReleases`](Rule::DropReleases) scenario too), and by calling a
    /// fresh service without
    /// `poll_ready`: that call must not reach the mock (a panic, from the
    /// middleware or from the mock, or an error, is fine). Whenever a mock
    /// is called without its readiness outside that deliberate misuse, this
    /// rule is reported broken, whichever scenario was running.
    OneCallPerReady,
    /// Dropping response futures before they finish releases what they held:
    /// after N dropped futures, the service is ready again.
    ///
    /// Checked by calling the service [`rounds`](super::Contract::with_rounds)
    /// times, dropping each response future (half of them after a first
    /// poll, half unpolled) while the mock keeps its request unanswered; the
    /// service must be ready before each call and after the last drop.
    DropReleases,
    /// A clone of a ready service starts without readiness, and cloning does
    /// not take the readiness of the original.
    ///
    /// Checked, for `Clone` services only, by cloning a ready service while
    /// the mock allows no more calls: a clone called without `poll_ready`
    /// must not reach the mock; a clone whose `poll_ready` returns
    /// `Ready(Ok(()))` must not then call the mock without its readiness;
    /// and the original's call must still go through.
    CloneStartsUnready,
    /// An error from the inner service's `poll_ready` reaches the caller.
    ///
    /// Checked by making the mock's next `poll_ready` fail: the service's
    /// `poll_ready` must return an error, or return `Ready(Ok(()))` and fail
    /// the next call's response future without the request reaching the
    /// mock. The same is checked again on a service that made a call (its
    /// response future dropped), where a `poll_ready` that stays `Pending`
    /// is left to [`DropReleases`](Rule::DropReleases).
    ErrorSurfaces,
}

impl Rule {
    /// Every rule, in the order the kit checks and reports them.
    pub const ALL: [Rule; 6] = [
        Rule::PendingPropagates,
        Rule::WakeupReachesCaller,
        Rule::OneCallPerReady,
        Rule::DropReleases,
        Rule::CloneStartsUnready,
        Rule::ErrorSurfaces,
    ];

    /// The rule as a sentence, as displayed.
    pub const fn description(self) -> &'static str {
        match self {
            Rule::PendingPropagates => "`Pending` from the inner service propagates",
            Rule::WakeupReachesCaller => "the inner service's wake-up reaches the caller",
            Rule::OneCallPerReady => "one call per `Ready`, forwarded at most once",
            Rule::DropReleases => "dropped response futures release what they held",
            Rule::CloneStartsUnready => "a clone does not inherit readiness",
            Rule::ErrorSurfaces => "an inner `poll_ready` error reaches the caller",
        }
    }

    /// Whether checking the rule needs a `Clone` service.
    pub(super) const fn needs_clone(self) -> bool {
        matches!(self, Rule::CloneStartsUnready)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
