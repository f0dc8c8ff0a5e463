//! The recap fed from storage: every person's month read in a few range queries (the
//! check-ins through the covering index `checkins_recap`, never their envelopes), the
//! corrections' projections applied, and each person counted by `hadir-recap`. A closed
//! month is never recounted: its recap is the snapshot stored when it was closed.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use hadir_core::schedule::{OfficeSchedule, day_start_ms};
use hadir_core::wire::AttendanceKind;
use hadir_recap::deductions::DeductionTable;
use hadir_recap::model::{
    LeaveSpan, Month, PemdaRecap, PersonMonthInput, Punch, RecapRow, RecordSource,
};
use rusqlite::Connection;

use crate::storage::month_tables;
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{Storage, StorageError, person_key};

/// The unit shown for people imported without one.
pub const NO_UNIT: &str = "-";

/// `YYYY-MM` of a month.
pub fn month_text(m: Month) -> String {
    format!("{:04}-{:02}", m.year, m.month)
}

/// Parses `YYYY-MM`.
pub fn parse_month(text: &str) -> Option<Month> {
    let (y, m) = text.trim().split_once('-')?;
    let (year, month) = (y.parse().ok()?, m.parse().ok()?);
    (y.len() == 4 && m.len() == 2 && (1..=12).contains(&month)).then_some(Month { year, month })
}

/// First and last day of a month.
pub fn month_days(m: Month) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(m.year, m.month, 1).unwrap_or(NaiveDate::MIN);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX);
    (first, next.pred_opt().unwrap_or(first))
}

/// The pemda's deduction table: the one loaded with `pemda set --deduction-table`, or
/// the default.
pub fn deduction_table(c: &Connection) -> Result<DeductionTable, StorageError> {
    match month_tables::setting(c, "deduction_table")? {
        Some(json) => DeductionTable::from_json(&json)
            .map_err(|e| StorageError::Corrupt(format!("stored deduction table: {e}"))),
        None => Ok(DeductionTable::default()),
    }
}

/// A person's unit id, unit name, TPP and first counted day, as stored.
type PersonExtras = (Option<String>, Option<String>, Option<i64>, Option<String>);

/// Everything one person's line needs besides the records.
struct Staff {
    key: String,
    id_kind: &'static str,
    id_value: String,
    name: String,
    unit_id: String,
    unit_name: String,
    tpp: Option<i64>,
    counted_from: Option<NaiveDate>,
    schedule: OfficeSchedule,
    offset: i32,
}

/// Records and corrections of one person, gathered before counting.
#[derive(Default)]
struct Gathered {
    punches: Vec<Punch>,
    leaves: Vec<LeaveSpan>,
    dispensations: Vec<NaiveDate>,
    manipulation: bool,
    corrections: Vec<i64>,
    flags_pending: u32,
}

/// Counts the month live from the records (whether or not it is closed): what `recap
/// show` prints for an open month and what `month close` stores.
pub fn compute(
    storage: &SqliteStorage,
    month: Month,
    unit: Option<&str>,
) -> Result<PemdaRecap, StorageError> {
    let directory = storage.load_directory()?;
    let now_ms = storage.clock().now_ms();
    let offices: HashMap<&str, i32> = directory
        .offices
        .iter()
        .map(|o| (o.id.as_str(), o.utc_offset_minutes))
        .collect();
    storage.read(|c| {
        let tx = c.unchecked_transaction()?; // one snapshot for every query below
        let table = deduction_table(&tx)?;
        let pemda = month_tables::setting(&tx, "name")?.unwrap_or_else(|| "Pemda".into());
        let mut extras: HashMap<String, PersonExtras> = HashMap::new();
        {
            let mut stmt = tx.prepare(
                "SELECT p.person_key, p.unit_id, u.name, p.tpp_rupiah, p.counted_from \
                 FROM people p LEFT JOIN units u ON u.id = p.unit_id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                extras.insert(r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
            }
        }
        let mut staff: Vec<Staff> = Vec::new();
        for p in &directory.people {
            let Some(first_office) = p.office_ids.first() else {
                continue; // an admin without an office does not check in
            };
            let key = person_key(&p.id);
            let (unit_id, unit_name, tpp, from) = extras.remove(&key).unwrap_or_default();
            let unit_id = unit_id.unwrap_or_else(|| NO_UNIT.into());
            if unit.is_some_and(|u| u != unit_id) {
                continue;
            }
            staff.push(Staff {
                id_kind: p.id.kind().as_str(),
                id_value: p.id.value().to_string(),
                name: p.display_name.clone(),
                unit_name: unit_name.unwrap_or_else(|| "Tanpa unit".into()),
                unit_id,
                tpp,
                counted_from: from.and_then(|d| hadir_core::schedule::iso_date::parse(&d)),
                schedule: hadir_core::roster::office_schedule(
                    directory.schedules.get(first_office),
                ),
                offset: offices.get(first_office.as_str()).copied().unwrap_or(420),
                key,
            });
        }
        staff.sort_by(|a, b| (&a.unit_id, &a.name, &a.key).cmp(&(&b.unit_id, &b.name, &b.key)));
        let index: HashMap<&str, usize> = staff
            .iter()
            .enumerate()
            .map(|(i, s)| (s.key.as_str(), i))
            .collect();
        let mut gathered: Vec<Gathered> = (0..staff.len()).map(|_| Gathered::default()).collect();
        gather(&tx, month, &staff, &index, &mut gathered)?;
        let rows = count_all(month, now_ms, &table, staff, gathered);
        Ok(PemdaRecap {
            pemda,
            month,
            closed: month_tables::month_closed_ms(&tx, &month_text(month))?.is_some(),
            table,
            computed_ms: now_ms,
            rows,
        })
    })
}

/// The instants bounding every record that can belong to the month at any Indonesian
/// offset: from the day before (a night shift's start) to two days after.
fn record_range(month: Month) -> (i64, i64) {
    let (first, last) = month_days(month);
    (
        day_start_ms(first.pred_opt().unwrap_or(first), 540),
        day_start_ms(last + chrono::Days::new(2), 420),
    )
}

/// A text column, borrowed from the row.
fn str_at<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r str, StorageError> {
    r.get_ref(i)?
        .as_str()
        .map_err(|e| StorageError::Corrupt(format!("column {i}: {e}")))
}

fn gather(
    tx: &Connection,
    month: Month,
    staff: &[Staff],
    index: &HashMap<&str, usize>,
    out: &mut [Gathered],
) -> Result<(), StorageError> {
    let (from_ms, to_ms) = record_range(month);
    let (first, last) = month_days(month);
    let freezes = month_tables::freezes(tx)?;
    // Reviews are keyed by check-in id; within this one snapshot they are matched to the
    // rows the covering index returns by rowid (never stored: VACUUM may renumber it).
    let mut reviews: HashMap<i64, (String, i64)> = HashMap::new();
    {
        let mut stmt = tx.prepare(
            "SELECT c.rowid, r.verdict, r.correction_seq FROM checkin_reviews r \
             JOIN checkins c ON c.checkin_id = r.checkin_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            reviews.insert(r.get(0)?, (r.get(1)?, r.get(2)?));
        }
    }
    {
        let mut stmt = tx.prepare(
            "SELECT rowid, person_key, kind, status, trusted_ms FROM checkins \
             INDEXED BY checkins_recap WHERE trusted_ms >= ?1 AND trusted_ms < ?2",
        )?;
        let mut rows = stmt.query([from_ms, to_ms])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = index.get(str_at(r, 1)?) else {
                continue;
            };
            let rowid: i64 = r.get(0)?;
            let at_ms: i64 = r.get(4)?;
            let status = str_at(r, 3)?;
            let review = reviews.get(&rowid);
            let counts = match (status, review.map(|(v, _)| v.as_str())) {
                (_, Some("overturn")) => false,
                ("rejected", Some("accept")) => true,
                ("accepted" | "accepted_with_flags", _) => true,
                _ => false,
            };
            let g = &mut out[i];
            let in_month = {
                let d = hadir_core::schedule::local_date(at_ms, staff[i].offset);
                first <= d && d <= last
            };
            if let Some((_, seq)) = review
                && in_month
            {
                g.corrections.push(*seq);
            }
            if status == "accepted_with_flags" && review.is_none() && in_month {
                g.flags_pending += 1;
            }
            // A phone check-in inside a suspension window never counts, even one the
            // server accepted before it saw the switch.
            let suspended = freezes
                .iter()
                .any(|f| f.covers(at_ms) && f.applies_to(&staff[i].unit_id));
            if counts
                && !suspended
                && let Some(kind) = AttendanceKind::parse(str_at(r, 2)?)
            {
                g.punches.push(Punch {
                    at_ms,
                    kind: Some(kind),
                    source: RecordSource::Phone,
                    reference: format!("checkin#{rowid}"),
                });
            }
        }
    }
    {
        let mut stmt = tx.prepare(
            "SELECT person_key, at_ms, machine_id, user_id, local_time FROM machine_punches \
             INDEXED BY machine_punches_time WHERE at_ms >= ?1 AND at_ms < ?2",
        )?;
        let mut rows = stmt.query([from_ms, to_ms])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = index.get(str_at(r, 0)?) else {
                continue;
            };
            out[i].punches.push(Punch {
                at_ms: r.get(1)?,
                kind: None,
                source: RecordSource::Machine,
                reference: format!(
                    "machine:{}:{}:{}",
                    str_at(r, 2)?,
                    str_at(r, 3)?,
                    str_at(r, 4)?
                ),
            });
        }
    }
    let (day_before, day_after) = (
        first.pred_opt().unwrap_or(first).to_string(),
        last.succ_opt().unwrap_or(last).to_string(),
    );
    {
        let mut stmt = tx.prepare(
            "SELECT person_key, date, kind, correction_seq FROM manual_attendance \
             WHERE date >= ?1 AND date <= ?2",
        )?;
        let mut rows = stmt.query([&day_before, &day_after])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = index.get(str_at(r, 0)?) else {
                continue;
            };
            let Some(date) = hadir_core::schedule::iso_date::parse(str_at(r, 1)?) else {
                continue;
            };
            let kind: Option<String> = r.get(2)?;
            let seq: i64 = r.get(3)?;
            let g = &mut out[i];
            if (first..=last).contains(&date) {
                g.corrections.push(seq);
            }
            match kind.map(|k| AttendanceKind::parse(&k)) {
                None => g.dispensations.push(date),
                Some(None) => {}
                Some(Some(kind)) => {
                    let s = &staff[i];
                    let plan = s.schedule.day(date);
                    if let Some(t) = plan.times.iter().find(|t| t.kind == kind) {
                        g.punches.push(Punch {
                            at_ms: t.instant_on(date, s.offset),
                            kind: Some(kind),
                            source: RecordSource::Manual,
                            reference: format!("correction:{seq}"),
                        });
                    }
                }
            }
        }
    }
    {
        let mut stmt = tx.prepare(
            "SELECT person_key, kind, from_date, to_date, correction_seq FROM leaves \
             WHERE removed_seq IS NULL AND to_date >= ?1 AND from_date <= ?2",
        )?;
        let mut rows = stmt.query([first.to_string(), last.to_string()])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = index.get(str_at(r, 0)?) else {
                continue;
            };
            let parse = |t: &str| hadir_core::schedule::iso_date::parse(t);
            let (Some(from), Some(to)) = (parse(str_at(r, 2)?), parse(str_at(r, 3)?)) else {
                continue;
            };
            let g = &mut out[i];
            if let Some(seq) = r.get::<_, Option<i64>>(4)? {
                g.corrections.push(seq);
            }
            g.leaves.push(LeaveSpan {
                kind: r.get(1)?,
                from,
                to,
            });
        }
    }
    {
        let mut stmt =
            tx.prepare("SELECT person_key, correction_seq FROM manipulations WHERE month = ?1")?;
        let mut rows = stmt.query([month_text(month)])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = index.get(str_at(r, 0)?) else {
                continue;
            };
            out[i].manipulation = true;
            out[i].corrections.push(r.get(1)?);
        }
    }
    Ok(())
}

/// Counts every person, on both cores.
fn count_all(
    month: Month,
    now_ms: i64,
    table: &DeductionTable,
    staff: Vec<Staff>,
    gathered: Vec<Gathered>,
) -> Vec<RecapRow> {
    let pairs: Vec<(Staff, Gathered)> = staff.into_iter().zip(gathered).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = pairs.len().div_ceil(workers).max(1);
    let mut rows: Vec<RecapRow> = Vec::with_capacity(pairs.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = pairs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(s, g)| count_one(month, now_ms, table, s, g))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            rows.extend(h.join().expect("counting never panics"));
        }
    });
    rows
}

fn count_one(
    month: Month,
    now_ms: i64,
    table: &DeductionTable,
    s: &Staff,
    g: &Gathered,
) -> RecapRow {
    let input = PersonMonthInput {
        month,
        schedule: s.schedule.clone(),
        utc_offset_minutes: s.offset,
        punches: g.punches.clone(),
        leaves: g.leaves.clone(),
        dispensations: g.dispensations.clone(),
        manipulation: g.manipulation,
        tpp_rupiah: s.tpp,
        counted_from: s.counted_from,
        now_ms,
    };
    let mut corrections = g.corrections.clone();
    corrections.sort_unstable();
    corrections.dedup();
    RecapRow {
        person_key: s.key.clone(),
        id_kind: s.id_kind.to_string(),
        id_value: s.id_value.clone(),
        display_name: s.name.clone(),
        unit_id: s.unit_id.clone(),
        unit_name: s.unit_name.clone(),
        tpp_rupiah: s.tpp,
        counted: hadir_recap::count::count_person_month(&input, table),
        corrections,
        flags_pending: g.flags_pending,
    }
}

/// The recap of a month: the stored snapshot of a closed month (one unit's rows when
/// asked), else counted live.
pub fn recap(
    storage: &SqliteStorage,
    month: Month,
    unit: Option<&str>,
) -> Result<PemdaRecap, StorageError> {
    let key = month_text(month);
    let snapshot: Option<Vec<u8>> = storage.read(|c| {
        use rusqlite::OptionalExtension as _;
        Ok(c.query_row(
            "SELECT snapshot FROM month_locks WHERE month = ?1",
            [&key],
            |r| r.get(0),
        )
        .optional()?)
    })?;
    match snapshot {
        Some(bytes) => {
            let mut recap: PemdaRecap = serde_json::from_slice(&bytes)
                .map_err(|e| StorageError::Corrupt(format!("snapshot of {key}: {e}")))?;
            if let Some(u) = unit {
                recap.rows.retain(|r| r.unit_id == u);
            }
            Ok(recap)
        }
        None => compute(storage, month, unit),
    }
}

/// Whether a date lies in a month.
pub fn in_month(date: NaiveDate, month: Month) -> bool {
    date.year() == month.year && date.month() == month.month
}
