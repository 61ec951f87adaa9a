//! `AdaptiveConcurrencyLimit`, its layer and handle: the readiness contract,
//! errors, cancellation, the inner service failing, misuse, and callers
//! waiting as the limit moves (driven by a scripted algorithm).

mod cancellation;
mod classification;
mod errors;
mod layer;
mod misuse;
mod moving_limit;
mod readiness;
mod stateless;
mod threads;

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use donjon::classify::Outcome;
use donjon::limit::adaptive::{
    AdaptiveConcurrencyLimit, AdaptiveConcurrencyLimitLayer, Aimd, Algorithm, Sample,
};
use donjon::{BoxError, Layer, Service, ServiceBuilder};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};

use super::{Background, Script, ms, new_service, round_trip, scripted};
use crate::support::{Boom, assert_readiness_follows_mock};
