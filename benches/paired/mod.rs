//! The paired measurement, shared by the runners that compare two
//! implementations in one process (`examples/per_request.rs paired`,
//! `examples/limits.rs paired`).
//!
//! Two implementations, A and B, run one after the other in blocks of N
//! requests, A B in even rounds and B A in odd ones. Each round gives a
//! ratio A / B; the result is the median of those ratios, with the median
//! time per request of each. Drift on a noisy machine (another process, a
//! change of clock speed) moves both halves of a round alike and cancels
//! out of the ratio; flipping the order cancels the advantage of going
//! second (warm caches). `benches/layouts.sh` runs a runner under several
//! code layouts.
#![allow(
    unreachable_pub,
    reason = "this module is included by several targets, each a binary"
)]

use std::time::Duration;

/// The header of the rows that [`Comparison::row`] prints.
pub const HEADER: &str = "case\tagainst\tcase_ns\tagainst_ns\tratio\tmin_ratio\tmax_ratio\ttarget";

/// How much to measure: rounds, and requests per block.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Rounds; each runs one block of A and one of B.
    pub rounds: usize,
    /// Requests per block.
    pub requests: u64,
}

impl Options {
    /// 21 rounds of blocks of 200,000 requests.
    pub const DEFAULT: Options = Options {
        rounds: 21,
        requests: 200_000,
    };

    /// Reads `--rounds R` and `--requests N` from the front of `args`;
    /// returns the options and the arguments left, or `None` for a flag
    /// without a number.
    pub fn parse(mut args: &[String]) -> Option<(Options, &[String])> {
        let mut options = Options::DEFAULT;
        while let Some(flag) = args.first().filter(|arg| arg.starts_with("--")) {
            let value: u64 = args.get(1)?.parse().ok()?;
            match flag.as_str() {
                "--rounds" => options.rounds = usize::try_from(value).ok()?.max(1),
                "--requests" => options.requests = value.max(1),
                _ => return None,
            }
            args = &args[2..];
        }
        Some((options, args))
    }
}

/// What a paired comparison of A with B found.
#[derive(Debug, Clone, Copy)]
pub struct Comparison {
    /// A's median time per request, in nanoseconds.
    pub a_ns: f64,
    /// B's median time per request, in nanoseconds.
    pub b_ns: f64,
    /// The median of the per-round ratios A / B.
    pub ratio: f64,
    /// The lowest per-round ratio.
    pub min: f64,
    /// The highest per-round ratio.
    pub max: f64,
}

impl Comparison {
    /// One tab-separated row under [`HEADER`].
    pub fn row(&self, case: &str, against: &str, target: &str) -> String {
        format!(
            "{case}\t{against}\t{:.2}\t{:.2}\t{:.3}\t{:.3}\t{:.3}\t{target}",
            self.a_ns, self.b_ns, self.ratio, self.min, self.max
        )
    }
}

/// The median of `values` (the upper one for an even count), which it
/// sorts.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Compares A with B: `a(n)` and `b(n)` each run `n` requests and return
/// the time they took. Both are warmed up with one block first.
pub fn compare(
    options: Options,
    mut a: impl FnMut(u64) -> Duration,
    mut b: impl FnMut(u64) -> Duration,
) -> Comparison {
    let requests = options.requests;
    a(requests);
    b(requests);
    let per = |t: Duration| t.as_nanos() as f64 / requests as f64;
    let (mut a_ns, mut b_ns, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..options.rounds {
        let (ta, tb) = if round % 2 == 0 {
            let ta = a(requests);
            (ta, b(requests))
        } else {
            let tb = b(requests);
            (a(requests), tb)
        };
        a_ns.push(per(ta));
        b_ns.push(per(tb));
        ratios.push(per(ta) / per(tb));
    }
    let ratio = median(&mut ratios);
    // `median` sorted the ratios.
    Comparison {
        a_ns: median(&mut a_ns),
        b_ns: median(&mut b_ns),
        ratio,
        min: ratios[0],
        max: ratios[ratios.len() - 1],
    }
}
