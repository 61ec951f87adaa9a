//! The stacks of middleware the soak drives, built as users build them,
//! and the supervisor that rebuilds the stacks whose buffer dies.

mod client;
mod pool;
mod server;
mod worker;

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use donjon::util::BoxCloneService;
use donjon::{BoxError, Service};
use tokio::time::Instant;

pub(crate) use self::client::Client;
pub(crate) use self::pool::Pool;
pub(crate) use self::server::Server;
pub(crate) use self::worker::Worker;
use super::backend::BackendStats;
use super::ledger::Attempts;
use super::plan::{Plan, Reply, Request, StackKind};
use super::report::Check;

/// A stack as callers hold it.
pub(crate) type Svc = BoxCloneService<Request, Reply, BoxError>;

/// Locks a mutex whether or not a panic poisoned it (the soak panics on
/// purpose; what the mutexes guard stays consistent).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What every stack is built from.
#[derive(Debug, Clone)]
pub(crate) struct Env {
    pub(crate) seed: u64,
    /// Set after the run: the inner services stop flapping.
    pub(crate) calm: Arc<AtomicBool>,
    pub(crate) attempts: Arc<Attempts>,
}

/// Every stack of the soak.
#[derive(Debug)]
pub(crate) struct Stacks {
    pub(crate) server: Server,
    pub(crate) client: Client,
    pub(crate) pool: Pool,
    pub(crate) worker: Worker,
    pub(crate) env: Env,
}

impl Stacks {
    /// Builds every stack; spawns the buffers' workers, so it runs inside
    /// the runtime.
    pub(crate) fn new(env: Env) -> Self {
        Stacks {
            server: Server::new(&env),
            client: Client::new(&env),
            pool: Pool::new(&env),
            worker: Worker::new(&env),
            env,
        }
    }

    /// The checks that every permit, slot, place and budget is back, every
    /// inner response future accounted for, and the breakers closed again.
    pub(crate) async fn check(&self, elapsed: Duration, concurrency: usize) -> Vec<Check> {
        self.env.calm.store(true, Ordering::SeqCst);
        let mut checks = Vec::new();
        checks.extend(self.server.check().await);
        checks.extend(self.client.check(elapsed, concurrency).await);
        checks.extend(self.pool.check());
        checks.extend(self.worker.check().await);
        checks
    }

    /// What outlives the stacks, to check once they are dropped.
    pub(crate) fn leftovers(&self) -> Leftovers {
        Leftovers {
            semaphores: vec![
                ("server", self.server.permits()),
                ("pool", self.pool.permits()),
                ("worker", self.worker.permits()),
            ],
            adaptive: self.server.adaptive(),
        }
    }

    /// The inner services' books.
    pub(crate) fn backends(&self) -> Vec<Arc<BackendStats>> {
        let mut backends = vec![
            Arc::clone(&self.server.backend),
            Arc::clone(&self.client.backend),
        ];
        backends.extend(self.pool.backends.iter().cloned());
        backends.push(Arc::clone(&self.worker.backend));
        backends
    }

    /// A line per stack on what it holds now, for the watchdog.
    pub(crate) fn state(&self) -> Vec<String> {
        vec![
            self.server.state(),
            self.client.state(),
            self.pool.state(),
            self.worker.state(),
        ]
    }
}

/// Handles that outlive the stacks: once every service is dropped, every
/// permit must be back and nothing in flight.
#[derive(Debug)]
pub(crate) struct Leftovers {
    semaphores: Vec<(&'static str, (Arc<tokio::sync::Semaphore>, usize))>,
    adaptive: donjon::limit::adaptive::Handle,
}

impl Leftovers {
    pub(crate) fn check(&self) -> Vec<Check> {
        let mut checks: Vec<Check> = self
            .semaphores
            .iter()
            .map(|(stack, (semaphore, size))| {
                let free = semaphore.available_permits();
                Check::new(
                    format!("{stack}: every permit back once the stack is dropped"),
                    free == *size,
                    format!("{free} of {size} available"),
                )
            })
            .collect();
        let in_flight = self.adaptive.in_flight();
        checks.push(Check::new(
            "server: adaptive limit empty once the stack is dropped",
            in_flight == 0,
            format!("{in_flight} in flight"),
        ));
        checks
    }
}

/// What a build of a supervised stack gives.
pub(crate) struct Built {
    pub(crate) service: Svc,
    pub(crate) probes: Vec<Probe>,
    pub(crate) churn: Option<client::Churn>,
}

/// A buffer to check at the end: a handle on it (possibly through
/// middleware that only pass readiness on), and its bound.
pub(crate) struct Probe {
    name: &'static str,
    handle: Mutex<Svc>,
    bound: usize,
}

impl Probe {
    pub(crate) fn new(name: &'static str, handle: Svc, bound: usize) -> Self {
        Probe {
            name,
            handle: Mutex::new(handle),
            bound,
        }
    }

    /// Whether `bound` handles can each reserve a place in the queue at
    /// once: no place leaked. A worker may still be taking cancelled
    /// requests off the queue, so this tries for a second.
    pub(crate) async fn bound_is_free(&self) -> Check {
        let name = format!("{}: accepts its full bound again", self.name);
        let template = lock(&self.handle).clone();
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let mut handles: Vec<Svc> = (0..self.bound).map(|_| template.clone()).collect();
            let mut reserved = 0;
            for handle in &mut handles {
                match poll_fn(|cx| Poll::Ready(handle.poll_ready(cx))).await {
                    Poll::Ready(Ok(())) => reserved += 1,
                    Poll::Ready(Err(error)) => {
                        return Check::fail(name, format!("its readiness failed: {error}"));
                    }
                    Poll::Pending => {}
                }
            }
            drop(handles);
            if reserved == self.bound {
                return Check::pass(name, format!("{reserved} of {} places", self.bound));
            }
            if Instant::now() > deadline {
                return Check::fail(
                    name,
                    format!("{reserved} of {} places free after 1 s", self.bound),
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// One build of a supervised stack.
pub(crate) struct Generation {
    pub(crate) number: u64,
    service: Mutex<Svc>,
    /// Set by whoever finds the stack's buffer dead (a caller, the
    /// fallback).
    pub(crate) dead: Arc<AtomicBool>,
    probes: Vec<Probe>,
    pub(crate) churn: Option<Mutex<client::Churn>>,
    /// Requests sent to this build.
    pub(crate) served: AtomicU64,
}

impl Generation {
    pub(crate) fn service(&self) -> Svc {
        lock(&self.service).clone()
    }
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("number", &self.number)
            .field("dead", &self.dead.load(Ordering::Relaxed))
            .field("served", &self.served.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

type Build = Box<dyn Fn(u64, Arc<AtomicBool>) -> Built + Send + Sync>;

/// Keeps one live build of a stack, and builds a new one when the
/// current one is found dead, as a service owner would after its buffer's
/// worker died.
pub(crate) struct Supervisor {
    build: Build,
    current: Mutex<Arc<Generation>>,
    /// The current build's number, read without the lock.
    number: AtomicU64,
}

impl Supervisor {
    pub(crate) fn new(build: Build) -> Self {
        let first = Self::make(&build, 0);
        Supervisor {
            build,
            current: Mutex::new(Arc::new(first)),
            number: AtomicU64::new(0),
        }
    }

    fn make(build: &Build, number: u64) -> Generation {
        let dead = Arc::new(AtomicBool::new(false));
        let built = build(number, Arc::clone(&dead));
        Generation {
            number,
            service: Mutex::new(built.service),
            dead,
            probes: built.probes,
            churn: built.churn.map(Mutex::new),
            served: AtomicU64::new(0),
        }
    }

    /// The current build's number.
    pub(crate) fn number(&self) -> u64 {
        self.number.load(Ordering::Acquire)
    }

    pub(crate) fn current(&self) -> Arc<Generation> {
        Arc::clone(&lock(&self.current))
    }

    /// Replaces `generation` with a new build if it is dead and still
    /// current.
    pub(crate) fn replace_if_dead(&self, generation: &Generation) {
        if !generation.dead.load(Ordering::Acquire) {
            return;
        }
        let mut current = lock(&self.current);
        if current.number == generation.number {
            let next = generation.number + 1;
            *current = Arc::new(Self::make(&self.build, next));
            self.number.store(next, Ordering::Release);
        }
    }

    /// How many times the stack was rebuilt.
    pub(crate) fn rebuilds(&self) -> u64 {
        self.number()
    }

    /// Checks the buffers of the current build (rebuilt first if dead:
    /// a dead buffer has no bound to check).
    pub(crate) async fn check_probes(&self) -> Vec<Check> {
        let current = self.current();
        self.replace_if_dead(&current);
        let current = self.current();
        let mut checks = Vec::new();
        for probe in &current.probes {
            let mut check = probe.bound_is_free().await;
            check.detail.push_str(&format!(
                " (build {}, {} requests)",
                current.number,
                current.served.load(Ordering::Relaxed)
            ));
            checks.push(check);
        }
        checks
    }
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("current", &*lock(&self.current))
            .finish_non_exhaustive()
    }
}

/// A caller's own handles on the stacks: a clone of each, kept between
/// requests and cloned again for each request, as a client or a server
/// connection would; refreshed when a supervised stack is rebuilt.
pub(crate) struct Handles {
    server: Svc,
    pool: [Svc; 2],
    client: (Arc<Generation>, Svc),
    worker: (Arc<Generation>, Svc),
}

impl Handles {
    pub(crate) fn new(stacks: &Stacks) -> Self {
        let client = stacks.client.supervisor.current();
        let worker = stacks.worker.supervisor.current();
        Handles {
            server: stacks.server.service(),
            pool: [stacks.pool.service(0), stacks.pool.service(1)],
            client: (Arc::clone(&client), client.service()),
            worker: (Arc::clone(&worker), worker.service()),
        }
    }

    /// A clone of the stack `plan` goes to, and its build if supervised.
    pub(crate) fn get<'a>(
        &mut self,
        stacks: &'a Stacks,
        plan: &Plan,
    ) -> (Svc, Option<(&'a Supervisor, Arc<Generation>)>) {
        let (cached, supervisor) = match plan.stack {
            StackKind::Server => return (self.server.clone(), None),
            StackKind::Pool => return (self.pool[plan.tenant].clone(), None),
            StackKind::Client => (&mut self.client, &stacks.client.supervisor),
            StackKind::Worker => (&mut self.worker, &stacks.worker.supervisor),
        };
        if cached.0.number != supervisor.number() {
            let current = supervisor.current();
            *cached = (Arc::clone(&current), current.service());
        }
        (cached.1.clone(), Some((supervisor, Arc::clone(&cached.0))))
    }
}
