//! The pool stack: two tenants (two services) sharing one concurrency
//! limit through a `GlobalConcurrencyLimitLayer` on a semaphore, each
//! behind its own timeout, built with `ServiceBuilder`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use donjon::limit::GlobalConcurrencyLimitLayer;
use donjon::{ServiceBuilder, ServiceExt};
use tokio::sync::Semaphore;

use super::{Env, Svc, lock};
use crate::soak::backend::{Backend, BackendStats, Readiness};
use crate::soak::report::Check;

const PERMITS: usize = 16;
const TIMEOUT: Duration = Duration::from_millis(15);

/// The pool stack and its handles.
#[derive(Debug)]
pub(crate) struct Pool {
    tenants: [Mutex<Svc>; 2],
    permits: Arc<Semaphore>,
    pub(crate) backends: [Arc<BackendStats>; 2],
}

impl Pool {
    pub(crate) fn new(env: &Env) -> Self {
        let permits = Arc::new(Semaphore::new(PERMITS));
        let shared = GlobalConcurrencyLimitLayer::with_semaphore(Arc::clone(&permits));
        let readiness = Readiness {
            pending: 30_000,
            error: 100,
            panic: 0,
        };
        let backends =
            [(0, "pool backend (users)"), (1, "pool backend (orders)")].map(|(tenant, name)| {
                BackendStats::new(
                    name,
                    readiness,
                    Arc::clone(&env.calm),
                    Arc::clone(&env.attempts),
                    env.seed ^ (0x9000 + tenant),
                )
            });
        let tenants = [0, 1].map(|tenant| {
            let service = ServiceBuilder::new()
                .timeout(TIMEOUT)
                .layer(shared.clone())
                .service(Backend::new(Arc::clone(&backends[tenant])));
            Mutex::new(service.boxed_clone())
        });
        Pool {
            tenants,
            permits,
            backends,
        }
    }

    pub(crate) fn service(&self, tenant: usize) -> Svc {
        lock(&self.tenants[tenant]).clone()
    }

    /// The shared semaphore, and its size.
    pub(crate) fn permits(&self) -> (Arc<Semaphore>, usize) {
        (Arc::clone(&self.permits), PERMITS)
    }

    pub(crate) fn state(&self) -> String {
        format!(
            "pool: {} of {PERMITS} shared permits free; response futures alive: {} and {}",
            self.permits.available_permits(),
            self.backends[0].alive.load(Ordering::Relaxed),
            self.backends[1].alive.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn check(&self) -> Vec<Check> {
        let free = self.permits.available_permits();
        let mut checks = vec![Check::new(
            "pool: shared semaphore permits back",
            free == PERMITS,
            format!("{free} of {PERMITS} available"),
        )];
        for backend in &self.backends {
            checks.push(Check::from_result(
                format!("{}: inner response futures all ended", backend.name),
                backend.settled(),
            ));
        }
        checks
    }
}
