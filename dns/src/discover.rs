//! [`DnsDiscover`]: the stream of changes a balancer reads, and its
//! [`Builder`].

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use donjon::discover::Change;
use futures_core::Stream;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use crate::resolve::{Endpoint, Query, Resolution, Resolve, ResolveError, ResolveFuture};

/// What a [`DnsDiscover`] does when the name resolves to nothing (it has no
/// records of the kind asked for, or does not exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnEmpty {
    /// Keep the endpoints it has (the default): an empty answer during a
    /// redeployment or a zone mistake does not take every endpoint away.
    #[default]
    Keep,
    /// Remove every endpoint: the name's owner said there are none.
    Drop,
}

/// Figures on a [`DnsDiscover`]'s resolutions, for health checks and
/// tests: see [`DnsDiscover::status`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Resolutions that answered (with endpoints or without).
    pub resolved: u64,
    /// Answers without any endpoint.
    pub empty: u64,
    /// Resolutions that failed.
    pub failed: u64,
    /// The endpoints reported to the balancer now.
    pub endpoints: usize,
    /// The last failure's message, until a resolution answers again.
    pub last_error: Option<String>,
}

/// How a [`DnsDiscover`] is set up: see [`DnsDiscover::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    query: Query,
    min_interval: Duration,
    max_interval: Duration,
    retry_interval: Option<Duration>,
    on_empty: OnEmpty,
    all_priorities: bool,
}

impl Builder {
    /// Looks again no sooner than `min` after an answer, whatever its TTL
    /// (default: 1 second), so that a TTL of 0 does not make it spin.
    pub fn min_interval(mut self, min: Duration) -> Self {
        self.min_interval = min;
        self
    }

    /// Looks again no later than `max` after an answer, whatever its TTL
    /// (default: 5 minutes), so that a long TTL does not hide changes for
    /// hours.
    pub fn max_interval(mut self, max: Duration) -> Self {
        self.max_interval = max;
        self
    }

    /// After a failed resolution, tries again after `retry` (default: the
    /// minimum interval).
    pub fn retry_interval(mut self, retry: Duration) -> Self {
        self.retry_interval = Some(retry);
        self
    }

    /// What to do when the name resolves to nothing (default:
    /// [`OnEmpty::Keep`]).
    pub fn on_empty(mut self, on_empty: OnEmpty) -> Self {
        self.on_empty = on_empty;
        self
    }

    /// For SRV, reports the targets of every priority, not only of the
    /// lowest (the preferred ones, which RFC 2782 says to use while any
    /// is there; the default).
    pub fn all_priorities(mut self, all: bool) -> Self {
        self.all_priorities = all;
        self
    }

    /// The discovery, resolving with `resolver` and making each endpoint's
    /// service with `make`.
    ///
    /// It resolves when first polled, then as the answer's TTL (bounded by
    /// the minimum and maximum intervals) runs out. It needs a tokio
    /// runtime with its time driver.
    ///
    /// # Panics
    ///
    /// If the minimum interval is longer than the maximum.
    pub fn build<R, M, S>(self, resolver: R, make: M) -> DnsDiscover<S, M, R>
    where
        R: Resolve,
        M: FnMut(&Endpoint) -> S,
    {
        assert!(
            self.min_interval <= self.max_interval,
            "a DnsDiscover's minimum interval ({:?}) must not be longer than its maximum ({:?})",
            self.min_interval,
            self.max_interval
        );
        let (status, _) = watch::channel(Status::default());
        DnsDiscover {
            config: self,
            resolver: Arc::new(resolver),
            make,
            known: HashMap::new(),
            changes: VecDeque::new(),
            lookup: None,
            next: Instant::now(),
            timer: None,
            status,
            failing: false,
        }
    }
}

/// Endpoints from DNS: a [`Discover`](donjon::discover::Discover) (a stream
/// of [`Change`]s keyed by address) that resolves a [`Query`], reports the
/// endpoints found as insertions, resolves again when the answer's TTL runs
/// out (no sooner than the minimum interval, no later than the maximum),
/// and reports what changed: new addresses inserted, gone ones removed, and
/// an address whose SRV priority or weight changed inserted again (the
/// balancer replaces its service).
///
/// A failed resolution keeps the endpoints (it is reported through
/// `tracing` and [`status`](Self::status), and retried after the retry
/// interval); an answer without endpoints keeps them or removes them, as
/// [`OnEmpty`] says. The stream never ends and never fails, so a balancer
/// over it keeps serving whatever DNS does.
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::Duration;
/// use donjon::balance::p2c::Balance;
/// use donjon::load::Constant;
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon_dns::{DnsDiscover, Endpoint, Query, Resolution, ResolveFuture};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// // A resolver of your own (hickory's `TokioResolver` implements `Resolve`
/// // too): here, two fixed addresses good for 30 seconds.
/// let resolver = |_: &Query| -> ResolveFuture {
///     Box::pin(async {
///         Ok(Resolution {
///             endpoints: vec![
///                 Endpoint::new("10.0.0.1:8080".parse().unwrap()),
///                 Endpoint::new("10.0.0.2:8080".parse().unwrap()),
///             ],
///             ttl: Duration::from_secs(30),
///         })
///     })
/// };
/// let discover = DnsDiscover::builder(Query::ip("backend.internal.", 8080)).build(
///     resolver,
///     |endpoint: &Endpoint| {
///         let addr = endpoint.addr;
///         Constant::new(service_fn(move |()| async move { Ok::<_, BoxError>(addr) }), 1)
///     },
/// );
/// let status = discover.status();
/// let answer: SocketAddr = Balance::new(discover).oneshot(()).await?;
/// assert!(answer.port() == 8080);
/// assert_eq!(status.borrow().endpoints, 2);
/// # Ok(())
/// # }
/// ```
///
/// # Events
///
/// - `debug` `dns discovery: endpoints changed`, with `query`, `inserted`,
///   `removed` and `endpoints`, after each resolution that changed them;
/// - `warn` `dns discovery: resolution failed, keeping the endpoints`,
///   with `query`, `error` and `endpoints`, once per run of failures
///   (`debug` for the ones after it), and `info` `dns discovery: resolving
///   again` when one answers after a failure;
/// - `info` `dns discovery: the name resolved to nothing`, with `query`,
///   `endpoints` (kept or removed, as [`OnEmpty`] says) and `kept`.
pub struct DnsDiscover<S, M, R> {
    config: Builder,
    resolver: Arc<R>,
    make: M,
    /// The endpoints reported, by address.
    known: HashMap<SocketAddr, Endpoint>,
    /// Changes found and not yet handed out.
    changes: VecDeque<Change<SocketAddr, S>>,
    /// The resolution in flight.
    lookup: Option<ResolveFuture>,
    /// When to resolve next.
    next: Instant,
    /// The timer for `next`, made on the first poll (which runs in a
    /// runtime) and reset after each resolution.
    timer: Option<Pin<Box<Sleep>>>,
    status: watch::Sender<Status>,
    /// The last resolution failed.
    failing: bool,
}

impl DnsDiscover<(), (), ()> {
    /// A builder for a discovery of `query`, with the default intervals
    /// (TTLs bounded by 1 second and 5 minutes, retries after 1 second)
    /// and [`OnEmpty::Keep`].
    pub fn builder(query: Query) -> Builder {
        Builder {
            query,
            min_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(300),
            retry_interval: None,
            on_empty: OnEmpty::Keep,
            all_priorities: false,
        }
    }
}

impl<S, M, R> DnsDiscover<S, M, R> {
    /// Figures on its resolutions, updated after each: how many answered,
    /// came back empty or failed, how many endpoints are reported, the
    /// last error. Wait on it (`changed`, `wait_for`) to learn of a
    /// resolution without polling the discovery.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    /// The query it follows.
    pub fn query(&self) -> &Query {
        &self.config.query
    }
}

impl<S, M, R> DnsDiscover<S, M, R>
where
    R: Resolve,
    M: FnMut(&Endpoint) -> S,
{
    /// Takes in the outcome of a resolution: the changes to report, and
    /// when to resolve next.
    fn resolved(&mut self, outcome: Result<Resolution, ResolveError>) {
        let now = Instant::now();
        match outcome {
            Ok(resolution) => {
                let wait = resolution
                    .ttl
                    .clamp(self.config.min_interval, self.config.max_interval);
                self.next = now + wait;
                if std::mem::take(&mut self.failing) {
                    tracing::info!(query = %self.config.query, "dns discovery: resolving again");
                }
                self.answered(resolution);
            }
            Err(error) => {
                let retry = self.config.retry_interval;
                self.next = now + retry.unwrap_or(self.config.min_interval);
                let endpoints = self.known.len();
                if std::mem::replace(&mut self.failing, true) {
                    tracing::debug!(
                        query = %self.config.query,
                        %error,
                        endpoints,
                        "dns discovery: resolution failed, keeping the endpoints"
                    );
                } else {
                    tracing::warn!(
                        query = %self.config.query,
                        %error,
                        endpoints,
                        "dns discovery: resolution failed, keeping the endpoints"
                    );
                }
                self.status.send_modify(|status| {
                    status.failed += 1;
                    status.last_error = Some(error.to_string());
                });
            }
        }
    }

    /// Reports what changed between the endpoints known and `resolution`.
    fn answered(&mut self, resolution: Resolution) {
        let mut endpoints = resolution.endpoints;
        if !self.config.all_priorities
            && let Some(lowest) = endpoints.iter().map(|endpoint| endpoint.priority).min()
        {
            endpoints.retain(|endpoint| endpoint.priority == lowest);
        }
        let empty = endpoints.is_empty();
        let (mut inserted, mut removed) = (0, 0);
        if empty {
            let kept = self.config.on_empty == OnEmpty::Keep;
            if !kept {
                for addr in self.known.drain().map(|(addr, _)| addr) {
                    self.changes.push_back(Change::Remove(addr));
                    removed += 1;
                }
            }
            tracing::info!(
                query = %self.config.query,
                endpoints = self.known.len(),
                kept,
                "dns discovery: the name resolved to nothing"
            );
        } else {
            let mut found: HashMap<SocketAddr, Endpoint> = HashMap::with_capacity(endpoints.len());
            for endpoint in endpoints {
                // Two records for one address: the preferred one counts.
                found
                    .entry(endpoint.addr)
                    .and_modify(|kept| *kept = (*kept).min(endpoint))
                    .or_insert(endpoint);
            }
            let gone: Vec<SocketAddr> = self
                .known
                .keys()
                .filter(|addr| !found.contains_key(addr))
                .copied()
                .collect();
            for addr in gone {
                self.known.remove(&addr);
                self.changes.push_back(Change::Remove(addr));
                removed += 1;
            }
            let mut fresh: Vec<Endpoint> = found
                .into_values()
                .filter(|endpoint| self.known.get(&endpoint.addr) != Some(endpoint))
                .collect();
            fresh.sort_unstable();
            for endpoint in fresh {
                self.known.insert(endpoint.addr, endpoint);
                self.changes
                    .push_back(Change::Insert(endpoint.addr, (self.make)(&endpoint)));
                inserted += 1;
            }
        }
        if inserted + removed > 0 {
            tracing::debug!(
                query = %self.config.query,
                inserted,
                removed,
                endpoints = self.known.len(),
                "dns discovery: endpoints changed"
            );
        }
        let endpoints = self.known.len();
        self.status.send_modify(|status| {
            status.resolved += 1;
            status.empty += u64::from(empty);
            status.endpoints = endpoints;
            status.last_error = None;
        });
    }
}

impl<S, M, R> Stream for DnsDiscover<S, M, R>
where
    R: Resolve,
    M: FnMut(&Endpoint) -> S,
{
    type Item = Result<Change<SocketAddr, S>, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(change) = this.changes.pop_front() {
                return Poll::Ready(Some(Ok(change)));
            }
            if let Some(lookup) = &mut this.lookup {
                let outcome = ready!(lookup.as_mut().poll(cx));
                this.lookup = None;
                this.resolved(outcome);
                continue;
            }
            let next = this.next;
            let timer = this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(next)));
            if timer.deadline() != next {
                timer.as_mut().reset(next);
            }
            ready!(timer.as_mut().poll(cx));
            this.lookup = Some(this.resolver.resolve(&this.config.query));
        }
    }
}

impl<S, M, R> Unpin for DnsDiscover<S, M, R> {}

impl<S, M, R> fmt::Debug for DnsDiscover<S, M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsDiscover")
            .field("query", &self.config.query)
            .field("endpoints", &self.known.len())
            .field("resolving", &self.lookup.is_some())
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}
