//! The soak's settings, and the command line that sets them.

use std::time::Duration;

/// The help text of the `soak` program.
pub const USAGE: &str = "\
soak: a chaos soak of donjon's middleware

Sends requests through several stacks of middleware (load shedding, timeouts,
circuit breakers, adaptive and fixed concurrency limits, a rate limit,
fallback, retries within a budget, hedging, buffers, p2c balancing over
endpoints that come and go, spawn_ready) on a multi-thread tokio runtime,
with faults injected into the inner services: errors, panics, latency spikes,
readiness that flaps, callers that give up at random points, buffer workers
that die. Then checks that every request ended exactly once, that every
permit, place and budget came back, that no task is left, and that memory
stayed flat, and prints a summary.

Exit status: 0 when every check holds, 1 when one fails, 2 for bad flags.

Usage: soak [OPTIONS]

Options:
  --requests <N>      requests to send [default: 100000]
  --concurrency <N>   callers sending them at once [default: 128]
  --seed <N>          seed of the faults, for a run to repeat [default: 1]
  --threads <N>       tokio worker threads [default: one per core]
  --stall-secs <N>    fail when nothing progresses for this long [default: 30]
  -h, --help          print this help
";

/// The largest number of requests a run takes: the books keep a byte and
/// a bit per request.
const MAX_REQUESTS: u64 = 100_000_000;

/// How a run goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Requests to send.
    pub requests: u64,
    /// Callers sending them at once.
    pub concurrency: usize,
    /// The seed of the faults.
    pub seed: u64,
    /// Tokio worker threads; `None` for one per core.
    pub threads: Option<usize>,
    /// How long the run may go without progress before it fails.
    pub stall: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            requests: 100_000,
            concurrency: 128,
            seed: 1,
            threads: None,
            stall: Duration::from_secs(30),
        }
    }
}

/// Reads the flags (without the program's name): `Ok(None)` for `--help`,
/// `Err` with a message for a bad flag.
///
/// # Errors
///
/// An unknown flag, a flag without its value, or a value that is not a
/// number in range, with a message naming the flag and the value:
///
/// ```
/// use donjon_examples::soak::parse_args;
///
/// let error = parse_args(["--requests", "abc"].map(String::from)).unwrap_err();
/// assert_eq!(error, "soak: --requests expects a positive integer, got 'abc'");
/// ```
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Config>, String> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let mut value = || inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "--requests" => config.requests = positive(&flag, value(), MAX_REQUESTS)?,
            "--concurrency" => config.concurrency = positive(&flag, value(), 100_000)? as usize,
            "--seed" => config.seed = seed(value())?,
            "--threads" => config.threads = Some(positive(&flag, value(), 1_024)? as usize),
            "--stall-secs" => {
                config.stall = Duration::from_secs(positive(&flag, value(), 86_400)?);
            }
            _ => return Err(format!("soak: unknown option '{flag}'")),
        }
    }
    Ok(Some(config))
}

/// A positive integer up to `max`.
fn positive(flag: &str, value: Option<String>, max: u64) -> Result<u64, String> {
    let Some(value) = value else {
        return Err(format!(
            "soak: {flag} expects a positive integer, got nothing"
        ));
    };
    match value.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        Ok(_) if value != "0" => Err(format!("soak: {flag} expects at most {max}, got '{value}'")),
        _ => Err(format!(
            "soak: {flag} expects a positive integer, got '{value}'"
        )),
    }
}

fn seed(value: Option<String>) -> Result<u64, String> {
    let Some(value) = value else {
        return Err("soak: --seed expects a non-negative integer, got nothing".to_owned());
    };
    value
        .parse()
        .map_err(|_| format!("soak: --seed expects a non-negative integer, got '{value}'"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Config, parse_args};

    fn parse(args: &[&str]) -> Result<Option<Config>, String> {
        parse_args(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn flags_take_their_value_after_a_space_or_an_equals_sign() {
        let config = parse(&["--requests", "10", "--concurrency=3", "--seed", "0"])
            .unwrap()
            .unwrap();
        assert_eq!(
            config,
            Config {
                requests: 10,
                concurrency: 3,
                seed: 0,
                ..Config::default()
            }
        );
        let config = parse(&["--threads", "2", "--stall-secs=5"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (config.threads, config.stall),
            (Some(2), Duration::from_secs(5))
        );
    }

    #[test]
    fn help_wins() {
        assert_eq!(parse(&["--requests", "1", "--help"]), Ok(None));
        assert_eq!(parse(&["-h"]), Ok(None));
    }

    #[test]
    fn bad_flags_are_named_with_their_value() {
        let cases: [(&[&str], &str); 7] = [
            (
                &["--requests", "abc"],
                "soak: --requests expects a positive integer, got 'abc'",
            ),
            (
                &["--requests", "0"],
                "soak: --requests expects a positive integer, got '0'",
            ),
            (
                &["--requests", "-5"],
                "soak: --requests expects a positive integer, got '-5'",
            ),
            (
                &["--requests"],
                "soak: --requests expects a positive integer, got nothing",
            ),
            (
                &["--concurrency=x"],
                "soak: --concurrency expects a positive integer, got 'x'",
            ),
            (
                &["--seed", "-1"],
                "soak: --seed expects a non-negative integer, got '-1'",
            ),
            (&["--frobnicate"], "soak: unknown option '--frobnicate'"),
        ];
        for (args, message) in cases {
            assert_eq!(parse(args), Err(message.to_owned()), "{args:?}");
        }
        assert_eq!(
            parse(&["--requests", "100000001"]),
            Err("soak: --requests expects at most 100000000, got '100000001'".to_owned())
        );
    }
}
