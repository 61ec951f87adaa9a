//! Paired benchmark of the rate limits (see `limits/mod.rs` for the cases).
//!
//! ```text
//! limits paired [--rounds R] [--requests N]   compare the pairs of limits::PAIRS
//! limits once <case> <N>                      run one case once (for callgrind)
//! ```
//!
//! `paired` compares the two cases of each pair as `paired/mod.rs` says:
//! blocks of N requests, the order flipped every round, the median of the
//! per-round ratios. `benches/limits.sh` runs it over several code layouts.

use std::process::ExitCode;

#[path = "../limits/mod.rs"]
mod limits;
#[path = "../paired/mod.rs"]
mod paired;

use limits::{CASES, PAIRS, prepare, run, runtime};
use paired::{HEADER, Options, compare};

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
        Some("paired") => match Options::parse(&args[1..]) {
            Some((options, [])) => {
                paired(options);
                ExitCode::SUCCESS
            }
            _ => usage(),
        },
        _ => usage(),
    }
}

fn paired(options: Options) {
    let rt = runtime();
    println!("{HEADER}");
    for &(case, against, target) in PAIRS {
        let mut a = prepare(case, &rt).expect("a known case");
        let mut b = prepare(against, &rt).expect("a known case");
        let comparison = compare(options, |n| run(&mut a, &rt, n), |n| run(&mut b, &rt, n));
        let target = if target.is_nan() {
            "-".to_string()
        } else {
            format!("<= {target:.2}")
        };
        println!("{}", comparison.row(case, against, &target));
    }
}
