//! `DnsDiscover` over hickory's resolver against a real DNS server on
//! loopback (hickory's, in process, started by each test): records added,
//! removed and changed while it runs reach the discovery and a p2c
//! balancer over it; the TTL the server gives decides when it looks again;
//! the server going away keeps the endpoints. On tokio's paused clock: the
//! server answers over real UDP on loopback within the runtime, so that
//! time only moves to the next timer.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use donjon::balance::p2c::Balance;
use donjon::discover::Change;
use donjon::load::Constant;
use donjon::{BoxError, Service, ServiceExt, service_fn};
use donjon_dns::{DnsDiscover, Endpoint, Query, Resolution, Resolve, Status};
use futures::StreamExt;
use tokio::sync::{mpsc, watch};

use donjon_dns::hickory_resolver::TokioResolver;
use donjon_test::dns::{DnsServer, Srv};

fn ip(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// How long a test waits for what it expects before failing with a
/// message: every test runs on tokio's paused clock, where time only moves
/// to the next timer (the discovery's next lookup, the resolver's
/// timeout), so it is never reached when all is well.
const PATIENCE: Duration = Duration::from_secs(3_600);

/// Waits for `status` to satisfy `check`, failing the test with `what`.
async fn wait_for(
    status: &mut watch::Receiver<Status>,
    what: &str,
    check: impl FnMut(&Status) -> bool,
) -> Status {
    let waited = tokio::time::timeout(PATIENCE, async {
        status.wait_for(check).await.map(|status| status.clone())
    })
    .await;
    match waited {
        Ok(status) => status.expect("the discovery lives"),
        Err(_) => panic!("gave up waiting for {what}: {:?}", *status.borrow()),
    }
}

/// A discovery of `svc.test.` (port 8080) at `server`, looking again every
/// 20 ms (its records' TTL is 0), whose resolver gives up after `timeout`.
fn follow(
    server: &DnsServer,
    timeout: Duration,
) -> DnsDiscover<SocketAddr, fn(&Endpoint) -> SocketAddr, TokioResolver> {
    DnsDiscover::builder(Query::ip("svc.test.", 8080))
        .min_interval(Duration::from_millis(20))
        .build(server.resolver(timeout), |endpoint: &Endpoint| {
            endpoint.addr
        })
}

/// Drives `discovery` in a task, sending its changes (as insert flag and
/// address) into the returned channel.
fn drive<S: Send + 'static, M, R>(
    mut discovery: DnsDiscover<S, M, R>,
) -> mpsc::UnboundedReceiver<(bool, SocketAddr)>
where
    M: FnMut(&Endpoint) -> S + Send + 'static,
    R: Resolve,
{
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(change)) = discovery.next().await {
            let shown = match change {
                Change::Insert(addr, _) => (true, addr),
                Change::Remove(addr) => (false, addr),
            };
            if sender.send(shown).is_err() {
                return;
            }
        }
    });
    receiver
}

async fn next_change(
    changes: &mut mpsc::UnboundedReceiver<(bool, SocketAddr)>,
) -> (bool, SocketAddr) {
    tokio::time::timeout(PATIENCE, changes.recv())
        .await
        .expect("gave up waiting for a change")
        .expect("the discovery lives")
}

#[tokio::test(start_paused = true)]
async fn the_resolver_reads_the_servers_addresses_srv_records_and_ttls() {
    let server = DnsServer::start().await;
    server.add_ip("a.test.", ip(5), 42).await;
    server.add_ip("a.test.", ip(6), 42).await;
    server.add_ip("b.test.", ip(7), 90).await;
    let srv = |priority, weight, port, target| Srv {
        priority,
        weight,
        port,
        target,
    };
    server
        .add_srv("_http._tcp.svc.test.", srv(10, 5, 9000, "a.test."), 30)
        .await;
    server
        .add_srv("_http._tcp.svc.test.", srv(20, 1, 9001, "b.test."), 30)
        .await;
    let resolver = server.resolver(Duration::from_secs(5));

    let mut found = resolver
        .resolve(&Query::ip("a.test.", 80))
        .await
        .expect("answered");
    found.endpoints.sort();
    assert_eq!(
        found,
        Resolution {
            endpoints: vec![
                Endpoint::new(SocketAddr::new(ip(5), 80)),
                Endpoint::new(SocketAddr::new(ip(6), 80)),
            ],
            ttl: Duration::from_secs(42),
        }
    );

    let mut srv = resolver
        .resolve(&Query::srv("_http._tcp.svc.test."))
        .await
        .expect("answered");
    srv.endpoints.sort();
    assert_eq!(srv.endpoints.len(), 3);
    assert!(srv.endpoints.contains(&Endpoint {
        addr: SocketAddr::new(ip(5), 9000),
        priority: 10,
        weight: 5
    }));
    assert!(srv.endpoints.contains(&Endpoint {
        addr: SocketAddr::new(ip(7), 9001),
        priority: 20,
        weight: 1
    }));
    assert_eq!(
        srv.ttl,
        Duration::from_secs(30),
        "the least of the SRV and address TTLs"
    );

    let none = resolver
        .resolve(&Query::ip("nothing.test.", 80))
        .await
        .expect("an answer, empty");
    assert!(none.endpoints.is_empty());
}

#[tokio::test(start_paused = true)]
async fn records_added_removed_and_changed_on_the_server_reach_the_discovery() {
    let server = DnsServer::start().await;
    server.add_ip("svc.test.", ip(1), 0).await;
    let discovery = follow(&server, Duration::from_secs(5));
    let mut changes = drive(discovery);
    let at = |last| SocketAddr::new(ip(last), 8080);

    assert_eq!(next_change(&mut changes).await, (true, at(1)));
    server.add_ip("svc.test.", ip(2), 0).await;
    assert_eq!(next_change(&mut changes).await, (true, at(2)));

    // Replaced: the set now holds 127.0.0.3 only.
    server.remove_ip("svc.test.").await;
    server.add_ip("svc.test.", ip(3), 0).await;
    let mut replaced = BTreeSet::new();
    for _ in 0..3 {
        replaced.insert(next_change(&mut changes).await);
    }
    assert_eq!(
        replaced,
        BTreeSet::from([(false, at(1)), (false, at(2)), (true, at(3))])
    );
}

#[tokio::test(start_paused = true)]
async fn the_server_going_away_keeps_the_last_endpoints() {
    let server = DnsServer::start().await;
    server.add_ip("svc.test.", ip(1), 0).await;
    let discovery = follow(&server, Duration::from_millis(200));
    let mut status = discovery.status();
    let mut changes = drive(discovery);
    assert_eq!(
        next_change(&mut changes).await,
        (true, SocketAddr::new(ip(1), 8080))
    );

    server.stop();
    let failing = wait_for(&mut status, "two failed resolutions", |status| {
        status.failed >= 2
    })
    .await;
    assert_eq!(failing.endpoints, 1, "the endpoint is kept");
    assert!(failing.last_error.is_some());
    assert!(changes.try_recv().is_err(), "nothing was removed");
}

#[tokio::test(start_paused = true)]
async fn a_balancer_over_the_discovery_follows_the_servers_records() {
    let server = DnsServer::start().await;
    server.add_ip("svc.test.", ip(1), 0).await;
    let discovery = DnsDiscover::builder(Query::ip("svc.test.", 8080))
        .min_interval(Duration::from_millis(20))
        .build(
            server.resolver(Duration::from_secs(5)),
            |endpoint: &Endpoint| {
                let addr = endpoint.addr;
                Constant::new(
                    service_fn(move |()| async move { Ok::<_, BoxError>(addr) }),
                    1,
                )
            },
        );
    let mut status = discovery.status();
    let mut balance = Balance::new(discovery);

    // Sends requests (which drive the discovery) until `check` holds of
    // the status, then `count` more; returns the addresses that answered.
    async fn answers<B: Service<(), Response = SocketAddr, Error = BoxError>>(
        balance: &mut B,
        status: &mut watch::Receiver<Status>,
        check: impl Fn(&Status) -> bool,
        count: usize,
    ) -> BTreeSet<SocketAddr> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !check(&status.borrow()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "gave up: {:?}",
                *status.borrow()
            );
            balance.ready().await.unwrap().call(()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // One more readiness takes in what the last resolution reported.
        balance.ready().await.unwrap();
        let mut seen = BTreeSet::new();
        for _ in 0..count {
            seen.insert(balance.ready().await.unwrap().call(()).await.unwrap());
        }
        seen
    }

    let at = |last| SocketAddr::new(ip(last), 8080);
    let seen = answers(
        &mut balance,
        &mut status,
        |status| status.endpoints == 1,
        10,
    )
    .await;
    assert_eq!(seen, BTreeSet::from([at(1)]));

    server.add_ip("svc.test.", ip(2), 0).await;
    // Two endpoints of equal load: 60 requests all to one of them has a
    // chance of 2^-59.
    let seen = answers(
        &mut balance,
        &mut status,
        |status| status.endpoints == 2,
        60,
    )
    .await;
    assert_eq!(seen, BTreeSet::from([at(1), at(2)]));

    server.remove_ip("svc.test.").await;
    server.add_ip("svc.test.", ip(2), 0).await;
    let seen = answers(
        &mut balance,
        &mut status,
        |status| status.endpoints == 1 && status.resolved >= 3,
        20,
    )
    .await;
    assert_eq!(seen, BTreeSet::from([at(2)]), "127.0.0.1 is gone");
}

#[tokio::test(start_paused = true)]
async fn the_servers_ttl_decides_when_it_looks_again() {
    let server = DnsServer::start().await;
    server.add_ip("svc.test.", ip(1), 30).await;
    let discovery = DnsDiscover::builder(Query::ip("svc.test.", 8080)).build(
        server.resolver(Duration::from_secs(5)),
        |endpoint: &Endpoint| endpoint.addr,
    );
    let mut changes = drive(discovery);
    let start = tokio::time::Instant::now();
    assert_eq!(
        next_change(&mut changes).await,
        (true, SocketAddr::new(ip(1), 8080))
    );
    server.add_ip("svc.test.", ip(2), 30).await;
    // The answer at 0 said 30 s: the new record is seen at 30 s, not
    // before.
    assert_eq!(
        next_change(&mut changes).await,
        (true, SocketAddr::new(ip(2), 8080))
    );
    assert_eq!(tokio::time::Instant::now() - start, Duration::from_secs(30));
}
