//! Prints the latest benchmark results as one table:
//! `cargo run -p donjon-benches --example report`.
//!
//! It reads criterion's estimates from `target/criterion/<case>/<library>/`
//! (written by `cargo bench -p donjon-benches`) and, when present, the
//! instruction counts of `benches/callgrind.sh` from
//! `target/callgrind/latest.tsv`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[path = "../cases/mod.rs"]
#[allow(dead_code, reason = "the report only needs the case list")]
mod cases;

use cases::{CASES, Lib};

/// The target for `case`: the most donjon/tower may be.
fn target_ratio(case: &str) -> f64 {
    match case {
        "timeout" | "p2c_10" => 0.25,
        "stack5" => 0.4,
        "concurrency_limit" | "rate_limit" | "buffer_1" => 0.5,
        // Throughput at least 3 times tower's: time per request at most a third.
        "buffer_64" => 1.0 / 3.0,
        _ => 1.0,
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The mean time per request, in nanoseconds, of criterion's latest run.
fn mean_ns(criterion: &Path, case: &str, lib: Lib) -> Option<f64> {
    let path = criterion
        .join(case)
        .join(lib.name())
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates["mean"]["point_estimate"].as_f64()
}

fn cell(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> Option<f64> {
    Some(numerator? / denominator?)
}

fn main() -> ExitCode {
    let dir = target_dir();
    let criterion = dir.join("criterion");
    let mut found = false;
    println!(
        "time per request (ns, criterion mean), from {}",
        criterion.display()
    );
    println!(
        "| case | donjon | tower | raw | donjon/tower | donjon/raw | target | met |\n|---|---:|---:|---:|---:|---:|---:|:-:|"
    );
    let mut p2c = HashMap::new();
    for case in CASES {
        let [donjon, tower, raw] = Lib::ALL.map(|lib| mean_ns(&criterion, case.name, lib));
        found |= donjon.is_some();
        if let Some(donjon) = donjon {
            p2c.insert(case.name, donjon);
        }
        let versus_tower = ratio(donjon, tower);
        let met = match versus_tower {
            Some(r) if r <= target_ratio(case.name) => "yes",
            Some(_) => "no",
            None => "-",
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | ≤ {:.2} | {met} |",
            case.name,
            cell(donjon),
            cell(tower),
            cell(raw),
            versus_tower.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}")),
            ratio(donjon, raw).map_or_else(|| "-".to_owned(), |r| format!("{r:.2}")),
            target_ratio(case.name),
        );
    }
    println!();
    for case in CASES {
        println!("- {}: {}", case.name, case.about);
    }
    if let (Some(ten), Some(thousand)) = (p2c.get("p2c_10"), p2c.get("p2c_1000")) {
        let growth = thousand / ten;
        println!(
            "\np2c, 1000 endpoints / 10 endpoints (donjon): {growth:.2} (target ≤ 1.50: {})",
            if growth <= 1.5 { "met" } else { "not met" }
        );
    }

    let counts = dir.join("callgrind/latest.tsv");
    if let Ok(text) = std::fs::read_to_string(&counts) {
        let mut per: HashMap<(String, String), u64> = HashMap::new();
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            if let [case, lib, count] = fields.as_slice() {
                if let Ok(count) = count.parse() {
                    per.insert(((*case).to_owned(), (*lib).to_owned()), count);
                }
            }
        }
        println!(
            "\ninstructions per request (callgrind), from {}",
            counts.display()
        );
        println!(
            "| case | donjon | tower | raw | donjon/tower | met (≤ tower) |\n|---|---:|---:|---:|---:|:-:|"
        );
        for case in CASES {
            let [donjon, tower, raw] = Lib::ALL.map(|lib| {
                per.get(&(case.name.to_owned(), lib.name().to_owned()))
                    .copied()
            });
            if donjon.is_none() {
                continue;
            }
            let show = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
            let (versus, met) = match (donjon, tower) {
                (Some(d), Some(t)) if t > 0 => (
                    format!("{:.2}", d as f64 / t as f64),
                    if d <= t { "yes" } else { "no" },
                ),
                _ => ("-".to_owned(), "-"),
            };
            println!(
                "| {} | {} | {} | {} | {versus} | {met} |",
                case.name,
                show(donjon),
                show(tower),
                show(raw)
            );
        }
    }
    if found {
        ExitCode::SUCCESS
    } else {
        eprintln!("no results: run `cargo bench -p donjon-benches` first");
        ExitCode::FAILURE
    }
}
