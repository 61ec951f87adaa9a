//! `donjon::deadline`: requests refused because their time is up.

use std::time::Duration;

use donjon::deadline::{Admit, Deadline};
use donjon::{BoxError, Service, ServiceExt, service_fn};

use crate::{capture, lines_with};

#[tokio::test(start_paused = true)]
async fn each_run_of_refusals_is_reported_once_with_the_first_ones_figures() {
    let (captured, _guard) = capture();
    let backend = service_fn(|_: Option<Deadline>| async { Ok::<_, BoxError>(()) });
    let mut server = Admit::new(backend, |deadline: &Option<Deadline>| *deadline)
        .min_remaining(Duration::from_millis(10));
    let expired = Some(Deadline::after(Duration::from_millis(4)));

    for _ in 0..3 {
        assert!(server.ready().await.unwrap().call(expired).await.is_err());
    }
    let refused = "DEBUG deadline: requests arrive with their time up, refused before any work \
                   remaining=4ms needed=10ms";
    assert_eq!(
        lines_with(&captured, "deadline:"),
        [refused],
        "one run, one event"
    );

    let timely = Some(Deadline::after(Duration::from_secs(1)));
    server.ready().await.unwrap().call(timely).await.unwrap();
    assert!(server.ready().await.unwrap().call(expired).await.is_err());
    assert_eq!(lines_with(&captured, "deadline:"), [refused, refused]);
}
