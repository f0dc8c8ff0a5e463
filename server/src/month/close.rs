//! Closing a month locks what it paid: `month close` stores the recap as counted then
//! (its SHA-256 in the chain), and from then on the month's recap is that snapshot.
//! What arrives later for a closed month (a check-in delivered late, a machine log
//! imported after) is stored as evidence but listed for review, never counted into the
//! paid month; only `month reopen` with a reason lets it in. The review list also holds
//! the month's flagged check-ins not yet reviewed.

use hadir_recap::model::{Month, PemdaRecap};
use rusqlite::params;
use serde_json::json;

use super::recap::{self, month_days, month_text};
use super::store::{CorrectionSpec, correct};
use crate::storage::StorageError;
use crate::storage::sqlite::SqliteStorage;

fn refuse(code: &str, message: impl std::fmt::Display) -> StorageError {
    StorageError::Invalid(format!("{code}: {message}"))
}

/// What the chain's head is now (sequence number; 0 when empty).
fn head_seq(storage: &SqliteStorage) -> Result<i64, StorageError> {
    storage.read(|c| {
        Ok(
            c.query_row("SELECT COALESCE(MAX(seq), 0) FROM corrections", [], |r| {
                r.get(0)
            })?,
        )
    })
}

/// `month close`: counts the month, stores the snapshot and locks it. Refused when a
/// correction landed while counting (run it again).
pub fn close(
    storage: &SqliteStorage,
    actor: &str,
    month: Month,
    reason: &str,
) -> Result<(i64, PemdaRecap), StorageError> {
    super::store::check_admin(storage, actor)?;
    let key = month_text(month);
    // Taken before the snapshot is read: a check-in received while it is counted is
    // then after the close for the review list, never in neither.
    let now = crate::storage::Storage::clock(storage).now_ms();
    let (_, last) = month_days(month);
    let month_over_ms = hadir_core::schedule::day_start_ms(last + chrono::Days::new(1), 420);
    if now < month_over_ms {
        return Err(refuse(
            "MONTH_NOT_OVER",
            format!("bulan {key} belum berakhir di semua zona waktu (WIB paling akhir)"),
        ));
    }
    let head_before = head_seq(storage)?;
    let mut snapshot = recap::compute(storage, month, None)?;
    snapshot.closed = true;
    for row in &mut snapshot.rows {
        row.counted.days.clear(); // the paid figures; days are recounted from the records
    }
    let bytes = serde_json::to_vec(&snapshot).expect("a recap serialises");
    let sha = hadir_core::photo::sha256_hex(&bytes);
    let spec = CorrectionSpec {
        kind: "month_close",
        reason: reason.into(),
        person_key: None,
        months: vec![key.clone()],
        body: json!({"snapshot_sha256": sha, "people": snapshot.rows.len()}),
    };
    let (seq, ()) = correct(storage, actor, spec, move |c, seq| {
        if seq != head_before + 1 {
            return Err(refuse(
                "MONTH_CHANGED",
                "ada koreksi lain yang masuk saat rekap dihitung; jalankan `month close` lagi",
            ));
        }
        c.execute(
            "INSERT INTO month_locks (month, closed_ms, correction_seq, snapshot) \
             VALUES (?1, ?2, ?3, ?4)",
            params![key, now, seq, bytes],
        )?;
        Ok(())
    })?;
    Ok((seq, snapshot))
}

/// `month reopen`: unlocks a closed month (the reason is required); its recap is counted
/// live again, with whatever arrived while it was closed.
pub fn reopen(
    storage: &SqliteStorage,
    actor: &str,
    month: Month,
    reason: &str,
) -> Result<i64, StorageError> {
    let key = month_text(month);
    let spec = CorrectionSpec {
        kind: "month_reopen",
        reason: reason.into(),
        person_key: None,
        months: vec![key.clone()],
        body: json!({}),
    };
    correct(storage, actor, spec, move |c, _| {
        if c.execute("DELETE FROM month_locks WHERE month = ?1", [&key])? == 0 {
            return Err(refuse(
                "MONTH_NOT_CLOSED",
                format!("bulan {key} tidak sedang dikunci"),
            ));
        }
        Ok(())
    })
    .map(|(seq, ())| seq)
}

/// One entry of the month's review list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    /// `flagged` (accepted with flags, not reviewed), `late_checkin` (arrived after the
    /// month closed) or `late_machine` (imported after it closed).
    pub kind: &'static str,
    /// The person.
    pub person_key: String,
    /// The record's instant, Unix ms.
    pub at_ms: i64,
    /// The check-in id, or `machine:<id>:<user>:<local time>`.
    pub reference: String,
    /// The check-in's codes (flags), if any.
    pub codes: String,
}

/// The month's review list: flagged check-ins not reviewed yet, and for a closed month
/// what arrived after it was closed. Bounded by the month at any Indonesian offset.
pub fn review_list(storage: &SqliteStorage, month: Month) -> Result<Vec<ReviewItem>, StorageError> {
    let (first, last) = month_days(month);
    let from = hadir_core::schedule::day_start_ms(first, 540);
    let to = hadir_core::schedule::day_start_ms(last + chrono::Days::new(1), 420);
    let key = month_text(month);
    storage.read(|c| {
        let tx = c.unchecked_transaction()?;
        let lock: Option<(i64, i64)> = {
            use rusqlite::OptionalExtension as _;
            tx.query_row(
                "SELECT closed_ms, correction_seq FROM month_locks WHERE month = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
        };
        let mut items = Vec::new();
        let mut stmt = tx.prepare(
            "SELECT c.person_key, c.trusted_ms, c.checkin_id, c.codes FROM checkins c \
             INDEXED BY checkins_recap \
             WHERE c.trusted_ms >= ?1 AND c.trusted_ms < ?2 AND c.status = 'accepted_with_flags' \
             AND NOT EXISTS (SELECT 1 FROM checkin_reviews r WHERE r.checkin_id = c.checkin_id) \
             ORDER BY c.trusted_ms",
        )?;
        let mut rows = stmt.query([from, to])?;
        while let Some(r) = rows.next()? {
            items.push(ReviewItem {
                kind: "flagged",
                person_key: r.get(0)?,
                at_ms: r.get(1)?,
                reference: r.get(2)?,
                codes: r.get(3)?,
            });
        }
        drop(rows);
        drop(stmt);
        if let Some((closed_ms, close_seq)) = lock {
            let mut stmt = tx.prepare(
                "SELECT person_key, trusted_ms, checkin_id, codes FROM checkins \
                 INDEXED BY checkins_received WHERE received_ms > ?3 \
                 AND trusted_ms >= ?1 AND trusted_ms < ?2 \
                 AND status IN ('accepted', 'accepted_with_flags') ORDER BY trusted_ms",
            )?;
            let mut rows = stmt.query([from, to, closed_ms])?;
            while let Some(r) = rows.next()? {
                items.push(ReviewItem {
                    kind: "late_checkin",
                    person_key: r.get(0)?,
                    at_ms: r.get(1)?,
                    reference: r.get(2)?,
                    codes: r.get(3)?,
                });
            }
            drop(rows);
            drop(stmt);
            let mut stmt = tx.prepare(
                "SELECT person_key, at_ms, machine_id, user_id, local_time FROM machine_punches \
                 WHERE at_ms >= ?1 AND at_ms < ?2 AND import_seq > ?3 ORDER BY at_ms",
            )?;
            let mut rows = stmt.query([from, to, close_seq])?;
            while let Some(r) = rows.next()? {
                items.push(ReviewItem {
                    kind: "late_machine",
                    person_key: r.get(0)?,
                    at_ms: r.get(1)?,
                    reference: format!(
                        "machine:{}:{}:{}",
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?
                    ),
                    codes: String::new(),
                });
            }
        }
        Ok(items)
    })
}
