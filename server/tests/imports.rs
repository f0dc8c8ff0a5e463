//! The import parsers on real files (`tests/data/imports/`): good files of each kind
//! (including one as Excel saves it: BOM, `;`, CRLF), and bad files where every error's
//! line and code is asserted, so a missed or an invented error fails the test.

use std::path::PathBuf;

use chrono::NaiveDate;
use hadir_core::geofence::{DEFAULT_MAX_ACCURACY_M, LatLon, ZoneShape};
use hadir_core::ids::PersonIdKind;
use hadir_server::month::attlog::{MachinePunch, parse_attlog, parse_user_map, verify_mode_label};
use hadir_server::month::imports::{
    HolidayKind, ImportError, MAX_ERRORS, parse_holidays, parse_offices_csv, parse_offices_geojson,
    parse_people,
};

fn data(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "imports", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every error as (line, code), in order; panics with the messages on an `Ok`.
fn where_and_what(errors: &[ImportError]) -> Vec<(u64, &'static str)> {
    errors.iter().map(|e| (e.line, e.code)).collect()
}

fn errors_of<T: std::fmt::Debug>(result: Result<T, Vec<ImportError>>) -> Vec<ImportError> {
    let errors = result.expect_err("the file must be refused");
    for e in &errors {
        println!("{e}");
    }
    errors
}

#[test]
fn a_good_people_file_yields_every_row() {
    let rows = parse_people("orang.csv", &data("people_good.csv")).unwrap();
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(
        lines,
        [2, 3, 5, 6],
        "the blank line 4 is skipped, lines kept"
    );

    let sri = &rows[0];
    assert_eq!(sri.id.to_string(), "nip:197803212005012002");
    assert_eq!(sri.name, "Sri Wahyuni, S.Kom.");
    assert_eq!(sri.unit_id, "diskominfo", "unit ids are lowered");
    assert_eq!(sri.unit_name, "Dinas Komunikasi, Informatika dan Statistik");
    assert_eq!(sri.offices, ["kominfo-bengkulu"]);
    assert_eq!(sri.supervisor, None);
    assert_eq!(sri.tpp_rupiah, Some(9_250_000));

    let andi = &rows[1];
    assert_eq!(andi.offices, ["kominfo-bengkulu", "kominfo-annex"]);
    assert_eq!(andi.supervisor.as_deref(), Some("nip:197803212005012002"));
    assert_eq!(andi.tpp_rupiah, Some(7_500_000));

    let rina = &rows[2];
    assert_eq!(rina.id.kind(), PersonIdKind::NiPppk);
    assert_eq!(rina.supervisor.as_deref(), Some("197803212005012002"));
    assert_eq!(rina.tpp_rupiah, Some(4_500_000));

    let budi = &rows[3];
    assert_eq!(budi.id.to_string(), "non_asn:HON-2024/0017");
    assert_eq!(
        budi.supervisor.as_deref(),
        Some("ni_pppk:199009132025242014"),
        "a kind:value supervisor is written back canonical"
    );
    assert_eq!(budi.tpp_rupiah, None, "an empty TPP is unknown, not zero");
}

#[test]
fn a_people_file_as_excel_saves_it_reads_the_same() {
    let rows = parse_people("orang.csv", &data("people_excel.csv")).unwrap();
    assert_eq!(rows.len(), 2, "the row of bare semicolons is blank");
    assert_eq!(rows[0].line, 2);
    assert_eq!(
        rows[0].name, "Sri Wahyuni; S.Kom.",
        "BOM stripped, quotes kept"
    );
    assert_eq!(rows[0].id.to_string(), "nip:197803212005012002");
    assert_eq!(rows[1].line, 3);
    assert_eq!(rows[1].name, "Andi Saputra", "no trailing \\r from CRLF");
    assert_eq!(rows[1].tpp_rupiah, Some(7_500_000));
    assert_eq!(
        rows[1].supervisor.as_deref(),
        Some("nip:197803212005012002")
    );
}

#[test]
fn a_bad_people_file_lists_exactly_its_bad_lines() {
    let errors = errors_of(parse_people("orang.csv", &data("people_bad.csv")));
    assert_eq!(
        where_and_what(&errors),
        [
            (3, "IMPORT_FIELD"),
            (7, "IMPORT_FIELD"),
            (9, "IMPORT_DUPLICATE")
        ]
    );
    assert_eq!(
        errors[0].to_string(),
        "orang.csv:3: kolom \"id\": \"19850312201001100\" bukan NIP yang sah: harus tepat 18 \
         digit angka [IMPORT_FIELD]"
    );
    assert_eq!(
        errors[1].message,
        "kolom \"tpp\": \"7.5jt\" bukan angka rupiah (contoh: 7500000, 7.500.000 atau Rp \
         7.500.000; tanpa desimal)"
    );
    assert_eq!(
        errors[2].message,
        "orang nip:198503122010011003 sudah ada di baris 2; setiap baris harus unik"
    );
}

#[test]
fn every_bad_field_of_a_people_file_is_named() {
    let errors = errors_of(parse_people("orang.csv", &data("people_bad_fields.csv")));
    assert_eq!(
        where_and_what(&errors),
        [
            (2, "IMPORT_FIELD"),
            (3, "IMPORT_FIELD"),
            (3, "IMPORT_FIELD"),
            (3, "IMPORT_FIELD"),
            (4, "IMPORT_FIELD"),
            (5, "IMPORT_FIELD"),
            (5, "IMPORT_FIELD"),
            (5, "IMPORT_FIELD"),
            (6, "IMPORT_FIELD"),
        ],
        "line 7's trailing empty field is no error"
    );
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert!(messages[0].starts_with("kolom \"jenis_id\": \"pns\""));
    assert!(messages[1].starts_with("kolom \"nama\" kosong"));
    assert!(messages[2].starts_with("kolom \"unit_id\": \"Unit Baru!\""));
    assert!(messages[3].starts_with("kolom \"kantor\": \"kominfo bengkulu\""));
    assert!(messages[4].contains("orang itu sendiri"));
    assert_eq!(
        messages[5],
        "kolom \"unit_nama\": unit \"dinkes\" bernama \"Dinas Kesehatan\" di baris 4, di sini \
         \"Dinkes Kota\"; satu unit_id harus satu nama"
    );
    assert!(messages[6].starts_with("kolom \"atasan\": \"atasan saya\""));
    assert!(messages[7].starts_with("kolom \"tpp\": \"5.000.000,50\""));
    assert!(messages[8].contains("melebihi batas Rp 1.000.000.000"));
}

#[test]
fn a_wrong_header_names_the_expected_one() {
    let errors = errors_of(parse_people("orang.csv", &data("people_bad_header.csv")));
    assert_eq!(
        where_and_what(&errors),
        [(1, "IMPORT_HEADER"), (1, "IMPORT_HEADER")],
        "Nama matches nama (case-insensitive); only the typo and the missing column count"
    );
    let expected = "header yang benar: jenis_id,id,nama,unit_id,unit_nama,kantor,atasan,tpp (boleh ditambah: mulai)";
    assert_eq!(
        errors[0].message,
        format!("kolom \"tppp\" tidak dikenal; {expected}")
    );
    assert_eq!(
        errors[1].message,
        format!("kolom \"tpp\" tidak ada; {expected}")
    );
}

#[test]
fn encoding_emptiness_and_column_counts_are_errors() {
    let latin1 = b"jenis_id,id,nama,unit_id,unit_nama,kantor,atasan,tpp\n\
                   nip,198503122010011003,Andi,diskominfo,Dinas Kominfo,kominfo,,\n\
                   nip,197803212005012002,Sri Rahay\xfa,diskominfo,Dinas Kominfo,kominfo,,\n";
    let errors = errors_of(parse_people("orang.csv", latin1));
    assert_eq!(where_and_what(&errors), [(3, "IMPORT_ENCODING")]);

    let errors = errors_of(parse_people("orang.csv", b""));
    assert_eq!(where_and_what(&errors), [(0, "IMPORT_EMPTY")]);
    let errors = errors_of(parse_people(
        "orang.csv",
        b"\xef\xbb\xbfjenis_id,id,nama,unit_id,unit_nama,kantor,atasan,tpp\r\n\r\n",
    ));
    assert_eq!(where_and_what(&errors), [(1, "IMPORT_EMPTY")]);

    let short = b"tanggal,nama,jenis\n2026-01-01,Tahun Baru\n";
    let errors = errors_of(parse_holidays("libur.csv", short));
    assert_eq!(where_and_what(&errors), [(2, "IMPORT_FIELD")]);
    assert!(
        errors[0]
            .message
            .starts_with("baris ini berisi 2 kolom, header berisi 3")
    );
}

#[test]
fn a_quoted_newline_keeps_the_following_line_numbers_physical() {
    let text = "tanggal,nama,jenis\n\
                2026-01-01,\"Tahun Baru\nMasehi\",libur_nasional\n\
                2026-13-01,Salah,libur_nasional\n";
    let errors = errors_of(parse_holidays("libur.csv", text.as_bytes()));
    assert_eq!(where_and_what(&errors), [(4, "IMPORT_FIELD")]);

    let crlf = "\r\ntanggal,nama,jenis\r\n\r\n\
                2026-01-01,\"Tahun Baru\r\nMasehi\",libur_nasional\r\n\r\n\r\n\
                2026-13-01,Salah,libur_nasional\r\n2026-01-01,Lagi,libur_nasional\r\n";
    let errors = errors_of(parse_holidays("libur.csv", crlf.as_bytes()));
    assert_eq!(
        where_and_what(&errors),
        [(8, "IMPORT_FIELD"), (9, "IMPORT_DUPLICATE")]
    );
    assert_eq!(
        errors[1].message,
        "tanggal 2026-01-01 sudah ada di baris 4; setiap baris harus unik"
    );
}

#[test]
fn the_error_list_stops_at_the_cap_and_counts_the_rest() {
    let mut text = String::from("tanggal,nama,jenis\n");
    for _ in 0..250 {
        text.push_str("2026-02-30,Salah,libur_nasional\n");
    }
    let errors = errors_of(parse_holidays("libur.csv", text.as_bytes()));
    assert_eq!(errors.len(), MAX_ERRORS + 1);
    assert_eq!(errors[0].line, 2);
    assert_eq!(errors[MAX_ERRORS - 1].line, MAX_ERRORS as u64 + 1);
    assert_eq!(
        errors[MAX_ERRORS].to_string(),
        "libur.csv: dan 50 kesalahan lain [IMPORT_MORE_ERRORS]"
    );
}

#[test]
fn good_office_files_build_validated_offices() {
    let rows = parse_offices_csv("kantor.csv", &data("offices_good.csv")).unwrap();
    assert_eq!(rows.len(), 2);
    let kominfo = &rows[0].office;
    assert_eq!(rows[0].line, 2);
    assert_eq!(kominfo.id, "kominfo-bengkulu");
    assert_eq!(kominfo.name, "Dinas Kominfo Provinsi Bengkulu, Gedung A");
    assert_eq!(kominfo.utc_offset_minutes, 420);
    assert!(kominfo.qr_required);
    assert_eq!(kominfo.max_accuracy_m, DEFAULT_MAX_ACCURACY_M);
    match &kominfo.zones[..] {
        [zone] => match zone.shape {
            ZoneShape::Circle { center, radius_m } => {
                assert_eq!(center, LatLon::new(-3.7956, 102.2592));
                assert_eq!(radius_m, 100.0);
            }
            ref other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(!rows[1].office.qr_required, "an empty wajib_qr is tidak");

    let rows = parse_offices_csv("kantor.csv", &data("offices_excel.csv")).unwrap();
    let ambon = &rows[0].office;
    assert_eq!(ambon.utc_offset_minutes, 540);
    assert_eq!(ambon.max_accuracy_m, 75.0);
    assert!(!ambon.qr_required);
    match ambon.zones[0].shape {
        ZoneShape::Circle { center, .. } => {
            assert_eq!(
                center,
                LatLon::new(-3.6954, 128.1814),
                "decimal commas read"
            )
        }
        ref other => panic!("{other:?}"),
    }

    let rows = parse_offices_geojson("kantor.geojson", &data("offices_good.geojson")).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].office.id, "kominfo-bengkulu");
    assert_eq!(rows[0].office.zones.len(), 1);
    assert_eq!(rows[0].office.zones[0].id, "utama");
    let rsud = &rows[1];
    assert_eq!(rsud.line, 2, "a GeoJSON row carries its feature's number");
    assert_eq!(rsud.office.utc_offset_minutes, 540);
    assert_eq!(rsud.office.max_accuracy_m, 80.0);
    assert!(rsud.office.qr_required);
    let zone_ids: Vec<&str> = rsud.office.zones.iter().map(|z| z.id.as_str()).collect();
    assert_eq!(zone_ids, ["zona-1", "zona-2"], "one zone per polygon");
}

#[test]
fn bad_office_files_list_every_problem() {
    let errors = errors_of(parse_offices_csv("kantor.csv", &data("offices_bad.csv")));
    assert_eq!(
        where_and_what(&errors),
        [
            (2, "IMPORT_FIELD"),
            (2, "IMPORT_FIELD"),
            (3, "IMPORT_FIELD"),
            (4, "IMPORT_FIELD"),
            (5, "IMPORT_DUPLICATE"),
        ]
    );
    assert_eq!(
        errors[0].message,
        "kolom \"lat\": 102.2592 di luar Indonesia (lintang -11 sampai 6); lat dan lon \
         tampaknya tertukar"
    );
    assert!(
        errors[1]
            .message
            .starts_with("kolom \"lon\": -3.7956 di luar Indonesia")
    );
    assert!(
        errors[2]
            .message
            .contains("420 (WIB), 480 (WITA) atau 540 (WIT)")
    );
    assert!(errors[3].message.starts_with("kolom \"radius_m\": \"5\""));
    assert_eq!(
        errors[4].message,
        "kantor \"dinkes\" sudah ada di baris 3; setiap baris harus unik"
    );

    let errors = errors_of(parse_offices_geojson(
        "kantor.geojson",
        &data("offices_bad.geojson"),
    ));
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert!(errors.iter().all(|e| e.line == 0), "features, not lines");
    assert_eq!(messages.len(), 4, "{messages:#?}");
    assert!(messages[0].starts_with("fitur ke-2: properti \"id\": \"\""));
    assert_eq!(
        messages[1],
        "fitur ke-3: geometri harus Polygon atau MultiPolygon, bukan Point"
    );
    assert!(messages[2].starts_with("fitur ke-4: titik [-3.796, 102.259] di luar Indonesia"));
    assert_eq!(
        messages[3],
        "fitur ke-5: kantor \"kominfo-bengkulu\" sudah ada di fitur ke-1"
    );
    assert_eq!(errors[3].code, "IMPORT_DUPLICATE");

    let errors = errors_of(parse_offices_geojson(
        "kantor.geojson",
        b"{\"type\": \"Feature\"}",
    ));
    assert_eq!(where_and_what(&errors), [(0, "IMPORT_HEADER")]);
    let errors = errors_of(parse_offices_geojson("kantor.geojson", b"{\n\"type\": }"));
    assert_eq!(where_and_what(&errors), [(2, "IMPORT_FIELD")]);
}

#[test]
fn holidays_accept_the_spreadsheet_date_forms() {
    let rows = parse_holidays("libur.csv", &data("holidays_good.csv")).unwrap();
    let got: Vec<(u64, NaiveDate, HolidayKind)> =
        rows.iter().map(|r| (r.line, r.date, r.kind)).collect();
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    assert_eq!(
        got,
        [
            (2, d(1, 1), HolidayKind::LiburNasional),
            (3, d(8, 17), HolidayKind::LiburNasional),
            (4, d(12, 24), HolidayKind::CutiBersama),
            (5, d(11, 18), HolidayKind::LiburDaerah),
        ]
    );
    assert_eq!(rows[1].name, "Hari Proklamasi Kemerdekaan RI");

    let errors = errors_of(parse_holidays("libur.csv", &data("holidays_bad.csv")));
    assert_eq!(
        where_and_what(&errors),
        [
            (2, "IMPORT_FIELD"),
            (3, "IMPORT_FIELD"),
            (4, "IMPORT_DUPLICATE"),
            (5, "IMPORT_FIELD"),
        ]
    );
    assert!(
        errors[0]
            .message
            .starts_with("kolom \"tanggal\": \"2026-02-30\"")
    );
    assert!(errors[1].message.starts_with("kolom \"jenis\": \"libur\""));
    assert_eq!(
        errors[2].message, "tanggal 20/03/2026 sudah ada di baris 3; setiap baris harus unik",
        "the same day in another form is still a duplicate"
    );
}

#[test]
fn a_machine_log_in_the_usb_layout_is_read() {
    let parsed = parse_attlog("1_attlog.dat", &data("1_attlog.dat")).unwrap();
    let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    let punch = |line, user: &str, local: &str, verify_mode| MachinePunch {
        line,
        user_id: user.to_string(),
        local: at(local),
        verify_mode,
    };
    assert_eq!(
        parsed.punches,
        [
            punch(1, "1", "2026-10-05 07:29:03", 15),
            punch(2, "2", "2026-10-05 07:31:44", 1),
            punch(4, "1", "2026-10-05 16:02:10", 15),
            punch(6, "105", "2026-10-05 07:45:00", 4),
        ],
        "the blank line 3 skipped, line 5 repeats line 1"
    );
    assert_eq!(parsed.duplicates_in_file, 1);
    assert_eq!(verify_mode_label(parsed.punches[0].verify_mode), "wajah");
    assert_eq!(
        verify_mode_label(parsed.punches[1].verify_mode),
        "sidik jari"
    );
}

#[test]
fn a_bad_machine_log_lists_every_bad_line() {
    let errors = errors_of(parse_attlog("1_attlog.dat", &data("attlog_bad.dat")));
    assert_eq!(
        where_and_what(&errors),
        [
            (2, "IMPORT_FIELD"),
            (3, "IMPORT_FIELD"),
            (4, "IMPORT_FIELD"),
            (5, "IMPORT_FIELD"),
        ]
    );
    assert!(errors[0].message.starts_with("tanggal \"2026-13-05\""));
    assert!(errors[1].message.starts_with("jam \"25:00:00\""));
    assert!(errors[2].message.starts_with("2 kolom setelah jam"));
    assert!(errors[3].message.starts_with("mode verifikasi \"X\""));

    let glg = b"No\tMchn\tEnNo\t\tName\t\tMode\tIOMd\tDateTime\t\r\n\
                000001\t1\t000000052\tHenrique\t1\t0\t2025/12/01  07:41:00\r\n";
    let errors = errors_of(parse_attlog("GLG_001.TXT", glg));
    assert_eq!(where_and_what(&errors), [(1, "IMPORT_HEADER")]);
    let errors = errors_of(parse_attlog("1_attlog.dat", b"\r\n\r\n"));
    assert_eq!(where_and_what(&errors), [(0, "IMPORT_EMPTY")]);
}

#[test]
fn the_user_map_links_machine_ids_to_people() {
    let rows = parse_user_map("pengguna.csv", &data("user_map.csv")).unwrap();
    let got: Vec<(u64, &str, &str)> = rows
        .iter()
        .map(|r| (r.line, r.user_id.as_str(), r.person.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "1", "nip:198503122010011003"),
            (3, "2", "197803212005012002"),
            (4, "105", "ni_pppk:199009132025242014"),
        ],
        "user ids lose their padding zeros as in the logs"
    );

    let errors = errors_of(parse_user_map("pengguna.csv", &data("user_map_bad.csv")));
    assert_eq!(
        where_and_what(&errors),
        [
            (3, "IMPORT_DUPLICATE"),
            (4, "IMPORT_FIELD"),
            (5, "IMPORT_FIELD")
        ]
    );
    assert_eq!(
        errors[0].message,
        "id pengguna \"1\" sudah dipetakan di baris 2; satu id pengguna satu orang"
    );
}

#[test]
fn fifty_thousand_people_and_two_hundred_thousand_punches_parse() {
    // Size, not speed: the release timings are in the report; here, that nothing in the
    // parsers degrades with size (no quadratic step) and every row comes back.
    let mut people = String::from("jenis_id,id,nama,unit_id,unit_nama,kantor,atasan,tpp\n");
    for i in 0..50_000 {
        people.push_str(&format!(
            "non_asn,HON-{i:06},Pegawai {i},unit-{u},Unit {u},kantor-{u},,{tpp}\n",
            u = i % 40,
            tpp = 1_000_000 + i
        ));
    }
    let started = std::time::Instant::now();
    let rows = parse_people("orang.csv", people.as_bytes()).unwrap();
    println!("50000 people: {:?} (debug build)", started.elapsed());
    assert_eq!(rows.len(), 50_000);
    assert_eq!(rows[49_999].line, 50_001);

    let mut log = String::new();
    for i in 0..200_000u32 {
        log.push_str(&format!(
            "{:>9}\t2026-10-{:02} {:02}:{:02}:{:02}\t1\t0\t15\t0\r\n",
            i % 5000,
            1 + i % 28,
            (i / 28) % 24,
            (i / 672) % 60,
            (i / 40_320) % 60
        ));
    }
    let first_line = log.lines().next().unwrap().to_string();
    log.push_str(&first_line);
    let started = std::time::Instant::now();
    let parsed = parse_attlog("1_attlog.dat", log.as_bytes()).unwrap();
    println!("200000 punches: {:?} (debug build)", started.elapsed());
    assert_eq!(parsed.punches.len(), 200_000);
    assert_eq!(
        parsed.duplicates_in_file, 1,
        "the first line again, without its CRLF, is a repeat"
    );
}

#[test]
fn the_optional_mulai_column_gives_the_first_counted_day() {
    let text = "jenis_id,id,nama,unit_id,unit_nama,kantor,atasan,tpp,mulai\n\
                nip,198503122010011003,Budi,dinas,Dinas,kominfo,,,16/11/2026\n\
                nip,199009132015032001,Siti,dinas,Dinas,kominfo,,,\n\
                nip,197803212005012002,Rina,dinas,Dinas,kominfo,,,besok\n";
    let errors = errors_of(parse_people("pegawai.csv", text.as_bytes()));
    assert_eq!(where_and_what(&errors), [(4, "IMPORT_FIELD")]);
    assert!(
        errors[0]
            .message
            .starts_with("kolom \"mulai\": \"besok\" bukan tanggal"),
        "{}",
        errors[0].message
    );
    let good = text.lines().take(3).collect::<Vec<_>>().join("\n");
    let rows = parse_people("pegawai.csv", good.as_bytes()).unwrap();
    assert_eq!(
        rows[0].counted_from,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 16)
    );
    assert_eq!(rows[1].counted_from, None);
}
