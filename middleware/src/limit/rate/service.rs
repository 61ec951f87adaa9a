use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use donjon_service::Service;
use tokio::time::{Instant, Sleep, sleep_until};

use super::Rate;

/// Lets at most [`Rate::num`] requests through per [`Rate::per`].
///
/// The budget is counted in fixed windows: a window opens with the first
/// request after the previous window ended, and holds `num` requests. When
/// the budget is spent, `poll_ready` is `Pending` until the window ends.
///
/// `RateLimit` is `Clone`, and **all clones share one budget**: cloning a
/// rate-limited service (as web frameworks do per connection or per route)
/// does not multiply the rate. Each `poll_ready` that returns `Ready(Ok(()))`
/// takes one request of the budget for its handle's next `call`; a handle
/// dropped before using it gives it back.
///
/// It can be built outside a tokio runtime: the timer it waits on is set up
/// the first time the budget runs out.
///
/// # Backpressure
///
/// `poll_ready` is `Pending` while the budget of the current window is
/// spent, and wakes the caller when the window ends. The inner service's
/// readiness is polled once a request of the budget is held.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning `Ready(Ok(()))`.
/// Waiting for a window to end needs a tokio runtime with its time driver
/// enabled.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::limit::rate::{Rate, RateLimit};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let echo = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
/// let limited = RateLimit::new(echo, Rate::new(10, Duration::from_secs(1)));
/// // Clones share the 10 requests per second.
/// let clone = limited.clone();
/// assert_eq!(limited.oneshot(1).await? + clone.oneshot(2).await?, 3);
/// # Ok(())
/// # }
/// ```
pub struct RateLimit<T> {
    inner: T,
    budget: BudgetHandle,
    /// The timer to wait on while the budget is spent; boxed so that the
    /// service stays `Unpin`, and kept to be reused.
    sleep: Option<Pin<Box<Sleep>>>,
}

/// The budget all clones of a [`RateLimit`] share.
struct Budget {
    rate: Rate,
    window: Mutex<Window>,
}

struct Window {
    /// When the current window ends; `None` before the first request.
    until: Option<Instant>,
    /// Requests left in the current window.
    remaining: u64,
}

impl Budget {
    fn lock(&self) -> MutexGuard<'_, Window> {
        // The window is plain data, consistent between statements: a panic
        // elsewhere while it was locked does not corrupt it.
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one request of the budget, returning the end of its window, or
    /// `Err` with the end of the current, spent, window.
    fn take(&self) -> Result<Instant, Instant> {
        let now = Instant::now();
        let mut window = self.lock();
        let until = match window.until {
            Some(until) if now < until => until,
            _ => {
                let until = now + self.rate.per();
                window.until = Some(until);
                window.remaining = self.rate.num();
                until
            }
        };
        if window.remaining == 0 {
            return Err(until);
        }
        window.remaining -= 1;
        Ok(until)
    }

    /// Gives back a request taken in the window ending at `until`, if that
    /// window is still the current one.
    fn give_back(&self, until: Instant) {
        let mut window = self.lock();
        if window.until == Some(until) {
            window.remaining += 1;
        }
    }
}

/// One handle's link to the shared budget, with the request of the budget
/// it holds for its next call, given back if the handle is dropped unused.
struct BudgetHandle {
    budget: Arc<Budget>,
    /// The end of the window the held request was taken from.
    reserved: Option<Instant>,
}

impl Drop for BudgetHandle {
    fn drop(&mut self) {
        if let Some(until) = self.reserved.take() {
            self.budget.give_back(until);
        }
    }
}

impl<T> RateLimit<T> {
    /// Wraps `inner`, letting `rate.num()` requests through per
    /// `rate.per()`.
    pub fn new(inner: T, rate: Rate) -> Self {
        let budget = Budget {
            rate,
            window: Mutex::new(Window {
                until: None,
                remaining: rate.num(),
            }),
        };
        RateLimit {
            inner,
            budget: BudgetHandle {
                budget: Arc::new(budget),
                reserved: None,
            },
            sleep: None,
        }
    }

    /// The rate this service is limited to.
    pub fn rate(&self) -> Rate {
        self.budget.budget.rate
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Returns the inner service, giving back an unused request of the
    /// budget.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<S, Request> Service<Request> for RateLimit<S>
where
    S: Service<Request>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        while self.budget.reserved.is_none() {
            match self.budget.budget.take() {
                Ok(until) => self.budget.reserved = Some(until),
                Err(until) => {
                    let sleep = match &mut self.sleep {
                        Some(sleep) => {
                            if sleep.deadline() != until {
                                sleep.as_mut().reset(until);
                            }
                            sleep
                        }
                        None => self.sleep.insert(Box::pin(sleep_until(until))),
                    };
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    // The window has ended: take from the next one.
                }
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        assert!(
            self.budget.reserved.take().is_some(),
            "service not ready; poll_ready must be called first"
        );
        self.inner.call(request)
    }
}

impl<T: Clone> Clone for RateLimit<T> {
    fn clone(&self) -> Self {
        RateLimit {
            inner: self.inner.clone(),
            // Same budget; the clone holds no request of it.
            budget: BudgetHandle {
                budget: Arc::clone(&self.budget.budget),
                reserved: None,
            },
            sleep: None,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for RateLimit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("inner", &self.inner)
            .field("rate", &self.budget.budget.rate)
            .field("reserved", &self.budget.reserved.is_some())
            .finish_non_exhaustive()
    }
}
