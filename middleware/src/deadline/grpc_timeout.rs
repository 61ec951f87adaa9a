//! The `grpc-timeout` header's format, in which a hop tells the next how
//! much time its caller has left: at most 8 digits and a unit, `H`ours,
//! `M`inutes, `S`econds, `m`illiseconds, `u` microseconds or `n`anoseconds
//! (`"250m"`, `"1500000u"`, `"30S"`).
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::deadline::grpc_timeout;
//!
//! assert_eq!(grpc_timeout::encode(Duration::from_millis(250)), "250000u");
//! assert_eq!(grpc_timeout::decode("250m"), Ok(Duration::from_millis(250)));
//! assert!(grpc_timeout::decode("250").is_err());
//! ```

use std::fmt;
use std::time::Duration;

/// The units, finest first, with their length in nanoseconds.
const UNITS: [(char, u128); 6] = [
    ('n', 1),
    ('u', 1_000),
    ('m', 1_000_000),
    ('S', 1_000_000_000),
    ('M', 60_000_000_000),
    ('H', 3_600_000_000_000),
];

/// The largest value the format holds: 8 digits.
const MAX_VALUE: u128 = 99_999_999;

/// `timeout` in the format, in the finest unit that holds it in 8 digits,
/// rounded down to that unit (the next hop gives up no later than the
/// caller would); past 99,999,999 hours, that many hours.
pub fn encode(timeout: Duration) -> String {
    let nanos = timeout.as_nanos();
    for (unit, length) in UNITS {
        let value = nanos / length;
        if value <= MAX_VALUE {
            return format!("{value}{unit}");
        }
    }
    format!("{MAX_VALUE}H")
}

/// The timeout a header value gives.
///
/// # Errors
///
/// [`InvalidTimeout`] when the value is not 1 to 8 ASCII digits followed by
/// one of the six units.
pub fn decode(value: &str) -> Result<Duration, InvalidTimeout> {
    let invalid = || InvalidTimeout(value.chars().take(32).collect());
    let unit = value.chars().last().ok_or_else(invalid)?;
    let digits = &value[..value.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let length = UNITS
        .iter()
        .find(|(known, _)| *known == unit)
        .map(|(_, length)| *length)
        .ok_or_else(invalid)?;
    let value: u128 = digits.parse().map_err(|_| invalid())?;
    let nanos = value * length;
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| invalid())?;
    let subsec = u32::try_from(nanos % 1_000_000_000).map_err(|_| invalid())?;
    Ok(Duration::new(secs, subsec))
}

/// A `grpc-timeout` value that is not 1 to 8 digits and a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTimeout(String);

impl InvalidTimeout {
    /// The error for a header value that is not text.
    #[cfg_attr(
        not(feature = "http"),
        allow(dead_code, reason = "only the header layer reads bytes")
    )]
    pub(super) fn of(value: &[u8]) -> Self {
        InvalidTimeout(String::from_utf8_lossy(&value[..value.len().min(32)]).into_owned())
    }
}

impl fmt::Display for InvalidTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid grpc-timeout {:?}: expected 1 to 8 digits and a unit (H, M, S, m, u, n)",
            self.0
        )
    }
}

impl std::error::Error for InvalidTimeout {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_takes_the_finest_unit_that_holds_it_in_eight_digits() {
        let cases = [
            (Duration::ZERO, "0n"),
            (Duration::from_nanos(99_999_999), "99999999n"),
            (Duration::from_nanos(100_000_000), "100000u"),
            (Duration::from_millis(250), "250000u"),
            (Duration::from_secs(30), "30000000u"),
            (Duration::from_secs(99_999), "99999000m"),
            (Duration::from_secs(100_000), "100000S"),
            (Duration::from_secs(100_000_000), "1666666M"),
            (Duration::from_secs(6_000_000_000), "1666666H"),
            (Duration::MAX, "99999999H"),
        ];
        for (timeout, encoded) in cases {
            assert_eq!(encode(timeout), encoded, "{timeout:?}");
        }
    }

    #[test]
    fn decoding_reads_every_unit_and_refuses_the_rest() {
        assert_eq!(decode("1H"), Ok(Duration::from_secs(3600)));
        assert_eq!(decode("2M"), Ok(Duration::from_secs(120)));
        assert_eq!(decode("3S"), Ok(Duration::from_secs(3)));
        assert_eq!(decode("4m"), Ok(Duration::from_millis(4)));
        assert_eq!(decode("5u"), Ok(Duration::from_micros(5)));
        assert_eq!(decode("6n"), Ok(Duration::from_nanos(6)));
        assert_eq!(
            decode("99999999H"),
            Ok(Duration::from_secs(99_999_999 * 3600))
        );
        for bad in [
            "",
            "m",
            "123456789m",
            "12x",
            "-1S",
            "1.5S",
            "1 S",
            "१S",
            "S1",
        ] {
            let error = decode(bad).unwrap_err();
            assert!(
                error.to_string().starts_with("invalid grpc-timeout"),
                "{bad:?}: {error}"
            );
        }
    }

    #[test]
    fn encoding_then_decoding_never_gives_more_time() {
        for nanos in [1, 999, 123_456_789, 987_654_321_012, u64::MAX] {
            let timeout = Duration::from_nanos(nanos);
            let back = decode(&encode(timeout)).unwrap();
            assert!(back <= timeout, "{timeout:?} came back as {back:?}");
        }
    }
}
