//! The GCRA script, and the quota's figures in the microseconds it counts.

use std::sync::LazyLock;
use std::time::Duration;

use donjon::limit::gcra::Quota;
use redis::Script;
use redis::aio::ConnectionManager;

use crate::MAX_MICROS;

/// The script, hashed once per process.
static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("gcra.lua")));

/// A quota in the script's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Micros {
    /// The emission interval, rounded up to the microsecond (at least 1).
    pub(super) interval: u64,
    /// `interval × (burst − 1)`.
    pub(super) tolerance: u64,
}

impl Micros {
    pub(super) fn of(quota: &Quota) -> Self {
        let nanos = quota.emission_interval().as_nanos();
        let interval = u64::try_from(nanos.div_ceil(1000))
            .unwrap_or(MAX_MICROS)
            .clamp(1, MAX_MICROS);
        let tolerance = interval.saturating_mul(quota.burst() - 1).min(MAX_MICROS);
        Micros {
            interval,
            tolerance,
        }
    }
}

/// What the script answered: how many permits it granted, and how long
/// until one more would be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Granted {
    pub(super) granted: u64,
    pub(super) wait: Duration,
}

/// Asks Redis for up to `wanted` permits of `key`: one `EVALSHA`, plus a
/// `SCRIPT LOAD` and a second `EVALSHA` when Redis does not know the script
/// (the first call, and the first after a restart).
pub(super) async fn call(
    connection: &mut ConnectionManager,
    key: &str,
    quota: Micros,
    wanted: u64,
) -> redis::RedisResult<Granted> {
    let (granted, wait): (u64, u64) = GCRA
        .key(key)
        .arg(quota.interval)
        .arg(quota.tolerance)
        .arg(wanted)
        .invoke_async(connection)
        .await?;
    Ok(Granted {
        granted,
        wait: Duration::from_micros(wait),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_round_up_to_the_microsecond_and_keep_the_burst() {
        let quota = Quota::new(3, Duration::from_secs(1))
            .unwrap()
            .with_burst(4)
            .unwrap();
        // 333_333_334 ns.
        assert_eq!(
            Micros::of(&quota),
            Micros {
                interval: 333_334,
                tolerance: 3 * 333_334
            }
        );
        // Faster than one per microsecond: one per microsecond.
        let fast = Quota::new(5_000_000, Duration::from_secs(1)).unwrap();
        assert_eq!(Micros::of(&fast).interval, 1);
    }

    #[test]
    fn figures_beyond_decades_are_capped() {
        let century = Duration::from_secs(100 * 365 * 86_400);
        let slow = Quota::new(1, century).unwrap();
        assert_eq!(Micros::of(&slow).interval, MAX_MICROS);
        let wide = Quota::new(1_000, century).unwrap();
        assert_eq!(Micros::of(&wide).tolerance, MAX_MICROS);
    }
}
