//! The generic cell rate algorithm as pure arithmetic: the caller gives the
//! time, in nanoseconds from any fixed origin, and keeps the state, one
//! theoretical arrival time (TAT).
//!
//! A request arriving at `now` is admitted when the TAT runs at most the
//! quota's tolerance (`interval × (burst − 1)`) ahead of `now`; admitting it
//! moves the TAT to `max(TAT, now) + interval`. A TAT at or before `now`
//! means a quiet limit, with its whole burst available: it carries no
//! information, so such a state may be forgotten (a missing key of a keyed
//! limit is a TAT of zero).
//!
//! # The bound
//!
//! Take the requests admitted with arrival times in `[s, s + t]`, in the
//! order they were admitted (whatever the order of their times). After the
//! first, the TAT is at least `s + interval`, and each admission adds at
//! least `interval`, so before the `n`-th it is at least
//! `s + (n − 1) × interval`; the `n`-th was admitted, so that TAT was at most
//! `s + t + tolerance`. Hence `n ≤ burst + t / interval`: never more than
//! `burst + rate × t`, and the arrival times need not come in order (threads
//! that read the clock, then update the TAT in another order, keep it).

use super::Quota;

/// The TAT after admitting one request arriving at `now`, or, if it must
/// wait, how many nanoseconds after `now` it would be admitted.
#[inline]
pub(crate) fn admit(tat: u64, now: u64, quota: &Quota) -> Result<u64, u64> {
    let base = if tat > now { tat } else { now };
    let ahead = base - now;
    let tolerance = quota.tolerance_nanos();
    if ahead > tolerance {
        Err(ahead - tolerance)
    } else {
        Ok(base.saturating_add(quota.interval_nanos()))
    }
}

/// The result of asking for several requests at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Batch {
    /// How many were admitted, at most the number asked for.
    pub(crate) granted: u64,
    /// The TAT after admitting them.
    pub(crate) tat: u64,
    /// Nanoseconds after `now` until one more request would be admitted
    /// (0 if one would be now).
    pub(crate) wait: u64,
}

/// Admits up to `wanted` requests arriving together at `now`: as many as
/// [`admit`] would let through one after the other.
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "used by the property tests, and kept beside `admit` for stores"
    )
)]
pub(crate) fn admit_many(tat: u64, now: u64, quota: &Quota, wanted: u64) -> Batch {
    let interval = quota.interval_nanos();
    let tolerance = quota.tolerance_nanos();
    let base = if tat > now { tat } else { now };
    let ahead = base - now;
    let room = if ahead > tolerance {
        0
    } else {
        (tolerance - ahead) / interval + 1
    };
    let granted = room.min(wanted);
    let tat = base.saturating_add(granted.saturating_mul(interval));
    let wait = (tat - now).saturating_sub(tolerance);
    Batch { granted, tat, wait }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    fn quota(num: u64, per_ms: u64, burst: u64) -> Quota {
        Quota::new(num, Duration::from_millis(per_ms))
            .unwrap()
            .with_burst(burst)
            .unwrap()
    }

    #[test]
    fn a_quiet_limit_lets_its_burst_through_at_once_then_spaces_requests() {
        // 10 per second: one every 100 ms; burst 3.
        let q = quota(10, 1000, 3);
        let ms = 1_000_000;
        let mut tat = 0;
        for _ in 0..3 {
            tat = admit(tat, 5 * ms, &q).unwrap();
        }
        assert_eq!(tat, 305 * ms);
        // The fourth waits until the TAT is within the tolerance (200 ms).
        assert_eq!(admit(tat, 5 * ms, &q), Err(100 * ms));
        assert_eq!(admit(tat, 105 * ms, &q), Ok(405 * ms));
    }

    #[test]
    fn many_at_once_grants_what_one_by_one_would() {
        let q = quota(10, 1000, 3);
        let ms = 1_000_000;
        let batch = admit_many(0, 5 * ms, &q, 5);
        assert_eq!(
            batch,
            Batch {
                granted: 3,
                tat: 305 * ms,
                wait: 100 * ms
            }
        );
        let batch = admit_many(0, 5 * ms, &q, 2);
        assert_eq!(batch.granted, 2);
        assert_eq!(batch.wait, 0);
    }

    /// The most requests admitted with arrival times in any interval,
    /// against `burst + rate × t`, checked on every pair of admitted times
    /// (the fullest intervals start and end at admitted arrivals).
    fn check_bound(admitted: &[u64], q: &Quota) -> Result<(), TestCaseError> {
        let mut sorted = admitted.to_vec();
        sorted.sort_unstable();
        let per = q.per().as_nanos();
        for i in 0..sorted.len() {
            for j in i..sorted.len() {
                let n = (j - i + 1) as u128;
                let t = u128::from(sorted[j] - sorted[i]);
                // n ≤ burst + t × num / per, without division.
                prop_assert!(
                    n * per <= u128::from(q.burst()) * per + t * u128::from(q.num()),
                    "{n} requests in {t} ns with {q:?}"
                );
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn no_interval_admits_more_than_burst_plus_rate_times_its_length(
            num in 1u64..50,
            per_ms in 1u64..2000,
            burst in 1u64..20,
            // Gaps between arrivals, in microseconds, and a share of
            // arrivals that come out of order (read the clock earlier than
            // the last one admitted).
            steps in proptest::collection::vec((0u64..200_000, 0u64..4, 0u64..50_000), 1..200),
        ) {
            let q = quota(num, per_ms, burst);
            let mut clock = 1_000_000_000u64;
            let mut tat = 0;
            let mut admitted = Vec::new();
            for (gap_us, late, back_us) in steps {
                clock += gap_us * 1000;
                // One time in four, the arrival read the clock a little
                // earlier than the latest one.
                let now = if late == 0 { clock.saturating_sub(back_us * 1000) } else { clock };
                if let Ok(next) = admit(tat, now, &q) {
                    tat = next;
                    admitted.push(now);
                }
            }
            check_bound(&admitted, &q)?;
        }

        #[test]
        fn admitting_many_is_admitting_one_after_the_other(
            num in 1u64..50,
            per_ms in 1u64..2000,
            burst in 1u64..20,
            tat_ahead_ms in 0u64..5000,
            wanted in 0u64..40,
        ) {
            let q = quota(num, per_ms, burst);
            let now = 10_000_000_000u64;
            let start = now - 2_000_000_000 + tat_ahead_ms * 1_000_000;
            let batch = admit_many(start, now, &q, wanted);
            let mut tat = start;
            let mut granted = 0;
            while granted < wanted {
                match admit(tat, now, &q) {
                    Ok(next) => { tat = next; granted += 1; }
                    Err(_) => break,
                }
            }
            prop_assert_eq!(batch.granted, granted);
            if granted > 0 {
                prop_assert_eq!(batch.tat, tat);
            }
            // The wait is exactly when one more would pass.
            let wait = match admit(batch.tat.max(start), now, &q) { Ok(_) => 0, Err(wait) => wait };
            prop_assert_eq!(batch.wait, wait);
        }
    }
}
