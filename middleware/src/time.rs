//! Small helpers around tokio's clock and timers, shared by the middleware
//! so that each works the same way everywhere.

use std::time::Duration;

use tokio::time::Instant;

/// How far away a deadline goes when it does not fit in an `Instant`.
#[cfg_attr(
    not(any(
        feature = "balance",
        feature = "circuit-breaker",
        feature = "limit",
        feature = "load-shed",
        feature = "timeout"
    )),
    allow(dead_code, reason = "the buffer uses only the timer")
)]
const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// `now` plus `duration`, or about thirty years after `now` (too far away to
/// matter) if that does not fit in an `Instant`.
///
/// This is the one policy for deadlines that would overflow: such a
/// deadline never comes. Where a timer must exist (a reusable sleep that a
/// wait polls), it is set this far away; where the timer is optional (a
/// per-call timeout, a rate window), `Instant::checked_add` giving `None`
/// means no timer at all, which is the same policy. Nothing adds a duration
/// to an `Instant` with `+`, which would panic.
#[cfg_attr(
    not(any(
        feature = "balance",
        feature = "circuit-breaker",
        feature = "limit",
        feature = "load-shed",
        feature = "timeout"
    )),
    allow(dead_code, reason = "the buffer uses only the timer")
)]
pub(crate) fn deadline(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration).unwrap_or_else(|| now + FAR)
}

/// The timer kept in `slot`, set to fire at `deadline`: the one there is
/// reset (unless it is set for `deadline` already), or one is made (the
/// only allocation) if there is none yet.
pub(crate) fn reset_sleep(
    slot: &mut Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    deadline: Instant,
) -> &mut std::pin::Pin<Box<tokio::time::Sleep>> {
    match slot {
        Some(sleep) => {
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            sleep
        }
        None => slot.insert(Box::pin(tokio::time::sleep_until(deadline))),
    }
}
