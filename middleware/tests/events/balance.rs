//! `donjon::balance`: endpoints inserted, removed and dropped, and the
//! background readiness running in the caller's span.

use std::future::{Ready, poll_fn, ready};
use std::task::{Context, Poll};

use donjon::balance::p2c::Balance;
use donjon::discover::{Change, ServiceList};
use donjon::load::Constant;
use donjon::{BoxError, Service, ServiceExt};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tracing::Instrument;

use crate::support::Boom;
use crate::{ReadyLater, capture, lines_with};

#[tokio::test(start_paused = true)]
async fn background_readiness_runs_in_the_callers_span() {
    let (captured, _guard) = capture();
    let endpoints = vec![Constant::new(ReadyLater::default(), 0_u32)];
    let balance = Balance::new(ServiceList::new::<u32>(endpoints)).with_background_readiness();

    let answer = balance
        .oneshot(7)
        .instrument(tracing::info_span!("caller", id = 7))
        .await
        .expect("the balancer answers");
    assert_eq!(answer, 7);

    let spawned = lines_with(&captured, "spawned=true");
    assert_eq!(spawned, [" INFO caller{id=7}: inner ready spawned=true"]);
}

/// An endpoint of the membership test: echoes, or fails its readiness.
#[derive(Clone, Copy, Debug)]
struct Endpoint {
    fails: bool,
}

impl Service<u32> for Endpoint {
    type Response = u32;
    type Error = BoxError;
    type Future = Ready<Result<u32, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.fails {
            Poll::Ready(Err(Boom("readiness").into()))
        } else {
            Poll::Ready(Ok(()))
        }
    }

    fn call(&mut self, request: u32) -> Self::Future {
        ready(Ok(request))
    }
}

fn answers() -> Constant<Endpoint, u32> {
    Constant::new(Endpoint { fails: false }, 0)
}

fn fails() -> Constant<Endpoint, u32> {
    Constant::new(Endpoint { fails: true }, 0)
}

#[tokio::test(start_paused = true)]
async fn each_change_of_membership_emits_an_event_with_the_endpoints_left() {
    let (captured, _guard) = capture();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<_, &'static str>>();
    let mut balance = Balance::<_, u32>::new(UnboundedReceiverStream::new(rx));

    for (key, endpoint) in [(1, answers()), (2, answers()), (3, fails())] {
        tx.send(Ok(Change::Insert(key, endpoint))).unwrap();
    }
    tx.send(Ok(Change::Remove(2))).unwrap();
    tx.send(Ok(Change::Remove(9))).unwrap();
    poll_fn(|cx| balance.poll_ready(cx)).await.expect("ready");
    assert_eq!(balance.len(), 1);

    let lines: Vec<String> = lines_with(&captured, "load balancer:");
    assert_eq!(
        lines,
        [
            "DEBUG load balancer: endpoint inserted endpoints=1",
            "DEBUG load balancer: endpoint inserted endpoints=2",
            "DEBUG load balancer: endpoint inserted endpoints=3",
            "DEBUG load balancer: endpoint removed endpoints=2",
            "DEBUG load balancer: dropped an endpoint whose readiness failed \
             error=boom: readiness endpoints=1",
        ],
        "an unknown key removed changes nothing"
    );
}
