//! The compatibility program (see `suite/mod.rs`) against donjon: the same
//! source as `on_tower.rs`, after renaming the crates as the promise
//! says (`tower` → `donjon`, `tower_service` → `donjon_service`,
//! `tower_layer` → `donjon_layer`, `tower_test` → `donjon_test`).

extern crate donjon as tower;
extern crate donjon_layer as tower_layer;
extern crate donjon_service as tower_service;
extern crate donjon_test as tower_test;

mod suite;
