//! `tower::util::rng`: the `Rng` trait's provided methods and `HasherRng`'s
//! exact algorithm.

use std::collections::hash_map::{DefaultHasher, RandomState};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use tower::util::rng::{HasherRng, Rng};

use super::support::{assert_clone, assert_debug, assert_default};

/// An `Rng` that replays fixed words.
#[derive(Debug)]
struct Replay(Vec<u64>);

impl Rng for Replay {
    fn next_u64(&mut self) -> u64 {
        self.0.remove(0)
    }
}

type Seeded = BuildHasherDefault<DefaultHasher>;

/// What `HasherRng` must return for `counter`: the hash of the counter
/// written as a `u64` by a fresh hasher.
fn expected_word<B: BuildHasher>(builder: &B, counter: u64) -> u64 {
    let mut hasher = builder.build_hasher();
    hasher.write_u64(counter);
    hasher.finish()
}

#[test]
fn hasher_rng_hashes_a_counter() {
    let mut rng: HasherRng<Seeded> = HasherRng::with_hasher(Seeded::default());
    for counter in 0..32 {
        assert_eq!(rng.next_u64(), expected_word(&Seeded::default(), counter));
    }

    // The same with a random state: the counter starts at zero.
    let state = RandomState::new();
    let mut rng = HasherRng::with_hasher(state.clone());
    for counter in 0..8 {
        assert_eq!(rng.next_u64(), expected_word(&state, counter));
    }
}

#[test]
fn hasher_rng_constructors() {
    let mut a: HasherRng = HasherRng::new();
    let mut b: HasherRng = HasherRng::default();
    let first: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
    let second: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
    assert_ne!(first, second, "two random states give different sequences");
    // A clone continues the same sequence.
    let mut c = a.clone();
    assert_eq!(a.next_u64(), c.next_u64());
    assert_clone::<HasherRng>();
    assert_debug::<HasherRng>();
    assert_default::<HasherRng>();
    let seeded = HasherRng::with_hasher(Seeded::default());
    assert_eq!(
        format!("{seeded:?}"),
        format!(
            "HasherRng {{ hasher: {:?}, counter: 0 }}",
            Seeded::default()
        )
    );
}

#[test]
fn next_f64_uses_the_top_53_bits() {
    let words = vec![0, u64::MAX, 1 << 63, 0x7ff, 0x800, 12_345_678_901_234_567];
    let mut rng = Replay(words.clone());
    for word in words {
        let expected = (word >> 11) as f64 / (1_u64 << 53) as f64;
        let value = rng.next_f64();
        assert_eq!(value, expected, "word {word:#x}");
        assert!((0.0..1.0).contains(&value));
    }
}

#[test]
fn next_range_is_modulo_plus_start() {
    let cases = [
        (17_u64, 0_u64, 5_u64),
        (17, 10, 15),
        (u64::MAX, 3, 9),
        (0, 7, 8),
        (99, 0, u64::MAX),
    ];
    let mut rng = Replay(cases.iter().map(|c| c.0).collect());
    for (word, start, end) in cases {
        assert_eq!(rng.next_range(start..end), word % (end - start) + start);
    }
}

#[test]
fn seeded_generator_stays_in_range() {
    let mut rng = HasherRng::with_hasher(Seeded::default());
    for _ in 0..1000 {
        let f = rng.next_f64();
        assert!((0.0..1.0).contains(&f));
        let r = rng.next_range(5..9);
        assert!((5..9).contains(&r));
    }
}

#[test]
fn boxed_rng_is_an_rng() {
    let mut boxed: Box<dyn Rng> = Box::new(HasherRng::with_hasher(Seeded::default()));
    let mut plain = HasherRng::with_hasher(Seeded::default());
    assert_eq!(boxed.next_u64(), plain.next_u64());
    assert_eq!(boxed.next_f64(), plain.next_f64());
    assert_eq!(boxed.next_range(0..10), plain.next_range(0..10));
    let mut boxed_sized: Box<Replay> = Box::new(Replay(vec![42]));
    assert_eq!(boxed_sized.next_u64(), 42);
    fn takes_rng<R: Rng>(mut r: R) -> u64 {
        r.next_u64()
    }
    assert_eq!(takes_rng(Box::new(Replay(vec![7]))), 7);
}
