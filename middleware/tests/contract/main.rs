//! Every donjon middleware that wraps a service, run through the readiness
//! contract kit (`donjon_test::contract`) around donjon-test mocks.
//!
//! Each test names the middleware; a rule it legitimately does not keep is
//! skipped with the documented reason. The kit never advances the paused
//! clock, so no timeout or rate window ends during the checks.
#![cfg(feature = "util")]

#[cfg(feature = "balance")]
mod balance;
#[cfg(feature = "buffer")]
mod buffer;
#[cfg(feature = "circuit-breaker")]
mod circuit_breaker;
#[cfg(feature = "deadline")]
mod deadline;
#[cfg(feature = "fallback")]
mod fallback;
#[cfg(feature = "filter")]
mod filter;
#[cfg(feature = "hedge")]
mod hedge;
#[cfg(feature = "limit")]
mod limit;
#[cfg(feature = "load")]
mod load;
#[cfg(feature = "load-shed")]
mod load_shed;
#[cfg(feature = "metrics")]
mod metrics;
#[cfg(feature = "priority")]
mod priority;
#[cfg(feature = "reconnect")]
mod reconnect;
#[cfg(feature = "retry")]
mod retry;
#[cfg(feature = "spawn-ready")]
mod spawn_ready;
#[cfg(feature = "steer")]
mod steer;
#[cfg(feature = "throttle")]
mod throttle;
#[cfg(feature = "timeout")]
mod timeout;
#[cfg(all(feature = "tower-compat", feature = "timeout"))]
mod tower_compat;
mod util;

use donjon::BoxError;
use donjon::layer::layer_fn;
use donjon_test::contract::Contract;
use donjon_test::mock::Mock;

/// The mock's request type.
type Req = &'static str;
/// The mock's response type.
type Res = &'static str;

/// The request every check sends.
fn hello() -> Req {
    "hello"
}

/// Longer than the checks take: no timer fires.
#[cfg(any(
    feature = "circuit-breaker",
    feature = "deadline",
    feature = "hedge",
    feature = "limit",
    feature = "load-shed",
    feature = "timeout"
))]
const SECOND: std::time::Duration = std::time::Duration::from_secs(1);
