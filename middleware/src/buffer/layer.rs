use std::fmt;
use std::marker::PhantomData;

use donjon_layer::Layer;
use donjon_service::Service;

use super::{Buffer, QueueDiscipline};
use crate::BoxError;

/// A [`Layer`] that moves services into a worker behind a [`Buffer`] of
/// `bound` requests.
///
/// Applying it spawns the worker, so it must happen inside a tokio runtime.
#[must_use = "a layer does nothing until it wraps a service"]
pub struct BufferLayer<Req> {
    bound: usize,
    /// The `name` label of its buffers' metrics.
    #[cfg(feature = "metrics")]
    name: &'static str,
    /// The queue discipline of its buffers, if set.
    discipline: Option<QueueDiscipline>,
    _request: PhantomData<fn(Req)>,
}

impl<Req> BufferLayer<Req> {
    /// Creates a layer with queues of `bound` requests.
    ///
    /// A `bound` of zero makes [`layer`](Layer::layer) panic.
    pub const fn new(bound: usize) -> Self {
        BufferLayer {
            bound,
            #[cfg(feature = "metrics")]
            name: super::service::DEFAULT_NAME,
            discipline: None,
            _request: PhantomData,
        }
    }

    /// Serves the queue of each of its buffers by `discipline`: see
    /// [`Buffer::with_queue`].
    pub const fn with_queue(mut self, discipline: QueueDiscipline) -> Self {
        self.discipline = Some(discipline);
        self
    }

    /// Names its buffers in their metrics (the `name` label; see
    /// [`Buffer::with_name`]): `"buffer"` unless set. A `&'static str`, so
    /// that the layer stays `Copy`. Each buffer takes its handle from the
    /// recorder installed when it is made.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub const fn with_name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }
}

impl<S, Req> Layer<S> for BufferLayer<Req>
where
    S: Service<Req> + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError> + Send + Sync,
    Req: Send + 'static,
{
    type Service = Buffer<Req, S::Future>;

    fn layer(&self, service: S) -> Self::Service {
        let buffer = Buffer::spawned(
            service,
            self.bound,
            #[cfg(feature = "metrics")]
            self.name.into(),
        );
        match self.discipline {
            Some(discipline) => buffer.with_queue(discipline),
            None => buffer,
        }
    }
}

impl<Req> Clone for BufferLayer<Req> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Req> Copy for BufferLayer<Req> {}

impl<Req> fmt::Debug for BufferLayer<Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut layer = f.debug_struct("BufferLayer");
        layer.field("bound", &self.bound);
        if let Some(discipline) = &self.discipline {
            layer.field("discipline", discipline);
        }
        layer.finish()
    }
}
