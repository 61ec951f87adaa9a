//! Building a `Retry` (`Retry::new`, `RetryLayer`, `ServiceBuilder::retry`),
//! reaching its inner service, its `Debug` output, the object safety of
//! `Policy`, and `call` without `poll_ready`.

use std::future::{Ready, ready};
use std::task::{Context, Poll};

use donjon::retry::{Policy, Retry, RetryLayer};
use donjon::{BoxError, Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Mock};
use tokio_test::{assert_pending, assert_ready_ok, task};

use crate::support::{Counting, Echo};
use crate::{Req, Res, RetryErrors};

/// Never retries, never copies.
#[derive(Clone, Copy, Debug)]
struct Never;

impl<Rq, Rs, E> Policy<Rq, Rs, E> for Never {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Rq, _: &mut Result<Rs, E>) -> Option<Ready<()>> {
        None
    }

    fn clone_request(&mut self, _: &Rq) -> Option<Rq> {
        None
    }
}

/// Always ready; answers every request with its tag.
#[derive(Clone, Copy, Debug)]
struct Tagged(&'static str);

impl Service<Req> for Tagged {
    type Response = Res;
    type Error = BoxError;
    type Future = Ready<Result<Res, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Req) -> Self::Future {
        ready(Ok(self.0))
    }
}

/// `Retry::new` and `RetryLayer::new` are usable in constants.
const RETRY: Retry<Never, Echo> = Retry::new(Never, Echo);
const LAYER: RetryLayer<Never> = RetryLayer::new(Never);

#[test]
fn debug_shows_the_policy_and_the_service() {
    assert_eq!(
        format!("{RETRY:?}"),
        "Retry { policy: Never, service: Echo }"
    );
    assert_eq!(format!("{LAYER:?}"), "RetryLayer { policy: Never }");
}

#[tokio::test]
async fn get_ref_get_mut_and_into_inner_reach_the_inner_service() {
    let mut retry = Retry::new(Never, Tagged("first"));
    assert_eq!(retry.get_ref().0, "first");

    retry.get_mut().0 = "second";
    let response = retry.ready().await.expect("Tagged is ready").call("hello");
    assert_eq!(response.await.expect("Tagged succeeds"), "second");
    assert_eq!(retry.into_inner().0, "second");
}

#[tokio::test]
async fn a_retry_layer_gives_each_service_a_clone_of_its_policy() {
    let policy = RetryErrors::new(2);
    let seen = policy.seen();
    let layer = RetryLayer::new(policy);
    for _ in 0..2 {
        let inner = Counting::new(service_fn(|_: Req| {
            ready(Err::<Res, BoxError>("nope".into()))
        }));
        let counts = inner.counts();
        let service: Retry<RetryErrors, _> = layer.layer(inner);
        let error = service
            .oneshot("hello")
            .await
            .expect_err("every attempt fails");
        assert_eq!(error.to_string(), "nope");
        assert_eq!(counts.calls(), 3, "each service retries twice");
    }
    assert_eq!(seen.retries(), 6, "both services used the layer's policy");
}

#[tokio::test]
async fn service_builder_retry_retries_with_the_given_policy() {
    let policy = RetryErrors::new(1);
    let seen = policy.seen();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock<Req, Res>| {
        let service: Retry<RetryErrors, Mock<Req, Res>> =
            ServiceBuilder::new().retry(policy.clone()).service(mock);
        service
    });

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry me");
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    assert_eq!(seen.retries(), 2, "the builder's service used the policy");
}

#[test]
fn policy_is_object_safe() {
    let mut policy: Box<dyn Policy<(), (), (), Future = Ready<()>>> = Box::new(RetryErrors::new(1));
    assert_eq!(policy.clone_request(&()), Some(()));
    assert!(policy.retry(&mut (), &mut Err(())).is_some());
    assert!(
        policy.retry(&mut (), &mut Err(())).is_none(),
        "the single retry is spent"
    );
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn call_without_poll_ready_panics_in_the_inner_service() {
    let (mock, _handle) = mock::pair::<Req, Res>();
    let mut retry = Retry::new(RetryErrors::new(1), mock);
    let _response = retry.call("hello");
}
