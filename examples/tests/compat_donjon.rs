//! The compatibility program (see `compat/mod.rs`) against donjon: the same
//! source as `compat_tower.rs`, after renaming the crates as the promise
//! says (`tower` → `donjon`, `tower_service` → `donjon_service`,
//! `tower_layer` → `donjon_layer`, `tower_test` → `donjon_test`).

extern crate donjon as tower;
extern crate donjon_layer as tower_layer;
extern crate donjon_service as tower_service;
extern crate donjon_test as tower_test;

#[path = "compat/mod.rs"]
mod compat;
