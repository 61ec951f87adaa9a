use super::erase::CloneSyncService;

clone_box_service! {
    /// A clonable, `Sync` [`Service`](crate::Service) whose type is erased.
    ///
    /// Like [`BoxCloneService`](crate::util::BoxCloneService), but `Sync` as
    /// well, for services shared by reference across threads (as some web
    /// frameworks require). The inner service must be `Sync` too.
    ///
    /// Boxing costs one allocation when the service is boxed or cloned, and one
    /// per request: each response future is boxed.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceExt, service_fn};
    /// use donjon::util::BoxCloneSyncService;
    ///
    /// # futures::executor::block_on(async {
    /// let service: BoxCloneSyncService<u32, u32, BoxError> =
    ///     BoxCloneSyncService::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) }));
    /// let clone = service.clone();
    /// assert_eq!(service.oneshot(1).await?, 2);
    /// assert_eq!(clone.oneshot(2).await?, 3);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct BoxCloneSyncService as [dyn CloneSyncService<Req, Res, E> + Send + Sync] where service: [Clone + Send + Sync + 'static];
}

boxed_layer! {
    /// A [`Layer`](crate::Layer) whose type is erased, making a [`BoxCloneSyncService`] out of the
    /// services it wraps.
    ///
    /// Cloning it is cheap (a reference count).
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, Layer, ServiceBuilder, ServiceExt, service_fn};
    /// use donjon::util::{BoxCloneSyncServiceLayer, ServiceFn};
    ///
    /// type Inner = ServiceFn<fn(u32) -> std::future::Ready<Result<u32, BoxError>>>;
    ///
    /// let layer: BoxCloneSyncServiceLayer<Inner, u32, u32, BoxError> =
    ///     BoxCloneSyncServiceLayer::new(ServiceBuilder::new().map_response(|n: u32| n * 3));
    /// # futures::executor::block_on(async {
    /// let inner: Inner = service_fn(|n| std::future::ready(Ok(n)));
    /// let service = layer.layer(inner);
    /// assert_eq!(service.clone().oneshot(2).await?, 6);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct BoxCloneSyncServiceLayer makes BoxCloneSyncService where made: [Clone + Send + Sync + 'static];
}
