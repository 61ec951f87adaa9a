//! A caller: takes the next request, sends it through its stack as its
//! plan says (giving up at the planned point, if any), and records how it
//! ended.

use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use donjon::{Service, ServiceExt};
use futures::FutureExt;

use super::Shared;
use super::backend::{is_injected, panic_message};
use super::ledger::{ErrorKind, Outcome};
use super::plan::{Cancel, Plan};
use super::stacks::{Handles, Stacks, Svc};

/// What a caller is doing, for the watchdog: `(request + 1) << 2 | step`,
/// 0 between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Waiting for the stack to be ready.
    Readiness = 1,
    /// Waiting for the response.
    Response = 2,
}

impl Step {
    pub(crate) fn describe(status: u64) -> Option<(u64, &'static str)> {
        let step = match status & 3 {
            0 => return None,
            1 => "waiting for readiness",
            _ => "waiting for the response",
        };
        Some(((status >> 2) - 1, step))
    }
}

fn status(id: u64, step: Step) -> u64 {
    ((id + 1) << 2) | step as u64
}

/// Sends requests until there are none left.
pub(crate) async fn caller(shared: Arc<Shared>, stacks: Arc<Stacks>, index: usize) {
    let mut handles = Handles::new(&stacks);
    let slot = &shared.callers[index];
    loop {
        let id = shared.next.fetch_add(1, Ordering::Relaxed);
        if id >= shared.config.requests {
            break;
        }
        let plan = Plan::new(shared.config.seed, id);
        shared.ledger.issue(plan.stack);
        if plan.churn {
            stacks.client.churn();
        }
        let (service, generation) = handles.get(&stacks, &plan);
        let outcome = drive(service, &plan, slot).await;
        slot.store(0, Ordering::Relaxed);
        if let Some((supervisor, generation)) = generation {
            generation.served.fetch_add(1, Ordering::Relaxed);
            if let Outcome::Answered {
                result: Err(error), ..
            } = &outcome
            {
                if matches!(
                    ErrorKind::of(error),
                    ErrorKind::BufferFailed | ErrorKind::BufferClosed
                ) {
                    generation.dead.store(true, Ordering::Release);
                }
            }
            supervisor.replace_if_dead(&generation);
        }
        shared.ledger.record(&plan, &outcome);
        shared.progress.advance();
    }
}

/// One request, with the panics of the inner services caught: nothing in
/// the stacks catches the panic of a response future (as in tower), so it
/// reaches the caller, unwinding through every middleware's future, which
/// must give back what it held as it is dropped.
async fn drive(service: Svc, plan: &Plan, slot: &AtomicU64) -> Outcome {
    match AssertUnwindSafe(lifecycle(service, plan, slot))
        .catch_unwind()
        .await
    {
        Ok(outcome) => outcome,
        Err(payload) => Outcome::Panicked {
            injected: is_injected(&*payload),
            message: panic_message(&*payload),
        },
    }
}

async fn lifecycle(mut service: Svc, plan: &Plan, slot: &AtomicU64) -> Outcome {
    let id = plan.request.id;
    slot.store(status(id, Step::Readiness), Ordering::Relaxed);
    let readiness = match plan.cancel {
        Cancel::WhileWaitingReady(limit) => {
            match tokio::time::timeout(limit, service.ready()).await {
                Ok(readiness) => readiness.map(|_| ()),
                // The clone is dropped while it waits in `poll_ready`.
                Err(_) => return Outcome::Cancelled { called: false },
            }
        }
        _ => service.ready().await.map(|_| ()),
    };
    if let Err(error) = readiness {
        return Outcome::Answered {
            called: false,
            result: Err(error),
        };
    }
    if plan.cancel == Cancel::AfterReady {
        // A reservation given back unused.
        drop(service);
        return Outcome::Cancelled { called: false };
    }
    slot.store(status(id, Step::Response), Ordering::Relaxed);
    let response = service.call(plan.request);
    drop(service);
    match plan.cancel {
        Cancel::Unpolled => {
            drop(response);
            Outcome::Cancelled { called: true }
        }
        Cancel::AfterFirstPoll => {
            let mut response = pin!(response);
            match futures::poll!(response.as_mut()) {
                Poll::Ready(result) => Outcome::Answered {
                    called: true,
                    result,
                },
                Poll::Pending => Outcome::Cancelled { called: true },
            }
        }
        Cancel::AfterDelay(limit) => match tokio::time::timeout(limit, response).await {
            Ok(result) => Outcome::Answered {
                called: true,
                result,
            },
            Err(_) => Outcome::Cancelled { called: true },
        },
        Cancel::Never | Cancel::WhileWaitingReady(_) | Cancel::AfterReady => Outcome::Answered {
            called: true,
            result: response.await,
        },
    }
}
