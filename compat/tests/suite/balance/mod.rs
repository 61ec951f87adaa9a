//! `tower::balance`: the power-of-two-choices `Balance` over `ServiceList`
//! and channel discovers, with `Constant`, `PendingRequests` and `PeakEwma`
//! loads; its discovery error; `MakeBalance`, `MakeBalanceLayer` and
//! `MakeFuture`; and a randomized stress run.

mod choice;
mod discovery;
mod globs;
mod make;
mod readiness;
mod stress;
mod traits;
mod upstream;
mod user_code;

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::convert::Infallible;
use std::error::Error as _;
use std::hash::{BuildHasher, Hasher};
use std::task::Poll;
use std::time::Duration;

use futures::future::MapErr;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};
use tower::balance::error::Discover as DiscoverError;
use tower::balance::p2c::{Balance, MakeBalance, MakeBalanceLayer, MakeFuture};
use tower::discover::{Change, Discover, ServiceList};
use tower::layer::util::{Identity, Stack};
use tower::load::{CompleteOnResponse, Constant, PeakEwmaDiscover, PendingRequestsDiscover};
use tower::util::rng::{HasherRng, Rng};
use tower::{BoxError, Layer, MakeService, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Mock, Spawn};

use super::support::{
    AddOne, Instant, Oops, assert_clone, assert_debug, assert_default, assert_send, assert_sync,
    assert_unpin,
};

type Req = &'static str;
type Endpoint = Constant<Mock<Req, Req>, u8>;
type Changes<K, S> = UnboundedReceiverStream<Result<Change<K, S>, BoxError>>;

fn endpoint(load: u8) -> (Endpoint, Handle<Req, Req>) {
    let (svc, handle) = mock::pair::<Req, Req>();
    (Constant::new(svc, load), handle)
}

/// A balancer fed by a channel, with the sending side.
fn channel_balancer<S>() -> (
    Spawn<Balance<Changes<u32, S>, Req>>,
    UnboundedSender<Result<Change<u32, S>, BoxError>>,
)
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    let (tx, rx) = unbounded_channel();
    let balance = Balance::new(UnboundedReceiverStream::new(rx));
    (Spawn::new(balance), tx)
}

/// Answers the request that reached one of `handles`, and says which.
fn answer(handles: &mut [(&'static str, &mut Handle<Req, Req>)], req: Req) -> &'static str {
    let mut hit = None;
    for (name, handle) in handles.iter_mut() {
        if let Poll::Ready(Some((got, send))) = handle.poll_request() {
            assert_eq!(got, req);
            assert!(hit.is_none(), "two endpoints got the request");
            send.send_response(name);
            hit = Some(*name);
        }
    }
    hit.expect("no endpoint got the request")
}

type List = ServiceList<Vec<Constant<AddOne, u8>>>;

/// A make-discover service: a target is a number of endpoints.
#[derive(Clone, Copy, Debug)]
struct Endpoints;

impl Service<usize> for Endpoints {
    type Response = List;
    type Error = Oops;
    type Future = Instant<List, Oops>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, n: usize) -> Self::Future {
        if n == 0 {
            return std::future::ready(Err(Oops("no endpoints")));
        }
        let endpoints = (0..n).map(|i| Constant::new(AddOne, i as u8)).collect();
        std::future::ready(Ok(ServiceList::new(endpoints)))
    }
}

/// A seeded hasher, so the run is reproducible.
#[derive(Clone, Copy, Debug)]
struct Seed(u64);

impl BuildHasher for Seed {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        let mut hasher = DefaultHasher::new();
        hasher.write_u64(self.0);
        hasher
    }
}
