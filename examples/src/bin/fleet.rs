//! Three replicas of an axum server, one rate limit per API key: first each
//! replica keeping its own limits, then all three sharing them through
//! Redis. See `donjon_examples::fleet`.
//!
//! It starts its own `redis-server` on a free loopback port (installing it
//! with apt-get if it is missing), unless given `--redis <url>`.

use std::process::ExitCode;

use donjon_examples::fleet::{Counts, REPLICAS, compare, demo_quota};
use donjon_test::redis::RedisServer;

const KEYS: [&str; 2] = ["alice", "bob"];
const PER_KEY: usize = 40;

fn usage() -> ExitCode {
    eprintln!("usage: fleet [--redis <url>]");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (_server, url) = match args.as_slice() {
        [] => match RedisServer::try_start() {
            Ok(server) => {
                let url = server.url();
                (Some(server), url)
            }
            Err(message) => {
                eprintln!("fleet: {message}");
                return ExitCode::FAILURE;
            }
        },
        [flag, url] if flag == "--redis" => (None, url.clone()),
        [flag] if flag == "--help" || flag == "-h" => {
            println!("usage: fleet [--redis <url>]");
            return ExitCode::SUCCESS;
        }
        _ => return usage(),
    };

    let quota = demo_quota();
    println!(
        "{} replicas; a limit of {} requests per {:?} (burst {}) per API key;",
        REPLICAS.len(),
        quota.num(),
        quota.per(),
        quota.burst()
    );
    println!(
        "{PER_KEY} requests for each of {} keys sent at once, round robin over the replicas.\n",
        KEYS.join(" and ")
    );
    let (alone, shared) = match compare(&url, &KEYS, PER_KEY).await {
        Ok(counts) => counts,
        Err(error) => {
            eprintln!("fleet: {error}");
            return ExitCode::FAILURE;
        }
    };
    print_table(&alone, &shared);
    ExitCode::SUCCESS
}

fn print_table(alone: &Counts, shared: &Counts) {
    println!(
        "{:<22}{:>22}{:>22}",
        "200 / 429", "each replica alone", "shared through Redis"
    );
    for (index, key) in KEYS.iter().enumerate() {
        println!(
            "{:<22}{:>22}{:>22}",
            format!("key {key}"),
            format!("{} / {}", alone.admitted[index], alone.limited[index]),
            format!("{} / {}", shared.admitted[index], shared.limited[index]),
        );
    }
    for (index, name) in REPLICAS.iter().enumerate() {
        println!(
            "{:<22}{:>22}{:>22}",
            format!("replica {name}"),
            format!(
                "{} / {}",
                alone.admitted_by_replica[index], alone.limited_by_replica[index]
            ),
            format!(
                "{} / {}",
                shared.admitted_by_replica[index], shared.limited_by_replica[index]
            ),
        );
    }
    if alone.other + shared.other > 0 {
        println!(
            "{:<22}{:>22}{:>22}",
            "other answers", alone.other, shared.other
        );
    }
}
