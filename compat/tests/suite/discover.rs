//! `tower::discover`: the `Discover` trait used through generic bounds over
//! user streams (tokio-stream, futures, boxed trait objects), `Change` and
//! `ServiceList`.

use std::convert::Infallible;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;

use futures::stream::{self, Stream, StreamExt};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_test::{assert_pending, assert_ready, task};
use tower::discover::{Change, Discover, ServiceList};
use tower::{BoxError, Service, ServiceExt};
use tower_test::mock::{self, Mock};

use super::support::{
    AddOne, Echo, Oops, assert_clone, assert_debug, assert_send, assert_sync, assert_unpin, noop_cx,
};

type Req = &'static str;

/// What a user's generic code does with a discover: drain it, one change at
/// a time, through `poll_discover`.
async fn drain<D>(mut discover: D) -> Result<Vec<Change<D::Key, D::Service>>, D::Error>
where
    D: Discover + Unpin,
{
    let mut changes = Vec::new();
    while let Some(change) = poll_fn(|cx| Pin::new(&mut discover).poll_discover(cx)).await {
        changes.push(change?);
    }
    Ok(changes)
}

/// Keys of the inserted services, and the removed keys (marked `-`).
fn describe<K: std::fmt::Display, S>(changes: &[Change<K, S>]) -> Vec<String> {
    changes
        .iter()
        .map(|change| match change {
            Change::Insert(key, _) => format!("+{key}"),
            Change::Remove(key) => format!("-{key}"),
        })
        .collect()
}

/// Names the associated types a user's bounds pin down.
fn assert_discover<D, K, S, E>(_: &D)
where
    D: Discover<Key = K, Service = S, Error = E>,
{
}

/// A generic "use every discovered service once" helper, as a user writes
/// it: bounds on the discover and on its services.
async fn call_each<D, R>(discover: D, req: R) -> Vec<(D::Key, R)>
where
    D: Discover + Unpin,
    D::Error: std::fmt::Debug,
    D::Service: Service<R, Response = R>,
    <D::Service as Service<R>>::Error: std::fmt::Debug,
    R: Clone,
{
    let mut out = Vec::new();
    for change in drain(discover).await.unwrap() {
        if let Change::Insert(key, svc) = change {
            let rsp = svc.oneshot(req.clone()).await.unwrap();
            out.push((key, rsp));
        }
    }
    out
}

#[tokio::test]
async fn service_list_inserts_each_service_by_position_then_ends() {
    let list: ServiceList<Vec<AddOne>> = ServiceList::new(vec![AddOne, AddOne, AddOne]);
    assert_discover::<_, usize, AddOne, Infallible>(&list);
    let changes = drain(list).await.unwrap();
    assert_eq!(describe(&changes), ["+0", "+1", "+2"]);

    // Over an iterator as well, with the request type spelled out.
    let list: ServiceList<std::vec::IntoIter<Echo>> =
        ServiceList::new::<String>(vec![Echo, Echo].into_iter());
    let got = call_each(list, "hi".to_string()).await;
    assert_eq!(got, [(0, "hi".to_string()), (1, "hi".to_string())]);

    // Empty: ends at once.
    let empty: ServiceList<Vec<AddOne>> = ServiceList::new(Vec::new());
    assert!(drain(empty).await.unwrap().is_empty());
}

#[test]
fn service_list_is_a_stream_that_is_always_ready() {
    let mut list = ServiceList::new(vec![AddOne, AddOne]);
    let mut cx = noop_cx();
    let first: Poll<Option<Result<Change<usize, AddOne>, Infallible>>> =
        Pin::new(&mut list).poll_next(&mut cx);
    assert!(matches!(
        first,
        Poll::Ready(Some(Ok(Change::Insert(0, AddOne))))
    ));
    let second = Pin::new(&mut list).poll_discover(&mut cx);
    assert!(matches!(
        second,
        Poll::Ready(Some(Ok(Change::Insert(1, AddOne))))
    ));
    assert!(matches!(
        Pin::new(&mut list).poll_next(&mut cx),
        Poll::Ready(None)
    ));
}

#[tokio::test]
async fn a_channel_stream_is_a_discover() {
    let (tx, rx) =
        tokio::sync::mpsc::unbounded_channel::<Result<Change<Req, Mock<Req, Req>>, BoxError>>();
    let discover = UnboundedReceiverStream::new(rx);
    assert_discover::<_, Req, Mock<Req, Req>, BoxError>(&discover);
    let mut discover = task::spawn(discover);

    assert_pending!(discover.enter(|cx, d| d.poll_discover(cx)));

    let (a, mut handle_a) = mock::pair::<Req, Req>();
    tx.send(Ok(Change::Insert("a", a))).unwrap();
    assert!(discover.is_woken());
    let change = assert_ready!(discover.enter(|cx, d| d.poll_discover(cx)));
    let Some(Ok(Change::Insert(key, svc))) = change else {
        panic!("expected an insert");
    };
    assert_eq!(key, "a");
    // The discovered service is the one that was sent.
    let fut = tokio::spawn(svc.oneshot("ping"));
    let (req, send) = handle_a.next_request().await.unwrap();
    assert_eq!(req, "ping");
    send.send_response("pong");
    assert_eq!(fut.await.unwrap().unwrap(), "pong");

    tx.send(Ok(Change::Remove("a"))).unwrap();
    tx.send(Err(Box::new(Oops("lost")))).unwrap();
    let change = assert_ready!(discover.enter(|cx, d| d.poll_discover(cx)));
    assert!(matches!(change, Some(Ok(Change::Remove("a")))));
    let change = assert_ready!(discover.enter(|cx, d| d.poll_discover(cx)));
    let err = change.unwrap().err().unwrap();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("lost")));

    drop(tx);
    assert!(assert_ready!(discover.enter(|cx, d| d.poll_discover(cx))).is_none());
}

#[tokio::test]
async fn futures_streams_and_boxed_streams_are_discovers() {
    let changes: Vec<Result<Change<String, AddOne>, Oops>> = vec![
        Ok(Change::Insert("one".to_string(), AddOne)),
        Ok(Change::Insert("two".to_string(), AddOne)),
        Ok(Change::Remove("one".to_string())),
    ];
    let iter = stream::iter(changes.clone());
    assert_discover::<_, String, AddOne, Oops>(&iter);
    assert_eq!(
        describe(&drain(iter).await.unwrap()),
        ["+one", "+two", "-one"]
    );

    // A boxed trait object (the usual way to erase a discover's type).
    type BoxDiscover = Pin<Box<dyn Stream<Item = Result<Change<String, AddOne>, Oops>> + Send>>;
    let boxed: BoxDiscover = stream::iter(changes).boxed();
    assert_discover::<_, String, AddOne, Oops>(&boxed);
    assert_eq!(
        describe(&drain(boxed).await.unwrap()),
        ["+one", "+two", "-one"]
    );

    // An error ends the draining helper with the stream's own error type.
    let failing = stream::iter(vec![Ok(Change::Insert(1u8, AddOne)), Err(Oops("gone"))]);
    assert_eq!(drain(failing).await.err(), Some(Oops("gone")));

    // A stream adapter chain is still a discover: rewrite the keys.
    let mapped =
        stream::iter(vec![Ok::<_, Infallible>(Change::Insert(7u32, AddOne))]).map(|change| {
            change.map(|change| match change {
                Change::Insert(key, svc) => Change::Insert(key * 2, svc),
                Change::Remove(key) => Change::Remove(key * 2),
            })
        });
    let got = call_each(mapped, 41u32).await;
    assert_eq!(got, [(14, 42)]);
}

#[test]
fn change_is_a_plain_enum() {
    let insert: Change<&str, AddOne> = Change::Insert("a", AddOne);
    let copy = insert.clone();
    assert!(matches!(copy, Change::Insert("a", AddOne)));
    let remove: Change<&str, AddOne> = Change::Remove("a");
    match remove.clone() {
        Change::Remove(key) => assert_eq!(key, "a"),
        Change::Insert(..) => unreachable!(),
    }
    let _ = format!("{insert:?} {remove:?}");
}

#[test]
fn auto_traits() {
    assert_clone::<Change<u32, AddOne>>();
    assert_debug::<Change<u32, AddOne>>();
    assert_send::<Change<u32, AddOne>>();
    assert_sync::<Change<u32, AddOne>>();
    assert_debug::<ServiceList<Vec<AddOne>>>();
    assert_send::<ServiceList<Vec<AddOne>>>();
    assert_sync::<ServiceList<Vec<AddOne>>>();
    assert_unpin::<ServiceList<Vec<AddOne>>>();
    assert_unpin::<ServiceList<std::vec::IntoIter<Mock<Req, Req>>>>();
    assert_send::<ServiceList<Vec<Mock<Req, Req>>>>();
}
