//! `Buffer`, ready while its queue has room, and through its worker.

use donjon::buffer::{Buffer, BufferLayer};
use donjon_test::contract::Rule;

use super::*;

const QUEUE_READINESS: &str = "documented: readiness is a place in the queue, not the inner \
                               service's readiness; the worker waits for the inner service";

#[tokio::test(start_paused = true)]
async fn buffer_keeps_the_contract_but_is_ready_while_its_queue_has_room() {
    Contract::new(BufferLayer::<Req>::new(1), hello)
        .skip(Rule::PendingPropagates, QUEUE_READINESS)
        .check_cloneable::<Req, Res>()
        .await;

    // The exception is needed, and is the only one.
    let report = Contract::new(BufferLayer::<Req>::new(1), hello)
        .report_cloneable::<Req, Res>()
        .await;
    assert_eq!(report.broken(), [Rule::PendingPropagates], "{report}");
}

#[tokio::test(start_paused = true)]
async fn buffer_through_its_worker_keeps_the_contract() {
    // Made with `pair`, the buffer always goes through its worker.
    let layer = layer_fn(|mock: Mock<Req, Res>| {
        let (buffer, worker) = Buffer::pair(mock, 1);
        tokio::spawn(worker);
        buffer
    });
    Contract::new(layer, hello)
        .skip(Rule::PendingPropagates, QUEUE_READINESS)
        .check_cloneable::<Req, Res>()
        .await;

    let report = Contract::new(layer, hello)
        .report_cloneable::<Req, Res>()
        .await;
    assert_eq!(report.broken(), [Rule::PendingPropagates], "{report}");
}
