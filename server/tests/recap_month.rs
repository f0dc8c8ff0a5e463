//! A month counted end to end and checked against the hand-computed answer: March 2026 at
//! a regency with a Ramadan period, three holidays, an RSUD night shift across midnight
//! fed by a fingerprint machine's attlog, and every kind of correction. Everything goes
//! through the real parts: the admin CLI binary on a real SQLite file, phones checking in
//! with real signatures and JPEG selfies through `app(state)` on a clock the test sets,
//! and the XLSX read back by openpyxl. Then the month is closed (a late check-in goes to
//! the review list, a correction is refused), reopened, and the audit chain is broken
//! behind the tool's back and caught.
//!
//! The hand count (deduction table of this test: TL/PSW 0.50/1.00/1.25/1.50 %, TK 3 %
//! a day, cap 100 %, attendance part 40 % of TPP). March 2026 has 19 working days:
//! 2–6, 9–13, 16–18, 24–27, 30–31 (19 Nyepi, 20 Idul Fitri and 23 cuti bersama are
//! holidays; 1–18 is Ramadan: 08:00–15:00, Friday 08:00–15:30).
//! - Budi: arrivals at 08:30 (TL1), 08:31 (TL2), 09:00 (TL2), 09:01 (TL3), Fri 09:30
//!   (TL3), 09:31 (TL4), 31st 07:31 (TL1); leavings 14:30 (PSW1), 14:29 (PSW2), none on
//!   the 12th (PSW4); the 13th's arrival overturned (TL4); 16–18 absent (3 TK); the 24th
//!   by dispensation; cuti Fri 27 – Mon 30 (2 days, not the weekend). Present 14,
//!   deduction 2×50+2×100+2×125+2×150 + 50+100+150 + 3×300 = 2050 bp; TPP 5,000,000 →
//!   part 2,000,000, paid 79.50 % = 1,590,000.
//! - Siti: present the 2nd, cuti 3–31 (18 days); manipulation → paid 0 of 1,600,000.
//! - Dewi: the 2nd's arrival rejected (outside the geofence) then accepted on review;
//!   dinas luar 3–31 (18 days); nothing deducted: 1,200,000 of TPP 3,000,000.
//! - Andi (RSUD, 19:00 → 07:00 next day, machine clock 2 min fast): Mon 2nd in 19:02
//!   out Tue 07:02 (true 19:00/07:00: on time, counted on the 2nd); Tue 3rd in 19:33
//!   (true 19:31: TL2) out 07:05; Wed 4th in 19:02 without out (PSW4); 16 days TK:
//!   100 + 150 + 16×300 = 5050 bp; TPP unknown.

mod common;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use common::live::{cli, cli_fails};
use common::*;
use hadir_core::api::{CheckInResult, CheckInStatus, EnrollRequest, EnrollResponse};
use hadir_core::clock::{ServerTimeAnchor, TimeEvidence};
use hadir_core::envelope::{DeviceKey as _, base64_encode};
use hadir_core::ids::PersonId;
use hadir_core::schedule::day_start_ms;
use hadir_core::wire::AttendanceKind;
use hadir_server::AppState;
use hadir_server::clock::{Clock as _, ManualClock};

const ADMIN: &str = "nip:197001011995031001";
const NIP_D: &str = "199203152019032005";
const WIB: i32 = 420;

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

/// Unix ms of a WIB wall time on March `d`, 2026.
fn wib(d: u32, h: i64, m: i64) -> i64 {
    day_start_ms(date(d), WIB) + h * 3_600_000 + m * 60_000
}

fn april_2nd_9am() -> i64 {
    day_start_ms(NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(), WIB) + 9 * 3_600_000
}

struct Month {
    env: Env,
    clock: Arc<ManualClock>,
    router: Router,
    seed: std::cell::Cell<u64>,
}

fn db(m: &Month) -> &Path {
    &m.env.config.db
}

/// Runs the CLI as the admin.
fn admin(m: &Month, args: &[&str]) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--admin", ADMIN]);
    cli(db(m), &all)
}

fn admin_fails(m: &Month, args: &[&str]) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--admin", ADMIN]);
    cli_fails(db(m), &all)
}

fn write(m: &Month, name: &str, text: &str) -> String {
    let path = m.env.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Time evidence of a check-in made at `now`, anchored 10 s earlier in its own boot.
fn time_at(now: i64, boot: u64) -> TimeEvidence {
    TimeEvidence {
        device_wall_ms: now,
        boot_elapsed_ms: 5_010_000,
        boot_id: format!("boot-{boot}"),
        anchor: Some(ServerTimeAnchor {
            server_time_ms: now - 10_000,
            boot_elapsed_ms: 5_000_000,
            boot_id: format!("boot-{boot}"),
            device_wall_ms: now - 10_000,
            round_trip_ms: 40,
            device_id: None,
            mac: None,
        }),
    }
}

impl Month {
    /// The admin's storage on the server's database and clock (the CLI's clock is the
    /// system's; a switch or a close must happen at the test's time).
    fn admin_store(&self) -> hadir_server::storage::sqlite::SqliteStorage {
        hadir_server::storage::sqlite::SqliteStorage::open_with_clock(
            &self.env.config.db,
            16,
            self.clock.clone(),
        )
        .unwrap()
    }

    fn request(
        &self,
        phone: &Phone,
        device: &str,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Request<Body> {
        let now = self.clock.now_ms();
        signed_request_at(
            &phone.key,
            device,
            method,
            path,
            body,
            "application/json",
            now,
        )
    }

    async fn enroll(&self, who: &PersonId) -> Phone {
        let mut phone = Phone::new();
        phone.anchor_secret = Some(self.env.state.storage().anchor_secret().unwrap());
        let body = serde_json::to_vec(&EnrollRequest {
            enrollment_code: self.env.code_for(who),
            person: who.clone(),
            public_key: base64_encode(&phone.key.public_key()),
            device_label: imei_label(),
            platform: "test".into(),
            app_version: "0.1.0".into(),
            attestation: Vec::new(),
        })
        .unwrap();
        let r = send(
            &self.router,
            self.request(&phone, "enroll", "POST", "/v1/enroll", body),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        phone.device_id = serde_json::from_slice::<EnrollResponse>(&r.body)
            .unwrap()
            .device_id;
        phone
    }

    /// `who` records `kind` at `at_ms` on `phone`, `north_m` north of the office centre,
    /// delivered `delay_ms` later.
    async fn check_in_late(
        &self,
        phone: &Phone,
        who: &PersonId,
        kind: AttendanceKind,
        at_ms: i64,
        north_m: f64,
        delay_ms: i64,
    ) -> CheckInResult {
        self.clock.set(at_ms);
        let seed = self.seed.get();
        self.seed.set(seed + 1);
        let s = selfie(seed, 1);
        let path = format!("/v1/selfies/{}", s.sha256_hex());
        let r = send(
            &self.router,
            self.request(phone, &phone.device_id, "PUT", &path, s.jpeg.clone()),
        )
        .await;
        assert!(
            r.status.is_success(),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let mut p = payload(&phone.device_id, who, north_of_center(north_m), &s);
        p.kind = kind;
        p.fix.fix_time_ms = at_ms - 3_000;
        p.time = time_at(at_ms, seed);
        self.clock.set(at_ms + delay_ms);
        let body = serde_json::to_vec(&hadir_core::api::CheckInBatch {
            envelopes: vec![phone.envelope(&p)],
        })
        .unwrap();
        let r = send(
            &self.router,
            self.request(phone, &phone.device_id, "POST", "/v1/checkins", body),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        serde_json::from_slice::<hadir_core::api::CheckInBatchResponse>(&r.body)
            .unwrap()
            .results
            .remove(0)
    }

    async fn check_in(
        &self,
        phone: &Phone,
        who: &PersonId,
        kind: AttendanceKind,
        at_ms: i64,
    ) -> CheckInResult {
        let r = self
            .check_in_late(phone, who, kind, at_ms, 0.0, 2_000)
            .await;
        assert!(r.status.counts_as_attendance(), "{r:?}");
        r
    }
}

const TABLE: &str = r#"{"source": "Tabel uji (recap_month.rs)",
  "tl_bp": [50, 100, 125, 150], "psw_bp": [50, 100, 125, 150], "tk_bp": 300,
  "cap_bp": 10000, "attendance_weight_bp": 4000, "machine_window_minutes": 240}"#;

/// Kominfo: the Perpres week, and Ramadan 1–18 March without breaks.
const KOMINFO_SCHEDULE: &str = r#"{
  "week": {
    "mon": [{"kind":"check_in","at":"07:30"},{"kind":"break_start","at":"12:00"},{"kind":"break_end","at":"13:00"},{"kind":"check_out","at":"16:00"}],
    "tue": [{"kind":"check_in","at":"07:30"},{"kind":"break_start","at":"12:00"},{"kind":"break_end","at":"13:00"},{"kind":"check_out","at":"16:00"}],
    "wed": [{"kind":"check_in","at":"07:30"},{"kind":"break_start","at":"12:00"},{"kind":"break_end","at":"13:00"},{"kind":"check_out","at":"16:00"}],
    "thu": [{"kind":"check_in","at":"07:30"},{"kind":"break_start","at":"12:00"},{"kind":"break_end","at":"13:00"},{"kind":"check_out","at":"16:00"}],
    "fri": [{"kind":"check_in","at":"07:30"},{"kind":"break_start","at":"11:30"},{"kind":"break_end","at":"13:00"},{"kind":"check_out","at":"16:30"}]
  },
  "periods": [{"name": "Ramadan 1447 H", "from": "2026-03-01", "to": "2026-03-18", "week": {
    "mon": [{"kind":"check_in","at":"08:00"},{"kind":"check_out","at":"15:00"}],
    "tue": [{"kind":"check_in","at":"08:00"},{"kind":"check_out","at":"15:00"}],
    "wed": [{"kind":"check_in","at":"08:00"},{"kind":"check_out","at":"15:00"}],
    "thu": [{"kind":"check_in","at":"08:00"},{"kind":"check_out","at":"15:00"}],
    "fri": [{"kind":"check_in","at":"08:00"},{"kind":"check_out","at":"15:30"}]
  }}]
}"#;

/// RSUD night shift, Monday to Friday: 19:00 to 07:00 the next morning.
const RSUD_SCHEDULE: &str = r#"{"week": {
    "mon": [{"kind":"check_in","at":"19:00"},{"kind":"check_out","at":"07:00","next_day":true}],
    "tue": [{"kind":"check_in","at":"19:00"},{"kind":"check_out","at":"07:00","next_day":true}],
    "wed": [{"kind":"check_in","at":"19:00"},{"kind":"check_out","at":"07:00","next_day":true}],
    "thu": [{"kind":"check_in","at":"19:00"},{"kind":"check_out","at":"07:00","next_day":true}],
    "fri": [{"kind":"check_in","at":"19:00"},{"kind":"check_out","at":"07:00","next_day":true}]
}}"#;

/// The machine's export (clock 2 minutes fast), as the attlog text has it.
const ATTLOG: &str = "      17\t2026-03-02 19:02:00\t1\t0\t0\t0\r\n\
      17\t2026-03-03 07:02:00\t1\t1\t0\t0\r\n\
      17\t2026-03-03 19:33:00\t15\t0\t0\t0\r\n\
      17\t2026-03-04 07:05:00\t15\t1\t0\t0\r\n\
      17\t2026-03-04 19:02:00\t1\t0\t0\t0\r\n";

async fn setup() -> Month {
    let mut env = Env::new();
    let clock = ManualClock::starting_at(wib(1, 9, 0));
    env.state = AppState::open_with_clock(&env.config, clock.clone()).unwrap();
    let router = env.router();
    let m = Month {
        env,
        clock,
        router,
        seed: std::cell::Cell::new(9000),
    };
    cli(
        db(&m),
        &["admin", "init", "--person", ADMIN, "--name", "Admin BKPSDM"],
    );
    let table = write(&m, "tabel.json", TABLE);
    admin(
        &m,
        &[
            "pemda",
            "set",
            "--name",
            "Kabupaten Contoh",
            "--deduction-table",
            &table,
            "--reason",
            "Perbup uji",
        ],
    );
    let offices = write(
        &m,
        "kantor.csv",
        "id,nama,utc_offset_menit,lat,lon,radius_m\nrsud,RSUD Contoh,420,-3.7800,102.2700,150\n",
    );
    admin(&m, &["import", "offices", "--file", &offices]);
    let k = write(&m, "kominfo.json", KOMINFO_SCHEDULE);
    admin(&m, &["office", "schedule", "--id", OFFICE, "--file", &k]);
    let r = write(&m, "rsud.json", RSUD_SCHEDULE);
    admin(&m, &["office", "schedule", "--id", "rsud", "--file", &r]);
    let holidays = write(
        &m,
        "libur.csv",
        "tanggal,nama,jenis\n2026-03-19,Hari Suci Nyepi,libur_nasional\n\
         20-03-2026,Idul Fitri 1447 H,libur_nasional\n2026-03-23,Cuti bersama Idul Fitri,cuti_bersama\n",
    );
    admin(&m, &["import", "holidays", "--file", &holidays]);
    let people = write(
        &m,
        "pegawai.csv",
        &format!(
            "jenis_id,id,nama,unit_id,unit_nama,kantor,atasan,tpp\n\
             nip,{NIP_A},Budi,diskominfo,Dinas Kominfo,{OFFICE},{NIP_B},5.000.000\n\
             nip,{NIP_B},Siti,diskominfo,Dinas Kominfo,{OFFICE},,Rp 4.000.000\n\
             nip,{NIP_D},Dewi,diskominfo,Dinas Kominfo,{OFFICE},{NIP_B},3000000\n\
             non_asn,{NON_ASN_C},Andi,rsud,RSUD Contoh,rsud,,\n"
        ),
    );
    admin(&m, &["import", "people", "--file", &people]);
    admin(
        &m,
        &[
            "machine",
            "set",
            "--id",
            "MESIN-RSUD-1",
            "--office",
            "rsud",
            "--clock-offset-seconds",
            "120",
            "--reason",
            "jam mesin 2 menit lebih cepat",
        ],
    );
    m
}

fn read_xlsx(path: &Path) -> serde_json::Value {
    let python = std::env::var("HADIR_PY_XLSX").unwrap_or_else(|_| {
        format!(
            "{}/../target/py-xlsx/bin/python",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let script = format!(
        "{}/../tests/python/read_xlsx.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e}; run scripts/setup.sh (openpyxl venv)"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The row of a sheet whose NIP/ID column holds `id`, as (header → cell).
fn person_row(
    book: &serde_json::Value,
    sheet: &str,
    id: &str,
) -> std::collections::HashMap<String, serde_json::Value> {
    let rows = book["sheets"][sheet]
        .as_array()
        .unwrap_or_else(|| panic!("no sheet {sheet}: {book}"));
    let header_at = rows
        .iter()
        .position(|r| r.as_array().unwrap().iter().any(|c| c == "Nama"))
        .expect("a header row");
    let header: Vec<String> = rows[header_at]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap_or_default().to_string())
        .collect();
    let row = rows[header_at + 1..]
        .iter()
        .find(|r| r.as_array().unwrap().iter().any(|c| c == id))
        .unwrap_or_else(|| panic!("{id} not in sheet {sheet}"));
    header
        .into_iter()
        .zip(row.as_array().unwrap().iter().cloned())
        .collect()
}

fn num(row: &std::collections::HashMap<String, serde_json::Value>, column: &str) -> f64 {
    row.get(column)
        .unwrap_or_else(|| panic!("no column {column}: {row:?}"))
        .as_f64()
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_counted_from_check_ins_machines_and_corrections_matches_the_hand_count() {
    use AttendanceKind::{CheckIn, CheckOut};
    let m = setup().await;
    let (budi, siti, dewi) = (nip(NIP_A), nip(NIP_B), nip(NIP_D));
    let (pb, ps, pd) = (
        m.enroll(&budi).await,
        m.enroll(&siti).await,
        m.enroll(&dewi).await,
    );

    // Budi: the band edges (Ramadan 08:00–15:00, Friday 15:30).
    for (d, (ih, im), out) in [
        (2, (8, 30), Some((15, 0))),
        (3, (8, 31), Some((15, 0))),
        (4, (9, 0), Some((15, 0))),
        (5, (9, 1), Some((15, 0))),
        (6, (9, 30), Some((15, 30))),
        (9, (9, 31), Some((15, 0))),
        (10, (8, 0), Some((14, 30))),
        (11, (8, 0), Some((14, 29))),
        (12, (8, 0), None),
        (25, (7, 30), Some((16, 0))),
        (26, (7, 30), Some((16, 0))),
        (31, (7, 31), Some((16, 0))),
    ] {
        m.check_in(&pb, &budi, CheckIn, wib(d, ih, im)).await;
        if let Some((oh, om)) = out {
            m.check_in(&pb, &budi, CheckOut, wib(d, oh, om)).await;
        }
    }
    let overturned = m.check_in(&pb, &budi, CheckIn, wib(13, 8, 0)).await;
    m.check_in(&pb, &budi, CheckOut, wib(13, 15, 30)).await;
    // Siti and Dewi on the 2nd; Dewi's arrival from 500 m away is rejected.
    m.check_in(&ps, &siti, CheckIn, wib(2, 8, 0)).await;
    m.check_in(&ps, &siti, CheckOut, wib(2, 15, 0)).await;
    let outside = m
        .check_in_late(&pd, &dewi, CheckIn, wib(2, 7, 55), 500.0, 2_000)
        .await;
    assert_eq!(outside.status, CheckInStatus::Rejected, "{outside:?}");
    m.check_in(&pd, &dewi, CheckOut, wib(2, 15, 0)).await;

    // The corrections, as an admin makes them.
    let leave = admin(
        &m,
        &[
            "leave",
            "add",
            "--person",
            NIP_A,
            "--kind",
            "cuti",
            "--from",
            "2026-03-27",
            "--to",
            "2026-03-30",
            "--note",
            "800/12/2026",
        ],
    );
    admin(
        &m,
        &[
            "leave",
            "add",
            "--person",
            NIP_B,
            "--kind",
            "cuti",
            "--from",
            "2026-03-03",
            "--to",
            "2026-03-31",
            "--note",
            "cuti besar",
        ],
    );
    // Recorded on the wrong dates first, then corrected: only the correction counts.
    let wrong = admin(
        &m,
        &[
            "leave",
            "add",
            "--person",
            NIP_D,
            "--kind",
            "dinas_luar",
            "--from",
            "2026-03-04",
            "--to",
            "2026-03-06",
            "--note",
            "ST 090/1",
        ],
    );
    admin(
        &m,
        &[
            "leave",
            "correct",
            "--leave",
            &wrong,
            "--kind",
            "dinas_luar",
            "--from",
            "2026-03-03",
            "--to",
            "2026-03-31",
            "--note",
            "ST 090/1",
            "--reason",
            "tanggal ST salah ketik",
        ],
    );
    admin(
        &m,
        &[
            "attendance",
            "add",
            "--person",
            NIP_A,
            "--date",
            "2026-03-24",
            "--reason",
            "dinas ke provinsi, ST 090/7",
        ],
    );
    admin(
        &m,
        &[
            "checkin",
            "overturn",
            "--id",
            &overturned.checkin_id,
            "--reason",
            "foto bukan yang bersangkutan",
        ],
    );
    admin(
        &m,
        &[
            "checkin",
            "accept",
            "--id",
            &outside.checkin_id,
            "--reason",
            "apel di halaman belakang kantor",
        ],
    );
    admin(
        &m,
        &[
            "manipulation",
            "record",
            "--person",
            NIP_B,
            "--month",
            "2026-03",
            "--reason",
            "BAP Inspektorat 700/3",
        ],
    );
    let users = write(
        &m,
        "peta.csv",
        &format!("user_id,orang\n17,non_asn:{NON_ASN_C}\n"),
    );
    let attlog = write(&m, "1_attlog.dat", ATTLOG);
    admin(
        &m,
        &[
            "import",
            "attlog",
            "--machine",
            "MESIN-RSUD-1",
            "--file",
            &attlog,
            "--users",
            &users,
        ],
    );
    // The machine's export is cumulative: importing it again counts nothing twice.
    admin(
        &m,
        &[
            "import",
            "attlog",
            "--machine",
            "MESIN-RSUD-1",
            "--file",
            &attlog,
        ],
    );
    let _ = leave;

    let xlsx = m.env.dir.path().join("rekap.xlsx");
    admin(
        &m,
        &[
            "recap",
            "export",
            "--month",
            "2026-03",
            "--xlsx",
            xlsx.to_str().unwrap(),
        ],
    );
    let book = read_xlsx(&xlsx);

    let budi_row = person_row(&book, "diskominfo", NIP_A);
    let expected_budi = [
        ("Hari kerja", 19.0),
        ("Hadir", 14.0),
        ("Dispensasi", 1.0),
        ("TL1", 2.0),
        ("TL2", 2.0),
        ("TL3", 2.0),
        ("TL4", 2.0),
        ("PSW1", 1.0),
        ("PSW2", 1.0),
        ("PSW3", 0.0),
        ("PSW4", 1.0),
        ("TK", 3.0),
        ("Cuti", 2.0),
        ("Potongan (%)", 20.5),
        ("Dibayar (%)", 79.5),
        ("TPP (Rp)", 5_000_000.0),
        ("Bagian kehadiran (Rp)", 2_000_000.0),
        ("Dibayar (Rp)", 1_590_000.0),
    ];
    for (column, want) in expected_budi {
        assert_eq!(num(&budi_row, column), want, "Budi {column}: {budi_row:?}");
    }
    let siti_row = person_row(&book, "diskominfo", NIP_B);
    for (column, want) in [
        ("Hari kerja", 19.0),
        ("Hadir", 1.0),
        ("TK", 0.0),
        ("Cuti", 18.0),
        ("Dibayar (%)", 0.0),
        ("Bagian kehadiran (Rp)", 1_600_000.0),
        ("Dibayar (Rp)", 0.0),
    ] {
        assert_eq!(num(&siti_row, column), want, "Siti {column}: {siti_row:?}");
    }
    assert_eq!(siti_row["Manipulasi"], "Ya");
    let dewi_row = person_row(&book, "diskominfo", NIP_D);
    for (column, want) in [
        ("Hadir", 1.0),
        ("TL4", 0.0),
        ("TK", 0.0),
        ("Dinas luar", 18.0),
        ("Potongan (%)", 0.0),
        ("Dibayar (Rp)", 1_200_000.0),
    ] {
        assert_eq!(num(&dewi_row, column), want, "Dewi {column}: {dewi_row:?}");
    }
    let andi_row = person_row(&book, "rsud", NON_ASN_C);
    for (column, want) in [
        ("Hari kerja", 19.0),
        ("Hadir", 3.0),
        ("Mesin", 3.0),
        ("TL2", 1.0),
        ("PSW4", 1.0),
        ("PSW1", 0.0),
        ("TK", 16.0),
        ("Potongan (%)", 50.5),
        ("Dibayar (%)", 49.5),
    ] {
        assert_eq!(num(&andi_row, column), want, "Andi {column}: {andi_row:?}");
    }
    assert!(
        andi_row["Dibayar (Rp)"].is_null(),
        "unknown TPP stays blank: {andi_row:?}"
    );
    assert!(budi_row["NIP/ID"].is_string(), "ids are text");
    assert!(
        budi_row["Koreksi"]
            .as_str()
            .unwrap_or_default()
            .contains('#'),
        "the corrections that applied are named: {budi_row:?}"
    );

    // Closing on 1 April (on the test's clock, as the server sees it): the snapshot is
    // what the month paid, whatever arrives later.
    m.clock.set(april_2nd_9am() - 86_400_000);
    let (close_seq, _) = hadir_server::month::close::close(
        &m.admin_store(),
        ADMIN,
        hadir_recap::model::Month {
            year: 2026,
            month: 3,
        },
        "rekap TPP Maret dikirim",
    )
    .unwrap();
    assert!(close_seq > 1);
    let refused = admin_fails(
        &m,
        &[
            "attendance",
            "add",
            "--person",
            NIP_A,
            "--date",
            "2026-03-16",
            "--reason",
            "terlambat diajukan",
        ],
    );
    assert!(refused.contains("MONTH_CLOSED"), "{refused}");
    // An offline phone delivers Budi's 16 March check-in on 2 April.
    let late = m
        .check_in_late(
            &pb,
            &budi,
            CheckIn,
            wib(16, 8, 0),
            0.0,
            april_2nd_9am() - wib(16, 8, 0),
        )
        .await;
    assert!(late.status.counts_as_attendance(), "{late:?}");
    let review = admin(&m, &["review", "list", "--month", "2026-03"]);
    assert!(
        review
            .lines()
            .any(|l| l.starts_with("late_checkin") && l.contains(&late.checkin_id)),
        "{review}"
    );
    let closed = admin(&m, &["recap", "show", "--month", "2026-03"]);
    let budi_line = closed.lines().find(|l| l.contains(NIP_A)).unwrap();
    assert!(
        closed.starts_with("# Kabupaten Contoh 2026-03 TERKUNCI"),
        "{closed}"
    );
    assert!(
        budi_line.contains("\t2050\t7950\t1590000\t"),
        "closed month unchanged: {budi_line}"
    );
    admin(
        &m,
        &[
            "month",
            "reopen",
            "--month",
            "2026-03",
            "--reason",
            "keberatan Budi diterima",
        ],
    );
    let reopened = admin(&m, &["recap", "show", "--month", "2026-03"]);
    let budi_line = reopened.lines().find(|l| l.contains(NIP_A)).unwrap();
    // The 16th now counts, without a check-out: TK 2, PSW4 +1 (1900 bp), paid 81.00 %
    // = 1,620,000.
    assert!(
        budi_line.contains("\t1900\t8100\t1620000\t"),
        "reopened month recounted: {budi_line}"
    );

    // Siti's appeal succeeds: the manipulation decision is withdrawn (the row stays).
    let manipulation_seq = admin(&m, &["audit", "list", "--month", "2026-03"])
        .lines()
        .find(|l| l.contains("\tmanipulation\t"))
        .and_then(|l| l.split('\t').next())
        .map(|n| n.trim_start_matches('#').to_string())
        .unwrap();
    admin(
        &m,
        &[
            "manipulation",
            "revoke",
            "--correction",
            &manipulation_seq,
            "--reason",
            "banding diterima",
        ],
    );
    let after_appeal = admin(&m, &["recap", "show", "--month", "2026-03"]);
    let siti_line = after_appeal.lines().find(|l| l.contains(NIP_B)).unwrap();
    assert!(siti_line.contains("\t0\t10000\t1600000\t"), "{siti_line}");

    // The audit chain: intact; then an admin added and a reason edited behind the tool's
    // back are both named.
    let verified = admin(&m, &["audit", "verify"]);
    assert!(verified.contains("head\t#"), "{verified}");
    let conn = rusqlite::Connection::open(db(&m)).unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO admins (person_key, added_seq) VALUES ('nip:{NIP_A}', 1); \
         DROP TRIGGER corrections_append_only_update; \
         UPDATE corrections SET reason = 'dinas' WHERE kind = 'manipulation';"
    ))
    .unwrap();
    drop(conn);
    let out = common::live::run_cli(db(&m), &["audit", "verify", "--admin", ADMIN]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !out.status.success() && stderr.contains("AUDIT_CHAIN_BROKEN"),
        "{stderr}"
    );
    assert!(stdout.contains("was changed"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "admin nip:{NIP_A} is in the admins table but no row made them one"
        )),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_months_paid_snapshot_edited_by_hand_is_caught() {
    let m = setup().await;
    m.clock.set(april_2nd_9am());
    hadir_server::month::close::close(
        &m.admin_store(),
        ADMIN,
        hadir_recap::model::Month {
            year: 2026,
            month: 3,
        },
        "rekap TPP Maret dikirim",
    )
    .unwrap();
    // A month not over cannot be closed.
    let early = hadir_server::month::close::close(
        &m.admin_store(),
        ADMIN,
        hadir_recap::model::Month {
            year: 2026,
            month: 4,
        },
        "terlalu awal",
    )
    .unwrap_err();
    assert!(early.to_string().contains("MONTH_NOT_OVER"), "{early}");
    assert!(admin(&m, &["audit", "verify"]).contains("head\t#"));
    let conn = rusqlite::Connection::open(db(&m)).unwrap();
    conn.execute("UPDATE month_locks SET snapshot = CAST('{}' AS BLOB)", [])
        .unwrap();
    drop(conn);
    let out = common::live::run_cli(db(&m), &["audit", "verify", "--admin", ADMIN]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("the paid snapshot of 2026-03 is not the one row"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_unit_refuses_phone_check_ins_made_after_the_switch_and_says_why() {
    use AttendanceKind::CheckIn;
    let m = setup().await;
    let budi = nip(NIP_A);
    let phone = m.enroll(&budi).await;
    // Made offline at 08:00, before the switch at 09:00; delivered at 10:00.
    m.clock.set(wib(2, 9, 0));
    hadir_server::month::corrections::freeze(
        &m.admin_store(),
        ADMIN,
        Some("diskominfo"),
        true,
        "evaluasi aplikasi oleh BKPSDM",
    )
    .unwrap();
    let before = m
        .check_in_late(
            &phone,
            &budi,
            CheckIn,
            wib(2, 8, 0),
            0.0,
            wib(2, 10, 0) - wib(2, 8, 0),
        )
        .await;
    assert!(before.status.counts_as_attendance(), "{before:?}");
    let after = m
        .check_in_late(&phone, &budi, CheckIn, wib(2, 10, 5), 0.0, 2_000)
        .await;
    assert_eq!(after.status, CheckInStatus::Rejected);
    assert_eq!(after.codes, vec!["PHONE_ATTENDANCE_SUSPENDED".to_string()]);
    assert!(
        after.message.contains("evaluasi aplikasi oleh BKPSDM"),
        "{}",
        after.message
    );
    // The phone learns it from its config.
    let r = send(
        &m.router,
        m.request(&phone, &phone.device_id, "GET", "/v1/config", vec![]),
    )
    .await;
    let config: hadir_core::api::DeviceConfig = serde_json::from_slice(&r.body).unwrap();
    let me = config.people.iter().find(|p| p.person == budi).unwrap();
    assert_eq!(
        me.phone_suspended.as_ref().map(|s| s.reason.as_str()),
        Some("evaluasi aplikasi oleh BKPSDM")
    );
    m.clock.set(wib(2, 14, 0));
    hadir_server::month::corrections::freeze(
        &m.admin_store(),
        ADMIN,
        Some("diskominfo"),
        false,
        "evaluasi selesai",
    )
    .unwrap();
    // Made offline while the switch was on, delivered after it was lifted: still refused.
    let inside_window = m
        .check_in_late(
            &phone,
            &budi,
            AttendanceKind::BreakStart,
            wib(2, 12, 0),
            0.0,
            wib(2, 14, 50) - wib(2, 12, 0),
        )
        .await;
    assert_eq!(
        inside_window.codes,
        vec!["PHONE_ATTENDANCE_SUSPENDED".to_string()],
        "{inside_window:?}"
    );
    let resumed = m
        .check_in_late(
            &phone,
            &budi,
            AttendanceKind::CheckOut,
            wib(2, 15, 0),
            0.0,
            2_000,
        )
        .await;
    assert!(resumed.status.counts_as_attendance(), "{resumed:?}");
}
