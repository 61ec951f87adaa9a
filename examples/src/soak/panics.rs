//! Counting panics: the injected ones are expected and silenced; any other
//! is a bug, reported (through the hook that was there before) and
//! counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

use super::backend::is_injected;
use super::stacks::lock;

static INSTALL: Once = Once::new();
static INJECTED: AtomicU64 = AtomicU64::new(0);
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);
static FIRST_UNEXPECTED: Mutex<Option<String>> = Mutex::new(None);

/// Installs the counting hook, once per process.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if is_injected(info.payload()) {
                INJECTED.fetch_add(1, Ordering::SeqCst);
            } else {
                UNEXPECTED.fetch_add(1, Ordering::SeqCst);
                lock(&FIRST_UNEXPECTED).get_or_insert_with(|| info.to_string());
                previous(info);
            }
        }));
    });
}

/// The panics so far: injected, and not.
pub(crate) fn counts() -> (u64, u64) {
    (
        INJECTED.load(Ordering::SeqCst),
        UNEXPECTED.load(Ordering::SeqCst),
    )
}

/// The first panic that was not injected, described.
pub(crate) fn first_unexpected() -> Option<String> {
    lock(&FIRST_UNEXPECTED).clone()
}
