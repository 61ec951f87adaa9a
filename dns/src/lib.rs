//! Endpoints from DNS for donjon's balancers.
//!
//! [`DnsDiscover`] resolves a name (its A and AAAA records with a port, or
//! its SRV records for ports, priorities and weights), reports the
//! addresses found to a balancer as a [`Discover`](donjon::discover::Discover),
//! and resolves again when the records' TTL runs out (bounded by a minimum
//! and a maximum interval), reporting the addresses that came and went. A
//! failed resolution keeps the endpoints it had; a name that resolves to
//! nothing keeps or drops them, as you choose ([`OnEmpty`]).
//!
//! It resolves with hickory's resolver ([`TokioResolver`](hickory_resolver::TokioResolver),
//! configured from the system or by hand), or with anything that
//! implements [`Resolve`].
//!
//! # Examples
//!
//! ```no_run
//! use donjon::balance::p2c::Balance;
//! use donjon::load::{CompleteOnResponse, PendingRequests};
//! use donjon::{BoxError, ServiceExt, service_fn};
//! use donjon_dns::{DnsDiscover, Endpoint, Query};
//! use hickory_resolver::TokioResolver;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), BoxError> {
//! // The system's resolver configuration (/etc/resolv.conf).
//! let resolver = TokioResolver::builder_tokio()?.build()?;
//! let discover = DnsDiscover::builder(Query::srv("_http._tcp.backend.internal."))
//!     .build(resolver, |endpoint: &Endpoint| {
//!         let addr = endpoint.addr;
//!         // Your client for one endpoint, with a load measure.
//!         let client = service_fn(move |path: String| async move {
//!             Ok::<_, BoxError>(format!("GET http://{addr}{path}"))
//!         });
//!         PendingRequests::new(client, CompleteOnResponse::default())
//!     });
//! let balance = Balance::new(discover);
//! let answer = balance.oneshot("/".to_string()).await?;
//! # drop(answer);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod discover;
mod resolve;

pub use hickory_resolver;

pub use self::discover::{Builder, DnsDiscover, OnEmpty, Status};
pub use self::resolve::{Endpoint, Query, Resolution, Resolve, ResolveError, ResolveFuture};
