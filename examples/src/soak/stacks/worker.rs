//! The worker stack: a buffer in front of a service that is driven to
//! readiness in the background (`SpawnReady`) under a concurrency limit.
//! Its inner service sometimes panics (in `poll_ready` or `call`) or fails
//! its readiness, which kills the buffer's worker: every caller of that
//! buffer then gets an error, and the supervisor builds a new buffer.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use donjon::ServiceExt;
use donjon::buffer::Buffer;
use donjon::limit::ConcurrencyLimit;
use donjon::spawn_ready::SpawnReady;
use tokio::sync::Semaphore;

use super::{Built, Env, Probe, Supervisor};
use crate::soak::backend::{Backend, BackendStats, Readiness};
use crate::soak::report::Check;

const BOUND: usize = 16;
const PERMITS: usize = 8;

/// The worker stack and its handles.
#[derive(Debug)]
pub(crate) struct Worker {
    pub(crate) supervisor: Supervisor,
    /// Shared by every build: a permit leaked by a dead build shows.
    permits: Arc<Semaphore>,
    pub(crate) backend: Arc<BackendStats>,
}

impl Worker {
    pub(crate) fn new(env: &Env) -> Self {
        let readiness = Readiness {
            pending: 30_000,
            error: 150,
            panic: 150,
        };
        let backend = BackendStats::new(
            "worker backend",
            readiness,
            Arc::clone(&env.calm),
            Arc::clone(&env.attempts),
            env.seed ^ 0x3077,
        );
        let permits = Arc::new(Semaphore::new(PERMITS));
        let build = {
            let (backend, permits) = (Arc::clone(&backend), Arc::clone(&permits));
            move |_number, _dead| {
                let inner = SpawnReady::new(ConcurrencyLimit::with_semaphore(
                    Backend::new(Arc::clone(&backend)),
                    Arc::clone(&permits),
                ));
                let buffer = Buffer::new(inner, BOUND);
                Built {
                    service: buffer.clone().boxed_clone(),
                    probes: vec![Probe::new("worker: buffer", buffer.boxed_clone(), BOUND)],
                    churn: None,
                }
            }
        };
        Worker {
            supervisor: Supervisor::new(Box::new(build)),
            permits,
            backend,
        }
    }

    /// The semaphore shared by every build, and its size.
    pub(crate) fn permits(&self) -> (Arc<Semaphore>, usize) {
        (Arc::clone(&self.permits), PERMITS)
    }

    pub(crate) fn state(&self) -> String {
        format!(
            "worker: build {} ({:?}); {} of {PERMITS} permits free; backend: {} calls, {} \
             response futures alive",
            self.supervisor.number(),
            self.supervisor.current(),
            self.permits.available_permits(),
            self.backend.calls.load(Ordering::Relaxed),
            self.backend.alive.load(Ordering::Relaxed),
        )
    }

    pub(crate) async fn check(&self) -> Vec<Check> {
        let mut checks = vec![Check::from_result(
            "worker: inner response futures all ended",
            self.backend.settled(),
        )];
        checks.extend(self.supervisor.check_probes().await);
        // The live build's service may hold one permit, reserved by a
        // `poll_ready` for a call that has not come; the rest are back.
        // Once the stacks are dropped, every permit must be.
        let free = self.permits.available_permits();
        checks.push(Check::new(
            "worker: semaphore permits back, but the live build's reservation",
            free + 1 >= PERMITS,
            format!(
                "{free} of {PERMITS} available after {} rebuilds",
                self.supervisor.rebuilds()
            ),
        ));
        checks
    }
}
