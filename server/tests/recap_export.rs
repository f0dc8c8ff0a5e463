//! The recap's exports read back by real readers: the XLSX by openpyxl (PyPI, the venv
//! scripts/setup.sh makes, through tests/python/read_xlsx.py) and the CSV by the csv
//! crate, cell by cell against a recap built by hand: two units, three people (one whose
//! TPP is unknown, one with proven manipulation, 18-digit ids, leave kinds, correction
//! numbers, a name with a comma and a quote).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{TimeZone, Utc};
use hadir_recap::deductions::DeductionTable;
use hadir_recap::model::{Month, PemdaRecap, PersonMonth, RecapRow};
use hadir_server::month::export::{ExportError, write_csv, write_xlsx};
use serde_json::Value;

const AHMAD_NAME: &str = "Ahmad, \"Abah\" Sutisna";
const AHMAD_NIP: &str = "198503122010011003";
const CITRA_PPPK: &str = "199009132025242014";
const BUDI_NIK: &str = "1705010101900001";

fn table() -> DeductionTable {
    DeductionTable {
        source: "Perbup Contoh Nomor 7 Tahun 2026".into(),
        tl_bp: [50, 100, 125, 150],
        psw_bp: [50, 100, 125, 150],
        tk_bp: 300,
        cap_bp: 10_000,
        attendance_weight_bp: 4_000,
        machine_window_minutes: 30,
    }
}

fn month_of(working: u32, present: u32) -> PersonMonth {
    PersonMonth {
        working_days: working,
        present_days: present,
        dispensation_days: 0,
        tl: [0; 4],
        psw: [0; 4],
        tk_days: 0,
        leave_days: BTreeMap::new(),
        machine_days: 0,
        deduction_bp: 0,
        paid_share_bp: 10_000,
        manipulation: false,
        attendance_part_rupiah: None,
        paid_rupiah: None,
        days: Vec::new(),
        unmatched_punches: 0,
    }
}

fn row(
    unit: (&str, &str),
    id: (&str, &str),
    name: &str,
    tpp: Option<i64>,
    counted: PersonMonth,
    corrections: Vec<i64>,
    flags_pending: u32,
) -> RecapRow {
    RecapRow {
        person_key: format!("{}:{}", id.0, id.1),
        id_kind: id.0.into(),
        id_value: id.1.into(),
        display_name: name.into(),
        unit_id: unit.0.into(),
        unit_name: unit.1.into(),
        tpp_rupiah: tpp,
        counted,
        corrections,
        flags_pending,
    }
}

/// The hand-made month: BKPSDM (Citra, manipulation) then DINKES (Ahmad, Budi).
fn recap() -> PemdaRecap {
    let bkpsdm = ("BKPSDM", "Badan Kepegawaian dan Pengembangan SDM");
    let dinkes = ("DINKES", "Dinas Kesehatan");

    // Proven manipulation: TPP 3,000,000, attendance part 40 % = 1,200,000, paid 0.
    let mut citra = month_of(21, 21);
    citra.manipulation = true;
    citra.paid_share_bp = 0;
    citra.attendance_part_rupiah = Some(1_200_000);
    citra.paid_rupiah = Some(0);

    // TL1 ×2 (100 bp) + TL2 (100 bp) + PSW1 (50 bp) = 250 bp; 2,000,000 × 97.5 %.
    let mut ahmad = month_of(21, 18);
    ahmad.dispensation_days = 2;
    ahmad.tl = [2, 1, 0, 0];
    ahmad.psw = [1, 0, 0, 0];
    ahmad.leave_days = BTreeMap::from([("cuti".into(), 2), ("sakit".into(), 1)]);
    ahmad.machine_days = 3;
    ahmad.deduction_bp = 250;
    ahmad.paid_share_bp = 9_750;
    ahmad.attendance_part_rupiah = Some(2_000_000);
    ahmad.paid_rupiah = Some(1_950_000);

    // TK once (300 bp), TPP unknown.
    let mut budi = month_of(21, 19);
    budi.tk_days = 1;
    budi.leave_days = BTreeMap::from([("dinas_luar".into(), 1)]);
    budi.deduction_bp = 300;
    budi.paid_share_bp = 9_700;

    PemdaRecap {
        pemda: "Kabupaten Contoh".into(),
        month: Month {
            year: 2026,
            month: 11,
        },
        table: table(),
        closed: true,
        computed_ms: Utc
            .with_ymd_and_hms(2026, 12, 1, 2, 30, 0)
            .unwrap()
            .timestamp_millis(),
        rows: vec![
            row(
                bkpsdm,
                ("ni_pppk", CITRA_PPPK),
                "Citra Lestari",
                Some(3_000_000),
                citra,
                vec![20],
                0,
            ),
            row(
                dinkes,
                ("nip", AHMAD_NIP),
                AHMAD_NAME,
                Some(5_000_000),
                ahmad,
                vec![12, 15],
                1,
            ),
            row(
                dinkes,
                ("non_asn", BUDI_NIK),
                "Budi Santoso",
                None,
                budi,
                vec![],
                0,
            ),
        ],
    }
}

const PERSON_HEADERS: [&str; 28] = [
    "No",
    "Jenis ID",
    "NIP/ID",
    "Nama",
    "Hari kerja",
    "Hadir",
    "Dispensasi",
    "TL1",
    "TL2",
    "TL3",
    "TL4",
    "PSW1",
    "PSW2",
    "PSW3",
    "PSW4",
    "TK",
    "Cuti",
    "Sakit",
    "Dinas luar",
    "Mesin",
    "Potongan (%)",
    "Dibayar (%)",
    "TPP (Rp)",
    "Bagian kehadiran (Rp)",
    "Dibayar (Rp)",
    "Manipulasi",
    "Koreksi",
    "Flag belum ditinjau",
];

/// The venv's python (scripts/setup.sh), or `HADIR_PY_XLSX`.
fn python() -> PathBuf {
    let path = std::env::var_os("HADIR_PY_XLSX").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/py-xlsx/bin/python"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "openpyxl's venv is missing at {}: run scripts/setup.sh (or set HADIR_PY_XLSX)",
        path.display()
    );
    path
}

/// The workbook as openpyxl reads it (see tests/python/read_xlsx.py for the shape).
fn read_xlsx(path: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/read_xlsx.py");
    let output = Command::new(python())
        .arg(script)
        .arg(path)
        .output()
        .expect("run read_xlsx.py");
    assert!(
        output.status.success(),
        "read_xlsx.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("read_xlsx.py prints JSON")
}

/// A0-style coordinate from 0-based row and column.
fn coordinate(row: usize, col: usize) -> String {
    let mut letters = String::new();
    let mut n = col + 1;
    while n > 0 {
        letters.insert(0, (b'A' + ((n - 1) % 26) as u8) as char);
        n = (n - 1) / 26;
    }
    format!("{letters}{}", row + 1)
}

fn cells(rows: &Value, row: usize) -> &Vec<Value> {
    rows[row].as_array().expect("a row")
}

fn column(headers: &[&str], name: &str) -> usize {
    headers.iter().position(|h| *h == name).expect(name)
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

#[test]
fn xlsx_reads_back_in_openpyxl_cell_by_cell() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rekap.xlsx");
    let mut reports = Vec::new();
    write_xlsx(&recap(), &path, &mut |done, total| {
        reports.push((done, total))
    })
    .unwrap();
    assert_eq!(reports.first(), Some(&(0, 3)));
    assert_eq!(reports.last(), Some(&(3, 3)));

    let book = read_xlsx(&path);
    let names: Vec<&str> = book["sheet_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ringkasan", "BKPSDM", "DINKES", "Keterangan"]);

    // Summary: title rows, one line per unit, the pemda's total.
    let summary = &book["sheets"]["Ringkasan"];
    assert_eq!(cells(summary, 0)[0], "Kabupaten Contoh");
    assert_eq!(cells(summary, 1)[0], "Rekap Kehadiran Bulan November 2026");
    assert_eq!(cells(summary, 2)[..2], ["Status", "Terkunci"]);
    assert_eq!(
        cells(summary, 3)[..2],
        ["Dihitung pada (UTC)", "2026-12-01T02:30:00Z"]
    );
    assert_eq!(
        cells(summary, 4)[..2],
        ["Tabel potongan", "Perbup Contoh Nomor 7 Tahun 2026"]
    );
    assert!(cells(summary, 5).iter().all(Value::is_null));
    let summary_headers = [
        "Unit",
        "Nama unit",
        "Jumlah pegawai",
        "Hari kerja",
        "Hadir",
        "TL1",
        "TL2",
        "TL3",
        "TL4",
        "PSW1",
        "PSW2",
        "PSW3",
        "PSW4",
        "TK",
        "Cuti/izin (hari)",
        "Potongan rata-rata (%)",
        "Bagian kehadiran TPP (Rp)",
        "Dibayar (Rp)",
        "Pegawai tanpa data TPP",
    ];
    assert_eq!(*cells(summary, 6), summary_headers);
    let numbers =
        |row: usize| -> Vec<f64> { cells(summary, row)[2..].iter().map(number).collect() };
    assert_eq!(
        cells(summary, 7)[..2],
        ["BKPSDM", "Badan Kepegawaian dan Pengembangan SDM"]
    );
    assert_eq!(
        numbers(7),
        [
            1., 21., 21., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 1_200_000., 0., 0.
        ]
    );
    assert_eq!(cells(summary, 8)[..2], ["DINKES", "Dinas Kesehatan"]);
    // Average deduction (250 + 300) / 2 bp; the rupiah sums only Ahmad's (Budi unknown).
    assert_eq!(
        numbers(8),
        [
            2., 42., 37., 2., 1., 0., 0., 1., 0., 0., 0., 1., 4., 2.75, 2_000_000., 1_950_000., 1.
        ]
    );
    assert_eq!(cells(summary, 9)[..2], ["Jumlah", "Kabupaten Contoh"]);
    // 550 / 3 = 183.33 bp, rounded half up to 183 bp.
    assert_eq!(
        numbers(9),
        [
            3., 63., 58., 2., 1., 0., 0., 1., 0., 0., 0., 1., 4., 1.83, 3_200_000., 1_950_000., 1.
        ]
    );
    assert_eq!(summary.as_array().unwrap().len(), 10);
    let summary_formats = &book["number_formats"]["Ringkasan"];
    let average = column(&summary_headers, "Potongan rata-rata (%)");
    let paid = column(&summary_headers, "Dibayar (Rp)");
    for row in 7..=9 {
        assert_eq!(summary_formats[coordinate(row, average)], "0.00");
        assert_eq!(summary_formats[coordinate(row, paid)], "#,##0");
    }
    assert_eq!(book["freeze_panes"]["Ringkasan"], "A8");

    // Unit sheets: a header, then one line per person.
    let dinkes = &book["sheets"]["DINKES"];
    assert_eq!(*cells(dinkes, 0), PERSON_HEADERS);
    assert_eq!(dinkes.as_array().unwrap().len(), 3);
    let ahmad = cells(dinkes, 1);
    assert_eq!(
        ahmad[..4],
        [
            Value::from(1),
            "NIP".into(),
            AHMAD_NIP.into(),
            AHMAD_NAME.into()
        ]
    );
    let ahmad_numbers: Vec<f64> = ahmad[4..=24].iter().map(number).collect();
    assert_eq!(
        ahmad_numbers,
        [
            21., 18., 2., 2., 1., 0., 0., 1., 0., 0., 0., 0., 2., 1., 0., 3., 2.5, 97.5,
            5_000_000., 2_000_000., 1_950_000.
        ]
    );
    assert_eq!(ahmad[25..], [Value::Null, "#12, #15".into(), 1.into()]);

    let budi = cells(dinkes, 2);
    assert_eq!(
        budi[..4],
        [
            Value::from(2),
            "Non-ASN".into(),
            BUDI_NIK.into(),
            "Budi Santoso".into()
        ]
    );
    assert_eq!(number(&budi[column(&PERSON_HEADERS, "TK")]), 1.);
    assert_eq!(number(&budi[column(&PERSON_HEADERS, "Dinas luar")]), 1.);
    assert_eq!(number(&budi[column(&PERSON_HEADERS, "Potongan (%)")]), 3.);
    assert_eq!(number(&budi[column(&PERSON_HEADERS, "Dibayar (%)")]), 97.);
    // Unknown TPP: blank, never 0.
    for header in ["TPP (Rp)", "Bagian kehadiran (Rp)", "Dibayar (Rp)"] {
        assert!(budi[column(&PERSON_HEADERS, header)].is_null(), "{header}");
    }
    assert!(budi[column(&PERSON_HEADERS, "Koreksi")].is_null());

    let citra = cells(&book["sheets"]["BKPSDM"], 1);
    assert_eq!(
        citra[..3],
        [Value::from(1), "NI PPPK".into(), CITRA_PPPK.into()]
    );
    assert_eq!(citra[column(&PERSON_HEADERS, "Manipulasi")], "Ya");
    assert_eq!(number(&citra[column(&PERSON_HEADERS, "Dibayar (%)")]), 0.);
    assert_eq!(number(&citra[column(&PERSON_HEADERS, "Dibayar (Rp)")]), 0.);
    assert_eq!(
        number(&citra[column(&PERSON_HEADERS, "Bagian kehadiran (Rp)")]),
        1_200_000.
    );
    assert_eq!(citra[column(&PERSON_HEADERS, "Koreksi")], "#20");

    let formats = &book["number_formats"]["DINKES"];
    let id = column(&PERSON_HEADERS, "NIP/ID");
    assert_eq!(formats[coordinate(1, id)], "@");
    assert_eq!(
        formats[coordinate(1, column(&PERSON_HEADERS, "Potongan (%)"))],
        "0.00"
    );
    assert_eq!(
        formats[coordinate(1, column(&PERSON_HEADERS, "Dibayar (%)"))],
        "0.00"
    );
    assert_eq!(
        formats[coordinate(1, column(&PERSON_HEADERS, "TPP (Rp)"))],
        "#,##0"
    );
    assert_eq!(
        formats[coordinate(1, column(&PERSON_HEADERS, "Dibayar (Rp)"))],
        "#,##0"
    );
    assert_eq!(book["freeze_panes"]["DINKES"], "A2");
    assert_eq!(book["freeze_panes"]["BKPSDM"], "A2");

    // The legend: each code with its cost from the table.
    let legend = book["sheets"]["Keterangan"].as_array().unwrap();
    let line = |code: &str| -> &Vec<Value> {
        legend
            .iter()
            .map(|row| row.as_array().unwrap())
            .find(|row| row[0] == code)
            .unwrap_or_else(|| panic!("{code} missing from Keterangan"))
    };
    assert_eq!(line("TL1")[1], "Terlambat 1–30 menit");
    assert_eq!(number(&line("TL1")[2]), 0.5);
    assert_eq!(number(&line("TL3")[2]), 1.25);
    assert_eq!(
        line("TL4")[1],
        "Terlambat ≥ 91 menit atau tidak absen masuk"
    );
    assert_eq!(
        line("PSW4")[1],
        "Pulang sebelum waktunya ≥ 91 menit atau tidak absen pulang"
    );
    assert_eq!(line("TK")[1], "Tidak masuk kerja tanpa keterangan");
    assert_eq!(number(&line("TK")[2]), 3.);
    assert_eq!(line("TK")[3], "per hari");
    assert_eq!(number(&line("Batas potongan")[2]), 100.);
    assert_eq!(number(&line("Bobot kehadiran")[2]), 40.);
    assert_eq!(
        line("Manipulasi")[1],
        "Manipulasi terbukti: bagian kehadiran bulan itu 0"
    );
}

#[test]
fn csv_reads_back_with_bom_quoting_and_ids_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rekap.csv");
    let mut reports = Vec::new();
    write_csv(&recap(), &path, &mut |done, total| {
        reports.push((done, total))
    })
    .unwrap();
    assert_eq!(reports.first(), Some(&(0, 3)));
    assert_eq!(reports.last(), Some(&(3, 3)));

    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes[..3], [0xEF, 0xBB, 0xBF], "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(
        text.contains(",\"Ahmad, \"\"Abah\"\" Sutisna\","),
        "RFC 4180 quoting: {text}"
    );

    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut expected = vec!["Unit".to_string(), "Nama unit".to_string()];
    expected.extend(PERSON_HEADERS.iter().map(|h| h.to_string()));
    assert_eq!(headers, expected);
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[1],
        [
            "DINKES",
            "Dinas Kesehatan",
            "1",
            "NIP",
            AHMAD_NIP,
            AHMAD_NAME,
            "21",
            "18",
            "2",
            "2",
            "1",
            "0",
            "0",
            "1",
            "0",
            "0",
            "0",
            "0",
            "2",
            "1",
            "0",
            "3",
            "2.50",
            "97.50",
            "5000000",
            "2000000",
            "1950000",
            "",
            "#12, #15",
            "1"
        ]
    );
    // Budi: TPP unknown, so the rupiah fields are empty (not 0).
    let budi = &records[2];
    assert_eq!(
        budi[..6],
        [
            "DINKES",
            "Dinas Kesehatan",
            "2",
            "Non-ASN",
            BUDI_NIK,
            "Budi Santoso"
        ]
    );
    assert_eq!(budi[24..27], ["", "", ""]);
    assert_eq!(budi[22..24], ["3.00", "97.00"]);
    let citra = &records[0];
    assert_eq!(
        citra[..5],
        [
            "BKPSDM",
            "Badan Kepegawaian dan Pengembangan SDM",
            "1",
            "NI PPPK",
            CITRA_PPPK
        ]
    );
    assert_eq!(citra[27..], ["Ya", "#20", "0"]);
    assert_eq!(citra[22..27], ["0.00", "0.00", "3000000", "1200000", "0"]);
}

#[test]
fn an_unwritable_path_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder/rekap");
    let error = write_csv(&recap(), &missing.with_extension("csv"), &mut |_, _| {}).unwrap_err();
    assert!(matches!(error, ExportError::Io { .. }), "{error:?}");
    assert_eq!(error.code(), "export_io");
    assert!(
        error.to_string().starts_with("gagal menulis berkas "),
        "{error}"
    );
    let error = write_xlsx(&recap(), &missing.with_extension("xlsx"), &mut |_, _| {}).unwrap_err();
    assert_eq!(error.code(), "export_xlsx", "{error:?}");
    assert!(
        error.to_string().starts_with("gagal membuat XLSX "),
        "{error}"
    );
}
