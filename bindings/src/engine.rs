//! [`HadirEngine`]: the one object the shells hold. Synchronous, callable from any
//! thread; network calls run on the library's runtime.

use std::sync::Arc;
use std::time::Duration;

use hadir_core::clock::{PlatformClock, SystemClock};
use hadir_core::envelope::DeviceKey;
use hadir_device::client::TlsOptions;
use hadir_device::device::{CheckInRequest, Device, DeviceSettings, TeamFeedProblem};

use crate::error::HadirError;
use crate::platform::{
    ClockProvider, DeviceKeyProvider, ForeignClock, ForeignDeviceKey, LogLevel, Logger,
    SyncListener, TeamListener,
};
use crate::runtime::{TaskHandle, block_on};
use crate::types::{
    AttendanceKind, CheckInReceipt, DeviceLabelInput, EngineConfig, EnrolledPersonInfo,
    HistoryItem, LocationFix, LocationVerdict, NextAttendance, PersonRef, SyncReport, TeamUpdate,
    TeamView,
};

/// The Hadir device engine: enrollment, the geofence verdict, check-ins recorded
/// offline in a durable outbox, and their exactly-once delivery to the server.
#[derive(uniffi::Object)]
pub struct HadirEngine {
    device: Arc<Device>,
    logger: Option<Arc<dyn Logger>>,
}

impl HadirEngine {
    fn log(&self, level: LogLevel, message: String) {
        if let Some(logger) = &self.logger {
            // A failing logger must never fail the operation it reports on.
            let _ = logger.log(level, message);
        }
    }

    fn report<T>(&self, what: &str, result: Result<T, HadirError>) -> Result<T, HadirError> {
        if let Err(e) = &result {
            self.log(LogLevel::Warn, format!("{what} failed: {}", e.code()));
        }
        result
    }
}

#[uniffi::export]
impl HadirEngine {
    /// Opens (or creates) the engine's database and prepares the device key. With no
    /// `device_key`, a software P-256 key is generated once and kept in the database;
    /// with no `clock`, the operating system's clocks are used.
    #[uniffi::constructor]
    pub fn open(
        config: EngineConfig,
        device_key: Option<Arc<dyn DeviceKeyProvider>>,
        clock: Option<Arc<dyn ClockProvider>>,
        logger: Option<Arc<dyn Logger>>,
    ) -> Result<Arc<Self>, HadirError> {
        let mut settings = DeviceSettings::new(&config.database_path, &config.server_url);
        settings.tls = TlsOptions {
            extra_root_der: config.extra_root_cert_der,
            pinned_cert_sha256: config.pinned_cert_sha256,
        };
        settings.app_version = config.app_version;
        settings.platform = config.platform;
        let key: Option<Arc<dyn DeviceKey>> = match device_key {
            Some(provider) => Some(Arc::new(ForeignDeviceKey::new(provider).map_err(|e| {
                HadirError::Platform {
                    code: "KEY_UNAVAILABLE".into(),
                    staff_message: format!(
                        "Kunci keamanan perangkat tidak dapat dibaca ({e}). Hubungi admin."
                    ),
                }
            })?)),
            None => None,
        };
        let clock: Arc<dyn PlatformClock> = match clock {
            Some(c) => Arc::new(ForeignClock::new(c)),
            None => Arc::new(SystemClock::default()),
        };
        let device = Device::open(settings, key, clock)?;
        let engine = HadirEngine {
            device: Arc::new(device),
            logger,
        };
        engine.log(LogLevel::Info, "engine opened".into());
        Ok(Arc::new(engine))
    }

    /// The server-assigned id of this device, once enrolled.
    pub fn device_id(&self) -> Result<Option<String>, HadirError> {
        Ok(self.device.device_id()?)
    }

    /// The device's public key (65-byte uncompressed P-256 point).
    pub fn public_key(&self) -> Vec<u8> {
        self.device.public_key()
    }

    /// Enrolls a person on this device with the code an admin issued for them. The
    /// first person becomes the device's owner; calling it again with another person's
    /// code adds a colleague who shares the phone.
    pub fn enroll(
        &self,
        enrollment_code: String,
        person: PersonRef,
        device_label: DeviceLabelInput,
    ) -> Result<EnrolledPersonInfo, HadirError> {
        let result = (|| {
            let person = person.to_core()?;
            let label = device_label.to_core()?;
            let enrolled = block_on(self.device.enroll(&enrollment_code, person, label))?;
            Ok(EnrolledPersonInfo {
                person_id: enrolled.person.value().to_string(),
                display_name: enrolled.display_name,
                is_device_owner: enrolled.is_device_owner,
                office_ids: enrolled.office_ids,
                is_supervisor: enrolled.is_supervisor,
            })
        })();
        self.report("enroll", result)
    }

    /// Fetches the office configuration if it changed; returns whether it did.
    pub fn refresh_config(&self) -> Result<bool, HadirError> {
        self.report(
            "refresh_config",
            block_on(self.device.refresh_config()).map_err(Into::into),
        )
    }

    /// The people enrolled on this device.
    pub fn people(&self) -> Result<Vec<EnrolledPersonInfo>, HadirError> {
        let config = self.device.config();
        Ok(self
            .device
            .people()?
            .iter()
            .map(|p| {
                let listed = config
                    .as_ref()
                    .and_then(|c| c.people.iter().find(|d| d.person.value() == p.person_id));
                EnrolledPersonInfo::from_core(
                    p,
                    listed.map(|d| d.office_ids.clone()).unwrap_or_default(),
                    listed.is_some_and(|d| d.is_supervisor),
                )
            })
            .collect())
    }

    /// The verdict for a fix before the camera opens ("Anda berada 240 m dari Kantor
    /// Dinas Kominfo"). Works offline from the cached configuration.
    pub fn check_location(
        &self,
        person: PersonRef,
        fix: LocationFix,
    ) -> Result<LocationVerdict, HadirError> {
        let person = person.to_core()?;
        let check = self.device.check_location(&person, &fix.to_core())?;
        Ok(LocationVerdict::from_core(&check))
    }

    /// Records a check-in: the selfie is normalised and hashed, the evidence signed and
    /// committed to the outbox before this returns. Works offline; call
    /// [`HadirEngine::sync_now`] (or run the background sync) to deliver it.
    pub fn check_in(
        &self,
        person: PersonRef,
        kind: AttendanceKind,
        fix: LocationFix,
        selfie_jpeg: Vec<u8>,
        qr_token: Option<String>,
    ) -> Result<CheckInReceipt, HadirError> {
        let result = (|| {
            let receipt = self.device.check_in(CheckInRequest {
                person: person.to_core()?,
                kind: kind.to_core(),
                fix: fix.to_core(),
                selfie_jpeg,
                qr_token,
            })?;
            Ok(CheckInReceipt::from_core(&receipt))
        })();
        self.report("check_in", result)
    }

    /// Sends every pending check-in now (ignoring backoff) and returns what the server
    /// decided. A failure to reach the server is reported in the result, not thrown:
    /// nothing is lost and the check-ins stay pending.
    pub fn sync_now(&self) -> Result<SyncReport, HadirError> {
        let report = block_on(self.device.sync_now(true))?;
        self.log(
            LogLevel::Info,
            format!(
                "sync: {} accepted, {} rejected, {} pending",
                report.accepted, report.rejected, report.pending
            ),
        );
        Ok(SyncReport::from_core(&report))
    }

    /// Check-ins waiting to be sent.
    pub fn pending_count(&self) -> Result<u32, HadirError> {
        Ok(self.device.pending_count()?)
    }

    /// Recent check-ins on this phone, newest first, optionally for one person.
    pub fn history(
        &self,
        person: Option<PersonRef>,
        limit: u32,
    ) -> Result<Vec<HistoryItem>, HadirError> {
        let person = person.map(|p| p.to_core()).transpose()?;
        Ok(self
            .device
            .history(person.as_ref(), limit)?
            .iter()
            .map(HistoryItem::from_core)
            .collect())
    }

    /// Starts syncing in the background every `interval_seconds` (at least 5), reporting
    /// each pass to `listener`. Items waiting out a backoff are respected. Cancel with
    /// the returned handle.
    pub fn start_background_sync(
        &self,
        interval_seconds: u32,
        listener: Arc<dyn SyncListener>,
    ) -> Arc<TaskHandle> {
        let device = self.device.clone();
        let interval = Duration::from_secs(u64::from(interval_seconds.max(5)));
        Arc::new(TaskHandle::spawn(async move {
            loop {
                let report = match device.sync_now(false).await {
                    Ok(r) => SyncReport::from_core(&r),
                    Err(e) => SyncReport {
                        accepted: 0,
                        flagged: 0,
                        rejected: 0,
                        pending: device.pending_count().unwrap_or_default(),
                        decisions: vec![],
                        error_code: Some(e.code()),
                        error_message: Some(e.staff_message()),
                    },
                };
                let _ = listener.on_sync(report);
                tokio::time::sleep(interval).await;
            }
        }))
    }

    /// The next attendance `person` is expected to record ("Absen pulang hari ini pukul
    /// 16:00."), from their office's schedule and this phone's check-ins today. Works
    /// offline; `None` when nothing is due within three weeks.
    pub fn next_expected_attendance(
        &self,
        person: PersonRef,
    ) -> Result<Option<NextAttendance>, HadirError> {
        let person = person.to_core()?;
        Ok(self
            .device
            .next_expected(&person)?
            .as_ref()
            .map(NextAttendance::from_core))
    }

    /// A supervisor's team on `date` (`YYYY-MM-DD`, office-local; `None`: today): who is
    /// present, late, not arrived, absent, on leave or flagged, with their check-ins.
    /// Only the phone's owner, registered as the supervisor, may read it
    /// (`TEAM_FORBIDDEN`, `TEAM_NOT_SUPERVISOR` otherwise). Needs the network.
    pub fn team_attendance(
        &self,
        supervisor: PersonRef,
        date: Option<String>,
    ) -> Result<TeamView, HadirError> {
        let result = (|| {
            let supervisor = supervisor.to_core()?;
            let date = date
                .map(|d| {
                    hadir_core::schedule::iso_date::parse(d.trim()).ok_or_else(|| {
                        HadirError::invalid("DATE_INVALID", "Tanggal tidak valid (TTTT-BB-HH).")
                    })
                })
                .transpose()?;
            let team = block_on(self.device.team_attendance(&supervisor, date))?;
            Ok(TeamView::from_core(&team))
        })();
        self.report("team_attendance", result)
    }

    /// Follows the team live: `listener` gets each team member's new check-in with
    /// their updated row, in order. Start from the `cursor` of
    /// [`HadirEngine::team_attendance`] so nothing between the two is missed (`None`:
    /// from now). Without signal it retries by itself from the same cursor; a final
    /// refusal ends it with `on_team_closed`. Stop it with the handle's `cancel`.
    pub fn subscribe_team(
        &self,
        supervisor: PersonRef,
        after_cursor: Option<i64>,
        listener: Arc<dyn TeamListener>,
    ) -> Result<Arc<TaskHandle>, HadirError> {
        let supervisor = supervisor.to_core()?;
        let device = self.device.clone();
        Ok(Arc::new(TaskHandle::spawn(async move {
            let events = listener.clone();
            let problems = listener.clone();
            let end = device
                .watch_team(
                    &supervisor,
                    after_cursor,
                    move |event| {
                        // A failing listener must not stop the feed.
                        let _ = events.on_team_update(TeamUpdate::from_core(&event));
                    },
                    move |problem| match problem {
                        TeamFeedProblem::Retrying {
                            code,
                            message,
                            retry_in_ms,
                        } => {
                            let _ = problems.on_team_retrying(code, message, retry_in_ms);
                        }
                        TeamFeedProblem::Reset => {
                            let _ = problems.on_team_reset();
                        }
                    },
                )
                .await;
            let _ = listener.on_team_closed(end.code(), end.staff_message());
        })))
    }
}
