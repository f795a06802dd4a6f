//! Kairan's HTTP server: the JSON API (`api`), the pages (`web`), the services that are the only
//! way to change anything (`services`), and the layers around them (sessions and CSRF in `auth`,
//! security headers and metrics in `layers`).
//!
//! A request passes: security headers → CSRF guard → route → extractor that builds the actor →
//! handler → service (policy check, store write, audit record in one transaction). See
//! `ARCHITECTURE.md` at the repository root.

pub mod api;
pub mod auth;
pub mod bus;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod hasher;
pub mod hub;
pub mod i18n;
pub mod layers;
pub mod limits;
pub mod metrics;
pub mod realtime;
pub mod scanner;
pub mod secrets;
pub mod services;
pub mod state;
pub mod token;
pub mod web;
pub mod zones;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use config::Config;
use error::AppError;
use kairan_store::Store;
use state::AppState;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The largest request body any route accepts. Forms and JSON here are small; files will get
/// their own limit with the files work.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Opens the database (creating the data directory for SQLite) and prepares the shared state.
pub async fn open(config: Config) -> Result<AppState, AppError> {
    config
        .validate()
        .map_err(|e| AppError::Internal(format!("configuration: {e}")))?;
    let url = config.database_url();
    // The data directory holds the SQLite database and local state (the demo's login list)
    // whatever the engine.
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        AppError::Internal(format!("cannot create {}: {e}", config.data_dir.display()))
    })?;
    let max = if url.starts_with("sqlite:") { 8 } else { 16 };
    let store = Store::open(&url, max).await?;
    let key = secrets::ServerKey::load(
        config.secret_key.as_ref().map(|s| s.0.as_str()),
        &config.data_dir,
    )
    .map_err(|e| AppError::Internal(format!("secret key: {e}")))?;
    {
        let mut tx = store.write().await?;
        let recorded = kairan_store::mfa::key_fingerprint(&mut tx, key.fingerprint()).await?;
        tx.commit().await?;
        if recorded != key.fingerprint() {
            return Err(AppError::Internal(
                "secret key: this node's key differs from the one this database's secrets were sealed with; give every node the same KAIRAN_SECRET_KEY or DATA/secret.key".into(),
            ));
        }
    }
    let hasher = hasher::Hasher::new(&config.argon2)?;
    let bus: std::sync::Arc<dyn realtime::Bus> = match config.bus.as_str() {
        "" | "local" => std::sync::Arc::new(realtime::LocalBus::default()),
        url => std::sync::Arc::new(bus::NetBus::connect(url).map_err(AppError::Internal)?),
    };
    Ok(AppState::new(store, config, hasher, bus, key))
}

pub fn router(state: AppState) -> Router {
    let ops = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    Router::new()
        .merge(ops)
        .merge(api::routes())
        .merge(web::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::observe,
        ))
        .fallback(web::fallback())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::csrf_guard,
        ))
        .layer(axum::middleware::from_fn(layers::security_headers))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    text.push_str(&format!(
        "# HELP kairan_websocket_connections Live connections on this node.\n# TYPE kairan_websocket_connections gauge\nkairan_websocket_connections {}\n",
        state.hub.connections()
    ));
    ([("content-type", "text/plain; version=0.0.4")], text)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // The node's background jobs run where it serves, not in every process that opens the
    // store (the console's commands and benchmarks do their work and leave).
    crate::services::files::start_sweeper(state.clone());
    crate::services::files::start_rescanner(state.clone());
    crate::services::guests::start_runner(state.clone());
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Live frames are small and must leave at once: without TCP_NODELAY, Nagle's algorithm
    // holds a frame back until the previous one is acknowledged, adding tens of milliseconds.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A server running in the background (tests, benchmarks).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        self.state.store.close().await;
    }
}

/// Binds `bind` (port 0 for an ephemeral port) and serves in a background task.
pub async fn spawn(state: AppState, bind: SocketAddr) -> std::io::Result<Running> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(state.clone(), listener, async {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        state,
        stop: Some(tx),
        task,
    })
}
