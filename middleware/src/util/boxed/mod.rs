//! Services and layers whose concrete type is erased behind a box.

#[macro_use]
mod macros;

mod box_clone_service;
mod box_clone_sync_service;
mod box_service;
mod erase;
mod unsync;

pub use self::box_clone_service::{BoxCloneService, BoxCloneServiceLayer};
pub use self::box_clone_sync_service::{BoxCloneSyncService, BoxCloneSyncServiceLayer};
pub use self::box_service::{BoxLayer, BoxService};
pub use self::unsync::UnsyncBoxService;
