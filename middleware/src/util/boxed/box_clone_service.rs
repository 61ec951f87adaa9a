use super::erase::CloneService;

clone_box_service! {
    /// A clonable [`Service`](crate::Service) whose type is erased.
    ///
    /// Like [`BoxService`](crate::util::BoxService), but `Clone` (each clone is
    /// a clone of the inner service, starting without any readiness
    /// reservation, as every clone does). It is `Send` but not `Sync`; see
    /// [`BoxCloneSyncService`](crate::util::BoxCloneSyncService) when `Sync` is
    /// needed.
    ///
    /// Boxing costs one allocation when the service is boxed or cloned, and one
    /// per request: each response future is boxed.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceExt, service_fn};
    /// use donjon::util::BoxCloneService;
    ///
    /// # futures::executor::block_on(async {
    /// let service: BoxCloneService<u32, u32, BoxError> =
    ///     service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) }).boxed_clone();
    /// let clone = service.clone();
    /// assert_eq!(service.oneshot(1).await?, 2);
    /// assert_eq!(clone.oneshot(2).await?, 3);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct BoxCloneService as [dyn CloneService<Req, Res, E> + Send] where service: [Clone + Send + 'static];
}

boxed_layer! {
    /// A [`Layer`](crate::Layer) whose type is erased, making a [`BoxCloneService`] out of the
    /// services it wraps.
    ///
    /// Cloning it is cheap (a reference count).
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, Layer, ServiceBuilder, ServiceExt, service_fn};
    /// use donjon::util::{BoxCloneServiceLayer, ServiceFn};
    ///
    /// type Inner = ServiceFn<fn(u32) -> std::future::Ready<Result<u32, BoxError>>>;
    ///
    /// let layer: BoxCloneServiceLayer<Inner, u32, u32, BoxError> =
    ///     BoxCloneServiceLayer::new(ServiceBuilder::new().map_response(|n: u32| n * 3));
    /// # futures::executor::block_on(async {
    /// let inner: Inner = service_fn(|n| std::future::ready(Ok(n)));
    /// let service = layer.layer(inner);
    /// assert_eq!(service.clone().oneshot(2).await?, 6);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct BoxCloneServiceLayer makes BoxCloneService where made: [Clone + Send + 'static];
}
