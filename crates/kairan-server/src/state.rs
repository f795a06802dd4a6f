//! Shared state of one server node: the store, configuration, hasher, templates and metrics.
//! Nothing here is needed by another node: sessions and all data live in the database.

use crate::config::Config;
use crate::hasher::Hasher;
use crate::metrics::Metrics;
use kairan_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub config: Config,
    pub hasher: Hasher,
    pub templates: minijinja::Environment<'static>,
    pub metrics: Metrics,
    pub secure_cookies: bool,
    pub bus: Arc<dyn crate::realtime::Bus>,
    pub hub: Arc<crate::hub::Hub>,
    pub protection_cache: crate::services::protection::Cache,
    pub writer: crate::services::group_commit::Writer,
    pub send_limiter: crate::limits::SendLimiter,
    /// Uploads received and scanned at once on this node.
    pub upload_slots: tokio::sync::Semaphore,
    /// The network zones that decide each request's device class.
    pub zones: crate::zones::Zones,
    /// Seals second-factor secrets and keys recovery-code hashes.
    pub key: crate::secrets::ServerKey,
    /// "Now" for calendar rules (guest periods); tests move it.
    pub clock: crate::clock::Clock,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        store: Store,
        config: Config,
        hasher: Hasher,
        bus: Arc<dyn crate::realtime::Bus>,
        key: crate::secrets::ServerKey,
    ) -> AppState {
        let secure_cookies = config.secure_cookies();
        let send_limiter = crate::limits::SendLimiter::new(
            config.chat.messages_per_second,
            config.chat.message_burst,
        );
        let zones = crate::zones::Zones::new(
            &config.zones.lgwan,
            &config.zones.trusted_proxies,
            &config.zones.client_ip_header,
        )
        .unwrap_or_else(|e| {
            // `Config::validate` refuses this at start; a config built in code falls back to
            // treating every request as an internet device.
            tracing::error!(error = %e, "zones not usable");
            crate::zones::Zones::default()
        });
        let hub = Arc::new(crate::hub::Hub::default());
        // Must be called inside the runtime: the hub's router runs for the life of the node.
        tokio::spawn(hub.clone().run(bus.subscribe()));
        let writer = crate::services::group_commit::Writer::start(store.clone(), bus.clone());
        AppState(Arc::new(Inner {
            store,
            hasher,
            templates: crate::web::templates(),
            metrics: Metrics::default(),
            secure_cookies,
            bus,
            hub,
            protection_cache: Default::default(),
            writer,
            send_limiter,
            upload_slots: tokio::sync::Semaphore::new(4),
            zones,
            key,
            config,
            clock: Default::default(),
        }))
    }
}
