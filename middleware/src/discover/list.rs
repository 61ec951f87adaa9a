use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_service::Service;
use futures_core::Stream;

use super::Change;

/// A [`Discover`](super::Discover) over a fixed list of services: it yields
/// `Insert(i, service)` for each, `i` being its position from 0, then ends.
///
/// # Examples
///
/// ```
/// use donjon::discover::{Change, ServiceList};
/// use donjon::{BoxError, service_fn};
/// use futures::StreamExt;
///
/// # futures::executor::block_on(async {
/// let echo = |n: u32| async move { Ok::<_, BoxError>(n) };
/// let endpoints = ServiceList::new(vec![service_fn(echo), service_fn(echo)]);
/// let keys: Vec<usize> = endpoints
///     .map(|change| match change {
///         Ok(Change::Insert(key, _)) => key,
///         _ => unreachable!("a ServiceList only inserts"),
///     })
///     .collect()
///     .await;
/// assert_eq!(keys, [0, 1]);
/// # });
/// ```
pub struct ServiceList<I>
where
    I: IntoIterator,
{
    services: I::IntoIter,
    next_key: usize,
}

impl<I, S> ServiceList<I>
where
    I: IntoIterator<Item = S>,
{
    /// Creates a discovery of `services`.
    ///
    /// The `Req` type is only there to check that the items are
    /// services; it is inferred when they serve one request type.
    #[allow(
        clippy::new_ret_no_self,
        reason = "tower's signature, kept for source compatibility"
    )]
    pub fn new<Req>(services: I) -> ServiceList<I>
    where
        S: Service<Req>,
    {
        ServiceList {
            services: services.into_iter(),
            next_key: 0,
        }
    }
}

impl<I, S> Stream for ServiceList<I>
where
    I: IntoIterator<Item = S>,
{
    type Item = Result<Change<usize, S>, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Nothing here is pinned: the iterator is polled through `&mut`.
        let this = &mut *self;
        match this.services.next() {
            Some(service) => {
                let key = this.next_key;
                this.next_key += 1;
                Poll::Ready(Some(Ok(Change::Insert(key, service))))
            }
            None => Poll::Ready(None),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.services.size_hint()
    }
}

impl<I> Unpin for ServiceList<I> where I: IntoIterator {}

impl<I> fmt::Debug for ServiceList<I>
where
    I: IntoIterator,
    I::IntoIter: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceList")
            .field("services", &self.services)
            .field("next_key", &self.next_key)
            .finish()
    }
}
