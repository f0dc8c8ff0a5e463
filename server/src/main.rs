//! `hadir-server`: runs the HTTP API (`serve`) and the admin bootstrap commands.
//!
//! ```text
//! hadir-server [--config FILE] [--db PATH] [--selfie-dir DIR] serve [--listen ADDR]
//! hadir-server office add --id kominfo --name "Dinas Kominfo" --utc-offset-minutes 420 \
//!     --lat -3.79 --lon 102.26 --radius-m 80 [--max-accuracy-m 50]
//! hadir-server office add --id kominfo --name "Dinas Kominfo" --utc-offset-minutes 420 \
//!     --polygon-file zone.geojson
//! hadir-server office schedule --id kominfo --file schedule.json
//! hadir-server person add --kind nip --id 198503122010011003 --name "Budi" --office kominfo \
//!     [--supervisor nip:197001011995031001]
//! hadir-server enroll-code issue --person 198503122010011003 [--valid-hours 72]
//! hadir-server device list [--person 198503122010011003]   # with each key's attestation
//! hadir-server device recheck          # judge stored chains again (roots, status list)
//! hadir-server device revoke --device dev-0123456789abcdef0123
//! hadir-server attestation status-load --file status.json   # Google's revocation list
//! hadir-server attestation status-show
//! hadir-server kiosk enroll --office kominfo [--label "Lobi lantai 1"]   # prints the credential
//! hadir-server kiosk list                                   # with each kiosk's last fetch
//! hadir-server kiosk revoke --kiosk kiosk-0123456789
//! hadir-server qr waive --office kominfo --date 2026-12-01 --reason "monitor rusak" --admin nip:...
//! hadir-server qr waivers
//! hadir-server demo-setup
//! ```
//!
//! Month's end (`hadir_server::month::cli`; `docs/RECAP.md`): `admin init|add|list`,
//! `pemda set|show`, `import ...`, `machine set`, `leave add|correct|remove`,
//! `attendance add`, `checkin accept|overturn|confirm`, `manipulation record`,
//! `month close|reopen`, `recap show|export|yearly`, `review list`, `audit verify|list`,
//! `freeze on|off|show`, each with `--admin nip:...`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use hadir_core::geofence::{DEFAULT_MAX_ACCURACY_M, LatLon, Office};
use hadir_core::ids::{PersonId, PersonIdKind};
use hadir_server::admin::{self, AdminError};
use hadir_server::attestation::{AttestationRoots, sanitize_reason};
use hadir_server::attestation_status::{self, MAX_STATUS_LIST_BYTES};
use hadir_server::month::cli::{self as month_cli, MonthEndCommand};
use hadir_server::storage::sqlite::SqliteStorage;
use hadir_server::storage::{PersonRecord, Storage};
use hadir_server::{ServerConfig, serve};

/// Hadir attendance server.
#[derive(Debug, Parser)]
#[command(name = "hadir-server", version, about)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// SQLite database file (overrides the file and HADIR_DB).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Selfie folder (overrides the file and HADIR_SELFIE_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    selfie_dir: Option<PathBuf>,
    /// The admin running the command, `nip:...` (or the bare id), registered with
    /// `admin init` / `admin add`. Required by every month's end command, and by every
    /// other admin command once an admin is registered.
    #[arg(long, global = true, env = "HADIR_ADMIN", value_name = "PERSON")]
    admin: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API; prints `listening on ADDR` once bound.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:0 (overrides the file and HADIR_LISTEN).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Offices.
    Office {
        #[command(subcommand)]
        command: OfficeCommand,
    },
    /// People.
    Person {
        #[command(subcommand)]
        command: PersonCommand,
    },
    /// Enrollment codes.
    EnrollCode {
        #[command(subcommand)]
        command: CodeCommand,
    },
    /// Devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Office monitors showing the office QR (`GET /kiosk`).
    Kiosk {
        #[command(subcommand)]
        command: KioskCommand,
    },
    /// Waivers of the office QR (a broken monitor).
    Qr {
        #[command(subcommand)]
        command: QrCommand,
    },
    /// Google's key attestation revocation status list.
    Attestation {
        #[command(subcommand)]
        command: AttestationCommand,
    },
    /// Create a demo office in Bengkulu, a demo person and their supervisor; print the
    /// person's enrollment code.
    DemoSetup,
    #[command(flatten)]
    MonthEnd(MonthEndCommand),
}

#[derive(Debug, Subcommand)]
enum OfficeCommand {
    /// Add or replace an office with a circle or GeoJSON polygon zone.
    Add(OfficeAdd),
    /// Set an office's working times from a JSON file (without one, an office follows
    /// Perpres 21/2023: 07:30–16:00, Friday 07:30–16:30).
    Schedule {
        /// Office id.
        #[arg(long)]
        id: String,
        /// JSON file: {"week": {"mon": [{"kind": "check_in", "at": "07:45"}, ...], ...},
        /// "periods": [...], "holidays": [...], "tolerance_minutes": 0}.
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct OfficeAdd {
    /// Office id, e.g. kominfo.
    #[arg(long)]
    id: String,
    /// Name shown to staff.
    #[arg(long)]
    name: String,
    /// Offset of local time from UTC: 420 WIB, 480 WITA, 540 WIT.
    #[arg(long, allow_hyphen_values = true)]
    utc_offset_minutes: i32,
    /// Circle centre latitude.
    #[arg(long, allow_hyphen_values = true, requires_all = ["lon", "radius_m"], conflicts_with = "polygon_file")]
    lat: Option<f64>,
    /// Circle centre longitude.
    #[arg(long, allow_hyphen_values = true)]
    lon: Option<f64>,
    /// Circle radius in metres.
    #[arg(long)]
    radius_m: Option<f64>,
    /// GeoJSON file with the zone polygon(s).
    #[arg(long)]
    polygon_file: Option<PathBuf>,
    /// Worst GPS accuracy accepted, metres.
    #[arg(long, default_value_t = DEFAULT_MAX_ACCURACY_M)]
    max_accuracy_m: f64,
    /// Check-ins here must carry the token of the office's QR screen (`kiosk enroll`).
    /// Without it (or --no-qr-required) an office added again keeps its current setting,
    /// so a coordinate edit never turns the QR off; a new office starts without.
    #[arg(long, conflicts_with = "no_qr_required")]
    qr_required: bool,
    /// Turn the office's QR requirement off.
    #[arg(long)]
    no_qr_required: bool,
}

impl OfficeAdd {
    /// The office's QR requirement: as the flags say, else what `current` (the office as
    /// stored, if it exists) has, else off.
    fn qr_required(&self, current: Option<&Office>) -> bool {
        match (self.qr_required, self.no_qr_required) {
            (true, _) => true,
            (_, true) => false,
            // Re-adding an office to fix its area or name keeps its QR requirement.
            (false, false) => current.is_some_and(|o| o.qr_required),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Nip,
    NiPppk,
    NonAsn,
}

#[derive(Debug, Subcommand)]
enum PersonCommand {
    /// Add or replace a person.
    Add {
        /// Identifier kind.
        #[arg(long, value_enum)]
        kind: Kind,
        /// Identifier (NIP, NI PPPK or the regency's id).
        #[arg(long)]
        id: String,
        /// Name as on the roster.
        #[arg(long)]
        name: String,
        /// Office id (repeat for several); the first one's schedule applies.
        #[arg(long = "office", required = true)]
        offices: Vec<String>,
        /// Their direct supervisor, already registered: the bare id, or `kind:value` with
        /// kind nip, ni_pppk or non_asn. Without it (or --no-supervisor) a person added
        /// again keeps their supervisor.
        #[arg(long, conflicts_with = "no_supervisor")]
        supervisor: Option<String>,
        /// Remove the person's supervisor.
        #[arg(long)]
        no_supervisor: bool,
    },
}

#[derive(Debug, Subcommand)]
enum CodeCommand {
    /// Issue a single-use code; prints only the code.
    Issue {
        /// The person: `kind:value` or the bare id.
        #[arg(long)]
        person: String,
        /// Hours until it expires (1 to 8760).
        #[arg(long, default_value_t = 72, value_parser = clap::value_parser!(u32).range(1..=8760))]
        valid_hours: u32,
        /// Also write the enrollment QR (code and person, never the server URL) as an SVG
        /// file, to print on the slip the person scans in the app.
        #[arg(long, value_name = "FILE")]
        qr_svg: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// List devices (id, people, platform, enrolled, revoked, key attestation level as
    /// recorded, and a flag where the key is not proven to be in hardware: software,
    /// none, unverified; or where the chain shows an unlocked bootloader or unverified
    /// boot).
    List {
        /// Only the devices this person is enrolled on (`kind:value` or a registered id).
        #[arg(long)]
        person: Option<String>,
    },
    /// Revoke a device: its requests get 401 AUTH_DEVICE_REVOKED.
    Revoke {
        /// Device id.
        #[arg(long)]
        device: String,
    },
    /// Judge every stored attestation chain again against Google's roots and the
    /// status list loaded now; print and record the devices whose level or reason
    /// changed (a key revoked after its device enrolled).
    Recheck,
}

#[derive(Debug, Subcommand)]
enum AttestationCommand {
    /// Validate and store Google's revocation status list (download
    /// https://android.googleapis.com/attestation/status at the office), replacing the
    /// previous one. Load a fresh one at least every 30 days, then run `device recheck`.
    StatusLoad {
        /// The JSON file as downloaded.
        #[arg(long)]
        file: PathBuf,
    },
    /// When the stored status list was loaded and how many entries it holds.
    StatusShow,
}

#[derive(Debug, Subcommand)]
enum KioskCommand {
    /// Enroll a monitor for an office; prints its credential once (only a hash is kept).
    /// Open the page as `<server>/kiosk#<credential>`.
    Enroll {
        /// Office id.
        #[arg(long)]
        office: String,
        /// Where the screen is, for the list.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List monitors (id, office, label, enrolled, revoked).
    List,
    /// Revoke a monitor: it is refused from its next request.
    Revoke {
        /// Kiosk id (from `kiosk list`).
        #[arg(long)]
        kiosk: String,
    },
}

#[derive(Debug, Subcommand)]
enum QrCommand {
    /// Waive an office's QR for one office-local day: check-ins there without a good
    /// token are accepted with the flag QR_WAIVED. Recorded with who, when and why.
    Waive {
        /// Office id.
        #[arg(long)]
        office: String,
        /// The office-local day, YYYY-MM-DD.
        #[arg(long, value_parser = iso_date)]
        date: NaiveDate,
        /// Why (e.g. "monitor rusak"). Recorded as a correction by the --admin.
        #[arg(long)]
        reason: String,
    },
    /// List recorded waivers.
    Waivers,
}

/// A `YYYY-MM-DD` date for clap, with an error that says so.
fn iso_date(text: &str) -> Result<NaiveDate, String> {
    hadir_core::schedule::iso_date::parse(text.trim())
        .ok_or_else(|| format!("{text:?} is not a date: write YYYY-MM-DD, e.g. 2026-12-01"))
}

fn config_from(cli: &Cli) -> Result<ServerConfig, String> {
    let mut config = ServerConfig::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(db) = &cli.db {
        config.db = db.clone();
    }
    if let Some(dir) = &cli.selfie_dir {
        config.selfie_dir = Some(dir.clone());
    }
    Ok(config)
}

fn office_from(args: &OfficeAdd, qr_required: bool) -> Result<Office, String> {
    if let Some(path) = &args.polygon_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let zones = admin::zones_from_geojson(&text).map_err(|e| e.to_string())?;
        return Ok(Office {
            id: args.id.clone(),
            name: args.name.clone(),
            utc_offset_minutes: args.utc_offset_minutes,
            zones,
            max_accuracy_m: args.max_accuracy_m,
            qr_required,
        });
    }
    match (args.lat, args.lon, args.radius_m) {
        (Some(lat), Some(lon), Some(r)) => Ok(Office {
            qr_required,
            ..admin::circle_office(
                &args.id,
                &args.name,
                args.utc_offset_minutes,
                LatLon::new(lat, lon),
                r,
                args.max_accuracy_m,
            )
        }),
        _ => Err("give --lat, --lon and --radius-m, or --polygon-file".into()),
    }
}

/// Runs one admin command on the database (the server may be running on it: every
/// change bumps the directory version it watches).
fn run_admin(cli: &Cli, config: &ServerConfig) -> Result<(), String> {
    let sqlite = SqliteStorage::open(&config.db, config.write_queue)
        .map_err(|e| format!("cannot open {}: {e}", config.db.display()))?;
    if let Command::MonthEnd(command) = &cli.command {
        return month_cli::run(&sqlite, cli.admin.as_deref(), command);
    }
    let any_admin =
        hadir_server::month::store::admin_count(&sqlite).map_err(|e| e.to_string())? > 0;
    let actor = if any_admin
        || matches!(
            cli.command,
            Command::Qr {
                command: QrCommand::Waive { .. }
            }
        ) {
        Some(month_cli::acting_admin(&sqlite, cli.admin.as_deref())?)
    } else {
        None
    };
    if let (
        Command::Qr {
            command:
                QrCommand::Waive {
                    office,
                    date,
                    reason,
                },
        },
        Some(actor),
    ) = (&cli.command, &actor)
    {
        let seq =
            hadir_server::month::corrections::qr_waiver(&sqlite, actor, office, *date, reason)
                .map_err(|e| e.to_string())?;
        eprintln!(
            "QR of office {office} waived on {date} by {actor}: {reason} (correction #{seq})"
        );
        return Ok(());
    }
    let storage: Arc<dyn Storage> = Arc::new(sqlite);
    let s = storage.as_ref();
    match &cli.command {
        Command::Serve { .. } | Command::MonthEnd(_) => unreachable!("handled before"),
        Command::Office { command } => run_office(s, command),
        Command::Person { command } => run_person(s, command),
        Command::EnrollCode { command } => run_enroll_code(s, command),
        Command::Device { command } => run_device(s, command),
        Command::Kiosk { command } => run_kiosk(s, command),
        Command::Qr { command } => run_qr(s, command),
        Command::Attestation { command } => run_attestation(s, command),
        Command::DemoSetup => run_demo_setup(s),
    }
}

fn admin_err(e: AdminError) -> String {
    e.to_string()
}

/// `office add`, `office schedule`.
fn run_office(s: &dyn Storage, command: &OfficeCommand) -> Result<(), String> {
    match command {
        OfficeCommand::Add(args) => {
            let current = s
                .load_directory()
                .map_err(|e| e.to_string())?
                .offices
                .into_iter()
                .find(|o| o.id == args.id);
            let office = office_from(args, args.qr_required(current.as_ref()))?;
            let id = office.id.clone();
            admin::add_office(s, office).map_err(admin_err)?;
            eprintln!("office {id} saved");
        }
        OfficeCommand::Schedule { id, file } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let schedule = admin::schedule_from_json(&text).map_err(admin_err)?;
            admin::set_schedule(s, id, schedule).map_err(admin_err)?;
            eprintln!("schedule of office {id} saved");
        }
    }
    Ok(())
}

/// `person add`: a person keeps their supervisor when added again without one.
fn run_person(s: &dyn Storage, command: &PersonCommand) -> Result<(), String> {
    let PersonCommand::Add {
        kind,
        id,
        name,
        offices,
        supervisor,
        no_supervisor,
    } = command;
    let kind = match kind {
        Kind::Nip => PersonIdKind::Nip,
        Kind::NiPppk => PersonIdKind::NiPppk,
        Kind::NonAsn => PersonIdKind::NonAsn,
    };
    let pid = PersonId::parse(kind, id).map_err(|e| format!("{}: {e}", e.code()))?;
    let supervisor = match (supervisor.as_deref(), no_supervisor) {
        (Some(spec), _) => {
            Some(admin::find_person(s, spec).map_err(|e| format!("--supervisor: {e}"))?)
        }
        (None, true) => None,
        // Re-adding someone to fix a name or an office keeps their team.
        (None, false) => s
            .load_directory()
            .map_err(|e| e.to_string())?
            .people
            .into_iter()
            .find(|p| p.id == pid)
            .and_then(|p| p.supervisor),
    };
    admin::add_person(
        s,
        PersonRecord {
            id: pid.clone(),
            display_name: name.trim().to_string(),
            office_ids: offices.clone(),
            supervisor: supervisor.clone(),
        },
    )
    .map_err(admin_err)?;
    match &supervisor {
        Some(sup) => eprintln!(
            "person {} saved, supervised by {}",
            pid.value(),
            sup.value()
        ),
        None => eprintln!("person {} saved, without a supervisor", pid.value()),
    }
    Ok(())
}

/// `enroll-code issue`: prints only the code.
fn run_enroll_code(s: &dyn Storage, command: &CodeCommand) -> Result<(), String> {
    let CodeCommand::Issue {
        person,
        valid_hours,
        qr_svg,
    } = command;
    let pid = admin::find_person(s, person).map_err(admin_err)?;
    let code = admin::issue_code(s, &pid, *valid_hours).map_err(admin_err)?;
    if let Some(path) = qr_svg {
        let qr = hadir_core::enrollment_qr::EnrollmentQr {
            code: code.clone(),
            person: pid,
        };
        std::fs::write(path, hadir_server::kiosk::qr_svg(&qr.to_text()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!("{code}");
    Ok(())
}

/// `device list`; `device revoke` (holds from the running server's next request).
fn run_device(s: &dyn Storage, command: &DeviceCommand) -> Result<(), String> {
    match command {
        DeviceCommand::List { person } => {
            let person = match person {
                Some(spec) => Some(admin::find_person(s, spec).map_err(admin_err)?),
                None => None,
            };
            for d in s.devices(person.as_ref()).map_err(|e| e.to_string())? {
                println!("{}", device_line(&d));
            }
        }
        DeviceCommand::Revoke { device } => {
            if !s
                .revoke_device(device, s.clock().now_ms())
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no device {device}"));
            }
            eprintln!("device {device} revoked");
        }
        DeviceCommand::Recheck => {
            if let Some(warning) = s
                .status_list(Some(&[]))
                .map_err(|e| e.to_string())?
                .staleness(s.clock().now_ms())
            {
                eprintln!("warning: {warning}");
            }
            let changed = attestation_status::recheck_devices(s, &AttestationRoots::google())
                .map_err(|e| e.to_string())?;
            for c in &changed {
                println!(
                    "{}\t{} -> {}\t{}",
                    c.device_id,
                    c.before.level,
                    c.after.level,
                    c.after
                        .reason
                        .as_deref()
                        .map_or_else(|| "-".to_string(), sanitize_reason)
                );
            }
            eprintln!("{} device(s) changed", changed.len());
        }
    }
    Ok(())
}

/// `attestation status-load|status-show`.
fn run_attestation(s: &dyn Storage, command: &AttestationCommand) -> Result<(), String> {
    match command {
        AttestationCommand::StatusLoad { file } => {
            let size = std::fs::metadata(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?
                .len();
            if size > MAX_STATUS_LIST_BYTES as u64 {
                return Err(format!(
                    "{} is over {MAX_STATUS_LIST_BYTES} bytes",
                    file.display()
                ));
            }
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let summary = attestation_status::load_status_list(s, &text).map_err(admin_err)?;
            println!(
                "status list loaded {}\t{} entries",
                utc_text(summary.loaded_ms),
                summary.entry_count
            );
            eprintln!("run `device recheck` to judge enrolled devices against it");
        }
        AttestationCommand::StatusShow => {
            match s.status_list_summary().map_err(|e| e.to_string())? {
                Some(summary) => println!(
                    "status list loaded {}\t{} entries",
                    utc_text(summary.loaded_ms),
                    summary.entry_count
                ),
                None => println!("no status list loaded"),
            }
            let loaded = s.status_list(Some(&[])).map_err(|e| e.to_string())?;
            if let Some(warning) = loaded.staleness(s.clock().now_ms()) {
                eprintln!("warning: {warning}");
            }
        }
    }
    Ok(())
}

/// One line of `device list`: id, people (owner first), platform, enrolled, revoked,
/// attestation level, flag (with the recorded reason, escaped again so that no stored
/// text can break the line), tab-separated.
fn device_line(d: &hadir_server::storage::DeviceListing) -> String {
    let people: Vec<&str> = d.people.iter().map(|m| m.person_key.as_str()).collect();
    let level = d.attestation.level;
    let flag = match (d.attestation.is_flagged(), &d.attestation.reason) {
        (false, _) => "-".to_string(),
        (true, Some(reason)) => format!("FLAG ({})", sanitize_reason(reason)),
        (true, None) => "FLAG".to_string(),
    };
    format!(
        "{}\t{}\t{}\tenrolled {}\t{}\tattestation {level}\t{flag}",
        d.device_id,
        if people.is_empty() {
            "-".to_string()
        } else {
            people.join(",")
        },
        d.platform,
        utc_text(d.created_ms),
        d.revoked_ms.map_or_else(
            || "active".to_string(),
            |r| format!("revoked {}", utc_text(r))
        ),
    )
}

/// Unix ms as UTC `YYYY-MM-DD HH:MM:SS`, for listings.
fn utc_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// `kiosk enroll|list|revoke`.
fn run_kiosk(s: &dyn Storage, command: &KioskCommand) -> Result<(), String> {
    match command {
        KioskCommand::Enroll { office, label } => {
            let (kiosk, credential) =
                hadir_server::kiosk::enroll_kiosk(s, office, label).map_err(admin_err)?;
            eprintln!(
                "kiosk {} enrolled for office {}; its credential (shown only now) follows. \
                 Open <server>/kiosk#<credential> on the monitor.",
                kiosk.kiosk_id, kiosk.office_id
            );
            println!("{credential}");
        }
        KioskCommand::List => {
            for k in s.kiosks().map_err(|e| e.to_string())? {
                println!(
                    "{}\t{}\t{}\tenrolled {}\t{}\t{}",
                    k.kiosk_id,
                    k.office_id,
                    k.label,
                    utc_text(k.created_ms),
                    k.revoked_ms.map_or_else(
                        || "active".to_string(),
                        |r| format!("revoked {}", utc_text(r))
                    ),
                    k.last_seen_ms.map_or_else(
                        || "never seen".to_string(),
                        |t| format!("last seen {}", utc_text(t))
                    )
                );
            }
        }
        KioskCommand::Revoke { kiosk } => {
            if !s
                .revoke_kiosk(kiosk, s.clock().now_ms())
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no kiosk {kiosk}"));
            }
            eprintln!("kiosk {kiosk} revoked");
        }
    }
    Ok(())
}

/// `qr waive|waivers`.
fn run_qr(s: &dyn Storage, command: &QrCommand) -> Result<(), String> {
    match command {
        QrCommand::Waive { .. } => unreachable!("recorded as a correction in run_admin"),
        QrCommand::Waivers => {
            for w in s.qr_waivers().map_err(|e| e.to_string())? {
                println!(
                    "{}\t{}\tby {}\tat {}\t{}",
                    w.office_id,
                    w.local_date,
                    w.waived_by,
                    utc_text(w.created_ms),
                    w.reason
                );
            }
        }
    }
    Ok(())
}

/// `demo-setup`: prints the demo person's enrollment code.
fn run_demo_setup(s: &dyn Storage) -> Result<(), String> {
    let (office, person, code) = admin::demo_setup(s).map_err(admin_err)?;
    eprintln!(
        "demo office {} ({}), person {} ({}) and their supervisor {} ready; \
         enrollment code:",
        office.id,
        office.name,
        person.id.value(),
        person.display_name,
        admin::DEMO_SUPERVISOR_NIP,
    );
    println!("{code}");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut config = match config_from(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Command::Serve { listen } => {
            if let Some(l) = listen {
                config.listen = l.clone();
            }
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            runtime.block_on(serve(config)).map_err(|e| e.to_string())
        }
        _ => run_admin(&cli, &config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
