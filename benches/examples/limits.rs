//! Paired benchmark of the rate limits (see `limits/mod.rs` for the cases).
//!
//! ```text
//! limits paired [--rounds R] [--requests N]   compare the pairs of limits::PAIRS
//! limits once <case> <N>                      run one case once (for callgrind)
//! ```
//!
//! `paired` runs the two cases of each pair one after the other, in blocks
//! of N requests, flipping which goes first every round, and prints for
//! each pair the median time per request of each and the median of the
//! per-round ratios: drift on a noisy machine moves both halves of a round
//! alike, and cancels out of the ratio. `benches/limits.sh` runs it over
//! several code layouts.

use std::process::ExitCode;

#[path = "../limits/mod.rs"]
mod limits;

use limits::{CASES, PAIRS, prepare, run, runtime};

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn usage() -> ExitCode {
    eprintln!("usage: limits paired [--rounds R] [--requests N] | limits once <case> <N>");
    eprintln!(
        "cases: {}",
        CASES
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(" ")
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("once") => {
            let (Some(case), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse().ok()))
            else {
                return usage();
            };
            let rt = runtime();
            let Some(mut prepared) = prepare(case, &rt) else {
                return usage();
            };
            let elapsed = run(&mut prepared, &rt, n);
            println!("{case} {n} requests in {elapsed:?}");
            ExitCode::SUCCESS
        }
        Some("paired") => {
            let mut rounds = 21usize;
            let mut requests = 200_000u64;
            let mut rest = args[1..].iter();
            while let Some(flag) = rest.next() {
                let value = rest.next().and_then(|value| value.parse::<u64>().ok());
                match (flag.as_str(), value) {
                    ("--rounds", Some(value)) => rounds = value as usize,
                    ("--requests", Some(value)) => requests = value,
                    _ => return usage(),
                }
            }
            paired(rounds.max(1), requests.max(1));
            ExitCode::SUCCESS
        }
        _ => usage(),
    }
}

fn paired(rounds: usize, requests: u64) {
    let rt = runtime();
    println!("case\tagainst\tcase_ns\tagainst_ns\tratio\tmin_ratio\tmax_ratio\ttarget");
    for &(case, against, target) in PAIRS {
        let mut a = prepare(case, &rt).expect("a known case");
        let mut b = prepare(against, &rt).expect("a known case");
        // Warm up both: first keys inserted, caches and branch predictors.
        run(&mut a, &rt, requests);
        run(&mut b, &rt, requests);
        let (mut a_ns, mut b_ns, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let (ta, tb) = if round % 2 == 0 {
                let ta = run(&mut a, &rt, requests);
                (ta, run(&mut b, &rt, requests))
            } else {
                let tb = run(&mut b, &rt, requests);
                (run(&mut a, &rt, requests), tb)
            };
            let per = |t: std::time::Duration| t.as_nanos() as f64 / requests as f64;
            a_ns.push(per(ta));
            b_ns.push(per(tb));
            ratios.push(per(ta) / per(tb));
        }
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ratios.iter().copied().fold(0.0, f64::max);
        let target = if target.is_nan() {
            "-".to_string()
        } else {
            format!("<= {target:.2}")
        };
        println!(
            "{case}\t{against}\t{:.2}\t{:.2}\t{:.3}\t{min:.3}\t{max:.3}\t{target}",
            median(&mut a_ns),
            median(&mut b_ns),
            median(&mut ratios),
        );
    }
}
