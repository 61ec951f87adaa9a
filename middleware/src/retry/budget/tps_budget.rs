//! [`TpsBudget`]: a retry budget over a sliding window of time.

use std::fmt;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::Budget;
use crate::sync::{Mutex, lock};

/// The number of buckets the window is divided into.
const SLOTS: usize = 10;

/// A retry budget over a sliding window of time: retries may add a set
/// percentage to the requests deposited during the last `ttl`, plus a
/// minimum number of retries per second.
///
/// Deposits are counted in ten buckets, each a tenth of `ttl` long; a
/// bucket is emptied once it is older than `ttl`, so old requests stop
/// paying for retries. Time comes from tokio's clock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::retry::budget::{Budget, TpsBudget};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// // At least 2 retries per second over a 1-second window, plus 10% of requests.
/// let budget = TpsBudget::new(Duration::from_secs(1), 2, 0.1);
/// assert!(budget.withdraw());
/// assert!(budget.withdraw());
/// assert!(!budget.withdraw(), "the minimum is spent, and no request paid in");
/// # }
/// ```
pub struct TpsBudget {
    generation: Mutex<Generation>,
    /// The retries always allowed, in withdrawal units.
    reserve: isize,
    /// Deposits (minus withdrawals) of past buckets.
    slots: [AtomicIsize; SLOTS],
    /// How long each bucket lasts.
    window: Duration,
    /// Deposits (minus withdrawals) of the current bucket.
    writer: AtomicIsize,
    deposit_amount: isize,
    withdraw_amount: isize,
}

/// Which bucket is current, and since when.
#[derive(Debug)]
struct Generation {
    index: usize,
    time: Instant,
}

impl TpsBudget {
    /// Creates a budget where retries may add `retry_percent` (a fraction:
    /// 0.2 is 20%) to the requests of the last `ttl`, and `min_per_sec`
    /// retries per second are always allowed.
    ///
    /// # Panics
    ///
    /// If `ttl` is not between 1 and 60 seconds, `retry_percent` is not
    /// between 0 and 1000, or `min_per_sec` is not below `i32::MAX`.
    pub fn new(ttl: Duration, min_per_sec: u32, retry_percent: f32) -> Self {
        assert!(
            ttl >= Duration::from_secs(1),
            "TpsBudget's ttl must be at least 1 second, got {ttl:?}"
        );
        assert!(
            ttl <= Duration::from_secs(60),
            "TpsBudget's ttl must be at most 60 seconds, got {ttl:?}"
        );
        assert!(
            (0.0..=1000.0).contains(&retry_percent),
            "TpsBudget's retry_percent must be between 0 and 1000, got {retry_percent}"
        );
        assert!(
            min_per_sec < i32::MAX as u32,
            "TpsBudget's min_per_sec must be below i32::MAX, got {min_per_sec}"
        );

        // Withdrawals cost more units than deposits pay, in the ratio of
        // the retry percentage, so that integer counters express it.
        let (deposit_amount, withdraw_amount) = if retry_percent == 0.0 {
            (0, 1)
        } else if retry_percent <= 1.0 {
            (1, (1.0 / retry_percent) as isize)
        } else {
            (1000, (1000.0 / retry_percent) as isize)
        };
        let reserve = (min_per_sec as isize)
            .saturating_mul(ttl.as_secs() as isize)
            .saturating_mul(withdraw_amount);

        TpsBudget {
            generation: Mutex::new(Generation {
                index: 0,
                time: Instant::now(),
            }),
            reserve,
            slots: std::array::from_fn(|_| AtomicIsize::new(0)),
            window: ttl / SLOTS as u32,
            writer: AtomicIsize::new(0),
            deposit_amount,
            withdraw_amount,
        }
    }

    /// Moves to the bucket of the current time, emptying the buckets that
    /// fell out of the window.
    fn expire(&self) {
        let mut generation = lock(&self.generation);
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(generation.time);
        if elapsed < self.window {
            return;
        }
        let current = self.writer.swap(0, Ordering::SeqCst);
        self.slots[generation.index].store(current, Ordering::SeqCst);

        // Every whole window beyond the first that has passed empties one
        // more bucket: ceil(elapsed / window) - 1 of them.
        let window = self.window.as_nanos();
        let skipped = elapsed.as_nanos().div_ceil(window) - 1;
        let mut index = (generation.index + 1) % SLOTS;
        for _ in 0..skipped.min(SLOTS as u128) {
            self.slots[index].store(0, Ordering::SeqCst);
            index = (index + 1) % SLOTS;
        }
        // Past a full turn the buckets are all empty: only the position
        // moves on.
        let extra = skipped.saturating_sub(SLOTS as u128) % SLOTS as u128;
        generation.index = (index + extra as usize) % SLOTS;
        generation.time = now;
    }

    /// Deposits minus withdrawals over the window, plus the reserve.
    fn sum(&self) -> isize {
        let past = self.slots.iter().fold(0isize, |sum, slot| {
            sum.saturating_add(slot.load(Ordering::SeqCst))
        });
        self.writer
            .load(Ordering::SeqCst)
            .saturating_add(past)
            .saturating_add(self.reserve)
    }
}

impl Default for TpsBudget {
    /// A 10-second window, 10 retries per second, and 20% of requests.
    fn default() -> Self {
        TpsBudget::new(Duration::from_secs(10), 10, 0.2)
    }
}

impl Budget for TpsBudget {
    fn deposit(&self) {
        self.expire();
        self.writer.fetch_add(self.deposit_amount, Ordering::SeqCst);
    }

    fn withdraw(&self) -> bool {
        self.expire();
        if self.sum() >= self.withdraw_amount {
            self.writer
                .fetch_sub(self.withdraw_amount, Ordering::SeqCst);
            true
        } else {
            false
        }
    }
}

impl fmt::Debug for TpsBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("deposit", &self.deposit_amount)
            .field("withdraw", &self.withdraw_amount)
            .field("balance", &self.sum())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::advance;

    #[tokio::test(start_paused = true)]
    async fn an_empty_budget_refuses() {
        let budget = TpsBudget::new(Duration::from_secs(1), 0, 1.0);
        assert!(!budget.withdraw());
    }

    #[tokio::test(start_paused = true)]
    async fn deposits_expire_after_the_ttl() {
        let budget = TpsBudget::new(Duration::from_secs(1), 0, 1.0);
        budget.deposit();
        advance(Duration::from_millis(1_001)).await;
        assert!(!budget.withdraw(), "the deposit is older than the ttl");
    }

    #[tokio::test(start_paused = true)]
    async fn deposits_survive_within_the_window_and_add_up_across_buckets() {
        let budget = TpsBudget::new(Duration::from_secs(1), 0, 1.0);
        budget.deposit();
        advance(Duration::from_millis(300)).await;
        budget.deposit();
        advance(Duration::from_millis(300)).await;
        budget.deposit();
        advance(Duration::from_millis(300)).await;
        // 900 ms after the first deposit, all three count.
        assert!(budget.withdraw());
        assert!(budget.withdraw());
        assert!(budget.withdraw());
        assert!(!budget.withdraw());
    }

    #[tokio::test(start_paused = true)]
    async fn a_reserve_of_n_allows_exactly_n_withdrawals() {
        let budget = TpsBudget::new(Duration::from_secs(1), 5, 1.0);
        for attempt in 0..5 {
            assert!(budget.withdraw(), "withdrawal {attempt} is in the reserve");
        }
        assert!(!budget.withdraw());
    }

    #[tokio::test(start_paused = true)]
    async fn the_retry_percentage_sets_the_price_of_a_retry() {
        let budget = TpsBudget::new(Duration::from_secs(10), 0, 0.25);
        for _ in 0..3 {
            budget.deposit();
        }
        assert!(
            !budget.withdraw(),
            "three requests do not pay for a retry at 25%"
        );
        budget.deposit();
        assert!(budget.withdraw(), "four do");
        assert!(!budget.withdraw());
    }

    #[tokio::test(start_paused = true)]
    async fn percentages_above_one_allow_several_retries_per_request() {
        let budget = TpsBudget::new(Duration::from_secs(10), 0, 2.0);
        budget.deposit();
        assert!(budget.withdraw());
        assert!(budget.withdraw());
        assert!(!budget.withdraw());
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_idle_time_empties_every_bucket() {
        let budget = TpsBudget::new(Duration::from_secs(1), 0, 1.0);
        for _ in 0..5 {
            budget.deposit();
            advance(Duration::from_millis(100)).await;
        }
        advance(Duration::from_secs(3_600)).await;
        assert!(!budget.withdraw());
        budget.deposit();
        assert!(budget.withdraw(), "new deposits count again");
    }

    #[test]
    #[should_panic(expected = "ttl must be at least 1 second")]
    fn a_ttl_under_a_second_panics() {
        let _ = TpsBudget::new(Duration::from_millis(999), 1, 0.1);
    }

    #[test]
    #[should_panic(expected = "retry_percent must be between 0 and 1000")]
    fn a_negative_percentage_panics() {
        let _ = TpsBudget::new(Duration::from_secs(1), 1, -0.1);
    }

    #[tokio::test(start_paused = true)]
    async fn debug_prints_the_amounts_and_balance() {
        let budget = TpsBudget::new(Duration::from_secs(1), 0, 0.5);
        budget.deposit();
        assert_eq!(
            format!("{budget:?}"),
            "Budget { deposit: 1, withdraw: 2, balance: 1 }"
        );
    }
}
