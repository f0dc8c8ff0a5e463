//! The month's recap written out for BKPSDM staff: an XLSX workbook (sheet `Ringkasan`
//! with one line per unit and the pemda's total, one sheet per unit with one line per
//! person, sheet `Keterangan` spelling out every code and its cost) and a CSV with one
//! line per person. Both print a [`PemdaRecap`] already computed: nothing is counted
//! here, only summed for the summary sheet.
//!
//! Numbers keep their exact source: percentages are written from basis points (bp / 100,
//! two decimals, format `0.00`), rupiah as whole numbers (format `#,##0`), and a rupiah
//! amount is left blank (never 0) where the person's TPP is unknown. Ids are written as
//! text so an 18-digit NIP never turns into `1.98E+17`.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat};
use hadir_recap::deductions::DeductionTable;
use hadir_recap::model::{Month, PemdaRecap, RecapRow};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};

/// The summary sheet's name.
pub const SUMMARY_SHEET: &str = "Ringkasan";
/// The sheet spelling out the codes.
pub const LEGEND_SHEET: &str = "Keterangan";
/// How many person rows are written between two progress reports.
const PROGRESS_EVERY_ROWS: u64 = 1000;
/// Excel's limit on a sheet name, in UTF-16 code units.
const SHEET_NAME_MAX_UTF16: usize = 31;

/// Why an export failed. The message is for the admin running the CLI (Indonesian).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The file could not be written.
    #[error("gagal menulis berkas {path}: {source}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The XLSX writer refused the workbook or could not save it.
    #[error("gagal membuat XLSX {path}: {source}")]
    Xlsx {
        /// The file being written.
        path: PathBuf,
        /// What rust_xlsxwriter said.
        source: XlsxError,
    },
}

impl ExportError {
    /// A stable machine code for logs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::Io { .. } => "export_io",
            ExportError::Xlsx { .. } => "export_xlsx",
        }
    }
}

/// Writes the recap as an XLSX workbook at `path`; `progress(done, total)` is called at
/// the start, every thousand person rows and at the end.
pub fn write_xlsx(
    recap: &PemdaRecap,
    path: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), ExportError> {
    let xlsx_error = |source| ExportError::Xlsx {
        path: path.to_path_buf(),
        source,
    };
    let layout = Layout::of(recap);
    let formats = Formats::new();
    let total = recap.rows.len() as u64;
    progress(0, total);

    let mut workbook = Workbook::new();
    write_summary_sheet(workbook.add_worksheet(), recap, &layout, &formats).map_err(xlsx_error)?;
    let mut done = 0u64;
    for (unit, sheet_name) in layout.units.iter().zip(&layout.sheet_names) {
        let sheet = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        sheet.set_name(sheet_name).map_err(xlsx_error)?;
        write_header(sheet, 0, &layout.person_fields, &formats).map_err(xlsx_error)?;
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        for (index, row) in unit.rows.iter().enumerate() {
            let sheet_row = index as u32 + 1;
            for (col, field) in layout.person_fields.iter().enumerate() {
                let cell = field.cell(index + 1, row);
                write_cell(sheet, sheet_row, col as u16, &cell, &formats.body)
                    .map_err(xlsx_error)?;
            }
            done += 1;
            if done.is_multiple_of(PROGRESS_EVERY_ROWS) {
                progress(done, total);
            }
        }
    }
    write_legend_sheet(workbook.add_worksheet(), &recap.table, &formats).map_err(xlsx_error)?;
    workbook.save(path).map_err(xlsx_error)?;
    progress(total, total);
    Ok(())
}

/// Writes the recap as CSV at `path`: UTF-8 with a byte-order mark (so Excel reads the
/// names right), `,` between fields, RFC 4180 quoting; one line per person with the unit
/// sheet's columns after the unit's id and name. `progress` as for [`write_xlsx`].
pub fn write_csv(
    recap: &PemdaRecap,
    path: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), ExportError> {
    let io_error = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let layout = Layout::of(recap);
    let total = recap.rows.len() as u64;
    progress(0, total);

    let mut file = BufWriter::new(File::create(path).map_err(io_error)?);
    file.write_all("\u{feff}".as_bytes()).map_err(io_error)?;
    let mut csv = csv::Writer::from_writer(file);
    let mut header = vec![Cow::Borrowed("Unit"), Cow::Borrowed("Nama unit")];
    header.extend(layout.person_fields.iter().map(PersonField::header));
    csv.write_record(header.iter().map(|h| h.as_ref()))
        .map_err(|e| io_error(csv_io(e)))?;
    let mut done = 0u64;
    let mut record: Vec<Cow<str>> = Vec::with_capacity(layout.person_fields.len() + 2);
    for unit in &layout.units {
        for (index, row) in unit.rows.iter().enumerate() {
            record.clear();
            record.push(csv_inert_text(&row.unit_id));
            record.push(csv_inert_text(&row.unit_name));
            record.extend(
                layout
                    .person_fields
                    .iter()
                    .map(|field| field.cell(index + 1, row).csv_text()),
            );
            csv.write_record(record.iter().map(|v| v.as_ref()))
                .map_err(|e| io_error(csv_io(e)))?;
            done += 1;
            if done.is_multiple_of(PROGRESS_EVERY_ROWS) {
                progress(done, total);
            }
        }
    }
    let mut file = csv.into_inner().map_err(|e| io_error(e.into_error()))?;
    file.flush().map_err(io_error)?;
    progress(total, total);
    Ok(())
}

/// Text that a spreadsheet opening the CSV would read as a formula (it starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return: OWASP's "CSV injection") gets a leading
/// `'`, so a name imported from a roster can never run as a formula on an admin's
/// machine; any other text is unchanged. (The XLSX needs no guard: it stores strings as
/// strings.)
fn csv_inert_text(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A csv crate error as the I/O error it is when writing (anything else would be a bug
/// in the record shape, reported the same way).
fn csv_io(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// Sheet names for the units, in order: each unit's id made a valid Excel sheet name (at
/// most 31 UTF-16 units, none of `[]:*?/\` or control characters, no apostrophe at
/// either end, never blank), unique case-insensitively among themselves and against
/// [`SUMMARY_SHEET`], [`LEGEND_SHEET`] and Excel's reserved `History`; a clash gets
/// ` (2)`, ` (3)`, ... within the length limit.
pub fn unit_sheet_names<'a>(unit_ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken: HashSet<String> = [SUMMARY_SHEET, LEGEND_SHEET, "History"]
        .iter()
        .map(|name| name.to_lowercase())
        .collect();
    let mut names = Vec::new();
    for unit_id in unit_ids {
        let base = valid_sheet_name(unit_id);
        let mut name = base.clone();
        let mut suffix_number = 2;
        while taken.contains(&name.to_lowercase()) {
            let suffix = format!(" ({suffix_number})");
            let room = SHEET_NAME_MAX_UTF16 - suffix.len();
            let stem = truncate_utf16(&base, room).trim_end_matches('\'');
            name = format!("{stem}{suffix}");
            suffix_number += 1;
        }
        taken.insert(name.to_lowercase());
        names.push(name);
    }
    names
}

/// One id made a valid sheet name, before uniqueness.
fn valid_sheet_name(unit_id: &str) -> String {
    let replaced: String = unit_id
        .chars()
        .map(|c| {
            if "[]:*?/\\".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = truncate_utf16(replaced.trim(), SHEET_NAME_MAX_UTF16)
        .trim_matches('\'')
        .trim();
    if trimmed.is_empty() {
        "Unit".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The longest prefix of `text` of at most `max` UTF-16 code units, never splitting a
/// character.
fn truncate_utf16(text: &str, max: usize) -> &str {
    let mut units = 0;
    for (byte_index, c) in text.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &text[..byte_index];
        }
    }
    text
}

/// "November 2026": the month in Indonesian.
pub fn indonesian_month(month: Month) -> String {
    const NAMES: [&str; 12] = [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ];
    match NAMES.get((month.month as usize).wrapping_sub(1)) {
        Some(name) => format!("{name} {}", month.year),
        None => format!("{}-{:02}", month.year, month.month),
    }
}

/// What both writers print, decided once: the units in the recap's order with their
/// rows, their sheet names, and the person columns (one per leave kind present).
struct Layout<'a> {
    units: Vec<UnitRows<'a>>,
    sheet_names: Vec<String>,
    person_fields: Vec<PersonField>,
}

/// One unit's people, in the recap's order.
struct UnitRows<'a> {
    unit_id: &'a str,
    unit_name: &'a str,
    rows: Vec<&'a RecapRow>,
}

impl<'a> Layout<'a> {
    fn of(recap: &'a PemdaRecap) -> Self {
        let mut units: Vec<UnitRows<'a>> = Vec::new();
        let mut unit_index: HashMap<&str, usize> = HashMap::new();
        let mut leave_kinds: BTreeSet<&str> = BTreeSet::new();
        for row in &recap.rows {
            let index = *unit_index.entry(&row.unit_id).or_insert_with(|| {
                units.push(UnitRows {
                    unit_id: &row.unit_id,
                    unit_name: &row.unit_name,
                    rows: Vec::new(),
                });
                units.len() - 1
            });
            units[index].rows.push(row);
            leave_kinds.extend(row.counted.leave_days.keys().map(String::as_str));
        }
        let sheet_names = unit_sheet_names(units.iter().map(|unit| unit.unit_id));
        Layout {
            units,
            sheet_names,
            person_fields: PersonField::all(ordered_leave_kinds(leave_kinds)),
        }
    }
}

/// The leave kinds staff know first in their usual order, then any other alphabetically.
fn ordered_leave_kinds(kinds: BTreeSet<&str>) -> Vec<String> {
    let mut ordered: Vec<String> = KNOWN_LEAVE_KINDS
        .iter()
        .filter(|(kind, _)| kinds.contains(kind))
        .map(|(kind, _)| kind.to_string())
        .collect();
    ordered.extend(
        kinds
            .into_iter()
            .filter(|kind| !KNOWN_LEAVE_KINDS.iter().any(|(known, _)| known == kind))
            .map(str::to_string),
    );
    ordered
}

/// Leave kinds and their column headers.
const KNOWN_LEAVE_KINDS: [(&str, &str); 4] = [
    ("cuti", "Cuti"),
    ("sakit", "Sakit"),
    ("dinas_luar", "Dinas luar"),
    ("izin", "Izin"),
];

/// A leave kind's header: the known ones by name, any other from its key
/// (`cuti_bersalin` → "Cuti bersalin").
fn leave_header(kind: &str) -> String {
    if let Some((_, header)) = KNOWN_LEAVE_KINDS.iter().find(|(known, _)| *known == kind) {
        return header.to_string();
    }
    let spaced = kind.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// A person column of the unit sheets and the CSV, in order. Each column's header, width
/// and cell are decided here, once.
#[derive(Debug, Clone, PartialEq)]
enum PersonField {
    Number,
    IdKind,
    IdValue,
    Name,
    WorkingDays,
    Present,
    Dispensation,
    Late(usize),
    Early(usize),
    Absent,
    Leave(String),
    Machine,
    DeductionPercent,
    PaidPercent,
    Tpp,
    AttendancePart,
    Paid,
    Manipulation,
    Corrections,
    FlagsPending,
}

impl PersonField {
    fn all(leave_kinds: Vec<String>) -> Vec<PersonField> {
        use PersonField::*;
        let mut fields = vec![
            Number,
            IdKind,
            IdValue,
            Name,
            WorkingDays,
            Present,
            Dispensation,
        ];
        fields.extend((0..4).map(Late));
        fields.extend((0..4).map(Early));
        fields.push(Absent);
        fields.extend(leave_kinds.into_iter().map(Leave));
        fields.extend([
            Machine,
            DeductionPercent,
            PaidPercent,
            Tpp,
            AttendancePart,
            Paid,
            Manipulation,
            Corrections,
            FlagsPending,
        ]);
        fields
    }

    fn header(&self) -> Cow<'static, str> {
        use PersonField::*;
        Cow::Borrowed(match self {
            Number => "No",
            IdKind => "Jenis ID",
            IdValue => "NIP/ID",
            Name => "Nama",
            WorkingDays => "Hari kerja",
            Present => "Hadir",
            Dispensation => "Dispensasi",
            Late(band) => return Cow::Owned(format!("TL{}", band + 1)),
            Early(band) => return Cow::Owned(format!("PSW{}", band + 1)),
            Absent => "TK",
            Leave(kind) => return Cow::Owned(leave_header(kind)),
            Machine => "Mesin",
            DeductionPercent => "Potongan (%)",
            PaidPercent => "Dibayar (%)",
            Tpp => "TPP (Rp)",
            AttendancePart => "Bagian kehadiran (Rp)",
            Paid => "Dibayar (Rp)",
            Manipulation => "Manipulasi",
            Corrections => "Koreksi",
            FlagsPending => "Flag belum ditinjau",
        })
    }

    fn width(&self) -> f64 {
        use PersonField::*;
        match self {
            Number => 6.0,
            IdKind => 10.0,
            IdValue => 21.0,
            Name => 32.0,
            Late(_) | Early(_) | Absent => 7.0,
            DeductionPercent | PaidPercent => 13.0,
            Tpp | AttendancePart | Paid => 16.0,
            Corrections => 16.0,
            FlagsPending => 12.0,
            _ => 11.0,
        }
    }

    /// The cell of person number `number` (1-based within the unit).
    fn cell<'r>(&self, number: usize, row: &'r RecapRow) -> Cell<'r> {
        use PersonField::*;
        let counted = &row.counted;
        match self {
            Number => Cell::Count(number as u64),
            IdKind => Cell::Text(Cow::Borrowed(id_kind_label(&row.id_kind))),
            IdValue => Cell::Id(&row.id_value),
            Name => Cell::Text(Cow::Borrowed(&row.display_name)),
            WorkingDays => Cell::Count(counted.working_days.into()),
            Present => Cell::Count(counted.present_days.into()),
            Dispensation => Cell::Count(counted.dispensation_days.into()),
            Late(band) => Cell::Count(counted.tl[*band].into()),
            Early(band) => Cell::Count(counted.psw[*band].into()),
            Absent => Cell::Count(counted.tk_days.into()),
            Leave(kind) => Cell::Count(counted.leave_days.get(kind).copied().unwrap_or(0).into()),
            Machine => Cell::Count(counted.machine_days.into()),
            DeductionPercent => Cell::Percent(counted.deduction_bp),
            PaidPercent => Cell::Percent(counted.paid_share_bp),
            Tpp => Cell::Rupiah(row.tpp_rupiah),
            AttendancePart => Cell::Rupiah(counted.attendance_part_rupiah),
            Paid => Cell::Rupiah(counted.paid_rupiah),
            Manipulation => Cell::Text(Cow::Borrowed(if counted.manipulation { "Ya" } else { "" })),
            Corrections => Cell::Text(Cow::Owned(
                row.corrections
                    .iter()
                    .map(|seq| format!("#{seq}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
            FlagsPending => Cell::Count(row.flags_pending.into()),
        }
    }
}

/// How an id kind reads in the sheet.
fn id_kind_label(kind: &str) -> &str {
    match kind {
        "nip" => "NIP",
        "ni_pppk" => "NI PPPK",
        "non_asn" => "Non-ASN",
        other => other,
    }
}

/// One cell's value and how it is written.
enum Cell<'r> {
    /// Text; empty is a blank cell.
    Text(Cow<'r, str>),
    /// An identifier: text, in a text-formatted cell.
    Id(&'r str),
    /// A whole number.
    Count(u64),
    /// Basis points, written as a percentage with two decimals.
    Percent(u32),
    /// Rupiah; `None` (unknown) is a blank cell.
    Rupiah(Option<i64>),
}

impl<'r> Cell<'r> {
    /// The CSV field: numbers plain, percentages with two decimals from the exact bp,
    /// text guarded by [`csv_inert_text`].
    fn csv_text(self) -> Cow<'r, str> {
        match self {
            Cell::Text(text) => match text {
                Cow::Borrowed(text) => csv_inert_text(text),
                Cow::Owned(text) => Cow::Owned(csv_inert_text(&text).into_owned()),
            },
            Cell::Id(id) => csv_inert_text(id),
            Cell::Count(n) => Cow::Owned(n.to_string()),
            Cell::Percent(bp) => Cow::Owned(format!("{}.{:02}", bp / 100, bp % 100)),
            Cell::Rupiah(Some(rupiah)) => Cow::Owned(rupiah.to_string()),
            Cell::Rupiah(None) => Cow::Borrowed(""),
        }
    }
}

/// The cell formats of the workbook.
struct Formats {
    header: Format,
    title: Format,
    /// Cells of a person or a unit.
    body: CellFormats,
    /// Cells of the pemda's total line.
    total: CellFormats,
}

/// How each kind of [`Cell`] is formatted.
struct CellFormats {
    text: Format,
    id: Format,
    count: Format,
    percent: Format,
    rupiah: Format,
}

impl CellFormats {
    fn with_base(base: Format) -> Self {
        CellFormats {
            text: base.clone(),
            id: base.clone().set_num_format("@"),
            count: base.clone(),
            percent: base.clone().set_num_format("0.00"),
            rupiah: base.set_num_format("#,##0"),
        }
    }
}

impl Formats {
    fn new() -> Self {
        Formats {
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            title: Format::new().set_bold().set_font_size(14),
            body: CellFormats::with_base(Format::new()),
            total: CellFormats::with_base(Format::new().set_bold()),
        }
    }
}

/// Writes one cell (nothing for a blank).
fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    formats: &CellFormats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(text) if text.is_empty() => {}
        Cell::Text(text) => {
            sheet.write_string_with_format(row, col, text.as_ref(), &formats.text)?;
        }
        Cell::Id(id) => {
            sheet.write_string_with_format(row, col, *id, &formats.id)?;
        }
        Cell::Count(n) => {
            sheet.write_number_with_format(row, col, *n as f64, &formats.count)?;
        }
        Cell::Percent(bp) => {
            sheet.write_number_with_format(row, col, percent_from_bp(*bp), &formats.percent)?;
        }
        Cell::Rupiah(Some(rupiah)) => {
            sheet.write_number_with_format(row, col, *rupiah as f64, &formats.rupiah)?;
        }
        Cell::Rupiah(None) => {}
    }
    Ok(())
}

/// A percentage from basis points: the one division, from the exact integer.
fn percent_from_bp(bp: u32) -> f64 {
    f64::from(bp) / 100.0
}

/// Writes a header row and sets the columns' widths.
fn write_header(
    sheet: &mut Worksheet,
    row: u32,
    fields: &[PersonField],
    formats: &Formats,
) -> Result<(), XlsxError> {
    for (col, field) in fields.iter().enumerate() {
        sheet.set_column_width(col as u16, field.width())?;
        sheet.write_string_with_format(
            row,
            col as u16,
            field.header().as_ref(),
            &formats.header,
        )?;
    }
    Ok(())
}

/// One unit's (or the pemda's) sums for the summary sheet.
#[derive(Default)]
struct Totals {
    people: u64,
    working_days: u64,
    present_days: u64,
    tl: [u64; 4],
    psw: [u64; 4],
    tk_days: u64,
    leave_days: u64,
    deduction_bp: u64,
    attendance_part_rupiah: i64,
    paid_rupiah: i64,
    tpp_known: u64,
}

impl Totals {
    fn add(&mut self, row: &RecapRow) {
        let counted = &row.counted;
        self.people += 1;
        self.working_days += u64::from(counted.working_days);
        self.present_days += u64::from(counted.present_days);
        for band in 0..4 {
            self.tl[band] += u64::from(counted.tl[band]);
            self.psw[band] += u64::from(counted.psw[band]);
        }
        self.tk_days += u64::from(counted.tk_days);
        self.leave_days += counted
            .leave_days
            .values()
            .map(|&d| u64::from(d))
            .sum::<u64>();
        self.deduction_bp += u64::from(counted.deduction_bp);
        if let (Some(part), Some(paid)) = (counted.attendance_part_rupiah, counted.paid_rupiah) {
            self.attendance_part_rupiah += part;
            self.paid_rupiah += paid;
            self.tpp_known += 1;
        }
    }

    /// The average deduction in basis points, rounded half up to a whole bp.
    fn average_deduction_bp(&self) -> Option<u32> {
        (self.people > 0).then(|| {
            let average = (2 * self.deduction_bp + self.people) / (2 * self.people);
            u32::try_from(average).unwrap_or(u32::MAX)
        })
    }

    /// The cells of a summary line after the unit's id and name.
    fn cells(&self) -> Vec<Cell<'static>> {
        let known = |rupiah: i64| Cell::Rupiah((self.tpp_known > 0).then_some(rupiah));
        let mut cells = vec![
            Cell::Count(self.people),
            Cell::Count(self.working_days),
            Cell::Count(self.present_days),
        ];
        cells.extend(self.tl.iter().map(|&n| Cell::Count(n)));
        cells.extend(self.psw.iter().map(|&n| Cell::Count(n)));
        cells.push(Cell::Count(self.tk_days));
        cells.push(Cell::Count(self.leave_days));
        cells.push(match self.average_deduction_bp() {
            Some(bp) => Cell::Percent(bp),
            None => Cell::Text(Cow::Borrowed("")),
        });
        cells.push(known(self.attendance_part_rupiah));
        cells.push(known(self.paid_rupiah));
        cells.push(Cell::Count(self.people - self.tpp_known));
        cells
    }
}

/// The summary table's headers and widths, after which [`Totals::cells`] follow.
const SUMMARY_COLUMNS: [(&str, f64); 19] = [
    ("Unit", 14.0),
    ("Nama unit", 36.0),
    ("Jumlah pegawai", 10.0),
    ("Hari kerja", 10.0),
    ("Hadir", 10.0),
    ("TL1", 7.0),
    ("TL2", 7.0),
    ("TL3", 7.0),
    ("TL4", 7.0),
    ("PSW1", 7.0),
    ("PSW2", 7.0),
    ("PSW3", 7.0),
    ("PSW4", 7.0),
    ("TK", 7.0),
    ("Cuti/izin (hari)", 10.0),
    ("Potongan rata-rata (%)", 12.0),
    ("Bagian kehadiran TPP (Rp)", 18.0),
    ("Dibayar (Rp)", 18.0),
    ("Pegawai tanpa data TPP", 12.0),
];

/// The row of the summary table's header (0-based); the title rows come before it.
pub const SUMMARY_HEADER_ROW: u32 = 6;

/// Sheet `Ringkasan`: title rows, then one line per unit and the pemda's total.
fn write_summary_sheet(
    sheet: &mut Worksheet,
    recap: &PemdaRecap,
    layout: &Layout,
    formats: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name(SUMMARY_SHEET)?;
    sheet.write_string_with_format(0, 0, &recap.pemda, &formats.title)?;
    sheet.write_string_with_format(
        1,
        0,
        format!("Rekap Kehadiran Bulan {}", indonesian_month(recap.month)),
        &formats.title,
    )?;
    sheet.write_string(2, 0, "Status")?;
    sheet.write_string(
        2,
        1,
        if recap.closed {
            "Terkunci"
        } else {
            "Belum dikunci"
        },
    )?;
    sheet.write_string(3, 0, "Dihitung pada (UTC)")?;
    sheet.write_string(3, 1, computed_utc(recap.computed_ms))?;
    sheet.write_string(4, 0, "Tabel potongan")?;
    sheet.write_string(4, 1, &recap.table.source)?;

    for (col, (header, width)) in SUMMARY_COLUMNS.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
        sheet.write_string_with_format(SUMMARY_HEADER_ROW, col as u16, *header, &formats.header)?;
    }
    sheet.set_freeze_panes(SUMMARY_HEADER_ROW + 1, 0)?;

    let mut pemda = Totals::default();
    let mut row = SUMMARY_HEADER_ROW + 1;
    for unit in &layout.units {
        let mut totals = Totals::default();
        for person in &unit.rows {
            totals.add(person);
            pemda.add(person);
        }
        write_cell(sheet, row, 0, &Cell::Id(unit.unit_id), &formats.body)?;
        write_cell(
            sheet,
            row,
            1,
            &Cell::Text(Cow::Borrowed(unit.unit_name)),
            &formats.body,
        )?;
        for (offset, cell) in totals.cells().iter().enumerate() {
            write_cell(sheet, row, offset as u16 + 2, cell, &formats.body)?;
        }
        row += 1;
    }
    sheet.write_string_with_format(row, 0, "Jumlah", &formats.total.text)?;
    sheet.write_string_with_format(row, 1, &recap.pemda, &formats.total.text)?;
    for (offset, cell) in pemda.cells().iter().enumerate() {
        write_cell(sheet, row, offset as u16 + 2, cell, &formats.total)?;
    }
    Ok(())
}

/// The computed instant as UTC ISO 8601 (the pemda's local offset is not known here).
fn computed_utc(computed_ms: i64) -> String {
    DateTime::from_timestamp_millis(computed_ms)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| computed_ms.to_string())
}

/// Sheet `Keterangan`: every code in words with its cost from the table.
fn write_legend_sheet(
    sheet: &mut Worksheet,
    table: &DeductionTable,
    formats: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name(LEGEND_SHEET)?;
    sheet.set_column_width(0, 18.0)?;
    sheet.set_column_width(1, 60.0)?;
    sheet.set_column_width(2, 14.0)?;
    sheet.set_column_width(3, 24.0)?;
    sheet.write_string_with_format(0, 0, "Keterangan kode dan potongan", &formats.title)?;
    sheet.write_string(1, 0, "Tabel potongan")?;
    sheet.write_string(1, 1, &table.source)?;
    for (col, header) in ["Kode", "Keterangan", "Potongan (%)", "Dihitung"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(3, col as u16, *header, &formats.header)?;
    }
    for (row, (code, text, bp, per)) in (4..).zip(legend_lines(table)) {
        sheet.write_string(row, 0, code)?;
        sheet.write_string(row, 1, text)?;
        if let Some(bp) = bp {
            sheet.write_number_with_format(row, 2, percent_from_bp(bp), &formats.body.percent)?;
        }
        if !per.is_empty() {
            sheet.write_string(row, 3, per)?;
        }
    }
    Ok(())
}

/// The legend: code, meaning, cost in bp (if any), what the cost applies to.
fn legend_lines(
    table: &DeductionTable,
) -> Vec<(&'static str, &'static str, Option<u32>, &'static str)> {
    const PER_TIME: &str = "per kejadian";
    const OF_PART: &str = "dari bagian kehadiran";
    vec![
        (
            "TL1",
            "Terlambat 1–30 menit",
            Some(table.tl_bp[0]),
            PER_TIME,
        ),
        (
            "TL2",
            "Terlambat 31–60 menit",
            Some(table.tl_bp[1]),
            PER_TIME,
        ),
        (
            "TL3",
            "Terlambat 61–90 menit",
            Some(table.tl_bp[2]),
            PER_TIME,
        ),
        (
            "TL4",
            "Terlambat ≥ 91 menit atau tidak absen masuk",
            Some(table.tl_bp[3]),
            PER_TIME,
        ),
        (
            "PSW1",
            "Pulang sebelum waktunya 1–30 menit",
            Some(table.psw_bp[0]),
            PER_TIME,
        ),
        (
            "PSW2",
            "Pulang sebelum waktunya 31–60 menit",
            Some(table.psw_bp[1]),
            PER_TIME,
        ),
        (
            "PSW3",
            "Pulang sebelum waktunya 61–90 menit",
            Some(table.psw_bp[2]),
            PER_TIME,
        ),
        (
            "PSW4",
            "Pulang sebelum waktunya ≥ 91 menit atau tidak absen pulang",
            Some(table.psw_bp[3]),
            PER_TIME,
        ),
        (
            "TK",
            "Tidak masuk kerja tanpa keterangan",
            Some(table.tk_bp),
            "per hari",
        ),
        (
            "Batas potongan",
            "Potongan sebulan paling banyak",
            Some(table.cap_bp),
            OF_PART,
        ),
        (
            "Bobot kehadiran",
            "Bagian kehadiran dalam TPP",
            Some(table.attendance_weight_bp),
            "dari TPP",
        ),
        (
            "Manipulasi",
            "Manipulasi terbukti: bagian kehadiran bulan itu 0",
            None,
            "",
        ),
        (
            "Dispensasi",
            "Hadir karena tugas kedinasan di luar (dihitung hadir, tanpa potongan)",
            None,
            "",
        ),
        (
            "Mesin",
            "Hari yang dihitung dari mesin absensi (wajah/sidik jari)",
            None,
            "",
        ),
        (
            "Koreksi",
            "Nomor urut koreksi admin yang berlaku untuk bulan itu",
            None,
            "",
        ),
        (
            "Flag belum ditinjau",
            "Absensi bertanda yang belum ditinjau (tetap dihitung sampai dibatalkan)",
            None,
            "",
        ),
        (
            "Kosong",
            "TPP pegawai belum diketahui: nilai rupiah dibiarkan kosong",
            None,
            "",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique_case_insensitively() {
        let names = unit_sheet_names([
            "DINKES",
            "dinkes",
            "Dinas/Kes:[1]*?\\",
            "'quoted'",
            "",
            "ringkasan",
            "HISTORY",
            "A very long unit identifier that exceeds Excel",
            "A very long unit identifier that exceeds Excel too",
            "A very long unit identifier that exceeds Excel",
        ]);
        assert_eq!(
            names,
            [
                "DINKES",
                "dinkes (2)",
                "Dinas_Kes__1____",
                "quoted",
                "Unit",
                "ringkasan (2)",
                "HISTORY (2)",
                "A very long unit identifier tha",
                "A very long unit identifier (2)",
                "A very long unit identifier (3)",
            ]
        );
        let mut seen = HashSet::new();
        for name in &names {
            rust_xlsxwriter::utility::check_sheet_name(name).expect(name);
            assert!(seen.insert(name.to_lowercase()), "{name} twice");
        }
    }

    #[test]
    fn sheet_names_count_utf16_units_and_never_split_a_character() {
        // 20 emoji are 40 UTF-16 units: 15 fit in 31.
        let names = unit_sheet_names(["😀".repeat(20).as_str(), "😀".repeat(20).as_str()]);
        assert_eq!(names[0], "😀".repeat(15));
        assert_eq!(names[1], format!("{} (2)", "😀".repeat(13)));
        for name in &names {
            rust_xlsxwriter::utility::check_sheet_name(name).expect(name);
        }
    }

    #[test]
    fn months_read_in_indonesian() {
        assert_eq!(
            indonesian_month(Month {
                year: 2026,
                month: 11
            }),
            "November 2026"
        );
        assert_eq!(
            indonesian_month(Month {
                year: 2027,
                month: 2
            }),
            "Februari 2027"
        );
        assert_eq!(
            indonesian_month(Month {
                year: 2027,
                month: 13
            }),
            "2027-13"
        );
        assert_eq!(
            indonesian_month(Month {
                year: 2027,
                month: 0
            }),
            "2027-00"
        );
    }

    #[test]
    fn percentages_print_exactly_from_basis_points() {
        assert_eq!(Cell::Percent(1250).csv_text(), "12.50");
        assert_eq!(Cell::Percent(5).csv_text(), "0.05");
        assert_eq!(Cell::Percent(10000).csv_text(), "100.00");
        assert_eq!(percent_from_bp(1250), 12.5);
    }

    #[test]
    fn csv_text_never_starts_a_formula() {
        for text in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(
                Cell::Text(Cow::Borrowed(text)).csv_text(),
                format!("'{text}"),
                "{text:?}"
            );
        }
        assert_eq!(Cell::Id("=1").csv_text(), "'=1");
        assert_eq!(Cell::Text(Cow::Owned("=x".into())).csv_text(), "'=x");
        assert_eq!(
            Cell::Text(Cow::Borrowed("Ahmad = Abah")).csv_text(),
            "Ahmad = Abah"
        );
        assert_eq!(
            Cell::Id("198503122010011003").csv_text(),
            "198503122010011003"
        );
    }

    #[test]
    fn average_deduction_rounds_half_up_to_a_whole_basis_point() {
        let totals = Totals {
            people: 2,
            deduction_bp: 151,
            ..Totals::default()
        };
        assert_eq!(totals.average_deduction_bp(), Some(76));
        let totals = Totals {
            people: 3,
            deduction_bp: 100,
            ..Totals::default()
        };
        assert_eq!(totals.average_deduction_bp(), Some(33));
        assert_eq!(Totals::default().average_deduction_bp(), None);
    }

    #[test]
    fn leave_columns_put_known_kinds_first() {
        let kinds: BTreeSet<&str> = ["izin", "cuti_bersalin", "cuti", "sakit"]
            .into_iter()
            .collect();
        let ordered = ordered_leave_kinds(kinds);
        assert_eq!(ordered, ["cuti", "sakit", "izin", "cuti_bersalin"]);
        let headers: Vec<String> = ordered.iter().map(|k| leave_header(k)).collect();
        assert_eq!(headers, ["Cuti", "Sakit", "Izin", "Cuti bersalin"]);
    }
}
