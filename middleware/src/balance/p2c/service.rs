use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use donjon_service::Service;
use futures_util::TryFutureExt;
use futures_util::future::MapErr;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::BoxError;
use crate::balance::error;
use crate::discover::{Change, Discover};
use crate::load::Load;
use crate::ready_cache::ReadyCache;
use crate::ready_cache::error::Failed;
use crate::util::ServiceExt;
use crate::util::rng::{FastRng, Rng, sample_floyd2};

/// Sends each request to the less loaded of two ready endpoints picked at
/// random.
///
/// # Readiness
///
/// `poll_ready` first takes in every change the discovery has (an endpoint
/// inserted under a key already in use replaces the old one once the new
/// one is ready), then drives the endpoints that are not ready, then picks
/// an endpoint: with none ready it is `Pending` (woken by the discovery or by
/// an endpoint becoming ready); with one ready it takes it; with more it
/// samples two at random and takes the one with the lower
/// [`load`](Load::load) (the first sampled on a tie). The chosen endpoint's
/// own `poll_ready` is called before reporting ready, and `call` sends the
/// request to it, after which it is driven to readiness again. Picking costs
/// the same whatever the number of endpoints.
///
/// An endpoint whose readiness fails is dropped (and reported at `debug`
/// level through `tracing`); the balancer goes on with the others. A
/// discovery that ends is not an error: the endpoints found keep serving.
///
/// Endpoints that are not ready (still connecting, say) are driven when the
/// balancer is polled. To have them driven in the background, even while no
/// request comes, see [`with_background_readiness`](Balance::with_background_readiness).
///
/// # Cancellation
///
/// The balancer holds nothing for a request once `call` has returned: the
/// response future is the chosen endpoint's, and dropping it drops that
/// endpoint's future with whatever it held (a load measure's count of
/// requests in flight, for one, falls back at once). Dropping the balancer
/// drops its endpoints and its discovery, and aborts the background
/// readiness tasks; requests already sent are not cancelled by it.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: the endpoints' response errors as
/// they are, and [`error::Discover`] wrapping a failed discovery, after
/// which the balancer should be dropped.
///
/// # Metrics
///
/// With the `metrics` feature, the gauge `donjon_balancer_endpoints` (see
/// [`metrics`](crate::metrics)) counts the endpoints the balancer holds,
/// with the `state` label `ready` or `pending` (not ready, or not checked
/// since), under the name given to [`with_name`](Balance::with_name) or to
/// the [`MakeBalance`](super::MakeBalance) that made it (`"balance"` by
/// default). Balancers of one name add up: each moves the gauges by its own
/// changes, and takes its endpoints away when dropped. The counts are
/// compared with the last ones shown at the end of each `poll_ready` and
/// `call`, and the recorder is called only when they changed.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning
/// `Ready(Ok(()))`.
pub struct Balance<D, Req>
where
    D: Discover,
    D::Key: Hash,
{
    discover: D,
    services: ReadyCache<D::Key, D::Service, Req>,
    /// The endpoint chosen by `poll_ready` for the next call.
    ready_index: Option<usize>,
    /// The endpoint the last call went to, kept in the ready set: the next
    /// `poll_ready` checks it first, as tower's would find it in the
    /// pending set.
    called: Option<usize>,
    rng: PickRng,
    /// With background readiness: the waker of the last `poll_ready`, to
    /// drive an endpoint as soon as a call returns it to pending.
    background: Option<Option<Waker>>,
    #[cfg(feature = "metrics")]
    meter: super::meter::Meter,
}

impl<D, Req> Balance<D, Req>
where
    D: Discover,
    D::Key: Hash,
    D::Service: Service<Req>,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
{
    /// Creates a balancer over the endpoints `discover` finds, picking with
    /// a small, fast generator seeded at random.
    pub fn new(discover: D) -> Self {
        Self::with_pick_rng(
            discover,
            PickRng::Fast(FastRng::new()),
            #[cfg(feature = "metrics")]
            DEFAULT_NAME.into(),
        )
    }

    /// Creates a balancer over the endpoints `discover` finds, picking with
    /// `rng`.
    pub fn from_rng<R: Rng + Send + Sync + 'static>(discover: D, rng: R) -> Self {
        Self::with_pick_rng(
            discover,
            PickRng::Given(Box::new(rng)),
            #[cfg(feature = "metrics")]
            DEFAULT_NAME.into(),
        )
    }

    fn with_pick_rng(
        discover: D,
        rng: PickRng,
        #[cfg(feature = "metrics")] name: std::borrow::Cow<'static, str>,
    ) -> Self {
        Balance {
            discover,
            services: ReadyCache::default(),
            ready_index: None,
            called: None,
            rng,
            background: None,
            #[cfg(feature = "metrics")]
            meter: super::meter::Meter::new(name),
        }
    }

    /// A balancer over the endpoints `discover` finds, named `name` in its
    /// metrics.
    #[cfg(feature = "metrics")]
    pub(super) fn named(discover: D, name: std::borrow::Cow<'static, str>) -> Self {
        Self::with_pick_rng(discover, PickRng::Fast(FastRng::new()), name)
    }

    /// Names it in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)), taking the handles of
    /// `donjon_balancer_endpoints` from the recorder installed now. Its
    /// endpoints move from the gauges of the name it had to the new ones.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.meter = super::meter::Meter::new(name.into());
        self.show_endpoints();
        self
    }

    /// Brings the gauges of its endpoints up to date.
    #[cfg(feature = "metrics")]
    #[inline]
    fn show_endpoints(&mut self) {
        let (ready, pending) = (self.services.ready_len(), self.services.pending_len());
        self.meter.show(ready, pending);
    }

    /// The number of endpoints, ready or not.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether the balancer has no endpoint.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

impl<D, Req> Balance<D, Req>
where
    D: Discover,
    D::Key: Hash + Clone,
    D::Service: Service<Req> + Send + 'static,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
    Req: 'static,
{
    /// Drives endpoints that are not ready in background tasks, so that
    /// they make progress (connect, recover) even while no request comes and
    /// nothing polls the balancer.
    ///
    /// An endpoint found not ready is moved into a task spawned on the
    /// current tokio runtime (in the current `tracing` span), which hands it
    /// back once it is ready and wakes the task waiting on the balancer. An
    /// endpoint is checked as soon as a call returns it to the pending set,
    /// so one that is not ready after a call goes to the background at once.
    /// The tasks are aborted when their endpoint is removed or the balancer
    /// dropped. This needs the endpoints to be `Send`, which tower's
    /// `Balance::new` cannot ask for: hence a separate method.
    ///
    /// # Panics
    ///
    /// Polling the balancer panics outside a tokio runtime once an endpoint
    /// is found not ready.
    pub fn with_background_readiness(mut self) -> Self {
        self.services
            .set_spawner(spawn_readiness::<D::Service, Req>);
        self.background = Some(None);
        self
    }
}

/// The `name` label of a balancer's metrics, unless it is given one.
#[cfg(feature = "metrics")]
pub(super) const DEFAULT_NAME: &str = "balance";

/// The generator a balancer samples endpoints with: its own fast one, or
/// the one given to [`Balance::from_rng`] (called through a box).
enum PickRng {
    Fast(FastRng),
    Given(Box<dyn Rng + Send + Sync>),
}

impl Rng for PickRng {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        match self {
            PickRng::Fast(rng) => rng.next_u64(),
            PickRng::Given(rng) => rng.next_u64(),
        }
    }
}

/// Drives `service` to readiness in a spawned task, aborted when the
/// returned future is dropped.
fn spawn_readiness<S, Req>(service: S) -> crate::ready_cache::Driver<S>
where
    S: Service<Req> + Send + 'static,
    S::Error: Into<BoxError>,
    Req: 'static,
{
    let ready = service
        .ready_oneshot()
        .map_err(Into::into as fn(S::Error) -> BoxError);
    let task = tokio::spawn(ready.instrument(tracing::Span::current()));
    Box::pin(AbortOnDrop(task))
}

/// A spawned task's handle that aborts the task when dropped.
struct AbortOnDrop<S>(JoinHandle<Result<S, BoxError>>);

impl<S> Future for AbortOnDrop<S> {
    type Output = Result<S, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|joined| joined.map_err(BoxError::from).and_then(|ready| ready))
    }
}

impl<S> Drop for AbortOnDrop<S> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<D, Req> Balance<D, Req>
where
    D: Discover + Unpin,
    D::Key: Hash + Clone,
    D::Error: Into<BoxError>,
    D::Service: Service<Req> + Load,
    <D::Service as Load>::Metric: fmt::Debug,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
{
    /// Takes in every change the discovery has for now.
    ///
    /// A discovery that ends is polled again on the next call, as tower does:
    /// endpoints found so far keep serving, and a stream that yields again
    /// later is heard.
    fn update_from_discover(&mut self, cx: &mut Context<'_>) -> Result<(), error::Discover> {
        loop {
            match Pin::new(&mut self.discover).poll_discover(cx) {
                Poll::Pending | Poll::Ready(None) => return Ok(()),
                Poll::Ready(Some(Err(error))) => return Err(error::Discover(error.into())),
                Poll::Ready(Some(Ok(Change::Insert(key, service)))) => {
                    self.services.push(key, service);
                    tracing::debug!(
                        endpoints = self.services.live_len(),
                        "load balancer: endpoint inserted"
                    );
                }
                Poll::Ready(Some(Ok(Change::Remove(key)))) => {
                    if self.services.evict(&key) {
                        tracing::debug!(
                            endpoints = self.services.live_len(),
                            "load balancer: endpoint removed"
                        );
                    }
                }
            }
        }
    }

    /// Drives the endpoints that are not ready, dropping the failed ones.
    fn promote_pending(&mut self, cx: &mut Context<'_>) {
        if self.services.pending_len() == 0 {
            // Nothing to drive; whatever becomes pending later is pushed,
            // and polled, by this balancer's own `poll_ready`.
            return;
        }
        loop {
            match self.services.poll_pending(cx) {
                Poll::Ready(Ok(())) | Poll::Pending => return,
                Poll::Ready(Err(failed)) => dropped(&failed, self.services.live_len()),
            }
        }
    }

    /// Picks a ready endpoint: the less loaded of two sampled at random.
    fn pick(&mut self) -> Option<usize> {
        match self.services.ready_len() {
            0 => None,
            1 => Some(0),
            len => {
                let [first, second] = sample_floyd2(&mut self.rng, len as u64);
                let (first, second) = (first as usize, second as usize);
                let load = |index: usize| {
                    let (_, service) = self
                        .services
                        .get_ready_index(index)
                        .expect("sampled indices are in range");
                    service.load()
                };
                let (first_load, second_load) = (load(first), load(second));
                // The first wins ties; loads that cannot be compared go to the
                // second, as in tower.
                let chosen = if first_load <= second_load {
                    first
                } else {
                    second
                };
                tracing::trace!(?first_load, ?second_load, chosen, "load balancer: picked");
                Some(chosen)
            }
        }
    }
}

/// Reports an endpoint dropped because its readiness failed, with the
/// endpoints left.
fn dropped<K>(failed: &Failed<K>, endpoints: usize) {
    tracing::debug!(
        error = %failed,
        endpoints,
        "load balancer: dropped an endpoint whose readiness failed"
    );
}

impl<D, Req> Service<Req> for Balance<D, Req>
where
    D: Discover + Unpin,
    D::Key: Hash + Clone,
    D::Error: Into<BoxError>,
    D::Service: Service<Req> + Load,
    <D::Service as Load>::Metric: fmt::Debug,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
{
    type Response = <D::Service as Service<Req>>::Response;
    type Error = BoxError;
    type Future = MapErr<
        <D::Service as Service<Req>>::Future,
        fn(<D::Service as Service<Req>>::Error) -> BoxError,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let ready = self.poll_pick(cx);
        #[cfg(feature = "metrics")]
        self.show_endpoints();
        ready
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let future = self.call_picked(request);
        #[cfg(feature = "metrics")]
        self.show_endpoints();
        future.map_err(Into::into as fn(_) -> BoxError)
    }
}

impl<D, Req> Balance<D, Req>
where
    D: Discover + Unpin,
    D::Key: Hash + Clone,
    D::Error: Into<BoxError>,
    D::Service: Service<Req> + Load,
    <D::Service as Load>::Metric: fmt::Debug,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
{
    /// Takes in the discovery's changes, drives the endpoints, and picks one
    /// for the next call: [`Service::poll_ready`], but for the metrics.
    fn poll_pick(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if let Some(waker) = &mut self.background {
            crate::sync::register(waker, cx.waker());
        }
        if let Some(index) = self.called.take() {
            // Not ready: to the pending set, driven with the others. Failed:
            // dropped now, not when next picked.
            if let Err(failed) = self.services.check_ready_index(cx, index) {
                dropped(&failed, self.services.live_len());
            }
        }
        self.update_from_discover(cx)?;
        self.promote_pending(cx);
        loop {
            if let Some(index) = self.ready_index {
                match self.services.check_ready_index(cx, index) {
                    Ok(true) => return Poll::Ready(Ok(())),
                    Ok(false) => {}
                    Err(failed) => dropped(&failed, self.services.live_len()),
                }
                self.ready_index = None;
            }
            match self.pick() {
                Some(index) => self.ready_index = Some(index),
                None => return Poll::Pending,
            }
        }
    }

    /// Sends `request` to the endpoint picked: [`Service::call`], but for
    /// the metrics.
    fn call_picked(&mut self, request: Req) -> <D::Service as Service<Req>>::Future {
        let index = self.ready_index.take().expect("called before ready");
        // The endpoint stays in the ready set, unchecked, until the next
        // `poll_ready` checks it; picks check their endpoint anyway. This
        // spares a move through the pending set (and an allocation) per
        // request.
        let (future, index) = self.services.call_ready_index_in_place(index, request);
        self.called = index;
        let waker = match index {
            Some(_) => self.background.as_mut().and_then(Option::take),
            None => None,
        };
        if let (Some(index), Some(waker)) = (index, waker) {
            self.called = None;
            // Check the endpoint now: if it is not ready, it goes to the
            // background instead of waiting until it is picked. The waker is
            // lent, not cloned, and put back.
            match self
                .services
                .check_ready_index(&mut Context::from_waker(&waker), index)
            {
                Ok(_) => {}
                Err(failed) => dropped(&failed, self.services.live_len()),
            }
            self.promote_pending(&mut Context::from_waker(&waker));
            self.background = Some(Some(waker));
        }
        future
    }
}

impl<D, Req> fmt::Debug for Balance<D, Req>
where
    D: Discover + fmt::Debug,
    D::Key: Hash + fmt::Debug,
    D::Service: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balance")
            .field("discover", &self.discover)
            .field("services", &self.services)
            .finish()
    }
}
