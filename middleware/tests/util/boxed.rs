//! Boxed services (`BoxService`, `UnsyncBoxService`, `BoxCloneService`,
//! `BoxCloneSyncService`) and boxed layers (`BoxLayer`,
//! `BoxCloneServiceLayer`, `BoxCloneSyncServiceLayer`).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use donjon::util::{
    BoxCloneService, BoxCloneServiceLayer, BoxCloneSyncService, BoxCloneSyncServiceLayer, BoxLayer,
    BoxService, MapRequestLayer, ServiceExt, UnsyncBoxService,
};
use donjon::{BoxError, Layer, Service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Mock, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Echo, assert_readiness_follows_mock};

type Request = &'static str;
type Response = &'static str;
type SendFuture = Pin<Box<dyn Future<Output = Result<Response, BoxError>> + Send>>;
type LocalFuture = Pin<Box<dyn Future<Output = Result<Response, BoxError>>>>;

fn box_service(mock: Mock<Request, Response>) -> BoxService<Request, Response, BoxError> {
    BoxService::new(mock)
}

fn box_clone_service(
    mock: Mock<Request, Response>,
) -> BoxCloneService<Request, Response, BoxError> {
    BoxCloneService::new(mock)
}

fn box_clone_sync_service(
    mock: Mock<Request, Response>,
) -> BoxCloneSyncService<Request, Response, BoxError> {
    BoxCloneSyncService::new(mock)
}

fn unsync_box_service(
    mock: Mock<Request, Response>,
) -> UnsyncBoxService<Request, Response, BoxError> {
    UnsyncBoxService::new(mock)
}

// --- forwarding: readiness, calls, errors -----------------------------------

/// Runs the same checks on a boxed service over a mock: readiness with
/// wake-ups, a call and its response, a response error, a readiness error,
/// and `Closed` once the handle is dropped.
macro_rules! boxed_forwarding_tests {
    ($name:ident, $wrap:expr, $future:ty) => {
        mod $name {
            use super::*;

            #[test]
            fn follows_the_inner_readiness() {
                let (mut service, mut handle) = mock::spawn_with($wrap);
                assert_readiness_follows_mock::<Request, _, _, _>(&mut service, &mut handle);
            }

            #[tokio::test]
            async fn forwards_the_call_and_resolves_to_the_response() {
                let (mut service, mut handle) = mock::spawn_with($wrap);
                assert_ready_ok!(service.poll_ready());
                let response: $future = service.call("hello");
                let mut response = task::spawn(response);
                assert_pending!(response.poll());
                assert_request_eq!(handle, "hello").send_response("world");
                assert!(response.is_woken());
                assert_eq!(assert_ready_ok!(response.poll()), "world");
            }

            #[tokio::test]
            async fn forwards_the_response_error() {
                let (mut service, mut handle) = mock::spawn_with($wrap);
                assert_ready_ok!(service.poll_ready());
                let mut response = task::spawn(service.call("hello"));
                assert_request_eq!(handle, "hello").send_error("failed");
                assert_eq!(assert_ready_err!(response.poll()).to_string(), "failed");
            }

            #[test]
            fn forwards_the_readiness_error() {
                let (mut service, mut handle) = mock::spawn_with($wrap);
                handle.send_error("boom");
                assert_eq!(assert_ready_err!(service.poll_ready()).to_string(), "boom");
            }

            #[test]
            fn reports_closed_when_the_mock_handle_is_dropped() {
                let (mut service, mut handle) = mock::spawn_with($wrap);
                handle.allow(0);
                assert_pending!(service.poll_ready());
                drop(handle);
                assert!(service.is_woken());
                let error = assert_ready_err!(service.poll_ready());
                assert!(error.is::<Closed>(), "unexpected error: {error}");
            }

            #[tokio::test]
            async fn dropped_response_future_leaves_the_request_with_the_mock() {
                let (mut service, mut handle) = mock::spawn_with($wrap);
                assert_ready_ok!(service.poll_ready());
                drop(service.call("hello"));
                assert_request_eq!(handle, "hello").send_response("nobody listens");
                assert_ready_ok!(service.poll_ready(), "the service stays usable");
            }

            #[tokio::test]
            async fn dropping_the_box_drops_the_inner_service() {
                let (service, mut handle) = mock::spawn_with($wrap);
                drop(service);
                assert!(handle.next_request().await.is_none());
            }
        }
    };
}

boxed_forwarding_tests!(box_service, box_service, SendFuture);
boxed_forwarding_tests!(box_clone_service, box_clone_service, SendFuture);
boxed_forwarding_tests!(box_clone_sync_service, box_clone_sync_service, SendFuture);
boxed_forwarding_tests!(unsync_box_service, unsync_box_service, LocalFuture);

// --- constructors through ServiceExt and `layer()` ---------------------------

#[tokio::test]
async fn service_ext_boxed_erases_the_service_type() {
    let service: BoxService<u8, u8, BoxError> = Echo.map_request(|n: u8| n + 1).boxed();
    assert_eq!(service.oneshot(1).await.unwrap(), 2);
}

#[tokio::test]
async fn service_ext_boxed_clone_erases_the_service_type_and_can_be_cloned() {
    let service: BoxCloneService<u8, u8, BoxError> = Echo.map_request(|n: u8| n + 1).boxed_clone();
    let clone = service.clone();
    assert_eq!(service.oneshot(1).await.unwrap(), 2);
    assert_eq!(clone.oneshot(2).await.unwrap(), 3);
}

#[tokio::test]
async fn box_service_layer_functions_box_what_they_wrap() {
    let service = BoxService::layer().layer(Echo);
    let _: &BoxService<u8, u8, BoxError> = &service;
    assert_eq!(service.oneshot(1).await.unwrap(), 1);

    let service = BoxCloneService::layer().layer(Echo);
    let _: &BoxCloneService<u8, u8, BoxError> = &service;
    assert_eq!(service.oneshot(2).await.unwrap(), 2);

    let service = BoxCloneSyncService::layer().layer(Echo);
    let _: &BoxCloneSyncService<u8, u8, BoxError> = &service;
    assert_eq!(service.oneshot(3).await.unwrap(), 3);

    let service = UnsyncBoxService::layer().layer(Echo);
    let _: &UnsyncBoxService<u8, u8, BoxError> = &service;
    assert_eq!(service.oneshot(4).await.unwrap(), 4);
}

// --- clones ------------------------------------------------------------------

#[tokio::test]
async fn box_clone_service_clones_reach_the_same_inner_backend() {
    let (mock, mut handle) = mock::pair::<Request, Response>();
    let service = box_clone_service(mock);
    let clone = service.clone();

    let first = tokio::spawn(service.oneshot("from the original"));
    let second = tokio::spawn(clone.oneshot("from the clone"));
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (request, send_response) = handle.next_request().await.unwrap();
        seen.push(request);
        send_response.send_response(request);
    }
    seen.sort_unstable();
    assert_eq!(seen, ["from the clone", "from the original"]);
    assert_eq!(first.await.unwrap().unwrap(), "from the original");
    assert_eq!(second.await.unwrap().unwrap(), "from the clone");
}

#[test]
fn box_clone_service_clone_does_not_inherit_the_reservation() {
    let (mut original, mut handle) = mock::spawn_with(box_clone_service);
    assert_ready_ok!(original.poll_ready());

    let mut clone = original.clone();
    handle.allow(0);
    assert_pending!(clone.poll_ready(), "the clone must reserve for itself");
    assert_ready_ok!(original.poll_ready(), "the original keeps its reservation");
}

#[test]
fn box_clone_sync_service_clone_does_not_inherit_the_reservation() {
    let (mut original, mut handle) = mock::spawn_with(box_clone_sync_service);
    assert_ready_ok!(original.poll_ready());

    let mut clone = original.clone();
    handle.allow(0);
    assert_pending!(clone.poll_ready(), "the clone must reserve for itself");
    assert_ready_ok!(original.poll_ready(), "the original keeps its reservation");
}

// --- services that are not Send or not Sync ---------------------------------

/// A service that is neither `Send` nor `Sync`, with a `!Send` future.
#[derive(Clone, Default)]
struct LocalCounter {
    calls: Rc<Cell<usize>>,
}

impl Service<()> for LocalCounter {
    type Response = usize;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<usize, BoxError>>>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, (): ()) -> Self::Future {
        let calls = Rc::clone(&self.calls);
        Box::pin(async move {
            calls.set(calls.get() + 1);
            Ok(calls.get())
        })
    }
}

#[tokio::test]
async fn unsync_box_service_accepts_a_service_that_is_not_send() {
    let calls = Rc::new(Cell::new(0));
    let mut service = UnsyncBoxService::new(LocalCounter {
        calls: Rc::clone(&calls),
    });
    assert_eq!(service.ready().await.unwrap().call(()).await.unwrap(), 1);
    assert_eq!(service.ready().await.unwrap().call(()).await.unwrap(), 2);
    assert_eq!(calls.get(), 2);
}

/// A service that is `Send` but not `Sync`.
#[derive(Default)]
struct SendOnly {
    calls: Cell<usize>,
}

impl Service<()> for SendOnly {
    type Response = usize;
    type Error = BoxError;
    type Future = std::future::Ready<Result<usize, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, (): ()) -> Self::Future {
        self.calls.set(self.calls.get() + 1);
        std::future::ready(Ok(self.calls.get()))
    }
}

#[tokio::test]
async fn box_service_over_a_send_only_service_can_be_shared_between_threads() {
    fn assert_sync<T: Sync>(_: &T) {}

    let mut service = BoxService::new(SendOnly::default());
    assert_sync(&service);
    std::thread::scope(|scope| {
        let service = &service;
        let text = scope.spawn(move || format!("{service:?}")).join().unwrap();
        assert_eq!(text, "BoxService");
    });
    assert_eq!(service.ready().await.unwrap().call(()).await.unwrap(), 1);
}

// --- boxed layers ------------------------------------------------------------

fn prefix(request: &'static str) -> &'static str {
    match request {
        "hello" => "layered hello",
        other => other,
    }
}

#[tokio::test]
async fn box_layer_applies_the_wrapped_layer_and_boxes_the_result() {
    let layer: BoxLayer<Mock<Request, Response>, Request, Response, BoxError> =
        BoxLayer::new(MapRequestLayer::new(prefix));
    let (mut service, mut handle) = mock::spawn_layer(layer.clone());
    let _: &BoxService<Request, Response, BoxError> = service.get_ref();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "layered hello").send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

#[tokio::test]
async fn box_clone_service_layer_applies_the_wrapped_layer_and_boxes_the_result() {
    let layer: BoxCloneServiceLayer<Mock<Request, Response>, Request, Response, BoxError> =
        BoxCloneServiceLayer::new(MapRequestLayer::new(prefix));
    let (mut service, mut handle) = mock::spawn_layer(layer.clone());
    let _: &BoxCloneService<Request, Response, BoxError> = service.get_ref();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "layered hello").send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

#[tokio::test]
async fn box_clone_sync_service_layer_applies_the_wrapped_layer_and_boxes_the_result() {
    let layer: BoxCloneSyncServiceLayer<Mock<Request, Response>, Request, Response, BoxError> =
        BoxCloneSyncServiceLayer::new(MapRequestLayer::new(prefix));
    let (mut service, mut handle) = mock::spawn_layer(layer.clone());
    let _: &BoxCloneSyncService<Request, Response, BoxError> = service.get_ref();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "layered hello").send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

// --- Debug -------------------------------------------------------------------

#[test]
fn boxed_services_and_layers_debug_print_their_bare_names() {
    assert_eq!(
        format!("{:?}", BoxService::<u8, u8, BoxError>::new(Echo)),
        "BoxService"
    );
    assert_eq!(
        format!("{:?}", UnsyncBoxService::<u8, u8, BoxError>::new(Echo)),
        "UnsyncBoxService"
    );
    assert_eq!(
        format!("{:?}", BoxCloneService::<u8, u8, BoxError>::new(Echo)),
        "BoxCloneService"
    );
    assert_eq!(
        format!("{:?}", BoxCloneSyncService::<u8, u8, BoxError>::new(Echo)),
        "BoxCloneSyncService"
    );

    let layer = MapRequestLayer::new(|n: u8| n);
    assert_eq!(
        format!(
            "{:?}",
            BoxLayer::<Echo, u8, u8, BoxError>::new(layer.clone())
        ),
        "BoxLayer"
    );
    assert_eq!(
        format!(
            "{:?}",
            BoxCloneServiceLayer::<Echo, u8, u8, BoxError>::new(layer.clone())
        ),
        "BoxCloneServiceLayer"
    );
    assert_eq!(
        format!(
            "{:?}",
            BoxCloneSyncServiceLayer::<Echo, u8, u8, BoxError>::new(layer)
        ),
        "BoxCloneSyncServiceLayer"
    );
}
