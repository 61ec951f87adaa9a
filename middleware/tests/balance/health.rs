//! Active health checks: when probes run, how many make an endpoint
//! unhealthy or healthy, what a balancer does with it, which endpoints are
//! probed, and that the probing stops with the endpoint.

use std::collections::HashMap;
use std::time::Duration;

use donjon::balance::health::{Checked, HealthCheck, HealthCheckDiscover, Probe, ProbeIf};
use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::time::{Instant, sleep};

use super::*;
use crate::support::{capture, lines_with, ready_and_call};

const SECOND: Duration = Duration::from_secs(1);

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// What a scripted probe answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Pass,
    Fail,
    /// Never answers.
    Hang,
}

/// A probe that answers as told for each key (`Pass` unless told), and
/// records when each key is probed, as the time since it was made.
#[derive(Clone)]
struct Script(Arc<Mutex<ScriptState>>);

struct ScriptState {
    start: Instant,
    answers: HashMap<&'static str, Answer>,
    probes: Vec<(&'static str, Duration)>,
}

impl Script {
    fn new() -> Self {
        Script(Arc::new(Mutex::new(ScriptState {
            start: Instant::now(),
            answers: HashMap::new(),
            probes: Vec::new(),
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ScriptState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn answer(&self, key: &'static str, answer: Answer) {
        self.state().answers.insert(key, answer);
    }

    /// When `key` was probed.
    fn probes_of(&self, key: &str) -> Vec<Duration> {
        self.state()
            .probes
            .iter()
            .filter(|(probed, _)| *probed == key)
            .map(|(_, at)| *at)
            .collect()
    }

    fn count(&self, key: &str) -> usize {
        self.probes_of(key).len()
    }
}

impl Probe<&'static str> for Script {
    type Error = &'static str;
    type Future = BoxFuture<'static, Result<(), &'static str>>;

    fn probe(&self, key: &&'static str) -> Self::Future {
        let answer = {
            let mut state = self.state();
            let at = state.start.elapsed();
            state.probes.push((key, at));
            state.answers.get(key).copied().unwrap_or(Answer::Pass)
        };
        match answer {
            Answer::Pass => Box::pin(async { Ok(()) }),
            Answer::Fail => Box::pin(async { Err("connection refused") }),
            Answer::Hang => Box::pin(std::future::pending()),
        }
    }
}

/// Checks `mock` as the endpoint `"a"`, probed by `script` every second;
/// unhealthy after 2 failures, healthy after `passes` passes.
fn checked(mock: Mock, script: &Script, passes: u32) -> mock::Spawn<Checked<Mock>> {
    let config = HealthCheck::new(SECOND).with_healthy_threshold(passes);
    mock::Spawn::new(Checked::new(mock, "a", config, script.clone()))
}

#[tokio::test(start_paused = true)]
async fn probes_run_at_insertion_then_exactly_at_each_interval() {
    let script = Script::new();
    let (mock, _handle) = mock::pair::<Req, Req>();
    let _checked = checked(mock, &script, 1);
    sleep(ms(3_500)).await;
    assert_eq!(
        script.probes_of("a"),
        [Duration::ZERO, SECOND, 2 * SECOND, 3 * SECOND]
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_probe_delays_the_next_one_without_overlap() {
    let script = Script::new();
    script.answer("a", Answer::Hang);
    let (mock, _handle) = mock::pair::<Req, Req>();
    let config = HealthCheck::new(SECOND).with_timeout(ms(2_500));
    let _checked = Checked::new(mock, "a", config, script.clone());
    sleep(ms(100)).await;
    script.answer("a", Answer::Pass);
    sleep(ms(4_000)).await;
    // The probe due at 1 s starts when the first times out, at 2.5 s; the
    // ones due at 2 s is skipped; then the schedule goes on.
    assert_eq!(
        script.probes_of("a"),
        [Duration::ZERO, ms(2_500), 3 * SECOND, 4 * SECOND]
    );
}

#[tokio::test(start_paused = true)]
async fn after_the_thresholds_the_endpoint_is_pending_then_woken_and_ready() {
    let script = Script::new();
    script.answer("a", Answer::Fail);
    let (mock, _handle) = mock::pair::<Req, Req>();
    let mut service = checked(mock, &script, 2);

    sleep(ms(100)).await;
    assert_eq!(script.count("a"), 1);
    assert!(service.get_ref().is_healthy(), "one failure is not enough");
    assert_ready_ok!(service.poll_ready());

    sleep(SECOND).await;
    assert_eq!(script.count("a"), 2);
    assert!(!service.get_ref().is_healthy());
    assert_pending!(service.poll_ready(), "unhealthy: pending, not failed");

    script.answer("a", Answer::Pass);
    sleep(SECOND).await;
    assert_eq!(script.count("a"), 3);
    assert!(!service.is_woken(), "one pass is not enough");
    assert_pending!(service.poll_ready());

    sleep(SECOND).await;
    assert_eq!(script.count("a"), 4);
    assert!(service.is_woken(), "woken when healthy again");
    assert!(service.get_ref().is_healthy());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_probe_that_times_out_counts_as_a_failure() {
    let (captured, _guard) = capture();
    let script = Script::new();
    script.answer("a", Answer::Hang);
    let (mock, _handle) = mock::pair::<Req, Req>();
    let config = HealthCheck::new(SECOND).with_timeout(ms(300));
    let checked = Checked::new(mock, "a", config, script.clone());

    // The second probe starts at 1 s and times out at 1.3 s.
    sleep(ms(1_299)).await;
    assert_eq!(script.count("a"), 2);
    assert!(
        checked.is_healthy(),
        "the second probe has not timed out yet"
    );
    sleep(ms(2)).await;
    assert!(!checked.is_healthy());
    let lines = lines_with(&captured, "health check: endpoint became unhealthy");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("timed out after 300ms"), "{}", lines[0]);
}

#[tokio::test(start_paused = true)]
async fn events_tell_when_an_endpoint_becomes_unhealthy_and_healthy() {
    let (captured, _guard) = capture();
    let script = Script::new();
    script.answer("a", Answer::Fail);
    let (mock, _handle) = mock::pair::<Req, Req>();
    let _checked = checked(mock, &script, 1);

    sleep(ms(1_500)).await;
    let unhealthy = lines_with(&captured, "health check: endpoint became unhealthy");
    assert_eq!(unhealthy.len(), 1, "{unhealthy:?}");
    for field in [
        "DEBUG",
        "endpoint=\"a\"",
        "failures=2",
        "connection refused",
    ] {
        assert!(unhealthy[0].contains(field), "{field} in {}", unhealthy[0]);
    }
    assert_eq!(lines_with(&captured, "probe failed").len(), 0, "trace only");

    script.answer("a", Answer::Pass);
    sleep(SECOND).await;
    let healthy = lines_with(&captured, "health check: endpoint became healthy");
    assert_eq!(healthy.len(), 1, "{healthy:?}");
    for field in ["DEBUG", "endpoint=\"a\"", "passes=1"] {
        assert!(healthy[0].contains(field), "{field} in {}", healthy[0]);
    }
    sleep(3 * SECOND).await;
    assert_eq!(
        lines_with(&captured, "health check: endpoint became").len(),
        2,
        "no event while the health stays"
    );
}

/// An always ready endpoint that answers its name.
#[derive(Debug)]
struct Named(&'static str);

impl Service<Req> for Named {
    type Response = Req;
    type Error = BoxError;
    type Future = std::future::Ready<Result<Req, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Req) -> Self::Future {
        std::future::ready(Ok(self.0))
    }
}

/// Sends `requests` requests through `balance`; returns how many each
/// endpoint answered.
async fn spread<S>(balance: &mut S, requests: usize) -> HashMap<Req, usize>
where
    S: Service<Req, Response = Req, Error = BoxError>,
{
    let mut answered = HashMap::new();
    for _ in 0..requests {
        let name = ready_and_call(balance, "request").await.expect("served");
        *answered.entry(name).or_default() += 1;
    }
    answered
}

type Endpoint2 = Constant<Named, u32>;
/// A balancer over health-checked endpoints from a channel.
type CheckedBalance = Balance<HealthCheckDiscover<Channel<Req, Endpoint2>, Script>, Req>;

/// A balancer over the endpoints sent on the channel returned, checked by
/// `script` every second (unhealthy after 2 failures, healthy after 1 pass).
fn checked_balance(script: &Script) -> (CheckedBalance, Sender<Req, Endpoint2>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let discover = HealthCheckDiscover::new(
        UnboundedReceiverStream::new(rx),
        HealthCheck::new(SECOND),
        script.clone(),
    );
    for name in ["a", "b"] {
        tx.send(Ok(Change::Insert(name, Constant::new(Named(name), 0))))
            .unwrap();
    }
    (Balance::from_rng(discover, seeded_rng()), tx)
}

#[tokio::test(start_paused = true)]
async fn a_balancer_sends_nothing_to_an_unhealthy_endpoint_until_it_passes() {
    let script = Script::new();
    let (mut balance, _tx) = checked_balance(&script);
    let both = spread(&mut balance, 40).await;
    assert!(both["a"] > 0 && both["b"] > 0, "{both:?}");

    script.answer("b", Answer::Fail);
    // Probes at 1 s and 2 s fail.
    sleep(ms(2_500)).await;
    assert_eq!(spread(&mut balance, 40).await, HashMap::from([("a", 40)]));
    assert_eq!(balance.len(), 2, "kept, not dropped");

    script.answer("b", Answer::Pass);
    sleep(SECOND).await;
    let again = spread(&mut balance, 40).await;
    assert!(again["b"] > 0, "{again:?}");
}

#[tokio::test(start_paused = true)]
async fn removing_an_endpoint_stops_its_probes() {
    let script = Script::new();
    let (mut balance, tx) = checked_balance(&script);
    spread(&mut balance, 1).await;
    sleep(ms(2_500)).await;
    assert_eq!((script.count("a"), script.count("b")), (3, 3));

    tx.send(Ok(Change::Remove("a"))).unwrap();
    spread(&mut balance, 1).await;
    assert_eq!(balance.len(), 1);
    sleep(3 * SECOND).await;
    assert_eq!(script.count("a"), 3, "no probe of a removed endpoint");
    assert_eq!(script.count("b"), 6);
}

#[tokio::test(start_paused = true)]
async fn dropping_or_unwrapping_a_checked_endpoint_stops_its_probes() {
    let script = Script::new();
    let (mock, _handle) = mock::pair::<Req, Req>();
    let first = Checked::new(mock, "a", HealthCheck::new(SECOND), script.clone());
    let (mock, _handle) = mock::pair::<Req, Req>();
    let second = Checked::new(mock, "b", HealthCheck::new(SECOND), script.clone());
    sleep(ms(1_500)).await;
    assert_eq!((script.count("a"), script.count("b")), (2, 2));

    drop(first);
    let _mock: Mock = second.into_inner();
    sleep(5 * SECOND).await;
    assert_eq!((script.count("a"), script.count("b")), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_the_probe_does_not_check_is_never_probed() {
    let script = Script::new();
    script.answer("a", Answer::Fail);
    script.answer("b", Answer::Fail);
    let only_a = ProbeIf::new(|key: &Req| *key == "a", script.clone());
    assert!(only_a.checks(&"a") && !only_a.checks(&"b"));

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<Req, Mock>>();
    let mut discover = HealthCheckDiscover::new(
        UnboundedReceiverStream::new(rx),
        HealthCheck::new(SECOND),
        only_a,
    );
    let (mut services, mut handles) = (HashMap::new(), Vec::new());
    for key in ["a", "b"] {
        let (mock, handle) = mock::pair();
        handles.push(handle);
        tx.send(Ok(Change::Insert(key, mock))).unwrap();
        match discover.next().await {
            Some(Ok(Change::Insert(key, service))) => services.insert(key, service),
            _ => panic!("expected an insertion"),
        };
    }
    sleep(ms(5_500)).await;
    assert!(services["a"].is_checked());
    assert!(!services["a"].is_healthy());
    assert!(!services["b"].is_checked());
    assert!(services["b"].is_healthy());
    assert_eq!(script.count("a"), 6);
    assert_eq!(script.count("b"), 0);

    let mut b = mock::Spawn::new(services.remove("b").unwrap());
    assert_ready_ok!(b.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn the_discovery_passes_removals_and_errors_through() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<Req, Mock>>();
    let mut discover = HealthCheckDiscover::new(
        UnboundedReceiverStream::new(rx),
        HealthCheck::new(SECOND),
        Script::new(),
    );
    tx.send(Ok(Change::Remove("a"))).unwrap();
    tx.send(Err("lost")).unwrap();
    drop(tx);
    assert!(matches!(
        discover.next().await,
        Some(Ok(Change::Remove("a")))
    ));
    assert!(matches!(discover.next().await, Some(Err("lost"))));
    assert!(discover.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_healthy_endpoint_passes_readiness_requests_and_errors_through() {
    for checked_by in [Some(Script::new()), None] {
        let (mock, mut handle) = mock::pair::<Req, Req>();
        let mut service = mock::Spawn::new(match &checked_by {
            Some(script) => Checked::new(mock, "a", HealthCheck::new(SECOND), script.clone()),
            None => Checked::unchecked(mock),
        });
        assert_eq!(service.get_ref().is_checked(), checked_by.is_some());
        assert_passes_through(&mut service, &mut handle).await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_load_is_the_inner_one() {
    let (mock, _handle) = mock::pair::<Req, Req>();
    let checked = Checked::new(
        Constant::new(mock, 7_u32),
        "a",
        HealthCheck::new(SECOND),
        Script::new(),
    );
    assert_eq!(checked.load(), 7);
}

#[test]
fn the_defaults_are_documented_ones() {
    let config = HealthCheck::new(SECOND);
    assert_eq!(config.interval(), SECOND);
    assert_eq!(config.timeout(), SECOND);
    assert_eq!(config.unhealthy_threshold(), 2);
    assert_eq!(config.healthy_threshold(), 1);
}

#[test]
#[should_panic(expected = "the health check interval must be longer than zero")]
fn a_zero_interval_panics() {
    let _ = HealthCheck::new(Duration::ZERO);
}

#[test]
#[should_panic(expected = "the health check timeout must be longer than zero")]
fn a_zero_timeout_panics() {
    let _ = HealthCheck::new(SECOND).with_timeout(Duration::ZERO);
}

#[test]
#[should_panic(expected = "the health check unhealthy threshold must be at least 1")]
fn a_zero_unhealthy_threshold_panics() {
    let _ = HealthCheck::new(SECOND).with_unhealthy_threshold(0);
}

#[test]
#[should_panic(expected = "the health check healthy threshold must be at least 1")]
fn a_zero_healthy_threshold_panics() {
    let _ = HealthCheck::new(SECOND).with_healthy_threshold(0);
}
