//! [`HadirEngine`]: the one object the shells hold. Network and heavy work (enroll,
//! refresh, check-in, sync, team view) is `async` (Kotlin `suspend`, Swift `async`) and
//! runs on the library's runtime; cancelling a Kotlin coroutine aborts it. On Swift
//! (uniffi 0.32) Task cancellation does not reach Rust: an async call runs to
//! completion, and a long-running [`TaskHandle`] is stopped only by its `cancel()`
//! (e.g. from `withTaskCancellationHandler`). Cheap local reads are
//! synchronous, use no runtime, and are safe from any thread, the main thread included.
//! Every failure goes through the one mapping to [`HadirError`], its detail to the
//! `Logger`.

use std::sync::Arc;
use std::time::Duration;

use hadir_core::clock::SystemClock;
use hadir_core::envelope::DeviceKey;
use hadir_device::client::TlsOptions;
use hadir_device::device::{
    self, CheckInRequest, Device, DeviceClock, DeviceError, DeviceSettings, TeamFeedProblem,
};

use crate::error::HadirError;
use crate::logging::{LogQueue, quiet_if_from_logger};
use crate::platform::{
    ClockProvider, DeviceKeyProvider, ForeignClock, ForeignDeviceKey, LogLevel, Logger,
    SyncListener, TeamListener,
};
use crate::runtime::{TaskHandle, run};
use crate::types::{
    AttendanceKind, CheckInReceipt, DeviceLabelInput, EngineConfig, EnrolledPersonInfo,
    HistoryItem, LocalTime, LocationFix, LocationVerdict, NextAttendance, PersonRef, SyncReport,
    SyncStatus, TeamUpdate, TeamView,
};

/// The Hadir device engine: enrollment, the geofence verdict, check-ins recorded
/// offline in a durable outbox, and their exactly-once delivery to the server.
#[derive(uniffi::Object)]
pub struct HadirEngine {
    device: Arc<Device>,
    log: LogQueue,
}

/// Logs a failure's internal detail and maps it, once, to what the shell sees.
fn failed(log: &LogQueue, what: &str, e: DeviceError) -> HadirError {
    log.log(LogLevel::Warn, format!("{what} failed: {}: {e}", e.code()));
    HadirError::from(e)
}

impl HadirEngine {
    /// Runs `work` with the device on the library's runtime; its failure is logged and
    /// mapped. Dropping the returned future aborts the work.
    async fn spawned<T, W, Fut>(&self, what: &'static str, work: W) -> Result<T, HadirError>
    where
        W: FnOnce(Arc<Device>) -> Fut,
        Fut: Future<Output = Result<T, DeviceError>> + Send + 'static,
        T: Send + 'static,
    {
        let log = self.log.clone();
        let work = work(self.device.clone());
        run(quiet_if_from_logger(async move {
            work.await.map_err(|e| failed(&log, what, e))
        }))
        .await
    }

    /// Maps a local call's failure.
    fn local<T>(&self, what: &str, result: Result<T, DeviceError>) -> Result<T, HadirError> {
        result.map_err(|e| failed(&self.log, what, e))
    }
}

#[uniffi::export]
impl HadirEngine {
    /// Opens (or creates) the engine's database and prepares the device key. With no
    /// `device_key`, a software P-256 key is generated once and kept in the database;
    /// with no `clock`, the operating system's clocks are used. Synchronous local I/O
    /// (SQLite, the key): call it off the main thread. It uses no runtime.
    ///
    /// `logger` receives the engine's log lines; see [`Logger`] for its rules.
    #[uniffi::constructor]
    pub fn open(
        config: EngineConfig,
        device_key: Option<Arc<dyn DeviceKeyProvider>>,
        clock: Option<Arc<dyn ClockProvider>>,
        logger: Option<Arc<dyn Logger>>,
    ) -> Result<Arc<Self>, HadirError> {
        let log = LogQueue::start(logger);
        let opened = (|| {
            let mut settings = DeviceSettings::new(&config.database_path, &config.server_url);
            settings.tls = TlsOptions {
                extra_root_der: config.extra_root_cert_der,
                pinned_cert_sha256: config.pinned_cert_sha256,
            };
            settings.app_version = config.app_version;
            settings.platform = config.platform;
            let key: Option<Arc<dyn DeviceKey>> = match device_key {
                Some(provider) => Some(Arc::new(ForeignDeviceKey::new(provider)?)),
                None => None,
            };
            let clock: Arc<dyn DeviceClock> = match clock {
                Some(c) => Arc::new(ForeignClock::new(c)),
                None => Arc::new(SystemClock::default()),
            };
            Device::open(settings, key, clock)
        })();
        let device = opened.map_err(|e| failed(&log, "open", e))?;
        log.log(LogLevel::Info, "engine opened".into());
        Ok(Arc::new(HadirEngine {
            device: Arc::new(device),
            log,
        }))
    }

    /// The server-assigned id of this device, once enrolled. Local, any thread.
    pub fn device_id(&self) -> Result<Option<String>, HadirError> {
        self.local("device_id", self.device.device_id())
    }

    /// The device's public key (65-byte uncompressed P-256 point). Local, any thread.
    pub fn public_key(&self) -> Vec<u8> {
        self.device.public_key()
    }

    /// Enrolls a person on this device with the code an admin issued for them. The
    /// first person becomes the device's owner; calling it again with another person's
    /// code adds a colleague who shares the phone. Needs the network; cancelling the
    /// Kotlin caller abandons the enrollment (the server may have used the code: ask
    /// the admin for a new one if so). On Swift the call runs to completion.
    pub async fn enroll(
        &self,
        enrollment_code: String,
        person: PersonRef,
        device_label: DeviceLabelInput,
    ) -> Result<EnrolledPersonInfo, HadirError> {
        self.spawned("enroll", |device| async move {
            let person = person.to_core("person")?;
            let label = device_label.to_core()?;
            let enrolled = device.enroll(&enrollment_code, person, label).await?;
            Ok(EnrolledPersonInfo::from_listed(&enrolled))
        })
        .await
    }

    /// Fetches the office configuration if it changed; returns whether it did.
    pub async fn refresh_config(&self) -> Result<bool, HadirError> {
        self.spawned("refresh_config", |device| async move {
            device.refresh_config().await
        })
        .await
    }

    /// The people enrolled on this device. Local, any thread.
    pub fn people(&self) -> Result<Vec<EnrolledPersonInfo>, HadirError> {
        let config = self.device.config();
        let people = self.device.people().and_then(|people| {
            people
                .iter()
                .map(|p| {
                    let listed = config.as_ref().and_then(|c| {
                        c.people
                            .iter()
                            .find(|d| d.person.to_string() == p.person_id)
                    });
                    EnrolledPersonInfo::from_core(p, listed)
                })
                .collect()
        });
        self.local("people", people)
    }

    /// The verdict for a fix before the camera opens ("Anda berada 240 m dari Kantor
    /// Dinas Kominfo"). Works offline from the cached configuration. Local, any thread.
    pub fn check_location(
        &self,
        person: PersonRef,
        fix: LocationFix,
    ) -> Result<LocationVerdict, HadirError> {
        let check = person
            .to_core("person")
            .and_then(|person| self.device.check_location(&person, &fix.to_core()));
        Ok(LocationVerdict::from_core(
            &self.local("check_location", check)?,
        ))
    }

    /// Records a check-in: the selfie is normalised and hashed, the evidence signed and
    /// committed to the outbox before this returns. Works offline; call
    /// [`HadirEngine::sync_now`] (or run the background sync) to deliver it.
    ///
    /// Cancellation (of a Kotlin coroutine; on Swift the call always runs to
    /// completion) is exact: cancelled before the check-in is committed to the outbox,
    /// nothing is recorded; once committed, it stays (it is never lost, and it is sent
    /// by the next sync even if the caller was cancelled just after). A shell that was
    /// cancelled can tell which by [`HadirEngine::pending_count`] or
    /// [`HadirEngine::history`].
    pub async fn check_in(
        &self,
        person: PersonRef,
        kind: AttendanceKind,
        fix: LocationFix,
        selfie_jpeg: Vec<u8>,
        qr_token: Option<String>,
    ) -> Result<CheckInReceipt, HadirError> {
        self.spawned("check_in", |device| async move {
            let receipt = device
                .check_in(CheckInRequest {
                    person: person.to_core("person")?,
                    kind: kind.to_core(),
                    fix: fix.to_core(),
                    selfie_jpeg,
                    qr_token,
                })
                .await?;
            Ok(CheckInReceipt::from_core(&receipt))
        })
        .await
    }

    /// Sends every pending check-in now (ignoring backoff) and returns what the server
    /// decided. A failure to reach the server is reported in the result, not thrown:
    /// nothing is lost and the check-ins stay pending. Cancelling the Kotlin caller stops
    /// the pass (on Swift it runs to completion); what the server already decided is
    /// recorded, the rest stays pending.
    pub async fn sync_now(&self) -> Result<SyncReport, HadirError> {
        let log = self.log.clone();
        self.spawned("sync_now", |device| async move {
            let report = device.sync_now(true).await?;
            log.log(
                LogLevel::Info,
                format!(
                    "sync: {} accepted, {} rejected, {} pending",
                    report.accepted, report.rejected, report.pending
                ),
            );
            Ok(SyncReport::from_core(&report))
        })
        .await
    }

    /// When sync last ran and last reached the server, and the pending count. Local,
    /// any thread.
    pub fn sync_status(&self) -> Result<SyncStatus, HadirError> {
        let status = self.device.sync_status();
        Ok(SyncStatus::from_core(&self.local("sync_status", status)?))
    }

    /// Check-ins waiting to be sent. Local, any thread.
    pub fn pending_count(&self) -> Result<u32, HadirError> {
        self.local("pending_count", self.device.pending_count())
    }

    /// Recent check-ins on this phone, newest first, optionally for one person. Local,
    /// any thread.
    pub fn history(
        &self,
        person: Option<PersonRef>,
        limit: u32,
    ) -> Result<Vec<HistoryItem>, HadirError> {
        let items = (|| {
            let person = person.map(|p| p.to_core("person")).transpose()?;
            self.device
                .history(person.as_ref(), limit)?
                .iter()
                .map(HistoryItem::from_core)
                .collect()
        })();
        self.local("history", items)
    }

    /// Starts syncing in the background every `interval_seconds` (at least 5), reporting
    /// each pass to `listener` (in order, on the handle's own thread; see
    /// [`TaskHandle`]). Items waiting out a backoff are respected. Stop it with the
    /// handle's `cancel`, or on Kotlin by cancelling a coroutine awaiting its `join`
    /// (on Swift, Task cancellation does not reach Rust: call `cancel`).
    pub fn start_background_sync(
        &self,
        interval_seconds: u32,
        listener: Arc<dyn SyncListener>,
    ) -> Arc<TaskHandle> {
        let device = self.device.clone();
        let log = self.log.clone();
        let listener_log = self.log.clone();
        let interval = Duration::from_secs(u64::from(interval_seconds.max(5)));
        Arc::new(TaskHandle::spawn(
            "sync",
            move |reports| async move {
                loop {
                    let report = match device.sync_now(false).await {
                        Ok(r) => SyncReport::from_core(&r),
                        Err(e) => {
                            let pending = device.pending_count().unwrap_or_default();
                            SyncReport::failed(&failed(&log, "background sync", e), pending)
                        }
                    };
                    if reports.send(report).is_err() {
                        return;
                    }
                    tokio::time::sleep(interval).await;
                }
            },
            move |report| {
                if let Err(e) = listener.on_sync(report) {
                    listener_log.log(LogLevel::Warn, format!("SyncListener.on_sync: {e}"));
                }
            },
        ))
    }

    /// The next attendance `person` is expected to record ("Absen pulang hari ini pukul
    /// 16:00."), from their office's schedule and this phone's check-ins today. Works
    /// offline; `None` when nothing is due within three weeks. Local, any thread.
    pub fn next_expected_attendance(
        &self,
        person: PersonRef,
    ) -> Result<Option<NextAttendance>, HadirError> {
        let next = person
            .to_core("person")
            .and_then(|person| self.device.next_expected(&person));
        Ok(self
            .local("next_expected_attendance", next)?
            .as_ref()
            .map(NextAttendance::from_core))
    }

    /// The time for `person` on the server-anchored clock, in their office's time zone:
    /// the instant, the UTC offset and the date `team_attendance(…, None)` shows. Screens
    /// format times with it, and a supervisor's screen compares its date with the view's
    /// to notice midnight. Local, any thread.
    pub fn local_time(&self, person: PersonRef) -> Result<LocalTime, HadirError> {
        let time = person
            .to_core("person")
            .and_then(|person| self.device.local_time(&person));
        Ok(LocalTime::from_core(&self.local("local_time", time)?))
    }

    /// A supervisor's team on `date` (`YYYY-MM-DD`, office-local; `None`: today): who is
    /// present, late, not arrived, absent, on leave or flagged, with their check-ins.
    /// Only the phone's owner, registered as the supervisor, may read it
    /// (`TEAM_FORBIDDEN`, `TEAM_NOT_SUPERVISOR` otherwise). Needs the network.
    pub async fn team_attendance(
        &self,
        supervisor: PersonRef,
        date: Option<String>,
    ) -> Result<TeamView, HadirError> {
        self.spawned("team_attendance", |device| async move {
            let supervisor = supervisor.to_core("supervisor")?;
            let date = date.map(|d| device::parse_date("date", &d)).transpose()?;
            let team = device.team_attendance(&supervisor, date).await?;
            Ok(TeamView::from_core(&team))
        })
        .await
    }

    /// Follows the team live: `listener` gets each team member's new check-in with
    /// their updated row, in order, on the handle's own thread (see [`TaskHandle`]).
    /// Start from the `cursor` of [`HadirEngine::team_attendance`] so nothing between
    /// the two is missed (`None`: from now). Without signal it retries by itself from
    /// the same cursor (`on_team_retrying`); a final refusal ends it with
    /// `on_team_closed`, its last callback. Stop it with the handle's `cancel`, or on
    /// Kotlin by cancelling a coroutine awaiting its `join` (on Swift, Task cancellation
    /// does not reach Rust: call `cancel`).
    pub fn subscribe_team(
        &self,
        supervisor: PersonRef,
        after_cursor: Option<i64>,
        listener: Arc<dyn TeamListener>,
    ) -> Result<Arc<TaskHandle>, HadirError> {
        let supervisor = self.local("subscribe_team", supervisor.to_core("supervisor"))?;
        let device = self.device.clone();
        let log = self.log.clone();
        Ok(Arc::new(TaskHandle::spawn(
            "team",
            move |feed| async move {
                let events = feed.clone();
                let problems = feed.clone();
                let end = device
                    .watch_team(
                        &supervisor,
                        after_cursor,
                        move |event| {
                            let _ = events.send(TeamDelivery::Update(Box::new(
                                TeamUpdate::from_core(&event),
                            )));
                        },
                        move |problem| {
                            let _ = problems.send(match problem {
                                TeamFeedProblem::Retrying {
                                    code,
                                    message,
                                    retry_in_ms,
                                } => TeamDelivery::Retrying {
                                    code,
                                    message,
                                    retry_in_ms,
                                },
                                TeamFeedProblem::Reset => TeamDelivery::Reset,
                            });
                        },
                    )
                    .await;
                let _ = feed.send(TeamDelivery::Closed {
                    code: end.code(),
                    message: end.staff_message(),
                });
            },
            move |delivery| {
                let outcome = match delivery {
                    TeamDelivery::Update(update) => listener.on_team_update(*update),
                    TeamDelivery::Retrying {
                        code,
                        message,
                        retry_in_ms,
                    } => listener.on_team_retrying(code, message, retry_in_ms),
                    TeamDelivery::Reset => listener.on_team_reset(),
                    TeamDelivery::Closed { code, message } => {
                        listener.on_team_closed(code, message)
                    }
                };
                // A failing listener must not stop the feed.
                if let Err(e) = outcome {
                    log.log(LogLevel::Warn, format!("TeamListener: {e}"));
                }
            },
        )))
    }
}

/// What the live team feed hands its delivery thread, in order.
enum TeamDelivery {
    Update(Box<TeamUpdate>),
    Retrying {
        code: String,
        message: String,
        retry_in_ms: u64,
    },
    Reset,
    Closed {
        code: String,
        message: String,
    },
}
