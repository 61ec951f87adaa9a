//! The sliding windows of recent outcomes that a circuit breaker reads its
//! failure and slow-call rates from.
//!
//! Both kinds keep running totals, updated as outcomes come in and go out,
//! so that reading them is O(1). Neither reads the clock: every operation is
//! given the current [`Instant`], which makes them deterministic to test.
//! Their storage is allocated once, when the window is made. Recording an
//! outcome divides nothing: the count window keeps the index of its next
//! slot, and the time window the end of its latest bucket, dividing only to
//! find how many buckets passed when it moves on.
//!
//! The breaker also adds successes in bulk: those it counted without its
//! lock (see `credit.rs`), added the next time it takes the lock. They cost
//! at most one step each, and no more steps than the window has slots.

use std::time::Duration;

use tokio::time::Instant;

use super::config::WindowKind;

/// How many calls a window holds, and how many of them failed or were slow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Totals {
    pub(super) calls: u64,
    pub(super) failures: u64,
    pub(super) slow: u64,
}

impl Totals {
    pub(super) fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failures += u64::from(failed);
        self.slow += u64::from(slow);
    }

    fn add_successes(&mut self, successes: u64) {
        self.calls += successes;
    }

    fn remove(&mut self, other: Totals) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }
}

/// A sliding window of outcomes, of either kind.
#[derive(Debug)]
pub(super) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

impl Window {
    /// An empty window of the configured kind; a time window starts its
    /// first bucket at `origin`.
    pub(super) fn new(kind: WindowKind, origin: Instant) -> Self {
        match kind {
            WindowKind::Count { size } => Window::Count(CountWindow::new(size)),
            WindowKind::Time { length, buckets } => {
                Window::Time(TimeWindow::new(length, buckets, origin))
            }
        }
    }

    /// Adds the outcome of a call that finished at `now`.
    #[inline]
    pub(super) fn record(&mut self, now: Instant, failed: bool, slow: bool) {
        match self {
            Window::Count(window) => window.record(failed, slow),
            Window::Time(window) => window.record(now, failed, slow),
        }
    }

    /// Adds `successes` successful calls that were not slow: to a time
    /// window, in its latest bucket (they finished before it ended).
    pub(super) fn record_successes(&mut self, successes: u64) {
        match self {
            Window::Count(window) => window.record_successes(successes),
            Window::Time(window) => window.record_successes(successes),
        }
    }

    /// The totals of the window as it is at `now`.
    #[inline]
    pub(super) fn totals(&mut self, now: Instant) -> Totals {
        match self {
            Window::Count(window) => window.totals(),
            Window::Time(window) => window.totals(now),
        }
    }

    /// The totals of the window as it was last moved (by
    /// [`record`](Self::record) or [`totals`](Self::totals)): the same as
    /// `totals` at any time before [`latest_end`](Self::latest_end).
    pub(super) fn held(&self) -> Totals {
        match self {
            Window::Count(window) => window.totals(),
            Window::Time(window) => window.totals,
        }
    }

    /// When a time window's latest bucket ends, and with it what
    /// [`held`](Self::held) tells; `None` for a count window, or a time
    /// window whose next bucket would start past what an `Instant` holds.
    pub(super) fn latest_end(&self) -> Option<Instant> {
        match self {
            Window::Count(_) => None,
            Window::Time(window) => window.head_end,
        }
    }

    /// Forgets every outcome.
    pub(super) fn clear(&mut self) {
        match self {
            Window::Count(window) => window.clear(),
            Window::Time(window) => window.clear(),
        }
    }
}

/// The last `size` outcomes, in a ring of one byte each.
#[derive(Debug)]
pub(super) struct CountWindow {
    /// Each outcome as bits: [`FAILED`], [`SLOW`].
    slots: Box<[u8]>,
    /// Where the next outcome goes (and, when full, the oldest one is).
    next: usize,
    /// How many slots hold an outcome.
    len: usize,
    totals: Totals,
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

impl CountWindow {
    fn new(size: u32) -> Self {
        let size = usize::try_from(size).expect("a window size fits in usize");
        assert!(size > 0, "a count window holds at least one call");
        CountWindow {
            slots: vec![0; size].into_boxed_slice(),
            next: 0,
            len: 0,
            totals: Totals::default(),
        }
    }

    fn record(&mut self, failed: bool, slow: bool) {
        let full = self.len == self.slots.len();
        let slot = &mut self.slots[self.next];
        if full {
            // Full: the oldest outcome, in this slot, leaves the window.
            self.totals.remove(Totals {
                calls: 1,
                failures: u64::from(*slot & FAILED != 0),
                slow: u64::from(*slot & SLOW != 0),
            });
        } else {
            self.len += 1;
        }
        *slot = if failed { FAILED } else { 0 } | if slow { SLOW } else { 0 };
        self.totals.add(failed, slow);
        self.next += 1;
        if self.next == self.slots.len() {
            self.next = 0;
        }
    }

    /// Records `successes` successes, as that many calls of `record` would,
    /// in no more steps than the window has slots: past that many, the
    /// window holds nothing but successes, whatever their order.
    fn record_successes(&mut self, successes: u64) {
        let steps =
            usize::try_from(successes).map_or(self.slots.len(), |n| n.min(self.slots.len()));
        for _ in 0..steps {
            self.record(false, false);
        }
    }

    fn totals(&self) -> Totals {
        self.totals
    }

    fn clear(&mut self) {
        self.slots.fill(0);
        self.next = 0;
        self.len = 0;
        self.totals = Totals::default();
    }

    /// The totals counted again from the slots.
    #[cfg(test)]
    fn recount(&self) -> Totals {
        let mut totals = Totals::default();
        // The filled slots are the `len` ones before `next`, going round.
        let size = self.slots.len();
        for back in 1..=self.len {
            let slot = self.slots[(self.next + size - back) % size];
            totals.add(slot & FAILED != 0, slot & SLOW != 0);
        }
        totals
    }
}

/// The outcomes of the last `length`, in `buckets` buckets of
/// `length / buckets` each.
///
/// Time is cut into buckets from `origin`: bucket `k` holds the outcomes
/// recorded in `[origin + k * width, origin + (k + 1) * width)`. At a time in
/// bucket `k`, the window holds buckets `k - buckets + 1 ..= k`, so an
/// outcome stays in it for between `length - width` and `length`.
#[derive(Debug)]
pub(super) struct TimeWindow {
    origin: Instant,
    /// The width of a bucket, in nanoseconds (at least 1).
    width: u128,
    /// A ring of buckets: the latest at `head_slot`, the ones before it
    /// before it, going round.
    buckets: Box<[Totals]>,
    /// The number of the latest bucket: the one that outcomes go into.
    head: u64,
    /// Where bucket `head` is in `buckets`.
    head_slot: usize,
    /// When bucket `head` ends; `None` past what an `Instant` holds.
    head_end: Option<Instant>,
    totals: Totals,
}

impl TimeWindow {
    fn new(length: Duration, buckets: u32, origin: Instant) -> Self {
        let count = usize::try_from(buckets).expect("a bucket count fits in usize");
        assert!(count > 0, "a time window has at least one bucket");
        let width = length.as_nanos() / u128::from(buckets);
        assert!(
            width > 0,
            "a time window's buckets last at least a nanosecond"
        );
        let mut window = TimeWindow {
            origin,
            width,
            buckets: vec![Totals::default(); count].into_boxed_slice(),
            head: 0,
            head_slot: 0,
            head_end: None,
            totals: Totals::default(),
        };
        window.head_end = window.start_of(1);
        window
    }

    /// The number of the bucket `now` is in.
    fn bucket_of(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(elapsed / self.width).unwrap_or(u64::MAX)
    }

    /// When bucket `bucket` starts; `None` past what an `Instant` holds.
    fn start_of(&self, bucket: u64) -> Option<Instant> {
        const NANOS_PER_SEC: u128 = 1_000_000_000;
        let nanos = u128::from(bucket).checked_mul(self.width)?;
        let secs = u64::try_from(nanos / NANOS_PER_SEC).ok()?;
        let subsec = (nanos % NANOS_PER_SEC) as u32;
        self.origin.checked_add(Duration::new(secs, subsec))
    }

    /// Moves the window forward to `now`, emptying the buckets that left it.
    ///
    /// Costs one comparison while `now` is in the latest bucket; otherwise
    /// one step per bucket passed, at most the number of buckets. A time
    /// before the latest bucket (callers racing to the lock after reading
    /// the clock) counts as the latest bucket.
    fn advance(&mut self, now: Instant) {
        if self.head_end.is_none_or(|end| now < end) {
            return;
        }
        let to = self.bucket_of(now);
        let size = self.buckets.len();
        let steps = usize::try_from(to - self.head).map_or(size, |steps| steps.min(size));
        for _ in 0..steps {
            // The next bucket reuses the slot of the oldest one, which is
            // now out of the window.
            self.head_slot += 1;
            if self.head_slot == size {
                self.head_slot = 0;
            }
            let gone = std::mem::take(&mut self.buckets[self.head_slot]);
            self.totals.remove(gone);
        }
        self.head = to;
        self.head_end = to.checked_add(1).and_then(|next| self.start_of(next));
    }

    fn record(&mut self, now: Instant, failed: bool, slow: bool) {
        self.advance(now);
        self.buckets[self.head_slot].add(failed, slow);
        self.totals.add(failed, slow);
    }

    fn record_successes(&mut self, successes: u64) {
        self.buckets[self.head_slot].add_successes(successes);
        self.totals.add_successes(successes);
    }

    fn totals(&mut self, now: Instant) -> Totals {
        self.advance(now);
        self.totals
    }

    fn clear(&mut self) {
        self.buckets.fill(Totals::default());
        self.totals = Totals::default();
    }

    /// The totals counted again from the buckets.
    #[cfg(test)]
    fn recount(&self) -> Totals {
        let mut totals = Totals::default();
        for bucket in self.buckets.iter() {
            totals.calls += bucket.calls;
            totals.failures += bucket.failures;
            totals.slow += bucket.slow;
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;
    use tokio::time::Instant;

    use super::{CountWindow, TimeWindow, Totals, Window};
    use crate::circuit_breaker::config::WindowKind;

    /// One step of a test: an outcome recorded, successes recorded in bulk,
    /// the clock moved, or the window cleared.
    #[derive(Debug, Clone)]
    enum Step {
        Record { failed: bool, slow: bool },
        Successes(u64),
        Advance(Duration),
        Clear,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (any::<bool>(), any::<bool>())
                .prop_map(|(failed, slow)| Step::Record { failed, slow }),
            2 => (0u64..30).prop_map(Step::Successes),
            3 => (0u64..2_500).prop_map(|millis| Step::Advance(Duration::from_millis(millis))),
            1 => Just(Step::Clear),
        ]
    }

    /// What the window should hold, recounted from every outcome recorded
    /// since the last clear.
    fn expected<'a>(outcomes: impl Iterator<Item = &'a (Instant, bool, bool)>) -> Totals {
        let mut totals = Totals::default();
        for &(_, failed, slow) in outcomes {
            totals.add(failed, slow);
        }
        totals
    }

    proptest! {
        #[test]
        fn count_window_totals_match_a_recount(
            size in 1u32..12,
            steps in proptest::collection::vec(step(), 0..200),
        ) {
            let mut window = CountWindow::new(size);
            let mut recorded: Vec<(Instant, bool, bool)> = Vec::new();
            let now = Instant::now();
            for step in steps {
                match step {
                    Step::Record { failed, slow } => {
                        window.record(failed, slow);
                        recorded.push((now, failed, slow));
                    }
                    Step::Successes(successes) => {
                        window.record_successes(successes);
                        recorded.extend((0..successes).map(|_| (now, false, false)));
                    }
                    Step::Advance(_) => {}
                    Step::Clear => {
                        window.clear();
                        recorded.clear();
                    }
                }
                let last = recorded.iter().rev().take(size as usize);
                prop_assert_eq!(window.totals(), expected(last));
                prop_assert_eq!(window.totals(), window.recount());
            }
        }

        #[test]
        fn time_window_totals_match_a_recount(
            length_millis in 1u64..5_000,
            buckets in 1u32..10,
            steps in proptest::collection::vec(step(), 0..200),
        ) {
            let length = Duration::from_millis(length_millis);
            let origin = Instant::now();
            let mut window = TimeWindow::new(length, buckets, origin);
            let width = length.as_nanos() / u128::from(buckets);
            let bucket = |at: Instant| (at - origin).as_nanos() / width;
            let mut recorded: Vec<(Instant, bool, bool)> = Vec::new();
            let mut now = origin;
            for step in steps {
                match step {
                    Step::Record { failed, slow } => {
                        window.record(now, failed, slow);
                        recorded.push((now, failed, slow));
                    }
                    Step::Successes(successes) => {
                        // Into the latest bucket, which the window was moved
                        // to at the end of the previous step.
                        window.record_successes(successes);
                        recorded.extend((0..successes).map(|_| (now, false, false)));
                    }
                    Step::Advance(by) => now += by,
                    Step::Clear => {
                        window.clear();
                        recorded.clear();
                    }
                }
                // In the window: the outcomes of the last `buckets` buckets.
                let current = bucket(now);
                let kept = recorded
                    .iter()
                    .filter(|(at, _, _)| current - bucket(*at) < u128::from(buckets));
                prop_assert_eq!(window.totals(now), expected(kept));
                prop_assert_eq!(window.totals(now), window.recount());
                // Until its latest bucket ends, the window holds what it
                // held when it last moved.
                let latest_end = window.head_end.expect("within an Instant's range");
                prop_assert!(now < latest_end);
                prop_assert!(latest_end <= now + length);
                prop_assert_eq!(window.totals(latest_end - Duration::from_nanos(1)), window.totals);
            }
        }
    }

    #[test]
    fn a_count_window_forgets_its_oldest_outcome_when_full() {
        let mut window = Window::new(WindowKind::Count { size: 3 }, Instant::now());
        let now = Instant::now();
        window.record(now, true, false);
        window.record(now, false, true);
        window.record(now, false, false);
        assert_eq!(
            window.totals(now),
            Totals {
                calls: 3,
                failures: 1,
                slow: 1
            }
        );
        window.record(now, false, false);
        assert_eq!(
            window.totals(now),
            Totals {
                calls: 3,
                failures: 0,
                slow: 1
            }
        );
    }

    #[test]
    fn a_time_window_keeps_an_outcome_until_its_bucket_leaves() {
        let origin = Instant::now();
        let kind = WindowKind::Time {
            length: Duration::from_secs(10),
            buckets: 5,
        };
        let mut window = Window::new(kind, origin);
        // Bucket 0 is [0s, 2s): the outcome stays until 10s, when bucket 5
        // takes its slot.
        window.record(origin + Duration::from_millis(1_500), true, false);
        let at = |millis| origin + Duration::from_millis(millis);
        assert_eq!(window.totals(at(9_999)).failures, 1);
        assert_eq!(window.totals(at(10_000)), Totals::default());
    }

    #[test]
    fn a_time_window_counts_an_earlier_time_as_its_latest_bucket() {
        let origin = Instant::now();
        let mut window = TimeWindow::new(Duration::from_secs(4), 4, origin);
        window.record(origin + Duration::from_secs(3), false, false);
        window.record(origin + Duration::from_secs(1), true, false);
        // Both are in bucket 3, which leaves at 7s.
        assert_eq!(
            window.totals(origin + Duration::from_millis(6_999)).calls,
            2
        );
        assert_eq!(window.totals(origin + Duration::from_secs(7)).calls, 0);
    }

    #[test]
    fn a_long_pause_empties_a_time_window_in_one_step() {
        let origin = Instant::now();
        let mut window = TimeWindow::new(Duration::from_secs(1), 10, origin);
        for millis in 0..1_000 {
            window.record(
                origin + Duration::from_millis(millis),
                millis % 2 == 0,
                false,
            );
        }
        assert_eq!(
            window.totals(origin + Duration::from_millis(999)).calls,
            1_000
        );
        assert_eq!(
            window.totals(origin + Duration::from_secs(3_600)),
            Totals::default()
        );
        assert_eq!(window.recount(), Totals::default());
    }
}
