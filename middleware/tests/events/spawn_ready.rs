//! `donjon::spawn_ready`: the readiness task runs in the caller's span.

use donjon::ServiceExt;
use donjon::spawn_ready::SpawnReady;
use tracing::Instrument;

use crate::{ReadyLater, capture, lines_with};

#[tokio::test(start_paused = true)]
async fn the_readiness_task_runs_in_the_callers_span() {
    let (captured, _guard) = capture();
    let service = SpawnReady::new(ReadyLater::default());

    let answer = service
        .oneshot(7)
        .instrument(tracing::info_span!("caller", id = 7))
        .await
        .expect("the service answers");
    assert_eq!(answer, 7);

    let spawned = lines_with(&captured, "spawned=true");
    assert_eq!(spawned, [" INFO caller{id=7}: inner ready spawned=true"]);
}
