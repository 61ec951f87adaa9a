//! `tower::ServiceExt`: readiness helpers and every combinator, with their
//! behaviour on responses, response errors and readiness errors.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};
use tower::util::{
    AndThen, BoxCloneService, BoxService, CallAll, MapErr, MapFuture, MapRequest, MapResponse,
    MapResult, Oneshot, Ready, ReadyOneshot, Then,
};
use tower::{BoxError, Service, ServiceExt, service_fn};
use tower_test::{assert_request_eq, mock};

use super::support::{AddOne, Broken, Oops, SlowStart};

#[tokio::test]
async fn ready_waits_for_readiness_and_lends_the_service() {
    let (mut svc, stats) = SlowStart::new(3);
    let ready: Ready<'_, SlowStart, u32> = svc.ready();
    let lent: &mut SlowStart = ready.await.unwrap();
    let fut = lent.call(4);
    assert_eq!(fut.await, Ok(8));
    assert_eq!((stats.polls(), stats.calls()), (4, 1));

    // The fully qualified form used when several `Service` impls exist.
    let rsp = ServiceExt::<u32>::ready(&mut svc)
        .await
        .unwrap()
        .call(5)
        .await;
    assert_eq!(rsp, Ok(10));
}

#[tokio::test]
async fn ready_reports_a_readiness_error() {
    let mut svc = Broken;
    let err = svc.ready().await.unwrap_err();
    assert_eq!(err, Oops("broken"));
    let err = Broken.ready_oneshot().await.unwrap_err();
    assert_eq!(err, Oops("broken"));
}

#[test]
fn ready_is_pending_until_the_mock_allows() {
    let (mut mock, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);
    let mut ready = task::spawn(mock.ready());
    assert_pending!(ready.poll());
    handle.allow(1);
    assert!(ready.is_woken());
    let svc = assert_ready_ok!(ready.poll());
    let mut fut = task::spawn(svc.call("hi"));
    let (req, send) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(req, "hi");
    send.send_response("there");
    assert_eq!(assert_ready_ok!(fut.poll()), "there");
}

#[tokio::test]
async fn ready_oneshot_returns_the_service_by_value() {
    let (svc, stats) = SlowStart::new(1);
    let ready: ReadyOneshot<SlowStart, u32> = svc.ready_oneshot();
    let mut svc = ready.await.unwrap();
    assert_eq!(svc.call(1).await, Ok(2));
    assert_eq!(stats.calls(), 1);
}

#[tokio::test]
async fn oneshot_drives_readiness_before_calling() {
    let (svc, stats) = SlowStart::new(5);
    let fut: Oneshot<SlowStart, u32> = svc.oneshot(21);
    assert_eq!(fut.await, Ok(42));
    assert_eq!((stats.polls(), stats.calls()), (6, 1));

    // Works on `&mut S` too, leaving the service with the caller.
    let (mut svc, stats) = SlowStart::new(0);
    assert_eq!((&mut svc).oneshot(1).await, Ok(2));
    assert_eq!((&mut svc).oneshot(2).await, Ok(4));
    assert_eq!(stats.calls(), 2);
}

#[tokio::test]
async fn oneshot_resolves_to_readiness_and_response_errors() {
    assert_eq!(Broken.oneshot(1).await, Err(Oops("broken")));
    assert_eq!(AddOne.oneshot(u32::MAX).await, Err(Oops("overflow")));
}

#[test]
fn oneshot_waits_for_the_mock_response() {
    let (mock, mut handle) = mock::pair::<u32, u32>();
    handle.allow(0);
    let mut fut = task::spawn(mock.oneshot(7));
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    handle.allow(1);
    assert!(fut.is_woken());
    assert_pending!(fut.poll());
    let (req, send) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(req, 7);
    send.send_response(70);
    assert!(fut.is_woken());
    assert_eq!(assert_ready_ok!(fut.poll()), 70);
}

#[tokio::test]
async fn call_all_has_the_upstream_type() {
    let reqs = futures::stream::iter(vec![1_u32, 2, 3]);
    let all: CallAll<AddOne, futures::stream::Iter<std::vec::IntoIter<u32>>> =
        AddOne.call_all(reqs);
    let rsps: Vec<Result<u32, Oops>> = all.collect().await;
    assert_eq!(rsps, vec![Ok(2), Ok(3), Ok(4)]);

    let reqs = futures::stream::iter(vec![u32::MAX, 5]);
    let rsps: Vec<_> = AddOne.call_all(reqs).unordered().collect().await;
    assert_eq!(rsps, vec![Err(Oops("overflow")), Ok(6)]);
}

#[tokio::test]
async fn map_request_rewrites_requests_before_readiness_is_lost() {
    let svc: MapRequest<AddOne, fn(&str) -> u32> = AddOne.map_request(|s: &str| s.len() as u32);
    assert_eq!(svc.oneshot("four").await, Ok(5));

    // FnMut: the closure may keep state between calls.
    let mut seen = Vec::new();
    {
        let mut svc = AddOne.map_request(|n: u32| {
            seen.push(n);
            n * 10
        });
        assert_eq!(svc.ready().await.unwrap().call(1).await, Ok(11));
        assert_eq!(svc.ready().await.unwrap().call(2).await, Ok(21));
    }
    assert_eq!(seen, vec![1, 2]);
}

#[tokio::test]
async fn map_response_maps_only_successes() {
    let svc: MapResponse<AddOne, fn(u32) -> String> = AddOne.map_response(|n: u32| n.to_string());
    assert_eq!(svc.oneshot(1).await, Ok("2".to_string()));
    let svc = AddOne.map_response(|n: u32| n.to_string());
    assert_eq!(svc.oneshot(u32::MAX).await, Err(Oops("overflow")));
    // Readiness errors pass through untouched.
    assert_eq!(
        Broken.map_response(|n| n + 1).oneshot(1).await,
        Err(Oops("broken"))
    );
}

#[tokio::test]
async fn map_err_maps_response_and_readiness_errors() {
    let svc: MapErr<AddOne, fn(Oops) -> String> = AddOne.map_err(|e: Oops| e.0.to_uppercase());
    assert_eq!(svc.oneshot(u32::MAX).await, Err("OVERFLOW".to_string()));
    let mut svc = Broken.map_err(|e: Oops| format!("ready: {}", e.0));
    assert_eq!(svc.ready().await.unwrap_err(), "ready: broken");
    assert_eq!(AddOne.map_err(|_| "never").oneshot(1).await, Ok(2));
}

#[tokio::test]
async fn map_result_sees_every_outcome_but_not_readiness_errors() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let f = move |r: Result<u32, Oops>| -> Result<String, BoxError> {
        counter.fetch_add(1, Ordering::SeqCst);
        match r {
            Ok(n) => Ok(format!("ok {n}")),
            Err(e) => Ok(format!("err {}", e.0)),
        }
    };
    assert_eq!(
        AddOne.map_result(f.clone()).oneshot(1).await.unwrap(),
        "ok 2"
    );
    assert_eq!(
        AddOne
            .map_result(f.clone())
            .oneshot(u32::MAX)
            .await
            .unwrap(),
        "err overflow"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    // The readiness error is converted with `From`, without running `f`.
    let err = Broken.map_result(f).oneshot(1).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("broken")));
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let named: MapResult<AddOne, fn(Result<u32, Oops>) -> Result<u32, Oops>> =
        AddOne.map_result(|r: Result<u32, Oops>| r.map(|n| n * 2));
    assert_eq!(named.oneshot(1).await, Ok(4));
}

#[tokio::test]
async fn and_then_runs_only_on_success_and_converts_errors() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let svc = AddOne.and_then(move |n: u32| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 3 {
                Err::<u32, BoxError>("three".into())
            } else {
                Ok(n * 10)
            }
        }
    });
    assert_eq!(svc.clone().oneshot(1).await.unwrap(), 20);
    assert_eq!(
        svc.clone().oneshot(2).await.unwrap_err().to_string(),
        "three"
    );
    // The inner error skips `f` and is converted with `Into`.
    let err = svc.clone().oneshot(u32::MAX).await.unwrap_err();
    assert!(err.is::<Oops>());
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    // Readiness errors are converted with `Into` too.
    let err = Broken
        .and_then(|n: u32| async move { Ok::<_, BoxError>(n) })
        .oneshot(1)
        .await
        .unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("broken")));

    let named: AndThen<AddOne, fn(u32) -> std::future::Ready<Result<u32, Oops>>> =
        AddOne.and_then(|n| std::future::ready(Ok(n + 100)));
    assert_eq!(named.oneshot(0).await, Ok(101));
}

#[tokio::test]
async fn then_runs_on_every_outcome() {
    let recover = |r: Result<u32, Oops>| async move {
        Ok::<String, BoxError>(match r {
            Ok(n) => n.to_string(),
            Err(e) => e.to_string(),
        })
    };
    assert_eq!(AddOne.then(recover).oneshot(1).await.unwrap(), "2");
    assert_eq!(
        AddOne.then(recover).oneshot(u32::MAX).await.unwrap(),
        "oops: overflow"
    );
    let err = Broken.then(recover).oneshot(1).await.unwrap_err();
    assert!(err.is::<Oops>());

    let named: Then<AddOne, fn(Result<u32, Oops>) -> std::future::Ready<Result<u32, Oops>>> =
        AddOne.then(|r| std::future::ready(r.map(|n| n * 3)));
    assert_eq!(named.oneshot(1).await, Ok(6));
}

#[tokio::test]
async fn map_future_wraps_the_response_future() {
    let svc = AddOne.map_future(|fut: std::future::Ready<Result<u32, Oops>>| async move {
        let n = fut.await?;
        Ok::<_, BoxError>(format!("[{n}]"))
    });
    assert_eq!(svc.clone().oneshot(1).await.unwrap(), "[2]");
    let err = svc.oneshot(u32::MAX).await.unwrap_err();
    assert!(err.is::<Oops>());
    let err = Broken
        .map_future(|fut| async move { Ok::<u32, BoxError>(fut.await?) })
        .oneshot(1)
        .await
        .unwrap_err();
    assert!(err.is::<Oops>());

    let mut named: MapFuture<
        AddOne,
        fn(std::future::Ready<Result<u32, Oops>>) -> std::future::Ready<Result<u32, Oops>>,
    > = AddOne.map_future(|_| std::future::ready(Ok(0)));
    assert_eq!(*named.get_ref(), AddOne);
    let _: &mut AddOne = named.get_mut();
    assert_eq!((&mut named).oneshot(5).await, Ok(0));
    let inner: AddOne = named.into_inner();
    assert_eq!(inner, AddOne);
}

#[tokio::test]
async fn boxed_and_boxed_clone() {
    let svc: BoxService<u32, u32, Oops> = AddOne.boxed();
    assert_eq!(svc.oneshot(1).await, Ok(2));

    let svc: BoxCloneService<u32, u32, Oops> = AddOne.boxed_clone();
    let copies = vec![svc.clone(), svc.clone(), svc];
    for (i, svc) in copies.into_iter().enumerate() {
        assert_eq!(svc.oneshot(i as u32).await, Ok(i as u32 + 1));
    }
}

#[tokio::test]
async fn combinators_chain_on_a_mock() {
    let (mock, mut handle) = mock::pair::<String, usize>();
    let svc = mock
        .map_request(|n: u32| format!("#{n}"))
        .map_response(|len: usize| len * 2)
        .map_err(|e: BoxError| format!("wrapped: {e}"));
    let fut = tokio::spawn(svc.oneshot(12));
    assert_request_eq!(handle, "#12").send_response(3);
    assert_eq!(fut.await.unwrap(), Ok(6));

    let svc = service_fn(|n: u32| async move { Ok::<_, Infallible>(n) }).map_response(|n| n + 1);
    assert_eq!(svc.oneshot(1).await, Ok(2));
}

#[test]
fn mock_readiness_errors_through_combinators() {
    let (mock, mut handle) = mock::pair::<u32, u32>();
    let mut svc = tower_test::mock::Spawn::new(mock.map_err(|e: BoxError| format!("mapped: {e}")));
    handle.send_error("boom");
    assert_eq!(assert_ready_err!(svc.poll_ready()), "mapped: boom");
    // Only the first poll sees the error.
    assert_ready_ok!(svc.poll_ready());
}
