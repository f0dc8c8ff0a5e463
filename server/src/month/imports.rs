//! The import files BKPSDM staff prepare in a spreadsheet: people, offices and holidays.
//! Pure parsing: bytes in, typed rows or the list of every error out. Storage (and the
//! all-or-nothing transaction) is the caller's; machine logs are in [`super::attlog`].
//!
//! # Rules shared by every CSV import
//!
//! * The file must be UTF-8 (Excel: "CSV UTF-8"); a UTF-8 BOM is stripped. Anything else
//!   is one `IMPORT_ENCODING` error naming the line of the first bad byte.
//! * The delimiter is `,` or `;` (Indonesian Excel writes `;`), decided from the header
//!   line: `;` when it holds more `;` than `,`. Quoted fields (`"Dinas A, B"`, even over
//!   several lines) are read as CSV; line endings may be LF or CRLF.
//! * The first line is the header. Column names are case-insensitive and may come in any
//!   order; a missing column, an unknown column (a typo must not silently drop data) or
//!   a column named twice is an `IMPORT_HEADER` error naming the expected header.
//! * Fields are trimmed. Blank lines, and lines whose fields are all empty (`;;;;` as
//!   Excel leaves them), are skipped. A line with more or fewer fields than the header
//!   is an `IMPORT_FIELD` error.
//! * A file with no data line is one `IMPORT_EMPTY` error.
//! * Every bad line is listed (one error per bad field), up to [`MAX_ERRORS`], then one
//!   last entry `dan N kesalahan lain` (code `IMPORT_MORE_ERRORS`, line 0).
//! * Line numbers are the physical lines a text editor shows, the header being line 1;
//!   a record spanning lines (a quoted newline) is reported at its first line. Line 0
//!   means the whole file (and, for GeoJSON, errors name the feature instead).
//!
//! # People: `jenis_id,id,nama,unit_id,unit_nama,kantor,atasan,tpp`
//!
//! | column | content |
//! |---|---|
//! | `jenis_id` | `nip`, `ni_pppk` or `non_asn` (case and `-`/`_` forgiven) |
//! | `id` | the identifier, checked as `hadir_core::ids::PersonId::parse` does: NIP and NI PPPK 18 digits with a real birth date, appointment and gender digit; non-ASN 3–32 characters of `A-Z a-z 0-9 . / -` with a digit |
//! | `nama` | full name, not empty |
//! | `unit_id` | the unit (OPD) key, `[a-z0-9_-]{1,40}` (upper case is lowered) |
//! | `unit_nama` | the unit's name, not empty; one `unit_id` must carry one name throughout the file |
//! | `kantor` | one or more office ids separated by `\|` (`kominfo\|kominfo-annex`); the first office's schedule applies |
//! | `atasan` | empty, or the supervisor as `jenis:nomor` (`nip:197803212005012002`, written back in that canonical form) or a bare 18-digit number; resolved by the caller against the file and the database; a person may not be their own supervisor |
//! | `tpp` | empty (unknown) or whole rupiah: digits, optionally with `.` thousands separators (`7.500.000`) and a leading `Rp` / `Rp.`; no decimals; at most 1.000.000.000 |
//! | `mulai` | optional: the first day the person's attendance is counted (a new hire, or the pemda's first day on Hadir), a date as in the holidays file; empty keeps what is stored |
//!
//! The same person (kind and id) twice is `IMPORT_DUPLICATE`, naming both lines.
//!
//! # Offices (CSV): `id,nama,utc_offset_menit,lat,lon,radius_m[,akurasi_maks_m][,wajib_qr]`
//!
//! | column | content |
//! |---|---|
//! | `id` | office id, 1–64 characters of `A-Z a-z 0-9 - _ .` |
//! | `nama` | the office's name, not empty |
//! | `utc_offset_menit` | 420 (WIB), 480 (WITA) or 540 (WIT) |
//! | `lat`, `lon` | the circle's centre in decimal degrees (`.` or, in a `;` file, `,` as the decimal mark), inside Indonesia's box: latitude −11..6, longitude 95..141 |
//! | `radius_m` | the circle's radius, 10..5000 metres |
//! | `akurasi_maks_m` | optional: worst GPS accuracy accepted, 1..1000 m; default `DEFAULT_MAX_ACCURACY_M` (50 m) |
//! | `wajib_qr` | optional: `ya` or `tidak` (default `tidak`): a check-in must carry the office kiosk's QR |
//!
//! The office is built with `crate::admin::circle_office` and checked by
//! `Office::validate`. The same `id` twice is `IMPORT_DUPLICATE`.
//!
//! # Offices (GeoJSON)
//!
//! A `FeatureCollection`; each feature is one office. `properties.id`, `properties.nama`
//! and `properties.utc_offset_menit` are required, `properties.akurasi_maks_m` and
//! `properties.wajib_qr` (`"ya"`/`"tidak"` or `true`/`false`) optional, as in the CSV.
//! The geometry is a `Polygon` or `MultiPolygon` of `[lon, lat]` positions (holes
//! allowed); each polygon is one zone (`crate::admin::zones_from_geojson`), every
//! position inside Indonesia's box. Errors name the feature (`fitur ke-3`, counted from
//! 1) with line 0, and [`OfficeRow::line`] holds the feature's number.
//!
//! # Holidays (pemda-wide): `tanggal,nama,jenis`
//!
//! | column | content |
//! |---|---|
//! | `tanggal` | `YYYY-MM-DD`, or `DD-MM-YYYY` / `DD/MM/YYYY` as Indonesian spreadsheets write it (day and month may have one digit) |
//! | `nama` | the holiday's name, not empty |
//! | `jenis` | `libur_nasional`, `cuti_bersama` or `libur_daerah` |
//!
//! The same date twice is `IMPORT_DUPLICATE`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use chrono::NaiveDate;
use hadir_core::geofence::{DEFAULT_MAX_ACCURACY_M, LatLon, Office, Zone, ZoneShape};
use hadir_core::ids::{IdError, PersonId, PersonIdKind};

use crate::admin::{INDONESIAN_UTC_OFFSETS, circle_office, zones_from_geojson};

/// How many errors one import lists before summing up the rest in one entry.
pub const MAX_ERRORS: usize = 200;

/// A missing, unknown or repeated column (or a file in another layout).
pub const CODE_HEADER: &str = "IMPORT_HEADER";
/// A bad value.
pub const CODE_FIELD: &str = "IMPORT_FIELD";
/// The same key twice in one file.
pub const CODE_DUPLICATE: &str = "IMPORT_DUPLICATE";
/// No data rows.
pub const CODE_EMPTY: &str = "IMPORT_EMPTY";
/// Not UTF-8.
pub const CODE_ENCODING: &str = "IMPORT_ENCODING";
/// The last entry of a list cut at [`MAX_ERRORS`]: how many more there were.
pub const CODE_MORE_ERRORS: &str = "IMPORT_MORE_ERRORS";

/// One thing wrong in an import file: where, a stable code, and an Indonesian message
/// that names the column and the bad value and says what would be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file as the admin named it.
    pub file: String,
    /// 1-based physical line (the header is line 1); 0 for the whole file or a GeoJSON
    /// feature (the message names the feature).
    pub line: u64,
    /// Stable machine code: one of the `CODE_*` constants of this module.
    pub code: &'static str,
    /// Indonesian, for the admin.
    pub message: String,
}

/// `file:line: message [CODE]`; `file: message [CODE]` when the line is 0.
impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {} [{}]", self.file, self.message, self.code)
        } else {
            write!(
                f,
                "{}:{}: {} [{}]",
                self.file, self.line, self.message, self.code
            )
        }
    }
}

impl std::error::Error for ImportError {}

/// The errors of one file as they are found, capped at [`MAX_ERRORS`].
pub(crate) struct Errors<'f> {
    file: &'f str,
    list: Vec<ImportError>,
    more: u64,
}

impl<'f> Errors<'f> {
    pub(crate) fn new(file: &'f str) -> Self {
        Errors {
            file,
            list: Vec::new(),
            more: 0,
        }
    }

    /// How many errors were pushed (listed or beyond the cap).
    fn count(&self) -> u64 {
        self.list.len() as u64 + self.more
    }

    pub(crate) fn push(&mut self, line: u64, code: &'static str, message: String) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(ImportError {
                file: self.file.to_string(),
                line,
                code,
                message,
            });
        } else {
            self.more += 1;
        }
    }

    /// `Ok(value)` when nothing was wrong, else every error (and the count beyond the cap).
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, Vec<ImportError>> {
        if self.list.is_empty() {
            return Ok(value);
        }
        if self.more > 0 {
            let more = self.more;
            self.list.push(ImportError {
                file: self.file.to_string(),
                line: 0,
                code: CODE_MORE_ERRORS,
                message: format!("dan {more} kesalahan lain"),
            });
        }
        Err(self.list)
    }

    /// This list as the import's whole result (for errors that stop reading).
    pub(crate) fn fail<T>(self) -> Result<T, Vec<ImportError>> {
        Err(self.finish(()).err().unwrap_or_default())
    }
}

/// The file's text: UTF-8 checked and a leading BOM removed.
pub(crate) fn decode<'b>(file: &str, bytes: &'b [u8]) -> Result<&'b str, Vec<ImportError>> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
            let mut errors = Errors::new(file);
            errors.push(
                line,
                CODE_ENCODING,
                "berkas bukan teks UTF-8 (ada byte yang tidak sah di baris ini); simpan ulang \
                 dari Excel sebagai \"CSV UTF-8 (Comma delimited)\""
                    .to_string(),
            );
            errors.fail()
        }
    }
}

/// The columns a CSV import expects.
pub(crate) struct TableSpec {
    /// Columns that must be present.
    pub required: &'static [&'static str],
    /// Columns that may be present.
    pub optional: &'static [&'static str],
}

impl TableSpec {
    fn expected_header(&self) -> String {
        let mut text = self.required.join(",");
        if !self.optional.is_empty() {
            text.push_str(" (boleh ditambah: ");
            text.push_str(&self.optional.join(", "));
            text.push(')');
        }
        text
    }

    /// Position of `name` in required-then-optional order.
    fn position(&self, name: &str) -> Option<usize> {
        self.required
            .iter()
            .chain(self.optional)
            .position(|&c| c == name)
    }
}

/// One data row of a CSV import: its line and its fields by spec position.
pub(crate) struct Row<'r> {
    pub line: u64,
    record: &'r csv::StringRecord,
    columns: &'r [Option<usize>],
}

impl Row<'_> {
    /// The trimmed field of the spec's column `index` (required-then-optional order);
    /// empty when an optional column is absent.
    pub(crate) fn get(&self, index: usize) -> &str {
        self.columns[index]
            .and_then(|at| self.record.get(at))
            .unwrap_or("")
    }

    /// Whether the optional column `index` is in the file.
    pub(crate) fn has(&self, index: usize) -> bool {
        self.columns[index].is_some()
    }
}

fn detect_delimiter(text: &str) -> u8 {
    let header = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let count = |c: char| header.chars().filter(|&x| x == c).count();
    if count(';') > count(',') { b';' } else { b',' }
}

/// Reads a CSV import: checks its header against `spec`, then calls `on_row` for every
/// non-blank data line. Header problems stop reading (returning false); no data line is
/// an `IMPORT_EMPTY` error.
pub(crate) fn read_table(
    text: &str,
    spec: &TableSpec,
    errors: &mut Errors<'_>,
    mut on_row: impl FnMut(&Row<'_>, &mut Errors<'_>),
) {
    let delimiter = detect_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(text);
    let blank = |r: &csv::StringRecord| r.iter().all(str::is_empty);

    // The header: the first non-blank record.
    let (header_line, header) = loop {
        match reader.read_record(&mut record) {
            Ok(false) => {
                errors.push(
                    0,
                    CODE_EMPTY,
                    format!(
                        "berkas kosong; baris pertama harus header: {}",
                        spec.expected_header()
                    ),
                );
                return;
            }
            Ok(true) if blank(&record) => continue,
            Ok(true) => break (lines.line_of(record.position()), record.clone()),
            Err(e) => {
                errors.push(
                    lines.line_of(e.position()),
                    CODE_FIELD,
                    "berkas tidak terbaca sebagai CSV".into(),
                );
                return;
            }
        }
    };
    let Some((columns, width)) = read_header(header_line, &header, spec, errors) else {
        return;
    };

    let mut rows = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) if blank(&record) => continue,
            Ok(true) => {
                rows += 1;
                let line = lines.line_of(record.position());
                let extra_filled = record.iter().skip(width).any(|f| !f.is_empty());
                if record.len() < width || extra_filled {
                    errors.push(
                        line,
                        CODE_FIELD,
                        format!(
                            "baris ini berisi {} kolom, header berisi {width}; periksa \
                             pemisah ({}) dan tanda kutip di dalam isian",
                            record.len(),
                            if delimiter == b';' {
                                "titik koma"
                            } else {
                                "koma"
                            },
                        ),
                    );
                    continue;
                }
                on_row(
                    &Row {
                        line,
                        record: &record,
                        columns: &columns,
                    },
                    errors,
                );
            }
            Err(e) => {
                errors.push(
                    lines.line_of(e.position()),
                    CODE_FIELD,
                    "baris tidak terbaca sebagai CSV".into(),
                );
                break;
            }
        }
    }
    if rows == 0 {
        errors.push(
            header_line,
            CODE_EMPTY,
            "tidak ada baris data di bawah header".into(),
        );
    }
}

/// Physical line numbers from the byte offsets the CSV reader reports. (Its own line
/// count misses skipped blank lines and CRLF; its offset of a record that follows blank
/// lines points at them, so the line breaks there are stepped over first.)
struct LineCounter<'t> {
    text: &'t [u8],
    pos: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    /// The line of the record starting at `position` (offsets only grow).
    fn line_of(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else {
            return 0;
        };
        let mut start = (position.byte() as usize).clamp(self.pos, self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        self.line += self.text[self.pos..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.pos = start;
        self.line
    }
}

/// Maps the header onto `spec`: for each spec column, its index in the record; and the
/// header's width (trailing unnamed columns dropped).
fn read_header(
    line: u64,
    header: &csv::StringRecord,
    spec: &TableSpec,
    errors: &mut Errors<'_>,
) -> Option<(Vec<Option<usize>>, usize)> {
    let width = (0..header.len())
        .rev()
        .find(|&i| !header[i].is_empty())
        .map_or(0, |i| i + 1);
    let mut columns = vec![None; spec.required.len() + spec.optional.len()];
    let before = errors.count();
    let expected = spec.expected_header();
    for (at, name) in header.iter().take(width).enumerate() {
        let name = name.to_ascii_lowercase();
        if name.is_empty() {
            errors.push(
                line,
                CODE_HEADER,
                format!(
                    "kolom ke-{} tidak berjudul; header yang benar: {expected}",
                    at + 1
                ),
            );
            continue;
        }
        match spec.position(&name) {
            None => errors.push(
                line,
                CODE_HEADER,
                format!("kolom \"{name}\" tidak dikenal; header yang benar: {expected}"),
            ),
            Some(i) if columns[i].is_some() => errors.push(
                line,
                CODE_HEADER,
                format!("kolom \"{name}\" tertulis dua kali; header yang benar: {expected}"),
            ),
            Some(i) => columns[i] = Some(at),
        }
    }
    for (i, name) in spec.required.iter().enumerate() {
        if columns[i].is_none() {
            errors.push(
                line,
                CODE_HEADER,
                format!("kolom \"{name}\" tidak ada; header yang benar: {expected}"),
            );
        }
    }
    (errors.count() == before).then_some((columns, width))
}

/// Records `key` as first seen at `line`; on a repeat, the line it was first seen at.
fn first_seen<K: std::hash::Hash + Eq>(
    seen: &mut HashMap<K, u64>,
    key: K,
    line: u64,
) -> Option<u64> {
    match seen.entry(key) {
        Entry::Occupied(first) => Some(*first.get()),
        Entry::Vacant(slot) => {
            slot.insert(line);
            None
        }
    }
}

fn duplicate_message(what: &str, first: u64) -> String {
    format!("{what} sudah ada di baris {first}; setiap baris harus unik")
}

// ---------------------------------------------------------------------------------------
// People

/// One person from a people import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// The line it came from.
    pub line: u64,
    /// The validated identifier.
    pub id: PersonId,
    /// Full name.
    pub name: String,
    /// The unit (OPD) key, lowercase.
    pub unit_id: String,
    /// The unit's name.
    pub unit_name: String,
    /// Office ids, at least one; the first one's schedule applies.
    pub offices: Vec<String>,
    /// The supervisor as written: `kind:value` (canonical) or a bare 18-digit id; the
    /// caller resolves it against the file and the database.
    pub supervisor: Option<String>,
    /// TPP in whole rupiah, when known.
    pub tpp_rupiah: Option<i64>,
    /// The first day their attendance is counted (optional column `mulai`: a new hire,
    /// or the day the pemda started with Hadir); days before it are not working days
    /// for them. `None`: as stored (counted from the start when never given).
    pub counted_from: Option<NaiveDate>,
}

const PEOPLE: TableSpec = TableSpec {
    required: &[
        "jenis_id",
        "id",
        "nama",
        "unit_id",
        "unit_nama",
        "kantor",
        "atasan",
        "tpp",
    ],
    optional: &["mulai"],
};

/// The largest TPP accepted, rupiah.
pub const MAX_TPP_RUPIAH: i64 = 1_000_000_000;

/// Parses a people CSV (format in the module docs): every row, or every error.
pub fn parse_people(file: &str, bytes: &[u8]) -> Result<Vec<PersonRow>, Vec<ImportError>> {
    let text = decode(file, bytes)?;
    let mut errors = Errors::new(file);
    let mut rows = Vec::new();
    let mut seen: HashMap<PersonId, u64> = HashMap::new();
    let mut units: HashMap<String, (String, u64)> = HashMap::new();
    read_table(text, &PEOPLE, &mut errors, |row, errors| {
        if let Some(person) = person_row(row, errors, &mut seen, &mut units) {
            rows.push(person);
        }
    });
    errors.finish(rows)
}

fn person_row(
    row: &Row<'_>,
    errors: &mut Errors<'_>,
    seen: &mut HashMap<PersonId, u64>,
    units: &mut HashMap<String, (String, u64)>,
) -> Option<PersonRow> {
    let line = row.line;
    let mut report = |code: &'static str, message: String| errors.push(line, code, message);
    let kind_text = row.get(0);
    let kind = PersonIdKind::parse(kind_text);
    if kind.is_none() {
        report(
            CODE_FIELD,
            format!(
                "kolom \"jenis_id\": \"{kind_text}\" bukan jenis yang dikenal (nip, ni_pppk atau \
             non_asn)"
            ),
        );
    }
    let id_text = row.get(1);
    let id = kind.and_then(|kind| match PersonId::parse(kind, id_text) {
        Ok(id) => Some(id),
        Err(e) => {
            report(
                CODE_FIELD,
                format!("kolom \"id\": \"{id_text}\" {}", id_rule(kind, &e)),
            );
            None
        }
    });
    let duplicate = id.as_ref().and_then(|id| {
        let first = first_seen(seen, id.clone(), line)?;
        report(
            CODE_DUPLICATE,
            duplicate_message(&format!("orang {id}"), first),
        );
        Some(())
    });
    let name = row.get(2);
    if name.is_empty() {
        report(CODE_FIELD, "kolom \"nama\" kosong; isi nama lengkap".into());
    }
    let unit_id = row.get(3).to_ascii_lowercase();
    let unit_ok = valid_unit_id(&unit_id);
    if !unit_ok {
        report(
            CODE_FIELD,
            format!(
                "kolom \"unit_id\": \"{}\" tidak sah; pakai 1–40 huruf kecil, angka, \"_\" atau \
             \"-\" (contoh: dinkes)",
                row.get(3)
            ),
        );
    }
    let unit_name = row.get(4);
    if unit_name.is_empty() {
        report(
            CODE_FIELD,
            "kolom \"unit_nama\" kosong; isi nama unit (OPD)".into(),
        );
    } else if unit_ok {
        match units.get(&unit_id) {
            Some((first, first_line)) if first != unit_name => report(
                CODE_FIELD,
                format!(
                    "kolom \"unit_nama\": unit \"{unit_id}\" bernama \"{first}\" di baris \
                 {first_line}, di sini \"{unit_name}\"; satu unit_id harus satu nama"
                ),
            ),
            Some(_) => {}
            None => {
                units.insert(unit_id.clone(), (unit_name.to_string(), line));
            }
        }
    }
    let offices = parse_office_list(row.get(5))
        .map_err(|m| report(CODE_FIELD, m))
        .ok();
    let supervisor = match parse_person_ref(row.get(6)) {
        Ok(None) => Some(None),
        Ok(Some(reference)) => {
            if id.as_ref().is_some_and(|id| reference.names(id)) {
                report(
                    CODE_FIELD,
                    format!(
                        "kolom \"atasan\": \"{}\" adalah orang itu sendiri; atasan harus orang lain \
                     atau dikosongkan",
                        row.get(6)
                    ),
                );
                None
            } else {
                Some(Some(reference.text))
            }
        }
        Err(why) => {
            report(CODE_FIELD, format!("kolom \"atasan\": {why}"));
            None
        }
    };
    let tpp = parse_rupiah(row.get(7))
        .map_err(|why| report(CODE_FIELD, format!("kolom \"tpp\": {why}")))
        .ok();
    let counted_from = match row.get(8) {
        "" => Some(None),
        text => match parse_date(text) {
            Some(date) => Some(Some(date)),
            None => {
                report(
                    CODE_FIELD,
                    format!(
                        "kolom \"mulai\": \"{text}\" bukan tanggal (tulis 2026-11-01, 01-11-2026 \
                         atau 01/11/2026)"
                    ),
                );
                None
            }
        },
    };
    if duplicate.is_some() {
        return None;
    }
    Some(PersonRow {
        line,
        id: id?,
        name: (!name.is_empty()).then(|| name.to_string())?,
        unit_id: unit_ok.then_some(unit_id)?,
        unit_name: (!unit_name.is_empty()).then(|| unit_name.to_string())?,
        offices: offices?,
        supervisor: supervisor?,
        tpp_rupiah: tpp?,
        counted_from: counted_from?,
    })
}

/// The rule an identifier broke, in Indonesian (starting after the quoted value).
fn id_rule(kind: PersonIdKind, e: &IdError) -> String {
    let label = match kind {
        PersonIdKind::Nip => "NIP",
        PersonIdKind::NiPppk => "NI PPPK",
        PersonIdKind::NonAsn => "id non-ASN",
    };
    let rule = match (kind, e) {
        (PersonIdKind::NonAsn, _) => {
            "harus 3–32 karakter huruf, angka, \".\", \"/\" atau \"-\", dengan sedikitnya satu \
             angka"
                .to_string()
        }
        (_, IdError::BadFormat { .. }) => "harus tepat 18 digit angka".to_string(),
        (_, IdError::BadBirthDate { date, .. }) => {
            format!("memuat tanggal lahir {date} (8 digit pertama) yang tidak ada")
        }
        (
            _,
            IdError::BadAppointment {
                appointment, why, ..
            },
        ) => {
            let why = match *why {
                "month must be 01..12" => "bulan harus 01 sampai 12",
                "before the 18th birthday" => "sebelum usia 18 tahun",
                "PPPK appointments start in 2019" => "pengangkatan PPPK baru ada sejak 2019",
                _ => "tidak mungkin",
            };
            format!("memuat tanggal pengangkatan {appointment} yang tidak mungkin ({why})")
        }
        (_, IdError::BadGender { digit, .. }) => {
            format!("memuat digit jenis kelamin {digit} (digit ke-15); harus 1 atau 2")
        }
        (_, e) => e.message(),
    };
    format!("bukan {label} yang sah: {rule}")
}

fn valid_unit_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Whether `id` is a well-formed office id: 1–64 characters of `A-Z a-z 0-9 - _ .`.
pub fn valid_office_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn parse_office_list(text: &str) -> Result<Vec<String>, String> {
    if text.is_empty() {
        return Err("kolom \"kantor\" kosong; isi id kantor (beberapa dipisah \"|\")".into());
    }
    let mut offices: Vec<String> = Vec::new();
    for part in text.split('|').map(str::trim) {
        if !valid_office_id(part) {
            return Err(format!(
                "kolom \"kantor\": \"{part}\" bukan id kantor yang sah; pakai 1–64 huruf, \
                 angka, \"-\", \"_\" atau \".\", beberapa kantor dipisah \"|\" (contoh: \
                 kominfo|kominfo-annex)"
            ));
        }
        if offices.iter().any(|o| o == part) {
            return Err(format!(
                "kolom \"kantor\": \"{part}\" tertulis dua kali dalam \"{text}\""
            ));
        }
        offices.push(part.to_string());
    }
    Ok(offices)
}

/// A person named in an import (supervisor, machine user map): canonical text and how
/// to compare it with a parsed id.
pub(crate) struct PersonRef {
    /// `kind:value` (canonical) or the bare 18 digits.
    pub text: String,
    parsed: Option<PersonId>,
}

impl PersonRef {
    /// Whether this reference names `id`.
    fn names(&self, id: &PersonId) -> bool {
        match &self.parsed {
            Some(p) => p == id,
            None => self.text == id.value(),
        }
    }
}

/// Reads a person reference: empty, `kind:value` (validated, written back canonical) or a
/// bare 18-digit id (kept as is). The error completes `kolom "X": ...`.
pub(crate) fn parse_person_ref(text: &str) -> Result<Option<PersonRef>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.contains(':') {
        return match text.parse::<PersonId>() {
            Ok(id) => Ok(Some(PersonRef {
                text: id.to_string(),
                parsed: Some(id),
            })),
            Err(IdError::BadKind { .. }) => Err(format!(
                "\"{text}\" harus ditulis jenis:nomor dengan jenis nip, ni_pppk atau non_asn \
                 (contoh: nip:197803212005012002)"
            )),
            Err(e) => {
                let kind = text
                    .split_once(':')
                    .and_then(|(k, _)| PersonIdKind::parse(k))
                    .unwrap_or(PersonIdKind::Nip);
                Err(format!("\"{text}\" {}", id_rule(kind, &e)))
            }
        };
    }
    if text.len() == 18 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(PersonRef {
            text: text.to_string(),
            parsed: None,
        }));
    }
    Err(format!(
        "\"{text}\" bukan orang yang dikenal; tulis jenis:nomor (contoh: \
         nip:197803212005012002) atau NIP/NI PPPK 18 digit"
    ))
}

/// Reads a TPP amount: empty (unknown) or whole rupiah. The error completes
/// `kolom "tpp": ...`.
fn parse_rupiah(text: &str) -> Result<Option<i64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || {
        format!(
            "\"{text}\" bukan angka rupiah (contoh: 7500000, 7.500.000 atau Rp 7.500.000; \
             tanpa desimal)"
        )
    };
    let mut digits = text;
    for prefix in ["Rp.", "RP.", "rp.", "Rp", "RP", "rp"] {
        if let Some(rest) = digits.strip_prefix(prefix) {
            digits = rest.trim_start();
            break;
        }
    }
    let groups: Vec<&str> = digits.split('.').collect();
    let grouped_ok = groups.len() == 1
        || (matches!(groups[0].len(), 1..=3) && groups[1..].iter().all(|g| g.len() == 3));
    if digits.is_empty()
        || !grouped_ok
        || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let mut amount: i64 = 0;
    for b in digits.bytes().filter(u8::is_ascii_digit) {
        amount = amount * 10 + i64::from(b - b'0');
        if amount > MAX_TPP_RUPIAH {
            return Err(format!(
                "\"{text}\" melebihi batas Rp 1.000.000.000; periksa jumlah digitnya"
            ));
        }
    }
    Ok(Some(amount))
}

// ---------------------------------------------------------------------------------------
// Offices

/// One office from an office import.
#[derive(Debug, Clone)]
pub struct OfficeRow {
    /// The CSV line it came from, or for GeoJSON the feature's number (from 1).
    pub line: u64,
    /// The office, validated (`Office::validate`).
    pub office: Office,
}

const OFFICES: TableSpec = TableSpec {
    required: &["id", "nama", "utc_offset_menit", "lat", "lon", "radius_m"],
    optional: &["akurasi_maks_m", "wajib_qr"],
};

/// Indonesia's rough bounding box: latitude range, degrees.
pub const INDONESIA_LAT: (f64, f64) = (-11.0, 6.0);
/// Indonesia's rough bounding box: longitude range, degrees.
pub const INDONESIA_LON: (f64, f64) = (95.0, 141.0);

/// Parses an offices CSV (format in the module docs).
pub fn parse_offices_csv(file: &str, bytes: &[u8]) -> Result<Vec<OfficeRow>, Vec<ImportError>> {
    let text = decode(file, bytes)?;
    let mut errors = Errors::new(file);
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    read_table(text, &OFFICES, &mut errors, |row, errors| {
        let line = row.line;
        let mut problems: Vec<String> = Vec::new();
        let mut bad = |message: String| problems.push(message);
        let common = OfficeFields::read(
            row.get(0),
            row.get(1),
            row.get(2),
            row.has(6).then(|| row.get(6)),
            row.has(7).then(|| row.get(7)),
            &mut bad,
        );
        let lat = parse_degrees("lat", row.get(3), INDONESIA_LAT, "lintang", &mut bad);
        let lon = parse_degrees("lon", row.get(4), INDONESIA_LON, "bujur", &mut bad);
        let radius = match parse_decimal(row.get(5)) {
            Some(r) if (10.0..=5000.0).contains(&r) => Some(r),
            _ => {
                bad(format!(
                    "kolom \"radius_m\": \"{}\" harus angka 10 sampai 5000 (meter)",
                    row.get(5)
                ));
                None
            }
        };
        let office = match (common, lat, lon, radius) {
            (Some(f), Some(lat), Some(lon), Some(radius)) => {
                let mut office = circle_office(
                    &f.id,
                    &f.name,
                    f.utc_offset,
                    LatLon::new(lat, lon),
                    radius,
                    f.max_accuracy_m,
                );
                office.qr_required = f.qr_required;
                match office.validate() {
                    Ok(()) => Some(office),
                    Err(e) => {
                        bad(format!("kantor \"{}\" tidak sah: {}", f.id, e.message()));
                        None
                    }
                }
            }
            _ => None,
        };
        for message in problems {
            errors.push(line, CODE_FIELD, message);
        }
        let id = row.get(0);
        let duplicate = valid_office_id(id)
            .then(|| first_seen(&mut seen, id.to_string(), line))
            .flatten();
        if let Some(first) = duplicate {
            let message = duplicate_message(&format!("kantor \"{id}\""), first);
            errors.push(line, CODE_DUPLICATE, message);
        } else if let Some(office) = office {
            rows.push(OfficeRow { line, office });
        }
    });
    errors.finish(rows)
}

/// What CSV and GeoJSON offices share besides their geometry.
struct OfficeFields {
    id: String,
    name: String,
    utc_offset: i32,
    max_accuracy_m: f64,
    qr_required: bool,
}

impl OfficeFields {
    /// Reads the shared fields (`None` for an absent optional one); reports each bad
    /// field through `bad`.
    fn read(
        id: &str,
        name: &str,
        utc_offset: &str,
        max_accuracy: Option<&str>,
        qr: Option<&str>,
        bad: &mut impl FnMut(String),
    ) -> Option<OfficeFields> {
        let id_ok = valid_office_id(id);
        if !id_ok {
            bad(format!(
                "kolom \"id\": \"{id}\" bukan id kantor yang sah; pakai 1–64 huruf, angka, \
                 \"-\", \"_\" atau \".\" (contoh: kominfo-bengkulu)"
            ));
        }
        if name.is_empty() {
            bad("kolom \"nama\" kosong; isi nama kantor".into());
        }
        let offset = match utc_offset.parse::<i32>() {
            Ok(m) if INDONESIAN_UTC_OFFSETS.contains(&m) => Some(m),
            _ => {
                bad(format!(
                    "kolom \"utc_offset_menit\": \"{utc_offset}\" bukan zona waktu Indonesia; \
                     isi 420 (WIB), 480 (WITA) atau 540 (WIT)"
                ));
                None
            }
        };
        let max_accuracy_m = match max_accuracy.filter(|t| !t.is_empty()) {
            None => Some(DEFAULT_MAX_ACCURACY_M),
            Some(t) => match parse_decimal(t) {
                Some(m) if (1.0..=1000.0).contains(&m) => Some(m),
                _ => {
                    bad(format!(
                        "kolom \"akurasi_maks_m\": \"{t}\" harus angka 1 sampai 1000 (meter), \
                         atau dikosongkan untuk {DEFAULT_MAX_ACCURACY_M} m"
                    ));
                    None
                }
            },
        };
        let qr_required = match qr.map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("tidak") => Some(false),
            Some("ya") => Some(true),
            Some(_) => {
                bad(format!(
                    "kolom \"wajib_qr\": \"{}\" harus \"ya\" atau \"tidak\"",
                    qr.unwrap_or_default()
                ));
                None
            }
        };
        Some(OfficeFields {
            id: id_ok.then(|| id.to_string())?,
            name: (!name.is_empty()).then(|| name.to_string())?,
            utc_offset: offset?,
            max_accuracy_m: max_accuracy_m?,
            qr_required: qr_required?,
        })
    }
}

/// A decimal number written with `.` or, as Indonesian Excel does, one `,`.
fn parse_decimal(text: &str) -> Option<f64> {
    let value = if text.contains(',') && !text.contains('.') {
        text.replacen(',', ".", 1).parse::<f64>()
    } else {
        text.parse::<f64>()
    };
    value.ok().filter(|v| v.is_finite())
}

fn parse_degrees(
    column: &str,
    text: &str,
    range: (f64, f64),
    what: &str,
    bad: &mut impl FnMut(String),
) -> Option<f64> {
    let Some(value) = parse_decimal(text) else {
        bad(format!(
            "kolom \"{column}\": \"{text}\" bukan angka derajat desimal (contoh: -3.7956)"
        ));
        return None;
    };
    if (range.0..=range.1).contains(&value) {
        return Some(value);
    }
    let swapped = if column == "lat" {
        (INDONESIA_LON.0..=INDONESIA_LON.1).contains(&value)
    } else {
        (INDONESIA_LAT.0..=INDONESIA_LAT.1).contains(&value)
    };
    bad(format!(
        "kolom \"{column}\": {text} di luar Indonesia ({what} {} sampai {}){}",
        range.0,
        range.1,
        if swapped {
            "; lat dan lon tampaknya tertukar"
        } else {
            ""
        }
    ));
    None
}

/// Parses an offices GeoJSON FeatureCollection (format in the module docs).
pub fn parse_offices_geojson(file: &str, bytes: &[u8]) -> Result<Vec<OfficeRow>, Vec<ImportError>> {
    let text = decode(file, bytes)?;
    let mut errors = Errors::new(file);
    let root: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            errors.push(
                e.line() as u64,
                CODE_FIELD,
                format!("bukan JSON yang sah (kolom {})", e.column()),
            );
            return errors.fail();
        }
    };
    let features = match (
        root.get("type").and_then(|t| t.as_str()),
        root.get("features").and_then(|f| f.as_array()),
    ) {
        (Some("FeatureCollection"), Some(features)) => features,
        _ => {
            errors.push(
                0,
                CODE_HEADER,
                "GeoJSON harus FeatureCollection dengan daftar \"features\", satu fitur per \
                 kantor"
                    .into(),
            );
            return errors.fail();
        }
    };
    if features.is_empty() {
        errors.push(0, CODE_EMPTY, "FeatureCollection tanpa fitur".into());
        return errors.fail();
    }
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (index, feature) in features.iter().enumerate() {
        let number = index as u64 + 1;
        let Some(office) = geojson_office(number, feature, &mut errors) else {
            continue;
        };
        let id = office.id.clone();
        match seen.entry(id) {
            Entry::Occupied(first) => errors.push(
                0,
                CODE_DUPLICATE,
                format!(
                    "fitur ke-{number}: kantor \"{}\" sudah ada di fitur ke-{}",
                    office.id,
                    first.get()
                ),
            ),
            Entry::Vacant(slot) => {
                slot.insert(number);
                rows.push(OfficeRow {
                    line: number,
                    office,
                });
            }
        }
    }
    errors.finish(rows)
}

fn geojson_office(
    number: u64,
    feature: &serde_json::Value,
    errors: &mut Errors<'_>,
) -> Option<Office> {
    let mut failed = false;
    let mut bad = |message: String| {
        failed = true;
        errors.push(0, CODE_FIELD, format!("fitur ke-{number}: {message}"));
    };
    let props = feature.get("properties");
    let prop = |key: &str| -> Option<String> {
        match props.and_then(|p| p.get(key))? {
            serde_json::Value::String(s) => Some(s.trim().to_string()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(true) => Some("ya".into()),
            serde_json::Value::Bool(false) => Some("tidak".into()),
            _ => None,
        }
    };
    let (id, name, offset) = (
        prop("id").unwrap_or_default(),
        prop("nama").unwrap_or_default(),
        prop("utc_offset_menit").unwrap_or_default(),
    );
    let (accuracy, qr) = (prop("akurasi_maks_m"), prop("wajib_qr"));
    let fields = OfficeFields::read(
        &id,
        &name,
        &offset,
        accuracy.as_deref(),
        qr.as_deref(),
        &mut |m| bad(m.replacen("kolom \"", "properti \"", 1)),
    );
    let geometry = feature.get("geometry").filter(|g| !g.is_null());
    let kind = geometry
        .and_then(|g| g.get("type"))
        .and_then(|t| t.as_str());
    let zones = match kind {
        Some("Polygon" | "MultiPolygon") => match zones_from_geojson(&feature.to_string()) {
            Ok(zones) => Some(zones),
            Err(_) => {
                bad("koordinat poligon tidak sah; harus cincin [[lon, lat], ...]".into());
                None
            }
        },
        other => {
            bad(format!(
                "geometri harus Polygon atau MultiPolygon, bukan {}",
                other.unwrap_or("kosong")
            ));
            None
        }
    };
    let zones = zones.map(rename_zones);
    if let Some((lon, lat)) = zones.as_deref().and_then(first_outside_indonesia) {
        bad(format!(
            "titik [{lon}, {lat}] di luar Indonesia (lintang {} sampai {}, bujur {} sampai \
             {}); GeoJSON menulis [lon, lat]",
            INDONESIA_LAT.0, INDONESIA_LAT.1, INDONESIA_LON.0, INDONESIA_LON.1
        ));
    }
    let (fields, zones) = (fields?, zones?);
    if failed {
        return None;
    }
    let office = Office {
        id: fields.id,
        name: fields.name,
        utc_offset_minutes: fields.utc_offset,
        zones,
        max_accuracy_m: fields.max_accuracy_m,
        qr_required: fields.qr_required,
    };
    if let Err(e) = office.validate() {
        errors.push(
            0,
            CODE_FIELD,
            format!(
                "fitur ke-{number}: kantor \"{}\" tidak sah: {}",
                office.id,
                e.message()
            ),
        );
        return None;
    }
    Some(office)
}

/// Zone ids independent of the feature's properties: `utama` for one polygon, `zona-N`
/// for several.
fn rename_zones(mut zones: Vec<Zone>) -> Vec<Zone> {
    let many = zones.len() > 1;
    for (i, zone) in zones.iter_mut().enumerate() {
        if many {
            zone.id = format!("zona-{}", i + 1);
            zone.name = format!("Zona {}", i + 1);
        } else {
            zone.id = "utama".into();
            zone.name = "Area kantor".into();
        }
    }
    zones
}

fn first_outside_indonesia(zones: &[Zone]) -> Option<(f64, f64)> {
    let inside = |lon: f64, lat: f64| {
        (INDONESIA_LAT.0..=INDONESIA_LAT.1).contains(&lat)
            && (INDONESIA_LON.0..=INDONESIA_LON.1).contains(&lon)
    };
    zones.iter().find_map(|zone| match &zone.shape {
        ZoneShape::Polygon { rings } => rings
            .iter()
            .flatten()
            .find(|[lon, lat]| !inside(*lon, *lat))
            .map(|[lon, lat]| (*lon, *lat)),
        ZoneShape::Circle { center, .. } => (!inside(center.longitude, center.latitude))
            .then_some((center.longitude, center.latitude)),
    })
}

// ---------------------------------------------------------------------------------------
// Holidays

/// What kind of day off a holiday is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolidayKind {
    /// A national public holiday.
    LiburNasional,
    /// A collective leave day (cuti bersama) decreed with the national calendar.
    CutiBersama,
    /// A regional holiday set by the pemda.
    LiburDaerah,
}

impl HolidayKind {
    /// The name used in files and storage: `libur_nasional`, `cuti_bersama`,
    /// `libur_daerah`.
    pub fn as_str(self) -> &'static str {
        match self {
            HolidayKind::LiburNasional => "libur_nasional",
            HolidayKind::CutiBersama => "cuti_bersama",
            HolidayKind::LiburDaerah => "libur_daerah",
        }
    }

    /// Parses [`HolidayKind::as_str`]'s output (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "libur_nasional" => Some(HolidayKind::LiburNasional),
            "cuti_bersama" => Some(HolidayKind::CutiBersama),
            "libur_daerah" => Some(HolidayKind::LiburDaerah),
            _ => None,
        }
    }
}

/// One holiday from a holiday import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayRow {
    /// The line it came from.
    pub line: u64,
    /// The day.
    pub date: NaiveDate,
    /// Its name, e.g. "Hari Raya Idul Fitri".
    pub name: String,
    /// Its kind.
    pub kind: HolidayKind,
}

const HOLIDAYS: TableSpec = TableSpec {
    required: &["tanggal", "nama", "jenis"],
    optional: &[],
};

/// Parses a holidays CSV (format in the module docs).
pub fn parse_holidays(file: &str, bytes: &[u8]) -> Result<Vec<HolidayRow>, Vec<ImportError>> {
    let text = decode(file, bytes)?;
    let mut errors = Errors::new(file);
    let mut rows = Vec::new();
    let mut seen: HashMap<NaiveDate, u64> = HashMap::new();
    read_table(text, &HOLIDAYS, &mut errors, |row, errors| {
        let line = row.line;
        let date = parse_date(row.get(0));
        if date.is_none() {
            errors.push(
                line,
                CODE_FIELD,
                format!(
                    "kolom \"tanggal\": \"{}\" bukan tanggal yang ada; tulis YYYY-MM-DD, \
                     DD-MM-YYYY atau DD/MM/YYYY (contoh: 2026-08-17)",
                    row.get(0)
                ),
            );
        }
        let name = row.get(1);
        if name.is_empty() {
            errors.push(
                line,
                CODE_FIELD,
                "kolom \"nama\" kosong; isi nama hari libur".into(),
            );
        }
        let kind = HolidayKind::parse(row.get(2));
        if kind.is_none() {
            errors.push(
                line,
                CODE_FIELD,
                format!(
                    "kolom \"jenis\": \"{}\" harus libur_nasional, cuti_bersama atau \
                     libur_daerah",
                    row.get(2)
                ),
            );
        }
        if let Some(first) = date.and_then(|date| first_seen(&mut seen, date, line)) {
            let what = format!("tanggal {}", row.get(0));
            errors.push(line, CODE_DUPLICATE, duplicate_message(&what, first));
            return;
        }
        if let (Some(date), Some(kind), false) = (date, kind, name.is_empty()) {
            rows.push(HolidayRow {
                line,
                date,
                name: name.to_string(),
                kind,
            });
        }
    });
    errors.finish(rows)
}

/// A calendar date as `YYYY-MM-DD`, `DD-MM-YYYY` or `DD/MM/YYYY` (day and month of one
/// or two digits in the last two).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let number = |s: &str, min: usize, max: usize| -> Option<u32> {
        ((min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
    };
    let separator = if text.contains('/') { '/' } else { '-' };
    let mut parts = text.split(separator);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (year, month, day) = if separator == '-' && a.len() == 4 {
        (number(a, 4, 4)?, number(b, 2, 2)?, number(c, 2, 2)?)
    } else {
        (number(c, 4, 4)?, number(b, 1, 2)?, number(a, 1, 2)?)
    };
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupiah_forms() {
        assert_eq!(parse_rupiah(""), Ok(None));
        assert_eq!(parse_rupiah("7500000"), Ok(Some(7_500_000)));
        assert_eq!(parse_rupiah("7.500.000"), Ok(Some(7_500_000)));
        assert_eq!(parse_rupiah("Rp 7.500.000"), Ok(Some(7_500_000)));
        assert_eq!(parse_rupiah("Rp.7500000"), Ok(Some(7_500_000)));
        assert_eq!(parse_rupiah("1.000.000.000"), Ok(Some(1_000_000_000)));
        for bad in [
            "7.5jt",
            "7,500,000",
            "7500000,00",
            "75.00.000",
            "1.000.000.001",
            "Rp",
            "-5",
            "7.500.00",
            ".500",
        ] {
            assert!(parse_rupiah(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn date_forms() {
        let d = NaiveDate::from_ymd_opt(2026, 8, 17);
        assert_eq!(parse_date("2026-08-17"), d);
        assert_eq!(parse_date("17-08-2026"), d);
        assert_eq!(parse_date("17/08/2026"), d);
        assert_eq!(parse_date("17/8/2026"), d);
        for bad in [
            "2026-02-30",
            "2026/08/17",
            "08-17-2026",
            "17.08.2026",
            "2026-8-17",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn error_list_is_capped_with_a_count_of_the_rest() {
        let mut errors = Errors::new("a.csv");
        for line in 1..=205 {
            errors.push(line, CODE_FIELD, "x".into());
        }
        let list = errors.finish(()).unwrap_err();
        assert_eq!(list.len(), MAX_ERRORS + 1);
        assert_eq!(list[MAX_ERRORS].code, CODE_MORE_ERRORS);
        assert_eq!(list[MAX_ERRORS].message, "dan 5 kesalahan lain");
        assert_eq!(
            list[MAX_ERRORS].to_string(),
            "a.csv: dan 5 kesalahan lain [IMPORT_MORE_ERRORS]"
        );
        assert_eq!(list[0].to_string(), "a.csv:1: x [IMPORT_FIELD]");
    }
}
