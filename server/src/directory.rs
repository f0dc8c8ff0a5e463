//! The in-memory directory: enrolled devices (keys, members), people and the
//! [`GeofenceIndex`] of all offices, so that no request runs SQL to find a key or an
//! office.
//!
//! Freshness: the database keeps a `directory_version` counter that every admin change
//! (CLI or server) bumps in the same transaction. At most once per
//! `directory_refresh_ms` (default 1 s) a request reads that counter (one indexed read)
//! and, if it moved, the whole directory is reloaded in the background of that one
//! request while others keep using the current snapshot. Enrollments made by this
//! server are applied in place at once, so a newly enrolled phone can sync immediately.
//! So an admin change made by the CLI while `serve` runs is seen within about a second.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use hadir_core::geofence::{GeofenceIndex, Office};
use hadir_core::ids::PersonId;
use hadir_core::roster;
use hadir_core::schedule::OfficeSchedule;

use crate::storage::month_tables::Freeze;
use crate::storage::{
    DeviceMember, DeviceRecord, DirectorySnapshot, Storage, StorageError, person_key,
};

/// An enrolled device as cached.
pub type DeviceEntry = DeviceRecord;

/// A person as cached.
#[derive(Debug, Clone)]
pub struct PersonEntry {
    /// Identifier.
    pub id: PersonId,
    /// Roster name.
    pub display_name: String,
    /// Offices where they may check in.
    pub office_ids: Vec<String>,
    /// [`person_key`] of their supervisor.
    pub supervisor_key: Option<String>,
    /// Their unit (OPD), if imported with one.
    pub unit_id: Option<String>,
}

/// People and offices: replaced as a whole on reload.
#[derive(Debug)]
pub struct StaticDirectory {
    /// By [`person_key`].
    pub people: HashMap<String, PersonEntry>,
    /// All valid offices, indexed.
    pub geofence: Arc<GeofenceIndex>,
    /// Each supervisor's direct reports ([`person_key`]s), by the supervisor's key.
    pub teams: HashMap<String, Vec<String>>,
    /// Offices' own schedules, by office id.
    pub schedules: HashMap<String, OfficeSchedule>,
    /// The windows of suspended attendance by phone, in force or lifted.
    pub freezes: Vec<Freeze>,
}

impl StaticDirectory {
    /// The schedule of an office ([`roster::office_schedule`]).
    pub fn schedule(&self, office_id: &str) -> OfficeSchedule {
        roster::office_schedule(self.schedules.get(office_id))
    }

    /// The office whose time zone and schedule apply to a person ([`roster::home`]).
    pub fn home(&self, person: &PersonEntry) -> roster::Home<'_> {
        roster::home(
            &person.office_ids,
            |id| self.geofence.office(id),
            |id| self.schedules.get(id),
        )
    }

    /// The switch suspending this person's attendance by phone, if one is in force: the
    /// pemda's, else their unit's (the earlier when both are).
    pub fn phone_suspension(&self, person: &PersonEntry) -> Option<&Freeze> {
        self.freezes_of(person)
            .filter(|f| f.until_ms.is_none())
            .min_by_key(|f| f.since_ms)
    }

    /// The suspension window (in force or lifted) covering a check-in of this person made
    /// at `instant_ms`, if any: such a check-in is refused even after the switch is lifted.
    pub fn suspended_at(&self, person: &PersonEntry, instant_ms: i64) -> Option<&Freeze> {
        self.freezes_of(person).find(|f| f.covers(instant_ms))
    }

    fn freezes_of<'a>(&'a self, person: &PersonEntry) -> impl Iterator<Item = &'a Freeze> {
        let unit_scope = person.unit_id.as_ref().map(|u| format!("unit:{u}"));
        self.freezes
            .iter()
            .filter(move |f| f.scope == "pemda" || Some(&f.scope) == unit_scope.as_ref())
    }

    /// The number of people registered under this person.
    pub fn direct_reports(&self, person_key: &str) -> usize {
        self.teams.get(person_key).map_or(0, Vec::len)
    }
}

/// The cache itself.
pub struct Directory {
    devices: RwLock<HashMap<String, Arc<DeviceEntry>>>,
    statics: RwLock<Arc<StaticDirectory>>,
    version: AtomicI64,
    last_check: Mutex<Instant>,
    reload: Mutex<()>,
    refresh: Duration,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("version", &self.version.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn build_statics(snapshot: &DirectorySnapshot) -> StaticDirectory {
    let offices: Vec<Office> = snapshot
        .offices
        .iter()
        .filter(|o| match o.validate() {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(office = %o.id, error = %e, "stored office is invalid; ignored");
                false
            }
        })
        .cloned()
        .collect();
    let geofence = GeofenceIndex::new(offices).unwrap_or_else(|e| {
        tracing::error!(error = %e, "offices could not be indexed; none loaded");
        GeofenceIndex::new(Vec::new()).expect("an empty index builds")
    });
    let people: HashMap<String, PersonEntry> = snapshot
        .people
        .iter()
        .map(|p| {
            (
                person_key(&p.id),
                PersonEntry {
                    id: p.id.clone(),
                    display_name: p.display_name.clone(),
                    office_ids: p.office_ids.clone(),
                    supervisor_key: p.supervisor.as_ref().map(person_key),
                    unit_id: snapshot.person_units.get(&person_key(&p.id)).cloned(),
                },
            )
        })
        .collect();
    let mut teams: HashMap<String, Vec<String>> = HashMap::new();
    for (key, p) in &people {
        if let Some(sup) = &p.supervisor_key {
            teams.entry(sup.clone()).or_default().push(key.clone());
        }
    }
    for members in teams.values_mut() {
        members.sort();
    }
    let schedules = snapshot
        .schedules
        .iter()
        .filter(|(office, s)| match s.validate() {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(%office, error = %e, "stored schedule is invalid; default used");
                false
            }
        })
        .map(|(o, s)| (o.clone(), s.clone()))
        .collect();
    StaticDirectory {
        people,
        geofence: Arc::new(geofence),
        teams,
        schedules,
        freezes: snapshot.freezes.clone(),
    }
}

impl Directory {
    /// Loads the directory from storage.
    pub fn load(storage: &dyn Storage, refresh: Duration) -> Result<Self, StorageError> {
        let snapshot = storage.load_directory()?;
        let directory = Directory {
            devices: RwLock::new(HashMap::new()),
            statics: RwLock::new(Arc::new(StaticDirectory {
                people: HashMap::new(),
                geofence: Arc::new(GeofenceIndex::new(Vec::new()).expect("an empty index builds")),
                teams: HashMap::new(),
                schedules: HashMap::new(),
                freezes: Vec::new(),
            })),
            version: AtomicI64::new(snapshot.version),
            last_check: Mutex::new(Instant::now()),
            reload: Mutex::new(()),
            refresh,
        };
        directory.replace(snapshot);
        Ok(directory)
    }

    fn replace(&self, snapshot: DirectorySnapshot) {
        let statics = Arc::new(build_statics(&snapshot));
        let devices = snapshot
            .devices
            .into_iter()
            .map(|d| (d.device_id.clone(), Arc::new(d)))
            .collect();
        *self.statics.write().expect("directory lock") = statics;
        *self.devices.write().expect("directory lock") = devices;
        self.version.store(snapshot.version, Ordering::Release);
    }

    /// Reloads if the stored version moved and the refresh interval passed. Blocking
    /// (one small read); call from the blocking pool. Errors are logged and the current
    /// snapshot kept.
    pub fn refresh_if_due(&self, storage: &dyn Storage) {
        {
            let mut last = self.last_check.lock().expect("directory lock");
            if last.elapsed() < self.refresh {
                return;
            }
            *last = Instant::now();
        }
        self.refresh_now(storage);
    }

    /// Reloads now if the stored version moved.
    pub fn refresh_now(&self, storage: &dyn Storage) {
        let Ok(_guard) = self.reload.try_lock() else {
            return; // another request is reloading
        };
        match storage.directory_version() {
            Ok(v) if v == self.version.load(Ordering::Acquire) => {}
            Ok(_) => match storage.load_directory() {
                Ok(snapshot) => {
                    tracing::info!(version = snapshot.version, "directory reloaded");
                    self.replace(snapshot);
                }
                Err(e) => tracing::error!(error = %e, "directory reload failed"),
            },
            Err(e) => tracing::error!(error = %e, "directory version check failed"),
        }
    }

    /// The device with this id.
    pub fn device(&self, device_id: &str) -> Option<Arc<DeviceEntry>> {
        self.devices
            .read()
            .expect("directory lock")
            .get(device_id)
            .cloned()
    }

    /// People and offices.
    pub fn statics(&self) -> Arc<StaticDirectory> {
        self.statics.read().expect("directory lock").clone()
    }

    /// Applies an enrollment this server just committed. If the stored version moved by
    /// exactly this one change, the cache stays current; otherwise the next refresh
    /// reloads everything.
    pub fn apply_enrollment(&self, device: DeviceRecord, new_version: i64) {
        self.devices
            .write()
            .expect("directory lock")
            .insert(device.device_id.clone(), Arc::new(device));
        let _ = self.version.compare_exchange(
            new_version - 1,
            new_version,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// The members of a device as [`PersonEntry`]s (owner first), skipping unknown ones.
    pub fn members(&self, device: &DeviceEntry) -> Vec<(DeviceMember, PersonEntry)> {
        let statics = self.statics();
        device
            .members
            .iter()
            .filter_map(|m| {
                statics
                    .people
                    .get(&m.person_key)
                    .map(|p| (m.clone(), p.clone()))
            })
            .collect()
    }
}
