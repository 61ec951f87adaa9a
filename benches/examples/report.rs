//! Prints the latest benchmark results as tables:
//! `cargo run -p donjon-benches --example report [paired|criterion]`.
//!
//! - The paired figures, the primary ones: `target/paired/latest.tsv`,
//!   written by `benches/paired.sh` (donjon and each other implementation
//!   measured in one process, interleaved, over several code layouts).
//! - criterion's means, from `<target dir>/criterion/<case>/<library>/`
//!   (written by `cargo bench -p donjon-benches`): separate runs, on one
//!   code layout, which can hide a loss of 20% or more.
//! - The instruction counts of `benches/callgrind.sh`, from
//!   `target/callgrind/latest.tsv`, beside the paired figures.
//!
//! With no argument it prints every table it finds results for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[path = "../cases/mod.rs"]
#[allow(dead_code, reason = "the report only needs the case list")]
mod cases;

use cases::{CASES, Case, Lib, Target};

/// The workspace's `target/`, where the scripts write their results.
fn results_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// Where cargo builds, and criterion writes.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(results_dir, PathBuf::from)
}

fn cell(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

fn ratio_cell(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
}

fn met_cell(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

/// Reads a tab-separated file into its rows, without the header line if
/// it has one.
fn rows(path: &Path) -> Option<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter(|line| !line.starts_with("case\t"))
            .map(|line| line.split('\t').map(str::to_owned).collect())
            .collect(),
    )
}

/// One comparison of `paired.sh`'s summary.
struct Paired {
    donjon_ns: f64,
    against_ns: f64,
    ratio: f64,
    min: f64,
    max: f64,
    layouts: usize,
}

/// `paired.sh`'s summary, by (case, against).
fn paired(path: &Path) -> Option<HashMap<(String, String), Paired>> {
    let mut found = HashMap::new();
    for row in rows(path)? {
        let [case, against, numbers @ .., layouts] = row.as_slice() else {
            continue;
        };
        let numbers: Option<Vec<f64>> = numbers.iter().map(|n| n.parse().ok()).collect();
        let (Some(&[donjon_ns, against_ns, ratio, min, max]), Ok(layouts)) =
            (numbers.as_deref(), layouts.parse())
        else {
            continue;
        };
        found.insert(
            (case.clone(), against.clone()),
            Paired {
                donjon_ns,
                against_ns,
                ratio,
                min,
                max,
                layouts,
            },
        );
    }
    Some(found)
}

/// `callgrind.sh`'s instructions per request, by (case, library).
fn instructions(path: &Path) -> HashMap<(String, String), u64> {
    let mut per = HashMap::new();
    for row in rows(path).unwrap_or_default() {
        if let [case, lib, count] = row.as_slice() {
            if let Ok(count) = count.parse() {
                per.insert((case.clone(), lib.clone()), count);
            }
        }
    }
    per
}

/// The paired table: one row per case and implementation it is compared
/// with, tower and tower-resilience first, then the raw baselines.
fn print_paired(
    found: &HashMap<(String, String), Paired>,
    counts: &HashMap<(String, String), u64>,
) {
    let layouts = found.values().map(|p| p.layouts).max().unwrap_or(0);
    println!(
        "time per request (ns), paired: donjon and the other in one process, interleaved, \
         median over {layouts} code layouts"
    );
    let count = |case: &Case, lib: Lib| {
        counts
            .get(&(case.name.to_owned(), lib.name().to_owned()))
            .map_or_else(|| "-".to_owned(), u64::to_string)
    };
    for raw in [false, true] {
        let (head, rule) = if raw {
            ("", "")
        } else {
            (" target | met |", "---:|:-:|")
        };
        println!(
            "\n| case | against | donjon | against | donjon/against | layouts min–max | \
             instr. donjon | instr. against |{head}\n|---|---|---:|---:|---:|---:|---:|---:|{rule}"
        );
        for case in CASES {
            for &lib in &case.libs[1..] {
                if (lib == Lib::Raw) != raw {
                    continue;
                }
                let Some(p) = found.get(&(case.name.to_owned(), lib.name().to_owned())) else {
                    continue;
                };
                // A ratio target is to tower's; a time target is judged
                // beside each library donjon is compared with.
                let judged = lib == Lib::Tower || !matches!(case.target, Target::Tower(_));
                let target = match (raw, judged) {
                    (true, _) => String::new(),
                    (false, true) => format!(" {} | {} |", case.target, paired_met(case.target, p)),
                    (false, false) => " | |".to_owned(),
                };
                println!(
                    "| {} | {} | {:.1} | {:.1} | {:.2} | {:.2}–{:.2} | {} | {} |{target}",
                    case.name,
                    lib.name(),
                    p.donjon_ns,
                    p.against_ns,
                    p.ratio,
                    p.min,
                    p.max,
                    count(case, Lib::Donjon),
                    count(case, lib),
                );
            }
        }
    }
    let donjon = |name: &str| {
        found
            .get(&(name.to_owned(), "tower".to_owned()))
            .map(|p| p.donjon_ns)
    };
    print_p2c_growth(donjon("p2c_10"), donjon("p2c_1000"));
}

/// Whether donjon meets `target` in a paired comparison: a ratio to
/// tower's must be met in every layout ("yes") or in none ("no"), else the
/// layouts are "split"; a time is judged on the median.
fn paired_met(target: Target, p: &Paired) -> &'static str {
    let met = match target {
        Target::Tower(limit) if p.max <= limit => true,
        Target::Tower(limit) if p.min <= limit => return "split",
        Target::Tower(_) => false,
        Target::Ns(ns) => p.donjon_ns <= ns,
        Target::None => return "-",
    };
    met_cell(Some(met))
}

/// The criterion table: separate runs, on one code layout.
fn print_criterion(criterion: &Path) -> bool {
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

    let mut found = false;
    let mut p2c = HashMap::new();
    let mut table = String::new();
    for case in CASES {
        let [donjon, tower, resilience, raw] =
            Lib::ALL.map(|lib| mean_ns(criterion, case.name, lib));
        let Some(donjon_ns) = donjon else {
            continue;
        };
        found = true;
        p2c.insert(case.name, donjon_ns);
        let versus = |other: Option<f64>| other.map(|other| donjon_ns / other);
        table += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            case.name,
            cell(donjon),
            cell(tower),
            cell(resilience),
            cell(raw),
            ratio_cell(versus(tower)),
            ratio_cell(versus(resilience)),
            ratio_cell(versus(raw)),
            case.target,
            met_cell(case.target.met(donjon_ns, versus(tower))),
        );
    }
    if found {
        println!(
            "time per request (ns, criterion mean; separate runs, one code layout), from {}",
            criterion.display()
        );
        println!(
            "\n| case | donjon | tower | tower-resilience | raw | donjon/tower | \
             donjon/tower-resilience | donjon/raw | target | met |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|\n{table}"
        );
        print_p2c_growth(p2c.get("p2c_10").copied(), p2c.get("p2c_1000").copied());
    }
    found
}

/// The instruction counts alone, for when there are no paired figures to
/// show them beside.
fn print_instructions(counts: &HashMap<(String, String), u64>) {
    println!(
        "\ninstructions per request (callgrind)\n\n\
         | case | donjon | tower | tower-resilience | raw |\n|---|---:|---:|---:|---:|"
    );
    for case in CASES {
        let [donjon, tower, resilience, raw] = Lib::ALL.map(|lib| {
            counts
                .get(&(case.name.to_owned(), lib.name().to_owned()))
                .map_or_else(|| "-".to_owned(), u64::to_string)
        });
        if donjon != "-" {
            println!(
                "| {} | {donjon} | {tower} | {resilience} | {raw} |",
                case.name
            );
        }
    }
}

fn print_p2c_growth(ten: Option<f64>, thousand: Option<f64>) {
    if let (Some(ten), Some(thousand)) = (ten, thousand) {
        let growth = thousand / ten;
        println!(
            "\np2c, 1000 endpoints / 10 endpoints (donjon): {growth:.2} (target ≤ 1.50: {})",
            if growth <= 1.5 { "met" } else { "not met" }
        );
    }
}

fn main() -> ExitCode {
    let which = std::env::args().nth(1);
    let (show_paired, show_criterion) = match which.as_deref() {
        None => (true, true),
        Some("paired") => (true, false),
        Some("criterion") => (false, true),
        Some(_) => {
            eprintln!("usage: report [paired|criterion]");
            return ExitCode::from(2);
        }
    };
    let results = results_dir();
    let counts = instructions(&results.join("callgrind/latest.tsv"));
    let mut found = false;
    let mut counts_shown = false;
    if show_paired {
        if let Some(paired) = paired(&results.join("paired/latest.tsv")) {
            print_paired(&paired, &counts);
            found = true;
            counts_shown = true;
        }
    }
    if show_criterion {
        if found {
            println!();
        }
        found |= print_criterion(&target_dir().join("criterion"));
    }
    if !counts_shown && !counts.is_empty() {
        print_instructions(&counts);
    }
    println!();
    for case in CASES {
        println!("- {}: {}", case.name, case.about);
    }
    if found {
        ExitCode::SUCCESS
    } else {
        eprintln!("no results: run `benches/paired.sh` or `cargo bench -p donjon-benches` first");
        ExitCode::FAILURE
    }
}
