//! Checks that programs written for tower work on donjon; the checks are
//! this crate's tests, described in its `README.md`. It has no library.

#![forbid(unsafe_code)]
