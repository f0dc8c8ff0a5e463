//! The device's store: one SQLite file holding everything the phone keeps.
//!
//! What lives here (DESIGN.md, "What the device keeps"):
//!
//! - the **outbox** of signed check-ins with their normalised selfies, and their upload
//!   state (`pending` → `accepted` / `rejected`, attempts, last error, next attempt time
//!   for backoff, the server's reason code and message);
//! - a **key/value** table for the config cache, the server-time anchor, device key
//!   material and enrollment state (see [`keys`] for the well-known keys);
//! - the **people enrolled** on this device;
//! - **recent fixes** per person, bounded to [`RECENT_FIXES_PER_PERSON`], for
//!   impossible-travel checks.
//!
//! # Durability
//!
//! The answer to the "lost check-ins" threat is that a check-in is committed to disk
//! before the UI says "recorded". The file runs in WAL mode with `synchronous=FULL`,
//! so every committed transaction has been fsynced to the write-ahead log when
//! [`Store::record_checkin`] returns; a crash, a kill or a power cut after that cannot
//! lose it. A full outbox refuses new check-ins ([`StoreError::OutboxFull`]) rather
//! than dropping old ones: nothing leaves the outbox until the server has decided, and
//! decided rows are kept (only their selfie bytes may be purged, see
//! [`Store::purge_decided_selfies`]). `core/tests/store_kill.rs` proves this by killing
//! a writer process with SIGKILL at random moments.
//!
//! # Schema versions
//!
//! The schema version is SQLite's `PRAGMA user_version`. At open, every migration step
//! from the file's version up to [`SCHEMA_VERSION`] runs in order inside one
//! transaction, so an upgrade is all or nothing. A file written by a newer app
//! (version above [`SCHEMA_VERSION`]) is refused with [`StoreError::NewerSchema`] and
//! left untouched, never "repaired".
//!
//! # Threads
//!
//! [`Store`] is `Send + Sync`: one connection behind a mutex. Every method is one short
//! transaction, so callers on several threads (UI, background sync) simply take turns.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};

/// The schema version this build writes and understands (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// One migration step: SQL, or code where SQL cannot decide (e.g. reading signed
/// payloads).
enum Step {
    Sql(&'static str),
    Code(fn(&rusqlite::Transaction<'_>) -> Result<(), StoreError>),
}

/// How many recent fixes are kept per person; older ones are deleted as new ones
/// arrive. Impossible-travel checks only need the last few.
pub const RECENT_FIXES_PER_PERSON: u32 = 20;

/// Migration steps in order: `MIGRATIONS[i]` takes a file from version `i` to `i + 1`.
/// Never edit a step that has shipped; append a new one.
const MIGRATIONS: &[Step] = &[
    // 0 -> 1: the first schema.
    Step::Sql(
        "
    CREATE TABLE outbox (
        seq                INTEGER PRIMARY KEY AUTOINCREMENT,
        checkin_id         TEXT    NOT NULL UNIQUE,
        person_id          TEXT    NOT NULL,
        kind               TEXT    NOT NULL,
        recorded_at_ms     INTEGER NOT NULL,
        state              TEXT    NOT NULL DEFAULT 'pending'
                                   CHECK (state IN ('pending', 'accepted', 'rejected')),
        attempts           INTEGER NOT NULL DEFAULT 0,
        last_error         TEXT,
        next_attempt_at_ms INTEGER NOT NULL DEFAULT 0,
        result_code        TEXT,
        result_message     TEXT,
        result_json        TEXT,
        decided_at_ms      INTEGER,
        payload_bytes      INTEGER NOT NULL,
        selfie_sha256_hex  TEXT    NOT NULL,
        local_verdict_json TEXT    NOT NULL,
        envelope_json      BLOB    NOT NULL
    );
    CREATE INDEX outbox_by_state ON outbox (state, next_attempt_at_ms);
    CREATE INDEX outbox_by_person ON outbox (person_id, seq);
    CREATE INDEX outbox_by_decided ON outbox (decided_at_ms) WHERE decided_at_ms IS NOT NULL;

    CREATE TABLE outbox_selfie (
        seq  INTEGER PRIMARY KEY REFERENCES outbox (seq) ON DELETE CASCADE,
        jpeg BLOB NOT NULL
    );

    CREATE TABLE kv (
        key   TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE person (
        person_id       TEXT PRIMARY KEY,
        display_name    TEXT    NOT NULL,
        enrolled_at_ms  INTEGER NOT NULL,
        is_device_owner INTEGER NOT NULL CHECK (is_device_owner IN (0, 1))
    ) WITHOUT ROWID;

    CREATE TABLE recent_fix (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        person_id   TEXT    NOT NULL,
        latitude    REAL    NOT NULL,
        longitude   REAL    NOT NULL,
        accuracy_m  REAL    NOT NULL,
        fix_time_ms INTEGER NOT NULL
    );
    CREATE INDEX recent_fix_by_person ON recent_fix (person_id, fix_time_ms, id);
    ",
    ),
    // 1 -> 2: people keyed by their `kind:value` form, not the bare value.
    Step::Code(key_people_by_kind),
];

/// Migration 1 -> 2: every `person_id` (people, outbox, recent fixes) becomes the
/// `kind:value` form of [`PersonId`]'s `Display` (`nip:198503122010011003`), so two
/// people whose ids share a value but not a kind are never confused.
///
/// Each bare value's kind comes from, in order: the signed payloads of the outbox (the
/// kind the person checked in with), the cached configuration's people (the server's
/// list for this device), and last the value's shape (a valid NIP, else NI PPPK, else
/// non-ASN id; an 18-digit value valid as both is taken as a NIP). A value none of these
/// accept is left as it was.
fn key_people_by_kind(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    use hadir_core::ids::{PersonId, PersonIdKind};
    use std::collections::HashMap;

    let person_of = |json: &serde_json::Value| -> Option<PersonId> {
        serde_json::from_value(json.get("person")?.clone()).ok()
    };
    let mut known: HashMap<String, PersonId> = HashMap::new();
    let mut envelopes = tx.prepare("SELECT envelope_json FROM outbox ORDER BY seq")?;
    for bytes in envelopes.query_map([], |r| r.get::<_, Vec<u8>>(0))? {
        let payload = hadir_core::envelope::Envelope::from_json(&bytes?)
            .ok()
            .and_then(|e| serde_json::from_slice::<serde_json::Value>(&e.payload).ok());
        if let Some(person) = payload.as_ref().and_then(person_of) {
            known.entry(person.value().to_string()).or_insert(person);
        }
    }
    let config: Option<Vec<u8>> = tx
        .query_row("SELECT value FROM kv WHERE key = ?1", [keys::CONFIG], |r| {
            r.get(0)
        })
        .optional()?;
    let listed = config
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|c| c.pointer("/config/people").cloned());
    if let Some(serde_json::Value::Array(people)) = listed {
        for person in people.iter().filter_map(person_of) {
            known.entry(person.value().to_string()).or_insert(person);
        }
    }
    let mut bare = tx.prepare(
        "SELECT person_id FROM person UNION SELECT person_id FROM outbox \
         UNION SELECT person_id FROM recent_fix",
    )?;
    let values: Vec<String> = bare
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for value in values.iter().filter(|v| !v.contains(':')) {
        let person = known.get(value).cloned().or_else(|| {
            [
                PersonIdKind::Nip,
                PersonIdKind::NiPppk,
                PersonIdKind::NonAsn,
            ]
            .into_iter()
            .find_map(|kind| PersonId::parse(kind, value).ok())
        });
        let Some(person) = person else { continue };
        let keyed = person.to_string();
        for table in ["person", "outbox", "recent_fix"] {
            tx.execute(
                &format!("UPDATE {table} SET person_id = ?1 WHERE person_id = ?2"),
                params![keyed, value],
            )?;
        }
    }
    Ok(())
}

/// Well-known keys of the key/value table ([`Store::set_value`], [`Store::value`]).
/// Values are opaque bytes to the store; their owners choose the encoding.
pub mod keys {
    /// Cached office/schedule/policy configuration from the server (JSON).
    pub const CONFIG: &str = "config";
    /// The unsigned server-time probe (`GET /v1/time`): the timeline of request
    /// signatures only, never evidence.
    pub const SERVER_TIME_ANCHOR: &str = "server_time_anchor";
    /// The latest server-signed time anchor (`POST /v1/anchors`), as check-ins cite it.
    pub const SIGNED_TIME_ANCHOR: &str = "signed_time_anchor";
    /// The device's software key material, when no hardware key is used.
    pub const DEVICE_KEY: &str = "device_key";
    /// Enrollment state of this device (key id, server URL, owner).
    pub const ENROLLMENT: &str = "enrollment";
    /// When the next background sync pass may run after the server was unreachable
    /// (JSON; absent once a pass reached it).
    pub const SYNC_NOT_BEFORE: &str = "sync_not_before";
    /// When the last sync pass started (anchored Unix ms, decimal text): a shell tells
    /// from it that background sync has stopped running (battery savers).
    pub const SYNC_LAST_ATTEMPT: &str = "sync_last_attempt_ms";
    /// When a sync pass last reached the server (anchored Unix ms, decimal text).
    pub const SYNC_LAST_SUCCESS: &str = "sync_last_success_ms";
}

/// How much the outbox may hold before [`Store::record_checkin`] refuses new check-ins.
/// Counts only pending items: decided items do not fill the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Most pending check-ins (default 2000: a year and a half of four a day).
    pub max_pending: u32,
    /// Most bytes of pending check-ins, counting envelope, selfie and local verdict
    /// (default 200 MiB).
    pub max_pending_bytes: u64,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_pending: 2000,
            max_pending_bytes: 200 * 1024 * 1024,
        }
    }
}

/// A signed check-in to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheckIn {
    /// The check-in's unique id (UUID text); the server refuses a second use.
    pub checkin_id: String,
    /// Whose check-in it is: the `kind:value` form of their `PersonId`.
    pub person_id: String,
    /// Which attendance time (e.g. `"in"`, `"break"`, `"back"`, `"out"`).
    pub kind: String,
    /// When it was recorded, Unix ms UTC on the device's trusted timeline.
    pub recorded_at_ms: i64,
    /// The exact signed envelope bytes; stored and returned byte for byte.
    pub envelope_json: Vec<u8>,
    /// The normalised selfie the envelope's hash refers to.
    pub selfie_jpeg: Vec<u8>,
    /// Lower-case hex SHA-256 of `selfie_jpeg`, as signed in the envelope.
    pub selfie_sha256_hex: String,
    /// The phone's own verdict (geofence, fix checks) as JSON, for the history screen.
    pub local_verdict_json: String,
}

/// Upload state of an outbox item. `Pending` moves to `Accepted` or `Rejected` once,
/// when the server has decided; a decided item never changes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Not yet decided by the server; will be (re)sent.
    Pending,
    /// The server accepted it.
    Accepted,
    /// The server refused it, with a reason code and message.
    Rejected,
}

impl OutboxState {
    /// The stored text form: `"pending"`, `"accepted"` or `"rejected"`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Accepted => "accepted",
            OutboxState::Rejected => "rejected",
        }
    }

    /// Parses the text form written by [`OutboxState::as_str`]; `None` for anything else.
    pub fn parse(s: &str) -> Option<OutboxState> {
        match s {
            "pending" => Some(OutboxState::Pending),
            "accepted" => Some(OutboxState::Accepted),
            "rejected" => Some(OutboxState::Rejected),
            _ => None,
        }
    }

    /// Whether the server has decided (accepted or rejected).
    pub fn is_decided(self) -> bool {
        self != OutboxState::Pending
    }
}

impl std::fmt::Display for OutboxState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One outbox row with everything needed to upload it: its [`HistoryEntry`] (reachable
/// directly through `Deref`, e.g. `item.checkin_id`) plus the envelope and selfie bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Everything but the bytes.
    pub entry: HistoryEntry,
    /// The exact signed envelope bytes as recorded.
    pub envelope_json: Vec<u8>,
    /// The selfie bytes; empty once [`Store::purge_decided_selfies`] freed them.
    pub selfie_jpeg: Vec<u8>,
}

impl std::ops::Deref for OutboxItem {
    type Target = HistoryEntry;
    fn deref(&self) -> &HistoryEntry {
        &self.entry
    }
}

/// An outbox row for the history screen (an [`OutboxItem`] without the envelope and
/// selfie bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Insertion order on this device.
    pub seq: i64,
    /// The check-in's unique id.
    pub checkin_id: String,
    /// Whose check-in it is: the `kind:value` form of their `PersonId`.
    pub person_id: String,
    /// Which attendance time.
    pub kind: String,
    /// When it was recorded, Unix ms UTC.
    pub recorded_at_ms: i64,
    /// Hex SHA-256 of the selfie.
    pub selfie_sha256_hex: String,
    /// The phone's own verdict as JSON.
    pub local_verdict_json: String,
    /// Upload state.
    pub state: OutboxState,
    /// How many uploads failed without a decision.
    pub attempts: u32,
    /// The last upload failure, if any.
    pub last_error: Option<String>,
    /// Not to be sent before this instant (Unix ms).
    pub next_attempt_at_ms: i64,
    /// The server's result code once decided.
    pub result_code: Option<String>,
    /// The server's reason message (rejections).
    pub result_message: Option<String>,
    /// The server's full answer as JSON once decided.
    pub result_json: Option<String>,
    /// When the decision was recorded on the device (Unix ms).
    pub decided_at_ms: Option<i64>,
}

impl HistoryEntry {
    /// The server's decision as it was stored, once decided (`None` before, or for a
    /// stored answer this version cannot read).
    pub fn result(&self) -> Option<hadir_core::api::CheckInResult> {
        serde_json::from_str(self.result_json.as_deref()?).ok()
    }
}

/// A person enrolled on this device (a phone may be shared by colleagues).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolledPerson {
    /// The person's id in its `kind:value` form (`nip:1985…`, `non_asn:THL-…`).
    pub person_id: String,
    /// Name shown on the check-in screen.
    pub display_name: String,
    /// When they were enrolled on this device, Unix ms.
    pub enrolled_at_ms: i64,
    /// Whether this is the phone owner's own enrollment (others borrow the phone).
    pub is_device_owner: bool,
}

/// A fix remembered for a person, for impossible-travel checks.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentFix {
    /// Whose fix it was (`kind:value`).
    pub person_id: String,
    /// Latitude, WGS84 degrees.
    pub latitude: f64,
    /// Longitude, WGS84 degrees.
    pub longitude: f64,
    /// Horizontal accuracy radius in metres.
    pub accuracy_m: f64,
    /// When the fix was taken, Unix ms on the trusted timeline.
    pub fix_time_ms: i64,
}

/// Errors of the device store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed (I/O, disk full, locked...).
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The outbox is full; the check-in was not recorded and nothing was dropped.
    /// `limit` is `max_pending`, or, when the byte limit is what ran out, the number
    /// of pending check-ins that fit (then equal to `pending`).
    #[error("outbox full: {pending} pending check-ins (limit {limit})")]
    OutboxFull {
        /// Check-ins waiting to be sent.
        pending: u32,
        /// The limit that was reached.
        limit: u32,
    },
    /// A check-in with this id is already in the outbox.
    #[error("check-in {0} is already in the outbox")]
    DuplicateCheckIn(String),
    /// The file was written by a newer version of the app; it is left untouched.
    #[error("store schema version {found} is newer than this app supports ({supported})")]
    NewerSchema {
        /// The file's `user_version`.
        found: i64,
        /// [`SCHEMA_VERSION`].
        supported: i64,
    },
    /// No outbox item with this check-in id.
    #[error("no check-in {0} in the outbox")]
    NotFound(String),
    /// The file is not a Hadir store or is damaged.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The check-in was already decided with a different result; decisions are final.
    #[error("check-in {checkin_id} was already {state}")]
    AlreadyDecided {
        /// The check-in id.
        checkin_id: String,
        /// The state it was decided with.
        state: OutboxState,
    },
}

impl StoreError {
    /// A stable machine code for the shells and logs.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Sqlite(_) => "STORE_SQLITE",
            StoreError::OutboxFull { .. } => "STORE_OUTBOX_FULL",
            StoreError::DuplicateCheckIn(_) => "STORE_DUPLICATE_CHECKIN",
            StoreError::NewerSchema { .. } => "STORE_NEWER_SCHEMA",
            StoreError::NotFound(_) => "STORE_NOT_FOUND",
            StoreError::Corrupt(_) => "STORE_CORRUPT",
            StoreError::AlreadyDecided { .. } => "STORE_ALREADY_DECIDED",
        }
    }

    /// The message to show staff, in Indonesian.
    pub fn staff_message(&self) -> String {
        match self {
            StoreError::Sqlite(e) if e.sqlite_error_code() == Some(ErrorCode::DiskFull) => {
                "Memori ponsel penuh: absensi tidak dapat disimpan. Kosongkan sebagian \
                 memori lalu coba lagi."
                    .to_string()
            }
            StoreError::Sqlite(_) => {
                "Absensi tidak dapat disimpan karena gangguan penyimpanan ponsel. Coba lagi."
                    .to_string()
            }
            StoreError::OutboxFull { pending, .. } => format!(
                "Penyimpanan antrean penuh: {pending} absensi belum terkirim. Sambungkan ke \
                 internet agar terkirim."
            ),
            StoreError::DuplicateCheckIn(_) => "Absensi ini sudah tercatat.".to_string(),
            StoreError::NewerSchema { .. } => {
                "Data aplikasi berasal dari versi yang lebih baru. Perbarui aplikasi Hadir."
                    .to_string()
            }
            StoreError::NotFound(_) => "Data absensi tidak ditemukan.".to_string(),
            StoreError::Corrupt(_) => {
                "Penyimpanan aplikasi rusak. Hubungi admin (Diskominfo/BKD) sebelum \
                 menghapus data aplikasi."
                    .to_string()
            }
            StoreError::AlreadyDecided { .. } => {
                "Absensi ini sudah diputuskan oleh server.".to_string()
            }
        }
    }
}

/// Maps SQLite's "not a database" and "corrupt" codes to [`StoreError::Corrupt`].
fn classify(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::Sqlite(e),
    }
}

/// The device's SQLite store. See the module docs for what it keeps and why it is
/// durable.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    limits: StoreLimits,
}

const ITEM_COLUMNS: &str = "o.seq, o.checkin_id, o.person_id, o.kind, o.recorded_at_ms, \
     o.selfie_sha256_hex, o.local_verdict_json, o.state, o.attempts, o.last_error, \
     o.next_attempt_at_ms, o.result_code, o.result_message, o.result_json, o.decided_at_ms, \
     o.envelope_json, s.jpeg";

const HISTORY_COLUMNS: &str = "o.seq, o.checkin_id, o.person_id, o.kind, o.recorded_at_ms, \
     o.selfie_sha256_hex, o.local_verdict_json, o.state, o.attempts, o.last_error, \
     o.next_attempt_at_ms, o.result_code, o.result_message, o.result_json, o.decided_at_ms";

fn state_from_row(row: &Row<'_>, idx: usize) -> rusqlite::Result<OutboxState> {
    let s: String = row.get(idx)?;
    OutboxState::parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unknown outbox state {s:?}").into(),
        )
    })
}

fn history_from_row(row: &Row<'_>) -> rusqlite::Result<HistoryEntry> {
    Ok(HistoryEntry {
        seq: row.get(0)?,
        checkin_id: row.get(1)?,
        person_id: row.get(2)?,
        kind: row.get(3)?,
        recorded_at_ms: row.get(4)?,
        selfie_sha256_hex: row.get(5)?,
        local_verdict_json: row.get(6)?,
        state: state_from_row(row, 7)?,
        attempts: row.get(8)?,
        last_error: row.get(9)?,
        next_attempt_at_ms: row.get(10)?,
        result_code: row.get(11)?,
        result_message: row.get(12)?,
        result_json: row.get(13)?,
        decided_at_ms: row.get(14)?,
    })
}

fn item_from_row(row: &Row<'_>) -> rusqlite::Result<OutboxItem> {
    Ok(OutboxItem {
        entry: history_from_row(row)?,
        envelope_json: row.get(15)?,
        selfie_jpeg: row.get::<_, Option<Vec<u8>>>(16)?.unwrap_or_default(),
    })
}

fn clamp_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// Runs the migrations from the file's version to [`SCHEMA_VERSION`] in one
/// transaction; refuses a newer file.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = check_version(&tx)?;
    for (from, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        match step {
            Step::Sql(sql) => tx.execute_batch(sql)?,
            Step::Code(run) => run(&tx)?,
        }
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// The file's schema version, refusing a newer file ([`StoreError::NewerSchema`]) and
/// a version-0 file that already holds tables (someone else's database).
fn check_version(conn: &Connection) -> Result<i64, StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(StoreError::Corrupt(format!(
            "negative user_version {found}"
        )));
    }
    if found == 0 {
        // A version-0 file must be empty; anything else is some other app's database.
        let objects: i64 = conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
            [],
            |r| r.get(0),
        )?;
        if objects != 0 {
            return Err(StoreError::Corrupt(
                "file holds tables but no Hadir schema version".to_string(),
            ));
        }
    }
    Ok(found)
}

impl Store {
    /// Opens (creating if needed) the store at `path`: WAL mode, `synchronous=FULL`,
    /// foreign keys on, then the migrations up to [`SCHEMA_VERSION`] in one
    /// transaction.
    ///
    /// Errors: [`StoreError::NewerSchema`] for a file from a newer app (left
    /// untouched), [`StoreError::Corrupt`] for a file that is not a Hadir store.
    pub fn open(path: impl AsRef<Path>, limits: StoreLimits) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path.as_ref()).map_err(classify)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // Refuse a newer or foreign file before touching it in any way (even the
        // journal mode); `migrate` checks again under the write lock.
        check_version(&conn).map_err(|e| match e {
            StoreError::Sqlite(e) => classify(e),
            e => e,
        })?;
        // journal_mode answers with the mode in force ("memory" for in-memory files);
        // WAL cannot be set inside a transaction, so this runs before the migrations.
        let _mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(classify)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn).map_err(|e| match e {
            StoreError::Sqlite(e) => classify(e),
            e => e,
        })?;
        Ok(Store {
            conn: Mutex::new(conn),
            limits,
        })
    }

    /// The limits this store was opened with.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done write behind: an
        // unfinished transaction rolls back when dropped. So a poisoned lock is usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts a signed check-in in the outbox as `pending`, ready to send at once.
    ///
    /// One transaction, committed and fsynced before this returns: when it returns
    /// `Ok`, the UI may say "recorded". Refuses with [`StoreError::OutboxFull`] when
    /// the pending count or pending bytes (envelope + selfie + local verdict) would
    /// exceed the [`StoreLimits`]; nothing already stored is ever dropped to make room.
    /// A `checkin_id` already in the outbox (in any state) gives
    /// [`StoreError::DuplicateCheckIn`].
    pub fn record_checkin(&self, c: &NewCheckIn) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.insert_checkin(&tx, c)?;
        tx.commit()?;
        Ok(())
    }

    /// [`Store::record_checkin`] and [`Store::add_recent_fix`] in the one transaction,
    /// returning the pending count that includes the new check-in.
    ///
    /// Nothing about the check-in can fail once this returns `Ok`: the fix and the count
    /// are written and read before the commit, so a caller never has to tell staff "it
    /// failed" about a check-in that is in fact in the outbox (and recorded twice when
    /// they try again). Refusals are those of [`Store::record_checkin`], and then
    /// neither the check-in nor the fix is stored.
    pub fn record_checkin_with_fix(
        &self,
        c: &NewCheckIn,
        fix: &RecentFix,
    ) -> Result<u32, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let pending_before = self.insert_checkin(&tx, c)?;
        insert_recent_fix(&tx, fix)?;
        tx.commit()?;
        Ok(pending_before.saturating_add(1))
    }

    /// The outbox rows of a check-in, within `tx`, after the limit and duplicate checks;
    /// returns how many were pending before it.
    fn insert_checkin(
        &self,
        tx: &rusqlite::Transaction<'_>,
        c: &NewCheckIn,
    ) -> Result<u32, StoreError> {
        let payload_bytes =
            (c.envelope_json.len() + c.selfie_jpeg.len() + c.local_verdict_json.len()) as u64;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE checkin_id = ?1)",
            [&c.checkin_id],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::DuplicateCheckIn(c.checkin_id.clone()));
        }
        let (count, bytes): (i64, i64) = tx.query_row(
            "SELECT COUNT(*), COALESCE(SUM(payload_bytes), 0) FROM outbox \
             WHERE state = 'pending'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let pending = clamp_u32(count);
        if pending >= self.limits.max_pending {
            return Err(StoreError::OutboxFull {
                pending,
                limit: self.limits.max_pending,
            });
        }
        if (bytes.max(0) as u64).saturating_add(payload_bytes) > self.limits.max_pending_bytes {
            return Err(StoreError::OutboxFull {
                pending,
                limit: pending,
            });
        }
        tx.execute(
            "INSERT INTO outbox (checkin_id, person_id, kind, recorded_at_ms, payload_bytes, \
             selfie_sha256_hex, local_verdict_json, envelope_json) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                c.checkin_id,
                c.person_id,
                c.kind,
                c.recorded_at_ms,
                payload_bytes as i64,
                c.selfie_sha256_hex,
                c.local_verdict_json,
                c.envelope_json,
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO outbox_selfie (seq, jpeg) VALUES (?1, ?2)",
            params![seq, c.selfie_jpeg],
        )?;
        Ok(pending)
    }

    /// Pending items ready to send at `now_ms` (`next_attempt_at_ms <= now_ms`), oldest
    /// first (by `seq`), at most `limit` of them (0 gives none).
    pub fn pending(&self, limit: u32, now_ms: i64) -> Result<Vec<OutboxItem>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM outbox o LEFT JOIN outbox_selfie s ON s.seq = o.seq \
             WHERE o.state = 'pending' AND o.next_attempt_at_ms <= ?1 \
             ORDER BY o.seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![now_ms, limit], item_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many check-ins are waiting for the server (ready or backing off).
    pub fn pending_count(&self) -> Result<u32, StoreError> {
        let conn = self.conn();
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        Ok(clamp_u32(n))
    }

    /// Bytes held by pending check-ins (envelope + selfie + local verdict), the figure
    /// [`StoreLimits::max_pending_bytes`] bounds.
    pub fn pending_bytes(&self) -> Result<u64, StoreError> {
        let conn = self.conn();
        let n: i64 = conn.query_row(
            "SELECT COALESCE(SUM(payload_bytes), 0) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// The earliest `next_attempt_at_ms` among pending items (when the sync loop
    /// should wake next), or `None` when nothing is pending. A value at or before now
    /// means something is ready already.
    pub fn next_attempt_at(&self) -> Result<Option<i64>, StoreError> {
        let conn = self.conn();
        Ok(conn.query_row(
            "SELECT MIN(next_attempt_at_ms) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Shared body of the two `mark_*` decisions.
    fn decide(
        &self,
        checkin_id: &str,
        state: OutboxState,
        code: &str,
        message: Option<&str>,
        result_json: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        type Current = (String, Option<String>, Option<String>, Option<String>);
        let current: Option<Current> = tx
            .query_row(
                "SELECT state, result_code, result_message, result_json FROM outbox \
                 WHERE checkin_id = ?1",
                [checkin_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((cur_state, cur_code, cur_message, cur_json)) = current else {
            return Err(StoreError::NotFound(checkin_id.to_string()));
        };
        let cur_state = OutboxState::parse(&cur_state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown outbox state {cur_state:?}")))?;
        if cur_state.is_decided() {
            let same = cur_state == state
                && cur_code.as_deref() == Some(code)
                && cur_message.as_deref() == message
                && cur_json.as_deref() == Some(result_json);
            return if same {
                Ok(())
            } else {
                Err(StoreError::AlreadyDecided {
                    checkin_id: checkin_id.to_string(),
                    state: cur_state,
                })
            };
        }
        tx.execute(
            "UPDATE outbox SET state = ?2, result_code = ?3, result_message = ?4, \
             result_json = ?5, decided_at_ms = ?6 WHERE checkin_id = ?1",
            params![
                checkin_id,
                state.as_str(),
                code,
                message,
                result_json,
                now_ms
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records that the server accepted the check-in (`result_code` is the server's
    /// code, `result_json` its full answer); `decided_at_ms = now_ms`.
    ///
    /// Idempotent: marking an item accepted again with the same code and JSON is a
    /// no-op (the first `decided_at_ms` stays). A different result, or an item already
    /// rejected, gives [`StoreError::AlreadyDecided`]; an unknown id
    /// [`StoreError::NotFound`].
    pub fn mark_accepted(
        &self,
        checkin_id: &str,
        result_code: &str,
        result_json: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.decide(
            checkin_id,
            OutboxState::Accepted,
            result_code,
            None,
            result_json,
            now_ms,
        )
    }

    /// Records that the server refused the check-in with reason `code` and `message`
    /// (shown to staff), `result_json` its full answer; `decided_at_ms = now_ms`.
    ///
    /// Idempotent like [`Store::mark_accepted`]: the same rejection again is a no-op,
    /// a different one (or an accepted item) gives [`StoreError::AlreadyDecided`].
    pub fn mark_rejected(
        &self,
        checkin_id: &str,
        code: &str,
        message: &str,
        result_json: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.decide(
            checkin_id,
            OutboxState::Rejected,
            code,
            Some(message),
            result_json,
            now_ms,
        )
    }

    /// Records an upload that failed without a decision (no network, server error):
    /// `attempts` goes up by one, `last_error` is kept, and the item is not offered by
    /// [`Store::pending`] before `next_attempt_at_ms` (the caller computes the backoff).
    ///
    /// On an item already decided this changes nothing and returns `Ok`: a late
    /// failure report from a concurrent upload must not reopen a final decision.
    /// Unknown id: [`StoreError::NotFound`].
    pub fn mark_attempt_failed(
        &self,
        checkin_id: &str,
        error: &str,
        next_attempt_at_ms: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, \
             next_attempt_at_ms = ?3 WHERE checkin_id = ?1 AND state = 'pending'",
            params![checkin_id, error, next_attempt_at_ms],
        )?;
        if changed == 0 {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE checkin_id = ?1)",
                [checkin_id],
                |r| r.get(0),
            )?;
            if !exists {
                return Err(StoreError::NotFound(checkin_id.to_string()));
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The outbox item with this id, in any state, or `None`.
    pub fn get(&self, checkin_id: &str) -> Result<Option<OutboxItem>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM outbox o LEFT JOIN outbox_selfie s ON s.seq = o.seq \
             WHERE o.checkin_id = ?1"
        ))?;
        Ok(stmt.query_row([checkin_id], item_from_row).optional()?)
    }

    /// Check-ins for the history screen, newest first (reverse recording order on this
    /// device), all states, optionally only one person's; at most `limit`.
    pub fn history(
        &self,
        person_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {HISTORY_COLUMNS} FROM outbox o \
             WHERE ?1 IS NULL OR o.person_id = ?1 ORDER BY o.seq DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![person_id, limit], history_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Frees the selfie bytes of decided items decided before `older_than_ms`; the rows
    /// (envelope, selfie hash, result) stay for history. Pending items are never
    /// touched. Returns how many selfies were freed. The file shrinks only as SQLite
    /// reuses the freed pages.
    pub fn purge_decided_selfies(&self, older_than_ms: i64) -> Result<u32, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "DELETE FROM outbox_selfie WHERE seq IN (SELECT seq FROM outbox \
             WHERE state != 'pending' AND decided_at_ms < ?1)",
            [older_than_ms],
        )?;
        tx.commit()?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Stores `value` under `key`, replacing any previous value (see [`keys`]).
    pub fn set_value(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO kv (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// The value stored under `key`, or `None`.
    pub fn value(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Removes `key`; returns whether it was there.
    pub fn delete_value(&self, key: &str) -> Result<bool, StoreError> {
        let conn = self.conn();
        Ok(conn.execute("DELETE FROM kv WHERE key = ?1", [key])? > 0)
    }

    /// Adds or updates a person enrolled on this device (keyed by `person_id`).
    pub fn upsert_person(&self, p: &EnrolledPerson) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO person (person_id, display_name, enrolled_at_ms, is_device_owner) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (person_id) DO UPDATE SET \
             display_name = excluded.display_name, enrolled_at_ms = excluded.enrolled_at_ms, \
             is_device_owner = excluded.is_device_owner",
            params![
                p.person_id,
                p.display_name,
                p.enrolled_at_ms,
                p.is_device_owner
            ],
        )?;
        Ok(())
    }

    /// Removes a person from this device (their outbox items stay until decided and
    /// their history stays); returns whether they were enrolled.
    pub fn remove_person(&self, person_id: &str) -> Result<bool, StoreError> {
        let conn = self.conn();
        Ok(conn.execute("DELETE FROM person WHERE person_id = ?1", [person_id])? > 0)
    }

    /// The people enrolled on this device: the owner first, then by enrollment time.
    pub fn people(&self) -> Result<Vec<EnrolledPerson>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT person_id, display_name, enrolled_at_ms, is_device_owner FROM person \
             ORDER BY is_device_owner DESC, enrolled_at_ms, person_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(EnrolledPerson {
                person_id: r.get(0)?,
                display_name: r.get(1)?,
                enrolled_at_ms: r.get(2)?,
                is_device_owner: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Remembers a fix for a person, keeping only their newest
    /// [`RECENT_FIXES_PER_PERSON`] (by fix time).
    pub fn add_recent_fix(&self, f: &RecentFix) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        insert_recent_fix(&tx, f)?;
        tx.commit()?;
        Ok(())
    }

    /// The person's newest remembered fix (by fix time; the later-added wins a tie).
    pub fn last_fix(&self, person_id: &str) -> Result<Option<RecentFix>, StoreError> {
        Ok(self.recent_fixes(person_id, 1)?.pop())
    }

    /// The person's remembered fixes, newest first, at most `limit`.
    pub fn recent_fixes(&self, person_id: &str, limit: u32) -> Result<Vec<RecentFix>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT person_id, latitude, longitude, accuracy_m, fix_time_ms FROM recent_fix \
             WHERE person_id = ?1 ORDER BY fix_time_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![person_id, limit], |r| {
            Ok(RecentFix {
                person_id: r.get(0)?,
                latitude: r.get(1)?,
                longitude: r.get(2)?,
                accuracy_m: r.get(3)?,
                fix_time_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Runs `PRAGMA integrity_check` over the whole file; `Ok` only when SQLite answers
    /// exactly `ok`, else [`StoreError::Corrupt`] with its findings. Reads every page:
    /// for a support screen or a test, not for every launch.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(classify)?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(classify)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(classify)?;
        if lines.len() == 1 && lines[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(lines.join("; ")))
        }
    }
}

/// Remembers a fix within `tx`, keeping only the person's newest
/// [`RECENT_FIXES_PER_PERSON`] (by fix time).
fn insert_recent_fix(tx: &rusqlite::Transaction<'_>, f: &RecentFix) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO recent_fix (person_id, latitude, longitude, accuracy_m, fix_time_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            f.person_id,
            f.latitude,
            f.longitude,
            f.accuracy_m,
            f.fix_time_ms
        ],
    )?;
    tx.execute(
        "DELETE FROM recent_fix WHERE person_id = ?1 AND id NOT IN (\
             SELECT id FROM recent_fix WHERE person_id = ?1 \
             ORDER BY fix_time_ms DESC, id DESC LIMIT ?2)",
        params![f.person_id, RECENT_FIXES_PER_PERSON],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    fn open(dir: &TempDir) -> Store {
        Store::open(dir.path().join("hadir.db"), StoreLimits::default()).unwrap()
    }

    fn checkin(id: &str, person: &str, selfie_len: usize) -> NewCheckIn {
        NewCheckIn {
            checkin_id: id.to_string(),
            person_id: person.to_string(),
            kind: "in".to_string(),
            recorded_at_ms: 1_700_000_000_000,
            envelope_json: format!("{{\"payload\":\"{id}\"}}").into_bytes(),
            selfie_jpeg: vec![0xAB; selfie_len],
            selfie_sha256_hex: "00".repeat(32),
            local_verdict_json: "{\"inside\":true}".to_string(),
        }
    }

    #[test]
    fn migration_2_keys_people_of_an_old_file_by_kind() {
        use hadir_core::envelope::{CHECKIN_PAYLOAD_TYPE, Envelope, SoftwareDeviceKey};
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("version-1.db");
        // Both values pass the NIP check by shape; the file says what they are.
        let pppk_checked_in = "199001012020011003";
        let pppk_listed = "198803212021012002";
        let honorer = "THL-2024/017";
        {
            // The file exactly as version 1 of the app left it.
            let conn = Connection::open(&path).unwrap();
            let Step::Sql(first_schema) = &MIGRATIONS[0] else {
                unreachable!("the first step is SQL")
            };
            conn.execute_batch(first_schema).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            for (id, owner) in [(pppk_checked_in, 1), (pppk_listed, 0), (honorer, 0)] {
                conn.execute(
                    "INSERT INTO person VALUES (?1, 'Nama', 1700000000000, ?2)",
                    params![id, owner],
                )
                .unwrap();
            }
            let payload = format!(
                r#"{{"person":{{"kind":"ni_pppk","value":"{pppk_checked_in}"}},"kind":"check_in"}}"#
            );
            let key = SoftwareDeviceKey::generate().unwrap();
            let envelope =
                Envelope::sign(CHECKIN_PAYLOAD_TYPE, payload.into_bytes(), &key).unwrap();
            conn.execute(
                "INSERT INTO outbox (checkin_id, person_id, kind, recorded_at_ms, payload_bytes, \
                 selfie_sha256_hex, local_verdict_json, envelope_json) \
                 VALUES ('c1', ?1, 'check_in', 1700000000000, 10, ?2, '{}', ?3)",
                params![pppk_checked_in, "00".repeat(32), envelope.to_json()],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO recent_fix (person_id, latitude, longitude, accuracy_m, fix_time_ms) \
                 VALUES (?1, -3.79, 102.26, 8.0, 1700000000000)",
                [pppk_checked_in],
            )
            .unwrap();
            let config = format!(
                r#"{{"etag":null,"config":{{"people":[{{"person":{{"kind":"ni_pppk","value":"{pppk_listed}"}}}}]}}}}"#
            );
            conn.execute(
                "INSERT INTO kv VALUES (?1, ?2)",
                params![keys::CONFIG, config.into_bytes()],
            )
            .unwrap();
        }
        let store = Store::open(&path, StoreLimits::default()).unwrap();
        let mut people: Vec<String> = store
            .people()
            .unwrap()
            .into_iter()
            .map(|p| p.person_id)
            .collect();
        people.sort();
        assert_eq!(
            people,
            [
                format!("ni_pppk:{pppk_listed}"),
                format!("ni_pppk:{pppk_checked_in}"),
                format!("non_asn:{honorer}"),
            ]
        );
        let keyed = format!("ni_pppk:{pppk_checked_in}");
        let history = store.history(Some(&keyed), 10).unwrap();
        assert_eq!(history.len(), 1, "the outbox row follows its person");
        assert_eq!(store.recent_fixes(&keyed, 10).unwrap().len(), 1);
        assert!(store.history(Some(pppk_checked_in), 10).unwrap().is_empty());
        drop(store);
        // Opening again changes nothing (the step ran once, at version 1 -> 2).
        let again = Store::open(&path, StoreLimits::default()).unwrap();
        assert_eq!(again.people().unwrap().len(), 3);
    }

    #[test]
    fn store_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Store>();
    }

    #[test]
    fn store_open_sets_wal_full_and_version() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        let c = s.conn();
        let mode: String = c
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = c
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let v: i64 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn store_reopen_keeps_data() {
        let dir = TempDir::new().unwrap();
        {
            let s = open(&dir);
            s.record_checkin(&checkin("a", "p1", 10)).unwrap();
            s.set_value(keys::CONFIG, b"cfg").unwrap();
        }
        let s = open(&dir);
        assert_eq!(s.pending_count().unwrap(), 1);
        assert_eq!(s.get("a").unwrap().unwrap().selfie_jpeg, vec![0xAB; 10]);
        assert_eq!(s.value(keys::CONFIG).unwrap().unwrap(), b"cfg");
        s.integrity_check().unwrap();
    }

    #[test]
    fn store_refuses_newer_schema_and_leaves_it() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("hadir.db");
        {
            let s = Store::open(&path, StoreLimits::default()).unwrap();
            s.record_checkin(&checkin("a", "p1", 10)).unwrap();
            s.conn()
                .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let err = Store::open(&path, StoreLimits::default()).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found, supported }
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
            "{err:?}"
        );
        assert_eq!(err.code(), "STORE_NEWER_SCHEMA");
        let c = Connection::open(&path).unwrap();
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn store_refuses_foreign_database_and_garbage() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("other.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = Store::open(&path, StoreLimits::default()).unwrap_err();
        assert_eq!(err.code(), "STORE_CORRUPT", "{err:?}");

        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![0x5A; 8192]).unwrap();
        let err = Store::open(&junk, StoreLimits::default()).unwrap_err();
        assert_eq!(err.code(), "STORE_CORRUPT", "{err:?}");
    }

    #[test]
    fn store_record_and_pending_in_order() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        for id in ["c1", "c2", "c3"] {
            s.record_checkin(&checkin(id, "p1", 100)).unwrap();
        }
        let items = s.pending(10, 0).unwrap();
        let ids: Vec<_> = items.iter().map(|i| i.checkin_id.as_str()).collect();
        assert_eq!(ids, ["c1", "c2", "c3"]);
        assert!(items.windows(2).all(|w| w[0].seq < w[1].seq));
        let first = &items[0];
        assert_eq!(first.state, OutboxState::Pending);
        assert_eq!(first.attempts, 0);
        assert_eq!(first.envelope_json, b"{\"payload\":\"c1\"}");
        assert_eq!(first.selfie_jpeg.len(), 100);
        assert_eq!(first.local_verdict_json, "{\"inside\":true}");
        assert_eq!(s.pending(2, 0).unwrap().len(), 2);
        assert!(s.pending(0, 0).unwrap().is_empty());
        assert_eq!(s.pending_count().unwrap(), 3);
        assert_eq!(s.next_attempt_at().unwrap(), Some(0));
    }

    #[test]
    fn store_backoff_respected() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        s.record_checkin(&checkin("c1", "p1", 1)).unwrap();
        s.record_checkin(&checkin("c2", "p1", 1)).unwrap();
        s.mark_attempt_failed("c1", "timeout", 5_000).unwrap();
        s.mark_attempt_failed("c1", "HTTP 503", 9_000).unwrap();
        let ready: Vec<_> = s
            .pending(10, 4_000)
            .unwrap()
            .into_iter()
            .map(|i| i.entry.checkin_id)
            .collect();
        assert_eq!(ready, ["c2"]);
        assert_eq!(s.pending(10, 8_999).unwrap().len(), 1);
        let ready = s.pending(10, 9_000).unwrap();
        assert_eq!(ready[0].checkin_id, "c1", "oldest first once ready");
        assert_eq!(ready[0].attempts, 2);
        assert_eq!(ready[0].last_error.as_deref(), Some("HTTP 503"));
        assert_eq!(ready[0].next_attempt_at_ms, 9_000);
        assert_eq!(s.next_attempt_at().unwrap(), Some(0));
        s.mark_accepted("c2", "ACCEPTED", "{}", 1).unwrap();
        assert_eq!(s.next_attempt_at().unwrap(), Some(9_000));
        s.mark_accepted("c1", "ACCEPTED", "{}", 2).unwrap();
        assert_eq!(s.next_attempt_at().unwrap(), None);
        assert!(matches!(
            s.mark_attempt_failed("nope", "x", 0),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn store_states_are_final_and_idempotent() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        s.record_checkin(&checkin("a", "p1", 1)).unwrap();
        s.record_checkin(&checkin("r", "p1", 1)).unwrap();
        s.mark_accepted("a", "ACCEPTED", "{\"ok\":true}", 100)
            .unwrap();
        // Same result again: no-op, first decision time kept.
        s.mark_accepted("a", "ACCEPTED", "{\"ok\":true}", 200)
            .unwrap();
        let a = s.get("a").unwrap().unwrap();
        assert_eq!(a.state, OutboxState::Accepted);
        assert_eq!(a.result_code.as_deref(), Some("ACCEPTED"));
        assert_eq!(a.result_json.as_deref(), Some("{\"ok\":true}"));
        assert_eq!(a.result_message, None);
        assert_eq!(a.decided_at_ms, Some(100));
        // A different result, or the other decision, is refused.
        let e = s.mark_accepted("a", "OTHER", "{}", 300).unwrap_err();
        assert_eq!(e.code(), "STORE_ALREADY_DECIDED");
        assert!(matches!(
            s.mark_rejected("a", "GEOFENCE", "di luar", "{}", 300),
            Err(StoreError::AlreadyDecided {
                state: OutboxState::Accepted,
                ..
            })
        ));
        // A late failure report does not reopen it.
        s.mark_attempt_failed("a", "late", 999).unwrap();
        let a2 = s.get("a").unwrap().unwrap();
        assert_eq!(a2, a);

        s.mark_rejected("r", "MOCK_LOCATION", "Lokasi palsu", "{\"x\":1}", 150)
            .unwrap();
        s.mark_rejected("r", "MOCK_LOCATION", "Lokasi palsu", "{\"x\":1}", 160)
            .unwrap();
        assert!(
            s.mark_rejected("r", "MOCK_LOCATION", "lain", "{\"x\":1}", 170)
                .is_err()
        );
        assert!(s.mark_accepted("r", "ACCEPTED", "{}", 170).is_err());
        let r = s.get("r").unwrap().unwrap();
        assert_eq!(r.state, OutboxState::Rejected);
        assert_eq!(r.result_code.as_deref(), Some("MOCK_LOCATION"));
        assert_eq!(r.result_message.as_deref(), Some("Lokasi palsu"));
        assert_eq!(r.decided_at_ms, Some(150));

        assert_eq!(s.pending_count().unwrap(), 0);
        assert!(s.pending(10, i64::MAX).unwrap().is_empty());
        assert!(matches!(
            s.mark_accepted("nope", "A", "{}", 1),
            Err(StoreError::NotFound(_))
        ));
        assert!(s.get("nope").unwrap().is_none());
        for st in [
            OutboxState::Pending,
            OutboxState::Accepted,
            OutboxState::Rejected,
        ] {
            assert_eq!(OutboxState::parse(st.as_str()), Some(st));
        }
        assert_eq!(OutboxState::parse("PENDING"), None);
    }

    #[test]
    fn store_full_by_count_never_drops() {
        let dir = TempDir::new().unwrap();
        let limits = StoreLimits {
            max_pending: 3,
            ..StoreLimits::default()
        };
        let s = Store::open(dir.path().join("hadir.db"), limits).unwrap();
        for i in 0..3 {
            s.record_checkin(&checkin(&format!("c{i}"), "p1", 10))
                .unwrap();
        }
        let e = s.record_checkin(&checkin("c3", "p1", 10)).unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::OutboxFull {
                    pending: 3,
                    limit: 3
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.code(), "STORE_OUTBOX_FULL");
        assert!(e.staff_message().contains("3 absensi belum terkirim"));
        assert_eq!(s.pending_count().unwrap(), 3);
        assert!(s.get("c3").unwrap().is_none());
        // A decision frees room; decided rows stay.
        s.mark_accepted("c0", "ACCEPTED", "{}", 1).unwrap();
        s.record_checkin(&checkin("c3", "p1", 10)).unwrap();
        assert_eq!(s.history(None, 100).unwrap().len(), 4);
    }

    #[test]
    fn store_full_by_bytes() {
        let dir = TempDir::new().unwrap();
        let one = checkin("c0", "p1", 1000);
        let size = (one.envelope_json.len() + 1000 + one.local_verdict_json.len()) as u64;
        let limits = StoreLimits {
            max_pending: 100,
            max_pending_bytes: size * 2 + size / 2,
        };
        let s = Store::open(dir.path().join("hadir.db"), limits).unwrap();
        s.record_checkin(&checkin("c0", "p1", 1000)).unwrap();
        s.record_checkin(&checkin("c1", "p1", 1000)).unwrap();
        assert_eq!(s.pending_bytes().unwrap(), size * 2);
        let e = s.record_checkin(&checkin("c2", "p1", 1000)).unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::OutboxFull {
                    pending: 2,
                    limit: 2
                }
            ),
            "{e:?}"
        );
        // A small one still fits.
        s.record_checkin(&checkin("c3", "p1", 10)).unwrap();
        assert_eq!(s.pending_count().unwrap(), 3);
    }

    #[test]
    fn store_duplicate_id_refused() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        s.record_checkin(&checkin("dup", "p1", 5)).unwrap();
        let e = s.record_checkin(&checkin("dup", "p2", 7)).unwrap_err();
        assert!(
            matches!(&e, StoreError::DuplicateCheckIn(id) if id == "dup"),
            "{e:?}"
        );
        s.mark_accepted("dup", "ACCEPTED", "{}", 1).unwrap();
        assert!(matches!(
            s.record_checkin(&checkin("dup", "p1", 5)),
            Err(StoreError::DuplicateCheckIn(_))
        ));
        let item = s.get("dup").unwrap().unwrap();
        assert_eq!(item.person_id, "p1");
        assert_eq!(item.selfie_jpeg.len(), 5);
    }

    #[test]
    fn store_checkin_with_fix_is_one_transaction() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        let fix = |t: i64| RecentFix {
            person_id: "p1".into(),
            latitude: -3.8,
            longitude: 102.26,
            accuracy_m: 9.0,
            fix_time_ms: t,
        };
        assert_eq!(
            s.record_checkin_with_fix(&checkin("a", "p1", 5), &fix(1))
                .unwrap(),
            1
        );
        assert_eq!(
            s.record_checkin_with_fix(&checkin("b", "p1", 5), &fix(2))
                .unwrap(),
            2
        );
        assert_eq!(s.pending_count().unwrap(), 2);
        assert_eq!(s.last_fix("p1").unwrap(), Some(fix(2)));
        // A refused check-in leaves no fix behind either.
        let e = s
            .record_checkin_with_fix(&checkin("a", "p1", 5), &fix(3))
            .unwrap_err();
        assert!(matches!(e, StoreError::DuplicateCheckIn(_)), "{e:?}");
        assert_eq!(s.last_fix("p1").unwrap(), Some(fix(2)));
        assert_eq!(s.recent_fixes("p1", 10).unwrap().len(), 2);
    }

    #[test]
    fn store_history_newest_first_and_per_person() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        for (id, p) in [("h1", "ani"), ("h2", "budi"), ("h3", "ani"), ("h4", "ani")] {
            s.record_checkin(&checkin(id, p, 3)).unwrap();
        }
        s.mark_rejected("h1", "OUTSIDE", "Di luar kantor", "{}", 5)
            .unwrap();
        let all: Vec<_> = s
            .history(None, 10)
            .unwrap()
            .into_iter()
            .map(|h| h.checkin_id)
            .collect();
        assert_eq!(all, ["h4", "h3", "h2", "h1"]);
        let ani = s.history(Some("ani"), 2).unwrap();
        assert_eq!(ani.len(), 2);
        assert_eq!(ani[0].checkin_id, "h4");
        assert_eq!(ani[1].checkin_id, "h3");
        let h1 = s.history(Some("ani"), 10).unwrap().pop().unwrap();
        assert_eq!(h1.state, OutboxState::Rejected);
        assert_eq!(h1.result_message.as_deref(), Some("Di luar kantor"));
        assert!(s.history(Some("nobody"), 10).unwrap().is_empty());
    }

    #[test]
    fn store_kv_roundtrip() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        assert_eq!(s.value(keys::SERVER_TIME_ANCHOR).unwrap(), None);
        s.set_value(keys::SERVER_TIME_ANCHOR, b"one").unwrap();
        s.set_value(keys::SERVER_TIME_ANCHOR, &[0, 1, 2, 255])
            .unwrap();
        assert_eq!(
            s.value(keys::SERVER_TIME_ANCHOR).unwrap(),
            Some(vec![0, 1, 2, 255])
        );
        s.set_value(keys::DEVICE_KEY, b"").unwrap();
        assert_eq!(s.value(keys::DEVICE_KEY).unwrap(), Some(vec![]));
        assert!(s.delete_value(keys::DEVICE_KEY).unwrap());
        assert!(!s.delete_value(keys::DEVICE_KEY).unwrap());
        assert_eq!(s.value(keys::DEVICE_KEY).unwrap(), None);
    }

    #[test]
    fn store_people_upsert_and_order() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        let owner = EnrolledPerson {
            person_id: "198001012005011001".into(),
            display_name: "Ani".into(),
            enrolled_at_ms: 20,
            is_device_owner: true,
        };
        let guest = EnrolledPerson {
            person_id: "H-001".into(),
            display_name: "Budi".into(),
            enrolled_at_ms: 10,
            is_device_owner: false,
        };
        s.upsert_person(&guest).unwrap();
        s.upsert_person(&owner).unwrap();
        assert_eq!(s.people().unwrap(), vec![owner.clone(), guest.clone()]);
        let renamed = EnrolledPerson {
            display_name: "Budi S.".into(),
            ..guest.clone()
        };
        s.upsert_person(&renamed).unwrap();
        assert_eq!(s.people().unwrap(), vec![owner.clone(), renamed]);
        assert!(s.remove_person("H-001").unwrap());
        assert_eq!(s.people().unwrap(), vec![owner]);
    }

    #[test]
    fn store_recent_fixes_bounded() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        assert!(s.last_fix("ani").unwrap().is_none());
        let n = RECENT_FIXES_PER_PERSON as i64 + 15;
        for i in 0..n {
            // Out of order on purpose: the newest by fix time wins, not the last added.
            let t = if i == 3 { 1_000_000 } else { i * 1000 };
            s.add_recent_fix(&RecentFix {
                person_id: "ani".into(),
                latitude: -3.8 + i as f64 * 1e-4,
                longitude: 102.26,
                accuracy_m: 12.5,
                fix_time_ms: t,
            })
            .unwrap();
        }
        s.add_recent_fix(&RecentFix {
            person_id: "budi".into(),
            latitude: 1.0,
            longitude: 2.0,
            accuracy_m: 3.0,
            fix_time_ms: 5,
        })
        .unwrap();
        let fixes = s.recent_fixes("ani", 1000).unwrap();
        assert_eq!(fixes.len(), RECENT_FIXES_PER_PERSON as usize);
        assert!(
            fixes
                .windows(2)
                .all(|w| w[0].fix_time_ms >= w[1].fix_time_ms)
        );
        let last = s.last_fix("ani").unwrap().unwrap();
        assert_eq!(last.fix_time_ms, 1_000_000);
        assert_eq!(last.accuracy_m, 12.5);
        assert_eq!(fixes[1].fix_time_ms, (n - 1) * 1000);
        assert_eq!(s.recent_fixes("budi", 10).unwrap().len(), 1);
    }

    #[test]
    fn store_purge_frees_selfies_keeps_rows() {
        let dir = TempDir::new().unwrap();
        let s = open(&dir);
        for id in ["old", "new", "wait"] {
            s.record_checkin(&checkin(id, "p1", 2000)).unwrap();
        }
        s.mark_accepted("old", "ACCEPTED", "{}", 1_000).unwrap();
        s.mark_rejected("new", "LATE", "Terlambat", "{}", 5_000)
            .unwrap();
        assert_eq!(s.purge_decided_selfies(2_000).unwrap(), 1);
        assert_eq!(s.purge_decided_selfies(2_000).unwrap(), 0);
        let old = s.get("old").unwrap().unwrap();
        assert!(old.selfie_jpeg.is_empty());
        assert_eq!(old.selfie_sha256_hex, "00".repeat(32));
        assert_eq!(old.envelope_json, b"{\"payload\":\"old\"}");
        assert_eq!(s.get("new").unwrap().unwrap().selfie_jpeg.len(), 2000);
        // Pending items are never purged, whatever the cut-off.
        assert_eq!(s.purge_decided_selfies(i64::MAX).unwrap(), 1);
        assert_eq!(s.get("wait").unwrap().unwrap().selfie_jpeg.len(), 2000);
        assert_eq!(s.history(None, 10).unwrap().len(), 3);
        s.integrity_check().unwrap();
    }

    #[test]
    fn store_shared_across_threads() {
        let dir = TempDir::new().unwrap();
        let s = std::sync::Arc::new(open(&dir));
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        s.record_checkin(&checkin(&format!("t{t}-{i}"), "p", 64))
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(s.pending_count().unwrap(), 40);
    }

    #[test]
    fn store_error_codes_and_messages() {
        let errors = [
            StoreError::OutboxFull {
                pending: 7,
                limit: 7,
            },
            StoreError::DuplicateCheckIn("x".into()),
            StoreError::NewerSchema {
                found: 9,
                supported: 1,
            },
            StoreError::NotFound("x".into()),
            StoreError::Corrupt("x".into()),
            StoreError::AlreadyDecided {
                checkin_id: "x".into(),
                state: OutboxState::Accepted,
            },
        ];
        for e in &errors {
            assert!(e.code().starts_with("STORE_"));
            assert!(!e.staff_message().is_empty());
        }
        assert_eq!(
            errors[0].staff_message(),
            "Penyimpanan antrean penuh: 7 absensi belum terkirim. Sambungkan ke internet agar \
             terkirim."
        );
    }
}
