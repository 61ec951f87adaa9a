//! `CircuitBreaker`, in both open behaviours.

use donjon::circuit_breaker::{CircuitBreakerLayer, Config, OpenBehavior};

use super::*;

#[tokio::test(start_paused = true)]
async fn a_circuit_breaker_keeps_the_contract_in_both_open_behaviours() {
    // The checks' dropped futures and injected readiness errors are not
    // failed calls: the breaker stays closed and lets everything
    // through.
    Contract::new(CircuitBreakerLayer::new(Config::new()), hello)
        .check_cloneable::<Req, Res>()
        .await;
    let not_ready = Config::new()
        .with_open_duration(SECOND)
        .with_open_behavior(OpenBehavior::NotReady);
    Contract::new(CircuitBreakerLayer::new(not_ready), hello)
        .check_cloneable::<Req, Res>()
        .await;
}
