//! The embedded default storage: one SQLite file in WAL mode.
//!
//! * **Migrations** are versioned with `PRAGMA user_version` and run at open, all
//!   pending ones in one transaction.
//! * **One writer.** A dedicated thread owns the only write connection and receives
//!   work over a bounded channel. It takes every job waiting in the queue (up to
//!   [`MAX_JOBS_PER_TX`]) and runs them in ONE transaction, each inside its own
//!   savepoint so a failing job does not undo its neighbours, then commits once and
//!   answers them all (group commit). Callers block until their job is committed, so a
//!   result is never returned before it is durable. A full queue answers
//!   [`StorageError::Overloaded`] at once (the HTTP layer turns it into 503 +
//!   `Retry-After`).
//! * **Durability choice**: `synchronous = NORMAL` in WAL mode. A commit is durable
//!   against a crash of the server process (the WAL is written before the commit
//!   returns); only a power loss or kernel crash can lose the last transactions, which
//!   the phones' outboxes then resend (uploads are idempotent), so nothing is lost for
//!   the user. `FULL` would fsync each group commit; set `HADIR_SQLITE_SYNC_FULL=1` to
//!   choose it.
//! * **Readers** use separate connections from a pool of at most [`MAX_READERS`] (a read
//!   beyond waits for one, so the open-file budget holds); WAL lets them read while
//!   the writer writes.

use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use chrono::NaiveDate;
use hadir_core::api::{CheckInResult, LeaveInfo, LeaveKind, Policy, TeamCheckIn};
use hadir_core::clock::{BootObservation, contradicts, keep_smallest_offset};
use hadir_core::fix::GpsFix;
use hadir_core::geofence::Office;
use hadir_core::ids::{DeviceLabel, PersonId, PersonIdKind};
use hadir_core::roster::{IssuedCode, SupervisionRefusal, check_supervision};
use hadir_core::schedule::OfficeSchedule;
use hadir_core::wire::AttendanceKind;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::{
    AttestedDevice, DeviceListing, KioskRecord, QrWaiver, device_tables, month_tables, qr_tables,
};
use super::{
    DeviceMember, DeviceRecord, DirectorySnapshot, EnrollRefusal, Enrolled, FeedCheckIn,
    NewEnrollment, PersonRecord, SelfieMeta, Storage, StorageError, StoredCheckIn, person_key,
};
use crate::attestation::DeviceAttestation;
use crate::attestation_status::{StatusList, StatusListSummary};
use crate::clock::Clock;
use crate::decision::decide;
use crate::ledger::{Ledger, PreparedCheckIn, RecentSelfie, SelfieInLedger};

/// Most jobs committed in one transaction.
pub const MAX_JOBS_PER_TX: usize = 256;
/// Default capacity of the write queue (jobs).
pub const DEFAULT_QUEUE: usize = 1024;
/// Most people whose last fix / recent selfies the writer keeps in memory.
const MAX_CACHED_PEOPLE: usize = 200_000;
/// Most read connections open at once (a read beyond waits for one to come back); they
/// are kept open between reads. Counted in the open-file budget
/// ([`crate::open_files::sqlite_files`]).
pub const MAX_READERS: usize = 8;

/// The schema, one entry per version. Never edit a shipped entry; append.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
    INSERT INTO meta (key, value) VALUES ('directory_version', 1);
    CREATE TABLE offices (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        office_json TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE people (
        person_key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        display_name TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE person_offices (
        person_key TEXT NOT NULL REFERENCES people(person_key) ON DELETE CASCADE,
        office_id TEXT NOT NULL REFERENCES offices(id),
        position INTEGER NOT NULL,
        PRIMARY KEY (person_key, office_id)
    ) STRICT;
    CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        public_key BLOB NOT NULL UNIQUE,
        label_kind TEXT NOT NULL,
        label_value TEXT NOT NULL,
        platform TEXT NOT NULL,
        app_version TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        revoked_ms INTEGER
    ) STRICT;
    CREATE TABLE device_people (
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        person_key TEXT NOT NULL REFERENCES people(person_key),
        is_owner INTEGER NOT NULL,
        enrolled_ms INTEGER NOT NULL,
        PRIMARY KEY (device_id, person_key)
    ) STRICT;
    CREATE TABLE enrollment_codes (
        code_hash TEXT PRIMARY KEY,
        person_key TEXT NOT NULL REFERENCES people(person_key),
        issued_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        used_ms INTEGER,
        used_by_device TEXT
    ) STRICT;
    CREATE TABLE selfies (
        sha256 TEXT PRIMARY KEY,
        phash INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        uploaded_by TEXT NOT NULL,
        uploaded_ms INTEGER NOT NULL,
        first_checkin TEXT
    ) STRICT;
    CREATE TABLE checkins (
        checkin_id TEXT PRIMARY KEY,
        payload_sha256 TEXT NOT NULL,
        device_id TEXT NOT NULL,
        person_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        codes TEXT NOT NULL,
        trusted_ms INTEGER,
        office_id TEXT,
        selfie_sha256 TEXT NOT NULL,
        selfie_phash INTEGER NOT NULL,
        fix_json TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        result_json TEXT NOT NULL,
        envelope_json BLOB NOT NULL
    ) STRICT;
    CREATE INDEX checkins_person ON checkins (person_key, trusted_ms);
    "#,
    // 2: supervisors, office schedules, leave; the live feed reads check-ins by
    // (person_key, rowid), which an index on person_key alone provides.
    r#"
    ALTER TABLE people ADD COLUMN supervisor_key TEXT;
    CREATE INDEX people_supervisor ON people (supervisor_key);
    CREATE TABLE office_schedules (
        office_id TEXT PRIMARY KEY REFERENCES offices(id),
        schedule_json TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE leaves (
        id INTEGER PRIMARY KEY,
        person_key TEXT NOT NULL REFERENCES people(person_key),
        kind TEXT NOT NULL,
        from_date TEXT NOT NULL,
        to_date TEXT NOT NULL,
        note TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX leaves_person ON leaves (person_key, to_date);
    CREATE INDEX checkins_feed ON checkins (person_key);
    "#,
    // 3: signed time anchors (issue #13, "Time the phone cannot invent"): the server's
    // anchor secret, created once at first start, and per device and boot the
    // observation of its elapsed clock against the server's time with the smallest
    // offset (server time − elapsed).
    r#"
    CREATE TABLE time_anchor_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        secret BLOB NOT NULL,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE device_boots (
        device_id TEXT NOT NULL,
        boot_id TEXT NOT NULL,
        server_time_ms INTEGER NOT NULL,
        boot_elapsed_ms INTEGER NOT NULL,
        PRIMARY KEY (device_id, boot_id)
    ) STRICT, WITHOUT ROWID;
    "#,
    // 4: the office QR and the kiosk (issue #13): each office's QR secret (never shown), the
    // enrolled kiosks (credential kept only as its SHA-256), the waivers (who, when, why).
    r#"
    CREATE TABLE office_qr_secrets (
        office_id TEXT PRIMARY KEY REFERENCES offices(id),
        secret BLOB NOT NULL,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE kiosks (
        kiosk_id TEXT PRIMARY KEY,
        office_id TEXT NOT NULL REFERENCES offices(id),
        label TEXT NOT NULL,
        credential_sha256 TEXT NOT NULL UNIQUE,
        created_ms INTEGER NOT NULL,
        revoked_ms INTEGER
    ) STRICT;
    CREATE TABLE qr_waivers (
        id INTEGER PRIMARY KEY,
        office_id TEXT NOT NULL REFERENCES offices(id),
        local_date TEXT NOT NULL,
        reason TEXT NOT NULL,
        waived_by TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX qr_waivers_day ON qr_waivers (office_id, local_date);
    "#,
    // 5: kiosk last-seen (issue #13 review): when each kiosk last fetched its QR, to the
    // minute, shown in `kiosk list` so a copied credential in use elsewhere can be noticed.
    r#"
    ALTER TABLE kiosks ADD COLUMN last_seen_ms INTEGER;
    "#,
    // 6: key attestation at enrollment (issue #14, "Device binding an auditor can
    // trust"): per device the level concluded from its Android Keystore attestation chain
    // (`none` for devices enrolled before, which sent none), why an unverified chain was
    // not verified, and the chain itself (JSON array of base64 DER, leaf first) so an
    // auditor can verify it again.
    r#"
    ALTER TABLE devices ADD COLUMN attestation_level TEXT NOT NULL DEFAULT 'none';
    ALTER TABLE devices ADD COLUMN attestation_reason TEXT;
    ALTER TABLE devices ADD COLUMN attestation_chain TEXT;
    "#,
    // 7: Google's attestation revocation status list (issue #14 review, "leaked
    // keyboxes"): the list an admin loaded last (`attestation status-load`), replaced
    // whole, with when it was loaded and how many entries it held; one row per revoked
    // or suspended serial (lowercase hex, no leading zeros) with Google's reason.
    r#"
    CREATE TABLE attestation_status_list (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        loaded_ms INTEGER NOT NULL,
        entry_count INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE attestation_status_entries (
        serial TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        reason TEXT
    ) STRICT, WITHOUT ROWID;
    "#,
    // 8: month's end (issue #15): units, admins, corrections and their projections,
    // machine logs, month locks, freezes (see `month_tables.rs`).
    month_tables::MIGRATION,
];

/// Runs the pending migrations in one transaction.
fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let newest = MIGRATIONS.len() as i64;
    if current > newest {
        return Err(StorageError::TooNew {
            found: current,
            supported: newest,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)?;
        tracing::info!(version = i + 1, "database migrated");
    }
    tx.pragma_update(None, "user_version", newest)?;
    tx.commit()?;
    Ok(())
}

fn configure(conn: &Connection) -> Result<(), StorageError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    let full = std::env::var("HADIR_SQLITE_SYNC_FULL").is_ok_and(|v| v == "1");
    conn.pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })?;
    Ok(())
}

type AnyBox = Box<dyn Any + Send>;
type ExecFn = Box<dyn FnOnce(&Connection, &mut WriterCache) -> Result<AnyBox, StorageError> + Send>;
type Reply = std::sync::mpsc::Sender<Result<AnyBox, StorageError>>;

struct Job {
    run: ExecFn,
    reply: Reply,
}

/// What the writer remembers between transactions (never ahead of committed data: it
/// is cleared whenever a transaction or job fails).
#[derive(Default)]
pub struct WriterCache {
    last_fix: HashMap<String, Option<GpsFix>>,
    recent: HashMap<String, Vec<RecentSelfie>>,
    /// The record of each (device, boot) read or written: a check-in's boot check then
    /// costs no read, only the upsert when it is accepted.
    boots: HashMap<(String, String), Option<BootObservation>>,
}

impl WriterCache {
    fn clear(&mut self) {
        self.last_fix.clear();
        self.recent.clear();
        self.boots.clear();
    }

    fn bound(&mut self) {
        if self.last_fix.len() > MAX_CACHED_PEOPLE
            || self.recent.len() > MAX_CACHED_PEOPLE
            || self.boots.len() > MAX_CACHED_PEOPLE
        {
            self.clear();
        }
    }

    /// The record of a device's boot, from the cache or the database.
    fn boot_record(
        &mut self,
        conn: &Connection,
        device_id: &str,
        boot_id: &str,
    ) -> Result<Option<BootObservation>, StorageError> {
        let key = (device_id.to_string(), boot_id.to_string());
        if let Some(record) = self.boots.get(&key) {
            return Ok(*record);
        }
        let record = boot_record(conn, device_id, boot_id)?;
        self.boots.insert(key, record);
        Ok(record)
    }

    /// Upserts an observation (kept if its offset is smaller than the record's) and
    /// caches the result. When the cached record already has the smaller offset (every
    /// further check-in citing the same anchor), nothing changes and nothing is written.
    fn observe_boot(
        &mut self,
        conn: &Connection,
        device_id: &str,
        boot_id: &str,
        observation: BootObservation,
    ) -> Result<(), StorageError> {
        let key = (device_id.to_string(), boot_id.to_string());
        let Some(cached) = self.boots.get(&key).copied() else {
            // Not cached: the database decides; read it back next time.
            return observe_boot(conn, device_id, boot_id, observation);
        };
        let kept = keep_smallest_offset(cached, observation);
        if cached == Some(kept) {
            return Ok(());
        }
        observe_boot(conn, device_id, boot_id, observation)?;
        self.boots.insert(key, Some(kept));
        Ok(())
    }
}

/// SQLite storage (see the module docs).
pub struct SqliteStorage {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    jobs: Option<SyncSender<Job>>,
    writer: Option<JoinHandle<()>>,
    readers: Mutex<ReaderPool>,
    reader_returned: Condvar,
}

/// A read connection on loan; it goes back to the pool when the lease is dropped, also
/// when the read panicked (the connection is then closed instead, its slot freed), so a
/// panic can never use up the pool.
struct ReaderLease<'a> {
    storage: &'a SqliteStorage,
    conn: Option<Connection>,
}

impl Drop for ReaderLease<'_> {
    fn drop(&mut self) {
        let mut pool = self
            .storage
            .readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(conn) = self.conn.take() {
            if std::thread::panicking() {
                pool.open -= 1;
                drop(conn);
            } else {
                pool.idle.push(conn);
            }
        }
        drop(pool);
        self.storage.reader_returned.notify_one();
    }
}

/// The read connections: idle ones, and how many are open in all (at most
/// [`MAX_READERS`]).
#[derive(Default)]
struct ReaderPool {
    idle: Vec<Connection>,
    open: usize,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStorage {
    /// Opens (creating if needed) the database, runs migrations and starts the writer.
    /// `queue` is the write queue's capacity in jobs. Timestamps follow the system clock.
    pub fn open(path: &Path, queue: usize) -> Result<Self, StorageError> {
        SqliteStorage::open_with_clock(path, queue, crate::clock::system())
    }

    /// [`SqliteStorage::open`] with timestamps read from `clock`.
    pub fn open_with_clock(
        path: &Path,
        queue: usize,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        let (tx, rx) = sync_channel::<Job>(queue.max(1));
        let writer = std::thread::Builder::new()
            .name("hadir-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx))?;
        Ok(SqliteStorage {
            path: path.to_path_buf(),
            clock,
            jobs: Some(tx),
            writer: Some(writer),
            readers: Mutex::new(ReaderPool::default()),
            reader_returned: Condvar::new(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let lease = ReaderLease {
            storage: self,
            conn: Some(self.take_reader()?),
        };
        f(lease.conn.as_ref().expect("leased until dropped"))
    }

    /// An idle read connection, a new one while fewer than [`MAX_READERS`] are open,
    /// or else the next one returned.
    fn take_reader(&self) -> Result<Connection, StorageError> {
        let mut pool = self.readers.lock().expect("reader pool");
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(conn);
            }
            if pool.open < MAX_READERS {
                pool.open += 1;
                drop(pool);
                let opened = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .and_then(|c| {
                    c.busy_timeout(std::time::Duration::from_secs(10))?;
                    Ok(c)
                });
                if opened.is_err() {
                    self.readers.lock().expect("reader pool").open -= 1;
                    self.reader_returned.notify_one();
                }
                return Ok(opened?);
            }
            pool = self.reader_returned.wait(pool).expect("reader pool");
        }
    }

    pub(crate) fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &mut WriterCache) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let (reply, answer) = std::sync::mpsc::channel();
        let job = Job {
            run: Box::new(move |c, cache| f(c, cache).map(|v| Box::new(v) as AnyBox)),
            reply,
        };
        let jobs = self.jobs.as_ref().ok_or(StorageError::Closed)?;
        match jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(StorageError::Overloaded),
            Err(TrySendError::Disconnected(_)) => return Err(StorageError::Closed),
        }
        let boxed = answer.recv().map_err(|_| StorageError::Closed)??;
        boxed
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| StorageError::Corrupt("writer answered the wrong type".into()))
    }
}

impl Drop for SqliteStorage {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn writer_loop(mut conn: Connection, rx: Receiver<Job>) {
    let mut cache = WriterCache::default();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS_PER_TX {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut answers: Vec<(Reply, Result<AnyBox, StorageError>)> =
            Vec::with_capacity(batch.len());
        let committed = (|| -> Result<(), StorageError> {
            let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for job in batch.drain(..) {
                let sp = tx.savepoint()?;
                let outcome = (job.run)(&sp, &mut cache);
                match outcome {
                    Ok(v) => {
                        sp.commit()?;
                        answers.push((job.reply, Ok(v)));
                    }
                    Err(e) => {
                        drop(sp); // rolls back this job only
                        cache.clear();
                        answers.push((job.reply, Err(e)));
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })();
        match committed {
            Ok(()) => {
                for (reply, answer) in answers {
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                cache.clear();
                for (reply, _) in answers {
                    let _ = reply.send(Err(StorageError::Corrupt(format!(
                        "transaction failed: {e}"
                    ))));
                }
                for job in batch {
                    let _ = job.reply.send(Err(StorageError::Closed));
                }
            }
        }
        cache.bound();
    }
}

fn person_exists(conn: &Connection, person_key: &str) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM people WHERE person_key = ?1)")?
        .query_row([person_key], |r| r.get(0))?)
}

fn office_exists(conn: &Connection, office_id: &str) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM offices WHERE id = ?1)")?
        .query_row([office_id], |r| r.get(0))?)
}

fn bump_version(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.query_row(
        "UPDATE meta SET value = value + 1 WHERE key = 'directory_version' RETURNING value",
        [],
        |r| r.get(0),
    )?)
}

fn label_parts(label: &DeviceLabel) -> (&'static str, &str) {
    match label {
        DeviceLabel::Imei(v) => ("imei", v),
        DeviceLabel::PlatformId(v) => ("platform_id", v),
    }
}

fn load_device(conn: &Connection, device_id: &str) -> Result<Option<DeviceRecord>, StorageError> {
    let row = conn
        .prepare_cached("SELECT public_key, revoked_ms FROM devices WHERE device_id = ?1")?
        .query_row([device_id], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<i64>>(1)?))
        })
        .optional()?;
    let Some((public_key, revoked)) = row else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT person_key, is_owner FROM device_people WHERE device_id = ?1 \
         ORDER BY is_owner DESC, enrolled_ms, person_key",
    )?;
    let members = stmt
        .query_map([device_id], |r| {
            Ok(DeviceMember {
                person_key: r.get(0)?,
                is_owner: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(DeviceRecord {
        device_id: device_id.to_string(),
        public_key,
        revoked: revoked.is_some(),
        members,
    }))
}

/// `CheckInStatus::counts_as_attendance` as an SQL condition on the stored status, for
/// queries prepared from string literals; a unit test holds it to the rule.
macro_rules! counts_as_attendance_sql {
    () => {
        "status IN ('accepted', 'accepted_with_flags')"
    };
}

struct SqliteLedger<'a> {
    conn: &'a Connection,
    cache: &'a mut WriterCache,
    window_ms: i64,
    /// The latest receipt time of the batch: the present as the ledger sees it.
    now_ms: i64,
}

impl Ledger for SqliteLedger<'_> {
    type Error = StorageError;

    fn stored(
        &mut self,
        checkin_id: &str,
    ) -> Result<Option<(String, CheckInResult)>, StorageError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT payload_sha256, result_json FROM checkins WHERE checkin_id = ?1",
            )?
            .query_row([checkin_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        row.map(|(sha, json)| {
            serde_json::from_str(&json)
                .map(|res| (sha, res))
                .map_err(|e| StorageError::Corrupt(format!("result of {checkin_id}: {e}")))
        })
        .transpose()
    }

    fn selfie(&mut self, sha256: &str) -> Result<Option<SelfieInLedger>, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT phash, first_checkin FROM selfies WHERE sha256 = ?1")?
            .query_row([sha256], |r| {
                Ok(SelfieInLedger {
                    phash: r.get::<_, i64>(0)? as u64,
                    first_checkin: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn previous_accepted_fix(&mut self, person_key: &str) -> Result<Option<GpsFix>, StorageError> {
        if let Some(fix) = self.cache.last_fix.get(person_key) {
            return Ok(fix.clone());
        }
        let json: Option<String> = self
            .conn
            .prepare_cached(concat!(
                "SELECT fix_json FROM checkins WHERE person_key = ?1 AND ",
                counts_as_attendance_sql!(),
                " ORDER BY received_ms DESC, rowid DESC LIMIT 1"
            ))?
            .query_row([person_key], |r| r.get(0))
            .optional()?;
        let fix = json
            .map(|j| serde_json::from_str::<GpsFix>(&j))
            .transpose()
            .map_err(|e| StorageError::Corrupt(format!("stored fix: {e}")))?;
        self.cache
            .last_fix
            .insert(person_key.to_string(), fix.clone());
        Ok(fix)
    }

    fn recent_selfies(
        &mut self,
        person_key: &str,
        since_ms: i64,
    ) -> Result<Vec<RecentSelfie>, StorageError> {
        if !self.cache.recent.contains_key(person_key) {
            // Load a generous span (two windows back from now) so offline check-ins
            // that arrive late are compared too.
            let from = self.now_ms - 2 * self.window_ms;
            let mut stmt = self.conn.prepare_cached(concat!(
                "SELECT trusted_ms, selfie_phash, selfie_sha256 FROM checkins \
                 WHERE person_key = ?1 AND ",
                counts_as_attendance_sql!(),
                " AND trusted_ms >= ?2"
            ))?;
            let rows = stmt
                .query_map(params![person_key, from.min(since_ms)], |r| {
                    Ok(RecentSelfie {
                        trusted_ms: r.get(0)?,
                        phash: r.get::<_, i64>(1)? as u64,
                        sha256: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            self.cache.recent.insert(person_key.to_string(), rows);
        }
        let list = self
            .cache
            .recent
            .get_mut(person_key)
            .expect("just inserted");
        let horizon = self.now_ms - 2 * self.window_ms;
        list.retain(|s| s.trusted_ms >= horizon.min(since_ms));
        Ok(list
            .iter()
            .filter(|s| s.trusted_ms >= since_ms)
            .cloned()
            .collect())
    }

    fn qr_secret(&mut self, office_id: &str) -> Result<Option<Vec<u8>>, StorageError> {
        qr_tables::secret(self.conn, office_id)
    }

    fn qr_waived(&mut self, office_id: &str, local_date: NaiveDate) -> Result<bool, StorageError> {
        qr_tables::waived(self.conn, office_id, local_date)
    }

    fn boot_record(
        &mut self,
        device_id: &str,
        boot_id: &str,
    ) -> Result<Option<BootObservation>, StorageError> {
        self.cache.boot_record(self.conn, device_id, boot_id)
    }

    fn device_has_anchors(&mut self, device_id: &str) -> Result<bool, StorageError> {
        device_has_anchors(self.conn, device_id)
    }

    fn observe_boot(
        &mut self,
        device_id: &str,
        boot_id: &str,
        observation: BootObservation,
    ) -> Result<(), StorageError> {
        self.cache
            .observe_boot(self.conn, device_id, boot_id, observation)
    }

    fn record(
        &mut self,
        item: &PreparedCheckIn,
        result: &CheckInResult,
        server_phash: u64,
    ) -> Result<(), StorageError> {
        let result_json = serde_json::to_string(result).expect("a result serialises");
        let fix_json = serde_json::to_string(&item.payload.fix).expect("a fix serialises");
        self.conn
            .prepare_cached(
                "INSERT INTO checkins (checkin_id, payload_sha256, device_id, person_key, kind, \
                 status, codes, trusted_ms, office_id, selfie_sha256, selfie_phash, fix_json, \
                 received_ms, result_json, envelope_json) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                item.checkin_id,
                item.payload_sha256,
                item.device_id,
                item.person_key,
                item.payload.kind.as_str(),
                result.status.as_str(),
                result.codes.join(","),
                result.trusted_time_ms,
                result.office_id,
                item.payload.selfie_sha256,
                server_phash as i64,
                fix_json,
                item.received_ms,
                result_json,
                item.envelope_json,
            ])?;
        if item.early_rejection.is_none() {
            // Only a check-in that reached the selfie checks "uses" its selfie.
            self.conn
                .prepare_cached(
                    "UPDATE selfies SET first_checkin = ?1 \
                     WHERE sha256 = ?2 AND first_checkin IS NULL",
                )?
                .execute(params![item.checkin_id, item.payload.selfie_sha256])?;
        }
        if result.status.counts_as_attendance() {
            self.cache
                .last_fix
                .insert(item.person_key.clone(), Some(item.payload.fix.clone()));
            if let Some(list) = self.cache.recent.get_mut(&item.person_key) {
                list.push(RecentSelfie {
                    trusted_ms: item.trusted.instant_ms,
                    phash: server_phash,
                    sha256: item.payload.selfie_sha256.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Whether `device_boots` holds any row of the device: a prefix lookup on its primary
/// key `(device_id, boot_id)`, so one index seek.
fn device_has_anchors(conn: &Connection, device_id: &str) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM device_boots WHERE device_id = ?1 LIMIT 1")?
        .query_row([device_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The server's latest observation of a device's boot (`device_boots`).
fn boot_record(
    conn: &Connection,
    device_id: &str,
    boot_id: &str,
) -> Result<Option<BootObservation>, StorageError> {
    Ok(conn
        .prepare_cached(
            "SELECT server_time_ms, boot_elapsed_ms FROM device_boots \
             WHERE device_id = ?1 AND boot_id = ?2",
        )?
        .query_row([device_id, boot_id], |r| {
            Ok(BootObservation {
                server_time_ms: r.get(0)?,
                boot_elapsed_ms: r.get(1)?,
            })
        })
        .optional()?)
}

/// Upserts an observation of a device's boot, keeping whichever has the smaller offset
/// (`server_time − boot_elapsed`: request latency only ever adds to it).
fn observe_boot(
    conn: &Connection,
    device_id: &str,
    boot_id: &str,
    o: BootObservation,
) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT INTO device_boots (device_id, boot_id, server_time_ms, boot_elapsed_ms) \
         VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (device_id, boot_id) DO UPDATE SET \
         server_time_ms = excluded.server_time_ms, boot_elapsed_ms = excluded.boot_elapsed_ms \
         WHERE excluded.server_time_ms - excluded.boot_elapsed_ms \
             < device_boots.server_time_ms - device_boots.boot_elapsed_ms",
    )?
    .execute(params![
        device_id,
        boot_id,
        o.server_time_ms,
        o.boot_elapsed_ms
    ])?;
    Ok(())
}

fn parse_person(kind: &str, value: &str) -> Result<PersonId, StorageError> {
    let k = PersonIdKind::parse(kind)
        .ok_or_else(|| StorageError::Corrupt(format!("person kind {kind:?}")))?;
    PersonId::parse(k, value).map_err(|e| StorageError::Corrupt(format!("person {value}: {e}")))
}

impl Storage for SqliteStorage {
    fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    fn load_directory(&self) -> Result<DirectorySnapshot, StorageError> {
        self.read(|c| {
            let tx = c.unchecked_transaction()?; // one consistent snapshot
            let version: i64 = tx.query_row(
                "SELECT value FROM meta WHERE key = 'directory_version'",
                [],
                |r| r.get(0),
            )?;
            let offices = tx
                .prepare("SELECT office_json FROM offices ORDER BY id")?
                .query_map([], |r| r.get::<_, String>(0))?
                .map(|j| {
                    let j = j?;
                    serde_json::from_str::<Office>(&j)
                        .map_err(|e| StorageError::Corrupt(format!("office: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut memberships: HashMap<String, Vec<String>> = HashMap::new();
            let mut stmt = tx.prepare(
                "SELECT person_key, office_id FROM person_offices ORDER BY person_key, position",
            )?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
                let (p, o) = row?;
                memberships.entry(p).or_default().push(o);
            }
            drop(stmt);
            let mut people = Vec::new();
            let mut stmt = tx.prepare(
                "SELECT p.person_key, p.kind, p.value, p.display_name, s.kind, s.value \
                 FROM people p LEFT JOIN people s ON s.person_key = p.supervisor_key",
            )?;
            for row in stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })? {
                let (key, kind, value, name, sup_kind, sup_value) = row?;
                let supervisor = match (sup_kind, sup_value) {
                    (Some(k), Some(v)) => Some(parse_person(&k, &v)?),
                    _ => None,
                };
                people.push(PersonRecord {
                    id: parse_person(&kind, &value)?,
                    display_name: name,
                    office_ids: memberships.remove(&key).unwrap_or_default(),
                    supervisor,
                });
            }
            drop(stmt);
            let mut schedules = HashMap::new();
            let mut stmt = tx.prepare("SELECT office_id, schedule_json FROM office_schedules")?;
            for row in
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            {
                let (office, json) = row?;
                let schedule = serde_json::from_str::<OfficeSchedule>(&json)
                    .map_err(|e| StorageError::Corrupt(format!("schedule of {office}: {e}")))?;
                schedules.insert(office, schedule);
            }
            drop(stmt);
            let mut members: HashMap<String, Vec<DeviceMember>> = HashMap::new();
            let mut stmt = tx.prepare(
                "SELECT device_id, person_key, is_owner FROM device_people \
                 ORDER BY device_id, is_owner DESC, enrolled_ms, person_key",
            )?;
            for row in stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })? {
                let (d, p, owner) = row?;
                members.entry(d).or_default().push(DeviceMember {
                    person_key: p,
                    is_owner: owner,
                });
            }
            drop(stmt);
            let mut devices = Vec::new();
            let mut stmt = tx.prepare("SELECT device_id, public_key, revoked_ms FROM devices")?;
            for row in stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })? {
                let (id, key, revoked) = row?;
                devices.push(DeviceRecord {
                    members: members.remove(&id).unwrap_or_default(),
                    device_id: id,
                    public_key: key,
                    revoked: revoked.is_some(),
                });
            }
            let holidays = month_tables::pemda_holidays(&tx)?;
            if !holidays.is_empty() {
                // The pemda's holidays apply at every office, on top of its own schedule.
                for office in &offices {
                    let schedule = schedules
                        .entry(office.id.clone())
                        .or_insert_with(OfficeSchedule::perpres_21_2023);
                    for (date, name) in &holidays {
                        let Some(date) = hadir_core::schedule::iso_date::parse(date) else {
                            continue;
                        };
                        if !schedule.holidays.iter().any(|h| h.date == date) {
                            schedule.holidays.push(hadir_core::schedule::Holiday {
                                date,
                                name: name.clone(),
                            });
                        }
                    }
                    schedule.holidays.sort_by_key(|h| h.date);
                }
            }
            Ok(DirectorySnapshot {
                version,
                offices,
                people,
                devices,
                schedules,
                person_units: month_tables::person_units(&tx)?.into_iter().collect(),
                freezes: month_tables::freezes(&tx)?,
            })
        })
    }

    fn directory_version(&self) -> Result<i64, StorageError> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT value FROM meta WHERE key = 'directory_version'")?
                    .query_row([], |r| r.get(0))?,
            )
        })
    }

    fn upsert_office(&self, office: Office) -> Result<(), StorageError> {
        let now = self.clock.now_ms();
        self.write(move |c, _| {
            let json = serde_json::to_string(&office).expect("an office serialises");
            c.execute(
                "INSERT INTO offices (id, name, office_json, updated_ms) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                 office_json = excluded.office_json, updated_ms = excluded.updated_ms",
                params![office.id, office.name, json, now],
            )?;
            bump_version(c)?;
            Ok(())
        })
    }

    fn upsert_person(&self, person: PersonRecord) -> Result<(), StorageError> {
        let now = self.clock.now_ms();
        self.write(move |c, _| {
            let key = person_key(&person.id);
            for office in &person.office_ids {
                if !office_exists(c, office)? {
                    return Err(StorageError::Invalid(format!(
                        "no office with id {office:?}"
                    )));
                }
            }
            let supervisor_key = person.supervisor.as_ref().map(person_key);
            if let Some(sup) = &supervisor_key {
                if *sup != key && !person_exists(c, sup)? {
                    return Err(StorageError::Invalid(format!(
                        "no person {sup:?} to be the supervisor; add them first"
                    )));
                }
                let supervisor_of = |current: &String| -> Result<Option<String>, StorageError> {
                    Ok(c.query_row(
                        "SELECT supervisor_key FROM people WHERE person_key = ?1",
                        [current],
                        |r| r.get::<_, Option<String>>(0),
                    )
                    .optional()?
                    .flatten())
                };
                match check_supervision(&key, sup.clone(), supervisor_of)? {
                    Ok(()) => {}
                    Err(SupervisionRefusal::OwnSupervisor) => {
                        return Err(StorageError::Invalid(
                            "a person cannot be their own supervisor".into(),
                        ));
                    }
                    Err(SupervisionRefusal::Circle) => {
                        return Err(StorageError::Invalid(format!(
                            "{sup:?} is already under {key:?}: supervision cannot go in a circle"
                        )));
                    }
                }
            }
            c.execute(
                "INSERT INTO people (person_key, kind, value, display_name, updated_ms, \
                 supervisor_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (person_key) DO UPDATE SET display_name = excluded.display_name, \
                 updated_ms = excluded.updated_ms, supervisor_key = excluded.supervisor_key",
                params![
                    key,
                    person.id.kind().as_str(),
                    person.id.value(),
                    person.display_name,
                    now,
                    supervisor_key,
                ],
            )?;
            c.execute("DELETE FROM person_offices WHERE person_key = ?1", [&key])?;
            for (i, office) in person.office_ids.iter().enumerate() {
                c.execute(
                    "INSERT OR IGNORE INTO person_offices (person_key, office_id, position) \
                     VALUES (?1, ?2, ?3)",
                    params![key, office, i as i64],
                )?;
            }
            bump_version(c)?;
            Ok(())
        })
    }

    fn issue_enrollment_code(
        &self,
        person: &PersonId,
        code_hash: String,
        issued_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        let key = person_key(person);
        self.write(move |c, _| {
            if !person_exists(c, &key)? {
                return Err(StorageError::Invalid(format!("no person {key}")));
            }
            c.execute(
                "INSERT INTO enrollment_codes (code_hash, person_key, issued_ms, expires_ms) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, key, issued_ms, expires_ms],
            )?;
            Ok(())
        })
    }

    fn device_revoked(&self, device_id: &str) -> Result<Option<bool>, StorageError> {
        self.read(|c| {
            Ok(
                c.prepare_cached(
                    "SELECT revoked_ms IS NOT NULL FROM devices WHERE device_id = ?1",
                )?
                .query_row([device_id], |r| r.get(0))
                .optional()?,
            )
        })
    }

    fn revoke_device(&self, device_id: &str, now_ms: i64) -> Result<bool, StorageError> {
        let id = device_id.to_string();
        self.write(move |c, _| {
            let n = c.execute(
                "UPDATE devices SET revoked_ms = ?2 WHERE device_id = ?1 AND revoked_ms IS NULL",
                params![id, now_ms],
            )?;
            let exists: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM devices WHERE device_id = ?1)",
                [&id],
                |r| r.get(0),
            )?;
            if n > 0 {
                bump_version(c)?;
            }
            Ok(exists)
        })
    }

    fn enroll(&self, e: NewEnrollment) -> Result<Result<Enrolled, EnrollRefusal>, StorageError> {
        self.write(move |c, _| {
            let key = person_key(&e.person);
            let code: Option<(String, i64, Option<i64>)> = c
                .query_row(
                    "SELECT person_key, expires_ms, used_ms FROM enrollment_codes \
                     WHERE code_hash = ?1",
                    [&e.code_hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let usable = code.is_some_and(|(person, expires_ms, used_ms)| {
                IssuedCode {
                    person,
                    expires_ms,
                    used: used_ms.is_some(),
                }
                .usable_by(&key, e.now_ms)
            });
            if !usable {
                return Ok(Err(EnrollRefusal::CodeInvalid));
            }
            let existing: Option<(String, Option<i64>)> = c
                .query_row(
                    "SELECT device_id, revoked_ms FROM devices WHERE public_key = ?1",
                    [&e.public_key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (device_id, is_owner) = match existing {
                Some((_, Some(_))) => return Ok(Err(EnrollRefusal::DeviceRevoked)),
                Some((id, None)) => {
                    let already: bool = c.query_row(
                        "SELECT EXISTS (SELECT 1 FROM device_people \
                         WHERE device_id = ?1 AND person_key = ?2)",
                        params![id, key],
                        |r| r.get(0),
                    )?;
                    if already {
                        return Ok(Err(EnrollRefusal::AlreadyOnDevice));
                    }
                    (id, false)
                }
                None => {
                    let (kind, value) = label_parts(&e.label);
                    c.execute(
                        "INSERT INTO devices (device_id, public_key, label_kind, label_value, \
                         platform, app_version, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            e.new_device_id,
                            e.public_key,
                            kind,
                            value,
                            e.platform,
                            e.app_version,
                            e.now_ms
                        ],
                    )?;
                    device_tables::record_attestation(c, &e.new_device_id, &e.attestation)?;
                    (e.new_device_id.clone(), true)
                }
            };
            c.execute(
                "INSERT INTO device_people (device_id, person_key, is_owner, enrolled_ms) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![device_id, key, is_owner, e.now_ms],
            )?;
            c.execute(
                "UPDATE enrollment_codes SET used_ms = ?2, used_by_device = ?3 WHERE code_hash = ?1",
                params![e.code_hash, e.now_ms, device_id],
            )?;
            let version = bump_version(c)?;
            let device = load_device(c, &device_id)?
                .ok_or_else(|| StorageError::Corrupt("device vanished".into()))?;
            Ok(Ok(Enrolled {
                device,
                is_owner,
                version,
            }))
        })
    }

    fn selfie(&self, sha256: &str) -> Result<Option<SelfieMeta>, StorageError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT sha256, phash, bytes, width, height, uploaded_by, uploaded_ms \
                 FROM selfies WHERE sha256 = ?1",
            )?
            .query_row([sha256], |r| {
                Ok(SelfieMeta {
                    sha256: r.get(0)?,
                    phash: r.get::<_, i64>(1)? as u64,
                    bytes: r.get::<_, i64>(2)? as u64,
                    width: r.get(3)?,
                    height: r.get(4)?,
                    uploaded_by: r.get(5)?,
                    uploaded_ms: r.get(6)?,
                })
            })
            .optional()?)
        })
    }

    fn put_selfie(&self, meta: SelfieMeta) -> Result<bool, StorageError> {
        self.write(move |c, _| {
            let n = c
                .prepare_cached(
                    "INSERT OR IGNORE INTO selfies (sha256, phash, bytes, width, height, \
                     uploaded_by, uploaded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    meta.sha256,
                    meta.phash as i64,
                    meta.bytes as i64,
                    meta.width,
                    meta.height,
                    meta.uploaded_by,
                    meta.uploaded_ms
                ])?;
            Ok(n > 0)
        })
    }

    fn ingest(
        &self,
        items: Vec<PreparedCheckIn>,
        policy: &Policy,
    ) -> Result<Vec<CheckInResult>, StorageError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let policy = policy.clone();
        let now_ms = items
            .iter()
            .map(|i| i.received_ms)
            .max()
            .unwrap_or_default();
        self.write(move |c, cache| {
            let mut ledger = SqliteLedger {
                conn: c,
                cache,
                window_ms: i64::from(policy.near_duplicate_window_days) * 86_400_000,
                now_ms,
            };
            items
                .iter()
                .map(|item| decide(item, &mut ledger, &policy))
                .collect()
        })
    }

    fn anchor_secret(&self) -> Result<Vec<u8>, StorageError> {
        let now_ms = self.clock.now_ms();
        self.write(move |c, _| {
            let existing: Option<Vec<u8>> = c
                .query_row("SELECT secret FROM time_anchor_key WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()?;
            if let Some(secret) = existing {
                return Ok(secret);
            }
            let mut secret = vec![0u8; 32];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
                .map_err(|_| StorageError::Corrupt("no system randomness".into()))?;
            c.execute(
                "INSERT INTO time_anchor_key (id, secret, created_ms) VALUES (1, ?1, ?2)",
                params![secret, now_ms],
            )?;
            tracing::info!("time anchor key created");
            Ok(secret)
        })
    }

    fn observe_anchor(
        &self,
        device_id: &str,
        boot_id: &str,
        observation: BootObservation,
    ) -> Result<bool, StorageError> {
        let (device_id, boot_id) = (device_id.to_string(), boot_id.to_string());
        self.write(move |c, cache| {
            let record = cache.boot_record(c, &device_id, &boot_id)?;
            if record.is_some_and(|r| contradicts(&r, &observation)) {
                return Ok(false);
            }
            cache.observe_boot(c, &device_id, &boot_id, observation)?;
            Ok(true)
        })
    }

    fn checkin(&self, checkin_id: &str) -> Result<Option<StoredCheckIn>, StorageError> {
        self.read(|c| {
            let row = c
                .prepare_cached(
                    "SELECT result_json, device_id, person_key, envelope_json, received_ms \
                     FROM checkins WHERE checkin_id = ?1",
                )?
                .query_row([checkin_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                })
                .optional()?;
            row.map(
                |(json, device_id, person_key, envelope_json, received_ms)| {
                    Ok(StoredCheckIn {
                        result: serde_json::from_str(&json)
                            .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                        device_id,
                        person_key,
                        envelope_json,
                        received_ms,
                    })
                },
            )
            .transpose()
        })
    }

    fn checkin_count(&self) -> Result<u64, StorageError> {
        self.read(|c| {
            Ok(c.query_row("SELECT COUNT(*) FROM checkins", [], |r| r.get::<_, i64>(0))? as u64)
        })
    }

    fn ping(&self) -> Result<(), StorageError> {
        self.read(|c| {
            Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(|_| ())?)
        })
    }

    fn set_schedule(&self, office_id: &str, schedule: OfficeSchedule) -> Result<(), StorageError> {
        let office_id = office_id.to_string();
        let now = self.clock.now_ms();
        self.write(move |c, _| {
            if !office_exists(c, &office_id)? {
                return Err(StorageError::Invalid(format!(
                    "no office with id {office_id:?}"
                )));
            }
            let json = serde_json::to_string(&schedule).expect("a schedule serialises");
            c.execute(
                "INSERT INTO office_schedules (office_id, schedule_json, updated_ms) \
                 VALUES (?1, ?2, ?3) ON CONFLICT (office_id) DO UPDATE SET \
                 schedule_json = excluded.schedule_json, updated_ms = excluded.updated_ms",
                params![office_id, json, now],
            )?;
            bump_version(c)?;
            Ok(())
        })
    }

    fn add_leave(&self, person: &PersonId, leave: LeaveInfo) -> Result<(), StorageError> {
        if leave.kind == hadir_core::api::LeaveKind::Unknown {
            // Never stored: reading it back would be a corrupt row.
            return Err(StorageError::Invalid(
                "LEAVE_KIND_UNKNOWN: the kind of leave must be cuti, sakit, dinas_luar or izin"
                    .into(),
            ));
        }
        let key = person_key(person);
        let now = self.clock.now_ms();
        self.write(move |c, _| {
            if !person_exists(c, &key)? {
                return Err(StorageError::Invalid(format!("no person {key:?}")));
            }
            c.execute(
                "INSERT INTO leaves (person_key, kind, from_date, to_date, note, created_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    key,
                    leave.kind.as_str(),
                    leave.from.to_string(),
                    leave.to.to_string(),
                    leave.note,
                    now
                ],
            )?;
            Ok(())
        })
    }

    fn leaves_on(
        &self,
        person_keys: &[String],
        date: NaiveDate,
    ) -> Result<HashMap<String, LeaveInfo>, StorageError> {
        self.read(|c| {
            let day = date.to_string(); // ISO dates compare as text
            let mut stmt = c.prepare_cached(
                "SELECT kind, from_date, to_date, note FROM leaves \
                 WHERE person_key = ?1 AND to_date >= ?2 AND from_date <= ?2 AND removed_seq IS NULL \
                 ORDER BY id DESC LIMIT 1",
            )?;
            let mut out = HashMap::new();
            for key in person_keys {
                let row = stmt
                    .query_row(params![key, day], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                        ))
                    })
                    .optional()?;
                if let Some((kind, from, to, note)) = row {
                    let corrupt =
                        |what: &str| StorageError::Corrupt(format!("leave of {key}: {what}"));
                    out.insert(
                        key.clone(),
                        LeaveInfo {
                            kind: LeaveKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
                            from: from.parse().map_err(|_| corrupt("from_date"))?,
                            to: to.parse().map_err(|_| corrupt("to_date"))?,
                            note,
                        },
                    );
                }
            }
            Ok(out)
        })
    }

    fn checkins_between(
        &self,
        person_keys: &[String],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<FeedCheckIn>, StorageError> {
        self.read(|c| {
            let tx = c.unchecked_transaction()?; // one snapshot for the whole team
            let mut out = Vec::new();
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT rowid, person_key, checkin_id, kind, device_id, result_json, \
                     received_ms FROM checkins WHERE person_key = ?1 AND status != 'retry_later' \
                     AND ((trusted_ms >= ?2 AND trusted_ms < ?3) OR (trusted_ms IS NULL \
                     AND received_ms >= ?2 AND received_ms < ?3)) \
                     ORDER BY COALESCE(trusted_ms, received_ms), rowid",
                )?;
                for key in person_keys {
                    for row in stmt.query_map(params![key, from_ms, to_ms], feed_row)? {
                        out.push(feed_checkin(row?)?);
                    }
                }
            }
            tx.finish()?;
            Ok(out)
        })
    }

    fn checkins_after(
        &self,
        person_keys: &[String],
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<FeedCheckIn>, StorageError> {
        self.read(|c| {
            // One snapshot: per-person queries at different moments could return a later
            // check-in of one person while missing an earlier one of another, and the
            // cursor would then pass it for good.
            let tx = c.unchecked_transaction()?;
            let mut out = Vec::new();
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT rowid, person_key, checkin_id, kind, device_id, result_json, \
                     received_ms FROM checkins INDEXED BY checkins_feed WHERE person_key = ?1 \
                     AND rowid > ?2 AND status != 'retry_later' ORDER BY rowid LIMIT ?3",
                )?;
                for key in person_keys {
                    for row in stmt.query_map(params![key, after_seq, limit as i64], feed_row)? {
                        out.push(feed_checkin(row?)?);
                    }
                }
            }
            tx.finish()?;
            out.sort_by_key(|f| f.seq);
            out.truncate(limit);
            Ok(out)
        })
    }

    fn latest_seq(&self) -> Result<i64, StorageError> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT COALESCE(MAX(rowid), 0) FROM checkins", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    // The office QR and the kiosk.
    fn ensure_qr_secret(&self, office_id: &str) -> Result<(), StorageError> {
        let office_id = office_id.to_string();
        let mut fresh = [0u8; qr_tables::QR_SECRET_BYTES];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut fresh)
            .map_err(|_| StorageError::Invalid("the system random source failed".into()))?;
        let now = self.clock.now_ms();
        self.write(move |c, _| qr_tables::ensure_secret(c, &office_id, &fresh, now))
    }

    fn qr_secret(&self, office_id: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(|c| qr_tables::secret(c, office_id))
    }

    fn add_kiosk(&self, kiosk: KioskRecord) -> Result<(), StorageError> {
        self.write(move |c, _| qr_tables::insert_kiosk(c, &kiosk))
    }

    fn devices(&self, person: Option<&PersonId>) -> Result<Vec<DeviceListing>, StorageError> {
        let key = person.map(person_key);
        self.read(|c| device_tables::devices(c, key.as_deref()))
    }

    fn attested_devices(&self) -> Result<Vec<AttestedDevice>, StorageError> {
        self.read(device_tables::attested_devices)
    }

    fn update_attestation(
        &self,
        device_id: &str,
        attestation: DeviceAttestation,
    ) -> Result<bool, StorageError> {
        let device_id = device_id.to_string();
        self.write(move |c, _| device_tables::update_attestation(c, &device_id, &attestation))
    }

    fn replace_status_list(&self, list: StatusList) -> Result<(), StorageError> {
        self.write(move |c, _| device_tables::replace_status_list(c, &list))
    }

    fn status_list_summary(&self) -> Result<Option<StatusListSummary>, StorageError> {
        self.read(device_tables::status_list_summary)
    }

    fn status_list(&self, only_serials: Option<&[String]>) -> Result<StatusList, StorageError> {
        self.read(|c| device_tables::status_list(c, only_serials))
    }

    fn kiosks(&self) -> Result<Vec<KioskRecord>, StorageError> {
        self.read(qr_tables::kiosks)
    }

    fn kiosk_by_credential(
        &self,
        credential_sha256: &str,
    ) -> Result<Option<KioskRecord>, StorageError> {
        self.read(|c| qr_tables::kiosk_by_credential(c, credential_sha256))
    }

    fn touch_kiosk(&self, kiosk_id: &str, now_ms: i64) -> Result<(), StorageError> {
        let kiosk_id = kiosk_id.to_string();
        self.write(move |c, _| qr_tables::touch_kiosk(c, &kiosk_id, now_ms))
    }

    fn revoke_kiosk(&self, kiosk_id: &str, now_ms: i64) -> Result<bool, StorageError> {
        let kiosk_id = kiosk_id.to_string();
        self.write(move |c, _| qr_tables::revoke_kiosk(c, &kiosk_id, now_ms))
    }

    fn add_qr_waiver(&self, waiver: QrWaiver) -> Result<(), StorageError> {
        self.write(move |c, _| qr_tables::insert_waiver(c, &waiver))
    }

    fn qr_waivers(&self) -> Result<Vec<QrWaiver>, StorageError> {
        self.read(qr_tables::waivers)
    }
}

type FeedRow = (i64, String, String, String, String, String, i64);

fn feed_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn feed_checkin(
    (seq, person_key, checkin_id, kind, device_id, result_json, received_ms): FeedRow,
) -> Result<FeedCheckIn, StorageError> {
    let result: CheckInResult = serde_json::from_str(&result_json)
        .map_err(|e| StorageError::Corrupt(format!("result of {checkin_id}: {e}")))?;
    let kind = AttendanceKind::parse(&kind)
        .ok_or_else(|| StorageError::Corrupt(format!("kind of {checkin_id}: {kind:?}")))?;
    Ok(FeedCheckIn {
        seq,
        person_key,
        received_ms,
        checkin: TeamCheckIn {
            checkin_id,
            kind,
            status: result.status,
            codes: result.codes,
            trusted_time_ms: result.trusted_time_ms,
            office_id: result.office_id,
            distance_m: result.distance_m,
            device_id,
            delivery_delay_ms: result.delivery_delay_ms,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hadir_core::api::CheckInStatus;

    /// Reads that panic give their slot back: after more panics than there are
    /// readers, a read still gets a connection (it used to wait for ever).
    #[test]
    fn a_panicking_read_does_not_use_up_the_reader_pool() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("h.db"), 8).unwrap();
        let (done, answer) = std::sync::mpsc::channel();
        // On a thread of its own, so that a pool used up fails the test instead of
        // hanging it.
        std::thread::spawn(move || {
            for _ in 0..MAX_READERS + 2 {
                let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    storage.read(|_| -> Result<(), StorageError> { panic!("a bug in a read") })
                }));
                assert!(panicked.is_err());
            }
            let one = storage.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?));
            let _ = done.send(one.unwrap());
        });
        assert_eq!(
            answer
                .recv_timeout(std::time::Duration::from_secs(10))
                .expect("reads still get a connection"),
            1
        );
    }

    #[test]
    fn leave_of_an_unknown_kind_is_never_stored() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("h.db"), 8).unwrap();
        let leave = LeaveInfo {
            kind: hadir_core::api::LeaveKind::Unknown,
            from: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
            note: String::new(),
        };
        let person: PersonId = "nip:198501012010011001".parse().unwrap();
        match storage.add_leave(&person, leave) {
            Err(StorageError::Invalid(m)) => assert!(m.starts_with("LEAVE_KIND_UNKNOWN"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_sql_attendance_condition_is_the_rule() {
        let names: Vec<String> = CheckInStatus::attendance_names()
            .iter()
            .map(|n| format!("'{n}'"))
            .collect();
        assert_eq!(
            counts_as_attendance_sql!(),
            format!("status IN ({})", names.join(", "))
        );
    }
}
