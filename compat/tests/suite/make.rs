//! `tower::make`: `MakeService` (also at the crate root), `MakeConnection`,
//! `Shared`, `IntoService`, `AsService` and `future::SharedFuture`, used
//! the way generic user code uses them.

use std::convert::Infallible;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tower::make::future::SharedFuture;
use tower::make::{AsService, IntoService, MakeConnection, Shared};
use tower::{BoxError, Service, ServiceExt, service_fn};

use super::support::{
    AddOne, Instant, Oops, assert_clone, assert_copy, assert_debug, assert_send, assert_sync,
    noop_cx,
};

/// Adds its offset to each request; always ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Offset(u32);

impl Service<u32> for Offset {
    type Response = u32;
    type Error = Oops;
    type Future = Instant<u32, Oops>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: u32) -> Self::Future {
        std::future::ready(Ok(req + self.0))
    }
}

/// Generic user code over any make-service: make one service for the
/// target and send it one request.
async fn make_and_call<M>(mut make: M, target: &'static str, req: u32) -> Result<u32, BoxError>
where
    M: tower::MakeService<&'static str, u32, Response = u32>,
    M::MakeError: Into<BoxError>,
    M::Error: Into<BoxError>,
{
    poll_fn(|cx| make.poll_ready(cx))
        .await
        .map_err(Into::into)?;
    let mut svc: M::Service = make.make_service(target).await.map_err(Into::into)?;
    svc.ready().await.map_err(Into::into)?;
    svc.call(req).await.map_err(Into::into)
}

#[tokio::test]
async fn any_service_of_services_is_a_make_service() {
    let make = service_fn(|target: &'static str| async move {
        Ok::<_, Infallible>(Offset(target.len() as u32))
    });
    assert_eq!(make_and_call(make, "four", 10).await.unwrap(), 14);

    let failing = service_fn(|_: &'static str| async { Err::<Offset, _>(Oops("no route")) });
    let err = make_and_call(failing, "x", 1).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("no route")));
}

#[tokio::test]
async fn shared_hands_out_clones_of_one_service() {
    use tower::make::MakeService;

    let mut shared: Shared<Offset> = Shared::new(Offset(100));
    assert!(MakeService::<(), u32>::poll_ready(&mut shared, &mut noop_cx()).is_ready());
    let fut: SharedFuture<Offset> = shared.make_service(());
    let made: Result<Offset, Infallible> = fut.await;
    assert_eq!(made.unwrap(), Offset(100));

    // Any target type will do: it is a `Service<T>` for every `T`.
    let made = Service::<&'static str>::call(&mut shared, "anything").await;
    assert_eq!(made, Ok(Offset(100)));
    assert_eq!(make_and_call(shared, "ignored", 1).await.unwrap(), 101);

    const SHARED: Shared<AddOne> = Shared::new(AddOne);
    let copy = SHARED;
    assert_eq!(make_and_call(copy, "t", 1).await.unwrap(), 2);
}

#[tokio::test]
async fn into_service_and_as_service() {
    use tower::make::MakeService;

    let shared = Shared::new(Offset(7));
    let mut svc: IntoService<Shared<Offset>, u32> = MakeService::<(), u32>::into_service(shared);
    let made: Offset = ServiceExt::<()>::ready(&mut svc)
        .await
        .unwrap()
        .call(())
        .await
        .unwrap();
    assert_eq!(made, Offset(7));
    let copy: IntoService<Shared<Offset>, u32> = svc.clone();
    assert_eq!(copy.oneshot(()).await.unwrap(), Offset(7));

    let mut shared = Shared::new(Offset(8));
    {
        let mut svc: AsService<'_, Shared<Offset>, u32> =
            MakeService::<(), u32>::as_service(&mut shared);
        let made = ServiceExt::<()>::ready(&mut svc)
            .await
            .unwrap()
            .call(())
            .await
            .unwrap();
        assert_eq!(made, Offset(8));
    }
    // The make-service is still there afterwards.
    assert_eq!(make_and_call(shared, "t", 2).await.unwrap(), 10);

    let make = service_fn(|target: &'static str| async move {
        Ok::<_, Infallible>(Offset(target.len() as u32))
    });
    let svc = MakeService::<&'static str, u32>::into_service(make);
    let made = svc.oneshot("abc").await.unwrap();
    assert_eq!(made, Offset(3));
}

/// A connection that accepts every write and reads nothing.
#[derive(Debug, Default)]
struct Sink {
    written: usize,
}

impl AsyncRead for Sink {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Sink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written += buf.len();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Generic user code over any connector.
async fn connect<C>(mut connector: C, target: &'static str) -> Result<C::Connection, C::Error>
where
    C: MakeConnection<&'static str>,
{
    poll_fn(|cx| connector.poll_ready(cx)).await?;
    connector.make_connection(target).await
}

#[tokio::test]
async fn any_service_answering_with_io_is_a_connector() {
    let connector = service_fn(|target: &'static str| async move {
        if target.is_empty() {
            Err(Oops("empty address"))
        } else {
            Ok(Sink::default())
        }
    });
    let mut conn: Sink = connect(connector, "localhost:80").await.unwrap();
    let n = poll_fn(|cx| Pin::new(&mut conn).poll_write(cx, b"hello"))
        .await
        .unwrap();
    assert_eq!((n, conn.written), (5, 5));
    let mut buf = [0_u8; 4];
    let mut read = ReadBuf::new(&mut buf);
    poll_fn(|cx| Pin::new(&mut conn).poll_read(cx, &mut read))
        .await
        .unwrap();
    assert!(read.filled().is_empty());

    assert_eq!(
        connect(connector, "").await.unwrap_err(),
        Oops("empty address")
    );
}

#[test]
fn auto_traits() {
    assert_copy::<Shared<AddOne>>();
    assert_clone::<Shared<AddOne>>();
    assert_debug::<Shared<AddOne>>();
    assert_send::<Shared<AddOne>>();
    assert_sync::<Shared<AddOne>>();
    assert_send::<SharedFuture<AddOne>>();
    assert_clone::<IntoService<Shared<AddOne>, u32>>();
    assert_debug::<IntoService<Shared<AddOne>, u32>>();
    assert_debug::<AsService<'static, Shared<AddOne>, u32>>();
}
