//! The demo phone: a real core client that enrolls with an enrollment code, checks in
//! inside and outside the office geofence, records one check-in while the server is
//! unreachable and syncs it later, printing what the phone saw and what the server
//! decided. With a supervisor's code, the supervisor then opens the team on a second
//! phone and receives the person's next check-in live. Run by `scripts/demo.sh`
//! against a freshly started server.
//!
//! Usage: `demo-phone --server URL --code CODE --nip NIP [--db PATH]
//! [--supervisor-code CODE --supervisor-nip NIP]`

use std::sync::Arc;

use hadir_core::api::CheckInStatus;
use hadir_core::api::TeamMember;
use hadir_core::clock::SystemClock;
use hadir_core::fix::{FixProvider, GpsFix};
use hadir_core::geofence::{LatLon, ZoneShape};
use hadir_core::ids::{DeviceLabel, PersonId, PersonIdKind};
use hadir_core::wire::AttendanceKind;
use hadir_device::device::{CheckInRequest, Device, DeviceSettings, SyncReport};
use hadir_e2e::unused_loopback_addr;
use hadir_test_support::portrait_jpeg;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn open(db: &std::path::Path, url: &str) -> Device {
    let mut settings = DeviceSettings::new(db, url);
    settings.app_version = "demo-phone 0.1.0".into();
    settings.platform = "demo".into();
    // A short in-pass retry keeps the offline step quick.
    settings.retry.attempts_per_pass = 2;
    settings.retry.in_pass_base_ms = 100;
    Device::open(settings, None, Arc::new(SystemClock::default())).unwrap_or_else(|e| {
        eprintln!("cannot open the phone's store: {e}");
        std::process::exit(1)
    })
}

fn print_report(report: &SyncReport) {
    for r in &report.results {
        let verdict = match r.status {
            CheckInStatus::Accepted => "DITERIMA",
            CheckInStatus::AcceptedWithFlags => "DITERIMA (dengan catatan)",
            CheckInStatus::Rejected => "DITOLAK",
            CheckInStatus::RetryLater => "BELUM DIPUTUSKAN",
            CheckInStatus::Unknown => "TIDAK DIKENAL (perbarui aplikasi)",
        };
        let codes = if r.codes.is_empty() {
            String::new()
        } else {
            format!(" {}", r.codes.join(", "))
        };
        println!("   server: {verdict}{codes} — {}", r.message);
    }
    if let Some((code, message)) = &report.error {
        println!("   sync berhenti: {code} — {message}");
    }
    println!("   antrean: {} belum terkirim", report.pending);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(server), Some(code), Some(nip)) = (
        arg(&args, "--server"),
        arg(&args, "--code"),
        arg(&args, "--nip"),
    ) else {
        eprintln!("usage: demo-phone --server URL --code CODE --nip NIP [--db PATH]");
        std::process::exit(2);
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = arg(&args, "--db")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("phone.db"));
    let person = PersonId::parse(PersonIdKind::Nip, &nip).unwrap_or_else(|e| {
        eprintln!("{}", e.message());
        std::process::exit(2)
    });

    println!("1. Mendaftarkan perangkat dengan kode {code}");
    let phone = open(&db, &server);
    let enrolled = phone
        .enroll(
            &code,
            person.clone(),
            DeviceLabel::PlatformId("demo-phone".into()),
        )
        .await
        .unwrap_or_else(|e| {
            eprintln!("   gagal: {} — {}", e.code(), e.staff_message());
            std::process::exit(1)
        });
    println!(
        "   terdaftar: {} ({}), perangkat {}",
        enrolled.display_name,
        if enrolled.is_device_owner {
            "pemilik"
        } else {
            "pengguna bersama"
        },
        phone.device_id().unwrap().unwrap_or_default()
    );
    let config = phone.config().expect("config after enrollment");
    let office = &config.offices[0];
    let centre = match &office.zones[0].shape {
        ZoneShape::Circle { center, .. } => *center,
        ZoneShape::Polygon { rings } => LatLon::new(rings[0][0][1], rings[0][0][0]),
    };
    // The steps happen seconds apart here but minutes apart in a real morning: the fixes
    // are dated a minute apart (within the two minutes a fix stays fresh) so walking
    // 300 m between them is not impossible travel.
    let fix_at = |phone: &Device, lat: f64, lon: f64, minutes_ago: i64| GpsFix {
        latitude: lat,
        longitude: lon,
        accuracy_m: 9.0,
        fix_time_ms: phone.anchored_now_ms().expect("the system clock reads")
            - minutes_ago * 55_000,
        provider: FixProvider::Fused,
        is_mock: false,
    };
    let check_in = |phone: &Device, fix: GpsFix, kind: AttendanceKind, seed: u64| {
        let check = phone.check_location(&person, &fix).expect("verdict");
        println!("   sebelum kamera: {}", check.staff_message());
        let receipt = phone
            .check_in_blocking(CheckInRequest {
                person: person.clone(),
                kind,
                fix,
                selfie_jpeg: portrait_jpeg(seed),
                qr_token: None,
            })
            .expect("recorded");
        println!(
            "   tercatat di ponsel: {} ({}), antrean {}",
            receipt.checkin_id,
            kind.label(),
            receipt.pending_count
        );
    };

    println!("2. Absen masuk di dalam area {}", office.name);
    check_in(
        &phone,
        fix_at(&phone, centre.latitude, centre.longitude, 2),
        AttendanceKind::CheckIn,
        1,
    );
    print_report(&phone.sync_now(false).await.expect("sync"));
    if let Ok(Some(next)) = phone.next_expected(&person) {
        println!("   berikutnya: {}", next.staff_message);
    }

    println!("3. Absen dari luar area (sekitar 330 m di utara titik tengah kantor)");
    check_in(
        &phone,
        fix_at(&phone, centre.latitude + 0.003, centre.longitude, 1),
        AttendanceKind::BreakStart,
        2,
    );
    print_report(&phone.sync_now(false).await.expect("sync"));
    drop(phone);

    println!("4. Tanpa sinyal: absen kembali dicatat di ponsel, server tidak terjangkau");
    let offline = open(&db, &format!("http://{}", unused_loopback_addr()));
    check_in(
        &offline,
        fix_at(&offline, centre.latitude, centre.longitude, 0),
        AttendanceKind::BreakEnd,
        3,
    );
    print_report(&offline.sync_now(true).await.expect("sync"));
    drop(offline);

    println!("5. Sinyal kembali: antrean dikirim");
    let phone = open(&db, &server);
    print_report(&phone.sync_now(true).await.expect("sync"));
    println!("Riwayat di ponsel:");
    for h in phone.history(None, 10).expect("history").iter().rev() {
        println!(
            "   {} {:<11} {:<9} {}",
            h.checkin_id,
            h.kind,
            h.state,
            h.result_code.clone().unwrap_or_default()
        );
    }

    let (Some(boss_code), Some(boss_nip)) = (
        arg(&args, "--supervisor-code"),
        arg(&args, "--supervisor-nip"),
    ) else {
        return;
    };
    let boss_id = PersonId::parse(PersonIdKind::Nip, &boss_nip).unwrap_or_else(|e| {
        eprintln!("{}", e.message());
        std::process::exit(2)
    });
    let boss = Arc::new(open(&dir.path().join("supervisor.db"), &server));
    let me = boss
        .enroll(
            boss_code.trim(),
            boss_id.clone(),
            DeviceLabel::PlatformId("demo-supervisor-phone".into()),
        )
        .await
        .unwrap_or_else(|e| {
            eprintln!("   gagal: {} — {}", e.code(), e.staff_message());
            std::process::exit(1)
        });
    println!(
        "6. Atasan {} mendaftarkan ponselnya sendiri ({}) dan membuka timnya",
        me.display_name,
        if me.is_supervisor {
            "pemilik, atasan"
        } else {
            "pemilik"
        }
    );
    let offset = office.utc_offset_minutes;
    let schedule = config.schedule(&office.id);
    let now = boss.anchored_now_ms().expect("the system clock reads");
    let today_plan = schedule.day(hadir_core::schedule::local_date(now, offset));
    let times: Vec<String> = today_plan
        .times
        .iter()
        .map(|t| format!("{} {}", hadir_core::schedule::lower_label(t.kind), t.at))
        .collect();
    println!(
        "   jadwal hari ini: {}; sekarang pukul {}",
        if times.is_empty() {
            "libur".to_string()
        } else {
            times.join(", ")
        },
        local_hh_mm(now, offset)
    );
    let team = boss
        .team_attendance(&boss_id, None)
        .await
        .unwrap_or_else(|e| {
            eprintln!("   gagal: {} — {}", e.code(), e.staff_message());
            std::process::exit(1)
        });
    println!("   tim pada {}:", team.date);
    for m in &team.members {
        print_member(m, offset);
    }

    println!(
        "7. Pantauan langsung: {} absen pulang",
        enrolled.display_name
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = {
        let boss = boss.clone();
        let cursor = team.cursor;
        tokio::spawn(async move {
            boss.watch_team(
                &boss_id,
                Some(cursor),
                move |e| {
                    let _ = tx.send(e);
                },
                |_| {},
            )
            .await
        })
    };
    check_in(
        &phone,
        fix_at(&phone, centre.latitude, centre.longitude, 0),
        AttendanceKind::CheckOut,
        4,
    );
    print_report(&phone.sync_now(true).await.expect("sync"));
    match tokio::time::timeout(std::time::Duration::from_secs(30), rx.recv()).await {
        Ok(Some(event)) => {
            println!(
                "   diterima atasan seketika: {} {} pukul {}",
                event.member.display_name,
                hadir_core::schedule::lower_label(event.checkin.kind),
                local_hh_mm(event.checkin.trusted_time_ms.unwrap_or_default(), offset)
            );
            print_member(&event.member, offset);
        }
        _ => println!("   (tidak ada kabar dari server dalam 30 detik)"),
    }
    watcher.abort();
}

/// `HH:MM` office-local time of an instant.
fn local_hh_mm(ms: i64, utc_offset_minutes: i32) -> String {
    let minutes = (ms / 60_000 + i64::from(utc_offset_minutes)).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn print_member(m: &TeamMember, offset: i32) {
    let late = m
        .late_minutes
        .map(|n| format!(" {n} menit"))
        .unwrap_or_default();
    let flag = if m.flagged { ", perlu ditinjau" } else { "" };
    let codes = if m.deviation_codes.is_empty() {
        String::new()
    } else {
        format!(" ({})", m.deviation_codes.join(", "))
    };
    let times: Vec<String> = m
        .checkins
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                hadir_core::schedule::lower_label(c.kind),
                local_hh_mm(c.trusted_time_ms.unwrap_or_default(), offset),
                if c.status == CheckInStatus::Rejected {
                    " (ditolak)"
                } else {
                    ""
                }
            )
        })
        .collect();
    println!(
        "   - {}: {}{late}{codes}{flag} [{}]",
        m.display_name,
        m.state.label(),
        times.join(", ")
    );
}
