//! Constructors of mock pairs.

use donjon_layer::Layer;
use tokio::sync::mpsc;

use super::handle::Handle;
use super::service::Mock;
use super::spawn::Spawn;
use super::state::Shared;

/// Creates a [`Mock`] service and the [`Handle`] that controls it.
///
/// The mock accepts any number of calls until the handle says otherwise
/// with [`Handle::allow`].
///
/// # Examples
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// use donjon_service::Service;
/// use donjon_test::mock;
///
/// let (mut service, mut handle) = mock::pair::<String, usize>();
///
/// // Without a `Spawn`, the test provides the context itself.
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(matches!(service.poll_ready(&mut cx), Poll::Ready(Ok(()))));
/// let _response = service.call("hello".to_string());
///
/// let Poll::Ready(Some((request, _send_response))) = handle.poll_request() else {
///     panic!("the call must reach the handle");
/// };
/// assert_eq!(request, "hello");
/// ```
pub fn pair<T, U>() -> (Mock<T, U>, Handle<T, U>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = Shared::new();
    (Mock::new(tx, state.clone()), Handle::new(rx, state))
}

/// Like [`pair`], with the mock wrapped in a [`Spawn`] so it can be polled
/// without an executor.
///
/// # Examples
///
/// ```
/// use donjon_test::mock;
/// use tokio_test::assert_ready_ok;
///
/// let (mut service, _handle) = mock::spawn::<String, usize>();
/// assert_ready_ok!(service.poll_ready());
/// ```
pub fn spawn<T, U>() -> (Spawn<Mock<T, U>>, Handle<T, U>) {
    let (mock, handle) = pair();
    (Spawn::new(mock), handle)
}

/// Builds the service under test with `f` around a fresh mock, wrapped in a
/// [`Spawn`].
///
/// # Examples
///
/// ```
/// use donjon_test::mock::{self, Mock};
///
/// // Any function of the mock will do, e.g. boxing it.
/// let (service, _handle) = mock::spawn_with(|mock: Mock<u8, u8>| Box::new(mock));
/// let _boxed: &Box<Mock<u8, u8>> = service.get_ref();
/// ```
pub fn spawn_with<T, U, F, S>(f: F) -> (Spawn<S>, Handle<T, U>)
where
    F: Fn(Mock<T, U>) -> S,
{
    let (mock, handle) = pair();
    (Spawn::new(f(mock)), handle)
}

/// Builds the service under test by applying `layer` to a fresh mock,
/// wrapped in a [`Spawn`].
///
/// # Examples
///
/// ```
/// use donjon_layer::Identity;
/// use donjon_test::mock;
/// use tokio_test::assert_ready_ok;
///
/// let (mut service, _handle) = mock::spawn_layer::<u8, u8, _>(Identity::new());
/// assert_ready_ok!(service.poll_ready());
/// ```
pub fn spawn_layer<T, U, L>(layer: L) -> (Spawn<L::Service>, Handle<T, U>)
where
    L: Layer<Mock<T, U>>,
{
    let (mock, handle) = pair();
    (Spawn::new(layer.layer(mock)), handle)
}
