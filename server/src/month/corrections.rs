//! The corrections an admin can make, never edits: each is its own row in the chain
//! (who, when, why) and a projection the recap reads. The original check-in, leave or
//! waiver stays as it was; a later correction supersedes an earlier one.

use chrono::{Datelike, NaiveDate};
use hadir_core::wire::AttendanceKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::store::{CorrectionSpec, bump_directory, correct, leave_of_correction};
use crate::storage::StorageError;
use crate::storage::sqlite::SqliteStorage;

/// `YYYY-MM` of a date.
pub fn month_key(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// Every month from `from` to `to`, inclusive.
pub fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = from.with_day(1).unwrap_or(from);
    while d <= to {
        out.push(month_key(d));
        d = d
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
    }
    out
}

fn refuse(code: &str, message: impl std::fmt::Display) -> StorageError {
    StorageError::Invalid(format!("{code}: {message}"))
}

fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), StorageError> {
    if to < from || (to - from).num_days() > 366 {
        return Err(refuse(
            "LEAVE_RANGE",
            format!("rentang {from}..{to} tidak sah (akhir sebelum awal, atau lebih dari setahun)"),
        ));
    }
    Ok(())
}

fn require_person(c: &Connection, key: &str) -> Result<(), StorageError> {
    if super::store::person_registered(c, key)? {
        Ok(())
    } else {
        Err(refuse("PERSON_UNKNOWN", format!("{key} belum terdaftar")))
    }
}

/// Approved leave, as written on the letter.
#[derive(Debug, Clone)]
pub struct LeaveSpec {
    /// `cuti`, `sakit`, `dinas_luar`, `izin`.
    pub kind: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// The letter's number or a note.
    pub note: String,
}

fn insert_leave(c: &Connection, person: &str, l: &LeaveSpec, seq: i64) -> Result<(), StorageError> {
    c.execute(
        "INSERT INTO leaves (person_key, kind, from_date, to_date, note, created_ms, \
         correction_seq) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
        params![
            person,
            l.kind,
            l.from.to_string(),
            l.to.to_string(),
            l.note,
            seq
        ],
    )?;
    Ok(())
}

/// `leave add`: records approved leave.
pub fn leave_add(
    s: &SqliteStorage,
    actor: &str,
    person: &str,
    leave: LeaveSpec,
    reason: &str,
) -> Result<i64, StorageError> {
    check_range(leave.from, leave.to)?;
    let person = person.to_string();
    let spec = CorrectionSpec {
        kind: "leave_add",
        reason: reason.into(),
        person_key: Some(person.clone()),
        months: months_between(leave.from, leave.to),
        body: json!({"kind": leave.kind, "from": leave.from.to_string(),
                     "to": leave.to.to_string(), "note": leave.note}),
    };
    correct(s, actor, spec, move |c, seq| {
        require_person(c, &person)?;
        insert_leave(c, &person, &leave, seq)
    })
    .map(|(seq, ())| seq)
}

/// `leave correct` / `leave remove`: supersedes the leave a `leave_add` (or an earlier
/// `leave_correct`) created; `replacement` None removes it. Months of both the old and
/// the new range must be open.
pub fn leave_replace(
    s: &SqliteStorage,
    actor: &str,
    leave_seq: i64,
    replacement: Option<LeaveSpec>,
    reason: &str,
) -> Result<i64, StorageError> {
    let (person, from, to) = s
        .read(|c| leave_of_correction(c, leave_seq))?
        .ok_or_else(|| {
            refuse(
                "LEAVE_UNKNOWN",
                format!(
                    "tidak ada cuti aktif dari koreksi #{leave_seq}: bila sudah dikoreksi, pakai \
                     nomor koreksinya (lihat `audit list --person ...`)"
                ),
            )
        })?;
    let parse = |d: &str| hadir_core::schedule::iso_date::parse(d).unwrap_or(NaiveDate::MIN);
    let mut months = months_between(parse(&from), parse(&to));
    if let Some(r) = &replacement {
        check_range(r.from, r.to)?;
        months.extend(months_between(r.from, r.to));
    }
    months.sort();
    months.dedup();
    let spec = CorrectionSpec {
        kind: if replacement.is_some() {
            "leave_correct"
        } else {
            "leave_remove"
        },
        reason: reason.into(),
        person_key: Some(person.clone()),
        months,
        body: match &replacement {
            Some(r) => json!({"replaces": leave_seq, "kind": r.kind, "from": r.from.to_string(),
                              "to": r.to.to_string(), "note": r.note}),
            None => json!({"removes": leave_seq}),
        },
    };
    correct(s, actor, spec, move |c, seq| {
        let changed = c.execute(
            "UPDATE leaves SET removed_seq = ?1 WHERE correction_seq = ?2 AND removed_seq IS NULL",
            params![seq, leave_seq],
        )?;
        if changed != 1 {
            return Err(refuse(
                "LEAVE_UNKNOWN",
                format!("cuti dari koreksi #{leave_seq} sudah diubah"),
            ));
        }
        if let Some(r) = &replacement {
            insert_leave(c, &person, r, seq)?;
        }
        Ok(())
    })
    .map(|(seq, ())| seq)
}

/// `attendance add`: manual attendance ("dispensasi"): the whole day (`kind` None), or
/// one attendance at its scheduled time.
pub fn manual_attendance(
    s: &SqliteStorage,
    actor: &str,
    person: &str,
    date: NaiveDate,
    kind: Option<AttendanceKind>,
    reason: &str,
) -> Result<i64, StorageError> {
    let person = person.to_string();
    let kind_text = kind.map(|k| k.as_str().to_string());
    let spec = CorrectionSpec {
        kind: "manual_attendance",
        reason: reason.into(),
        person_key: Some(person.clone()),
        months: vec![month_key(date)],
        body: json!({"date": date.to_string(), "kind": kind_text}),
    };
    correct(s, actor, spec, move |c, seq| {
        require_person(c, &person)?;
        c.execute(
            "INSERT INTO manual_attendance (correction_seq, person_key, date, kind) \
             VALUES (?1, ?2, ?3, ?4)",
            params![seq, person, date.to_string(), kind_text],
        )?;
        Ok(())
    })
    .map(|(seq, ())| seq)
}

/// A review of a check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A rejected check-in accepted after review: it counts.
    Accept,
    /// An accepted (or flagged) one overturned: it no longer counts.
    Overturn,
    /// A flagged one reviewed and kept: it counts, and leaves the review list.
    Confirm,
}

impl Verdict {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Overturn => "overturn",
            Verdict::Confirm => "confirm",
        }
    }
}

/// `checkin accept|overturn|confirm`: the latest review of a check-in decides whether it
/// counts. `month` is the check-in's office-local month (the caller reads it with the
/// person's office), which must be open.
pub fn review_checkin(
    s: &SqliteStorage,
    actor: &str,
    checkin_id: &str,
    verdict: Verdict,
    reason: &str,
) -> Result<i64, StorageError> {
    let id = checkin_id.to_string();
    /// A stored check-in as a review needs it: rowid, person, status, trusted instant.
    type Reviewed = (String, String, Option<i64>);
    let found: Option<Reviewed> = s.read(|c| {
        Ok(c.query_row(
            "SELECT person_key, status, trusted_ms FROM checkins WHERE checkin_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
    })?;
    let Some((person, status, trusted_ms)) = found else {
        return Err(refuse(
            "CHECKIN_UNKNOWN",
            format!("tidak ada data absensi {checkin_id}"),
        ));
    };
    let current: Option<String> = s.read(|c| {
        Ok(c.query_row(
            "SELECT verdict FROM checkin_reviews WHERE checkin_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .optional()?)
    })?;
    let overturned = current.as_deref() == Some("overturn");
    let fits = match verdict {
        Verdict::Accept => status == "rejected" || overturned,
        Verdict::Overturn => status == "accepted" || status == "accepted_with_flags",
        Verdict::Confirm => status == "accepted_with_flags",
    };
    if !fits {
        return Err(refuse(
            "CHECKIN_REVIEW_MISMATCH",
            format!(
                "absensi {checkin_id} berstatus {status}: `accept` untuk yang ditolak atau \
                 dibatalkan, `overturn` untuk yang diterima, `confirm` untuk yang berflag"
            ),
        ));
    }
    let Some(trusted_ms) = trusted_ms else {
        return Err(refuse(
            "CHECKIN_NO_TIME",
            format!("absensi {checkin_id} tidak punya waktu tepercaya; tidak dapat dihitung"),
        ));
    };
    let offset = s.read(|c| person_utc_offset(c, &person))?;
    let date = hadir_core::schedule::local_date(trusted_ms, offset);
    let spec = CorrectionSpec {
        kind: match verdict {
            Verdict::Accept => "checkin_accept",
            Verdict::Overturn => "checkin_overturn",
            Verdict::Confirm => "checkin_confirm",
        },
        reason: reason.into(),
        person_key: Some(person),
        months: vec![month_key(date)],
        body: json!({"checkin_id": checkin_id, "status": status}),
    };
    correct(s, actor, spec, move |c, seq| {
        c.execute(
            "INSERT INTO checkin_reviews (checkin_id, verdict, correction_seq) \
             VALUES (?1, ?2, ?3) ON CONFLICT (checkin_id) DO UPDATE SET \
             verdict = excluded.verdict, correction_seq = excluded.correction_seq",
            params![id, verdict.as_str(), seq],
        )?;
        Ok(())
    })
    .map(|(seq, ())| seq)
}

/// The UTC offset of a person's first office (WIB when they have none).
pub fn person_utc_offset(c: &Connection, person_key: &str) -> Result<i32, StorageError> {
    let json: Option<String> = c
        .query_row(
            "SELECT o.office_json FROM person_offices po JOIN offices o ON o.id = po.office_id \
             WHERE po.person_key = ?1 ORDER BY po.position LIMIT 1",
            [person_key],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json
        .and_then(|j| serde_json::from_str::<hadir_core::geofence::Office>(&j).ok())
        .map_or(420, |o| o.utc_offset_minutes))
}

/// `manipulation record`: proven manipulation zeroes the person's attendance part for
/// the month.
pub fn manipulation(
    s: &SqliteStorage,
    actor: &str,
    person: &str,
    month: &str,
    reason: &str,
) -> Result<i64, StorageError> {
    let person = person.to_string();
    let m = month.to_string();
    let spec = CorrectionSpec {
        kind: "manipulation",
        reason: reason.into(),
        person_key: Some(person.clone()),
        months: vec![m.clone()],
        body: json!({}),
    };
    correct(s, actor, spec, move |c, seq| {
        require_person(c, &person)?;
        c.execute(
            "INSERT INTO manipulations (person_key, month, correction_seq) VALUES (?1, ?2, ?3) \
             ON CONFLICT (person_key, month) DO NOTHING",
            params![person, m, seq],
        )?;
        Ok(())
    })
    .map(|(seq, ())| seq)
}

/// `qr waive`: check-ins at an office need no QR token that day (a broken monitor).
pub fn qr_waiver(
    s: &SqliteStorage,
    actor: &str,
    office_id: &str,
    date: NaiveDate,
    reason: &str,
) -> Result<i64, StorageError> {
    let office = office_id.to_string();
    let actor_key = actor.to_string();
    let now = crate::storage::Storage::clock(s).now_ms();
    let why = reason.to_string();
    let spec = CorrectionSpec {
        kind: "qr_waiver",
        reason: reason.into(),
        person_key: None,
        months: vec![month_key(date)],
        body: json!({"office": office_id, "date": date.to_string()}),
    };
    correct(s, actor, spec, move |c, seq| {
        crate::storage::qr_tables::insert_waiver(
            c,
            &crate::storage::QrWaiver {
                office_id: office,
                local_date: date,
                reason: why,
                waived_by: actor_key,
                created_ms: now,
            },
        )?;
        c.execute(
            "UPDATE qr_waivers SET correction_seq = ?1 WHERE id = last_insert_rowid()",
            [seq],
        )?;
        Ok(())
    })
    .map(|(seq, ())| seq)
}

/// `freeze on|off`: suspends attendance by phone for the pemda (`unit` None) or a unit
/// from now, or lifts the switch.
pub fn freeze(
    s: &SqliteStorage,
    actor: &str,
    unit: Option<&str>,
    on: bool,
    reason: &str,
) -> Result<i64, StorageError> {
    let scope = unit.map_or_else(|| "pemda".to_string(), |u| format!("unit:{u}"));
    let now = crate::storage::Storage::clock(s).now_ms();
    let why = reason.to_string();
    let unit = unit.map(str::to_string);
    let spec = CorrectionSpec {
        kind: if on { "freeze_on" } else { "freeze_off" },
        reason: reason.into(),
        person_key: None,
        months: vec![],
        body: json!({"scope": scope}),
    };
    correct(s, actor, spec, move |c, seq| {
        if let Some(u) = &unit {
            let known: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM units WHERE id = ?1)",
                [u],
                |r| r.get(0),
            )?;
            if !known {
                return Err(refuse("UNIT_UNKNOWN", format!("tidak ada unit {u:?}")));
            }
        }
        let in_force: bool = c.query_row(
            "SELECT EXISTS (SELECT 1 FROM freezes WHERE scope = ?1 AND until_ms IS NULL)",
            [&scope],
            |r| r.get(0),
        )?;
        if on && in_force {
            return Err(refuse(
                "FREEZE_ALREADY",
                format!("absensi ponsel untuk {scope} sudah dihentikan"),
            ));
        }
        if on {
            c.execute(
                "INSERT INTO freezes (correction_seq, scope, since_ms, reason) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![seq, scope, now, why],
            )?;
        } else if c.execute(
            "UPDATE freezes SET until_ms = ?1 WHERE scope = ?2 AND until_ms IS NULL",
            params![now, scope],
        )? == 0
        {
            return Err(refuse(
                "FREEZE_NONE",
                format!("absensi ponsel untuk {scope} tidak sedang dihentikan"),
            ));
        }
        bump_directory(c)
    })
    .map(|(seq, ())| seq)
}

/// `pemda set`: the pemda's name and/or deduction table (validated JSON).
pub fn set_pemda(
    s: &SqliteStorage,
    actor: &str,
    name: Option<String>,
    table_json: Option<String>,
    reason: &str,
) -> Result<i64, StorageError> {
    let spec = CorrectionSpec {
        kind: "pemda_set",
        reason: reason.into(),
        person_key: None,
        months: vec![],
        body: json!({"name": name, "deduction_table": table_json
            .as_deref()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())}),
    };
    correct(s, actor, spec, move |c, _| {
        if let Some(n) = &name {
            crate::storage::month_tables::set_setting(c, "name", n)?;
        }
        if let Some(t) = &table_json {
            crate::storage::month_tables::set_setting(c, "deduction_table", t)?;
        }
        Ok(())
    })
    .map(|(seq, ())| seq)
}

/// `machine add`: a face/fingerprint machine at an office, with how far its clock runs
/// ahead of true time (seconds; negative when behind).
pub fn machine_add(
    s: &SqliteStorage,
    actor: &str,
    machine_id: &str,
    office_id: &str,
    clock_offset_s: i64,
    label: &str,
    reason: &str,
) -> Result<i64, StorageError> {
    let (id, office, label) = (
        machine_id.to_string(),
        office_id.to_string(),
        label.to_string(),
    );
    let spec = CorrectionSpec {
        kind: "machine_set",
        reason: reason.into(),
        person_key: None,
        months: vec![],
        body: json!({"machine": machine_id, "office": office_id,
                     "clock_offset_s": clock_offset_s, "label": label}),
    };
    correct(s, actor, spec, move |c, _| {
        let known: bool = c.query_row(
            "SELECT EXISTS (SELECT 1 FROM offices WHERE id = ?1)",
            [&office],
            |r| r.get(0),
        )?;
        if !known {
            return Err(refuse(
                "OFFICE_UNKNOWN",
                format!("tidak ada kantor {office:?}"),
            ));
        }
        c.execute(
            "INSERT INTO machines (id, office_id, clock_offset_s, label) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET office_id = excluded.office_id, \
             clock_offset_s = excluded.clock_offset_s, label = excluded.label",
            params![id, office, clock_offset_s, label],
        )?;
        Ok(())
    })
    .map(|(seq, ())| seq)
}

/// `attendance remove` / `manipulation revoke`: withdraws a manual attendance or a
/// manipulation decision recorded by correction `target` (of kind `expected_kind`); the
/// month must be open. The withdrawn row stays in the chain.
pub fn withdraw(
    s: &SqliteStorage,
    actor: &str,
    target: i64,
    expected_kind: &'static str,
    reason: &str,
) -> Result<i64, StorageError> {
    let found = s.read(|c| {
        Ok(c.query_row(
            "SELECT kind, person_key, month FROM corrections WHERE seq = ?1",
            [target],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            },
        )
        .optional()?)
    })?;
    let Some((kind, person, month)) = found.filter(|(k, _, _)| k == expected_kind) else {
        return Err(refuse(
            "CORRECTION_UNKNOWN",
            format!("koreksi #{target} bukan {expected_kind} (lihat `audit list`)"),
        ));
    };
    let spec = CorrectionSpec {
        kind: "withdraw",
        reason: reason.into(),
        person_key: person,
        months: month.into_iter().collect(),
        body: json!({"withdraws": target, "kind": kind}),
    };
    correct(s, actor, spec, move |c, _| {
        let table = match expected_kind {
            "manual_attendance" => "manual_attendance",
            _ => "manipulations",
        };
        let removed = c.execute(
            &format!("DELETE FROM {table} WHERE correction_seq = ?1"),
            [target],
        )?;
        if removed == 0 {
            return Err(refuse(
                "CORRECTION_WITHDRAWN",
                format!("koreksi #{target} sudah ditarik sebelumnya"),
            ));
        }
        Ok(())
    })
    .map(|(seq, ())| seq)
}
