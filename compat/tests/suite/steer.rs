//! `tower::steer`: `Steer` routes each request to one of its services, as a
//! `Picker` (a closure or a hand-written type) decides.

use std::task::{Context, Poll};

use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};
use tower::steer::{Picker, Steer};
use tower::{Service, ServiceExt};
use tower_test::mock::Spawn;

use super::support::{
    Broken, Instant, Latch, Oops, SlowStart, assert_clone, assert_debug, assert_send, assert_sync,
    poll_once,
};

type Req = &'static str;

/// Answers every request with its own name; always ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reply(&'static str);

impl Service<Req> for Reply {
    type Response = String;
    type Error = Oops;
    type Future = Instant<String, Oops>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        std::future::ready(Ok(format!("{} answers {req}", self.0)))
    }
}

/// A stateful picker: hands requests out in turn.
#[derive(Clone, Debug, Default)]
struct RoundRobin(usize);

impl<S> Picker<S, Req> for RoundRobin {
    fn pick(&mut self, _: &Req, services: &[S]) -> usize {
        let index = self.0 % services.len();
        self.0 += 1;
        index
    }
}

fn by_name(req: &Req, services: &[Reply]) -> usize {
    services.iter().position(|s| s.0 == *req).unwrap_or(0)
}

#[tokio::test]
async fn the_picker_chooses_the_service() {
    let mut steer = Steer::new(vec![Reply("a"), Reply("b")], |_: &Req, _: &[Reply]| 1);
    let rsp = steer.ready().await.unwrap().call("x").await;
    assert_eq!(rsp, Ok("b answers x".to_string()));

    // The picker sees the request and the services.
    let mut steer: Steer<Reply, fn(&Req, &[Reply]) -> usize, Req> =
        Steer::new([Reply("a"), Reply("b"), Reply("c")], by_name);
    for name in ["c", "a", "b", "zzz"] {
        let rsp = steer.ready().await.unwrap().call(name).await.unwrap();
        let expected = if name == "zzz" { "a" } else { name };
        assert_eq!(rsp, format!("{expected} answers {name}"));
    }
}

#[tokio::test]
async fn hand_written_pickers_may_keep_state() {
    let mut steer: Steer<Reply, RoundRobin, Req> =
        Steer::new(vec![Reply("a"), Reply("b")], RoundRobin::default());
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(steer.ready().await.unwrap().call("x").await.unwrap());
    }
    assert_eq!(
        answers,
        ["a answers x", "b answers x", "a answers x", "b answers x"]
    );
    let mut picker = RoundRobin(5);
    assert_eq!(
        Picker::<Reply, Req>::pick(&mut picker, &"x", &[Reply("a"); 3]),
        2
    );
}

#[test]
fn ready_only_when_every_service_is_ready() {
    let (first, open_first) = Latch::new();
    let (second, open_second) = Latch::new();
    let mut steer = Spawn::new(Steer::new(vec![first, second], |_: &Req, _: &[Latch]| 0));
    assert_pending!(steer.poll_ready());
    open_second.open();
    assert_pending!(steer.poll_ready());
    open_first.open();
    assert!(steer.is_woken());
    assert_ready_ok!(steer.poll_ready());
    assert_eq!(poll_once(&mut steer.call("four")), Poll::Ready(Ok(4)));
}

#[test]
fn after_a_call_only_the_used_service_is_polled_again() {
    let (a, a_stats) = SlowStart::new(0);
    let (b, b_stats) = SlowStart::new(0);
    let mut steer = Spawn::new(Steer::new(vec![a, b], |req: &u32, _: &[SlowStart]| {
        (*req % 2) as usize
    }));
    assert_ready_ok!(steer.poll_ready());
    assert_eq!((a_stats.polls(), b_stats.polls()), (1, 1));
    let mut fut = steer.call(3);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(6)));
    assert_eq!((a_stats.calls(), b_stats.calls()), (0, 1));
    assert_ready_ok!(steer.poll_ready());
    assert_eq!((a_stats.polls(), b_stats.polls()), (1, 2));
}

#[test]
fn readiness_errors_are_returned_as_they_are() {
    let mut steer = Spawn::new(Steer::new(vec![Broken, Broken], |_: &u32, _: &[Broken]| 0));
    let err: Oops = assert_ready_err!(steer.poll_ready());
    assert_eq!(err, Oops("broken"));
}

#[test]
#[should_panic(
    expected = "Steer must wait for all services to be ready. Did you forget to call poll_ready()?"
)]
fn call_without_poll_ready_panics() {
    let mut steer = Steer::new(vec![Reply("a")], |_: &Req, _: &[Reply]| 0);
    drop(steer.call("x"));
}

#[test]
#[should_panic]
fn an_index_out_of_range_panics() {
    let mut steer = Spawn::new(Steer::new(vec![Reply("a")], |_: &Req, _: &[Reply]| 7));
    assert_ready_ok!(steer.poll_ready());
    drop(steer.call("x"));
}

#[tokio::test]
async fn clones_route_on_their_own() {
    type Router = fn(&Req, &[Reply]) -> usize;
    let steer: Steer<Reply, Router, Req> = Steer::new(vec![Reply("a"), Reply("b")], by_name);
    let copy = steer.clone();
    assert_eq!(copy.oneshot("b").await.unwrap(), "b answers b");
    assert_eq!(steer.oneshot("a").await.unwrap(), "a answers a");

    assert_clone::<Steer<Reply, Router, Req>>();
    assert_debug::<Steer<Reply, Router, Req>>();
    assert_send::<Steer<Reply, Router, Req>>();
    assert_sync::<Steer<Reply, Router, Req>>();
}
