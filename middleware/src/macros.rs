//! Macros shared by the middleware modules.

/// Defines a public future type that hides the future it wraps: a struct
/// with one private pinned field, `Debug` printing `Name(...)`, and a
/// `Future` impl whenever the wrapped type is a future.
#[cfg_attr(
    not(feature = "util"),
    allow(unused_macros, reason = "only some features use it")
)]
macro_rules! opaque_future {
    ($(#[$attr:meta])* pub struct $name:ident<$($param:ident),+>($inner:ty);) => {
        $(#[$attr])*
        #[pin_project::pin_project]
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct $name<$($param),+> {
            #[pin]
            inner: $inner,
        }

        impl<$($param),+> $name<$($param),+> {
            pub(crate) fn new(inner: $inner) -> Self {
                Self { inner }
            }
        }

        impl<$($param),+> std::fmt::Debug for $name<$($param),+> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&format_args!("...")).finish()
            }
        }

        impl<$($param),+> std::future::Future for $name<$($param),+>
        where
            $inner: std::future::Future,
        {
            type Output = <$inner as std::future::Future>::Output;

            #[inline]
            fn poll(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Self::Output> {
                self.project().inner.poll(cx)
            }
        }
    };
}

/// Defines a middleware made of an inner service and a closure, with its
/// layer: the two structs, their constructors and accessors, `Clone`, the
/// `Layer` impl, and `Debug` impls that print the closure's type name (so
/// that no `Debug` bound is needed on the closure).
#[cfg_attr(
    not(feature = "util"),
    allow(unused_macros, reason = "only some features use it")
)]
macro_rules! closure_middleware {
    (
        $(#[$service_attr:meta])*
        pub struct $service:ident;
        $(#[$layer_attr:meta])*
        pub struct $layer:ident;
    ) => {
        $(#[$service_attr])*
        #[derive(Clone)]
        pub struct $service<S, F> {
            inner: S,
            f: F,
        }

        impl<S, F> $service<S, F> {
            /// Wraps `inner`, with the closure `f`.
            pub const fn new(inner: S, f: F) -> Self {
                Self { inner, f }
            }

            /// Returns a layer that wraps services with the closure `f`.
            pub fn layer(f: F) -> $layer<F> {
                $layer::new(f)
            }

            /// Returns a reference to the inner service.
            pub fn get_ref(&self) -> &S {
                &self.inner
            }

            /// Returns a mutable reference to the inner service.
            pub fn get_mut(&mut self) -> &mut S {
                &mut self.inner
            }

            /// Returns the inner service, dropping the closure.
            pub fn into_inner(self) -> S {
                self.inner
            }
        }

        impl<S: std::fmt::Debug, F> std::fmt::Debug for $service<S, F> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($service))
                    .field("inner", &self.inner)
                    .field("f", &format_args!("{}", std::any::type_name::<F>()))
                    .finish()
            }
        }

        $(#[$layer_attr])*
        #[derive(Clone)]
        #[must_use = "a layer does nothing until it wraps a service"]
        pub struct $layer<F> {
            f: F,
        }

        impl<F> $layer<F> {
            /// Creates the layer with the closure `f`.
            pub const fn new(f: F) -> Self {
                Self { f }
            }
        }

        impl<S, F: Clone> donjon_layer::Layer<S> for $layer<F> {
            type Service = $service<S, F>;

            fn layer(&self, inner: S) -> Self::Service {
                $service::new(inner, self.f.clone())
            }
        }

        impl<F> std::fmt::Debug for $layer<F> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($layer))
                    .field("f", &format_args!("{}", std::any::type_name::<F>()))
                    .finish()
            }
        }
    };
}
