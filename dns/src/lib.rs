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
//! A p2c balancer over the SRV records of `_http._tcp.backend.test.`, here
//! served by the test DNS server of `donjon-test` (in production, build
//! the resolver from the system's configuration with
//! `TokioResolver::builder_tokio()?.build()?`, feature `system-config`):
//!
//! ```
//! use std::time::Duration;
//! use donjon::balance::p2c::Balance;
//! use donjon::load::{CompleteOnResponse, PendingRequests};
//! use donjon::{BoxError, ServiceExt, service_fn};
//! use donjon_dns::{DnsDiscover, Endpoint, Query};
//! use donjon_test::dns::{DnsServer, Srv};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let dns = DnsServer::start().await;
//! dns.add_ip("api-1.test.", "127.0.0.1".parse()?, 30).await;
//! let srv = Srv { priority: 10, weight: 1, port: 8080, target: "api-1.test." };
//! dns.add_srv("_http._tcp.backend.test.", srv, 30).await;
//!
//! let discover = DnsDiscover::builder(Query::srv("_http._tcp.backend.test."))
//!     .build(dns.resolver(Duration::from_secs(1)), |endpoint: &Endpoint| {
//!         let addr = endpoint.addr;
//!         // Your client for one endpoint (an HTTP client to `addr`), with
//!         // a load measure.
//!         let client = service_fn(move |path: &'static str| async move {
//!             Ok::<_, BoxError>(format!("GET http://{addr}{path}"))
//!         });
//!         PendingRequests::new(client, CompleteOnResponse::default())
//!     });
//! let balance = Balance::new(discover);
//! assert_eq!(balance.oneshot("/").await?, "GET http://127.0.0.1:8080/");
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
