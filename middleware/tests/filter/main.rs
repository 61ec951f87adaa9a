//! Integration tests of `donjon::filter`: `Filter`, `AsyncFilter`, their
//! layers, and the `ServiceBuilder` / `ServiceExt` shortcuts that build them.
#![cfg(feature = "filter")]

mod async_filter;
mod construction;
#[path = "../support/mod.rs"]
mod support;
mod sync_filter;

use std::error::Error;
use std::fmt;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use donjon::filter::{AsyncPredicate, Predicate};
use donjon::{BoxError, Service};
use tokio::sync::oneshot;

/// The error the test predicates reject requests with.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rejected(pub(crate) &'static str);

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rejected: {}", self.0)
    }
}

impl Error for Rejected {}

/// A synchronous predicate that changes the request type: text in, number
/// out; text that is not a number is rejected with its `ParseIntError`.
pub(crate) fn parse() -> impl Predicate<&'static str, Request = u32> + Clone {
    |text: &'static str| text.parse::<u32>()
}

/// The request of the asynchronous test predicate: a number, and the gate
/// that decides whether it passes.
pub(crate) type Gated = (u32, oneshot::Receiver<bool>);

/// A request whose check stays pending until the returned sender opens
/// (`true`) or shuts (`false`) its gate.
pub(crate) fn gate(n: u32) -> (oneshot::Sender<bool>, Gated) {
    let (open, gate) = oneshot::channel();
    (open, (n, gate))
}

/// An asynchronous predicate that changes the request type (number in, text
/// out) once the request's gate opens, and rejects it with `Rejected` when
/// the gate shuts or its sender is dropped.
pub(crate) fn gated() -> impl AsyncPredicate<Gated, Request = String> + Clone {
    |(n, gate): Gated| async move {
        match gate.await {
            Ok(true) => Ok(n.to_string()),
            Ok(false) => Err(Rejected("gate shut")),
            Err(_) => Err(Rejected("gate dropped")),
        }
    }
}

/// A service with a single, exclusive slot: `poll_ready` takes the slot for
/// this handle (or parks until it is free), `call` uses it up, and dropping
/// a handle that holds it gives it back and wakes the parked handles.
///
/// Unlike the mock, whose reservations do not exclude each other, it shows
/// which handle holds a reservation. It echoes requests.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    shared: Arc<Mutex<SlotState>>,
    held: Option<Permit>,
}

#[derive(Debug, Default)]
struct SlotState {
    taken: bool,
    parked: Vec<Waker>,
}

/// The slot, held by one handle; dropping it frees the slot.
#[derive(Debug)]
struct Permit(Arc<Mutex<SlotState>>);

impl Drop for Permit {
    fn drop(&mut self) {
        let parked = {
            let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            state.taken = false;
            std::mem::take(&mut state.parked)
        };
        parked.into_iter().for_each(Waker::wake);
    }
}

impl Slot {
    pub(crate) fn new() -> Self {
        Slot::default()
    }
}

impl Clone for Slot {
    /// A clone shares the slot but never the reservation.
    fn clone(&self) -> Self {
        Slot {
            shared: Arc::clone(&self.shared),
            held: None,
        }
    }
}

impl<T> Service<T> for Slot {
    type Response = T;
    type Error = BoxError;
    type Future = Ready<Result<T, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.held.is_some() {
            return Poll::Ready(Ok(()));
        }
        let mut state = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if state.taken {
            state.parked.push(cx.waker().clone());
            return Poll::Pending;
        }
        state.taken = true;
        drop(state);
        self.held = Some(Permit(Arc::clone(&self.shared)));
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: T) -> Self::Future {
        let permit = self
            .held
            .take()
            .expect("Slot called without holding the slot");
        drop(permit);
        ready(Ok(request))
    }
}
