//! `util::rng`: the `Rng` trait's provided methods and `HasherRng`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use donjon::util::rng::{HasherRng, Rng};

type Seeded = HasherRng<BuildHasherDefault<DefaultHasher>>;

/// Returns the same word every time.
struct Fixed(u64);

impl Rng for Fixed {
    fn next_u64(&mut self) -> u64 {
        self.0
    }
}

#[test]
fn next_f64_uses_the_top_53_bits_of_the_word() {
    assert_eq!(Fixed(0).next_f64(), 0.0);
    assert_eq!(Fixed(1 << 63).next_f64(), 0.5);
    assert_eq!(
        Fixed((1 << 11) - 1).next_f64(),
        0.0,
        "the low 11 bits are dropped"
    );
    let largest = Fixed(u64::MAX).next_f64();
    assert!(largest < 1.0);
    assert_eq!(largest, 1.0 - 2f64.powi(-53));
}

#[test]
fn next_range_is_the_word_modulo_the_width_plus_the_start() {
    assert_eq!(Fixed(7).next_range(10..13), 11);
    assert_eq!(Fixed(u64::MAX).next_range(0..u64::MAX), 0);
    assert_eq!(Fixed(41).next_range(5..6), 5);
}

#[test]
fn hasher_rng_values_stay_within_their_bounds() {
    let mut rng = HasherRng::new();
    for _ in 0..1_000 {
        let value = rng.next_f64();
        assert!((0.0..1.0).contains(&value), "{value}");
        let value = rng.next_range(3..17);
        assert!((3..17).contains(&value), "{value}");
    }
}

#[test]
fn hasher_rng_hashes_a_counter_that_starts_at_zero() {
    let mut rng = Seeded::with_hasher(BuildHasherDefault::default());
    for counter in 0..5_u64 {
        let mut hasher = BuildHasherDefault::<DefaultHasher>::default().build_hasher();
        hasher.write_u64(counter);
        assert_eq!(rng.next_u64(), hasher.finish());
    }
}

#[test]
fn hasher_rng_with_the_same_hasher_repeats_its_sequence_and_clones_continue_it() {
    let mut first = Seeded::with_hasher(BuildHasherDefault::default());
    let mut second = Seeded::with_hasher(BuildHasherDefault::default());
    let a: Vec<u64> = (0..4).map(|_| first.next_u64()).collect();
    let b: Vec<u64> = (0..4).map(|_| second.next_u64()).collect();
    assert_eq!(a, b);
    assert_ne!(a[0], a[1], "successive values differ");

    let mut clone = first.clone();
    assert_eq!(clone.next_u64(), first.next_u64());
}

#[test]
fn boxed_rng_forwards_to_the_inner_one() {
    let mut boxed: Box<dyn Rng> = Box::new(Fixed(1 << 63));
    assert_eq!(boxed.next_u64(), 1 << 63);
    assert_eq!(boxed.next_f64(), 0.5);
    assert_eq!(boxed.next_range(0..3), (1_u64 << 63) % 3);
}

#[test]
fn hasher_rng_default_and_new_produce_varying_values() {
    for mut rng in [HasherRng::default(), HasherRng::new()] {
        let values: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert!(
            values.windows(2).all(|pair| pair[0] != pair[1]),
            "{values:?}"
        );
        assert!(format!("{rng:?}").starts_with("HasherRng"));
    }
}
