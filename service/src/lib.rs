//! The [`Service`] trait: an asynchronous function from a request to a response,
//! with a readiness hook for backpressure.
//!
//! This crate holds the trait and nothing else. It has no dependencies and is
//! `#![no_std]` (it needs `alloc` only for the `Box<S>` impl), so protocol
//! libraries can depend on it without pulling in a runtime. Middleware,
//! builders and helpers live in the `donjon` crate; mocks for tests live in
//! `donjon-test`.
//!
//! # The readiness contract
//!
//! A [`Service`] is used in two steps: first [`Service::poll_ready`], then
//! [`Service::call`]. The rules both sides follow:
//!
//! 1. **Wait for `Ready(Ok(()))` before each `call`.** A caller polls
//!    `poll_ready` until it returns `Poll::Ready(Ok(()))`, and only then calls
//!    `call`, once. The next `call` needs another `Ready(Ok(()))`.
//! 2. **`poll_ready` may reserve capacity.** A service can set something aside
//!    for the next request when it reports ready: a permit of a concurrency
//!    limit, a slot in a queue, a token of a rate limit. That reservation
//!    belongs to this handle and is consumed by the next `call`. Polling again
//!    while holding it does not reserve a second one; dropping the handle
//!    releases it.
//! 3. **`Pending` means "not now, I will wake you".** A service that returns
//!    `Poll::Pending` has arranged for the task's waker (from the
//!    [`Context`]) to be woken when it may have become ready, exactly like a
//!    future does.
//! 4. **An error from `poll_ready` means the service has failed.** It will not
//!    become ready again; the caller should drop it (and perhaps build a new
//!    one). Errors of a single request come from the response future instead.
//! 5. **The response future stands alone.** The future returned by `call` does
//!    not borrow the service, so many requests can be in flight at once and the
//!    service can be polled for readiness again right away.
//!
//! Calling `call` without a preceding `Ready(Ok(()))` is a bug in the caller.
//! Implementations may panic in that case (documenting it) or return a
//! future that fails.
//!
//! # Examples
//!
//! A service that always accepts requests only has to implement `call`:
//!
//! ```
//! use core::future::{Ready, ready};
//! use core::task::{Context, Poll};
//! use donjon_service::Service;
//!
//! /// Answers each request with its length.
//! struct Length;
//!
//! impl Service<String> for Length {
//!     type Response = usize;
//!     type Error = core::convert::Infallible;
//!     type Future = Ready<Result<usize, Self::Error>>;
//!
//!     fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
//!         Poll::Ready(Ok(()))
//!     }
//!
//!     fn call(&mut self, request: String) -> Self::Future {
//!         ready(Ok(request.len()))
//!     }
//! }
//!
//! # futures::executor::block_on(async {
//! let mut service = Length;
//! // A caller always waits for readiness first.
//! core::future::poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
//! assert_eq!(service.call("donjon".to_string()).await, Ok(6));
//! # });
//! ```
//!
//! A service with limited capacity uses `poll_ready` to apply backpressure.
//! This one admits at most `capacity` requests at a time: `poll_ready`
//! reserves a slot, returns `Pending` (remembering the waker) while every slot
//! is taken, and the response future gives its slot back when it is dropped,
//! waking one waiting caller.
//!
//! ```
//! use std::collections::VecDeque;
//! use std::future::Future;
//! use std::pin::Pin;
//! use std::sync::{Arc, Mutex};
//! use std::task::{Context, Poll, Waker};
//! use donjon_service::Service;
//!
//! struct Slots {
//!     free: usize,
//!     waiting: VecDeque<Waker>,
//! }
//!
//! /// Doubles numbers, at most `capacity` at a time.
//! #[derive(Clone)]
//! struct Doubler {
//!     slots: Arc<Mutex<Slots>>,
//!     // Whether this handle holds a reserved slot (rule 2).
//!     reserved: bool,
//! }
//!
//! impl Doubler {
//!     fn new(capacity: usize) -> Self {
//!         let slots = Slots { free: capacity, waiting: VecDeque::new() };
//!         Doubler { slots: Arc::new(Mutex::new(slots)), reserved: false }
//!     }
//! }
//!
//! impl Service<u32> for Doubler {
//!     type Response = u32;
//!     type Error = &'static str;
//!     type Future = Doubling;
//!
//!     fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
//!         if self.reserved {
//!             // Already holding a slot: do not take a second one.
//!             return Poll::Ready(Ok(()));
//!         }
//!         let mut slots = self.slots.lock().unwrap();
//!         if slots.free == 0 {
//!             // Rule 3: remember who to wake before returning Pending.
//!             slots.waiting.push_back(cx.waker().clone());
//!             return Poll::Pending;
//!         }
//!         slots.free -= 1;
//!         self.reserved = true;
//!         Poll::Ready(Ok(()))
//!     }
//!
//!     fn call(&mut self, n: u32) -> Doubling {
//!         assert!(self.reserved, "Doubler::call without poll_ready returning Ready first");
//!         self.reserved = false;
//!         // The slot now travels with the response future (rule 5).
//!         Doubling { answer: n * 2, slots: self.slots.clone() }
//!     }
//! }
//!
//! impl Drop for Doubler {
//!     fn drop(&mut self) {
//!         if self.reserved {
//!             release(&self.slots); // rule 2: an unused reservation goes back
//!         }
//!     }
//! }
//!
//! struct Doubling {
//!     answer: u32,
//!     slots: Arc<Mutex<Slots>>,
//! }
//!
//! impl Future for Doubling {
//!     type Output = Result<u32, &'static str>;
//!     fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
//!         Poll::Ready(Ok(self.answer))
//!     }
//! }
//!
//! impl Drop for Doubling {
//!     fn drop(&mut self) {
//!         release(&self.slots);
//!     }
//! }
//!
//! fn release(slots: &Mutex<Slots>) {
//!     let mut slots = slots.lock().unwrap();
//!     slots.free += 1;
//!     if let Some(waker) = slots.waiting.pop_front() {
//!         waker.wake();
//!     }
//! }
//!
//! let mut first = Doubler::new(1);
//! let mut second = first.clone();
//! let waker = futures::task::noop_waker();
//! let mut cx = Context::from_waker(&waker);
//!
//! // The first handle takes the only slot and calls.
//! assert!(first.poll_ready(&mut cx).is_ready());
//! let response = first.call(21);
//! // The second handle has to wait: backpressure.
//! assert!(second.poll_ready(&mut cx).is_pending());
//! // Once the first response is done with, the slot is free again.
//! assert_eq!(futures::executor::block_on(response), Ok(42));
//! assert!(second.poll_ready(&mut cx).is_ready());
//! assert_eq!(futures::executor::block_on(second.call(4)), Ok(8));
//! ```
//!
//! The `donjon` crate builds on this: `ServiceExt::ready` and `oneshot` wait
//! for readiness for you, `service_fn` turns a closure into a service, and
//! its middleware (timeouts, limits, retries, load balancing) wrap services
//! in services.
#![no_std]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

extern crate alloc;

use alloc::boxed::Box;
use core::future::Future;
use core::task::{Context, Poll};

/// An asynchronous function from a request, of type `Req`, to a
/// [`Response`](Service::Response), that can say when it is ready to take a
/// request.
///
/// See the [crate documentation](crate) for the readiness contract that
/// callers and implementations follow.
///
/// # Examples
///
/// Driving a service by hand: wait for readiness, then call.
///
/// ```
/// use core::future::poll_fn;
/// use donjon_service::Service;
///
/// async fn send<S: Service<Req>, Req>(service: &mut S, request: Req) -> Result<S::Response, S::Error> {
///     poll_fn(|cx| service.poll_ready(cx)).await?;
///     service.call(request).await
/// }
///
/// // `Box<dyn Service>` is a service too: the trait is object safe.
/// type Future = core::future::Ready<Result<u8, ()>>;
/// struct Echo;
/// impl Service<u8> for Echo {
///     type Response = u8;
///     type Error = ();
///     type Future = Future;
///     fn poll_ready(&mut self, _: &mut core::task::Context<'_>) -> core::task::Poll<Result<(), ()>> {
///         core::task::Poll::Ready(Ok(()))
///     }
///     fn call(&mut self, n: u8) -> Future {
///         core::future::ready(Ok(n))
///     }
/// }
/// let mut boxed: Box<dyn Service<u8, Response = u8, Error = (), Future = Future> + Send> = Box::new(Echo);
/// assert_eq!(futures::executor::block_on(send(&mut boxed, 7)), Ok(7));
/// ```
pub trait Service<Req> {
    /// The value a successful call produces.
    type Response;

    /// The error a failed call, or a failed service, produces.
    type Error;

    /// The future returned by [`call`](Service::call), resolving to the
    /// response or an error.
    type Future: Future<Output = Result<Self::Response, Self::Error>>;

    /// Reports whether the service can take one more request now.
    ///
    /// - `Poll::Ready(Ok(()))`: the next [`call`](Service::call) on this handle
    ///   is accepted. The service may have reserved capacity for it; polling
    ///   again before calling does not reserve more.
    /// - `Poll::Pending`: not yet; the waker in `cx` will be woken when the
    ///   service may be ready.
    /// - `Poll::Ready(Err(_))`: the service has failed for good and should be
    ///   dropped.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>>;

    /// Processes `req`, returning a future of the response.
    ///
    /// Call it once per `Ready(Ok(()))` from
    /// [`poll_ready`](Service::poll_ready). The returned future does not
    /// borrow the service.
    ///
    /// # Panics
    ///
    /// Implementations may panic when called without a preceding
    /// `Ready(Ok(()))`; those that do say so in their documentation.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    fn call(&mut self, req: Req) -> Self::Future;
}

impl<S, Req> Service<Req> for &mut S
where
    S: Service<Req> + ?Sized,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        (**self).poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, req: Req) -> S::Future {
        (**self).call(req)
    }
}

impl<S, Req> Service<Req> for Box<S>
where
    S: Service<Req> + ?Sized,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        (**self).poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, req: Req) -> S::Future {
        (**self).call(req)
    }
}

/// The README examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
