//! Small, fast pseudo-random numbers for middleware that needs to pick at
//! random (load balancers, backoff jitter).
//!
//! These are not cryptographically secure; they need only spread choices
//! evenly. [`HasherRng`] needs no dependency and no seed: it hashes a
//! counter with a [`BuildHasher`], which by default is the standard
//! library's randomly keyed [`RandomState`].
//!
//! # Examples
//!
//! ```
//! use donjon::util::rng::{HasherRng, Rng};
//!
//! let mut rng = HasherRng::new();
//! let roll = rng.next_range(1..7);
//! assert!((1..7).contains(&roll));
//! let fraction = rng.next_f64();
//! assert!((0.0..1.0).contains(&fraction));
//! ```

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;

/// A source of pseudo-random numbers.
///
/// Only [`next_u64`](Rng::next_u64) must be written; the other methods
/// derive from it.
pub trait Rng {
    /// Returns a pseudo-random `u64`, uniform over all values.
    fn next_u64(&mut self) -> u64;

    /// Returns a pseudo-random `f64`, uniform in `[0, 1)`.
    fn next_f64(&mut self) -> f64 {
        // The top 53 bits fill an f64 mantissa exactly.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Returns a pseudo-random number in `range` (start included, end
    /// excluded).
    ///
    /// The result is the next `u64` modulo the range's length, so ranges
    /// that do not divide 2⁶⁴ evenly have a tiny bias toward their start.
    ///
    /// # Panics
    ///
    /// Panics when `range` is empty, as a division by zero in release
    /// builds and with a clearer message in debug builds.
    fn next_range(&mut self, range: Range<u64>) -> u64 {
        debug_assert!(
            range.start < range.end,
            "Rng::next_range needs a non-empty range, got {range:?}"
        );
        self.next_u64() % (range.end - range.start) + range.start
    }
}

impl<R: Rng + ?Sized> Rng for Box<R> {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

/// A [`Rng`] that hashes an incrementing counter.
///
/// With the default [`RandomState`], each `HasherRng` gets its own random
/// keys, so two of them produce different sequences. With a fixed
/// [`BuildHasher`] (see [`with_hasher`](HasherRng::with_hasher)) the
/// sequence is reproducible.
#[derive(Clone, Debug)]
pub struct HasherRng<H = RandomState> {
    hasher: H,
    counter: u64,
}

impl HasherRng {
    /// Creates a generator keyed by a fresh [`RandomState`].
    pub fn new() -> Self {
        HasherRng::default()
    }
}

impl Default for HasherRng {
    fn default() -> Self {
        HasherRng::with_hasher(RandomState::default())
    }
}

impl<H> HasherRng<H> {
    /// Creates a generator that hashes with `hasher`, starting from a
    /// counter of zero.
    pub fn with_hasher(hasher: H) -> Self {
        HasherRng { hasher, counter: 0 }
    }
}

impl<H: BuildHasher> Rng for HasherRng<H> {
    fn next_u64(&mut self) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        hasher.write_u64(self.counter);
        self.counter = self.counter.wrapping_add(1);
        hasher.finish()
    }
}

/// A small, fast generator (splitmix64) for internal use where a random
/// choice sits on every request, seeded at random.
#[derive(Debug, Clone)]
#[allow(
    dead_code,
    reason = "used by the p2c balancer, which comes with the balance module"
)]
pub(crate) struct FastRng {
    state: u64,
}

#[allow(
    dead_code,
    reason = "used by the p2c balancer, which comes with the balance module"
)]
impl FastRng {
    /// A generator seeded from a randomly keyed hasher.
    pub(crate) fn new() -> Self {
        FastRng {
            state: HasherRng::new().next_u64(),
        }
    }
}

impl Rng for FastRng {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Picks two distinct indices in `0..length` at random (Robert Floyd's
/// sampling, for two elements).
///
/// `length` must be at least 2.
#[allow(
    dead_code,
    reason = "used by the p2c balancer, which comes with the balance module"
)]
pub(crate) fn sample_floyd2<R: Rng>(rng: &mut R, length: u64) -> [u64; 2] {
    debug_assert!(
        length >= 2,
        "sampling two indices needs at least two elements"
    );
    let mut first = rng.next_range(0..length - 1);
    let second = rng.next_range(0..length);
    if first == second {
        first = length - 1;
    }
    [first, second]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generator with fixed keys, so failures reproduce.
    fn seeded()
    -> HasherRng<std::hash::BuildHasherDefault<std::collections::hash_map::DefaultHasher>> {
        HasherRng::with_hasher(Default::default())
    }

    #[test]
    fn next_f64_stays_in_the_unit_interval() {
        let mut rng = seeded();
        for _ in 0..10_000 {
            let value = rng.next_f64();
            assert!((0.0..1.0).contains(&value), "{value} is outside [0, 1)");
        }
    }

    #[test]
    fn next_f64_of_extreme_words() {
        struct Fixed(u64);
        impl Rng for Fixed {
            fn next_u64(&mut self) -> u64 {
                self.0
            }
        }
        assert_eq!(Fixed(0).next_f64(), 0.0);
        assert!(Fixed(u64::MAX).next_f64() < 1.0);
    }

    #[test]
    fn next_range_stays_in_range() {
        let mut rng = seeded();
        for (start, end) in [
            (0, 1),
            (0, 2),
            (5, 9),
            (u64::MAX - 3, u64::MAX),
            (0, u64::MAX),
        ] {
            for _ in 0..1_000 {
                let value = rng.next_range(start..end);
                assert!(
                    (start..end).contains(&value),
                    "{value} outside {start}..{end}"
                );
            }
        }
    }

    #[test]
    fn next_range_reaches_every_value_of_a_small_range() {
        let mut rng = seeded();
        let mut seen = [false; 6];
        for _ in 0..1_000 {
            seen[rng.next_range(10..16) as usize - 10] = true;
        }
        assert_eq!(seen, [true; 6]);
    }

    #[test]
    fn sample_floyd2_gives_distinct_indices_in_range() {
        let mut rng = seeded();
        for length in 2..50 {
            for _ in 0..200 {
                let [a, b] = sample_floyd2(&mut rng, length);
                assert_ne!(a, b);
                assert!(a < length && b < length, "{a}, {b} not below {length}");
            }
        }
    }

    #[test]
    fn sample_floyd2_of_two_is_a_permutation() {
        let mut rng = seeded();
        let mut orders = [0; 2];
        for _ in 0..1_000 {
            match sample_floyd2(&mut rng, 2) {
                [0, 1] => orders[0] += 1,
                [1, 0] => orders[1] += 1,
                other => panic!("unexpected sample {other:?}"),
            }
        }
        assert!(
            orders[0] > 0 && orders[1] > 0,
            "both orders occur: {orders:?}"
        );
    }

    #[test]
    fn random_state_generators_differ_and_seeded_ones_repeat() {
        let first: Vec<u64> = (0..4)
            .map({
                let mut r = HasherRng::new();
                move |_| r.next_u64()
            })
            .collect();
        let second: Vec<u64> = (0..4)
            .map({
                let mut r = HasherRng::new();
                move |_| r.next_u64()
            })
            .collect();
        assert_ne!(first, second);
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = seeded();
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = seeded();
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn fast_rngs_are_seeded_apart_and_spread_over_a_range() {
        let (mut a, mut b) = (FastRng::new(), FastRng::new());
        assert_ne!(a.next_u64(), b.next_u64(), "two generators start apart");
        let mut seen = [0u32; 8];
        for _ in 0..8_000 {
            seen[a.next_range(0..8) as usize] += 1;
        }
        assert!(
            seen.iter().all(|&count| (800..1200).contains(&count)),
            "{seen:?}"
        );
    }

    #[test]
    fn boxed_rng_forwards() {
        let mut boxed: Box<dyn Rng> = Box::new(seeded());
        let mut plain = seeded();
        assert_eq!(boxed.next_u64(), plain.next_u64());
    }
}
