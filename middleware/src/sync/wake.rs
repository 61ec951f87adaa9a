//! Wakers: the register-or-replace slot, a list of wake-ups to make once a
//! lock is released, and the withdrawal poll.

use std::sync::OnceLock;
use std::task::{Context, Poll, Wake, Waker};

use donjon_service::Service;

/// Stores `waker` in `slot`, unless the waker already there wakes the same
/// task (then the clone, an atomic increment for most executors, is saved).
#[inline]
pub(crate) fn register(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(known) if known.will_wake(waker) => {}
        other => *other = Some(waker.clone()),
    }
}

/// Wake-ups collected under a lock and made after it is released, so that a
/// woken task never finds the lock still held by its waker. Holds up to
/// [`WakeList::CAPACITY`] wakers without allocating; a caller with more to
/// wake makes these, then collects again.
pub(crate) struct WakeList {
    wakers: [Option<Waker>; WakeList::CAPACITY],
    len: usize,
}

impl WakeList {
    /// The wakers a list holds.
    pub(crate) const CAPACITY: usize = 8;

    pub(crate) fn new() -> Self {
        WakeList {
            wakers: Default::default(),
            len: 0,
        }
    }

    /// Whether the list is full.
    pub(crate) fn is_full(&self) -> bool {
        self.len == Self::CAPACITY
    }

    /// Adds a wake-up.
    ///
    /// # Panics
    ///
    /// If the list is full (see [`is_full`](Self::is_full)).
    pub(crate) fn push(&mut self, waker: Waker) {
        assert!(
            !self.is_full(),
            "a WakeList holds {} wakers",
            Self::CAPACITY
        );
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    /// Makes the wake-ups.
    pub(crate) fn wake_all(mut self) {
        for waker in self.wakers[..self.len].iter_mut() {
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        }
    }
}

impl std::fmt::Debug for WakeList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakeList").field("len", &self.len).finish()
    }
}

/// The waker of a withdrawal poll: waking it does nothing.
struct Withdrawal;

impl Wake for Withdrawal {
    fn wake(self: std::sync::Arc<Self>) {}
}

/// The one withdrawal waker, made on first use and never dropped.
static WITHDRAWAL: OnceLock<Waker> = OnceLock::new();

/// Polls `service` for readiness on behalf of a caller that stops waiting
/// for it: a middleware that gives up on its inner service's readiness
/// (load shedding after a bounded wait, a total timeout) calls this once,
/// so that the services below release what they hold or queue for while
/// they are not ready.
///
/// The poll's waker is one that wakes nobody. A service can only be
/// `Pending` for such a poll if it gives up its place: donjon's concurrency
/// limits, adaptive limit and buffer leave their queues and give back a
/// permit held for a call that is not coming (see [`is_withdrawal`]); any
/// other service simply returns what it would, and the caller ignores a
/// `Pending`. `Ready(Ok(()))` means the service became ready just now: the
/// caller can use that readiness rather than waste it.
pub(crate) fn withdraw<S, Req>(service: &mut S) -> Poll<Result<(), S::Error>>
where
    S: Service<Req>,
{
    service.poll_ready(&mut Context::from_waker(withdrawal_waker()))
}

/// The waker of withdrawal polls ([`withdraw`]).
pub(crate) fn withdrawal_waker() -> &'static Waker {
    WITHDRAWAL.get_or_init(|| Waker::from(std::sync::Arc::new(Withdrawal)))
}

/// Whether `waker` is the one of a withdrawal poll ([`withdraw`]): the
/// caller does not wait for a wake-up, so a service that would queue it,
/// or hold a permit for it while something else is not ready, must not.
///
/// Compares the waker's data pointer with the withdrawal waker's, which
/// points to an allocation that lives as long as the process: no other
/// waker can carry it. (Comparing vtables too could miss: a vtable may be
/// duplicated across codegen units.)
#[inline]
pub(crate) fn is_withdrawal(waker: &Waker) -> bool {
    WITHDRAWAL
        .get()
        .is_some_and(|withdrawal| std::ptr::eq(withdrawal.data(), waker.data()))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A service that records whether its poll was a withdrawal.
    struct Probe(Option<bool>);

    impl Service<()> for Probe {
        type Response = ();
        type Error = ();
        type Future = std::future::Ready<Result<(), ()>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
            self.0 = Some(is_withdrawal(cx.waker()));
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: ()) -> Self::Future {
            std::future::ready(Ok(()))
        }
    }

    #[test]
    fn only_the_withdrawal_waker_is_a_withdrawal() {
        let mut probe = Probe(None);
        assert!(withdraw(&mut probe).is_ready());
        assert_eq!(probe.0, Some(true), "the poll carries the withdrawal waker");
        assert!(!is_withdrawal(Waker::noop()), "a no-op waker is not one");
        let other = Waker::from(std::sync::Arc::new(Withdrawal));
        assert!(!is_withdrawal(&other), "nor another waker of the same kind");
    }

    struct Count(std::sync::Arc<AtomicUsize>);

    impl Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_wake_list_wakes_each_once_it_is_told() {
        let woken = std::sync::Arc::new(AtomicUsize::new(0));
        let mut list = WakeList::new();
        while !list.is_full() {
            list.push(Waker::from(std::sync::Arc::new(Count(woken.clone()))));
        }
        assert_eq!(woken.load(Ordering::Relaxed), 0, "not before it is told");
        list.wake_all();
        assert_eq!(woken.load(Ordering::Relaxed), WakeList::CAPACITY);
    }
}
