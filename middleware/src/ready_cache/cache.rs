//! [`ReadyCache`] and the key lookups it accepts.

use std::fmt;
use std::hash::Hash;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_service::Service;
use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
pub use indexmap::Equivalent;
use indexmap::IndexMap;

use super::error::Failed;
use super::pending::{CancelRx, CancelTx, Outcome, Pending, Spawner, cancel_pair};
use crate::BoxError;

/// Services split into the ready and the pending (being driven to
/// readiness), under keys; see the [module documentation](super).
///
/// - [`push`](ReadyCache::push) adds a service as pending. A pending
///   service already under that key is cancelled; a ready one stays usable
///   until the new one is ready, and is then replaced at the same index.
/// - [`poll_pending`](ReadyCache::poll_pending) drives the pending services,
///   moving the ready ones into the ready set.
/// - [`check_ready`](ReadyCache::check_ready) checks that a ready service is
///   still ready (moving it back to pending if not), and
///   [`call_ready`](ReadyCache::call_ready) calls it, after which it is
///   pending again.
/// - [`evict`](ReadyCache::evict) removes a service, pending or ready.
///
/// Ready services are kept in insertion order and addressed by index as well
/// as by key; removing one moves the last ready service into its index.
///
/// # Errors
///
/// A service whose readiness fails is dropped, and the failure is returned
/// once as a [`Failed`] carrying its key. Cancelled services are dropped
/// without their readiness being polled again, so their errors are never
/// reported.
pub struct ReadyCache<K, S, Req>
where
    K: Eq + Hash,
{
    /// Services being driven to readiness, cancelled ones included until
    /// they are polled and dropped.
    pending: FuturesUnordered<Pending<K, S, Req>>,
    /// The cancellation of the live pending service of each key.
    pending_cancel_txs: IndexMap<K, CancelTx>,
    /// Ready services, each with the cancellation it takes back to pending.
    ready: IndexMap<K, (S, (CancelTx, CancelRx))>,
    /// Where services that are not ready are driven, if not here.
    spawner: Option<Spawner<S>>,
}

// Nothing is pinned in place: the pending futures are boxed by the set.
impl<S, K: Eq + Hash, Req> Unpin for ReadyCache<K, S, Req> {}

impl<K, S, Req> Default for ReadyCache<K, S, Req>
where
    K: Eq + Hash,
    S: Service<Req>,
{
    fn default() -> Self {
        ReadyCache {
            pending: FuturesUnordered::new(),
            pending_cancel_txs: IndexMap::new(),
            ready: IndexMap::new(),
            spawner: None,
        }
    }
}

impl<K, S, Req> fmt::Debug for ReadyCache<K, S, Req>
where
    K: fmt::Debug + Eq + Hash,
    S: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ready: Vec<(&K, &S)> = self.ready.iter().map(|(k, (s, _))| (k, s)).collect();
        f.debug_struct("ReadyCache")
            .field("pending", &self.pending.len())
            .field(
                "pending_cancel_txs",
                &self.pending_cancel_txs.keys().collect::<Vec<_>>(),
            )
            .field("ready", &ready)
            .finish()
    }
}

impl<K, S, Req> ReadyCache<K, S, Req>
where
    K: Eq + Hash,
{
    /// The number of services, ready and pending.
    pub fn len(&self) -> usize {
        self.ready_len() + self.pending_len()
    }

    /// Whether the cache holds no service.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty() && self.pending.is_empty()
    }

    /// The number of ready services.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// The number of pending services, including cancelled ones not yet
    /// dropped by [`poll_pending`](ReadyCache::poll_pending).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Whether a live (not cancelled) pending service has this key.
    pub fn pending_contains<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> bool {
        self.pending_cancel_txs.contains_key(key)
    }

    /// The ready service with this key, with its index.
    pub fn get_ready<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<(usize, &K, &S)> {
        self.ready
            .get_full(key)
            .map(|(index, key, (service, _))| (index, key, service))
    }

    /// The ready service with this key, mutably, with its index.
    pub fn get_ready_mut<Q: ?Sized + Hash + Equivalent<K>>(
        &mut self,
        key: &Q,
    ) -> Option<(usize, &K, &mut S)> {
        self.ready
            .get_full_mut(key)
            .map(|(index, key, (service, _))| (index, key, service))
    }

    /// The ready service at this index.
    pub fn get_ready_index(&self, idx: usize) -> Option<(&K, &S)> {
        self.ready
            .get_index(idx)
            .map(|(key, (service, _))| (key, service))
    }

    /// The ready service at this index, mutably.
    pub fn get_ready_index_mut(&mut self, idx: usize) -> Option<(&K, &mut S)> {
        self.ready
            .get_index_mut(idx)
            .map(|(key, (service, _))| (key, service))
    }

    /// The ready services, in index order.
    pub fn iter_ready(&self) -> impl Iterator<Item = (&K, &S)> {
        self.ready.iter().map(|(key, (service, _))| (key, service))
    }

    /// The ready services, mutably, in index order.
    pub fn iter_ready_mut(&mut self) -> impl Iterator<Item = (&K, &mut S)> {
        self.ready
            .iter_mut()
            .map(|(key, (service, _))| (key, service))
    }

    /// The services not evicted, ready or pending: unlike
    /// [`len`](ReadyCache::len), a cancelled service not yet dropped does
    /// not count.
    #[cfg(feature = "balance")]
    pub(crate) fn live_len(&self) -> usize {
        self.ready.len() + self.pending_cancel_txs.len()
    }

    /// Removes the service with this key, pending or ready; returns whether
    /// there was one.
    ///
    /// A pending one is cancelled (and dropped at the next
    /// [`poll_pending`](ReadyCache::poll_pending)); a ready one is dropped
    /// at once, the last ready service moving into its index.
    pub fn evict<Q: ?Sized + Hash + Equivalent<K>>(&mut self, key: &Q) -> bool {
        let cancelled = match self.pending_cancel_txs.swap_remove(key) {
            Some(cancel) => {
                cancel.cancel();
                true
            }
            None => false,
        };
        self.ready.swap_remove(key).is_some() || cancelled
    }
}

impl<K, S, Req> ReadyCache<K, S, Req>
where
    K: Clone + Eq + Hash,
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    /// Adds `svc` under `key`, as pending.
    ///
    /// A pending service under the same key is cancelled. A ready service
    /// under the same key stays ready until `svc` is, and `svc` then takes
    /// its place (and index).
    pub fn push(&mut self, key: K, svc: S) {
        let (cancel, cancelled) = cancel_pair();
        if let Some(previous) = self.pending_cancel_txs.insert(key.clone(), cancel) {
            previous.cancel();
        }
        self.pending
            .push(Pending::new(key, svc, cancelled, self.spawner));
    }

    /// From now on, services found not ready are moved into tasks that
    /// drive them to readiness, instead of waiting to be polled here.
    #[cfg(feature = "balance")]
    pub(crate) fn set_spawner(&mut self, spawner: Spawner<S>) {
        self.spawner = Some(spawner);
        for pending in self.pending.iter_mut() {
            pending.set_spawner(spawner);
        }
    }

    /// Drives every pending service toward readiness, moving the ready ones
    /// into the ready set.
    ///
    /// Returns `Ready(Ok(()))` once no service is pending, and `Pending`
    /// while some are (the task is woken when one may be ready, or is
    /// cancelled).
    ///
    /// # Errors
    ///
    /// The first service whose readiness fails, as a [`Failed`] with its key;
    /// the service is dropped. Call again to go on with the others.
    pub fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Failed<K>>> {
        loop {
            match Pin::new(&mut self.pending).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Outcome::Cancelled)) => {
                    tracing::trace!("ready cache: dropped a cancelled service");
                }
                Poll::Ready(Some(Outcome::Ready(key, service, cancelled))) => {
                    let cancel = self
                        .pending_cancel_txs
                        .swap_remove(&key)
                        .expect("a service that was not cancelled has its cancellation");
                    // Replaces a ready service with the same key in place.
                    self.ready.insert(key, (service, (cancel, cancelled)));
                }
                Poll::Ready(Some(Outcome::Failed(key, error))) => {
                    self.pending_cancel_txs.swap_remove(&key);
                    return Poll::Ready(Err(Failed(key, error)));
                }
            }
        }
    }

    /// Checks that the ready service with this key is still ready.
    ///
    /// Returns `Ok(true)` if it is; `Ok(false)` if it is not (it moves back
    /// to pending, unless a newer service with its key is pending already,
    /// in which case it is dropped) or if there is no ready service with
    /// this key.
    ///
    /// # Errors
    ///
    /// If its readiness fails: it is dropped, and the failure returned.
    pub fn check_ready<Q: ?Sized + Hash + Equivalent<K>>(
        &mut self,
        cx: &mut Context<'_>,
        key: &Q,
    ) -> Result<bool, Failed<K>> {
        match self.ready.get_index_of(key) {
            Some(index) => self.check_ready_index(cx, index),
            None => Ok(false),
        }
    }

    /// Checks that the ready service at this index is still ready; see
    /// [`check_ready`](ReadyCache::check_ready).
    ///
    /// # Errors
    ///
    /// If its readiness fails: it is dropped, and the failure returned.
    pub fn check_ready_index(
        &mut self,
        cx: &mut Context<'_>,
        index: usize,
    ) -> Result<bool, Failed<K>> {
        let Some((_, (service, _))) = self.ready.get_index_mut(index) else {
            return Ok(false);
        };
        match service.poll_ready(cx) {
            Poll::Ready(Ok(())) => Ok(true),
            Poll::Pending => {
                let (key, (service, cancel)) = self
                    .ready
                    .swap_remove_index(index)
                    .expect("the index was just found");
                self.back_to_pending(key, service, cancel);
                Ok(false)
            }
            Poll::Ready(Err(error)) => {
                let (key, _) = self
                    .ready
                    .swap_remove_index(index)
                    .expect("the index was just found");
                Err(Failed(key, error.into()))
            }
        }
    }

    /// Calls the ready service with this key, which then goes back to
    /// pending.
    ///
    /// # Panics
    ///
    /// If no ready service has this key: call
    /// [`check_ready`](ReadyCache::check_ready) first.
    pub fn call_ready<Q: ?Sized + Hash + Equivalent<K>>(&mut self, key: &Q, req: Req) -> S::Future {
        let index = self
            .ready
            .get_index_of(key)
            .expect("check_ready was not called");
        self.call_ready_index(index, req)
    }

    /// Calls the ready service at this index, which then goes back to
    /// pending (the last ready service moves into the index).
    ///
    /// # Panics
    ///
    /// If no ready service has this index: call
    /// [`check_ready_index`](ReadyCache::check_ready_index) first.
    pub fn call_ready_index(&mut self, index: usize, req: Req) -> S::Future {
        let (key, (mut service, cancel)) = self
            .ready
            .swap_remove_index(index)
            .expect("check_ready_index was not called");
        let future = service.call(req);
        self.back_to_pending(key, service, cancel);
        future
    }

    /// Puts a service that left the ready set back to pending, unless a
    /// newer service with its key is pending already.
    /// Calls the ready service at `index` without the round trip through
    /// the pending set (and its allocation) that
    /// [`call_ready_index`](Self::call_ready_index) makes. The service stays
    /// in the ready set, moved last, where `call_ready_index` would put it
    /// back once ready, so that picks by index see the same order; its
    /// readiness is unknown until the next
    /// [`check_ready_index`](Self::check_ready_index), which must come
    /// before it is called again. As with `call_ready_index`, a service
    /// whose key has a newer pending entry is dropped instead.
    ///
    /// Returns the service's new index, if it was kept.
    #[cfg(feature = "balance")]
    pub(crate) fn call_ready_index_in_place(
        &mut self,
        index: usize,
        req: Req,
    ) -> (S::Future, Option<usize>) {
        let last = self.ready.len().wrapping_sub(1);
        let (key, (service, _)) = self
            .ready
            .get_index_mut(index)
            .expect("check_ready_index was not called");
        let future = service.call(req);
        if !self.pending_cancel_txs.is_empty() && self.pending_cancel_txs.contains_key(key) {
            self.ready.swap_remove_index(index);
            (future, None)
        } else {
            self.ready.swap_indices(index, last);
            (future, Some(last))
        }
    }

    fn back_to_pending(&mut self, key: K, service: S, (cancel, cancelled): (CancelTx, CancelRx)) {
        if self.pending_cancel_txs.contains_key(&key) {
            return;
        }
        self.pending_cancel_txs.insert(key.clone(), cancel);
        self.pending
            .push(Pending::new(key, service, cancelled, self.spawner));
    }
}
