//! Per-request cost of a `service_fn` service driven through readiness and
//! call, against calling the same `async fn` directly.
//!
//! Both are polled by hand with a no-op waker, so that the figures measure
//! the service machinery alone, without any executor.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll};

use criterion::{Criterion, criterion_main};
use donjon::{BoxError, Service, ServiceExt, service_fn};
use futures::task::noop_waker_ref;

async fn double(n: u64) -> Result<u64, BoxError> {
    Ok(n * 2)
}

/// Polls a future that is expected to finish at once.
fn poll_now<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(noop_waker_ref());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the benchmarked future was not ready at once"),
    }
}

fn service_fn_ready_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("service_fn ready+call");
    group.bench_function("raw", |b| {
        b.iter(|| poll_now(double(black_box(21))).expect("double never fails"))
    });
    let mut service = service_fn(double);
    group.bench_function("donjon", |b| {
        b.iter(|| {
            poll_now(async {
                let ready = service.ready().await?;
                ready.call(black_box(21)).await
            })
            .expect("double never fails")
        })
    });
    group.finish();
}

mod group {
    #![allow(
        missing_docs,
        reason = "criterion_group! makes an undocumented public function"
    )]
    criterion::criterion_group!(benches, super::service_fn_ready_call);
}

criterion_main!(group::benches);
