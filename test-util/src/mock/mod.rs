//! Mock services: a [`Mock`] that hands every request to the test through a
//! [`Handle`], for testing middleware against an inner service the test
//! controls.
//!
//! Build the middleware around a fresh mock with [`spawn_layer`] or
//! [`spawn_with`] (or take a bare one from [`pair`] or [`spawn`](spawn())). The
//! result is a [`Spawn`], which polls the service with a mock task so that
//! readiness and wake-ups can be checked without an executor. Through the
//! [`Handle`] the test then:
//!
//! - controls the mock's readiness with [`Handle::allow`] and
//!   [`Handle::send_error`];
//! - receives the requests that reached the mock with
//!   [`Handle::next_request`] (or the [`assert_request_eq!`](crate::assert_request_eq)
//!   macro), and answers each through its [`SendResponse`];
//! - closes the mock by dropping the handle (its `poll_ready` then fails with
//!   [`error::Closed`]).
//!
//! # Examples
//!
//! Checking that a service passes readiness through and wakes its caller:
//!
//! ```
//! use donjon_test::{assert_request_eq, mock};
//! use tokio_test::{assert_pending, assert_ready_ok, task};
//!
//! # tokio_test::block_on(async {
//! let (mut service, mut handle) = mock::spawn::<&str, &str>();
//!
//! // No calls allowed: the caller has to wait.
//! handle.allow(0);
//! assert_pending!(service.poll_ready());
//!
//! // Allowing one wakes it, and the call goes through.
//! handle.allow(1);
//! assert!(service.is_woken());
//! assert_ready_ok!(service.poll_ready());
//! let mut response = task::spawn(service.call("hello"));
//! assert_pending!(response.poll());
//!
//! assert_request_eq!(handle, "hello").send_response("world");
//! assert!(response.is_woken());
//! assert_eq!(assert_ready_ok!(response.poll()), "world");
//! # });
//! ```

pub mod error;
pub mod future;
pub mod spawn;

mod handle;
mod pair;
mod service;
mod state;

pub use self::handle::{Handle, SendResponse};
pub use self::pair::{pair, spawn, spawn_layer, spawn_with};
pub use self::service::Mock;
pub use self::spawn::Spawn;
