//! [`TpsBudget`]: a retry budget over a sliding window of time.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::Budget;
use crate::sync::{Mutex, MutexGuard, lock};

/// The number of buckets a `ttl` is divided into.
const SLOTS: usize = 10;

/// What a retry costs, in units: a deposit pays `retry_percent` millionths
/// of it (before both are divided by their greatest common divisor).
const MILLION: i64 = 1_000_000;

/// A retry budget over a sliding window of time: retries may add a set
/// percentage to the requests deposited during the last `ttl`, plus a
/// minimum number of retries per second.
///
/// Each deposit pays for `retry_percent` of a retry, with `retry_percent`
/// taken to the nearest millionth; `min_per_sec × ttl` retries (`ttl` in
/// whole seconds) are allowed on top, whatever was deposited. A withdrawal
/// succeeds when, over the `D` deposits and `W` withdrawals that still
/// count,
///
/// ```text
/// W + 1 ≤ min_per_sec × ttl + D × retry_percent
/// ```
///
/// So `n` deposits pay for exactly `floor(n × retry_percent)` retries: ten
/// at 0.6 pay for six. (tower's `TpsBudget` rounds the price of a retry
/// down instead, and lets ten requests at 0.6 pay for ten retries:
/// [tower-rs/tower#857](https://github.com/tower-rs/tower/issues/857).)
///
/// Deposits and withdrawals are counted in ten buckets: the time since the
/// budget was created is cut into tenths of `ttl`, and each deposit or
/// withdrawal counts until ten buckets after its own, so for between nine
/// tenths of `ttl` and `ttl`. Those the first `ttl` holds all count until
/// it ends. Time comes from tokio's clock.
///
/// # Locking
///
/// One lock, held by each deposit or withdrawal for a read of the clock
/// and a few additions: a withdrawal checks the balance and takes from it
/// at once, so that concurrent withdrawals never spend the same retry.
///
/// # Metrics
///
/// With the `metrics` feature, the gauge `donjon_retry_budget_balance` (see
/// [`metrics`](crate::metrics)) gives the retries the budget could pay for,
/// under the name given to [`with_name`](TpsBudget::with_name)
/// (`"tps_budget"` by default). The balance is not kept anywhere: it is a
/// sum over the window, which also falls as deposits age out, with no
/// deposit or withdrawal to say so. So it is recorded where it is computed
/// already, at each withdrawal (and when the budget is made): the gauge
/// reads the balance as the last withdrawal left it, and deposits, which
/// come with every request, cost nothing more. A withdrawal sets it before
/// releasing the lock, so that concurrent withdrawals leave the latest
/// balance, not an older one.
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
/// for _ in 0..10 {
///     budget.deposit();
/// }
/// assert!(budget.withdraw(), "ten requests pay for one retry");
/// assert!(!budget.withdraw());
/// # }
/// ```
pub struct TpsBudget {
    buckets: Mutex<Buckets>,
    /// When the first bucket started.
    origin: Instant,
    ttl: Duration,
    /// The retries always allowed, in units.
    reserve: i64,
    /// What a deposit pays, in units.
    deposit_amount: i64,
    /// What a withdrawal costs, in units.
    withdraw_amount: i64,
    /// `donjon_retry_budget_balance`.
    #[cfg(feature = "metrics")]
    gauge: metrics::Gauge,
}

/// Deposits minus withdrawals, in units, per bucket.
#[derive(Debug)]
struct Buckets {
    /// The number of the latest bucket a deposit or withdrawal fell in,
    /// counted from the budget's creation.
    current: u128,
    /// The ten latest buckets: bucket `n` at `n % SLOTS`.
    slots: [i64; SLOTS],
    /// Whether the last withdrawal was refused.
    dry: bool,
}

impl TpsBudget {
    /// Creates a budget where retries may add `retry_percent` (a fraction:
    /// 0.2 is 20%, taken to the nearest millionth) to the requests of the
    /// last `ttl`, and `min_per_sec` retries per second are always allowed.
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

        // A deposit pays `retry_percent` millionths of a retry, exactly: at
        // most 10⁹ units, and the fraction in its lowest terms so that the
        // usual percentages keep small amounts (0.5 is 1 and 2).
        let millionths = (f64::from(retry_percent) * 1e6).round() as i64;
        let divisor = gcd(millionths, MILLION);
        let (deposit_amount, withdraw_amount) = (millionths / divisor, MILLION / divisor);
        // At most 2³¹ × 60 × 10⁶, well within an i64.
        let reserve = i64::from(min_per_sec) * ttl.as_secs() as i64 * withdraw_amount;

        let budget = TpsBudget {
            buckets: Mutex::new(Buckets {
                current: 0,
                slots: [0; SLOTS],
                dry: false,
            }),
            origin: Instant::now(),
            ttl,
            reserve,
            deposit_amount,
            withdraw_amount,
            #[cfg(feature = "metrics")]
            gauge: balance_gauge("tps_budget".into()),
        };
        #[cfg(feature = "metrics")]
        budget.record(budget.reserve);
        budget
    }

    /// Names the budget in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)), taking the handle of
    /// `donjon_retry_budget_balance` from the recorder installed now. The
    /// gauge of the name it had is set to 0.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.gauge.set(0.0);
        self.gauge = balance_gauge(name.into());
        let balance = self.balance(&self.buckets());
        self.record(balance);
        self
    }

    /// Sets the gauge to the retries `balance` pays for.
    #[cfg(feature = "metrics")]
    fn record(&self, balance: i64) {
        // Below zero when withdrawals outlive the deposits that paid for
        // them: no retry either way.
        self.gauge
            .set((balance.max(0) / self.withdraw_amount) as f64);
    }

    /// Reports the budget running dry, with the `balance` (in units) that
    /// could not pay for a retry.
    fn tracing_dry(&self, balance: i64) {
        #[cfg(feature = "tracing")]
        {
            let retries = |units: i64| units as f64 / self.withdraw_amount as f64;
            tracing::warn!(
                balance = retries(balance),
                reserve = retries(self.reserve),
                per_request = retries(self.deposit_amount),
                ttl = ?self.ttl,
                "retry budget exhausted: retries are refused until requests pay in"
            );
        }
        #[cfg(not(feature = "tracing"))]
        let _ = balance;
    }

    /// The buckets, moved on to the bucket of the current time: the buckets
    /// in between, which held what is now older than ten buckets, emptied.
    fn buckets(&self) -> MutexGuard<'_, Buckets> {
        let mut buckets = lock(&self.buckets);
        // Read under the lock, so that the bucket never goes back.
        let elapsed = Instant::now().saturating_duration_since(self.origin);
        let now = elapsed.as_nanos() * SLOTS as u128 / self.ttl.as_nanos();
        let stale = now.saturating_sub(buckets.current).min(SLOTS as u128);
        for n in buckets.current + 1..=buckets.current + stale {
            buckets.slots[(n % SLOTS as u128) as usize] = 0;
        }
        buckets.current = buckets.current.max(now);
        buckets
    }

    /// Deposits minus withdrawals over the window, plus the reserve.
    fn balance(&self, buckets: &Buckets) -> i64 {
        buckets
            .slots
            .iter()
            .fold(self.reserve, |sum, slot| sum.saturating_add(*slot))
    }
}

impl Buckets {
    /// Deposits minus withdrawals of the current bucket.
    fn slot(&mut self) -> &mut i64 {
        &mut self.slots[(self.current % SLOTS as u128) as usize]
    }
}

/// The handle of `donjon_retry_budget_balance` for the budget `name`.
#[cfg(feature = "metrics")]
fn balance_gauge(name: std::borrow::Cow<'static, str>) -> metrics::Gauge {
    use crate::metrics::names;
    metrics::gauge!(names::RETRY_BUDGET_BALANCE, names::NAME => name)
}

/// The greatest common divisor of `a` and `b`, not both zero.
fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Default for TpsBudget {
    /// A 10-second window, 10 retries per second, and 20% of requests.
    fn default() -> Self {
        TpsBudget::new(Duration::from_secs(10), 10, 0.2)
    }
}

impl Budget for TpsBudget {
    fn deposit(&self) {
        let mut buckets = self.buckets();
        let slot = buckets.slot();
        *slot = slot.saturating_add(self.deposit_amount);
    }

    fn withdraw(&self) -> bool {
        let mut buckets = self.buckets();
        let balance = self.balance(&buckets);
        if balance < self.withdraw_amount {
            #[cfg(feature = "metrics")]
            self.record(balance);
            let ran_dry = !std::mem::replace(&mut buckets.dry, true);
            drop(buckets);
            if ran_dry {
                self.tracing_dry(balance);
            }
            return false;
        }
        buckets.dry = false;
        let slot = buckets.slot();
        *slot = slot.saturating_sub(self.withdraw_amount);
        #[cfg(feature = "metrics")]
        self.record(balance - self.withdraw_amount);
        true
    }
}

impl fmt::Debug for TpsBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let balance = self.balance(&self.buckets());
        f.debug_struct("Budget")
            .field("deposit", &self.deposit_amount)
            .field("withdraw", &self.withdraw_amount)
            .field("balance", &balance)
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
