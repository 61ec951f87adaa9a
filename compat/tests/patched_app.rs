//! The README's recipe, tried: `compat/patched-app`, an application on axum,
//! tower-http and tonic, patches tower's three crates to donjon's stand-ins
//! (`compat/shim`). These tests check with `cargo tree` that every tower in
//! its dependency tree is donjon, then run it (it serves and calls over
//! loopback, and checks its own results).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("compat/ has a parent")
        .to_owned()
}

fn app_manifest() -> PathBuf {
    repository().join("compat/patched-app/Cargo.toml")
}

/// Runs cargo on the application; panics, with cargo's output, if it fails.
fn cargo(args: &[&str]) -> String {
    cargo_on(&app_manifest(), "patched-app", args)
}

/// Runs cargo on `manifest`, building in `target/<target>`; panics, with
/// cargo's output, if it fails.
fn cargo_on(manifest: &Path, target: &str, args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output: Output = Command::new(cargo)
        .args(args)
        .arg("--manifest-path")
        .arg(manifest)
        // A target directory of its own: a patched tree shares no build with
        // donjon's workspace, and must not overwrite it.
        .env("CARGO_TARGET_DIR", repository().join("target").join(target))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap_or_else(|error| panic!("could not run cargo {args:?}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "cargo {args:?} on {} failed ({}):\n{stdout}\n{}",
        manifest.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The packages of the application's tree, one `name vX.Y.Z (source)` per
/// line, normal dependencies only (what the application runs on).
fn packages() -> Vec<String> {
    let tree = cargo(&[
        "tree",
        "--edges",
        "normal",
        "--prefix",
        "none",
        "--no-dedupe",
    ]);
    let mut packages: Vec<String> = tree
        .lines()
        .map(|line| line.trim_end_matches(" (*)").to_owned())
        .collect();
    packages.sort();
    packages.dedup();
    packages
}

#[test]
fn the_stand_ins_own_tests_pass() {
    // Their own workspace (compat/shim), which the README's test command
    // does not reach: their doctests show each stand-in's items are donjon's.
    let manifest = repository().join("compat/shim/Cargo.toml");
    let stdout = cargo_on(
        &manifest,
        "shim",
        &["test", "--workspace", "--all-features"],
    );
    let passed: usize = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("test result: ok. "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(
        passed, 3,
        "expected the three stand-ins' doctests to pass:\n{stdout}"
    );
}

#[test]
fn every_tower_in_the_patched_tree_is_donjons_stand_in() {
    let packages = packages();
    let shim = repository().join("compat/shim");
    for name in ["tower", "tower-service", "tower-layer"] {
        let found: Vec<&String> = packages
            .iter()
            .filter(|package| package.starts_with(&format!("{name} v")))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {name} in the patched tree, found {found:?}"
        );
        let expected = format!("({})", shim.join(name).display());
        assert!(
            found[0].ends_with(&expected),
            "{name} resolves to {}, not to donjon's stand-in {expected}",
            found[0]
        );
    }
    for donjon in ["donjon v", "donjon-service v", "donjon-layer v"] {
        assert!(
            packages.iter().any(|package| package.starts_with(donjon)),
            "no {donjon}… in the patched tree: {packages:#?}"
        );
    }
}

#[test]
fn axum_tower_http_tonic_and_hyper_util_depend_on_the_stand_ins() {
    // The inverted tree of each stand-in lists who depends on it.
    let dependents_of = |name: &str| cargo(&["tree", "--edges", "normal", "--invert", name]);
    let service = dependents_of("tower-service");
    for dependent in [
        "axum v0.8",
        "tower-http v0.6",
        "tonic v0.14",
        "hyper-util v0.1",
    ] {
        assert!(
            service.contains(dependent),
            "{dependent} does not depend on the stand-in tower-service:\n{service}"
        );
    }
    let tower = dependents_of("tower");
    for dependent in ["axum v0.8", "tonic v0.14"] {
        assert!(
            tower.contains(dependent),
            "{dependent} does not depend on the stand-in tower:\n{tower}"
        );
    }
}

#[test]
fn the_patched_application_serves_and_balances_on_donjon() {
    let stdout = cargo(&["run", "--quiet"]);
    assert!(
        stdout.lines().any(|line| line == "patched-app: ok"),
        "the application did not report success:\n{stdout}"
    );
}
