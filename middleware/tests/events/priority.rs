//! `donjon::priority`: a class starting to be refused.

use donjon::priority::{Priority, PriorityShed};
use donjon::{BoxError, Service, ServiceExt, service_fn};

use crate::{capture, lines_with};

#[tokio::test]
async fn each_run_of_refusals_of_a_class_is_reported_once() {
    let (captured, _guard) = capture();
    let backend = service_fn(|_: Priority| std::future::pending::<Result<(), BoxError>>());
    let mut service = PriorityShed::new(backend, 10, |class: &Priority| *class);
    let mut held = Vec::new();
    for _ in 0..7 {
        held.push(service.ready().await.unwrap().call(Priority::Sheddable));
    }
    for _ in 0..3 {
        assert!(
            service
                .ready()
                .await
                .unwrap()
                .call(Priority::Sheddable)
                .await
                .is_err()
        );
    }
    let refused = "DEBUG priority shed: the class has filled its share, its requests are refused \
                   priority=\"SHEDDABLE\" limit=7";
    assert_eq!(
        lines_with(&captured, "priority shed"),
        [refused],
        "one run, one event"
    );

    // A sheddable request let through ends the run.
    held.pop();
    let _again = service.ready().await.unwrap().call(Priority::Sheddable);
    assert!(
        service
            .ready()
            .await
            .unwrap()
            .call(Priority::Sheddable)
            .await
            .is_err()
    );
    assert_eq!(lines_with(&captured, "priority shed"), [refused, refused]);
}
