//! A real DNS server for the tests: hickory's, authoritative for `test.`,
//! answering over UDP on a free loopback port, with records the tests
//! change while it runs.
#![allow(dead_code, reason = "each test file uses its own subset")]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use donjon_dns::hickory_resolver::TokioResolver;
use donjon_dns::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use donjon_dns::hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_server::Server;
use hickory_server::proto::rr::rdata::{A, AAAA, SOA, SRV};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// The zone the server is authoritative for.
pub(crate) const ZONE: &str = "test.";

/// A DNS server on loopback, serving the zone [`ZONE`].
pub(crate) struct DnsServer {
    pub(crate) addr: SocketAddr,
    zone: Arc<InMemoryZoneHandler<TokioRuntimeProvider>>,
    task: JoinHandle<()>,
}

fn name(name: &str) -> Name {
    Name::from_ascii(name).expect("a valid name")
}

impl DnsServer {
    /// Starts a server, failing the test with a message if it cannot bind
    /// a loopback port.
    pub(crate) async fn start() -> DnsServer {
        let origin = name(ZONE);
        let mut zone =
            InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        let soa = SOA::new(name("ns.test."), name("admin.test."), 1, 60, 60, 60, 0);
        assert!(zone.upsert_mut(Record::from_rdata(origin.clone(), 60, RData::SOA(soa)), 1));
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

    /// A resolver that asks only this server, over UDP, caching nothing
    /// and giving up on an unanswered query after `timeout`.
    pub(crate) fn resolver(&self, timeout: Duration) -> TokioResolver {
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

    /// Adds an A or AAAA record `host` → `ip` with `ttl` seconds.
    pub(crate) async fn add_ip(&self, host: &str, ip: IpAddr, ttl: u32) {
        let rdata = match ip {
            IpAddr::V4(ip) => RData::A(A(ip)),
            IpAddr::V6(ip) => RData::AAAA(AAAA(ip)),
        };
        assert!(
            self.zone
                .upsert(Record::from_rdata(name(host), ttl, rdata), 2)
                .await
        );
    }

    /// Adds an SRV record `service` → `target:port`.
    pub(crate) async fn add_srv(
        &self,
        service: &str,
        priority: u16,
        weight: u16,
        port: u16,
        target: &str,
        ttl: u32,
    ) {
        let srv = SRV::new(priority, weight, port, name(target));
        assert!(
            self.zone
                .upsert(Record::from_rdata(name(service), ttl, RData::SRV(srv)), 2)
                .await
        );
    }

    /// Removes every record of `kind` of `host`.
    pub(crate) async fn remove(&self, host: &str, kind: RecordType) {
        let key = RrKey::new(LowerName::new(&name(host)), kind);
        self.zone.records_mut().await.remove(&key);
    }

    /// Stops answering: the port is closed.
    pub(crate) fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
