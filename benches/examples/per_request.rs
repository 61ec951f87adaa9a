//! Runs the cases of `cases/` outside criterion.
//!
//! ```text
//! per_request <case> <lib> <N>                               N requests, once
//! per_request paired [--rounds R] [--requests N] [case...]   donjon against the others
//! ```
//!
//! The first form runs `N` requests of one case, once, so that
//! `callgrind.sh` can count the instructions they take. `paired` compares
//! donjon with each other implementation of each case (tower,
//! tower-resilience, raw), in one process, as `paired/mod.rs` says: blocks
//! of N requests, the order flipped every round, the median of the
//! per-round ratios. `benches/paired.sh` runs it over several code layouts.

use std::process::ExitCode;

#[path = "../cases/mod.rs"]
#[allow(dead_code, reason = "the benchmarks use parts this program does not")]
mod cases;
#[path = "../paired/mod.rs"]
mod paired;

use cases::{CASES, Case, Lib, run, runtime_for};
use paired::{HEADER, Options, compare};

fn usage() -> ExitCode {
    eprintln!("usage: per_request <case> <donjon|tower|resilience|raw> <requests>");
    eprintln!("       per_request paired [--rounds R] [--requests N] [case...]");
    eprintln!(
        "cases: {}",
        CASES
            .iter()
            .map(|case| case.name)
            .collect::<Vec<_>>()
            .join(" ")
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // The recorder alone: `install_recorder` would start an upkeep thread,
    // whose instructions callgrind would count.
    #[cfg(feature = "prometheus")]
    metrics::set_global_recorder(
        metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder(),
    )
    .expect("no other recorder is installed");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("paired") {
        let Some((options, names)) = Options::parse(&args[1..]) else {
            return usage();
        };
        let chosen: Option<Vec<&Case>> = if names.is_empty() {
            Some(CASES.iter().collect())
        } else {
            names.iter().map(|name| cases::case(name)).collect()
        };
        let Some(chosen) = chosen else {
            return usage();
        };
        paired(options, &chosen);
        return ExitCode::SUCCESS;
    }
    let parsed = match args.as_slice() {
        [case, lib, n] => Lib::from_name(lib)
            .zip(n.parse::<u64>().ok())
            .map(|(lib, n)| (case, lib, n)),
        _ => None,
    };
    let Some((case, lib, n)) = parsed else {
        return usage();
    };
    let runtime = runtime_for(case);
    match run(case, lib, &runtime, n) {
        Some(elapsed) => {
            println!("{case} {} {n} requests in {elapsed:?}", lib.name());
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("no case `{case}` for {}", lib.name());
            ExitCode::from(2)
        }
    }
}

/// Compares donjon with each other implementation of each case in `chosen`.
fn paired(options: Options, chosen: &[&Case]) {
    println!("{HEADER}");
    for case in chosen {
        let rt = runtime_for(case.name);
        let donjon = |n| run(case.name, Lib::Donjon, &rt, n).expect("a known case");
        for &lib in &case.libs[1..] {
            let other = |n| run(case.name, lib, &rt, n).expect("a known case");
            let comparison = compare(options, donjon, other);
            println!(
                "{}",
                comparison.row(case.name, lib.name(), &case.target.to_string())
            );
        }
    }
}
