//! `DnsDiscover`'s rules, step by step on tokio's paused clock, with a
//! scripted resolver: when it looks again (the TTL within the bounds, the
//! retry interval after a failure), what it reports (insertions, removals,
//! an endpoint whose SRV weight changed inserted again), and what a failed
//! or empty answer does.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use donjon::discover::Change;
use donjon_dns::{DnsDiscover, Endpoint, OnEmpty, Query, Resolution, ResolveFuture, Status};
use futures::StreamExt;
use tokio::time::Instant;

type Answer = Result<Resolution, String>;

/// A resolver that gives the scripted answers in turn, and notes when it
/// was asked (after the last answer it fails the test).
#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    asked: Arc<Mutex<Vec<Instant>>>,
}

impl Script {
    fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        Script {
            answers: Arc::new(Mutex::new(answers.into_iter().collect())),
            asked: Arc::default(),
        }
    }

    fn resolver(&self) -> impl Fn(&Query) -> ResolveFuture + Send + Sync + 'static {
        let script = self.clone();
        move |_: &Query| {
            script.asked.lock().unwrap().push(Instant::now());
            let answer = script
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("the discovery asked more often than the script says");
            Box::pin(async move { answer.map_err(Into::into) })
        }
    }

    /// When it was asked, from `start`, in milliseconds.
    fn asked_at(&self, start: Instant) -> Vec<u64> {
        let asked = self.asked.lock().unwrap();
        asked
            .iter()
            .map(|at| u64::try_from((*at - start).as_millis()).unwrap())
            .collect()
    }
}

fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, last], 80))
}

fn answer(last_octets: &[u8], ttl_secs: u64) -> Answer {
    Ok(Resolution {
        endpoints: last_octets
            .iter()
            .map(|&last| Endpoint::new(addr(last)))
            .collect(),
        ttl: Duration::from_secs(ttl_secs),
    })
}

fn failure() -> Answer {
    Err("the server did not answer".to_string())
}

/// The changes as (inserted, address) pairs.
fn shown(change: Change<SocketAddr, SocketAddr>) -> (bool, SocketAddr) {
    match change {
        Change::Insert(key, service) => {
            assert_eq!(key, service, "the service is made for its endpoint");
            (true, key)
        }
        Change::Remove(key) => (false, key),
    }
}

type Discovery = DnsDiscover<
    SocketAddr,
    fn(&Endpoint) -> SocketAddr,
    Box<dyn Fn(&Query) -> ResolveFuture + Send + Sync>,
>;

fn discovery(
    script: &Script,
    configure: impl FnOnce(donjon_dns::Builder) -> donjon_dns::Builder,
) -> Discovery {
    let resolver: Box<dyn Fn(&Query) -> ResolveFuture + Send + Sync> = Box::new(script.resolver());
    configure(DnsDiscover::builder(Query::ip("svc.test.", 80))).build(
        resolver,
        (|endpoint: &Endpoint| endpoint.addr) as fn(&Endpoint) -> SocketAddr,
    )
}

async fn next(discovery: &mut Discovery) -> (bool, SocketAddr) {
    shown(
        discovery
            .next()
            .await
            .expect("never ends")
            .expect("never fails"),
    )
}

#[tokio::test(start_paused = true)]
async fn it_looks_again_when_the_ttl_runs_out_within_the_bounds() {
    let start = Instant::now();
    // Default bounds: 1 s and 300 s.
    let script = Script::new([
        answer(&[1], 30),    // at 0: next at 0 + 30 s
        answer(&[1], 0),     // at 30 s: a TTL of 0 waits the minimum, to 31 s
        answer(&[1], 3_600), // at 31 s: an hour waits the maximum, to 331 s
        answer(&[1, 2], 30), // at 331 s: 10.0.0.2 comes
    ]);
    let mut discovery = discovery(&script, |builder| builder);
    assert!(
        script.asked_at(start).is_empty(),
        "nothing before the first poll"
    );
    assert_eq!(next(&mut discovery).await, (true, addr(1)));
    assert_eq!(next(&mut discovery).await, (true, addr(2)));
    assert_eq!(script.asked_at(start), [0, 30_000, 31_000, 331_000]);
    assert_eq!(Instant::now() - start, Duration::from_secs(331));
}

#[tokio::test(start_paused = true)]
async fn gone_addresses_are_removed_new_ones_inserted_and_a_changed_weight_inserted_again() {
    let start = Instant::now();
    let weighted = |weight| {
        Ok(Resolution {
            endpoints: vec![
                Endpoint::new(addr(1)),
                Endpoint {
                    addr: addr(3),
                    priority: 0,
                    weight,
                },
            ],
            ttl: Duration::from_secs(10),
        })
    };
    let script = Script::new([answer(&[1, 2], 10), weighted(5), weighted(5), weighted(7)]);
    let mut discovery = discovery(&script, |builder| builder);
    let mut first = vec![next(&mut discovery).await, next(&mut discovery).await];
    first.sort();
    assert_eq!(first, [(true, addr(1)), (true, addr(2))]);
    // At 10 s: 10.0.0.2 went, 10.0.0.3 came (removals first).
    assert_eq!(next(&mut discovery).await, (false, addr(2)));
    assert_eq!(next(&mut discovery).await, (true, addr(3)));
    // At 20 s nothing changed; at 30 s 10.0.0.3's weight did.
    assert_eq!(next(&mut discovery).await, (true, addr(3)));
    assert_eq!(script.asked_at(start), [0, 10_000, 20_000, 30_000]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_resolution_keeps_the_endpoints_and_is_retried_after_the_retry_interval() {
    let start = Instant::now();
    let script = Script::new([answer(&[1, 2], 10), failure(), failure(), answer(&[1], 10)]);
    let mut discovery = discovery(&script, |builder| {
        builder.retry_interval(Duration::from_secs(2))
    });
    let status = discovery.status();
    next(&mut discovery).await;
    next(&mut discovery).await;
    // At 10 s and 12 s the resolutions fail: nothing removed; at 14 s the
    // answer lacks 10.0.0.2, which is removed then.
    assert_eq!(next(&mut discovery).await, (false, addr(2)));
    assert_eq!(script.asked_at(start), [0, 10_000, 12_000, 14_000]);
    assert_eq!(
        *status.borrow(),
        Status {
            resolved: 2,
            empty: 0,
            failed: 2,
            endpoints: 1,
            last_error: None,
        }
    );
}

#[tokio::test(start_paused = true)]
async fn the_status_tells_of_a_failure_while_it_lasts() {
    let script = Script::new([answer(&[1], 10), failure(), answer(&[1], 10)]);
    let mut discovery = discovery(&script, |builder| builder);
    let mut status = discovery.status();
    next(&mut discovery).await;
    let driving = tokio::spawn(async move {
        // Nothing changes any more: this only drives the resolutions.
        discovery.next().await;
    });
    let failed = status
        .wait_for(|status| status.failed == 1)
        .await
        .expect("the discovery lives")
        .clone();
    assert_eq!(
        failed.last_error.as_deref(),
        Some("the server did not answer")
    );
    assert_eq!(failed.endpoints, 1, "kept");
    let recovered = status
        .wait_for(|status| status.resolved == 2)
        .await
        .expect("the discovery lives")
        .clone();
    assert_eq!(recovered.last_error, None);
    driving.abort();
}

#[tokio::test(start_paused = true)]
async fn an_empty_answer_keeps_the_endpoints_or_drops_them_as_chosen() {
    for on_empty in [OnEmpty::Keep, OnEmpty::Drop] {
        let start = Instant::now();
        let script = Script::new([answer(&[1], 10), answer(&[], 10), answer(&[4], 10)]);
        let mut discovery = discovery(&script, |builder| builder.on_empty(on_empty));
        let status = discovery.status();
        assert_eq!(next(&mut discovery).await, (true, addr(1)));
        if on_empty == OnEmpty::Drop {
            assert_eq!(next(&mut discovery).await, (false, addr(1)));
            assert_eq!(
                Instant::now() - start,
                Duration::from_secs(10),
                "dropped at 10 s"
            );
            assert_eq!(status.borrow().endpoints, 0);
            assert_eq!(next(&mut discovery).await, (true, addr(4)));
        } else {
            // Kept through the empty answer; replaced at 20 s.
            assert_eq!(next(&mut discovery).await, (false, addr(1)));
            assert_eq!(
                Instant::now() - start,
                Duration::from_secs(20),
                "kept at 10 s"
            );
            assert_eq!(next(&mut discovery).await, (true, addr(4)));
        }
        assert_eq!(script.asked_at(start), [0, 10_000, 20_000], "{on_empty:?}");
        assert_eq!(status.borrow().empty, 1);
    }
}

#[tokio::test(start_paused = true)]
async fn srv_targets_of_the_lowest_priority_are_reported_unless_all_are_asked_for() {
    let srv = |priority, last| Endpoint {
        addr: addr(last),
        priority,
        weight: 1,
    };
    for all in [false, true] {
        let script = Script::new([Ok(Resolution {
            endpoints: vec![srv(20, 9), srv(10, 1), srv(10, 2)],
            ttl: Duration::from_secs(10),
        })]);
        let mut discovery = discovery(&script, |builder| builder.all_priorities(all));
        let mut found = Vec::new();
        for _ in 0..if all { 3 } else { 2 } {
            found.push(next(&mut discovery).await.1);
        }
        found.sort();
        if all {
            assert_eq!(found, [addr(1), addr(2), addr(9)]);
        } else {
            assert_eq!(found, [addr(1), addr(2)], "priority 20 is only a fallback");
        }
    }
}

#[test]
#[should_panic(expected = "minimum interval (10s) must not be longer than its maximum (5s)")]
fn a_minimum_above_the_maximum_panics() {
    let script = Script::new([]);
    let _ = discovery(&script, |builder| {
        builder
            .min_interval(Duration::from_secs(10))
            .max_interval(Duration::from_secs(5))
    });
}

/// What a `tracing_subscriber::fmt` subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn lines_with(&self, needle: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test(start_paused = true)]
async fn a_run_of_failures_warns_once_and_the_recovery_and_changes_are_reported() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let script = Script::new([
        answer(&[1], 10),
        failure(),
        failure(),
        answer(&[2], 10),
        answer(&[], 10),
    ]);
    let mut discovery = discovery(&script, |builder| builder);
    next(&mut discovery).await;
    next(&mut discovery).await;
    next(&mut discovery).await;
    let status = discovery.status();
    let mut status = status;
    let driving = tokio::spawn(async move { discovery.next().await });
    status.wait_for(|status| status.empty == 1).await.unwrap();
    driving.abort();

    let failed = "dns discovery: resolution failed, keeping the endpoints";
    let lines = captured.lines_with(failed);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(" WARN") || lines[0].starts_with("WARN"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("endpoints=1") && lines[0].contains("the server did not answer"));
    assert!(
        lines[1].contains("DEBUG"),
        "the second of the run: {}",
        lines[1]
    );
    assert_eq!(
        captured.lines_with("dns discovery: resolving again").len(),
        1
    );
    let changed = captured.lines_with("dns discovery: endpoints changed");
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(
        changed[1].contains("inserted=1 removed=1 endpoints=1"),
        "{}",
        changed[1]
    );
    let empty = captured.lines_with("dns discovery: the name resolved to nothing");
    assert_eq!(empty.len(), 1);
    assert!(empty[0].contains("endpoints=1 kept=true"), "{}", empty[0]);
}
