//! The province-scale month generator shared by the `month_scale` example and the
//! `month_scale_small` test: 200 offices (WIB and WITA) and N people imported through
//! the real CSV parsers and import jobs, a few leaves through `leave_add`, and October
//! 2026's check-ins (22 working days × 4 records) inserted directly by SQL with the
//! columns and value shapes `SqliteStorage::record` writes. Reproducible: one xorshift
//! seed drives every choice (device keys and signatures, drawn from the system's
//! randomness by ring, are the only part that differs between runs).

#![allow(dead_code)] // each includer uses part of it

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Weekday};
use hadir_core::api::{CheckInResult, CheckInStatus};
use hadir_core::clock::{ServerTimeAnchor, TimeEvidence};
use hadir_core::envelope::{CHECKIN_PAYLOAD_TYPE, Envelope, SoftwareDeviceKey};
use hadir_core::fix::{FixProvider, GpsFix};
use hadir_core::ids::{PersonId, PersonIdKind};
use hadir_core::schedule::day_start_ms;
use hadir_core::wire::{
    AttendanceKind, CHECKIN_PAYLOAD_VERSION, CheckInPayload, LocalGeofenceStatus, LocalVerdict,
};
use hadir_recap::model::Month;
use hadir_server::month::corrections::{LeaveSpec, leave_add};
use hadir_server::month::import_store::{ImportedFile, import_offices, import_people};
use hadir_server::month::imports::{parse_offices_csv, parse_people};
use hadir_server::storage::sqlite::SqliteStorage;
use hadir_server::storage::{Storage as _, person_key};
use rusqlite::params;

/// The month generated: October 2026 (22 working days, no national holiday).
pub const MONTH: Month = Month {
    year: 2026,
    month: 10,
};

/// The offices generated.
pub const OFFICES: usize = 200;

/// Every `LEAVE_EVERY`th person has two days of cuti (14–15 October).
pub const LEAVE_EVERY: usize = 250;

/// The RNG seed of every run.
pub const SEED: u64 = 0x4841_4449_5215;

/// The admin who runs the imports and corrections.
pub const ADMIN_NIP: &str = "197001011995031001";

/// A tiny xorshift64* generator: reproducible, no dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// 32 lowercase hex digits.
    pub fn hex128(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }
}

/// The NIP of person `i`: a real birth date, appointment at 25, gender digit, serial.
pub fn nip_of(i: usize) -> String {
    let birth = NaiveDate::from_ymd_opt(1965, 1, 1).unwrap() + chrono::Days::new((i % 9000) as u64);
    let serial = i / 9000 + 1;
    format!(
        "{}{:04}{:02}{}{:03}",
        birth.format("%Y%m%d"),
        birth.year() + 25,
        birth.month(),
        1 + i % 2,
        serial
    )
}

/// Office `o`'s id, UTC offset and centre: the first half WIB (Sumatra), the rest WITA
/// (Sulawesi).
pub fn office_of(o: usize) -> (String, i32, f64, f64) {
    let wib = o < OFFICES / 2;
    let (lat, lon) = if wib {
        (-3.0 + (o % 50) as f64 * 0.02, 102.0 + (o / 50) as f64 * 0.3)
    } else {
        (
            -5.0 + (o % 50) as f64 * 0.02,
            119.0 + ((o - OFFICES / 2) / 50) as f64 * 0.3,
        )
    };
    (
        format!("kantor-{o:03}"),
        if wib { 420 } else { 480 },
        lat,
        lon,
    )
}

/// The office of person `i`.
pub fn office_index(i: usize) -> usize {
    i % OFFICES
}

/// The offices CSV.
pub fn offices_csv() -> String {
    let mut s = String::from("id,nama,utc_offset_menit,lat,lon,radius_m\n");
    for o in 0..OFFICES {
        let (id, offset, lat, lon) = office_of(o);
        s.push_str(&format!("{id},Kantor {o},{offset},{lat:.5},{lon:.5},150\n"));
    }
    s
}

/// The people CSV: `people` staff in 40 units, every one with a TPP, a supervisor for
/// nine in ten (the unit's first person).
pub fn people_csv(people: usize) -> String {
    let mut s = String::with_capacity(people * 130);
    s.push_str("jenis_id,id,nama,unit_id,unit_nama,kantor,atasan,tpp\n");
    for i in 0..people {
        let unit = i % 40;
        let supervisor = if i >= 40 && i % 10 != 0 {
            format!("nip:{}", nip_of(unit))
        } else {
            String::new()
        };
        s.push_str(&format!(
            "nip,{},Pegawai {i:05},opd-{unit:02},Dinas {unit:02},{},{supervisor},{}\n",
            nip_of(i),
            office_of(office_index(i)).0,
            2_000_000 + (i % 50) * 100_000
        ));
    }
    s
}

/// Timings of the setup through the real import path.
pub struct SetupTimes {
    /// Parsing the people CSV.
    pub parse_people: Duration,
    /// Writing the parsed people.
    pub import_people: Duration,
    /// The admin's person key.
    pub admin_key: String,
}

/// Parses `path` as a people CSV and imports it: (parse, import) durations.
pub fn import_people_file(
    storage: &SqliteStorage,
    admin_key: &str,
    path: &Path,
) -> (Duration, Duration) {
    let t = Instant::now();
    let bytes = std::fs::read(path).expect("people CSV readable");
    let rows = parse_people("pegawai.csv", &bytes).expect("the generated people CSV parses");
    let parsed = t.elapsed();
    let t = Instant::now();
    import_people(
        storage,
        admin_key,
        ImportedFile {
            name: "pegawai.csv".into(),
            sha256: hadir_core::photo::sha256_hex(&bytes),
        },
        rows,
    )
    .expect("the generated people import");
    (parsed, t.elapsed())
}

/// Admin, offices, people (CSV written to `dir/pegawai.csv`, parsed and imported) and
/// the leaves.
pub fn setup(storage: &SqliteStorage, people: usize, dir: &Path) -> SetupTimes {
    let admin = PersonId::parse(PersonIdKind::Nip, ADMIN_NIP).expect("admin NIP");
    hadir_server::month::store::init_admin(storage, &admin, "Admin BKPSDM").expect("admin");
    let admin_key = person_key(&admin);
    let offices = parse_offices_csv("kantor.csv", offices_csv().as_bytes()).expect("offices");
    import_offices(
        storage,
        &admin_key,
        ImportedFile {
            name: "kantor.csv".into(),
            sha256: "0".repeat(64),
        },
        offices.into_iter().map(|r| r.office).collect(),
    )
    .expect("offices import");
    let csv = dir.join("pegawai.csv");
    std::fs::write(&csv, people_csv(people)).expect("people CSV written");
    let (parse_people, import_people) = import_people_file(storage, &admin_key, &csv);
    for i in (0..people).step_by(LEAVE_EVERY) {
        leave_add(
            storage,
            &admin_key,
            &person_key(&PersonId::parse(PersonIdKind::Nip, &nip_of(i)).unwrap()),
            LeaveSpec {
                kind: "cuti".into(),
                from: NaiveDate::from_ymd_opt(2026, 10, 14).unwrap(),
                to: NaiveDate::from_ymd_opt(2026, 10, 15).unwrap(),
                note: format!("800/{i}/BKPSDM/2026"),
            },
            "cuti tahunan",
        )
        .expect("leave");
    }
    SetupTimes {
        parse_people,
        import_people,
        admin_key,
    }
}

/// The working days of the month (Monday to Friday).
pub fn working_days() -> Vec<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(MONTH.year, MONTH.month, 1).unwrap();
    first
        .iter_days()
        .take_while(|d| d.month() == MONTH.month)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

/// What the insert wrote.
#[derive(Debug, Default, Clone)]
pub struct InsertStats {
    /// Rows inserted.
    pub rows: u64,
    /// Of which accepted, accepted with flags, rejected.
    pub accepted: u64,
    /// Accepted with flags.
    pub flagged: u64,
    /// Rejected.
    pub rejected: u64,
    /// Person-days with no record at all.
    pub absent_days: u64,
    /// Time spent.
    pub elapsed: Duration,
}

/// One person's fixed parts: the real key, the template payload and signature.
struct Template {
    key: String,
    device_id: String,
    office_id: String,
    offset: i32,
    lat: f64,
    lon: f64,
    payload: CheckInPayload,
    signatures: Vec<hadir_core::envelope::EnvelopeSignature>,
}

fn template(i: usize, rng: &mut Rng, anchor_secret: &[u8]) -> Template {
    let person = PersonId::parse(PersonIdKind::Nip, &nip_of(i)).unwrap();
    let (office_id, offset, lat, lon) = office_of(office_index(i));
    let device_id = format!("dev-{}", rng.hex128());
    let at = day_start_ms(working_days()[0], offset) + 7 * 3_600_000;
    let mut payload = CheckInPayload {
        version: CHECKIN_PAYLOAD_VERSION,
        checkin_id: checkin_id(at, rng),
        person: person.clone(),
        device_id: device_id.clone(),
        kind: AttendanceKind::CheckIn,
        fix: GpsFix {
            latitude: lat + 0.0002,
            longitude: lon,
            accuracy_m: 12.0,
            fix_time_ms: at - 3_000,
            provider: FixProvider::Fused,
            is_mock: false,
        },
        local_verdict: LocalVerdict {
            geofence: LocalGeofenceStatus::Inside,
            office_id: Some(office_id.clone()),
            zone_id: Some("utama".into()),
            distance_m: None,
            issue_codes: vec![],
        },
        selfie_sha256: format!("{}{}", rng.hex128(), rng.hex128()),
        selfie_phash: format!("{:016x}", rng.next()),
        time: time_evidence(at, 800),
        qr_token: None,
        app_version: "1.4.0 (android)".into(),
    };
    if let Some(a) = payload.time.anchor.as_mut() {
        let signed = hadir_core::anchor::AnchorKey::new(anchor_secret).sign(
            &device_id,
            &a.boot_id,
            a.boot_elapsed_ms,
            a.server_time_ms,
        );
        a.device_id = Some(signed.device_id);
        a.mac = Some(signed.mac);
    }
    let key = SoftwareDeviceKey::generate().expect("a P-256 key");
    let envelope =
        Envelope::sign(CHECKIN_PAYLOAD_TYPE, payload.to_bytes(), &key).expect("a signature");
    Template {
        key: person_key(&person),
        device_id,
        office_id,
        offset,
        lat,
        lon,
        payload,
        signatures: envelope.signatures,
    }
}

/// A UUID v7 for a check-in made at `at_ms` (as `new_checkin_id` makes), from the RNG.
fn checkin_id(at_ms: i64, rng: &mut Rng) -> uuid::Uuid {
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&rng.next().to_le_bytes());
    random[8..].copy_from_slice(&rng.next().to_le_bytes()[..2]);
    uuid::Builder::from_unix_timestamp_millis(at_ms as u64, &random).into_uuid()
}

/// Time evidence of a record made at `at_ms`, anchored 40 minutes earlier in one boot.
fn time_evidence(at_ms: i64, skew_ms: i64) -> TimeEvidence {
    TimeEvidence {
        device_wall_ms: at_ms + skew_ms,
        boot_elapsed_ms: 7_400_000,
        boot_id: "boot-1".into(),
        anchor: Some(ServerTimeAnchor {
            server_time_ms: at_ms - 2_400_000,
            boot_elapsed_ms: 5_000_000,
            boot_id: "boot-1".into(),
            device_wall_ms: at_ms - 2_400_000 + skew_ms,
            round_trip_ms: 180,
            device_id: None,
            mac: None,
        }),
    }
}

/// Minutes after local midnight of a person-day's records, or None for a day without
/// any (absent); the check-out may be missing.
fn day_minutes(rng: &mut Rng, friday: bool) -> Option<Vec<(AttendanceKind, i64)>> {
    if rng.below(1000) < 20 {
        return None;
    }
    let late = match rng.below(100) {
        0..80 => -(rng.below(30) as i64) - 1,
        80..90 => 1 + rng.below(30) as i64,
        90..95 => 31 + rng.below(30) as i64,
        95..98 => 61 + rng.below(30) as i64,
        _ => 91 + rng.below(60) as i64,
    };
    let (break_start, out) = if friday { (690, 990) } else { (720, 960) };
    let mut records = vec![
        (AttendanceKind::CheckIn, 450 + late),
        (
            AttendanceKind::BreakStart,
            break_start + rng.below(10) as i64,
        ),
        (AttendanceKind::BreakEnd, 770 + rng.below(15) as i64),
    ];
    if rng.below(100) >= 3 {
        let early = if rng.below(10) == 0 {
            -1 - rng.below(120) as i64
        } else {
            rng.below(40) as i64
        };
        records.push((AttendanceKind::CheckOut, out + early));
    }
    Some(records)
}

/// Inserts the month's check-ins into the database at `db` directly, day by day (the
/// order phones deliver them), `batch_days` days per transaction.
pub fn insert_checkins(db: &Path, people: usize, anchor_secret: &[u8]) -> InsertStats {
    let started = Instant::now();
    let mut rng = Rng::new(SEED);
    let templates: Vec<Template> = (0..people)
        .map(|i| template(i, &mut rng, anchor_secret))
        .collect();
    let mut conn = rusqlite::Connection::open(db).expect("database");
    conn.pragma_update(None, "cache_size", -1_000_000i64)
        .unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let leave_days = [
        NaiveDate::from_ymd_opt(2026, 10, 14).unwrap(),
        NaiveDate::from_ymd_opt(2026, 10, 15).unwrap(),
    ];
    let mut stats = InsertStats::default();
    for day in working_days() {
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO checkins (checkin_id, payload_sha256, device_id, person_key, \
                     kind, status, codes, trusted_ms, office_id, selfie_sha256, selfie_phash, \
                     fix_json, received_ms, result_json, envelope_json) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .unwrap();
            for (i, t) in templates.iter().enumerate() {
                let on_leave = i % LEAVE_EVERY == 0 && leave_days.contains(&day);
                let Some(records) = day_minutes(&mut rng, day.weekday() == Weekday::Fri) else {
                    stats.absent_days += 1;
                    continue;
                };
                if on_leave {
                    continue;
                }
                let midnight = day_start_ms(day, t.offset);
                for (kind, minute) in records {
                    let at = midnight + minute * 60_000 + rng.below(60_000) as i64;
                    let skew = rng.below(4_000) as i64 - 2_000;
                    let mut p = t.payload.clone();
                    p.checkin_id = checkin_id(at, &mut rng);
                    p.kind = kind;
                    p.fix.latitude = t.lat + (rng.below(200) as f64 - 100.0) * 0.000_01;
                    p.fix.longitude = t.lon + (rng.below(200) as f64 - 100.0) * 0.000_01;
                    p.fix.accuracy_m = 5.0 + rng.below(30) as f64;
                    p.fix.fix_time_ms = at - 3_000;
                    let anchor = p.time.anchor.take();
                    p.time = time_evidence(at, skew);
                    if let (Some(new), Some(old)) = (p.time.anchor.as_mut(), anchor) {
                        new.device_id = old.device_id;
                        new.mac = old.mac; // templated: the MAC of the person's first anchor
                    }
                    let (status, codes, message, office, distance) = match rng.below(1000) {
                        0..930 => (
                            CheckInStatus::Accepted,
                            vec![],
                            "Kehadiran tercatat. Anda di dalam area kantor.".to_string(),
                            Some(t.office_id.clone()),
                            None,
                        ),
                        930..980 => (
                            CheckInStatus::AcceptedWithFlags,
                            vec!["TIME_SKEW".to_string()],
                            "Kehadiran tercatat, dengan catatan untuk diperiksa atasan: jam \
                             ponsel berbeda dari jam server."
                                .to_string(),
                            Some(t.office_id.clone()),
                            None,
                        ),
                        _ => (
                            CheckInStatus::Rejected,
                            vec!["GEOFENCE_OUTSIDE".to_string()],
                            "Anda berada di luar area kantor.".to_string(),
                            None,
                            Some(250.0 + rng.below(2000) as f64),
                        ),
                    };
                    match status {
                        CheckInStatus::Accepted => stats.accepted += 1,
                        CheckInStatus::AcceptedWithFlags => stats.flagged += 1,
                        _ => stats.rejected += 1,
                    }
                    let payload = p.to_bytes();
                    let result = CheckInResult {
                        checkin_id: p.checkin_id.to_string(),
                        status,
                        codes,
                        message,
                        trusted_time_ms: Some(at),
                        time_source: Some("anchored".into()),
                        device_skew_ms: Some(skew),
                        office_id: office,
                        distance_m: distance,
                        delivery_delay_ms: None,
                    };
                    let envelope = Envelope {
                        payload: payload.clone(),
                        payload_type: CHECKIN_PAYLOAD_TYPE.into(),
                        signatures: t.signatures.clone(),
                    };
                    insert
                        .execute(params![
                            result.checkin_id,
                            hadir_core::photo::sha256_hex(&payload),
                            t.device_id,
                            t.key,
                            kind.as_str(),
                            status.as_str(),
                            result.codes.join(","),
                            at,
                            result.office_id,
                            p.selfie_sha256,
                            rng.next() as i64,
                            serde_json::to_string(&p.fix).unwrap(),
                            at + 1_500 + rng.below(5_000) as i64,
                            serde_json::to_string(&result).unwrap(),
                            envelope.to_json(),
                        ])
                        .unwrap();
                    stats.rows += 1;
                }
            }
        }
        tx.commit().unwrap();
    }
    stats.elapsed = started.elapsed();
    stats
}

/// Opens (migrating) the database at `db`.
pub fn open(db: &Path) -> SqliteStorage {
    SqliteStorage::open(db, 64).expect("storage opens")
}

/// The server's anchor secret (what templates seal their anchors with).
pub fn anchor_secret(storage: &SqliteStorage) -> Vec<u8> {
    storage.anchor_secret().expect("anchor secret")
}
