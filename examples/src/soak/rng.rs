//! SplitMix64: the soak's small, seeded pseudo-random generator.

use donjon::util::rng::Rng;

/// Sebastiano Vigna's SplitMix64: one addition and a few multiplications
/// per number, good enough to spread faults evenly, and seeded so that a
/// run can be repeated.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub(crate) const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A generator for one of several streams drawn from one seed: the
    /// stream's number is mixed in, so that nearby numbers give unrelated
    /// sequences.
    pub(crate) fn stream(seed: u64, stream: u64) -> Self {
        let mut mixer = SplitMix64::new(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        SplitMix64::new(mixer.next())
    }

    /// The next number, uniform over all `u64`s.
    pub(crate) fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0), without the bias of a modulo.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Whether an event of probability `per_million` / 1 000 000 happens.
    pub(crate) fn chance(&mut self, per_million: u64) -> bool {
        self.below(1_000_000) < per_million
    }
}

/// The balancer picks its pairs of endpoints with it too, so that the
/// picks follow the seed.
impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.next()
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let mut a = SplitMix64::stream(7, 3);
        let mut b = SplitMix64::stream(7, 3);
        let mut c = SplitMix64::stream(7, 4);
        let (xs, ys, zs): (Vec<_>, Vec<_>, Vec<_>) =
            (0..8).map(|_| (a.next(), b.next(), c.next())).fold(
                (vec![], vec![], vec![]),
                |(mut x, mut y, mut z), (p, q, r)| {
                    x.push(p);
                    y.push(q);
                    z.push(r);
                    (x, y, z)
                },
            );
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = SplitMix64::new(1);
        let mut seen = [0u32; 6];
        for _ in 0..6_000 {
            seen[rng.below(6) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }
}
