//! hadir-server: the HTTP API that receives what phones sign and decides again, without
//! trusting the phone (`docs/PROTOCOL.md` is the spec).
//!
//! * [`app`] builds the axum [`Router`] from an [`AppState`] (tested with `oneshot` and
//!   over a real listener); [`serve`] binds, prints `listening on ADDR` and runs it.
//! * [`storage::Storage`] hides the database ([`storage::sqlite::SqliteStorage`] by
//!   default, one writer thread with group commit); [`selfies::SelfieStore`] hides the
//!   selfie bytes ([`selfies::LocalSelfieStore`] by default).
//! * [`auth`] verifies request signatures, nonces and rate limits; [`verify`] checks
//!   each check-in and [`decision`] decides it against the [`ledger`]; [`directory`] caches devices, people, teams, schedules and the
//!   geofence index; [`team`] serves supervisors their team and its live feed.
//! * [`admin`] holds the operations behind the admin CLI (`hadir-server --help`).
//! * [`attestation`] judges a device key's attestation chain at enrollment, against
//!   Google's revocation status list as an admin loaded it ([`attestation_status`]).
//! * [`qr`] judges a check-in's office QR token; [`kiosk`] enrolls office monitors and
//!   serves them the page (`GET /kiosk`) and the current token (`GET /v1/kiosk/qr`).

pub mod admin;
pub mod anchors;
pub mod attestation;
pub mod attestation_status;
pub mod auth;
pub mod clock;
pub mod config;
pub mod decision;
pub mod directory;
pub mod error;
pub mod handlers;
pub mod kiosk;
pub mod ledger;
pub mod listener;
pub mod month;
pub mod open_files;
pub mod qr;
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
use clock::Clock;
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
    // The office QR and the kiosk (src/kiosk.rs).
    ("GET", "/kiosk"),
    ("GET", "/v1/kiosk/qr"),
    // Signed time anchors (issue #13).
    ("POST", "/v1/anchors"),
];

/// The system's wall clock, Unix ms: for tools and tests that stand outside a server.
/// The server itself never reads it: every "now" of a server is [`AppState::now_ms`],
/// from its injectable [`clock::Clock`].
pub fn now_ms() -> i64 {
    hadir_core::clock::wall_clock_ms()
}

struct Inner {
    clock: Arc<dyn Clock>,
    storage: Arc<dyn Storage>,
    selfies: Arc<dyn SelfieStore>,
    directory: Directory,
    nonces: NonceCache,
    limiter: RateLimiter,
    live: LiveHub,
    anchor_key: hadir_core::anchor::AnchorKey,
    attestation_roots: attestation::AttestationRoots,
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
        AppState::open_with_clock(config, clock::system())
    }

    /// [`AppState::open`] on another clock (tests set the time with a
    /// [`clock::ManualClock`]; the binary has no way to).
    pub fn open_with_clock(
        config: &ServerConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        let storage = SqliteStorage::open_with_clock(&config.db, config.write_queue, clock)?;
        let selfies = LocalSelfieStore::open(&config.selfie_dir())?;
        AppState::new(Arc::new(storage), Arc::new(selfies), config.clone())
    }

    /// State over any storage and selfie store, on the storage's clock. Blocking (loads
    /// the directory).
    pub fn new(
        storage: Arc<dyn Storage>,
        selfies: Arc<dyn SelfieStore>,
        config: ServerConfig,
    ) -> Result<Self, StorageError> {
        let directory = Directory::load(
            storage.as_ref(),
            Duration::from_millis(config.directory_refresh_ms),
        )?;
        let anchor_key = hadir_core::anchor::AnchorKey::new(&storage.anchor_secret()?);
        Ok(AppState {
            inner: Arc::new(Inner {
                clock: storage.clock(),
                nonces: NonceCache::new(config.nonce_cache_max),
                limiter: RateLimiter::new(config.rate_limit_per_second, config.rate_limit_burst),
                live: LiveHub::new(config.max_live_waiters),
                anchor_key,
                attestation_roots: attestation::AttestationRoots::google(),
                storage,
                selfies,
                directory,
                config,
            }),
        })
    }

    /// This state trusting other key attestation roots than Google's bundled ones (the
    /// tests' own root). A Rust-level hook only: no configuration key or request sets
    /// it. Call it before the state is cloned.
    pub fn with_attestation_roots(mut self, roots: attestation::AttestationRoots) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("with_attestation_roots before the state is shared")
            .attestation_roots = roots;
        self
    }

    /// The roots a key attestation chain must end at ([`attestation::judge`]).
    pub fn attestation_roots(&self) -> &attestation::AttestationRoots {
        &self.inner.attestation_roots
    }

    /// The clock every "now" of this server is read from.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Now on the server's clock, Unix ms.
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
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

    /// The key time anchors are signed with ([`anchors`]).
    pub fn anchor_key(&self) -> &hadir_core::anchor::AnchorKey {
        &self.inner.anchor_key
    }

    /// What check-in verification needs to judge time evidence.
    pub fn time_rules(&self) -> verify::TimeRules<'_> {
        verify::TimeRules {
            anchor_key: &self.inner.anchor_key,
            v1_accepted_until_ms: self.inner.config.payload_v1_accepted_until_ms(),
        }
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
        // The office QR and the kiosk: the monitor page and its token (src/kiosk.rs).
        .route("/kiosk", get(kiosk::kiosk_page))
        .route("/v1/kiosk/qr", get(kiosk::kiosk_qr))
        // Signed time anchors (issue #13).
        .route("/v1/anchors", post(anchors::issue))
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
        .layer(axum::middleware::map_response(error::ensure_api_error))
        .with_state(state)
}

/// Opens the state, binds `config.listen`, prints `listening on ADDR` on stdout and
/// serves until Ctrl-C / SIGTERM.
pub async fn serve(
    mut config: ServerConfig,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let max_connections = fit_open_files(&mut config)?;
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
    let listener = listener::CappedListener::new(listener, max_connections);
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// Raises the soft open-file limit to the hard one and lowers `max_in_flight` and
/// `max_live_waiters` to fit in it ([`open_files`]), logging the derived numbers once.
/// If the raise is refused, the caps are fitted to the limit the process kept. Returns
/// the most connections to hold open at once.
fn fit_open_files(config: &mut ServerConfig) -> Result<usize, open_files::LimitTooLow> {
    let raised = match open_files::raise_soft_limit() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "open-file limit could not be read; caps as configured");
            return Ok(tokio::sync::Semaphore::MAX_PERMITS);
        }
    };
    if let Some(e) = &raised.refused {
        tracing::warn!(
            error = %e,
            limit = raised.after,
            "open-file soft limit could not be raised; fitting the caps to the current one"
        );
    } else if raised.after > raised.before {
        tracing::info!(
            from = raised.before,
            to = raised.after,
            "open-file soft limit raised"
        );
    }
    let budget = open_files::fit(
        raised.after,
        storage::sqlite::MAX_READERS,
        config.max_in_flight,
        config.max_live_waiters,
    )?;
    let lowered = (budget.max_in_flight, budget.max_live_waiters)
        != (config.max_in_flight, config.max_live_waiters);
    if lowered {
        tracing::warn!(
            configured_max_in_flight = config.max_in_flight,
            configured_max_live_waiters = config.max_live_waiters,
            "caps lowered to fit the open-file limit (check-ins keep at least half)"
        );
    }
    tracing::info!(
        open_file_limit = budget.limit,
        reserve = open_files::FIXED_RESERVE,
        sqlite_files = budget.sqlite_files,
        max_connections = budget.max_connections,
        max_in_flight = budget.max_in_flight,
        max_live_waiters = budget.max_live_waiters,
        "open-file budget"
    );
    config.max_in_flight = budget.max_in_flight;
    config.max_live_waiters = budget.max_live_waiters;
    Ok(budget.max_connections)
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
