//! hadir-server: the HTTP API that receives what phones sign and decides again, without
//! trusting the phone (`docs/PROTOCOL.md` is the spec).
//!
//! * [`app`] builds the axum [`Router`] from an [`AppState`] (tested with `oneshot` and
//!   over a real listener); [`serve`] binds, prints `listening on ADDR` and runs it.
//! * [`storage::Storage`] hides the database ([`storage::sqlite::SqliteStorage`] by
//!   default, one writer thread with group commit); [`selfies::SelfieStore`] hides the
//!   selfie bytes ([`selfies::LocalSelfieStore`] by default).
//! * [`auth`] verifies request signatures, nonces and rate limits; [`verify`] decides
//!   each check-in; [`directory`] caches devices, people, teams, schedules and the
//!   geofence index; [`team`] serves supervisors their team and its live feed.
//! * [`admin`] holds the operations behind the admin CLI (`hadir-server --help`).

pub mod admin;
pub mod auth;
pub mod config;
pub mod directory;
pub mod error;
pub mod handlers;
pub mod selfies;
pub mod storage;
pub mod team;
pub mod verify;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::routing::{get, post, put};
use tower::ServiceBuilder;

pub use config::ServerConfig;
pub use error::AppError;

use auth::{NonceCache, RateLimiter};
use directory::Directory;
use selfies::{LocalSelfieStore, SelfieStore};
use storage::sqlite::SqliteStorage;
use storage::{Storage, StorageError};
use team::LiveHub;

/// The OpenAPI 3.1 description served at `GET /v1/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Every route of [`app`] as (method, path template); the OpenAPI test checks both
/// agree.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/time"),
    ("GET", "/v1/health"),
    ("GET", "/v1/ready"),
    ("GET", "/v1/openapi.json"),
    ("POST", "/v1/enroll"),
    ("GET", "/v1/config"),
    ("PUT", "/v1/selfies/{sha256}"),
    ("POST", "/v1/checkins"),
    ("GET", "/v1/team"),
    ("GET", "/v1/team/events"),
];

/// The server clock, Unix ms.
pub fn now_ms() -> i64 {
    hadir_core::clock::wall_clock_ms()
}

struct Inner {
    storage: Arc<dyn Storage>,
    selfies: Arc<dyn SelfieStore>,
    directory: Directory,
    nonces: NonceCache,
    limiter: RateLimiter,
    live: LiveHub,
    config: ServerConfig,
}

/// Shared state of the server: storage, caches, limits, configuration. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("directory", &self.inner.directory)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Opens the embedded default: the SQLite file `config.db` and the selfie folder
    /// [`ServerConfig::selfie_dir`]. Blocking (runs migrations, loads the directory).
    pub fn open(config: &ServerConfig) -> Result<Self, StorageError> {
        let storage = SqliteStorage::open(&config.db, config.write_queue)?;
        let selfies = LocalSelfieStore::open(&config.selfie_dir())?;
        AppState::new(Arc::new(storage), Arc::new(selfies), config.clone())
    }

    /// State over any storage and selfie store. Blocking (loads the directory).
    pub fn new(
        storage: Arc<dyn Storage>,
        selfies: Arc<dyn SelfieStore>,
        config: ServerConfig,
    ) -> Result<Self, StorageError> {
        let directory = Directory::load(
            storage.as_ref(),
            Duration::from_millis(config.directory_refresh_ms),
        )?;
        Ok(AppState {
            inner: Arc::new(Inner {
                nonces: NonceCache::new(config.nonce_cache_max),
                limiter: RateLimiter::new(config.rate_limit_per_second, config.rate_limit_burst),
                live: LiveHub::new(config.max_live_waiters),
                storage,
                selfies,
                directory,
                config,
            }),
        })
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    /// The selfie store.
    pub fn selfies(&self) -> &Arc<dyn SelfieStore> {
        &self.inner.selfies
    }

    /// The configuration in effect.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The in-memory directory.
    pub fn directory(&self) -> &Directory {
        &self.inner.directory
    }

    /// Checks for admin changes if the refresh interval passed (blocking, cheap).
    pub fn refresh_directory(&self) {
        self.inner
            .directory
            .refresh_if_due(self.inner.storage.as_ref());
    }

    /// The nonce cache.
    pub fn nonces(&self) -> &NonceCache {
        &self.inner.nonces
    }

    /// The per-device rate limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }

    /// The team live-feed hub.
    pub fn live(&self) -> &LiveHub {
        &self.inner.live
    }
}

/// The HTTP API (all routes under `/v1`), with the overload guard: beyond
/// `max_in_flight` requests in progress, new ones get 503 `OVERLOADED` with
/// `Retry-After` at once instead of queueing. The team live feed's long polls are
/// outside that count (they wait, they do not work) and have their own cap,
/// `max_live_waiters`.
pub fn app(state: AppState) -> Router {
    let max_in_flight = state.config().max_in_flight.max(1);
    let live = Router::new().route("/v1/team/events", get(team::team_events));
    Router::new()
        .route("/v1/time", get(handlers::time))
        .route("/v1/health", get(handlers::health))
        .route("/v1/ready", get(handlers::ready))
        .route("/v1/openapi.json", get(handlers::openapi))
        .route("/v1/enroll", post(handlers::enroll))
        .route("/v1/config", get(handlers::config))
        .route("/v1/selfies/{sha256}", put(handlers::put_selfie))
        .route("/v1/checkins", post(handlers::checkins))
        .route("/v1/team", get(team::team))
        .fallback(handlers::not_found)
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                    AppError::Overloaded { retry_after_s: 1 }
                }))
                .load_shed()
                .concurrency_limit(max_in_flight),
        )
        .merge(live)
        .with_state(state)
}

/// Opens the state, binds `config.listen`, prints `listening on ADDR` on stdout and
/// serves until Ctrl-C / SIGTERM.
pub async fn serve(config: ServerConfig) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let cfg = config.clone();
    let state = tokio::task::spawn_blocking(move || AppState::open(&cfg)).await??;
    let listener = tokio::net::TcpListener::bind(&config.listen).await?;
    let addr = listener.local_addr()?;
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {addr}")?;
        out.flush()?;
    }
    tracing::info!(%addr, db = %config.db.display(), "hadir-server started");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
