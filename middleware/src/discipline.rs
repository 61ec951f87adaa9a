//! [`QueueDiscipline`]: how a queue of waiting callers is served once it
//! stands, shared by the concurrency limits and the buffer; and
//! [`QueueDelay`], how long the oldest of them has waited.
//!
//! A queue *stands* from the moment a caller joins it empty until it is
//! empty again. Every figure here is on tokio's clock, so that tests can
//! pause it.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use crate::sync::Arc;
use crate::sync::atomic::{AtomicU64, Ordering};

/// How the waiters of a queue are served under load: first come, first
/// served (tower's way, the default), with CoDel's refusals, newest first
/// once the queue has stood a while, or both.
///
/// - [`codel(target, interval)`](Self::codel) bounds the time a caller
///   waits, as Facebook's adaptation of CoDel to request queues does: a
///   waiter is refused once it has waited `target`, if by then the queue
///   has not been empty for the last `interval`; otherwise once it has
///   waited `interval`. A queue that only forms in bursts lets its callers
///   wait up to `interval`; a queue that stands (the service cannot keep
///   up) refuses whoever has waited more than `target`, so that callers
///   learn of the overload at once instead of waiting for a timeout, and
///   the queue drains. For a waiter that joined at `joined` a queue
///   standing since `since`, that is at
///   `max(joined + target, since + interval)`.
/// - [`newest_first_after(standing)`](Self::newest_first_after): once the
///   queue has stood for `standing`, a free permit goes to the newest
///   waiter rather than the oldest. Under overload the oldest callers are
///   the likeliest to have given up already; the newest still have their
///   whole timeout ahead. With CoDel too, the oldest are then refused as
///   their time runs out.
///
/// Refused callers get [`Overloaded`](crate::load_shed::error::Overloaded)
/// (see each middleware's docs for where). A discipline needs a tokio
/// runtime with its time driver (to refuse a waiter when its time comes),
/// and reads the clock only on the slow path: when a caller has to wait,
/// and when a permit goes to a waiter.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::QueueDiscipline;
///
/// // Wait up to 100 ms in a burst, 5 ms once the queue stands; serve the
/// // newest first once it has stood 50 ms.
/// let discipline = QueueDiscipline::fifo()
///     .codel(Duration::from_millis(5), Duration::from_millis(100))
///     .newest_first_after(Duration::from_millis(50));
/// assert!(!discipline.is_fifo());
/// assert!(QueueDiscipline::default().is_fifo());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDiscipline {
    /// CoDel's `target` and `interval`.
    codel: Option<(Duration, Duration)>,
    /// How long the queue stands before the newest waiter is served first.
    newest_first_after: Option<Duration>,
}

impl QueueDiscipline {
    /// First come, first served, and no refusals: tower's way.
    pub const fn fifo() -> Self {
        QueueDiscipline {
            codel: None,
            newest_first_after: None,
        }
    }

    /// Refuses waiters CoDel's way (see [above](Self)): once they have
    /// waited `target` while the queue has not been empty for `interval`,
    /// or once they have waited `interval`.
    ///
    /// # Panics
    ///
    /// If `target` is zero or longer than `interval` (a caller that should
    /// never wait wants
    /// [`TryConcurrencyLimit`](crate::limit::TryConcurrencyLimit)).
    #[must_use]
    pub fn codel(mut self, target: Duration, interval: Duration) -> Self {
        assert!(
            !target.is_zero() && target <= interval,
            "QueueDiscipline::codel needs 0 < target <= interval, got target {target:?} and \
             interval {interval:?}"
        );
        self.codel = Some((target, interval));
        self
    }

    /// Serves the newest waiter first once the queue has stood for
    /// `standing` (zero: always), the oldest first before.
    #[must_use]
    pub fn newest_first_after(mut self, standing: Duration) -> Self {
        self.newest_first_after = Some(standing);
        self
    }

    /// Whether this is plain first come, first served.
    pub fn is_fifo(&self) -> bool {
        *self == QueueDiscipline::fifo()
    }

    /// When a waiter that joined at `joined` a queue standing since
    /// `since` is refused, if ever.
    pub(crate) fn refuse_at(&self, joined: Instant, since: Instant) -> Option<Instant> {
        let (target, interval) = self.codel?;
        Some((joined + target).max(since + interval))
    }

    /// Whether, at `now`, a queue standing since `since` serves its newest
    /// waiter first.
    pub(crate) fn serves_newest(&self, now: Instant, since: Instant) -> bool {
        self.newest_first_after
            .is_some_and(|standing| now.saturating_duration_since(since) >= standing)
    }

    /// The discipline a loom model uses: CoDel with the given durations,
    /// unchecked (zero allowed).
    #[cfg(all(test, donjon_loom))]
    pub(crate) fn unchecked_codel(target: Duration, interval: Duration) -> Self {
        QueueDiscipline {
            codel: Some((target, interval)),
            newest_first_after: None,
        }
    }
}

/// When the oldest waiter of a queue joined it, written by the queue's
/// owner under its lock and read by any [`QueueDelay`].
pub(crate) struct Oldest {
    base: Instant,
    /// Nanoseconds from `base` to the oldest waiter's joining, plus one;
    /// zero while nobody waits.
    joined: AtomicU64,
}

impl Oldest {
    pub(crate) fn new() -> Self {
        Oldest {
            base: Instant::now(),
            joined: AtomicU64::new(0),
        }
    }

    /// The oldest waiter joined at `joined`, or nobody waits (`None`).
    ///
    /// `Relaxed`: the figure guards no other data, and each queue writes it
    /// under its own lock, so the writes are in the queue's order.
    pub(crate) fn set(&self, joined: Option<Instant>) {
        let nanos = joined.map_or(0, |joined| {
            let since_base = joined.saturating_duration_since(self.base).as_nanos();
            u64::try_from(since_base).unwrap_or(u64::MAX - 1) + 1
        });
        self.joined.store(nanos, Ordering::Relaxed);
    }

    /// How long the oldest waiter has waited at `now`; zero if nobody
    /// waits.
    fn delay(&self, now: Instant) -> Duration {
        match self.joined.load(Ordering::Relaxed) {
            0 => Duration::ZERO,
            nanos => now.saturating_duration_since(self.base + Duration::from_nanos(nanos - 1)),
        }
    }
}

/// How long the oldest caller waiting in a queue has waited so far: a
/// handle on a concurrency limit's queue
/// ([`ConcurrencyLimit::queue_delay`](crate::limit::ConcurrencyLimit::queue_delay))
/// or a buffer's, cheap to clone and to read (an atomic load and a clock
/// read), for a
/// [`PriorityShed`](crate::priority::PriorityShed) to shed by, or for
/// anything else that wants to know.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::{ConcurrencyLimit, QueueDiscipline};
/// use donjon::{BoxError, service_fn};
///
/// let limit = ConcurrencyLimit::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }), 4)
///     .with_queue(QueueDiscipline::fifo());
/// let delay = limit.queue_delay();
/// assert_eq!(delay.get(), Duration::ZERO, "nobody waits");
/// ```
#[derive(Clone)]
pub struct QueueDelay {
    oldest: Arc<Oldest>,
}

impl QueueDelay {
    pub(crate) fn new(oldest: Arc<Oldest>) -> Self {
        QueueDelay { oldest }
    }

    /// How long the oldest waiter has waited so far; zero if nobody waits.
    pub fn get(&self) -> Duration {
        self.oldest.delay(Instant::now())
    }
}

impl fmt::Debug for QueueDelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueDelay")
            .field("delay", &self.get())
            .finish()
    }
}

#[cfg(all(test, not(donjon_loom)))]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn codel_refuses_at_the_later_of_target_after_joining_and_interval_after_the_queue_formed() {
        let start = Instant::now();
        let codel = QueueDiscipline::fifo().codel(ms(5), ms(100));
        // Joined an empty queue: it stands from then, so 100 ms.
        assert_eq!(codel.refuse_at(start, start), Some(start + ms(100)));
        // Joined 40 ms into a standing queue: refused when the queue has
        // stood 100 ms, 60 ms later.
        assert_eq!(
            codel.refuse_at(start + ms(40), start),
            Some(start + ms(100))
        );
        // Joined 98 ms in: target (5 ms) comes after the interval.
        assert_eq!(
            codel.refuse_at(start + ms(98), start),
            Some(start + ms(103))
        );
        // Joined 1 s in: 5 ms.
        assert_eq!(
            codel.refuse_at(start + ms(1000), start),
            Some(start + ms(1005))
        );
        assert_eq!(QueueDiscipline::fifo().refuse_at(start, start), None);
    }

    #[test]
    fn newest_first_starts_once_the_queue_has_stood_long_enough() {
        let start = Instant::now();
        let lifo = QueueDiscipline::fifo().newest_first_after(ms(50));
        assert!(!lifo.serves_newest(start + ms(49), start));
        assert!(lifo.serves_newest(start + ms(50), start));
        assert!(!QueueDiscipline::fifo().serves_newest(start + ms(1000), start));
        assert!(
            QueueDiscipline::fifo()
                .newest_first_after(Duration::ZERO)
                .serves_newest(start, start)
        );
    }

    #[test]
    #[should_panic(expected = "QueueDiscipline::codel needs 0 < target <= interval")]
    fn a_target_longer_than_the_interval_is_refused() {
        let _ = QueueDiscipline::fifo().codel(ms(200), ms(100));
    }

    #[test]
    #[should_panic(expected = "QueueDiscipline::codel needs 0 < target <= interval")]
    fn a_zero_target_is_refused() {
        let _ = QueueDiscipline::fifo().codel(Duration::ZERO, ms(100));
    }

    #[test]
    fn the_delay_is_the_oldest_waiters_wait_and_zero_when_nobody_waits() {
        let oldest = Arc::new(Oldest::new());
        let delay = QueueDelay::new(Arc::clone(&oldest));
        assert_eq!(delay.get(), Duration::ZERO);
        let joined = Instant::now();
        oldest.set(Some(joined));
        assert_eq!(oldest.delay(joined + ms(30)), ms(30));
        oldest.set(None);
        assert_eq!(oldest.delay(joined + ms(30)), Duration::ZERO);
    }
}
