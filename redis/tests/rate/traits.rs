//! The auto traits of the public types: stores and semaphores are shared
//! across tasks, futures move between threads.

use donjon::limit::keyed::RateStore;
use donjon_redis::concurrency::future::ResponseFuture;
use donjon_redis::error::{InvalidConfig, StoreError};
use donjon_redis::rate::future::AcquireFuture;
use donjon_redis::{GlobalConcurrencyLimit, RedisSemaphore, RedisStore};

fn send_sync<T: Send + Sync + 'static>() {}
fn send_unpin<T: Send + Unpin + 'static>() {}
fn send<T: Send>() {}

#[test]
fn public_types_cross_threads() {
    send_sync::<RedisStore>();
    send_sync::<RedisSemaphore>();
    send_sync::<StoreError>();
    send_sync::<InvalidConfig>();
    send_unpin::<AcquireFuture>();
    send::<
        GlobalConcurrencyLimit<
            donjon::util::ServiceFn<fn(u32) -> std::future::Ready<Result<u32, StoreError>>>,
        >,
    >();
    send::<ResponseFuture<std::future::Ready<Result<u32, StoreError>>>>();
    // What `SharedRateLimit` needs of a store's future.
    fn shared<St: RateStore<str, Future: Unpin>>(_: &St) {}
    let _ = shared::<RedisStore>;
}
