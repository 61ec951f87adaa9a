//! The fleet-wide concurrency limit across real processes: a process that
//! holds leases and is killed gives its permits back after the lease time,
//! not before; while it lives, it renews them.
//!
//! Redis keeps time on its own clock, so this test runs on the real clock;
//! it waits for conditions read from Redis (lease expiries, Redis's `TIME`)
//! rather than for set durations.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use donjon::{BoxError, Service, ServiceExt, service_fn};
use donjon_redis::{GlobalConcurrencyLimit, OnFailure, RedisSemaphore};
use donjon_test::redis::RedisServer;

const KEY: &str = "killed-process";
const MAX: usize = 3;
const LEASE_MS: u64 = 800;

/// Kills the child when dropped, so that a failing test leaves none behind.
struct Holder(Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `lease-holder` taking every permit, and waits until it says it
/// holds them.
fn start_holder(server: &RedisServer) -> Holder {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lease-holder"))
        .args([
            "hold".to_owned(),
            server.url(),
            KEY.to_owned(),
            MAX.to_string(),
            LEASE_MS.to_string(),
            MAX.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the lease-holder binary starts");
    let stdout = child.stdout.take().expect("a piped stdout");
    let (lines, line) = mpsc::channel();
    std::thread::spawn(move || {
        for text in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(text);
        }
    });
    let holder = Holder(child);
    let said = line
        .recv_timeout(Duration::from_secs(30))
        .expect("the lease holder says it holds its leases");
    assert_eq!(said, format!("holding {MAX}"));
    holder
}

/// Redis's clock, in microseconds.
fn redis_now(server: &RedisServer) -> u64 {
    let time = server.command(&["TIME"]).expect("TIME answers");
    let mut parts = time
        .lines()
        .map(|part| part.parse::<u64>().expect("a number"));
    let (secs, micros) = (
        parts.next().expect("seconds"),
        parts.next().expect("micros"),
    );
    secs * 1_000_000 + micros
}

/// The expiries of the leases held on `key`, in Redis microseconds.
fn expiries(server: &RedisServer, redis_key: &str) -> Vec<u64> {
    let listing = server
        .command(&["ZRANGE", redis_key, "0", "-1", "WITHSCORES"])
        .expect("ZRANGE answers");
    listing
        .lines()
        .skip(1)
        .step_by(2)
        .map(|score| score.parse::<f64>().expect("a score") as u64)
        .collect()
}

/// Waits, polling Redis, until `done` holds; panics after 20 s. Redis's
/// clock is real, so this waits on the runtime's real clock, without
/// blocking its threads.
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_gives_its_permits_back_after_the_lease_time() -> Result<(), BoxError> {
    let server = RedisServer::start();
    let holder = start_holder(&server);

    let connection = donjon_redis::connect(&server.url()).await?;
    let semaphore = RedisSemaphore::builder(connection, KEY, MAX)
        .with_lease(Duration::from_millis(LEASE_MS))
        .with_call_timeout(Duration::from_millis(LEASE_MS / 4))
        .with_retry_interval(Duration::from_millis(20))
        .with_on_failure(OnFailure::FailClosed)
        .build()?;
    let redis_key = semaphore.redis_key().to_owned();
    assert_eq!(semaphore.held().await?, MAX);

    // While the holder lives, it renews its leases: once Redis's clock has
    // passed the expiries first seen, the leases are still there, with
    // later expiries.
    let first = expiries(&server, &redis_key);
    assert_eq!(first.len(), MAX);
    let first_latest = *first.iter().max().expect("leases");
    wait_for("Redis's clock to pass the first expiries", || {
        redis_now(&server) > first_latest
    })
    .await;
    let renewed = expiries(&server, &redis_key);
    assert_eq!(renewed.len(), MAX, "the living holder lost leases");
    assert!(renewed.iter().all(|expiry| *expiry > first_latest));

    // Meanwhile, another process finds every permit taken.
    let mut limited = GlobalConcurrencyLimit::new(
        service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }),
        semaphore.clone(),
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), limited.ready())
            .await
            .is_err(),
        "a permit was given while the holder held them all"
    );

    // Killed, the holder renews nothing and releases nothing.
    drop(holder);
    let last = expiries(&server, &redis_key);
    assert_eq!(last.len(), MAX, "a killed process released its leases");
    let soonest = *last.iter().min().expect("leases");

    // The permits come back when the leases expire, not before: the lease
    // this process now takes was taken at its expiry minus the lease time,
    // on Redis's clock.
    let ready = tokio::time::timeout(Duration::from_secs(30), limited.ready())
        .await
        .expect("the permits come back once the dead leases expire")?;
    let response = ready.call(7);
    let ours = *expiries(&server, &redis_key)
        .iter()
        .max()
        .expect("our lease");
    let admitted_at = ours - LEASE_MS * 1000;
    assert!(
        admitted_at >= soonest,
        "a permit came back {} µs before its lease expired",
        soonest - admitted_at
    );
    assert_eq!(response.await?, 7);
    Ok(())
}

#[test]
fn processes_sharing_the_limit_never_exceed_it_together() {
    let server = RedisServer::start();
    let key = "fleet-work";
    // Three processes, 12 requests of 40 ms each, at most 4 in flight in
    // all.
    let workers: Vec<_> = (0..3)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_lease-holder"))
                .args(["work", &server.url(), key, "4", "2000", "12", "40"])
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map(Holder)
                .expect("the lease-holder binary starts")
        })
        .collect();
    for mut worker in workers {
        let status = worker.0.wait().expect("the worker ends");
        assert!(status.success(), "a worker failed: {status}");
        let mut said = String::new();
        let _ = std::io::Read::read_to_string(
            worker.0.stdout.as_mut().expect("a piped stdout"),
            &mut said,
        );
        assert_eq!(said.trim(), "done");
    }
    let peak: usize = server
        .command(&["GET", &format!("{key}:peak")])
        .expect("GET answers")
        .parse()
        .expect("a peak was recorded");
    // Never more than the limit; and the processes did overlap, or the
    // test would show nothing.
    assert!(peak <= 4, "{peak} requests were in flight at once");
    assert!(peak >= 2, "the workers never overlapped (peak {peak})");
    assert_eq!(
        server
            .command(&["GET", &format!("{key}:in-flight")])
            .as_deref(),
        Ok("0")
    );
    // Every lease was given back.
    assert_eq!(
        server
            .command(&["ZCARD", &format!("donjon:leases:{key}")])
            .as_deref(),
        Ok("0")
    );
}
