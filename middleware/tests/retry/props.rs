//! Property tests of the arithmetic that decides what `retry` allows:
//! `TpsBudget`'s withdrawals against a model of its documented accounting,
//! and `ExponentialBackoff`'s delays against their documented formula.

use std::time::Duration;

use donjon::retry::backoff::{Backoff, ExponentialBackoffMaker, MakeBackoff};
use donjon::retry::budget::{Budget, TpsBudget};
use donjon::util::rng::Rng;
use proptest::collection::vec;
use proptest::prelude::*;
use tokio::time::{Instant, advance};

use crate::support::{paused_runtime, proptest_config};

// ---- budget ----------------------------------------------------------------

/// One thing done to a budget.
#[derive(Clone, Copy, Debug)]
enum Op {
    Deposit,
    Withdraw,
    /// The clock moves on by this many nanoseconds.
    Wait(u64),
}

/// Deposits and withdrawals, with waits of up to `max_wait` nanoseconds.
fn an_op(max_wait: u64) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Deposit),
        4 => Just(Op::Withdraw),
        1 => (0..max_wait).prop_map(Op::Wait),
    ]
}

/// A retry percentage as people write them (whole percents, tenths,
/// `1 / n`), or any in the allowed range.
fn a_retry_percent() -> impl Strategy<Value = f32> {
    prop_oneof![
        (0u32..=100).prop_map(|percent| percent as f32 / 100.0),
        (0u32..=10_000).prop_map(|tenths| tenths as f32 / 10.0),
        (1u32..=1_000).prop_map(|n| 1.0 / n as f32),
        0.0f32..=1000.0,
        Just(0.0f32),
        Just(1.0f32),
        Just(1000.0f32),
    ]
}

/// One million: a retry costs a million units, a deposit pays
/// `retry_percent` millionths of that.
const MILLION: u128 = 1_000_000;

/// `retry_percent` in millionths, to the nearest, as the budget documents.
fn millionths(retry_percent: f32) -> u128 {
    (f64::from(retry_percent) * 1e6).round() as u128
}

/// The withdrawals always allowed within a ttl: `min_per_sec × ttl`, in
/// whole seconds.
fn reserve(ttl: Duration, min_per_sec: u32) -> u128 {
    u128::from(min_per_sec) * u128::from(ttl.as_secs())
}

/// The budget as its documentation describes it: the time since its
/// creation is cut into buckets of a tenth of `ttl`, and a deposit or a
/// withdrawal counts until ten buckets after its own.
#[derive(Debug)]
struct Model {
    ttl: Duration,
    /// In units: the reserve, in retries of a million units.
    reserve: i128,
    deposit: i128,
    /// (bucket, units) of each deposit and withdrawal.
    entries: Vec<(u128, i128)>,
}

impl Model {
    fn new(ttl: Duration, min_per_sec: u32, retry_percent: f32) -> Self {
        Model {
            ttl,
            reserve: (reserve(ttl, min_per_sec) * MILLION) as i128,
            deposit: millionths(retry_percent) as i128,
            entries: Vec::new(),
        }
    }

    /// The bucket of the instant `elapsed` after the creation.
    fn bucket(&self, elapsed: Duration) -> u128 {
        elapsed.as_nanos() * 10 / self.ttl.as_nanos()
    }

    fn deposit(&mut self, elapsed: Duration) {
        self.entries.push((self.bucket(elapsed), self.deposit));
    }

    fn withdraw(&mut self, elapsed: Duration) -> bool {
        let now = self.bucket(elapsed);
        let balance: i128 = self.reserve
            + self
                .entries
                .iter()
                .filter(|(bucket, _)| now - bucket < 10)
                .map(|(_, units)| units)
                .sum::<i128>();
        let allowed = balance >= MILLION as i128;
        if allowed {
            self.entries.push((now, -(MILLION as i128)));
        }
        allowed
    }
}

proptest! {
    #![proptest_config(proptest_config(256))]

    // tower-rs/tower#857: tower's `TpsBudget` rounds the price of a retry
    // down, and so allows more retries than `retry_percent` says.
    #[test]
    fn within_one_ttl_withdrawals_never_exceed_the_reserve_plus_the_retry_share_of_deposits(
        ttl_ms in 1_000u64..=60_000,
        min_per_sec in 0u32..4,
        retry_percent in a_retry_percent(),
        ops in vec(an_op(3_000_000_000), 0..300),
    ) {
        let ttl = Duration::from_millis(ttl_ms);
        let reserve = reserve(ttl, min_per_sec);
        let share = millionths(retry_percent);
        paused_runtime().block_on(async {
            let budget = TpsBudget::new(ttl, min_per_sec, retry_percent);
            let start = Instant::now();
            let (mut deposits, mut withdrawals) = (0u128, 0u128);
            for op in ops {
                match op {
                    Op::Deposit => {
                        budget.deposit();
                        deposits += 1;
                    }
                    Op::Withdraw if budget.withdraw() => {
                        withdrawals += 1;
                        // withdrawals ≤ reserve + floor(deposits × share / 10⁶)
                        prop_assert!(
                            withdrawals * MILLION <= reserve * MILLION + deposits * share,
                            "withdrawal {} after {} deposits at {} ({} millionths) and a \
                             reserve of {}, {:?} after the budget's creation",
                            withdrawals, deposits, retry_percent, share, reserve,
                            start.elapsed(),
                        );
                    }
                    Op::Withdraw => {}
                    Op::Wait(nanos) => {
                        let by = Duration::from_nanos(nanos);
                        if start.elapsed() + by < ttl {
                            advance(by).await;
                        }
                    }
                }
            }
            Ok(())
        })?;
    }

    #[test]
    fn deposits_pay_for_exactly_their_retry_share_on_top_of_the_reserve(
        ttl_secs in 1u64..=60,
        min_per_sec in 0u32..4,
        // Up to ten thousand retries paid for, to try them all quickly.
        (retry_percent, deposits) in a_retry_percent()
            .prop_flat_map(|percent| (Just(percent), 0..=(10_000.0 / percent.max(1.0)) as u32)),
    ) {
        let ttl = Duration::from_secs(ttl_secs);
        let expected =
            reserve(ttl, min_per_sec) + u128::from(deposits) * millionths(retry_percent) / MILLION;
        let allowed = paused_runtime().block_on(async {
            let budget = TpsBudget::new(ttl, min_per_sec, retry_percent);
            for _ in 0..deposits {
                budget.deposit();
            }
            // One more try than expected: a budget that allows more than
            // that shows it.
            (0..=expected).filter(|_| budget.withdraw()).count() as u128
        });
        prop_assert_eq!(
            allowed, expected,
            "{} deposits at {} with a reserve of {}", deposits, retry_percent,
            reserve(ttl, min_per_sec)
        );
    }

    #[test]
    fn a_withdrawal_succeeds_exactly_when_the_last_ten_buckets_pay_for_it(
        ttl_nanos in 1_000_000_000u64..=60_000_000_000,
        min_per_sec in 0u32..4,
        retry_percent in a_retry_percent(),
        ops in vec(an_op(20_000_000_000), 0..300),
    ) {
        let ttl = Duration::from_nanos(ttl_nanos);
        paused_runtime().block_on(async {
            let budget = TpsBudget::new(ttl, min_per_sec, retry_percent);
            let mut model = Model::new(ttl, min_per_sec, retry_percent);
            let start = Instant::now();
            for (step, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Deposit => {
                        budget.deposit();
                        model.deposit(start.elapsed());
                    }
                    Op::Withdraw => {
                        let expected = model.withdraw(start.elapsed());
                        prop_assert_eq!(
                            budget.withdraw(), expected,
                            "step {} at {:?}: {:?}", step, start.elapsed(), model
                        );
                    }
                    Op::Wait(nanos) => advance(Duration::from_nanos(nanos)).await,
                }
            }
            Ok(())
        })?;
    }
}

// ---- backoff ---------------------------------------------------------------

/// Replays the numbers it was given, in turn, from the first again after
/// the last.
#[derive(Clone, Debug)]
struct Replay {
    numbers: Vec<u64>,
    next: usize,
}

impl Rng for Replay {
    fn next_u64(&mut self) -> u64 {
        let number = self.numbers[self.next % self.numbers.len()];
        self.next += 1;
        number
    }
}

/// A duration of up to 2⁵⁸ ns (nine years, which a paused clock's timer
/// still represents exactly), spread over every order of magnitude.
fn a_duration() -> impl Strategy<Value = Duration> {
    (0u32..=58)
        .prop_flat_map(|bits| 0u64..=(1 << bits))
        .prop_map(Duration::from_nanos)
}

fn a_jitter() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), Just(100.0), 0.0..=1.0, 0.0..=100.0]
}

/// `min × 2ⁿ`, at most `max`, in nanoseconds.
fn base(min: Duration, max: Duration, n: u32) -> u128 {
    let doubled = if n >= 128 {
        None
    } else {
        min.as_nanos().checked_mul(1u128 << n)
    };
    match doubled {
        _ if min.is_zero() => 0,
        Some(nanos) => nanos.min(max.as_nanos()),
        None => max.as_nanos(),
    }
}

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn every_delay_is_its_base_plus_the_documented_share_of_jitter_within_min_and_max(
        min in a_duration(),
        extra in a_duration(),
        jitter in a_jitter(),
        numbers in vec(any::<u64>(), 1..8),
        count in 1u32..80,
    ) {
        let max = (min + extra).max(Duration::from_nanos(1));
        let rng = Replay { numbers, next: 0 };
        let mut draws = rng.clone();
        paused_runtime().block_on(async {
            let mut backoff = ExponentialBackoffMaker::new(min, max, jitter, rng)
                .expect("a valid configuration")
                .make_backoff();
            let mut last_base = 0;
            for n in 0..count {
                let delay = (backoff.next_backoff().deadline() - Instant::now()).as_nanos();
                let base = base(min, max, n);
                prop_assert!(base >= last_base, "the base delay never decreases");
                last_base = base;
                prop_assert!(
                    min.as_nanos() <= delay && delay <= max.as_nanos(),
                    "delay {} is {} ns, outside [{:?}, {:?}]", n, delay, min, max
                );
                prop_assert!(delay >= base, "delay {} is {} ns, below its base {} ns", n, delay, base);
                // The jitter: base × jitter × r, at most what is left up to
                // the maximum. Computed in f64, so within a nanosecond and
                // a relative error of 10⁻¹².
                let room = max.as_nanos() - base;
                let expected = if jitter == 0.0 {
                    0.0
                } else {
                    (base as f64 * jitter * draws.next_f64()).min(room as f64)
                };
                let added = (delay - base) as f64;
                prop_assert!(
                    (added - expected).abs() <= 1.0 + expected * 1e-12,
                    "delay {} adds {} ns of jitter to {} ns, not {} ns", n, added, base, expected
                );
            }
            Ok(())
        })?;
    }
}
