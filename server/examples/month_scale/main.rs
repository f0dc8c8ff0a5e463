//! Month's end at province scale (issue #15, docs/PERFORMANCE.md): generates a month of
//! 50,000 staff (≈4.4 million check-ins) into a SQLite file, then times the recap, its
//! XLSX export and a re-import of the people CSV.
//!
//! ```text
//! cargo run --release --example month_scale -p hadir-server -- \
//!     --people 50000 --db /work/scale/hadir.db generate
//! cargo run --release --example month_scale -p hadir-server -- --db /work/scale/hadir.db recap
//! cargo run --release --example month_scale -p hadir-server -- --db /work/scale/hadir.db \
//!     export --out /work/scale/rekap.xlsx
//! cargo run --release --example month_scale -p hadir-server -- --db /work/scale/hadir.db \
//!     import-people
//! cargo run --release --example month_scale -p hadir-server -- --people 5000 \
//!     --db /work/scale/cost.db index-cost
//! ```

mod scale;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Args {
    /// Staff generated.
    #[arg(long, default_value_t = 50_000)]
    people: usize,
    /// The SQLite file (its folder also holds the people CSV).
    #[arg(long)]
    db: PathBuf,
    #[command(subcommand)]
    step: Step,
}

#[derive(Subcommand)]
enum Step {
    /// Creates the database: admin, offices, people (timed import), leaves, check-ins.
    Generate,
    /// Times `recap::compute` of October 2026.
    Recap,
    /// Times the recap's XLSX export (the recap itself is not in the figure).
    Export {
        /// The workbook written.
        #[arg(long)]
        out: PathBuf,
    },
    /// Times parse + import of the people CSV again (an update of everyone).
    ImportPeople,
    /// Times the direct insert into a fresh database with and without the covering
    /// index `checkins_recap` (what migration 8 costs ingest).
    IndexCost,
}

fn main() {
    let args = Args::parse();
    let dir = args.db.parent().unwrap_or(Path::new(".")).to_path_buf();
    match args.step {
        Step::Generate => {
            let storage = scale::open(&args.db);
            let t = scale::setup(&storage, args.people, &dir);
            println!(
                "import people: {} rows, parse {:.2} s, import {:.2} s, total {:.2} s",
                args.people,
                t.parse_people.as_secs_f64(),
                t.import_people.as_secs_f64(),
                (t.parse_people + t.import_people).as_secs_f64()
            );
            let secret = scale::anchor_secret(&storage);
            drop(storage);
            let s = scale::insert_checkins(&args.db, args.people, &secret);
            println!(
                "check-ins: {} rows ({} accepted, {} flagged, {} rejected; {} person-days \
                 absent) in {:.1} s",
                s.rows,
                s.accepted,
                s.flagged,
                s.rejected,
                s.absent_days,
                s.elapsed.as_secs_f64()
            );
            print_size(&args.db);
        }
        Step::Recap => {
            let storage = scale::open(&args.db);
            let t = Instant::now();
            let recap =
                hadir_server::month::recap::compute(&storage, scale::MONTH, None).expect("recap");
            println!(
                "recap 2026-10: {} rows in {:.2} s",
                recap.rows.len(),
                t.elapsed().as_secs_f64()
            );
        }
        Step::Export { out } => {
            let storage = scale::open(&args.db);
            let t = Instant::now();
            let recap =
                hadir_server::month::recap::compute(&storage, scale::MONTH, None).expect("recap");
            let computed = t.elapsed();
            let t = Instant::now();
            hadir_server::month::export::write_xlsx(&recap, &out, &mut |_, _| {}).expect("xlsx");
            println!(
                "xlsx of {} rows: {:.2} s (recap before it {:.2} s), {} bytes",
                recap.rows.len(),
                t.elapsed().as_secs_f64(),
                computed.as_secs_f64(),
                std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0)
            );
        }
        Step::ImportPeople => {
            let storage = scale::open(&args.db);
            let admin = format!("nip:{}", scale::ADMIN_NIP);
            let (parse, import) =
                scale::import_people_file(&storage, &admin, &dir.join("pegawai.csv"));
            println!(
                "re-import people: parse {:.2} s, import {:.2} s, total {:.2} s",
                parse.as_secs_f64(),
                import.as_secs_f64(),
                (parse + import).as_secs_f64()
            );
        }
        Step::IndexCost => {
            for with_index in [true, false] {
                let _ = std::fs::remove_file(&args.db);
                let storage = scale::open(&args.db);
                let admin = hadir_core::ids::PersonId::parse(
                    hadir_core::ids::PersonIdKind::Nip,
                    scale::ADMIN_NIP,
                )
                .unwrap();
                hadir_server::month::store::init_admin(&storage, &admin, "Admin").unwrap();
                let secret = scale::anchor_secret(&storage);
                drop(storage);
                if !with_index {
                    rusqlite::Connection::open(&args.db)
                        .unwrap()
                        .execute_batch("DROP INDEX checkins_recap")
                        .unwrap();
                }
                let s = scale::insert_checkins(&args.db, args.people, &secret);
                println!(
                    "{} checkins_recap: {} rows in {:.1} s ({:.0} rows/s)",
                    if with_index { "with" } else { "without" },
                    s.rows,
                    s.elapsed.as_secs_f64(),
                    s.rows as f64 / s.elapsed.as_secs_f64()
                );
                print_size(&args.db);
            }
        }
    }
}

fn print_size(db: &Path) {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    println!(
        "database: {:.2} GB (+ WAL {:.2} GB)",
        size(db) as f64 / 1e9,
        size(&wal) as f64 / 1e9
    );
}
