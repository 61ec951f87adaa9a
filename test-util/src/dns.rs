//! A real DNS server for tests: hickory's, in process, authoritative for
//! the zone `test.`, answering over UDP on a free loopback port, with
//! records a test adds and removes while it runs.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon_test::dns::DnsServer;
//! use hickory_resolver::TokioResolver;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = DnsServer::start().await;
//! server.add_ip("db.test.", "127.0.0.7".parse().unwrap(), 30).await;
//! let resolver: TokioResolver = server.resolver(Duration::from_secs(1));
//! let found = resolver.lookup_ip("db.test.").await.unwrap();
//! assert_eq!(found.iter().collect::<Vec<_>>(), ["127.0.0.7".parse::<std::net::IpAddr>().unwrap()]);
//! # }
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_server::Server;
use hickory_server::proto::rr::rdata::{A, AAAA, SOA, SRV};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

pub use hickory_resolver;

/// The zone the server answers for: every name a test uses ends in it.
pub const ZONE: &str = "test.";

/// A DNS server on loopback, authoritative for [`ZONE`], stopped when
/// dropped.
pub struct DnsServer {
    addr: SocketAddr,
    zone: Arc<InMemoryZoneHandler<TokioRuntimeProvider>>,
    task: JoinHandle<()>,
}

/// `name` as a DNS name.
///
/// # Panics
///
/// If it is not one.
fn name(name: &str) -> Name {
    Name::from_ascii(name).unwrap_or_else(|error| panic!("{name:?} is not a DNS name: {error}"))
}

impl DnsServer {
    /// Starts a server on a free loopback port, in a task of the current
    /// runtime, with no record but the zone's SOA.
    ///
    /// # Panics
    ///
    /// If no loopback UDP port can be bound (the message says so), or
    /// outside a tokio runtime.
    pub async fn start() -> DnsServer {
        let origin = name(ZONE);
        let mut zone =
            InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        let soa = SOA::new(name("ns.test."), name("admin.test."), 1, 60, 60, 60, 0);
        assert!(
            zone.upsert_mut(Record::from_rdata(origin.clone(), 60, RData::SOA(soa)), 1),
            "the zone takes its SOA record"
        );
        let zone = Arc::new(zone);
        let mut catalog = Catalog::new();
        catalog.upsert(LowerName::new(&origin), vec![zone.clone()]);
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| {
                panic!("the test DNS server cannot bind a loopback UDP port: {error}")
            });
        let addr = socket.local_addr().expect("a bound socket has an address");
        let mut server = Server::new(catalog);
        server.register_socket(socket);
        let task = tokio::spawn(async move {
            let _ = server.block_until_done().await;
        });
        DnsServer { addr, zone, task }
    }

    /// The address it answers on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A resolver that asks this server only, over UDP, caches nothing,
    /// reads no hosts file, and gives up on a query unanswered after
    /// `timeout` (one attempt).
    pub fn resolver(&self, timeout: Duration) -> TokioResolver {
        let mut connection = ConnectionConfig::udp();
        connection.port = self.addr.port();
        let server = NameServerConfig::new(self.addr.ip(), true, vec![connection]);
        let mut options = ResolverOpts::default();
        options.cache_size = 0;
        options.timeout = timeout;
        options.attempts = 1;
        options.use_hosts_file = ResolveHosts::Never;
        TokioResolver::builder_with_config(
            ResolverConfig::from_name_servers(vec![server]),
            TokioRuntimeProvider::default(),
        )
        .with_options(options)
        .build()
        .expect("a resolver for the test server")
    }

    /// Adds an A (or AAAA) record `host` → `ip`, with a TTL of `ttl`
    /// seconds (the TTL of every record of `host` of that kind).
    pub async fn add_ip(&self, host: &str, ip: IpAddr, ttl: u32) {
        let rdata = match ip {
            IpAddr::V4(ip) => RData::A(A(ip)),
            IpAddr::V6(ip) => RData::AAAA(AAAA(ip)),
        };
        let added = self
            .zone
            .upsert(Record::from_rdata(name(host), ttl, rdata), 2)
            .await;
        assert!(added, "the zone takes {host} → {ip}");
    }

    /// Adds an SRV record `service` → `target:port`.
    pub async fn add_srv(&self, service: &str, srv: Srv<'_>, ttl: u32) {
        let rdata = RData::SRV(SRV::new(
            srv.priority,
            srv.weight,
            srv.port,
            name(srv.target),
        ));
        let added = self
            .zone
            .upsert(Record::from_rdata(name(service), ttl, rdata), 2)
            .await;
        assert!(added, "the zone takes the SRV record of {service}");
    }

    /// Removes every A and AAAA record of `host`.
    pub async fn remove_ip(&self, host: &str) {
        self.remove(host, RecordType::A).await;
        self.remove(host, RecordType::AAAA).await;
    }

    /// Removes every SRV record of `service`.
    pub async fn remove_srv(&self, service: &str) {
        self.remove(service, RecordType::SRV).await;
    }

    async fn remove(&self, host: &str, kind: RecordType) {
        let key = RrKey::new(LowerName::new(&name(host)), kind);
        self.zone.records_mut().await.remove(&key);
    }

    /// Stops answering: queries go unanswered from now on, and time out.
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// An SRV record's data, for [`DnsServer::add_srv`].
#[derive(Debug, Clone, Copy)]
pub struct Srv<'a> {
    /// Lower is preferred.
    pub priority: u16,
    /// The share among records of one priority.
    pub weight: u16,
    /// The target's port.
    pub port: u16,
    /// The target host, with A or AAAA records of its own.
    pub target: &'a str,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for DnsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
