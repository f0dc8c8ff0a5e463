//! The month's end commands of `hadir-server` (flattened into its command line): admins,
//! the pemda's settings, imports, corrections, closing months, the recap and its
//! exports, the review list, the audit, the freeze switch. Every one of them names the
//! admin who acts (`--admin nip:...` or `HADIR_ADMIN`), checked against the registered
//! admins; `admin init` registers the first.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};
use hadir_core::ids::PersonId;
use hadir_core::wire::AttendanceKind;

use super::close;
use super::corrections::{self, LeaveSpec, Verdict};
use super::recap::{self, parse_month};
use super::store;
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{month_tables, person_key};

/// Month's end commands.
#[derive(Debug, Subcommand)]
pub enum MonthEndCommand {
    /// Admins: who may run admin commands (named with --admin on each).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The pemda: its name and deduction table.
    Pemda {
        #[command(subcommand)]
        command: PemdaCommand,
    },
    /// Approved leave (cuti, sakit, dinas luar, izin): add, correct, remove.
    Leave {
        #[command(subcommand)]
        command: LeaveCommand,
    },
    /// Manual attendance ("dispensasi"): a whole day, or one attendance.
    Attendance {
        #[command(subcommand)]
        command: AttendanceCommand,
    },
    /// Review of a check-in: accept a rejected one, overturn an accepted one, confirm a
    /// flagged one.
    Checkin {
        #[command(subcommand)]
        command: CheckinCommand,
    },
    /// Proven manipulation: zeroes the person's attendance part for the month.
    Manipulation {
        #[command(subcommand)]
        command: ManipulationCommand,
    },
    /// Closing and reopening a month.
    Month {
        #[command(subcommand)]
        command: MonthCommand,
    },
    /// The month's recap.
    Recap {
        #[command(subcommand)]
        command: RecapCommand,
    },
    /// What must be reviewed before (or after) a month closes.
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// Corrections and their hash chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Suspending attendance by phone for the pemda or a unit.
    Freeze {
        #[command(subcommand)]
        command: FreezeCommand,
    },
    /// Face/fingerprint machines whose logs are imported.
    Machine {
        #[command(subcommand)]
        command: MachineCommand,
    },
    /// Imports, each all-or-nothing: people, offices, holidays, machine logs.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

/// `import ...`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// People (CSV: jenis_id,id,nama,unit_id,unit_nama,kantor,atasan,tpp).
    People {
        /// The CSV file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Offices: CSV (id,nama,utc_offset_menit,lat,lon,radius_m[,akurasi_maks_m,wajib_qr])
    /// or GeoJSON polygons (`.geojson`/`.json`).
    Offices {
        /// The CSV or GeoJSON file.
        #[arg(long)]
        file: PathBuf,
    },
    /// The pemda's holidays and cuti bersama (CSV: tanggal,nama,jenis).
    Holidays {
        /// The CSV file.
        #[arg(long)]
        file: PathBuf,
    },
    /// A face/fingerprint machine's attendance log (attlog text export).
    Attlog {
        /// The machine (`machine set` first).
        #[arg(long)]
        machine: String,
        /// The attlog file.
        #[arg(long)]
        file: PathBuf,
        /// Map of machine user ids to people (CSV: user_id,orang), kept for later imports.
        #[arg(long)]
        users: Option<PathBuf>,
    },
}

/// `admin ...`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Registers the first admin (only while there is none).
    Init {
        /// The admin: `nip:...` (or `ni_pppk:`, `non_asn:`).
        #[arg(long)]
        person: String,
        /// Their name.
        #[arg(long)]
        name: String,
    },
    /// Registers another admin (a registered person).
    Add {
        /// The person.
        #[arg(long)]
        person: String,
        /// Why (e.g. the decree appointing them).
        #[arg(long)]
        reason: String,
    },
    /// Lists the admins.
    List,
}

/// `pemda ...`.
#[derive(Debug, Subcommand)]
pub enum PemdaCommand {
    /// Sets the pemda's name and/or loads its deduction table (JSON, see docs/RECAP.md).
    Set {
        /// E.g. "Kabupaten Bengkulu Utara".
        #[arg(long)]
        name: Option<String>,
        /// The deduction table JSON file.
        #[arg(long)]
        deduction_table: Option<PathBuf>,
        /// Why (e.g. the regulation).
        #[arg(long)]
        reason: String,
    },
    /// Prints the name and the deduction table in force.
    Show,
}

/// Kinds of leave.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LeaveKindArg {
    /// Cuti.
    Cuti,
    /// Sakit.
    Sakit,
    /// Dinas luar.
    #[value(alias = "dinas_luar")]
    DinasLuar,
    /// Izin.
    Izin,
}

impl LeaveKindArg {
    fn as_str(self) -> &'static str {
        match self {
            LeaveKindArg::Cuti => "cuti",
            LeaveKindArg::Sakit => "sakit",
            LeaveKindArg::DinasLuar => "dinas_luar",
            LeaveKindArg::Izin => "izin",
        }
    }
}

/// `leave ...`.
#[derive(Debug, Subcommand)]
pub enum LeaveCommand {
    /// Records approved leave; prints its correction number.
    Add {
        /// The person: `kind:value` or the bare id.
        #[arg(long)]
        person: String,
        /// Kind of leave.
        #[arg(long, value_enum)]
        kind: LeaveKindArg,
        /// First day, YYYY-MM-DD.
        #[arg(long, value_parser = iso_date)]
        from: NaiveDate,
        /// Last day, YYYY-MM-DD (inclusive).
        #[arg(long, value_parser = iso_date)]
        to: NaiveDate,
        /// A note, e.g. the letter number.
        #[arg(long, default_value = "")]
        note: String,
        /// Why (defaults to the note).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Replaces a recorded leave (by its correction number) with corrected dates/kind.
    Correct {
        /// The correction number that recorded it (`leave add` printed it; after a
        /// `leave correct`, the correction's own number).
        #[arg(long)]
        leave: i64,
        /// Kind of leave.
        #[arg(long, value_enum)]
        kind: LeaveKindArg,
        /// First day.
        #[arg(long, value_parser = iso_date)]
        from: NaiveDate,
        /// Last day.
        #[arg(long, value_parser = iso_date)]
        to: NaiveDate,
        /// A note.
        #[arg(long, default_value = "")]
        note: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Withdraws a recorded leave.
    Remove {
        /// The correction number that recorded it.
        #[arg(long)]
        leave: i64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// Attendance kinds on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// Arrival.
    #[value(alias = "check_in")]
    CheckIn,
    /// Break start.
    #[value(alias = "break_start")]
    BreakStart,
    /// Break end.
    #[value(alias = "break_end")]
    BreakEnd,
    /// Leaving.
    #[value(alias = "check_out")]
    CheckOut,
}

impl From<KindArg> for AttendanceKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::CheckIn => AttendanceKind::CheckIn,
            KindArg::BreakStart => AttendanceKind::BreakStart,
            KindArg::BreakEnd => AttendanceKind::BreakEnd,
            KindArg::CheckOut => AttendanceKind::CheckOut,
        }
    }
}

/// `attendance ...`.
#[derive(Debug, Subcommand)]
pub enum AttendanceCommand {
    /// Records manual attendance: the whole day without --kind (dispensasi), else that
    /// attendance at its scheduled time.
    Add {
        /// The person.
        #[arg(long)]
        person: String,
        /// The office-local date.
        #[arg(long, value_parser = iso_date)]
        date: NaiveDate,
        /// One attendance only.
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        /// Why (e.g. "ST 800/123 dinas ke provinsi").
        #[arg(long)]
        reason: String,
    },
    /// Withdraws a manual attendance (by the correction number that recorded it).
    Remove {
        /// The correction number.
        #[arg(long)]
        correction: i64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// `checkin ...`.
#[derive(Debug, Subcommand)]
pub enum CheckinCommand {
    /// A rejected check-in counts after review.
    Accept {
        /// The check-in id.
        #[arg(long)]
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// An accepted check-in no longer counts.
    Overturn {
        /// The check-in id.
        #[arg(long)]
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// A flagged check-in was reviewed and stands.
    Confirm {
        /// The check-in id.
        #[arg(long)]
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// `manipulation ...`.
#[derive(Debug, Subcommand)]
pub enum ManipulationCommand {
    /// Records proven manipulation for a person and month.
    Record {
        /// The person.
        #[arg(long)]
        person: String,
        /// YYYY-MM.
        #[arg(long)]
        month: String,
        /// The finding (e.g. the inspection report's number).
        #[arg(long)]
        reason: String,
    },
    /// Withdraws a manipulation decision (by the correction number that recorded it).
    Revoke {
        /// The correction number.
        #[arg(long)]
        correction: i64,
        /// Why (e.g. the appeal's decision).
        #[arg(long)]
        reason: String,
    },
}

/// `month ...`.
#[derive(Debug, Subcommand)]
pub enum MonthCommand {
    /// Locks a month: its recap is stored as counted now.
    Close {
        /// YYYY-MM.
        #[arg(long)]
        month: String,
        /// Why (e.g. "rekap TPP November dikirim ke BPKAD").
        #[arg(long)]
        reason: String,
    },
    /// Unlocks a closed month.
    Reopen {
        /// YYYY-MM.
        #[arg(long)]
        month: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// `recap ...`.
#[derive(Debug, Subcommand)]
pub enum RecapCommand {
    /// Prints the recap, one line per person (tab-separated).
    Show {
        /// YYYY-MM.
        #[arg(long)]
        month: String,
        /// One unit only.
        #[arg(long)]
        unit: Option<String>,
    },
    /// Writes the recap as XLSX (summary sheet, one sheet per unit, the codes spelled
    /// out) or CSV (one row per person).
    Export {
        /// YYYY-MM.
        #[arg(long)]
        month: String,
        /// One unit only.
        #[arg(long)]
        unit: Option<String>,
        /// The XLSX file to write.
        #[arg(long, conflicts_with = "csv", required_unless_present = "csv")]
        xlsx: Option<PathBuf>,
        /// The CSV file to write.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Unexcused absence (TK) over a year, per person, with the PP 94/2021 thresholds
    /// reached (3, 7, 11, 14, 21, 28 days ...; 10 working days in a row): the months of
    /// the year so far, counted from the records with their corrections.
    Yearly {
        /// E.g. 2026.
        #[arg(long, value_parser = clap::value_parser!(i32).range(2000..=2100))]
        year: i32,
        /// One unit only.
        #[arg(long)]
        unit: Option<String>,
    },
}

/// `review ...`.
#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Flagged check-ins not yet reviewed, and what arrived after the month closed.
    List {
        /// YYYY-MM.
        #[arg(long)]
        month: String,
    },
}

/// `audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walks the corrections' hash chain; fails on any row changed or removed.
    Verify,
    /// Lists corrections (all, or one person's and/or one month's).
    List {
        /// The person.
        #[arg(long)]
        person: Option<String>,
        /// YYYY-MM.
        #[arg(long)]
        month: Option<String>,
    },
}

/// `freeze ...`.
#[derive(Debug, Subcommand)]
pub enum FreezeCommand {
    /// Suspends attendance by phone from now (the pemda, or one unit).
    On {
        /// One unit only.
        #[arg(long)]
        unit: Option<String>,
        /// Shown to staff on their phones.
        #[arg(long)]
        reason: String,
    },
    /// Lifts the switch.
    Off {
        /// One unit only.
        #[arg(long)]
        unit: Option<String>,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Lists the suspension windows, in force and lifted.
    Show,
}

/// `machine ...`.
#[derive(Debug, Subcommand)]
pub enum MachineCommand {
    /// Adds or updates a machine; its clock offset corrects punches imported from then on.
    Set {
        /// Machine id, e.g. its serial number.
        #[arg(long)]
        id: String,
        /// The office where it stands (its time zone applies).
        #[arg(long)]
        office: String,
        /// How many seconds the machine's clock runs ahead of true time (negative when
        /// behind).
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        clock_offset_seconds: i64,
        /// Where it hangs.
        #[arg(long, default_value = "")]
        label: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

fn iso_date(text: &str) -> Result<NaiveDate, String> {
    hadir_core::schedule::iso_date::parse(text).ok_or_else(|| format!("{text:?} is not YYYY-MM-DD"))
}

fn month_arg(text: &str) -> Result<hadir_recap::model::Month, String> {
    parse_month(text).ok_or_else(|| format!("--month {text:?}: tulis YYYY-MM, mis. 2026-11"))
}

/// Resolves `kind:value` or a bare id among registered people to a person key.
pub fn resolve_person(storage: &SqliteStorage, spec: &str) -> Result<String, String> {
    crate::admin::find_person(storage, spec)
        .map(|id| person_key(&id))
        .map_err(|e| {
            format!(
                "PERSON_UNKNOWN: {spec:?} bukan pegawai terdaftar (tulis nip:..., ni_pppk:... \
                 atau non_asn:..., atau id 18 digit; pegawai masuk lewat `import people`) ({e})"
            )
        })
}

/// The acting admin's person key, checked.
pub fn acting_admin(storage: &SqliteStorage, admin: Option<&str>) -> Result<String, String> {
    let spec = admin.ok_or(
        "ADMIN_REQUIRED: setiap perintah admin wajib menyebut adminnya: --admin nip:... \
         (atau HADIR_ADMIN); admin pertama didaftarkan dengan `admin init`",
    )?;
    let key = resolve_person(storage, spec)?;
    store::check_admin(storage, &key)
        .map_err(|e| format!("{e} (lihat `admin list`; admin baru: `admin add`)"))?;
    Ok(key)
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress_bar(total: u64, label: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_string());
    bar
}

/// Whether a unit (OPD) id is known.
fn unit_exists(s: &SqliteStorage, unit: &str) -> Result<bool, String> {
    s.read(|c| {
        Ok(c.query_row(
            "SELECT EXISTS (SELECT 1 FROM units WHERE id = ?1)",
            [unit],
            |r| r.get(0),
        )?)
    })
    .map_err(text)
}

fn text(e: crate::storage::StorageError) -> String {
    e.to_string()
}

fn ms_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Runs a month's end command as the admin named by `admin`.
pub fn run(
    storage: &SqliteStorage,
    admin: Option<&str>,
    command: &MonthEndCommand,
) -> Result<(), String> {
    if let MonthEndCommand::Admin {
        command: AdminCommand::Init { person, name },
    } = command
    {
        let id: PersonId = person
            .parse()
            .map_err(|e: hadir_core::ids::IdError| e.to_string())?;
        let seq = store::init_admin(storage, &id, name).map_err(text)?;
        eprintln!("admin {} registered (correction #{seq})", person_key(&id));
        return Ok(());
    }
    let actor = acting_admin(storage, admin)?;
    let s = storage;
    match command {
        MonthEndCommand::Admin { command } => match command {
            AdminCommand::Init { .. } => unreachable!("handled above"),
            AdminCommand::Add { person, reason } => {
                let key = resolve_person(s, person)?;
                let seq = store::add_admin(s, &actor, &key, reason).map_err(text)?;
                eprintln!("admin {key} registered (correction #{seq})");
            }
            AdminCommand::List => {
                let rows: Vec<(String, i64)> = s
                    .read(|c| {
                        let mut st = c.prepare(
                            "SELECT person_key, added_seq FROM admins ORDER BY added_seq",
                        )?;
                        let v = st
                            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(v)
                    })
                    .map_err(text)?;
                for (k, seq) in rows {
                    println!("{k}\t#{seq}");
                }
            }
        },
        MonthEndCommand::Pemda { command } => match command {
            PemdaCommand::Set {
                name,
                deduction_table,
                reason,
            } => {
                let table = match deduction_table {
                    Some(path) => {
                        let t = std::fs::read_to_string(path)
                            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                        hadir_recap::deductions::DeductionTable::from_json(&t)
                            .map_err(|e| format!("{}: {}: {e}", path.display(), e.code()))?;
                        Some(t)
                    }
                    None => None,
                };
                if name.is_none() && table.is_none() {
                    return Err("give --name and/or --deduction-table".into());
                }
                let seq =
                    corrections::set_pemda(s, &actor, name.clone(), table, reason).map_err(text)?;
                eprintln!("pemda settings saved (correction #{seq})");
            }
            PemdaCommand::Show => {
                let (name, table) = s
                    .read(|c| {
                        Ok((
                            month_tables::setting(c, "name")?,
                            recap::deduction_table(c)?,
                        ))
                    })
                    .map_err(text)?;
                println!("name\t{}", name.unwrap_or_default());
                println!(
                    "{}",
                    serde_json::to_string_pretty(&table).expect("a table serialises")
                );
            }
        },
        MonthEndCommand::Leave { command } => run_leave(s, &actor, command)?,
        MonthEndCommand::Attendance {
            command: AttendanceCommand::Remove { correction, reason },
        } => {
            let seq = corrections::withdraw(s, &actor, *correction, "manual_attendance", reason)
                .map_err(text)?;
            eprintln!("manual attendance #{correction} withdrawn (correction #{seq})");
        }
        MonthEndCommand::Manipulation {
            command: ManipulationCommand::Revoke { correction, reason },
        } => {
            let seq = corrections::withdraw(s, &actor, *correction, "manipulation", reason)
                .map_err(text)?;
            eprintln!("manipulation #{correction} withdrawn (correction #{seq})");
        }
        MonthEndCommand::Attendance {
            command:
                AttendanceCommand::Add {
                    person,
                    date,
                    kind,
                    reason,
                },
        } => {
            let key = resolve_person(s, person)?;
            let seq = corrections::manual_attendance(
                s,
                &actor,
                &key,
                *date,
                kind.map(AttendanceKind::from),
                reason,
            )
            .map_err(text)?;
            eprintln!("manual attendance of {key} on {date} recorded (correction #{seq})");
        }
        MonthEndCommand::Checkin { command } => {
            let (id, verdict, reason) = match command {
                CheckinCommand::Accept { id, reason } => (id, Verdict::Accept, reason),
                CheckinCommand::Overturn { id, reason } => (id, Verdict::Overturn, reason),
                CheckinCommand::Confirm { id, reason } => (id, Verdict::Confirm, reason),
            };
            let seq = corrections::review_checkin(s, &actor, id, verdict, reason).map_err(text)?;
            eprintln!("check-in {id}: {} (correction #{seq})", verdict.as_str());
        }
        MonthEndCommand::Manipulation {
            command:
                ManipulationCommand::Record {
                    person,
                    month,
                    reason,
                },
        } => {
            let key = resolve_person(s, person)?;
            let m = month_arg(month)?;
            let seq = corrections::manipulation(s, &actor, &key, &recap::month_text(m), reason)
                .map_err(text)?;
            eprintln!("manipulation by {key} in {month} recorded (correction #{seq})");
        }
        MonthEndCommand::Month { command } => match command {
            MonthCommand::Close { month, reason } => {
                let (seq, snapshot) =
                    close::close(s, &actor, month_arg(month)?, reason).map_err(text)?;
                eprintln!(
                    "month {month} closed (correction #{seq}); {} people locked",
                    snapshot.rows.len()
                );
            }
            MonthCommand::Reopen { month, reason } => {
                let seq = close::reopen(s, &actor, month_arg(month)?, reason).map_err(text)?;
                eprintln!("month {month} reopened (correction #{seq})");
            }
        },
        MonthEndCommand::Recap { command } => match command {
            RecapCommand::Show {
                unit: Some(unit), ..
            }
            | RecapCommand::Export {
                unit: Some(unit), ..
            }
            | RecapCommand::Yearly {
                unit: Some(unit), ..
            } if !unit_exists(s, unit)? => {
                return Err(format!(
                    "UNIT_UNKNOWN: tidak ada unit {unit:?} (id unit ditulis huruf kecil, seperti \
                     di kolom unit_id berkas pegawai)"
                ));
            }
            RecapCommand::Show { month, unit } => {
                let r = recap::recap(s, month_arg(month)?, unit.as_deref()).map_err(text)?;
                print_recap(&r);
            }
            RecapCommand::Yearly { year, unit } => {
                for line in yearly(s, *year, unit.as_deref())? {
                    println!("{line}");
                }
            }
            RecapCommand::Export {
                month,
                unit,
                xlsx,
                csv,
            } => {
                let r = recap::recap(s, month_arg(month)?, unit.as_deref()).map_err(text)?;
                let bar = progress_bar(r.rows.len() as u64, "ekspor");
                let mut tick = |done: u64, total: u64| {
                    bar.set_length(total);
                    bar.set_position(done);
                };
                let (path, written) = match (xlsx, csv) {
                    (Some(p), _) => (p, super::export::write_xlsx(&r, p, &mut tick)),
                    (None, Some(p)) => (p, super::export::write_csv(&r, p, &mut tick)),
                    (None, None) => unreachable!("clap requires one"),
                };
                bar.finish_and_clear();
                written.map_err(|e| format!("{}: {e}", e.code()))?;
                eprintln!(
                    "recap {month} ({} people{}) written to {}",
                    r.rows.len(),
                    if r.closed { ", closed" } else { "" },
                    path.display()
                );
            }
        },
        MonthEndCommand::Review {
            command: ReviewCommand::List { month },
        } => {
            for item in close::review_list(s, month_arg(month)?).map_err(text)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    item.kind,
                    item.person_key,
                    ms_text(item.at_ms),
                    item.reference,
                    item.codes
                );
            }
        }
        MonthEndCommand::Audit { command } => run_audit(s, command)?,
        MonthEndCommand::Import { command } => super::import_cli::run(s, &actor, command)?,
        MonthEndCommand::Freeze { command } => match command {
            FreezeCommand::On { unit, reason } | FreezeCommand::Off { unit, reason } => {
                let on = matches!(command, FreezeCommand::On { .. });
                let seq =
                    corrections::freeze(s, &actor, unit.as_deref(), on, reason).map_err(text)?;
                let scope = unit
                    .as_deref()
                    .map_or("the pemda".to_string(), |u| format!("unit {u}"));
                eprintln!(
                    "attendance by phone {} for {scope} (correction #{seq})",
                    if on { "suspended" } else { "resumed" }
                );
            }
            FreezeCommand::Show => {
                for f in s.read(month_tables::freezes).map_err(text)? {
                    let until = f
                        .until_ms
                        .map_or("in force".to_string(), |u| format!("until {}", ms_text(u)));
                    println!(
                        "{}\tsince {}\t{until}\t{}",
                        f.scope,
                        ms_text(f.since_ms),
                        f.reason
                    );
                }
            }
        },
        MonthEndCommand::Machine {
            command:
                MachineCommand::Set {
                    id,
                    office,
                    clock_offset_seconds,
                    label,
                    reason,
                },
        } => {
            let seq = corrections::machine_add(
                s,
                &actor,
                id,
                office,
                *clock_offset_seconds,
                label,
                reason,
            )
            .map_err(text)?;
            eprintln!("machine {id} saved (correction #{seq})");
        }
    }
    Ok(())
}

fn run_leave(s: &SqliteStorage, actor: &str, command: &LeaveCommand) -> Result<(), String> {
    match command {
        LeaveCommand::Add {
            person,
            kind,
            from,
            to,
            note,
            reason,
        } => {
            let key = resolve_person(s, person)?;
            let reason = reason.clone().unwrap_or_else(|| note.clone());
            let leave = LeaveSpec {
                kind: kind.as_str().into(),
                from: *from,
                to: *to,
                note: note.clone(),
            };
            let seq = corrections::leave_add(s, actor, &key, leave, &reason).map_err(text)?;
            eprintln!("leave of {key} {from}..{to} recorded (correction #{seq})");
            println!("{seq}");
        }
        LeaveCommand::Correct {
            leave,
            kind,
            from,
            to,
            note,
            reason,
        } => {
            let spec = LeaveSpec {
                kind: kind.as_str().into(),
                from: *from,
                to: *to,
                note: note.clone(),
            };
            let seq =
                corrections::leave_replace(s, actor, *leave, Some(spec), reason).map_err(text)?;
            eprintln!("leave #{leave} corrected to {from}..{to} (correction #{seq})");
            println!("{seq}");
        }
        LeaveCommand::Remove { leave, reason } => {
            let seq = corrections::leave_replace(s, actor, *leave, None, reason).map_err(text)?;
            eprintln!("leave #{leave} removed (correction #{seq})");
        }
    }
    Ok(())
}

fn run_audit(s: &SqliteStorage, command: &AuditCommand) -> Result<(), String> {
    match command {
        AuditCommand::Verify => {
            let report = s.read(month_tables::verify_chain).map_err(text)?;
            for b in &report.breaks {
                println!("BROKEN\t{b}");
            }
            match &report.head {
                Some((seq, hash)) => println!("rows\t{}\nhead\t#{seq} {hash}", report.rows),
                None => println!("rows\t0"),
            }
            if !report.breaks.is_empty() {
                return Err(format!(
                    "AUDIT_CHAIN_BROKEN: {} break(s) in the corrections' chain",
                    report.breaks.len()
                ));
            }
        }
        AuditCommand::List { person, month } => {
            let key = person
                .as_deref()
                .map(|p| resolve_person(s, p))
                .transpose()?;
            let m = month
                .as_deref()
                .map(month_arg)
                .transpose()?
                .map(recap::month_text);
            let rows = s
                .read(|c| month_tables::corrections(c, key.as_deref(), m.as_deref()))
                .map_err(text)?;
            for r in rows {
                println!(
                    "#{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.seq,
                    ms_text(r.created_ms),
                    r.kind,
                    r.admin_key,
                    r.person_key.unwrap_or_default(),
                    r.month.unwrap_or_default(),
                    r.reason,
                    r.body
                );
            }
        }
    }
    Ok(())
}

/// `recap yearly`: every person with TK in the year, with their counts and the lines of
/// the thresholds reached.
fn yearly(s: &SqliteStorage, year: i32, unit: Option<&str>) -> Result<Vec<String>, String> {
    use std::collections::BTreeMap;
    let today = chrono::DateTime::from_timestamp_millis(crate::storage::Storage::clock(s).now_ms())
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let mut days: BTreeMap<String, (String, Vec<hadir_recap::model::CountedDay>)> = BTreeMap::new();
    for month in 1..=12u32 {
        let m = hadir_recap::model::Month { year, month };
        if recap::month_days(m).0 > today {
            break;
        }
        for row in recap::compute(s, m, unit).map_err(text)?.rows {
            let entry = days
                .entry(row.person_key.clone())
                .or_insert_with(|| (row.display_name.clone(), Vec::new()));
            entry.1.extend(row.counted.days);
        }
    }
    let mut out = vec!["id	nama	TK	berturut_terpanjang	ambang".to_string()];
    for (key, (name, person_days)) in days {
        let y = hadir_recap::yearly::yearly_absence(year, &person_days);
        if y.tk_days == 0 {
            continue;
        }
        let reached: Vec<String> = y.thresholds_reached.iter().map(u32::to_string).collect();
        out.push(format!(
            "{key}\t{name}\t{}\t{}\t{}{}",
            y.tk_days,
            y.longest_run,
            reached.join(","),
            if y.run_of_ten { ",10-berturut" } else { "" }
        ));
        for line in y.lines() {
            out.push(format!("\t{line}"));
        }
    }
    Ok(out)
}

/// One header line and one tab-separated line per person.
fn print_recap(r: &hadir_recap::model::PemdaRecap) {
    println!(
        "# {} {} {}",
        r.pemda,
        recap::month_text(r.month),
        if r.closed {
            "TERKUNCI"
        } else {
            "belum dikunci"
        }
    );
    println!(
        "unit\tid\tnama\thari_kerja\thadir\tTL1\tTL2\tTL3\tTL4\tPSW1\tPSW2\tPSW3\tPSW4\tTK\tcuti\t\
         potongan_bp\tdibayar_bp\tdibayar_rp\tkoreksi\tflag"
    );
    for row in &r.rows {
        let c = &row.counted;
        let join = |v: &[u32; 4]| v.map(|n| n.to_string()).join("\t");
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            row.unit_id,
            row.person_key,
            row.display_name,
            c.working_days,
            c.present_days,
            join(&c.tl),
            join(&c.psw),
            c.tk_days,
            c.leave_days.values().sum::<u32>(),
            c.deduction_bp,
            c.paid_share_bp,
            c.paid_rupiah.map(|v| v.to_string()).unwrap_or_default(),
            row.corrections
                .iter()
                .map(|s| format!("#{s}"))
                .collect::<Vec<_>>()
                .join(","),
            row.flags_pending
        );
    }
}
