//! Latency histograms: a compact histogram of millisecond latencies, and a
//! pair of them rotated over time so that quantiles reflect the recent past.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

/// Values below this are counted exactly; above, in buckets whose width is
/// at most 1/1024 of their value (three significant decimal digits).
const EXACT_BELOW: u64 = 2048;

/// A histogram of values with three significant digits of precision.
#[derive(Debug, Default, Clone)]
pub(super) struct Histogram {
    /// Count per bucket, keyed by the bucket's lowest value.
    buckets: BTreeMap<u64, u64>,
    len: u64,
}

/// The lowest value, and the width, of the bucket holding `value`.
fn bucket_of(value: u64) -> (u64, u64) {
    if value < EXACT_BELOW {
        return (value, 1);
    }
    let shift = 63 - value.leading_zeros() - 10;
    ((value >> shift) << shift, 1 << shift)
}

impl Histogram {
    pub(super) fn record(&mut self, value: u64) {
        let (low, _) = bucket_of(value);
        *self.buckets.entry(low).or_insert(0) += 1;
        self.len += 1;
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    pub(super) fn clear(&mut self) {
        self.buckets.clear();
        self.len = 0;
    }

    /// The value below which a fraction `quantile` of the recorded values
    /// fall: the highest value of the bucket that reaches that share.
    /// Zero when nothing is recorded.
    pub(super) fn value_at_quantile(&self, quantile: f64) -> u64 {
        let quantile = quantile.clamp(0.0, 1.0);
        let wanted = ((quantile * self.len as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (&low, &count) in &self.buckets {
            seen += count;
            if seen >= wanted {
                let (_, width) = bucket_of(low);
                return low + (width - 1);
            }
        }
        0
    }
}

/// Two histograms over consecutive periods: quantiles are read from the
/// last complete period while the current one is recorded.
#[derive(Debug)]
pub(super) struct RotatingHistogram {
    read: Histogram,
    write: Histogram,
    last_rotation: Instant,
    period: Duration,
}

impl RotatingHistogram {
    pub(super) fn new(period: Duration) -> Self {
        RotatingHistogram {
            read: Histogram::default(),
            write: Histogram::default(),
            last_rotation: Instant::now(),
            period,
        }
    }

    /// The histogram of the last complete period.
    pub(super) fn read(&mut self) -> &mut Histogram {
        self.maybe_rotate();
        &mut self.read
    }

    /// The histogram of the current period.
    pub(super) fn write(&mut self) -> &mut Histogram {
        self.maybe_rotate();
        &mut self.write
    }

    /// Swaps the halves after a period, clears both after two.
    fn maybe_rotate(&mut self) {
        let elapsed = Instant::now().saturating_duration_since(self.last_rotation);
        let period = self.period.as_nanos().max(1);
        let rotations = elapsed.as_nanos() / period;
        match rotations {
            0 => return,
            1 => {
                std::mem::swap(&mut self.read, &mut self.write);
                self.write.clear();
            }
            _ => {
                self.read.clear();
                self.write.clear();
            }
        }
        // Whole periods only, so that rotations stay on the same grid.
        let advance = self
            .period
            .checked_mul(u32::try_from(rotations).unwrap_or(u32::MAX))
            .unwrap_or(elapsed);
        self.last_rotation += advance.min(elapsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_exact() {
        let mut histogram = Histogram::default();
        for value in [1, 1, 1, 1, 1, 1, 1, 1, 10, 10] {
            histogram.record(value);
        }
        assert_eq!(histogram.len(), 10);
        assert_eq!(histogram.value_at_quantile(0.5), 1);
        assert_eq!(histogram.value_at_quantile(f64::from(0.9f32)), 10);
        assert_eq!(histogram.value_at_quantile(1.0), 10);
        assert_eq!(histogram.value_at_quantile(0.0), 1);
    }

    #[test]
    fn large_values_keep_three_significant_digits() {
        for value in [2_048, 5_000, 123_456, 9_999_999, u64::MAX / 3] {
            let mut histogram = Histogram::default();
            histogram.record(value);
            let estimate = histogram.value_at_quantile(0.5);
            assert!(estimate >= value, "{estimate} below {value}");
            assert!(
                (estimate - value) as f64 <= value as f64 / 1000.0,
                "{estimate} too far above {value}"
            );
        }
    }

    #[test]
    fn an_empty_histogram_reads_zero() {
        assert_eq!(Histogram::default().value_at_quantile(0.9), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn halves_rotate_each_period_and_clear_after_two() {
        let period = Duration::from_secs(60);
        let mut rotating = RotatingHistogram::new(period);
        rotating.write().record(5);
        assert_eq!(rotating.read().len(), 0);

        tokio::time::advance(period).await;
        assert_eq!(rotating.read().len(), 1, "the written half became readable");
        assert_eq!(rotating.write().len(), 0);

        rotating.write().record(7);
        tokio::time::advance(period * 2).await;
        assert_eq!(rotating.read().len(), 0, "two periods clear both halves");
        assert_eq!(rotating.write().len(), 0);
    }
}
