//! [`Credit`]: the successes a closed breaker counts without its lock.
//!
//! Most calls to a healthy service succeed, and a success changes nothing
//! the breaker decides on once the window holds its minimum of calls: it
//! only lowers the rates, and ends a run of failures that no other outcome
//! comes to read before the lock is taken again. So the breaker, under its
//! lock, grants a credit: a number of successes, the epoch they must have
//! been admitted in, and (for a time window) the time they must finish
//! before, the end of the window's latest bucket. A call that succeeds
//! within those terms takes one success of the credit with a
//! compare-and-swap, and is done. Whoever takes the lock next, to record
//! another outcome, read the figures or change the state, first reclaims
//! the credit: what was taken goes into the window, in bulk, and what is
//! left is void. The lock-holder grants a new credit before it lets go, if
//! the breaker is still closed.
//!
//! A credit is granted in one atomic word, with the epoch's low 48 bits
//! above the successes left (16 bits). Reclaiming zeroes the successes
//! left, which voids the credit for every call, whatever its epoch; a call
//! that finds nothing left, or another epoch, takes the lock instead. Only
//! the lock-holder grants or reclaims, so the successes taken are the
//! successes granted less those left: none is lost or counted twice. The
//! orderings are argued in the breaker's `# Memory ordering`, and the
//! breaker's loom models race takes with reclaims and grants.

use crate::sync::atomic::{AtomicU64, Ordering};

/// The bits of the word that hold the successes left; the epoch is above.
const LEFT_BITS: u32 = 16;
const LEFT: u64 = (1 << LEFT_BITS) - 1;

/// The most successes granted at once.
pub(super) const MAX_GRANT: u64 = LEFT;

/// The part of the word that names `epoch`: its low 48 bits. Two epochs
/// that far apart cannot both be current while one call is in flight.
const fn tag(epoch: u64) -> u64 {
    epoch << LEFT_BITS
}

/// The successes a closed breaker may count without its lock.
pub(super) struct Credit {
    /// The epoch the credit is for (as [`tag`]) and the successes left.
    word: AtomicU64,
    /// The time the successes must finish before, in nanoseconds after the
    /// breaker's origin; `u64::MAX` for a count window.
    until: AtomicU64,
}

impl Credit {
    /// No credit: every call takes the lock until one is granted.
    pub(super) fn new() -> Self {
        Credit {
            word: AtomicU64::new(0),
            until: AtomicU64::new(0),
        }
    }

    /// Counts a success of a call admitted in `epoch`, finished `at`
    /// nanoseconds after the origin (0 for a count window), if the credit
    /// allows it. `false` sends the caller to the lock.
    #[inline]
    pub(super) fn try_take(&self, epoch: u64, at: u64) -> bool {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & !LEFT != tag(epoch)
                || word & LEFT == 0
                || at >= self.until.load(Ordering::Relaxed)
            {
                return false;
            }
            match self
                .word
                .compare_exchange(word, word - 1, Ordering::Relaxed, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => word = actual,
            }
        }
    }

    /// Under the lock: voids the credit granted for `granted` successes,
    /// and returns how many of them were taken.
    pub(super) fn reclaim(&self, granted: u64) -> u64 {
        if granted == 0 {
            return 0;
        }
        let left = self.word.fetch_and(!LEFT, Ordering::Relaxed) & LEFT;
        granted - left
    }

    /// Under the lock, with no credit out: grants `successes` (at most
    /// [`MAX_GRANT`]) to calls admitted in `epoch` that finish before
    /// `until`.
    pub(super) fn grant(&self, epoch: u64, successes: u64, until: u64) {
        debug_assert!(successes <= MAX_GRANT, "a credit holds at most {MAX_GRANT}");
        self.until.store(until, Ordering::Relaxed);
        self.word.store(tag(epoch) | successes, Ordering::Release);
    }
}

#[cfg(all(test, not(donjon_loom)))]
mod tests {
    use super::{Credit, MAX_GRANT};

    #[test]
    fn a_credit_counts_what_was_taken_and_no_more() {
        let credit = Credit::new();
        assert!(!credit.try_take(0, 0), "nothing granted yet");
        credit.grant(3, 2, u64::MAX);
        assert!(!credit.try_take(2, 0), "another epoch");
        assert!(credit.try_take(3, 0));
        assert!(credit.try_take(3, 0));
        assert!(!credit.try_take(3, 0), "used up");
        assert_eq!(credit.reclaim(2), 2);
    }

    #[test]
    fn a_reclaimed_credit_is_void_and_counts_only_what_came_before() {
        let credit = Credit::new();
        credit.grant(1, MAX_GRANT, u64::MAX);
        assert!(credit.try_take(1, 0));
        assert_eq!(credit.reclaim(MAX_GRANT), 1);
        assert!(!credit.try_take(1, 0));
        assert_eq!(credit.reclaim(0), 0);
    }

    #[test]
    fn a_credit_is_good_until_its_time() {
        let credit = Credit::new();
        credit.grant(0, 5, 1_000);
        assert!(credit.try_take(0, 999));
        assert!(!credit.try_take(0, 1_000));
        assert_eq!(credit.reclaim(5), 1);
    }

    #[test]
    fn a_credit_is_for_its_epoch_alone_however_many_came_before() {
        let credit = Credit::new();
        let epoch = (1 << 47) + 7;
        credit.grant(epoch, 1, u64::MAX);
        assert!(!credit.try_take(epoch - 1, 0));
        assert!(!credit.try_take(epoch + 1, 0));
        assert!(credit.try_take(epoch, 0));
    }
}
