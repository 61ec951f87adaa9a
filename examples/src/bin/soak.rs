//! A chaos soak of donjon's middleware: requests through stacks of every
//! middleware, with faults injected, then checks that nothing leaked, hung
//! or answered twice. See `donjon_examples::soak`.
//!
//! `cargo run --release -p donjon-examples --bin soak -- --requests 1000000`;
//! add `--help` to list the flags. Exits with 0 when every check holds, 1
//! when one fails (or the run stalls), 2 for bad flags.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use donjon_examples::soak::{Progress, USAGE, parse_args, run};

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    println!(
        "soak: {} requests, {} callers, seed {}",
        config.requests, config.concurrency, config.seed
    );
    let progress = Arc::new(Progress::new());
    let bar = std::io::stderr()
        .is_terminal()
        .then(|| Bar::start(Arc::clone(&progress), config.requests));
    let report = run(&config, progress);
    if let Some(bar) = bar {
        bar.stop();
    }
    println!();
    print!("{report}");
    if report.passed() {
        println!("\nsoak: every check holds");
        ExitCode::SUCCESS
    } else {
        let failed: Vec<&str> = report.failures().map(|check| check.name.as_str()).collect();
        eprintln!("\nsoak: FAILED: {}", failed.join("; "));
        ExitCode::FAILURE
    }
}

/// A progress bar on stderr, redrawn by a thread of its own.
struct Bar {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Bar {
    fn start(progress: Arc<Progress>, total: u64) -> Bar {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    draw(&progress, total, started.elapsed());
                    std::thread::sleep(Duration::from_millis(100));
                }
                // Clears the bar's line.
                eprint!("\r{:79}\r", "");
            })
        };
        Bar { stop, thread }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

fn draw(progress: &Progress, total: u64, elapsed: Duration) {
    const WIDTH: u64 = 30;
    let done = progress.done().min(total);
    let filled = (done * WIDTH / total) as usize;
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
    let mut stderr = std::io::stderr().lock();
    let _ = write!(
        stderr,
        "\r[{}{}] {done}/{total} {:>7.0}/s {:<10}",
        "#".repeat(filled),
        "-".repeat(WIDTH as usize - filled),
        rate,
        progress.phase(),
    );
    let _ = stderr.flush();
}
