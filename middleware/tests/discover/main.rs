//! Integration tests of `donjon::discover`: any stream of `Result<Change>` is
//! a `Discover` (channels from tokio and from `futures`), `ServiceList`
//! inserting a fixed list keyed by position, and `Change`'s `Clone` and
//! `Debug`.
#![cfg(feature = "discover")]

use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon::Service;
use donjon::discover::{Change, Discover, ServiceList};
use futures::channel::mpsc as futures_mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_test::{assert_pending, assert_ready, task};

/// A service that answers with its own name, so that a test can tell which
/// service a change carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Named(&'static str);

impl Service<()> for Named {
    type Response = &'static str;
    type Error = Infallible;
    type Future = Ready<Result<&'static str, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, (): ()) -> Self::Future {
        ready(Ok(self.0))
    }
}

/// A discovery error with a type of its own.
#[derive(Debug, PartialEq, Eq)]
struct Lookup(&'static str);

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lookup failed: {}", self.0)
    }
}

impl std::error::Error for Lookup {}

/// Polls `discover` once through the `Discover` trait (not `Stream`), with
/// the context of `task`.
#[allow(
    clippy::type_complexity,
    reason = "the item type of Discover::poll_discover"
)]
fn poll_discover<D: Discover + Unpin>(
    task: &mut task::Spawn<()>,
    discover: &mut D,
) -> Poll<Option<Result<Change<D::Key, D::Service>, D::Error>>> {
    task.enter(|cx, _| Pin::new(&mut *discover).poll_discover(cx))
}

/// What a change amounts to, comparable: `+key=name` or `-key`.
fn describe<K: fmt::Display>(change: Change<K, Named>) -> String {
    match change {
        Change::Insert(key, Named(name)) => format!("+{key}={name}"),
        Change::Remove(key) => format!("-{key}"),
    }
}

type Changes = Result<Change<&'static str, Named>, Lookup>;

#[test]
fn a_tokio_unbounded_channel_is_a_discover() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes>();
    let mut discover = UnboundedReceiverStream::new(rx);
    let mut task = task::spawn(());

    assert_pending!(poll_discover(&mut task, &mut discover));
    assert!(!task.is_woken());

    tx.send(Ok(Change::Insert("a", Named("alpha")))).unwrap();
    assert!(
        task.is_woken(),
        "a change wakes the task polling the discover"
    );
    tx.send(Ok(Change::Remove("a"))).unwrap();

    let first = assert_ready!(poll_discover(&mut task, &mut discover));
    assert_eq!(describe(first.unwrap().unwrap()), "+a=alpha");
    let second = assert_ready!(poll_discover(&mut task, &mut discover));
    assert_eq!(describe(second.unwrap().unwrap()), "-a");
    assert_pending!(poll_discover(&mut task, &mut discover));

    drop(tx);
    assert!(task.is_woken(), "the end of the channel wakes the task");
    assert!(assert_ready!(poll_discover(&mut task, &mut discover)).is_none());
}

#[test]
fn a_futures_channel_is_a_discover() {
    let (tx, mut discover) = futures_mpsc::unbounded::<Changes>();
    let mut task = task::spawn(());

    assert_pending!(poll_discover(&mut task, &mut discover));
    tx.unbounded_send(Ok(Change::Insert("b", Named("beta"))))
        .unwrap();
    assert!(
        task.is_woken(),
        "a change wakes the task polling the discover"
    );

    let change = assert_ready!(poll_discover(&mut task, &mut discover));
    assert_eq!(describe(change.unwrap().unwrap()), "+b=beta");

    drop(tx);
    assert!(assert_ready!(poll_discover(&mut task, &mut discover)).is_none());
}

#[test]
fn discovery_errors_come_through_unchanged() {
    let (tx, mut discover) = futures_mpsc::unbounded::<Changes>();
    let mut task = task::spawn(());

    tx.unbounded_send(Err(Lookup("dns"))).unwrap();
    tx.unbounded_send(Ok(Change::Insert("c", Named("gamma"))))
        .unwrap();

    let error = assert_ready!(poll_discover(&mut task, &mut discover));
    assert_eq!(error.unwrap().unwrap_err(), Lookup("dns"));
    // An error is an item like any other: the stream goes on after it.
    let change = assert_ready!(poll_discover(&mut task, &mut discover));
    assert_eq!(describe(change.unwrap().unwrap()), "+c=gamma");
}

#[test]
fn a_discover_has_the_key_service_and_error_of_its_items() {
    fn types<D>(_: &D)
    where
        D: Discover<Key = &'static str, Service = Named, Error = Lookup>,
    {
    }
    fn list_types<D>(_: &D)
    where
        D: Discover<Key = usize, Service = Named, Error = Infallible>,
    {
    }

    let (_tx, rx) = futures_mpsc::unbounded::<Changes>();
    types(&rx);
    list_types(&ServiceList::new(vec![Named("a")]));
}

#[test]
fn service_list_inserts_each_service_keyed_by_position_then_ends() {
    let mut list = ServiceList::new(vec![Named("a"), Named("b"), Named("c")]);
    let mut task = task::spawn(());

    let mut seen = Vec::new();
    // Never pending: the whole list is there from the start.
    while let Some(change) = assert_ready!(poll_discover(&mut task, &mut list)) {
        seen.push(describe(change.unwrap()));
    }
    assert_eq!(seen, ["+0=a", "+1=b", "+2=c"]);
    assert!(
        assert_ready!(poll_discover(&mut task, &mut list)).is_none(),
        "still ended"
    );
    assert!(!task.is_woken());
}

#[test]
fn service_list_takes_an_iterator_as_well() {
    let mut list = ServiceList::new(vec![Named("x"), Named("y")].into_iter());
    let mut task = task::spawn(());

    let first = assert_ready!(poll_discover(&mut task, &mut list));
    assert_eq!(describe(first.unwrap().unwrap()), "+0=x");
    let second = assert_ready!(poll_discover(&mut task, &mut list));
    assert_eq!(describe(second.unwrap().unwrap()), "+1=y");
    assert!(assert_ready!(poll_discover(&mut task, &mut list)).is_none());
}

#[test]
fn an_empty_service_list_ends_at_once() {
    let mut list = ServiceList::new(Vec::<Named>::new());
    let mut task = task::spawn(());
    assert!(assert_ready!(poll_discover(&mut task, &mut list)).is_none());
}

#[test]
fn service_list_hands_over_the_services_themselves() {
    let mut list = ServiceList::new(vec![Named("first"), Named("second")]);
    let mut task = task::spawn(());

    let mut answers = Vec::new();
    while let Some(change) = assert_ready!(poll_discover(&mut task, &mut list)) {
        match change.unwrap() {
            Change::Insert(_, mut service) => {
                assert!(task.enter(|cx, _| service.poll_ready(cx)).is_ready());
                let answer = futures::executor::block_on(service.call(())).unwrap();
                answers.push(answer);
            }
            Change::Remove(key) => panic!("a service list removed {key}"),
        }
    }
    assert_eq!(answers, ["first", "second"]);
}

#[test]
fn service_list_works_as_a_stream() {
    use futures::StreamExt;

    let keys: Vec<usize> = futures::executor::block_on(
        ServiceList::new(vec![Named("a"), Named("b"), Named("c"), Named("d")])
            .map(|change| match change {
                Ok(Change::Insert(key, _)) => key,
                Ok(Change::Remove(key)) => panic!("a service list removed {key}"),
                Err(never) => match never {},
            })
            .collect(),
    );
    assert_eq!(keys, [0, 1, 2, 3]);
}

#[test]
fn service_list_request_type_can_be_named() {
    // Inferred everywhere else; naming it explicitly must compile as well.
    let mut list = ServiceList::new::<()>(vec![Named("a")]);
    let mut task = task::spawn(());
    let change = assert_ready!(poll_discover(&mut task, &mut list));
    assert_eq!(describe(change.unwrap().unwrap()), "+0=a");
}

#[test]
fn service_list_debug_shows_its_name() {
    let list = ServiceList::new(vec![Named("a")]);
    let debug = format!("{list:?}");
    assert!(debug.starts_with("ServiceList"), "{debug}");
}

#[test]
fn change_is_clone_and_debug() {
    let insert: Change<&str, u32> = Change::Insert("a", 1);
    let remove: Change<&str, u32> = Change::Remove("b");

    assert_eq!(format!("{insert:?}"), r#"Insert("a", 1)"#);
    assert_eq!(format!("{remove:?}"), r#"Remove("b")"#);

    let copies = (insert.clone(), remove.clone());
    assert!(matches!(copies.0, Change::Insert("a", 1)));
    assert!(matches!(copies.1, Change::Remove("b")));
    // The originals are untouched.
    assert!(matches!(insert, Change::Insert("a", 1)));
    assert!(matches!(remove, Change::Remove("b")));
}

#[test]
fn a_boxed_stream_is_a_discover() {
    let (tx, rx) = futures_mpsc::unbounded::<Changes>();
    let mut discover: Pin<Box<dyn futures::Stream<Item = Changes> + Send>> = Box::pin(rx);
    let mut task = task::spawn(());

    tx.unbounded_send(Ok(Change::Remove("z"))).unwrap();
    let change = assert_ready!(poll_discover(&mut task, &mut discover));
    assert_eq!(describe(change.unwrap().unwrap()), "-z");
    assert_pending!(poll_discover(&mut task, &mut discover));
}
