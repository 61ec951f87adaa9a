//! [`InFlightBudget`]: retries and hedges bounded by a share of the
//! executions in flight, shared by every layer and clone that holds it.
//!
//! # Examples
//!
//! Retries over a counted backend: a retry needs a permit, and at most a
//! tenth of the attempts in flight (at least one) may be retries.
//!
//! ```
//! use donjon::retry::budget::InFlightBudget;
//! use donjon::retry::{Policy, Retry};
//! use donjon::{BoxError, Layer, ServiceExt, service_fn};
//!
//! #[derive(Clone)]
//! struct Twice(u32);
//!
//! impl Policy<u32, u32, BoxError> for Twice {
//!     type Future = std::future::Ready<()>;
//!     fn retry(&mut self, _: &mut u32, result: &mut Result<u32, BoxError>) -> Option<Self::Future> {
//!         (result.is_err() && self.0 > 0).then(|| {
//!             self.0 -= 1;
//!             std::future::ready(())
//!         })
//!     }
//!     fn clone_request(&mut self, request: &u32) -> Option<u32> {
//!         Some(*request)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let budget = InFlightBudget::new(0.1, 1);
//! let backend = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
//! let client = Retry::new(budget.policy(Twice(2)), budget.layer().layer(backend));
//! assert_eq!(client.oneshot(7).await.unwrap(), 7);
//! assert_eq!((budget.executions(), budget.extra()), (0, 0));
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_layer::Layer;
use donjon_service::Service;
use pin_project::pin_project;

use super::super::Policy;
use crate::sync::Arc;
use crate::sync::atomic::{AtomicUsize, Ordering};

/// A budget of retries and hedges relative to the work in flight: at most
/// `max_share` of the executions in flight may be retries or hedges, and
/// never fewer than `floor` are allowed.
///
/// It counts two things, shared by every clone:
/// - the executions in flight: every attempt made through a service wrapped
///   by [`layer`](Self::layer) (a first attempt, a retry or a hedge alike),
///   from its call until its response is ready or its future dropped;
/// - the extra attempts in flight: every [`ExtraPermit`] held. A retry
///   policy wrapped by [`policy`](Self::policy) holds one from its decision
///   to retry until its next decision or the end of the request, and a
///   [`Hedge`](crate::hedge::Hedge) given the budget with `with_budget`
///   holds one while its hedge is in flight.
///
/// [`try_extra`](Self::try_extra) grants a permit while the extras in
/// flight are fewer than `max(floor, ⌊max_share × executions⌋)`. Unlike
/// [`TpsBudget`](super::TpsBudget), which bounds retries by the rate of
/// requests over a window, it bounds them by the load now: when a backend
/// fails everything at once, the retries of every request that failed
/// share the same few permits. This is failsafe-go's budget.
///
/// Put the layer innermost, under the retries and the hedges, so that every
/// attempt counts. Without it only the floor applies.
///
/// # Panics
///
/// [`new`](Self::new) panics if `max_share` is not between 0 and 1.
///
/// # Memory ordering
///
/// Both counts are figures, read and changed `Relaxed`: no other memory is
/// published through them. `try_extra` raises the extras with a
/// compare-and-swap against the bound it read, so that two callers racing
/// for the last permit cannot both take it (a loom model checks it); the
/// executions it reads may be a moment old, which moves the bound by the
/// share of an execution or two.
///
/// # Examples
///
/// ```
/// use donjon::retry::budget::InFlightBudget;
///
/// // A fifth of the executions in flight may be retries or hedges, and
/// // one always may.
/// let budget = InFlightBudget::new(0.2, 1);
/// let first = budget.try_extra().expect("the floor allows one");
/// assert!(budget.try_extra().is_none(), "nothing in flight: only the floor");
/// drop(first);
/// assert!(budget.try_extra().is_some());
/// ```
#[derive(Clone)]
pub struct InFlightBudget {
    counts: Arc<Counts>,
}

struct Counts {
    executions: AtomicUsize,
    extra: AtomicUsize,
    max_share: f64,
    floor: usize,
}

impl InFlightBudget {
    /// A budget letting `max_share` (a fraction, 0 to 1) of the executions in
    /// flight be retries or hedges, and at least `floor` of them.
    ///
    /// # Panics
    ///
    /// If `max_share` is not between 0 and 1.
    pub fn new(max_share: f64, floor: usize) -> Self {
        assert!(
            (0.0..=1.0).contains(&max_share),
            "an InFlightBudget's max_share is a fraction between 0 and 1, got {max_share}"
        );
        InFlightBudget {
            counts: Arc::new(Counts {
                executions: AtomicUsize::new(0),
                extra: AtomicUsize::new(0),
                max_share,
                floor,
            }),
        }
    }

    /// A permit for one retry or hedge, if the budget allows one now; it
    /// counts until dropped.
    pub fn try_extra(&self) -> Option<ExtraPermit> {
        let counts = &*self.counts;
        let executions = counts.executions.load(Ordering::Relaxed);
        let bound = counts.bound(executions);
        counts
            .extra
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |extra| {
                (extra < bound).then_some(extra + 1)
            })
            .ok()
            .map(|_| ExtraPermit {
                counts: Arc::clone(&self.counts),
            })
    }

    /// Counts one execution in flight until the returned guard is dropped:
    /// for attempts made some other way than through [`layer`](Self::layer).
    pub fn execution(&self) -> Execution {
        self.counts.executions.fetch_add(1, Ordering::Relaxed);
        Execution {
            counts: Arc::clone(&self.counts),
        }
    }

    /// A layer counting each call of the service it wraps as an execution in
    /// flight.
    pub fn layer(&self) -> InFlightLayer {
        InFlightLayer {
            budget: self.clone(),
        }
    }

    /// Wraps a retry policy so that each retry it asks for also needs a
    /// permit of this budget, held until the next decision or the end of
    /// the request.
    pub fn policy<P>(&self, policy: P) -> Budgeted<P> {
        Budgeted {
            policy,
            budget: self.clone(),
            permit: None,
        }
    }

    /// The executions in flight now (a figure).
    pub fn executions(&self) -> usize {
        self.counts.executions.load(Ordering::Relaxed)
    }

    /// The retries and hedges in flight now: the permits held (a figure).
    pub fn extra(&self) -> usize {
        self.counts.extra.load(Ordering::Relaxed)
    }

    /// How many retries and hedges may be in flight with `executions`
    /// executions in flight: `max(floor, ⌊max_share × executions⌋)`.
    pub fn bound(&self, executions: usize) -> usize {
        self.counts.bound(executions)
    }
}

impl Counts {
    fn bound(&self, executions: usize) -> usize {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a non-negative share of a count, rounded down"
        )]
        let share = (self.max_share * executions as f64) as usize;
        share.max(self.floor)
    }
}

impl fmt::Debug for InFlightBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InFlightBudget")
            .field("max_share", &self.counts.max_share)
            .field("floor", &self.counts.floor)
            .field("executions", &self.executions())
            .field("extra", &self.extra())
            .finish()
    }
}

/// One retry or hedge in flight, counted against an [`InFlightBudget`]
/// until dropped.
#[must_use = "the permit counts only while it is held"]
pub struct ExtraPermit {
    counts: Arc<Counts>,
}

impl Drop for ExtraPermit {
    fn drop(&mut self) {
        self.counts.extra.fetch_sub(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for ExtraPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtraPermit").finish_non_exhaustive()
    }
}

/// One execution in flight, counted by an [`InFlightBudget`] until
/// dropped.
#[must_use = "the execution counts only while the guard is held"]
pub struct Execution {
    counts: Arc<Counts>,
}

impl Drop for Execution {
    fn drop(&mut self) {
        self.counts.executions.fetch_sub(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Execution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Execution").finish_non_exhaustive()
    }
}

/// Counts the calls of the services it wraps as executions of an
/// [`InFlightBudget`]; made by [`InFlightBudget::layer`].
#[derive(Debug, Clone)]
pub struct InFlightLayer {
    budget: InFlightBudget,
}

impl<S> Layer<S> for InFlightLayer {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Counted {
            inner,
            budget: self.budget.clone(),
        }
    }
}

/// A service whose calls count as executions of an [`InFlightBudget`],
/// from the call until the response is ready or the future dropped. Its
/// readiness and errors are the inner service's.
#[derive(Debug, Clone)]
pub struct Counted<S> {
    inner: S,
    budget: InFlightBudget,
}

impl<S> Counted<S> {
    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for Counted<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = CountedFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let execution = self.budget.execution();
        CountedFuture {
            inner: self.inner.call(request),
            execution: Some(execution),
        }
    }
}

/// The response future of [`Counted`]: the inner one, counted as an
/// execution until it is ready or dropped.
#[pin_project]
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct CountedFuture<F> {
    #[pin]
    inner: F,
    execution: Option<Execution>,
}

impl<F: Future> Future for CountedFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        this.execution.take();
        Poll::Ready(output)
    }
}

/// A retry policy whose retries also need a permit of an
/// [`InFlightBudget`]; made by [`InFlightBudget::policy`].
///
/// When an attempt ends, it first asks the budget for a permit: without
/// one the request is not retried, and the inner policy is not asked (so
/// that a [`TpsBudget`](super::TpsBudget) it holds is not drawn on); with
/// one, the inner policy decides, and the permit is kept for the retry
/// (until the next decision, or the end of the request) or given back.
pub struct Budgeted<P> {
    policy: P,
    budget: InFlightBudget,
    /// The permit of the retry in progress.
    permit: Option<ExtraPermit>,
}

impl<P: Clone> Clone for Budgeted<P> {
    /// The same policy and budget, with no retry in progress.
    fn clone(&self) -> Self {
        Budgeted {
            policy: self.policy.clone(),
            budget: self.budget.clone(),
            permit: None,
        }
    }
}

impl<P: fmt::Debug> fmt::Debug for Budgeted<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budgeted")
            .field("policy", &self.policy)
            .field("budget", &self.budget)
            .field("retrying", &self.permit.is_some())
            .finish()
    }
}

impl<P, Req, Res, E> Policy<Req, Res, E> for Budgeted<P>
where
    P: Policy<Req, Res, E>,
{
    type Future = P::Future;

    fn retry(&mut self, request: &mut Req, result: &mut Result<Res, E>) -> Option<Self::Future> {
        // The attempt that ended gives its permit back first: it is no
        // longer in flight.
        self.permit = None;
        let permit = self.budget.try_extra()?;
        let delay = self.policy.retry(request, result)?;
        self.permit = Some(permit);
        Some(delay)
    }

    fn clone_request(&mut self, request: &Req) -> Option<Req> {
        self.policy.clone_request(request)
    }
}

#[cfg(all(test, donjon_loom))]
mod loom_models {
    use super::*;

    #[test]
    fn loom_in_flight_two_callers_racing_for_the_last_permit_get_one() {
        loom::model(|| {
            let budget = InFlightBudget::new(0.0, 1);
            let other = budget.clone();
            // The permits are returned, held until the checks are done.
            let racer = loom::thread::spawn(move || other.try_extra());
            let here = budget.try_extra();
            let there = racer.join().unwrap();
            assert!(
                here.is_some() != there.is_some(),
                "exactly one permit of one"
            );
            assert_eq!(budget.extra(), 1);
            drop((here, there));
            assert!(budget.try_extra().is_some(), "given back: free again");
        });
    }

    #[test]
    fn loom_in_flight_permits_given_back_concurrently_are_all_counted() {
        loom::model(|| {
            let budget = InFlightBudget::new(0.0, 2);
            let first = budget.try_extra().unwrap();
            let second = budget.try_extra().unwrap();
            let giver = loom::thread::spawn(move || drop(first));
            drop(second);
            giver.join().unwrap();
            assert_eq!(budget.extra(), 0);
            assert!(budget.try_extra().is_some());
        });
    }
}
