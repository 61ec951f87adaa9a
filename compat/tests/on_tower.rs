//! The compatibility program (see `suite/mod.rs`) against the upstream
//! crates: tower 0.5.3, tower-service 0.3.3, tower-layer 0.3.3 and
//! tower-test 0.4.

mod suite;
