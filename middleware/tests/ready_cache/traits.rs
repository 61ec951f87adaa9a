//! The `Failed` error, and the cache's `Debug`, `Default` and auto traits.

use std::marker::PhantomPinned;

use super::*;

#[test]
fn failed_shows_the_inner_error() {
    let failed = Failed(4_usize, BoxError::from("doom"));
    assert_eq!(failed.to_string(), "doom");
    assert_eq!(format!("{failed:?}"), r#"Failed(4, "doom")"#);
    let source = failed.source().expect("the inner error is the source");
    assert_eq!(source.to_string(), "doom");

    let typed = Failed("k", BoxError::from(Boom("no")));
    assert_eq!(typed.to_string(), "boom: no");
    assert!(typed.source().unwrap().is::<Boom>());
    assert_eq!(format!("{typed:?}"), r#"Failed("k", Boom("no"))"#);
}

#[test]
fn failed_from_the_cache_carries_the_original_error() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<&str, Gate, Req>::default();
    let (service, control) = gate("g", false);
    control.fail("fuse blown");
    cache.push("g", service);
    let failed = assert_ready_err!(poll_pending(&mut task, &mut cache));
    assert_eq!(failed.to_string(), Boom("fuse blown").to_string());
    assert_eq!(
        failed.source().and_then(|e| e.downcast_ref::<Boom>()),
        Some(&Boom("fuse blown"))
    );
    assert_eq!(format!("{failed:?}"), r#"Failed("g", Boom("fuse blown"))"#);
    let boxed: BoxError = Box::new(failed);
    assert_eq!(boxed.to_string(), "boom: fuse blown");
}

#[test]
fn the_cache_is_debug_and_default() {
    let mut task = task::spawn(());
    let (mut cache, _controls) = ready_gates(&["a"]);
    let (pending, _control) = gate("p", false);
    cache.push("p", pending);
    assert_parked(&mut task, &mut cache);

    let debug = format!("{cache:?}");
    for field in [
        "ReadyCache",
        "pending",
        "pending_cancel_txs",
        "ready",
        "\"a\"",
        "\"p\"",
    ] {
        assert!(debug.contains(field), "{field} in {debug}");
    }
    let empty: ReadyCache<u8, Gate, Req> = ReadyCache::default();
    assert!(empty.is_empty());
}

/// A service that is not `Unpin`.
struct Pinned(PhantomPinned);

impl Service<Req> for Pinned {
    type Response = ();
    type Error = BoxError;
    type Future = Ready<Result<(), BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Req) -> Self::Future {
        ready(Ok(()))
    }
}

#[test]
fn the_cache_is_sync_when_its_services_are() {
    fn sync<T: Sync>() {}
    sync::<ReadyCache<usize, Mock, Req>>();
}

#[test]
fn the_cache_is_unpin_and_send_whatever_its_services() {
    fn unpin<T: Unpin>() {}
    fn send<T: Send>() {}
    unpin::<ReadyCache<usize, Pinned, Req>>();
    send::<ReadyCache<usize, Mock, Req>>();

    // And usable as such: polled through a pinned future.
    let mut cache = ReadyCache::<usize, Pinned, Req>::default();
    cache.push(0, Pinned(PhantomPinned));
    let mut task = task::spawn(());
    assert_ready_ok!(task.enter(|cx, _| Pin::new(&mut cache).get_mut().poll_pending(cx)));
    let future = cache.call_ready(&0, "x");
    assert!(futures::executor::block_on(future).is_ok());
}
