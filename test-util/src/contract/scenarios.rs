//! The scenarios that check the rules, each on a fresh service around a
//! fresh mock.
//!
//! A scenario tells its story with the steps below: each step either goes
//! as the contract says or returns the [`Violation`] it saw, which ends the
//! scenario through `?`. The few observations that do not end a scenario
//! (a lost wake-up, while the readiness it leads to is still checked) are
//! noted on the way, before the violation that ends it, if any. The report
//! keeps one violation per rule, the first observed.

use std::error::Error;
use std::fmt::{self, Debug};
use std::future::Future;
use std::task::Poll;

use donjon_layer::Layer;
use donjon_service::Service;

use super::harness::{ATTEMPTS, Harness, Panicked, Response, catch, settle};
use super::report::Violation;
use super::rule::Rule;
use crate::mock::{Mock, Spawn};

/// How a scenario, or one of its steps, ended: `Err` with the violation
/// that ended it.
pub(super) type Outcome = Result<(), Violation>;

/// [`Rule::PendingPropagates`] and [`Rule::WakeupReachesCaller`]; the lost
/// wake-ups are noted in `noted`.
pub(super) async fn readiness<L, T, U, R>(
    layer: &L,
    request: R,
    noted: &mut Vec<Violation>,
) -> Outcome
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
    expect_pending::<_, _, _, R>(
        RULE,
        &mut harness,
        0,
        "while the inner service was not ready",
        "while the inner service was only not ready",
    )
    .await?;

    // Ready inside: the caller is woken, and ready once it polls.
    harness.handle.allow(1);
    settle().await;
    if !harness.service.is_woken() {
        noted.push(Violation::new(
            WAKEUP,
            "the inner service became ready and woke its waiter, but the task that got Pending \
             from poll_ready was not woken",
        ));
    }
    ready_with_wakeups::<_, _, _, R>(&mut harness, noted).await?;

    // The one allowed call spent: not ready again.
    let before = harness.unready_calls();
    let response = call_and_settle(RULE, &mut harness, request, before).await?;
    if harness.take_requests() == 0 {
        // Without a call reaching the mock, its allowance is not spent.
        return Ok(());
    }
    expect_pending::<_, _, _, R>(
        RULE,
        &mut harness,
        before,
        "again after the only call the inner service allowed was spent",
        "after the only call the inner service allowed was spent",
    )
    .await?;
    drop(response);
    Ok(())
}

/// [`Rule::OneCallPerReady`]; a service that does not become ready is
/// noted in `noted`, and checked with a call without readiness all the
/// same.
pub(super) async fn one_call<L, T, U, R>(
    layer: &L,
    request: &mut impl FnMut() -> R,
    noted: &mut Vec<Violation>,
) -> Outcome
where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R>,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::OneCallPerReady;

    // A call after one `Ready` reaches the inner service at most once.
    let mut harness = Harness::new(layer);
    match make_ready::<_, _, _, R>(RULE, &mut harness).await {
        Ok(()) => forwarded_once(&mut harness, request()).await?,
        Err(violation) => noted.push(violation),
    }
    drop(harness);

    // A call without readiness does not reach the inner service: a panic
    // (the middleware's, or the mock's after the call was passed on) or an
    // error is what the contract allows.
    let mut harness = Harness::new(layer);
    if let Ok(mut response) = harness.call(request()) {
        // Whatever the response future does, only the mock's queue matters.
        let _ = response.poll_settled().await;
        if harness.take_requests() > 0 {
            return Err(Violation::new(
                RULE,
                "a call made without poll_ready returning Ready(Ok(())) first reached the inner \
                 service",
            ));
        }
    }
    Ok(())
}

/// Calls a ready service once and counts the requests that reach the mock:
/// one at most, for [`Rule::OneCallPerReady`].
async fn forwarded_once<S, T, U, R>(harness: &mut Harness<S, T, U>, request: R) -> Outcome
where
    S: Service<R>,
{
    const RULE: Rule = Rule::OneCallPerReady;
    let mut response = call(RULE, harness, request, 0)?;
    poll_response(RULE, harness, &mut response, 0)?;
    settle().await;
    poll_response(RULE, harness, &mut response, 0)?;
    no_unready_call(RULE, "call", 0, harness)?;
    let forwarded = harness.take_requests();
    if forwarded > 1 {
        return Err(Violation::new(
            RULE,
            format!(
                "one call, after one Ready(Ok(())), reached the inner service {forwarded} times"
            ),
        ));
    }
    drop(response);
    Ok(())
}

/// [`Rule::DropReleases`]; a call that reached the mock more than once is
/// noted in `noted`.
pub(super) async fn drop_releases<L, T, U, R>(
    layer: &L,
    request: &mut impl FnMut() -> R,
    rounds: usize,
    noted: &mut Vec<Violation>,
) -> Outcome
where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R>,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::DropReleases;
    let mut harness = Harness::new(layer);
    for dropped in 0..rounds {
        ready_after_drops::<_, _, _, R>(&mut harness, dropped).await?;
        let mut response = call(RULE, &mut harness, request(), 0)?;
        // Half of the futures are dropped after a first poll, half unpolled.
        if dropped % 2 == 0 {
            poll_response(RULE, &harness, &mut response, 0)?;
            settle().await;
        }
        no_unready_call(RULE, "call", 0, &harness)?;
        // The requests stay unanswered: the futures are dropped unfinished.
        let forwarded = harness.take_requests();
        if forwarded > 1 {
            noted.push(Violation::new(
                Rule::OneCallPerReady,
                format!(
                    "call number {} reached the inner service {forwarded} times (while checking \
                     DropReleases)",
                    dropped + 1
                ),
            ));
        }
        drop(response);
        settle().await;
    }
    ready_after_drops::<_, _, _, R>(&mut harness, rounds).await
}

/// [`Rule::CloneStartsUnready`].
pub(super) async fn clone_starts_unready<L, T, U, R>(
    layer: &L,
    request: &mut impl FnMut() -> R,
) -> Outcome
where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R> + Clone,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::CloneStartsUnready;
    let mut harness = Harness::new(layer);
    make_ready::<_, _, _, R>(RULE, &mut harness).await?;
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
    let fresh_ready = {
        let mut fresh = Harness::new(layer);
        fresh.handle.allow(0);
        matches!(fresh.poll_ready::<R>(), Ok(Poll::Ready(Ok(()))))
    };
    if clone_is_ready::<_, R>(&mut clone)? && !fresh_ready {
        let before = harness.unready_calls();
        let response = call_anyway(&mut clone, request()).await;
        if harness.unready_calls() > before {
            return Err(Violation::new(
                RULE,
                "a clone of a ready service returned Ready(Ok(())) while its inner service was \
                 not ready, then called the inner service without its readiness: it inherited \
                 the original's readiness",
            ));
        }
        drop(response);
    }
    drop(clone);

    // A clone called without `poll_ready` must not reach the inner service.
    let mut clone = harness.service.clone();
    drop(call_anyway(&mut clone, request()).await);
    drop(clone);
    if harness.take_requests() > 0 {
        return Err(Violation::new(
            RULE,
            "a clone of a ready service, called without poll_ready, passed its request on to the \
             inner service: it inherited the original's readiness",
        ));
    }

    // The original keeps the readiness it was given.
    let lost = "the original, ready before it was cloned, lost its readiness";
    let before = harness.unready_calls();
    let mut response = harness.call(request()).map_err(|panic| {
        Violation::new(
            RULE,
            format!("{lost}: its call panicked: {}", panic.message),
        )
    })?;
    match response.poll_settled().await {
        Ok(Poll::Ready(Err(error))) => Err(Violation::new(
            RULE,
            format!("{lost}: its call failed: {error:?}"),
        )),
        Err(panic) => Err(Violation::new(
            RULE,
            format!("{lost}: its response future panicked: {}", panic.message),
        )),
        Ok(_) if harness.unready_calls() > before => Err(Violation::new(
            RULE,
            format!("{lost}: its call reached the inner service without its readiness"),
        )),
        Ok(_) => Ok(()),
    }
}

/// [`Rule::WakeupReachesCaller`] on release: a service that is `Pending`
/// because a response future holds what it needs is woken when that future
/// is dropped.
pub(super) async fn drop_wakeups<L, T, U, R>(layer: &L, request: &mut impl FnMut() -> R) -> Outcome
where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R>,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::WakeupReachesCaller;
    let mut harness = Harness::new(layer);
    // Failures to become ready, or to call, are other rules' business.
    if make_ready::<_, _, _, R>(RULE, &mut harness).await.is_err() {
        return Ok(());
    }
    let before = harness.unready_calls();
    let Ok(response) = call_and_settle(RULE, &mut harness, request(), before).await else {
        return Ok(());
    };
    harness.take_requests();
    // The mock allows any number of calls: a `Pending` now is the
    // middleware's own, waiting for something.
    if !matches!(harness.poll_ready::<R>(), Ok(Poll::Pending)) {
        return Ok(());
    }
    drop(response);
    settle().await;
    let woken = harness.service.is_woken();
    if !woken && matches!(harness.poll_ready::<R>(), Ok(Poll::Ready(Ok(())))) {
        return Err(Violation::new(
            RULE,
            "poll_ready returned Pending while a response future was in flight; dropping that \
             future made the service ready, but the task that got Pending was not woken",
        ));
    }
    Ok(())
}

/// [`Rule::WakeupReachesCaller`] with a clone: a clone that gets `Pending`
/// after the original did must not take the original's wake-up.
pub(super) async fn clone_wakeups<L, T, U, R>(layer: &L) -> Outcome
where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R> + Clone,
{
    let mut harness = Harness::new(layer);
    harness.handle.allow(0);
    // A service that is not `Pending` here is `PendingPropagates`' business.
    if !matches!(harness.poll_ready::<R>(), Ok(Poll::Pending)) {
        return Ok(());
    }
    let mut clone = harness.service.clone();
    if !matches!(catch(|| clone.poll_ready::<R>()), Ok(Poll::Pending)) {
        return Ok(());
    }
    harness.handle.allow(1);
    settle().await;
    if !harness.service.is_woken() {
        return Err(Violation::new(
            Rule::WakeupReachesCaller,
            "a service got Pending, then a clone of it did too; when the inner service became \
             ready, the original was not woken: the clone took its wake-up",
        ));
    }
    drop(clone);
    Ok(())
}

/// [`Rule::ErrorSurfaces`]: an error at the first `poll_ready`, then one
/// after a call.
pub(super) async fn error_surfaces<L, T, U, R>(
    layer: &L,
    request: &mut impl FnMut() -> R,
) -> Outcome
where
    L: Layer<Mock<T, U>>,
    L::Service: Service<R>,
    <L::Service as Service<R>>::Error: Debug,
{
    const RULE: Rule = Rule::ErrorSurfaces;
    let mut harness = Harness::new(layer);
    surfaces(&mut harness, request(), None).await?;
    // Services made by one layer may share a limit: release this one first.
    drop(harness);

    // After a call whose future is dropped, the next error must not be
    // lost either. A `Pending` is not judged here: it would also be what a
    // leak shows, which is `DropReleases`' business.
    let mut harness = Harness::new(layer);
    make_ready::<_, _, _, R>(RULE, &mut harness).await?;
    let response = call_and_settle(RULE, &mut harness, request(), 0).await?;
    harness.take_requests();
    drop(response);
    settle().await;
    surfaces(&mut harness, request(), Some("after a call, ")).await
}

/// Makes the mock's next `poll_ready` fail and checks that the error
/// reaches the caller.
///
/// With `after = Some(text)`, the violation's text starts with `text`, and
/// a `poll_ready` that stays `Pending` is let go.
async fn surfaces<S, T, U, R>(
    harness: &mut Harness<S, T, U>,
    request: R,
    after: Option<&str>,
) -> Outcome
where
    S: Service<R>,
    S::Error: Debug,
{
    const RULE: Rule = Rule::ErrorSurfaces;
    let when = after.unwrap_or_default();
    harness.handle.send_error(InjectedError);
    match harness.poll_ready_settled::<R>().await {
        Ok(Poll::Ready(Err(_))) => return Ok(()),
        Ok(Poll::Ready(Ok(()))) => {}
        Ok(Poll::Pending) if after.is_some() => return Ok(()),
        Ok(Poll::Pending) => {
            return Err(Violation::new(
                RULE,
                format!(
                    "{when}poll_ready stayed Pending after the inner poll_ready failed: the \
                     error never reached the caller"
                ),
            ));
        }
        Err(panic) => {
            return Err(Violation::new(
                RULE,
                format!(
                    "{when}poll_ready panicked after the inner poll_ready failed: {}",
                    panic.message
                ),
            ));
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
        Ok(Poll::Ready(Err(_))) => return Ok(()),
        Ok(Poll::Ready(Ok(_))) => format!("{hidden}, and the call succeeded"),
        Ok(Poll::Pending) => format!("{hidden}, and the response future stayed Pending"),
    };
    Err(Violation::new(RULE, observed))
}

// The steps the scenarios are told with. Each returns the violation of
// `rule` it saw; a panic is reported by `panicked`, against
// `Rule::OneCallPerReady` if the mock was called without its readiness
// since `before`, the count of such calls when the step began.

/// Makes the service ready, as it must become with an always-ready mock.
async fn make_ready<S, T, U, R>(rule: Rule, harness: &mut Harness<S, T, U>) -> Outcome
where
    S: Service<R>,
    S::Error: Debug,
{
    expect_ready::<_, _, _, R>(rule, harness, "", "").await
}

/// [`make_ready`], after `dropped` response futures were dropped, for
/// [`Rule::DropReleases`].
async fn ready_after_drops<S, T, U, R>(harness: &mut Harness<S, T, U>, dropped: usize) -> Outcome
where
    S: Service<R>,
    S::Error: Debug,
{
    const LEAKED: &str = ": the dropped futures did not release what they held";
    let after = match dropped {
        0 => return make_ready::<_, _, _, R>(Rule::DropReleases, harness).await,
        1 => "after 1 dropped response future, ".to_owned(),
        n => format!("after {n} dropped response futures, "),
    };
    expect_ready::<_, _, _, R>(Rule::DropReleases, harness, &after, LEAKED).await
}

/// Polls the service until it is ready, settling in between, as it must
/// become with a ready mock. What is reported starts with `after` (what
/// came before) and, if `poll_ready` stayed `Pending`, ends with `stuck`
/// (what that shows).
async fn expect_ready<S, T, U, R>(
    rule: Rule,
    harness: &mut Harness<S, T, U>,
    after: &str,
    stuck: &str,
) -> Outcome
where
    S: Service<R>,
    S::Error: Debug,
{
    match harness.poll_ready_settled::<R>().await {
        Ok(Poll::Ready(Ok(()))) => Ok(()),
        Ok(Poll::Ready(Err(error))) => Err(Violation::new(
            rule,
            format!("{after}poll_ready failed though the inner service was ready: {error:?}"),
        )),
        Ok(Poll::Pending) => Err(Violation::new(
            rule,
            format!("{after}poll_ready stayed Pending though the inner service was ready{stuck}"),
        )),
        Err(panic) => Err(panicked(rule, "poll_ready", panic, 0, harness)),
    }
}

/// Polls the service until it is ready, as it must become once the mock
/// is, for [`Rule::PendingPropagates`]; each `Pending` on the way must be
/// followed by a wake-up, or that is noted in `noted`.
async fn ready_with_wakeups<S, T, U, R>(
    harness: &mut Harness<S, T, U>,
    noted: &mut Vec<Violation>,
) -> Outcome
where
    S: Service<R>,
    S::Error: Debug,
{
    const RULE: Rule = Rule::PendingPropagates;
    for _ in 0..ATTEMPTS {
        if is_ready::<_, _, _, R>(RULE, harness, 0, "after the inner service became ready")? {
            return Ok(());
        }
        settle().await;
        if !harness.service.is_woken() {
            noted.push(Violation::new(
                Rule::WakeupReachesCaller,
                "poll_ready returned Pending again after the inner service became ready, and \
                 the task was not woken again",
            ));
        }
    }
    Err(Violation::new(
        RULE,
        "poll_ready stayed Pending after the inner service became ready",
    ))
}

/// Polls the service twice, settling in between: it must be `Pending` both
/// times. A `Ready(Ok(()))` is reported as returned `ready_when`, an error
/// as a failure `failed_when`.
async fn expect_pending<S, T, U, R>(
    rule: Rule,
    harness: &mut Harness<S, T, U>,
    before: u64,
    ready_when: &str,
    failed_when: &str,
) -> Outcome
where
    S: Service<R>,
    S::Error: Debug,
{
    for attempt in 0..2 {
        if attempt > 0 {
            settle().await;
        }
        if is_ready::<_, _, _, R>(rule, harness, before, failed_when)? {
            return Err(Violation::new(
                rule,
                format!("poll_ready returned Ready(Ok(())) {ready_when}"),
            ));
        }
    }
    Ok(())
}

/// Polls the service once: `true` if it is ready, `false` if it is
/// `Pending`. An error is reported as a failure `failed_when`.
fn is_ready<S, T, U, R>(
    rule: Rule,
    harness: &mut Harness<S, T, U>,
    before: u64,
    failed_when: &str,
) -> Result<bool, Violation>
where
    S: Service<R>,
    S::Error: Debug,
{
    match harness.poll_ready::<R>() {
        Ok(Poll::Ready(Ok(()))) => Ok(true),
        Ok(Poll::Pending) => Ok(false),
        Ok(Poll::Ready(Err(error))) => Err(Violation::new(
            rule,
            format!("poll_ready failed {failed_when}: {error:?}"),
        )),
        Err(panic) => Err(panicked(rule, "poll_ready", panic, before, harness)),
    }
}

/// Polls a fresh clone once, for [`Rule::CloneStartsUnready`]: `true` if
/// it is ready, `false` if it is `Pending`. It must not fail or panic.
fn clone_is_ready<S, R>(clone: &mut Spawn<S>) -> Result<bool, Violation>
where
    S: Service<R>,
    S::Error: Debug,
{
    const RULE: Rule = Rule::CloneStartsUnready;
    match catch(|| clone.poll_ready::<R>()) {
        Ok(Poll::Ready(Ok(()))) => Ok(true),
        Ok(Poll::Pending) => Ok(false),
        Ok(Poll::Ready(Err(error))) => Err(Violation::new(
            RULE,
            format!("poll_ready of a fresh clone failed: {error:?}"),
        )),
        Err(panic) => Err(Violation::new(
            RULE,
            format!("poll_ready of a fresh clone panicked: {}", panic.message),
        )),
    }
}

/// Calls the service; the call must not panic.
fn call<S, T, U, R>(
    rule: Rule,
    harness: &mut Harness<S, T, U>,
    request: R,
    before: u64,
) -> Result<Response<S::Future>, Violation>
where
    S: Service<R>,
{
    harness
        .call(request)
        .map_err(|panic| panicked(rule, "call", panic, before, harness))
}

/// Polls a response future once; it must not panic.
fn poll_response<S, T, U, F: Future>(
    rule: Rule,
    harness: &Harness<S, T, U>,
    response: &mut Response<F>,
    before: u64,
) -> Outcome {
    response
        .poll()
        .map(drop)
        .map_err(|panic| panicked(rule, "the response future", panic, before, harness))
}

/// Calls the ready service, polls the response future once and lets
/// background work run: nothing may panic, and the call must not reach the
/// mock without its readiness. Returns the response future, in flight.
async fn call_and_settle<S, T, U, R>(
    rule: Rule,
    harness: &mut Harness<S, T, U>,
    request: R,
    before: u64,
) -> Result<Response<S::Future>, Violation>
where
    S: Service<R>,
{
    let mut response = call(rule, harness, request, before)?;
    poll_response(rule, harness, &mut response, before)?;
    settle().await;
    no_unready_call(rule, "call", before, harness)?;
    Ok(response)
}

/// Checks that the mock was not called without its readiness during
/// `step`, since `before`.
fn no_unready_call<S, T, U>(
    rule: Rule,
    step: &str,
    before: u64,
    harness: &Harness<S, T, U>,
) -> Outcome {
    if harness.unready_calls() > before {
        return Err(unready_call(
            rule,
            step,
            "service not ready; poll_ready must be called first",
        ));
    }
    Ok(())
}

/// Calls `service` (a clone, made ready or not) and polls the response
/// future until it settles, whatever it does or whether the call panics:
/// only what reaches the mock matters. Returns the response future, if
/// any, in flight.
async fn call_anyway<S, R>(service: &mut Spawn<S>, request: R) -> Option<Response<S::Future>>
where
    S: Service<R>,
{
    let future = catch(|| service.call(request)).ok()?;
    let mut response = Response::new(future);
    let _ = response.poll_settled().await;
    Some(response)
}

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
