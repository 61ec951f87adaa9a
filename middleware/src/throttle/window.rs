//! The sliding window of a throttle: the requests made and the requests the
//! backend accepted over the last `window`, in buckets that expire one at a
//! time.

use std::time::Duration;

use tokio::time::Instant;

/// Requests and accepts over a sliding window of `buckets` spans.
#[derive(Debug)]
pub(super) struct Window {
    /// The counts of each span, a ring; `current` is the newest.
    buckets: Box<[Bucket]>,
    current: usize,
    /// When the newest span began.
    current_start: Instant,
    /// The length of one span.
    span: Duration,
    /// The sums over every bucket.
    requests: u64,
    accepts: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    requests: u64,
    accepts: u64,
}

impl Window {
    /// An empty window of `window` split into `buckets` spans, starting at
    /// `now`. The caller checks that both are above zero.
    pub(super) fn new(window: Duration, buckets: usize, now: Instant) -> Self {
        let span = window / u32::try_from(buckets).unwrap_or(u32::MAX);
        Window {
            buckets: vec![Bucket::default(); buckets].into_boxed_slice(),
            current: 0,
            current_start: now,
            span: span.max(Duration::from_nanos(1)),
            requests: 0,
            accepts: 0,
        }
    }

    /// Counts a request at `now`, accepted by the backend or not.
    pub(super) fn record(&mut self, now: Instant, accepted: bool) {
        self.roll(now);
        let bucket = &mut self.buckets[self.current];
        bucket.requests += 1;
        self.requests += 1;
        if accepted {
            bucket.accepts += 1;
            self.accepts += 1;
        }
    }

    /// The requests and the accepts over the window, as of the last record.
    pub(super) fn counts(&self) -> (u64, u64) {
        (self.requests, self.accepts)
    }

    /// Expires the spans that ended before `now`.
    pub(super) fn roll(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.current_start);
        if elapsed < self.span {
            return;
        }
        let steps = elapsed.as_nanos() / self.span.as_nanos();
        let len = self.buckets.len();
        let cleared = usize::try_from(steps).map_or(len, |steps| steps.min(len));
        for _ in 0..cleared {
            self.current = (self.current + 1) % len;
            let expired = std::mem::take(&mut self.buckets[self.current]);
            self.requests -= expired.requests;
            self.accepts -= expired.accepts;
        }
        // The newest span is the one `now` falls in.
        let advance = self.span.as_nanos() * steps;
        self.current_start += u64::try_from(advance)
            .map(Duration::from_nanos)
            .unwrap_or(elapsed);
    }
}

/// The probability of refusing a request, from the Google SRE book's
/// client-side throttling: `max(0, (requests − k × accepts) / (requests + 1))`.
pub(super) fn probability(requests: u64, accepts: u64, k: f64) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let (requests, accepts) = (requests as f64, accepts as f64);
    ((requests - k * accepts) / (requests + 1.0)).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_expire_one_at_a_time_and_a_long_gap_clears_them_all() {
        let start = Instant::now();
        let mut window = Window::new(Duration::from_secs(10), 5, start);
        window.record(start, true);
        window.record(start + Duration::from_secs(1), false);
        window.record(start + Duration::from_secs(3), true);
        assert_eq!(window.counts(), (3, 2));
        // At 10 s the first span [0, 2 s) has expired, not the second.
        window.record(start + Duration::from_secs(10), false);
        assert_eq!(window.counts(), (2, 1));
        // At 12 s the span [2 s, 4 s) goes too.
        window.record(start + Duration::from_secs(12), false);
        assert_eq!(window.counts(), (2, 0));
        window.record(start + Duration::from_secs(100), true);
        assert_eq!(window.counts(), (1, 1));
    }

    #[test]
    fn the_probability_is_the_books_formula() {
        // 100 requests, 20 accepted, k = 2: (100 - 40) / 101.
        assert!((probability(100, 20, 2.0) - 60.0 / 101.0).abs() < 1e-12);
        // Accepted enough: never below zero.
        assert!(probability(100, 60, 2.0).abs() < f64::EPSILON);
        assert!(probability(0, 0, 2.0).abs() < f64::EPSILON);
    }
}
