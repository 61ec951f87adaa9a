//! The boxed services and layers differ only in their bounds; these macros
//! write each of them from its bounds and docs.

/// Defines a type-erased layer that applies a boxed inner layer and boxes
/// the service it makes into `$service`.
macro_rules! boxed_layer {
    (
        $(#[$attr:meta])*
        pub struct $layer:ident makes $service:ident where made: [$($bound:tt)*];
    ) => {
        $(#[$attr])*
        #[must_use = "a layer does nothing until it wraps a service"]
        pub struct $layer<S, Req, Res, E> {
            boxed: std::sync::Arc<
                dyn donjon_layer::Layer<S, Service = $service<Req, Res, E>> + Send + Sync + 'static,
            >,
        }

        impl<S, Req, Res, E> $layer<S, Req, Res, E> {
            /// Boxes `inner_layer`; the services it makes are boxed in turn.
            pub fn new<L>(inner_layer: L) -> Self
            where
                L: donjon_layer::Layer<S> + Send + Sync + 'static,
                L::Service: donjon_service::Service<Req, Response = Res, Error = E> + $($bound)*,
                <L::Service as donjon_service::Service<Req>>::Future: Send + 'static,
            {
                let layer = donjon_layer::layer_fn(move |inner: S| {
                    $service::new(donjon_layer::Layer::layer(&inner_layer, inner))
                });
                $layer {
                    boxed: std::sync::Arc::new(layer),
                }
            }
        }

        impl<S, Req, Res, E> donjon_layer::Layer<S> for $layer<S, Req, Res, E> {
            type Service = $service<Req, Res, E>;

            fn layer(&self, inner: S) -> Self::Service {
                self.boxed.layer(inner)
            }
        }

        impl<S, Req, Res, E> Clone for $layer<S, Req, Res, E> {
            fn clone(&self) -> Self {
                $layer {
                    boxed: std::sync::Arc::clone(&self.boxed),
                }
            }
        }

        impl<S, Req, Res, E> std::fmt::Debug for $layer<S, Req, Res, E> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($layer))
            }
        }
    };
}

/// Defines a clonable type-erased service, held as a `$object` trait object
/// that can clone itself, made from services with the bounds `$bound`.
macro_rules! clone_box_service {
    (
        $(#[$attr:meta])*
        pub struct $name:ident as [$($object:tt)*] where service: [$($bound:tt)*];
    ) => {
        $(#[$attr])*
        pub struct $name<Req, Res, E> {
            inner: Box<$($object)*>,
        }

        impl<Req, Res, E> $name<Req, Res, E> {
            /// Boxes `inner`.
            pub fn new<S>(inner: S) -> Self
            where
                S: donjon_service::Service<Req, Response = Res, Error = E> + $($bound)*,
                S::Future: Send + 'static,
            {
                $name {
                    inner: Box::new(super::erase::BoxingSend(inner)),
                }
            }

            /// Returns a layer that boxes the services it wraps.
            pub fn layer<S>() -> donjon_layer::LayerFn<fn(S) -> Self>
            where
                S: donjon_service::Service<Req, Response = Res, Error = E> + $($bound)*,
                S::Future: Send + 'static,
            {
                donjon_layer::layer_fn(Self::new)
            }
        }

        impl<Req, Res, E> donjon_service::Service<Req> for $name<Req, Res, E> {
            type Response = Res;
            type Error = E;
            type Future = super::erase::SendFuture<Res, E>;

            #[inline]
            fn poll_ready(
                &mut self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Result<(), E>> {
                self.inner.poll_ready(cx)
            }

            #[inline]
            fn call(&mut self, request: Req) -> Self::Future {
                self.inner.call(request)
            }
        }

        impl<Req, Res, E> Clone for $name<Req, Res, E> {
            fn clone(&self) -> Self {
                $name {
                    inner: self.inner.clone_box(),
                }
            }
        }

        impl<Req, Res, E> std::fmt::Debug for $name<Req, Res, E> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}
