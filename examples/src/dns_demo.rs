//! A p2c client over HTTP backends it finds in DNS, riding through one
//! backend failing and a new one joining.
//!
//! Three HTTP backends (`a`, `b`, `c`) on loopback answer in about 5 ms. A
//! DNS server (hickory's, in process, on loopback) lists them as the SRV
//! records of `_http._tcp.backends.test.`, with a TTL of one second. The
//! client's endpoints come from [`DnsDiscover`], each wrapped, from the
//! inside out, by:
//!
//! - outlier detection ([`OutlierDetection`]): five 5xx answers in a row
//!   eject the endpoint for 30 seconds (it is not ready, so p2c skips it);
//! - a peak-EWMA latency measure, which p2c compares;
//! - slow start ([`SlowStart`]): an endpoint added after the first ones
//!   takes its share over a window of `slow_start` instead of at once.
//!
//! The run has three phases of `requests_per_phase` requests each: all
//! healthy; `c` answering every request with a 500, at once (which peak
//! EWMA alone would take for a fast backend); and a fourth backend `d`
//! added to DNS while `c` still fails, found when the records' TTL runs out
//! and ramped up.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use donjon::BoxError;
use donjon::balance::outlier::{Detector, OutlierDetection};
use donjon::balance::p2c::Balance;
use donjon::balance::slow_start::{SlowStart, SlowStartDiscover};
use donjon::classify::Outcome;
use donjon::load::{CompleteOnResponse, PeakEwmaDiscover};
use donjon_dns::{DnsDiscover, Query};
use donjon_test::dns::{DnsServer, Srv};
use http::{Request, Response};

use crate::backend::{Backend, Behaviour};
use crate::http_client::{Endpoint, hyper_client, server_errors_fail};
use crate::phase::send;

/// The SRV name the backends are listed under.
pub const SERVICE: &str = "_http._tcp.backends.test.";

/// The run's settings.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Requests in each of the three phases.
    pub requests_per_phase: usize,
    /// The slow-start window of a backend added later.
    pub slow_start: Duration,
    /// The TTL of the DNS records, in seconds.
    pub ttl: u32,
}

impl Default for Demo {
    fn default() -> Self {
        Demo {
            requests_per_phase: 900,
            slow_start: Duration::from_secs(2),
            ttl: 1,
        }
    }
}

/// What happened in one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// What the phase was.
    pub name: &'static str,
    /// Requests that reached each backend (`a`, `b`, `c`, `d`).
    pub received: [u64; 4],
    /// Requests that got a 2xx.
    pub successes: usize,
    /// Requests sent.
    pub requests: usize,
    /// Endpoints ejected at the end of the phase.
    pub ejected: usize,
    /// Requests `d` received in each tenth of the phase.
    pub d_by_tenth: [u64; 10],
}

impl Phase {
    /// The share of the phase's requests that reached backend `index`.
    pub fn share(&self, index: usize) -> f64 {
        crate::phase::share(&self.received, index)
    }
}

/// Lists `backend`, named `name`, in DNS: its address, and an SRV record
/// pointing at it.
async fn publish(dns: &DnsServer, name: &str, backend: &Backend, ttl: u32) {
    let host = format!("{name}.test.");
    let addr = backend.addr();
    dns.add_ip(&host, addr.ip(), ttl).await;
    let srv = Srv {
        priority: 10,
        weight: 1,
        port: addr.port(),
        target: &host,
    };
    dns.add_srv(SERVICE, srv, ttl).await;
}

/// Runs the three phases and reports each.
///
/// # Errors
///
/// If a backend cannot bind a loopback port.
///
/// # Panics
///
/// If the DNS server cannot bind a loopback port.
pub async fn run(demo: &Demo) -> io::Result<Vec<Phase>> {
    let healthy = Behaviour::healthy(Duration::from_millis(5), Duration::from_millis(2));
    let mut backends = Vec::new();
    for (seed, name) in ["a", "b", "c", "d"].into_iter().enumerate() {
        backends.push(Backend::start(name, healthy.clone(), seed as u64).await?);
    }
    let dns = DnsServer::start().await;
    for (name, backend) in ["a", "b", "c"].into_iter().zip(&backends) {
        publish(&dns, name, backend, demo.ttl).await;
    }

    let client = hyper_client();
    let discover = DnsDiscover::builder(Query::srv(SERVICE)).build(
        dns.resolver(Duration::from_secs(1)),
        move |endpoint: &donjon_dns::Endpoint| Endpoint::new(client.clone(), endpoint.addr),
    );
    let detector: Detector<_> = OutlierDetection::new()
        .with_consecutive_failures(5)
        .with_base_ejection_time(Duration::from_secs(30))
        .with_classify(server_errors_fail as fn(&Result<Response<Bytes>, BoxError>) -> Outcome)
        .detector();
    let discover = PeakEwmaDiscover::new::<Request<Bytes>>(
        detector.discover(discover),
        Duration::from_millis(5),
        Duration::from_secs(1),
        CompleteOnResponse::default(),
    );
    let discover = SlowStartDiscover::new(discover, SlowStart::new(demo.slow_start));
    let mut balance = Balance::new(discover);

    let mut phases = Vec::new();
    for name in ["all healthy", "c failing", "d joins"] {
        match name {
            "c failing" => backends[2].set_failure_share(1.0),
            "d joins" => publish(&dns, "d", &backends[3], demo.ttl).await,
            _ => {}
        }
        let mut d_by_tenth = [0; 10];
        let tenth = demo.requests_per_phase.div_ceil(10);
        let mut d_before = backends[3].received();
        let sent = send(&mut balance, &backends, demo.requests_per_phase, |sent| {
            let d_now = backends[3].received();
            d_by_tenth[sent / tenth] += d_now - d_before;
            d_before = d_now;
        })
        .await;
        let received = sent.received;
        phases.push(Phase {
            name,
            received: [received[0], received[1], received[2], received[3]],
            successes: sent.successes,
            requests: demo.requests_per_phase,
            ejected: detector.ejected_len(),
            d_by_tenth,
        });
    }
    Ok(phases)
}
