use std::future::Future;
use std::task::{Context, Poll};

use donjon_service::Service;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::sealed::Sealed;

/// Makes connections (anything readable and writable) to targets.
///
/// Implemented for every `Service<T>` whose response implements
/// [`AsyncRead`] and [`AsyncWrite`]; it cannot be implemented otherwise.
///
/// # Examples
///
/// ```
/// use donjon::make::MakeConnection;
/// use donjon::service_fn;
///
/// # futures::executor::block_on(async {
/// // An in-memory "connector": each target gets one end of a pipe.
/// let mut connect = service_fn(|_target: &str| async {
///     let (client, _server) = tokio::io::duplex(64);
///     Ok::<_, std::io::Error>(client)
/// });
/// let connection = connect.make_connection("db:5432").await?;
/// # drop(connection);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub trait MakeConnection<T>: Sealed<(T,)> {
    /// The connection made.
    type Connection: AsyncRead + AsyncWrite;

    /// The error of a failed connection attempt.
    type Error;

    /// The future of a connection.
    type Future: Future<Output = Result<Self::Connection, Self::Error>>;

    /// Reports whether a connection can be made now; see
    /// [`Service::poll_ready`].
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>>;

    /// Connects to `target`.
    fn make_connection(&mut self, target: T) -> Self::Future;
}

impl<C, T> Sealed<(T,)> for C
where
    C: Service<T>,
    C::Response: AsyncRead + AsyncWrite,
{
}

impl<C, T> MakeConnection<T> for C
where
    C: Service<T>,
    C::Response: AsyncRead + AsyncWrite,
{
    type Connection = C::Response;
    type Error = C::Error;
    type Future = C::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::poll_ready(self, cx)
    }

    fn make_connection(&mut self, target: T) -> Self::Future {
        Service::call(self, target)
    }
}
