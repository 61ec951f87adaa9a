//! The scenarios that check the rules, each on a fresh service around a
//! fresh mock. Each pushes what it finds broken onto `out`; the report
//! keeps one violation per rule.

use std::error::Error;
use std::fmt::{self, Debug};
use std::task::Poll;

use donjon_layer::Layer;
use donjon_service::Service;

use super::harness::{ATTEMPTS, Harness, Panicked, Response, catch, settle};
use super::report::Violation;
use super::rule::Rule;
use crate::mock::Mock;

/// The error the mock's `poll_ready` is made to fail with.
#[derive(Debug)]
struct InjectedError;

impl fmt::Display for InjectedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("inner poll_ready error injected by the contract kit")
    }
}

impl Error for InjectedError {}

/// The violation a panic during `step` amounts to while checking `rule`:
/// [`Rule::OneCallPerReady`] if the mock was called without its readiness
/// meanwhile (that is what panicked), `rule` otherwise.
fn panicked<S, T, U>(
    rule: Rule,
    step: &str,
    panic: Panicked,
    unready_before: u64,
    harness: &Harness<S, T, U>,
) -> Violation {
    if harness.unready_calls() > unready_before {
        unready_call(rule, step, &panic.message)
    } else {
        Violation::new(rule, format!("{step} panicked: {}", panic.message))
    }
}

/// The mock was called without its readiness during `step` while checking
/// `rule`.
fn unready_call(rule: Rule, step: &str, message: &str) -> Violation {
    let during = if rule == Rule::OneCallPerReady {
        String::new()
    } else {
        format!(" (while checking {rule:?})")
    };
    Violation::new(
        Rule::OneCallPerReady,
        format!(
            "{step} called the inner service without its readiness{during}; the mock panicked: \
             {message}"
        ),
    )
}

/// Pushes an [`unready_call`] violation if the mock was called without its
/// readiness since `unready_before`; returns whether it was.
fn called_unready<S, T, U>(
    rule: Rule,
    step: &str,
    unready_before: u64,
    harness: &Harness<S, T, U>,
    out: &mut Vec<Violation>,
) -> bool {
    if harness.unready_calls() > unready_before {
        out.push(unready_call(
            rule,
            step,
            "service not ready; poll_ready must be called first",
        ));
        return true;
    }
    false
}

/// Makes the service ready with an always-ready mock; pushes a violation of
/// `rule` and returns `false` if it does not become ready.
async fn make_ready<S, T, U, R>(
    rule: Rule,
    harness: &mut Harness<S, T, U>,
    out: &mut Vec<Violation>,
) -> bool
where
    S: Service<R>,
    S::Error: Debug,
{
    match harness.poll_ready_settled::<R>().await {
        Ok(Poll::Ready(Ok(()))) => true,
        Ok(Poll::Ready(Err(error))) => {
            out.push(Violation::new(
                rule,
                format!("poll_ready failed though the inner service was ready: {error:?}"),
            ));
            false
        }
        Ok(Poll::Pending) => {
            out.push(Violation::new(
                rule,
                "poll_ready stayed Pending though the inner service was ready",
            ));
            false
        }
        Err(panic) => {
            out.push(panicked(rule, "poll_ready", panic, 0, harness));
            false
        }
    }
}

/// [`Rule::PendingPropagates`] and [`Rule::WakeupReachesCaller`].
pub(super) async fn readiness<L, T, U, R>(layer: &L, request: R, out: &mut Vec<Violation>)
where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R>,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::PendingPropagates;
    const WAKEUP: Rule = Rule::WakeupReachesCaller;
    let mut harness = Harness::new(layer);

    // Not ready inside: not ready outside, on a second poll too.
    harness.handle.allow(0);
    for attempt in 0..2 {
        match harness.poll_ready::<R>() {
            Ok(Poll::Pending) => {}
            Ok(Poll::Ready(Ok(()))) => {
                out.push(Violation::new(
                    RULE,
                    "poll_ready returned Ready(Ok(())) while the inner service was not ready",
                ));
                return;
            }
            Ok(Poll::Ready(Err(error))) => {
                out.push(Violation::new(
                    RULE,
                    format!(
                        "poll_ready failed while the inner service was only not ready: {error:?}"
                    ),
                ));
                return;
            }
            Err(panic) => {
                out.push(panicked(RULE, "poll_ready", panic, 0, &harness));
                return;
            }
        }
        if attempt == 0 {
            settle().await;
        }
    }

    // Ready inside: the caller is woken, and ready once it polls.
    harness.handle.allow(1);
    settle().await;
    if !harness.service.is_woken() {
        out.push(Violation::new(
            WAKEUP,
            "the inner service became ready and woke its waiter, but the task that got Pending \
             from poll_ready was not woken",
        ));
    }
    let mut ready = false;
    for _ in 0..ATTEMPTS {
        match harness.poll_ready::<R>() {
            Ok(Poll::Ready(Ok(()))) => {
                ready = true;
                break;
            }
            Ok(Poll::Pending) => {
                settle().await;
                if !harness.service.is_woken() {
                    out.push(Violation::new(
                        WAKEUP,
                        "poll_ready returned Pending again after the inner service became \
                         ready, and the task was not woken again",
                    ));
                }
            }
            Ok(Poll::Ready(Err(error))) => {
                out.push(Violation::new(
                    RULE,
                    format!("poll_ready failed after the inner service became ready: {error:?}"),
                ));
                return;
            }
            Err(panic) => {
                out.push(panicked(RULE, "poll_ready", panic, 0, &harness));
                return;
            }
        }
    }
    if !ready {
        out.push(Violation::new(
            RULE,
            "poll_ready stayed Pending after the inner service became ready",
        ));
        return;
    }

    // The one allowed call spent: not ready again.
    let before = harness.unready_calls();
    let mut response = match harness.call(request) {
        Ok(response) => response,
        Err(panic) => {
            out.push(panicked(RULE, "call", panic, before, &harness));
            return;
        }
    };
    if let Err(panic) = response.poll() {
        out.push(panicked(
            RULE,
            "the response future",
            panic,
            before,
            &harness,
        ));
        return;
    }
    settle().await;
    if called_unready(RULE, "call", before, &harness, out) || harness.take_requests() == 0 {
        // Without a call reaching the mock, its allowance is not spent.
        return;
    }
    for attempt in 0..2 {
        match harness.poll_ready::<R>() {
            Ok(Poll::Pending) => {}
            Ok(Poll::Ready(Ok(()))) => {
                out.push(Violation::new(
                    RULE,
                    "poll_ready returned Ready(Ok(())) again after the only call the inner \
                     service allowed was spent",
                ));
                return;
            }
            Ok(Poll::Ready(Err(error))) => {
                out.push(Violation::new(
                    RULE,
                    format!(
                        "poll_ready failed after the only call the inner service allowed was \
                         spent: {error:?}"
                    ),
                ));
                return;
            }
            Err(panic) => {
                out.push(panicked(RULE, "poll_ready", panic, before, &harness));
                return;
            }
        }
        if attempt == 0 {
            settle().await;
        }
    }
    drop(response);
}

/// [`Rule::OneCallPerReady`].
pub(super) async fn one_call<L, T, U, R>(
    layer: &L,
    request: &mut impl FnMut() -> R,
    out: &mut Vec<Violation>,
) where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R>,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::OneCallPerReady;

    // A call after one `Ready` reaches the inner service at most once.
    let mut harness = Harness::new(layer);
    if make_ready::<_, _, _, R>(RULE, &mut harness, out).await {
        let mut response = match harness.call(request()) {
            Ok(response) => response,
            Err(panic) => {
                out.push(panicked(RULE, "call", panic, 0, &harness));
                return;
            }
        };
        if let Err(panic) = response.poll() {
            out.push(panicked(RULE, "the response future", panic, 0, &harness));
            return;
        }
        settle().await;
        if let Err(panic) = response.poll() {
            out.push(panicked(RULE, "the response future", panic, 0, &harness));
            return;
        }
        if called_unready(RULE, "call", 0, &harness, out) {
            return;
        }
        let forwarded = harness.take_requests();
        if forwarded > 1 {
            out.push(Violation::new(
                RULE,
                format!(
                    "one call, after one Ready(Ok(())), reached the inner service {forwarded} \
                     times"
                ),
            ));
            return;
        }
        drop(response);
    }
    drop(harness);

    // A call without readiness does not reach the inner service: a panic
    // (the middleware's, or the mock's after the call was passed on) or an
    // error is what the contract allows.
    let mut harness = Harness::new(layer);
    if let Ok(mut response) = harness.call(request()) {
        // Whatever the response future does, only the mock's queue matters.
        let _ = response.poll_settled().await;
        let forwarded = harness.take_requests();
        if forwarded > 0 {
            out.push(Violation::new(
                RULE,
                "a call made without poll_ready returning Ready(Ok(())) first reached the inner \
                 service",
            ));
        }
    }
}

/// [`Rule::DropReleases`].
pub(super) async fn drop_releases<L, T, U, R>(
    layer: &L,
    request: &mut impl FnMut() -> R,
    rounds: usize,
    out: &mut Vec<Violation>,
) where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R>,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::DropReleases;
    let mut harness = Harness::new(layer);
    for round in 0..=rounds {
        let after = match round {
            0 => String::new(),
            1 => "after 1 dropped response future, ".to_owned(),
            n => format!("after {n} dropped response futures, "),
        };
        match harness.poll_ready_settled::<R>().await {
            Ok(Poll::Ready(Ok(()))) => {}
            Ok(Poll::Ready(Err(error))) => {
                out.push(Violation::new(
                    RULE,
                    format!(
                        "{after}poll_ready failed though the inner service was ready: {error:?}"
                    ),
                ));
                return;
            }
            Ok(Poll::Pending) => {
                let cause = if round == 0 {
                    ""
                } else {
                    ": the dropped futures did not release what they held"
                };
                out.push(Violation::new(
                    RULE,
                    format!(
                        "{after}poll_ready stayed Pending though the inner service was \
                         ready{cause}"
                    ),
                ));
                return;
            }
            Err(panic) => {
                out.push(panicked(RULE, "poll_ready", panic, 0, &harness));
                return;
            }
        }
        if round == rounds {
            return;
        }
        let mut response = match harness.call(request()) {
            Ok(response) => response,
            Err(panic) => {
                out.push(panicked(RULE, "call", panic, 0, &harness));
                return;
            }
        };
        // Half of the futures are dropped after a first poll, half unpolled.
        if round % 2 == 0 {
            if let Err(panic) = response.poll() {
                out.push(panicked(RULE, "the response future", panic, 0, &harness));
                return;
            }
            settle().await;
        }
        if called_unready(RULE, "call", 0, &harness, out) {
            return;
        }
        // The requests stay unanswered: the futures are dropped unfinished.
        let forwarded = harness.take_requests();
        if forwarded > 1 {
            out.push(Violation::new(
                Rule::OneCallPerReady,
                format!(
                    "call number {} reached the inner service {forwarded} times (while checking \
                     DropReleases)",
                    round + 1
                ),
            ));
        }
        drop(response);
        settle().await;
    }
}

/// [`Rule::CloneStartsUnready`].
pub(super) async fn clone_starts_unready<L, T, U, R>(
    layer: &L,
    request: &mut impl FnMut() -> R,
    out: &mut Vec<Violation>,
) where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R> + Clone,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::CloneStartsUnready;
    let mut harness = Harness::new(layer);
    if !make_ready::<_, _, _, R>(RULE, &mut harness, out).await {
        return;
    }
    // The original holds the inner service's readiness; nothing is left for
    // anyone else.
    harness.handle.allow(0);

    // A clone that says it is ready must not call the inner service without
    // its readiness. That tells inheritance apart only if a fresh service is
    // not ready without its inner service (or a `PendingPropagates` breach
    // would be reported twice). Asked first, before a clone called without
    // `poll_ready` (below) can change what the clones share: a "ready" flag
    // that a call clears would hide itself.
    let mut clone = harness.service.clone();
    let mut fresh = Harness::new(layer);
    fresh.handle.allow(0);
    let fresh_ready = matches!(fresh.poll_ready::<R>(), Ok(Poll::Ready(Ok(()))));
    drop(fresh);
    match catch(|| clone.poll_ready::<R>()) {
        Ok(Poll::Ready(Ok(()))) if fresh_ready => {}
        Ok(Poll::Ready(Ok(()))) => {
            let before = harness.unready_calls();
            let unready = match catch(|| clone.call(request())) {
                Ok(future) => {
                    let mut response = Response::new(future);
                    let _ = response.poll_settled().await;
                    harness.unready_calls() > before
                }
                Err(_) => harness.unready_calls() > before,
            };
            if unready {
                out.push(Violation::new(
                    RULE,
                    "a clone of a ready service returned Ready(Ok(())) while its inner service \
                     was not ready, then called the inner service without its readiness: it \
                     inherited the original's readiness",
                ));
                return;
            }
        }
        Ok(Poll::Pending) => {}
        Ok(Poll::Ready(Err(error))) => {
            out.push(Violation::new(
                RULE,
                format!("poll_ready of a fresh clone failed: {error:?}"),
            ));
            return;
        }
        Err(panic) => {
            out.push(Violation::new(
                RULE,
                format!("poll_ready of a fresh clone panicked: {}", panic.message),
            ));
            return;
        }
    }
    drop(clone);

    // A clone called without `poll_ready` must not reach the inner service.
    let mut clone = harness.service.clone();
    if let Ok(future) = catch(|| clone.call(request())) {
        let mut response = Response::new(future);
        let _ = response.poll_settled().await;
    }
    drop(clone);
    if harness.take_requests() > 0 {
        out.push(Violation::new(
            RULE,
            "a clone of a ready service, called without poll_ready, passed its request on to \
             the inner service: it inherited the original's readiness",
        ));
        return;
    }

    // The original keeps the readiness it was given.
    let lost = "the original, ready before it was cloned, lost its readiness";
    let before = harness.unready_calls();
    let mut response = match harness.call(request()) {
        Ok(response) => response,
        Err(panic) => {
            out.push(Violation::new(
                RULE,
                format!("{lost}: its call panicked: {}", panic.message),
            ));
            return;
        }
    };
    match response.poll_settled().await {
        Ok(Poll::Ready(Err(error))) => {
            out.push(Violation::new(
                RULE,
                format!("{lost}: its call failed: {error:?}"),
            ));
        }
        Err(panic) => {
            out.push(Violation::new(
                RULE,
                format!("{lost}: its response future panicked: {}", panic.message),
            ));
        }
        Ok(_) if harness.unready_calls() > before => {
            out.push(Violation::new(
                RULE,
                format!("{lost}: its call reached the inner service without its readiness"),
            ));
        }
        Ok(_) => {}
    }
}

/// [`Rule::WakeupReachesCaller`] on release: a service that is `Pending`
/// because a response future holds what it needs is woken when that future
/// is dropped.
pub(super) async fn drop_wakeups<L, T, U, R>(
    layer: &L,
    request: &mut impl FnMut() -> R,
    out: &mut Vec<Violation>,
) where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R>,
{
    let mut harness = Harness::new(layer);
    // Failures to become ready, or to call, are other rules' business.
    if !matches!(
        harness.poll_ready_settled::<R>().await,
        Ok(Poll::Ready(Ok(())))
    ) {
        return;
    }
    let before = harness.unready_calls();
    let Ok(mut response) = harness.call(request()) else {
        return;
    };
    if response.poll().is_err() {
        return;
    }
    settle().await;
    if harness.unready_calls() > before {
        return;
    }
    harness.take_requests();
    // The mock allows any number of calls: a `Pending` now is the
    // middleware's own, waiting for something.
    if !matches!(harness.poll_ready::<R>(), Ok(Poll::Pending)) {
        return;
    }
    drop(response);
    settle().await;
    let woken = harness.service.is_woken();
    if !woken && matches!(harness.poll_ready::<R>(), Ok(Poll::Ready(Ok(())))) {
        out.push(Violation::new(
            Rule::WakeupReachesCaller,
            "poll_ready returned Pending while a response future was in flight; dropping that \
             future made the service ready, but the task that got Pending was not woken",
        ));
    }
}

/// [`Rule::WakeupReachesCaller`] with a clone: a clone that gets `Pending`
/// after the original did must not take the original's wake-up.
pub(super) async fn clone_wakeups<L, T, U, R>(layer: &L, out: &mut Vec<Violation>)
where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R> + Clone,
{
    let mut harness = Harness::new(layer);
    harness.handle.allow(0);
    // A service that is not `Pending` here is `PendingPropagates`' business.
    if !matches!(harness.poll_ready::<R>(), Ok(Poll::Pending)) {
        return;
    }
    let mut clone = harness.service.clone();
    if !matches!(catch(|| clone.poll_ready::<R>()), Ok(Poll::Pending)) {
        return;
    }
    harness.handle.allow(1);
    settle().await;
    if !harness.service.is_woken() {
        out.push(Violation::new(
            Rule::WakeupReachesCaller,
            "a service got Pending, then a clone of it did too; when the inner service became \
             ready, the original was not woken: the clone took its wake-up",
        ));
    }
    drop(clone);
}

/// [`Rule::ErrorSurfaces`]: an error at the first `poll_ready`, then one
/// after a call.
pub(super) async fn error_surfaces<L, T, U, R>(
    layer: &L,
    request: &mut impl FnMut() -> R,
    out: &mut Vec<Violation>,
) where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R>,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::ErrorSurfaces;
    let mut harness = Harness::new(layer);
    if !surfaces(&mut harness, request(), None, out).await {
        return;
    }
    // Services made by one layer may share a limit: release this one first.
    drop(harness);

    // After a call whose future is dropped, the next error must not be
    // lost either. A `Pending` is not judged here: it would also be what a
    // leak shows, which is `DropReleases`' business.
    let mut harness = Harness::new(layer);
    if !make_ready::<_, _, _, R>(RULE, &mut harness, out).await {
        return;
    }
    let mut response = match harness.call(request()) {
        Ok(response) => response,
        Err(panic) => {
            out.push(panicked(RULE, "call", panic, 0, &harness));
            return;
        }
    };
    if let Err(panic) = response.poll() {
        out.push(panicked(RULE, "the response future", panic, 0, &harness));
        return;
    }
    settle().await;
    if called_unready(RULE, "call", 0, &harness, out) {
        return;
    }
    harness.take_requests();
    drop(response);
    settle().await;
    surfaces(&mut harness, request(), Some("after a call, "), out).await;
}

/// Makes the mock's next `poll_ready` fail and checks that the error
/// reaches the caller; pushes a violation and returns `false` if it does
/// not.
///
/// With `after = Some(text)`, the violation's text starts with `text`, and
/// a `poll_ready` that stays `Pending` is let go.
async fn surfaces<S, T, U, R>(
    harness: &mut Harness<S, T, U>,
    request: R,
    after: Option<&str>,
    out: &mut Vec<Violation>,
) -> bool
where
    S: Service<R>,
    S::Error: Debug,
{
    const RULE: Rule = Rule::ErrorSurfaces;
    let when = after.unwrap_or_default();
    harness.handle.send_error(InjectedError);
    match harness.poll_ready_settled::<R>().await {
        Ok(Poll::Ready(Err(_))) => return true,
        Ok(Poll::Ready(Ok(()))) => {}
        Ok(Poll::Pending) if after.is_some() => return true,
        Ok(Poll::Pending) => {
            out.push(Violation::new(
                RULE,
                format!(
                    "{when}poll_ready stayed Pending after the inner poll_ready failed: the \
                     error never reached the caller"
                ),
            ));
            return false;
        }
        Err(panic) => {
            out.push(Violation::new(
                RULE,
                format!(
                    "{when}poll_ready panicked after the inner poll_ready failed: {}",
                    panic.message
                ),
            ));
            return false;
        }
    }

    // Ready anyway: the error may still come through the response.
    let hidden =
        format!("{when}poll_ready returned Ready(Ok(())) though the inner poll_ready failed");
    let before = harness.unready_calls();
    let outcome = match harness.call(request) {
        Ok(mut response) => response.poll_settled().await,
        Err(panic) => Err(panic),
    };
    let forwarded = harness.take_requests();
    let observed = match outcome {
        _ if harness.unready_calls() > before => {
            format!("{hidden}, and the call then reached the inner service without its readiness")
        }
        Err(panic) => format!("{hidden}, and the call panicked: {}", panic.message),
        _ if forwarded > 0 => {
            format!("{hidden}, and the call reached the inner service: the error was lost")
        }
        Ok(Poll::Ready(Err(_))) => return true,
        Ok(Poll::Ready(Ok(_))) => format!("{hidden}, and the call succeeded"),
        Ok(Poll::Pending) => format!("{hidden}, and the response future stayed Pending"),
    };
    out.push(Violation::new(RULE, observed));
    false
}
