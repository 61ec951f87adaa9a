//! [`Priority`] and [`PriorityFor`].

/// How much a request matters when not all can be served: gRPC's
/// criticality classes, least critical first (so that they compare in
/// that order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Work that can be dropped at no cost: prefetches, batch jobs,
    /// retries of background tasks.
    Sheddable,
    /// Work that can be dropped, at some cost.
    SheddablePlus,
    /// The default: work a user waits for.
    #[default]
    Critical,
    /// Work that must go through above all: health checks the fleet depends
    /// on, control-plane calls.
    CriticalPlus,
}

impl Priority {
    /// Every class, least critical first.
    pub const ALL: [Priority; 4] = [
        Priority::Sheddable,
        Priority::SheddablePlus,
        Priority::Critical,
        Priority::CriticalPlus,
    ];

    /// Its name as gRPC writes it (`SHEDDABLE`, `SHEDDABLE_PLUS`,
    /// `CRITICAL`, `CRITICAL_PLUS`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Priority::Sheddable => "SHEDDABLE",
            Priority::SheddablePlus => "SHEDDABLE_PLUS",
            Priority::Critical => "CRITICAL",
            Priority::CriticalPlus => "CRITICAL_PLUS",
        }
    }

    /// The class named `name` as gRPC writes it; `None` for another name.
    pub fn from_name(name: &str) -> Option<Priority> {
        Priority::ALL
            .into_iter()
            .find(|class| class.as_str() == name)
    }

    /// Its place in [`ALL`](Self::ALL).
    pub(super) const fn index(self) -> usize {
        self as usize
    }
}

/// How a middleware reads a request's priority.
///
/// Implemented by every `Fn(&Req) -> Priority`, and with the `http`
/// feature by [`FromExtensions`].
pub trait PriorityFor<Req> {
    /// The priority of `request`.
    fn priority_for(&self, request: &Req) -> Priority;
}

impl<F, Req> PriorityFor<Req> for F
where
    F: Fn(&Req) -> Priority,
{
    fn priority_for(&self, request: &Req) -> Priority {
        self(request)
    }
}

/// Reads a [`Priority`] from an `http::Request`'s extensions;
/// [`Critical`](Priority::Critical) when there is none.
#[cfg(feature = "http")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FromExtensions;

#[cfg(feature = "http")]
impl<B> PriorityFor<http::Request<B>> for FromExtensions {
    fn priority_for(&self, request: &http::Request<B>) -> Priority {
        request
            .extensions()
            .get::<Priority>()
            .copied()
            .unwrap_or_default()
    }
}
