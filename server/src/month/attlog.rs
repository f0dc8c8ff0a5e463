//! Machine logs: the attendance log text export of ZKTeco-style face and fingerprint
//! machines (`1_attlog.dat` on a USB stick), and the CSV mapping machine user ids to
//! people. Pure parsing, like [`super::imports`] (whose [`ImportError`] and rules on
//! encoding, error lists and line numbers apply here too).
//!
//! # The attlog layout
//!
//! One punch per line, fields separated by TAB or runs of spaces (the user id is often
//! right-aligned with leading spaces):
//!
//! ```text
//!         1\t2026-10-03 08:59:01\t1\t0\t1\t0
//! user id   date       time      │  │  │  └ work code
//!                                │  │  └ verify mode
//!                                │  └ in/out state
//!                                └ machine number
//! ```
//!
//! * user id: 1–24 letters or digits (the machine's PIN). An all-digit id loses its
//!   leading zeros (`000000052` is `52`), so logs and the user map agree however the
//!   machine pads it.
//! * date `YYYY-MM-DD` (also `YYYY/MM/DD`) and time `HH:MM:SS` or `HH:MM`, the machine's
//!   local time (a tab-separated `YYYY-MM-DD HH:MM:SS` field is the same thing).
//! * then, by how many fields follow the time:
//!   - 1 field: the verify mode alone;
//!   - 4 fields: the USB export `machine, state, verify, work code`;
//!   - 5 or more: the push (ADMS) `ATTLOG` record `state, verify, work code, reserved…`;
//!   - 0, 2 or 3 fields: refused, since the verify mode cannot be told apart.
//!
//!   Only the verify mode is kept ([`verify_mode_label`] names it); state, work code
//!   and reserved fields are ignored.
//!
//! Sources read for this layout (public code, searched for "attlog"): ZKTeco's
//! Standalone SDK demo reads `1_attlog.dat` line by line with
//! `UDisk.GetAttLogFromDat(.., out sPIN, out sTime_second, out sDeviceID, out sStatus,
//! out sVerified, out sWorkcode)`; a pendrive importer documents it as
//! `PIN \t yyyy-MM-dd HH:mm:ss \t DevId \t Status \t Verify \t WorkCode`; a Laravel test
//! feeds `"        1\t2026-10-03 08:59:01\t1\t0\t1\t0"`; and the iClock push parser
//! `palmcode-ae/zkteco-iclock-parser` reads `11\t2025-08-27 10:57:49\t0\t25\t0\t0\t0\t0\t0\t0`
//! as PIN, time, state, verify (25, palm), work code and reserved fields. The older
//! `GLG_001.TXT` layout (a `No Mchn EnNo Name Mode IOMd DateTime` header) is refused
//! with an `IMPORT_HEADER` error asking for the attlog export.
//!
//! Blank lines are skipped and a trailing `\r` (CRLF) ignored. A line repeated exactly
//! is not an error, since exports are cumulative: the first is kept and the rest counted
//! in [`AttlogParse::duplicates_in_file`]. The caller deduplicates against earlier
//! imports on machine, user and timestamp, and converts local time with the office
//! offset and the machine's clock offset.
//!
//! # The user map: `user_id,orang`
//!
//! A CSV (rules of [`super::imports`]) mapping each machine user id (normalised as above)
//! to a person, written `jenis:nomor` (`nip:198503122010011003`, validated and written
//! back canonical) or as a bare 18-digit NIP / NI PPPK (kept as text; the caller
//! resolves it). The same user id twice is `IMPORT_DUPLICATE`.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::imports::{
    CODE_DUPLICATE, CODE_EMPTY, CODE_FIELD, CODE_HEADER, Errors, ImportError, TableSpec, decode,
    parse_person_ref, read_table,
};

/// One punch read from a machine log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachinePunch {
    /// The line it came from.
    pub line: u64,
    /// The machine's user id (PIN), leading zeros of an all-digit id removed.
    pub user_id: String,
    /// When, in the machine's local time (not corrected).
    pub local: NaiveDateTime,
    /// How the person was verified ([`verify_mode_label`]).
    pub verify_mode: u32,
}

/// A parsed machine log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttlogParse {
    /// Every distinct punch, in file order.
    pub punches: Vec<MachinePunch>,
    /// Lines dropped because they repeat an earlier line exactly.
    pub duplicates_in_file: u64,
}

/// The Indonesian name of a ZKTeco verify mode, for reports.
pub fn verify_mode_label(mode: u32) -> &'static str {
    match mode {
        0 => "kata sandi",
        1 => "sidik jari",
        2 | 4 => "kartu",
        15 => "wajah",
        25 => "telapak tangan",
        _ => "lainnya",
    }
}

/// Parses a machine attendance log (layout in the module docs).
pub fn parse_attlog(file: &str, bytes: &[u8]) -> Result<AttlogParse, Vec<ImportError>> {
    let text = decode(file, bytes)?;
    let mut errors = Errors::new(file);
    let mut punches = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut duplicates_in_file = 0u64;
    let mut first_content = true;
    for (index, raw) in text.split('\n').enumerate() {
        let line = index as u64 + 1;
        let content = raw.trim();
        if content.is_empty() {
            continue;
        }
        if first_content {
            first_content = false;
            if content.contains("EnNo") {
                errors.push(
                    line,
                    CODE_HEADER,
                    "berkas ini format GLG (No, Mchn, EnNo, Name, ...), belum didukung; \
                     ambil ekspor attlog (1_attlog.dat) dari menu USB mesin"
                        .into(),
                );
                return errors.fail();
            }
        }
        if !seen.insert(content) {
            duplicates_in_file += 1;
            continue;
        }
        match parse_punch(content) {
            Ok((user_id, local, verify_mode)) => punches.push(MachinePunch {
                line,
                user_id,
                local,
                verify_mode,
            }),
            Err(message) => errors.push(line, CODE_FIELD, message),
        }
    }
    if first_content {
        errors.push(
            0,
            CODE_EMPTY,
            "berkas log mesin tidak berisi satu pun absen".into(),
        );
    }
    errors.finish(AttlogParse {
        punches,
        duplicates_in_file,
    })
}

/// One attlog line (trimmed, not blank): user id, local time, verify mode.
fn parse_punch(content: &str) -> Result<(String, NaiveDateTime, u32), String> {
    let mut fields = content.split([' ', '\t']).filter(|f| !f.is_empty());
    let layout = "tulis: id_pengguna, tanggal YYYY-MM-DD, jam HH:MM:SS, lalu mode verifikasi \
                  (atau ekspor USB: mesin, status, verifikasi, kode kerja)";
    let (Some(user), Some(date), Some(time)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(format!("baris \"{content}\" tidak lengkap; {layout}"));
    };
    let user_id = normalise_user_id(user)
        .ok_or_else(|| format!("id pengguna \"{user}\" harus 1–24 huruf atau angka"))?;
    let date = parse_log_date(date).ok_or_else(|| {
        format!("tanggal \"{date}\" tidak ada atau bukan YYYY-MM-DD (contoh: 2026-10-03)")
    })?;
    let time = parse_log_time(time).ok_or_else(|| {
        format!("jam \"{time}\" tidak ada atau bukan HH:MM:SS / HH:MM (contoh: 07:29:03)")
    })?;
    // The first three fields after the time, and how many there are (no allocation).
    let mut rest = [""; 3];
    let mut count = 0;
    for field in fields {
        if let Some(slot) = rest.get_mut(count) {
            *slot = field;
        }
        count += 1;
    }
    let verify = match count {
        1 => rest[0],
        4 => rest[2],
        n if n >= 5 => rest[1],
        n => {
            return Err(format!(
                "{n} kolom setelah jam; mode verifikasi tidak dapat ditentukan: harus 1 kolom \
                 (verifikasi), 4 (mesin, status, verifikasi, kode kerja) atau 5 lebih \
                 (status, verifikasi, kode kerja, ...)"
            ));
        }
    };
    let verify_mode = verify.parse::<u32>().map_err(|_| {
        format!("mode verifikasi \"{verify}\" bukan angka (1 sidik jari, 15 wajah)")
    })?;
    Ok((user_id, date.and_time(time), verify_mode))
}

/// A machine user id, normalised: 1–24 ASCII letters or digits; an all-digit id loses its
/// leading zeros (all zeros stay `0`).
pub fn normalise_user_id(text: &str) -> Option<String> {
    if !(1..=24).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let trimmed = text.trim_start_matches('0');
        return Some(if trimmed.is_empty() { "0" } else { trimmed }.to_string());
    }
    Some(text.to_string())
}

fn digits(text: &str) -> Option<u32> {
    (!text.is_empty() && text.len() <= 4 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

fn parse_log_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b[7] || !matches!(b[4], b'-' | b'/') {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&text[0..4])? as i32,
        digits(&text[5..7])?,
        digits(&text[8..10])?,
    )
}

fn parse_log_time(text: &str) -> Option<NaiveTime> {
    let b = text.as_bytes();
    let two = |at: usize| digits(text.get(at..at + 2)?);
    match b.len() {
        5 if b[2] == b':' => NaiveTime::from_hms_opt(two(0)?, two(3)?, 0),
        8 if b[2] == b':' && b[5] == b':' => NaiveTime::from_hms_opt(two(0)?, two(3)?, two(6)?),
        _ => None,
    }
}

/// One line of a user map: which person a machine user id is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMapRow {
    /// The line it came from.
    pub line: u64,
    /// The machine user id, normalised as in the logs.
    pub user_id: String,
    /// The person: canonical `kind:value`, or a bare 18-digit id for the caller to
    /// resolve.
    pub person: String,
}

const USER_MAP: TableSpec = TableSpec {
    required: &["user_id", "orang"],
    optional: &[],
};

/// Parses a machine user map CSV `user_id,orang` (format in the module docs).
pub fn parse_user_map(file: &str, bytes: &[u8]) -> Result<Vec<UserMapRow>, Vec<ImportError>> {
    let text = decode(file, bytes)?;
    let mut errors = Errors::new(file);
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    read_table(text, &USER_MAP, &mut errors, |row, errors| {
        let line = row.line;
        let user_id = normalise_user_id(row.get(0));
        if user_id.is_none() {
            errors.push(
                line,
                CODE_FIELD,
                format!(
                    "kolom \"user_id\": \"{}\" harus 1–24 huruf atau angka (id pengguna di \
                     mesin)",
                    row.get(0)
                ),
            );
        }
        let person = match parse_person_ref(row.get(1)) {
            Ok(Some(person)) => Some(person.text),
            Ok(None) => {
                errors.push(
                    line,
                    CODE_FIELD,
                    "kolom \"orang\" kosong; tulis jenis:nomor (contoh: \
                     nip:198503122010011003)"
                        .into(),
                );
                None
            }
            Err(why) => {
                errors.push(line, CODE_FIELD, format!("kolom \"orang\": {why}"));
                None
            }
        };
        let (Some(user_id), Some(person)) = (user_id, person) else {
            return;
        };
        match seen.get(&user_id) {
            Some(first) => errors.push(
                line,
                CODE_DUPLICATE,
                format!(
                    "id pengguna \"{user_id}\" sudah dipetakan di baris {first}; satu id \
                     pengguna satu orang"
                ),
            ),
            None => {
                seen.insert(user_id.clone(), line);
                rows.push(UserMapRow {
                    line,
                    user_id,
                    person,
                });
            }
        }
    });
    errors.finish(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verify_mode_is_found_by_layout() {
        let at = |s: &str| parse_punch(s).map(|(u, t, v)| (u, t.to_string(), v));
        let want = |v| Ok(("52".to_string(), "2026-10-03 08:59:01".to_string(), v));
        assert_eq!(at("000000052\t2026-10-03 08:59:01\t1\t0\t15\t0"), want(15));
        assert_eq!(at("52 2026-10-03 08:59:01 15"), want(15));
        assert_eq!(
            at("52\t2026-10-03 08:59:01\t0\t25\t0\t0\t0\t0\t0\t0"),
            want(25)
        );
        assert!(at("52\t2026-10-03 08:59:01\t1\t0").is_err());
        assert!(at("52\t2026-10-03 08:59:01").is_err());
        assert_eq!(
            parse_punch("7 2026-10-03 08:59 1").unwrap().1.to_string(),
            "2026-10-03 08:59:00"
        );
    }

    #[test]
    fn dates_and_times_are_checked() {
        assert!(parse_log_date("2026-02-29").is_none());
        assert!(parse_log_date("2026/10-03").is_none());
        assert!(parse_log_date("2026/10/03").is_some());
        assert!(parse_log_time("24:00:00").is_none());
        assert!(parse_log_time("7:29:03").is_none());
        assert!(parse_log_time("07:29").is_some());
    }

    #[test]
    fn user_ids_lose_leading_zeros() {
        assert_eq!(normalise_user_id("000000052").as_deref(), Some("52"));
        assert_eq!(normalise_user_id("0000").as_deref(), Some("0"));
        assert_eq!(normalise_user_id("A0012").as_deref(), Some("A0012"));
        assert_eq!(normalise_user_id("a-1"), None);
        assert_eq!(normalise_user_id(""), None);
    }

    #[test]
    fn verify_modes_have_indonesian_names() {
        assert_eq!(verify_mode_label(1), "sidik jari");
        assert_eq!(verify_mode_label(15), "wajah");
        assert_eq!(verify_mode_label(0), "kata sandi");
        assert_eq!(verify_mode_label(4), "kartu");
        assert_eq!(verify_mode_label(99), "lainnya");
    }
}
