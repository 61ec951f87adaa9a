//! Runs `N` requests of one case, once, so that `callgrind.sh` can count the
//! instructions they take: `per_request <case> <donjon|tower|raw> <N>`.

use std::process::ExitCode;

#[path = "../cases/mod.rs"]
#[allow(dead_code, reason = "the benchmarks use parts this program does not")]
mod cases;

use cases::{CASES, Lib, run, runtime_for};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [case, lib, n] => Lib::from_name(lib)
            .zip(n.parse::<u64>().ok())
            .map(|(lib, n)| (case, lib, n)),
        _ => None,
    };
    let Some((case, lib, n)) = parsed else {
        eprintln!("usage: per_request <case> <donjon|tower|raw> <requests>");
        eprintln!(
            "cases: {}",
            CASES
                .iter()
                .map(|case| case.name)
                .collect::<Vec<_>>()
                .join(" ")
        );
        return ExitCode::from(2);
    };
    let runtime = runtime_for(case);
    match run(case, lib, &runtime, n) {
        Some(elapsed) => {
            println!("{case} {} {n} requests in {elapsed:?}", lib.name());
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("unknown case `{case}`");
            ExitCode::from(2)
        }
    }
}
