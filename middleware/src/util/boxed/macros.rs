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
        pub struct $layer<In, T, U, E> {
            boxed: std::sync::Arc<
                dyn donjon_layer::Layer<In, Service = $service<T, U, E>> + Send + Sync + 'static,
            >,
        }

        impl<In, T, U, E> $layer<In, T, U, E> {
            /// Boxes `inner_layer`; the services it makes are boxed in turn.
            pub fn new<L>(inner_layer: L) -> Self
            where
                L: donjon_layer::Layer<In> + Send + Sync + 'static,
                L::Service: donjon_service::Service<T, Response = U, Error = E> + $($bound)*,
                <L::Service as donjon_service::Service<T>>::Future: Send + 'static,
            {
                let layer = donjon_layer::layer_fn(move |inner: In| {
                    $service::new(donjon_layer::Layer::layer(&inner_layer, inner))
                });
                $layer {
                    boxed: std::sync::Arc::new(layer),
                }
            }
        }

        impl<In, T, U, E> donjon_layer::Layer<In> for $layer<In, T, U, E> {
            type Service = $service<T, U, E>;

            fn layer(&self, inner: In) -> Self::Service {
                self.boxed.layer(inner)
            }
        }

        impl<In, T, U, E> Clone for $layer<In, T, U, E> {
            fn clone(&self) -> Self {
                $layer {
                    boxed: std::sync::Arc::clone(&self.boxed),
                }
            }
        }

        impl<In, T, U, E> std::fmt::Debug for $layer<In, T, U, E> {
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
        pub struct $name<T, U, E> {
            inner: Box<$($object)*>,
        }

        impl<T, U, E> $name<T, U, E> {
            /// Boxes `inner`.
            pub fn new<S>(inner: S) -> Self
            where
                S: donjon_service::Service<T, Response = U, Error = E> + $($bound)*,
                S::Future: Send + 'static,
            {
                $name {
                    inner: Box::new(super::erase::BoxingSend(inner)),
                }
            }

            /// Returns a layer that boxes the services it wraps.
            pub fn layer<S>() -> donjon_layer::LayerFn<fn(S) -> Self>
            where
                S: donjon_service::Service<T, Response = U, Error = E> + $($bound)*,
                S::Future: Send + 'static,
            {
                donjon_layer::layer_fn(Self::new)
            }
        }

        impl<T, U, E> donjon_service::Service<T> for $name<T, U, E> {
            type Response = U;
            type Error = E;
            type Future = super::erase::SendFuture<U, E>;

            #[inline]
            fn poll_ready(
                &mut self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Result<(), E>> {
                self.inner.poll_ready(cx)
            }

            #[inline]
            fn call(&mut self, request: T) -> Self::Future {
                self.inner.call(request)
            }
        }

        impl<T, U, E> Clone for $name<T, U, E> {
            fn clone(&self) -> Self {
                $name {
                    inner: self.inner.clone_box(),
                }
            }
        }

        impl<T, U, E> std::fmt::Debug for $name<T, U, E> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}
