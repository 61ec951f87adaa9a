//! Route each request to one of several services, chosen by a function of
//! the request.
//!
//! [`Steer`] holds a list of services and a [`Picker`] that, for each
//! request, returns the index of the service to send it to: by path, by
//! method, by tenant... It waits until **every** service is ready before
//! reporting ready itself (it cannot know in advance which one the next
//! request needs), so one slow service holds back requests for the others;
//! put a [`Buffer`](crate::buffer::Buffer) or a load shedder in front of
//! the services where that matters.
//!
//! Feature: `steer`.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, ServiceExt, service_fn};
//! use donjon::steer::Steer;
//! use donjon::util::BoxService;
//!
//! # futures::executor::block_on(async {
//! let api: BoxService<String, String, BoxError> =
//!     service_fn(|path: String| async move { Ok::<_, BoxError>(format!("api: {path}")) }).boxed();
//! let files: BoxService<String, String, BoxError> =
//!     service_fn(|path: String| async move { Ok::<_, BoxError>(format!("file: {path}")) }).boxed();
//!
//! let router = Steer::new([api, files], |path: &String, _services: &[_]| {
//!     if path.starts_with("/api/") { 0 } else { 1 }
//! });
//! assert_eq!(router.oneshot("/api/users".to_string()).await?, "api: /api/users");
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! ```

mod picker;
mod service;

pub use self::picker::Picker;
pub use self::service::Steer;
