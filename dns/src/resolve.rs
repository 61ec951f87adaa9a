//! What is resolved ([`Query`]), what comes back ([`Resolution`],
//! [`Endpoint`]), and who resolves it ([`Resolve`], implemented for
//! hickory's resolver).

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use donjon::BoxError;
use hickory_resolver::TokioResolver;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{RData, RecordType};

/// The name a [`DnsDiscover`](crate::DnsDiscover) follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The A and AAAA records of `host`, each address with `port`.
    Ip {
        /// The name to resolve.
        host: String,
        /// The port every endpoint listens on.
        port: u16,
    },
    /// The SRV records of `name` (`_service._proto.domain`): each target's
    /// addresses, with the record's port, priority and weight.
    Srv {
        /// The service name.
        name: String,
    },
}

impl Query {
    /// The A and AAAA records of `host`, each address with `port`.
    pub fn ip(host: impl Into<String>, port: u16) -> Self {
        Query::Ip {
            host: host.into(),
            port,
        }
    }

    /// The SRV records of `name`.
    pub fn srv(name: impl Into<String>) -> Self {
        Query::Srv { name: name.into() }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Query::Ip { host, port } => write!(f, "{host} (A/AAAA, port {port})"),
            Query::Srv { name } => write!(f, "{name} (SRV)"),
        }
    }
}

/// One address a name resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The SRV record's priority (lower is preferred); 0 for A/AAAA.
    pub priority: u16,
    /// The SRV record's weight among records of one priority; 0 for
    /// A/AAAA.
    pub weight: u16,
}

impl Endpoint {
    /// An endpoint at `addr`, of priority and weight 0 (an A or AAAA
    /// record's).
    pub const fn new(addr: SocketAddr) -> Self {
        Endpoint {
            addr,
            priority: 0,
            weight: 0,
        }
    }
}

/// What a name resolved to: its endpoints (none if the name has no records
/// of the kind asked for, or does not exist) and how long the answer may be
/// kept (the least of the records' TTLs; for an empty answer, the negative
/// caching time if the server gave one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The endpoints, in no particular order.
    pub endpoints: Vec<Endpoint>,
    /// How long the answer is good for.
    pub ttl: Duration,
}

/// A resolution that failed (the server did not answer, refused, or sent
/// garbage): not the same as a name with no records, which is an empty
/// [`Resolution`].
pub type ResolveError = BoxError;

/// The future of a [`Resolve`].
pub type ResolveFuture = Pin<Box<dyn Future<Output = Result<Resolution, ResolveError>> + Send>>;

/// Something that resolves a [`Query`]: hickory's resolver (the
/// [`TokioResolver`] implementation, with whatever configuration it was
/// built with), or your own (a test double, a cache in front).
pub trait Resolve: Send + Sync + 'static {
    /// Resolves `query`.
    fn resolve(&self, query: &Query) -> ResolveFuture;
}

impl<F> Resolve for F
where
    F: Fn(&Query) -> ResolveFuture + Send + Sync + 'static,
{
    fn resolve(&self, query: &Query) -> ResolveFuture {
        self(query)
    }
}

/// The TTL of a name without records, when the server gave no negative
/// caching time: the caller clamps it to its own bounds.
const NO_RECORDS_TTL: Duration = Duration::ZERO;

impl Resolve for TokioResolver {
    /// A/AAAA through `lookup_ip`; SRV through a lookup of the SRV records,
    /// then `lookup_ip` of each target (a target without addresses adds
    /// nothing; a target whose lookup fails fails the resolution, so that
    /// a partial answer never removes endpoints).
    fn resolve(&self, query: &Query) -> ResolveFuture {
        let resolver = self.clone();
        let query = query.clone();
        Box::pin(async move {
            match query {
                Query::Ip { host, port } => {
                    let (addresses, ttl) = match lookup_ip(&resolver, &host).await? {
                        Some(found) => found,
                        None => return Ok(no_records()),
                    };
                    Ok(Resolution {
                        endpoints: addresses
                            .into_iter()
                            .map(|ip| Endpoint::new(SocketAddr::new(ip, port)))
                            .collect(),
                        ttl,
                    })
                }
                Query::Srv { name } => resolve_srv(&resolver, &name).await,
            }
        })
    }
}

/// An answer with no endpoint.
fn no_records() -> Resolution {
    Resolution {
        endpoints: Vec::new(),
        ttl: NO_RECORDS_TTL,
    }
}

/// The addresses of `host` and the least TTL of their records; `None` if
/// it has none.
async fn lookup_ip(
    resolver: &TokioResolver,
    host: &str,
) -> Result<Option<(BTreeSet<IpAddr>, Duration)>, ResolveError> {
    match resolver.lookup_ip(host).await {
        Ok(found) => {
            let ttl = least_ttl(found.as_lookup().answers().iter().map(|record| record.ttl));
            let addresses: BTreeSet<IpAddr> = found.iter().collect();
            Ok((!addresses.is_empty()).then_some((addresses, ttl)))
        }
        Err(error) if no_records_error(&error) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

async fn resolve_srv(resolver: &TokioResolver, name: &str) -> Result<Resolution, ResolveError> {
    let lookup = match resolver.lookup(name, RecordType::SRV).await {
        Ok(lookup) => lookup,
        Err(error) if no_records_error(&error) => return Ok(no_records()),
        Err(error) => return Err(error.into()),
    };
    let mut ttl = least_ttl(lookup.answers().iter().map(|record| record.ttl));
    let mut endpoints = Vec::new();
    for record in lookup.answers() {
        let RData::SRV(srv) = &record.data else {
            continue;
        };
        let target = srv.target.to_ascii();
        if let Some((addresses, target_ttl)) = lookup_ip(resolver, &target).await? {
            ttl = ttl.min(target_ttl);
            endpoints.extend(addresses.into_iter().map(|ip| Endpoint {
                addr: SocketAddr::new(ip, srv.port),
                priority: srv.priority,
                weight: srv.weight,
            }));
        }
    }
    Ok(Resolution { endpoints, ttl })
}

/// Whether `error` says the name has no records (or does not exist).
fn no_records_error(error: &NetError) -> bool {
    error.is_no_records_found() || error.is_nx_domain()
}

/// The least of `ttls`, in seconds; zero if there is none.
fn least_ttl(ttls: impl Iterator<Item = u32>) -> Duration {
    Duration::from_secs(ttls.min().map_or(0, u64::from))
}
