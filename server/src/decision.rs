//! The decision on a prepared check-in: the steps of `docs/PROTOCOL.md` that need the
//! ledger (3, 5, travel in 7, 9), run by the storage inside its write transaction.
//!
//! [`decide`] reads as the protocol does, one named step per line:
//! [`answer_known_id`] (step 3), [`record_early_rejection`] (step 4, decided in
//! `prepare`), [`selfie_missing`] (step 5), then [`Findings`] gathers rejections and
//! flags from time (6), the fix (7), the geofence (8) and the selfie (9), and
//! [`Findings::conclude`] turns them into the status and message the phone gets.

use hadir_core::api::{CheckInResult, CheckInStatus, Policy};
use hadir_core::clock::{BootObservation, TimeSource, TrustedTime, contradicts, delivery_delay_ms};
use hadir_core::fix::check_fix;
use hadir_core::geofence::GeofenceVerdict;
use hadir_core::photo::hamming_distance;

use crate::ledger::{Ledger, PreparedCheckIn, SelfieInLedger};

const MS_PER_DAY: i64 = 86_400_000;

/// Staff text for `PAYLOAD_DOWNGRADE`: a version-1 check-in from a device that was
/// already issued a signed anchor.
pub const MSG_DOWNGRADE: &str = "Data absensi memakai format lama tanpa bukti waktu, padahal \
     perangkat ini sudah memakai format baru; data ditolak. Perbarui aplikasi Hadir.";

/// Steps 3, 5, 7 (travel) and 9, then records the decision. Runs inside the storage's
/// write transaction; the returned result is what the phone gets, now and on every
/// identical retry.
pub fn decide<L: Ledger + ?Sized>(
    item: &PreparedCheckIn,
    ledger: &mut L,
    policy: &Policy,
) -> Result<CheckInResult, L::Error> {
    if let Some(known) = answer_known_id(item, ledger)? {
        return Ok(known);
    }
    let mut out = with_trusted_time(item);
    if item.time_unproven && ledger.device_has_anchors(&item.device_id)? {
        return record_early_rejection(item, ledger, out, "PAYLOAD_DOWNGRADE", MSG_DOWNGRADE);
    }
    if let Some((code, message)) = &item.early_rejection {
        return record_early_rejection(item, ledger, out, code, message);
    }
    let Some(selfie) = ledger.selfie(&item.payload.selfie_sha256)? else {
        return Ok(selfie_missing(out));
    };
    let mut findings = Findings::default();
    let boot_consistent = findings.device_and_time(item, ledger, &mut out, policy)?;
    findings.fix(item, ledger, policy)?;
    let inside_message = findings.geofence(item, &mut out);
    findings.qr(item, ledger)?;
    findings.selfie(item, &selfie, ledger, policy)?;
    findings.conclude(&mut out, inside_message);
    if boot_consistent && out.status.counts_as_attendance() {
        record_boot_observation(item, ledger)?;
    }
    ledger.record(item, &out, selfie.phash)?;
    Ok(out)
}

/// Step 3: an identical retry gets the stored result; the same id with another
/// payload is refused. `None`: a new check-in.
fn answer_known_id<L: Ledger + ?Sized>(
    item: &PreparedCheckIn,
    ledger: &mut L,
) -> Result<Option<CheckInResult>, L::Error> {
    Ok(ledger
        .stored(&item.checkin_id)?
        .map(|(stored_sha, stored)| {
            if stored_sha == item.payload_sha256 {
                stored
            } else {
                rejected(
                    item.checkin_id.clone(),
                    "CHECKIN_ID_REUSED",
                    "Nomor data absensi ini sudah dipakai untuk data lain; data ditolak.".into(),
                )
            }
        }))
}

/// An accepted result carrying the trusted instant and its source, to be narrowed by
/// the steps that follow.
fn with_trusted_time(item: &PreparedCheckIn) -> CheckInResult {
    let mut out = result(
        item.checkin_id.clone(),
        CheckInStatus::Accepted,
        Vec::new(),
        String::new(),
    );
    out.trusted_time_ms = Some(item.trusted.instant_ms);
    out.time_source = Some(
        match item.trusted.source {
            TimeSource::Anchored => "anchored",
            TimeSource::DeviceClock => "device_clock",
            TimeSource::ServerReceipt => "server_receipt",
        }
        .to_string(),
    );
    out.device_skew_ms = item.trusted.device_skew_ms;
    out
}

/// Step 4 (decided in `prepare`): the person is not on this device. Recorded, so an
/// identical retry gets the same answer.
fn record_early_rejection<L: Ledger + ?Sized>(
    item: &PreparedCheckIn,
    ledger: &mut L,
    mut out: CheckInResult,
    code: &str,
    message: &str,
) -> Result<CheckInResult, L::Error> {
    out.status = CheckInStatus::Rejected;
    out.codes = vec![code.to_string()];
    out.message = message.to_string();
    ledger.record(item, &out, item.payload.selfie_phash_u64())?;
    Ok(out)
}

/// Step 5: the selfie is not uploaded yet; not recorded, the phone retries.
fn selfie_missing(mut out: CheckInResult) -> CheckInResult {
    out.status = CheckInStatus::RetryLater;
    out.codes = vec!["SELFIE_MISSING".into()];
    out.message = "Foto belum diterima server; aplikasi akan mengirimnya lalu mencoba lagi.".into();
    out
}

/// An accepted anchored check-in is an observation of its device's boot (one upsert).
fn record_boot_observation<L: Ledger + ?Sized>(
    item: &PreparedCheckIn,
    ledger: &mut L,
) -> Result<(), L::Error> {
    if let Some((boot_id, claim)) = &item.boot_claim {
        ledger.observe_boot(&item.device_id, boot_id, *claim)?;
    }
    Ok(())
}

/// Step 6's flags on a check-in and its delivery delay when late.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFlags {
    /// In this order: `TIME_SKEW`, `TIME_UNANCHORED`, `TIME_AFTER_RECEIPT`,
    /// `TIME_UNPROVEN`, `TIME_CONTRADICTED`, `LATE_DELIVERY`.
    pub flags: Vec<&'static str>,
    /// Set with `LATE_DELIVERY`: received minus trusted instant, ms.
    pub delivery_delay_ms: Option<i64>,
}

/// The one place step 6's flags are decided, from the trusted time (as
/// [`crate::verify::judge_time`] bounded it), whether the payload is legacy, the
/// server's record of the boot and the check-in's claim of it, and the receipt time.
pub fn time_flags(
    trusted: &TrustedTime,
    time_unproven: bool,
    boot: Option<(&BootObservation, &BootObservation)>,
    received_ms: i64,
    policy: &Policy,
) -> TimeFlags {
    let mut flags = Vec::new();
    if trusted.skew_flagged {
        flags.push("TIME_SKEW");
    }
    if trusted.unanchored_reason.is_some() {
        flags.push("TIME_UNANCHORED");
    }
    if trusted.source == TimeSource::ServerReceipt {
        flags.push("TIME_AFTER_RECEIPT");
    }
    if time_unproven {
        flags.push("TIME_UNPROVEN");
    }
    if boot.is_some_and(|(record, claim)| contradicts(record, claim)) {
        flags.push("TIME_CONTRADICTED");
    }
    let delay = delivery_delay_ms(trusted.instant_ms, received_ms);
    let late = delay > policy.late_delivery_window_ms;
    if late {
        flags.push("LATE_DELIVERY");
    }
    TimeFlags {
        flags,
        delivery_delay_ms: late.then_some(delay),
    }
}

/// Staff text for a delivery delay: `3 jam 5 menit`, `40 menit`, `2 hari 1 jam`.
pub fn delay_text(delay_ms: i64) -> String {
    let minutes = delay_ms / 60_000;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} hari"));
    }
    if hours > 0 {
        parts.push(format!("{hours} jam"));
    }
    if mins > 0 || parts.is_empty() {
        parts.push(format!("{mins} menit"));
    }
    parts.join(" ")
}

/// What steps 6 to 9 found: rejections (code, staff message) and flags (codes), in
/// the order the protocol lists them.
#[derive(Debug, Default)]
struct Findings {
    rejects: Vec<(String, String)>,
    flags: Vec<String>,
    /// The delivery delay, when flagged `LATE_DELIVERY`.
    late_by_ms: Option<i64>,
}

impl Findings {
    /// A guest on someone else's phone, and step 6: the phone's clock, its boot
    /// against the server's record ([`time_flags`]), the delivery delay (put on the
    /// result when late). Returns whether the claim may become the boot's record (it
    /// exists and is consistent).
    fn device_and_time<L: Ledger + ?Sized>(
        &mut self,
        item: &PreparedCheckIn,
        ledger: &mut L,
        out: &mut CheckInResult,
        policy: &Policy,
    ) -> Result<bool, L::Error> {
        if item.shared_device {
            self.flags.push("SHARED_DEVICE".into());
        }
        let boot = match &item.boot_claim {
            Some((boot_id, claim)) => ledger
                .boot_record(&item.device_id, boot_id)?
                .map(|record| (record, *claim)),
            None => None,
        };
        let time = time_flags(
            &item.trusted,
            item.time_unproven,
            boot.as_ref().map(|(r, c)| (r, c)),
            item.received_ms,
            policy,
        );
        self.flags.extend(time.flags.iter().map(|f| f.to_string()));
        self.late_by_ms = time.delivery_delay_ms;
        out.delivery_delay_ms = time.delivery_delay_ms;
        Ok(item.boot_claim.is_some() && !time.flags.contains(&"TIME_CONTRADICTED"))
    }

    /// Step 7: every issue of the fix, including impossible travel from the person's
    /// previous accepted fix, rejects or only flags as [`hadir_core::fix::FixIssue::rejects`] says.
    fn fix<L: Ledger + ?Sized>(
        &mut self,
        item: &PreparedCheckIn,
        ledger: &mut L,
        policy: &Policy,
    ) -> Result<(), L::Error> {
        // `prepare` checked the fix alone; with a previous fix the same checks run
        // again and travel is added, so each issue is judged exactly once.
        let issues = match ledger.previous_accepted_fix(&item.person_key)? {
            Some(previous) => check_fix(
                &item.payload.fix,
                Some(&previous),
                item.trusted.instant_ms,
                item.accuracy_limit_m,
                &policy.fix,
            ),
            None => item.fix_issues.clone(),
        };
        for issue in &issues {
            if issue.rejects() {
                self.rejects
                    .push((issue.code().to_string(), issue.staff_message()));
            } else {
                self.flags.push(issue.code().to_string());
            }
        }
        Ok(())
    }

    /// Step 8: the server's geofence verdict; sets the office (and distance when
    /// outside) on the result. Returns the staff message of an inside verdict.
    fn geofence(&mut self, item: &PreparedCheckIn, out: &mut CheckInResult) -> Option<String> {
        match &item.geofence {
            Some(v @ GeofenceVerdict::Inside { office_id, .. }) => {
                out.office_id = Some(office_id.clone());
                return Some(v.staff_message());
            }
            Some(
                v @ GeofenceVerdict::Outside {
                    nearest_office_id,
                    distance_m,
                    ..
                },
            ) => {
                out.office_id = Some(nearest_office_id.clone());
                out.distance_m = Some((distance_m * 10.0).round() / 10.0);
                self.rejects.push((v.code().to_string(), v.staff_message()));
            }
            Some(v) => self.rejects.push((v.code().to_string(), v.staff_message())),
            None => self.rejects.push((
                "GEOFENCE_NO_OFFICES".into(),
                GeofenceVerdict::NoOffices.staff_message(),
            )),
        }
        None
    }

    /// Step 8b: the office QR, for an office that requires it ([`crate::qr::judge`]),
    /// judged at the trusted instant; a waived day accepts with `QR_WAIVED`.
    fn qr<L: Ledger + ?Sized>(
        &mut self,
        item: &PreparedCheckIn,
        ledger: &mut L,
    ) -> Result<(), L::Error> {
        match crate::qr::judge(item, ledger)? {
            crate::qr::QrJudgement::NotRequired | crate::qr::QrJudgement::Valid => {}
            crate::qr::QrJudgement::Waived => self.flags.push("QR_WAIVED".into()),
            crate::qr::QrJudgement::Refused(e) => {
                self.rejects.push((e.code().to_string(), e.staff_message()))
            }
        }
        Ok(())
    }

    /// Step 9: the selfie used by another check-in, a near-duplicate of the person's
    /// recent ones, or a phash the phone computed differently.
    fn selfie<L: Ledger + ?Sized>(
        &mut self,
        item: &PreparedCheckIn,
        selfie: &SelfieInLedger,
        ledger: &mut L,
        policy: &Policy,
    ) -> Result<(), L::Error> {
        if selfie
            .first_checkin
            .as_deref()
            .is_some_and(|first| first != item.checkin_id)
        {
            self.flags.push("SELFIE_REUSED".into());
        }
        let window_ms = i64::from(policy.near_duplicate_window_days) * MS_PER_DAY;
        let near = ledger
            .recent_selfies(&item.person_key, item.trusted.instant_ms - window_ms)?
            .iter()
            .any(|s| {
                s.sha256 != item.payload.selfie_sha256
                    && (s.trusted_ms - item.trusted.instant_ms).abs() <= window_ms
                    && hamming_distance(s.phash, selfie.phash) <= policy.near_duplicate_max_distance
            });
        if near {
            self.flags.push("SELFIE_NEAR_DUPLICATE".into());
        }
        if hamming_distance(item.payload.selfie_phash_u64(), selfie.phash)
            > policy.near_duplicate_max_distance
        {
            self.flags.push("SELFIE_PHASH_MISMATCH".into());
        }
        Ok(())
    }

    /// Any rejection rejects; otherwise any flag accepts with flags; otherwise
    /// accepted. Codes list rejections first, then flags.
    fn conclude(self, out: &mut CheckInResult, inside_message: Option<String>) {
        if !self.rejects.is_empty() {
            out.status = CheckInStatus::Rejected;
            out.message = self
                .rejects
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join(" ");
        } else if !self.flags.is_empty() {
            out.status = CheckInStatus::AcceptedWithFlags;
            let labels: Vec<String> = self
                .flags
                .iter()
                .map(|c| match (c.as_str(), self.late_by_ms) {
                    ("LATE_DELIVERY", Some(delay)) => {
                        format!("{} ({})", flag_label(c), delay_text(delay))
                    }
                    _ => flag_label(c).to_string(),
                })
                .collect();
            out.message = format!(
                "Kehadiran tercatat, dengan catatan untuk diperiksa atasan: {}.",
                labels.join(", ")
            );
        } else {
            out.message = format!("Kehadiran tercatat. {}", inside_message.unwrap_or_default())
                .trim_end()
                .to_string();
        }
        out.codes = self
            .rejects
            .into_iter()
            .map(|(c, _)| c)
            .chain(self.flags)
            .collect();
    }
}

/// The Indonesian label of a flag, as the staff message lists it.
fn flag_label(code: &str) -> &'static str {
    match code {
        "SHARED_DEVICE" => "perangkat milik orang lain",
        "TIME_SKEW" => "jam ponsel tidak tepat",
        "TIME_UNANCHORED" => "waktu ponsel belum tersinkron dengan server",
        "FIX_IMPOSSIBLE_TRAVEL" => "perpindahan lokasi tidak wajar",
        "SELFIE_REUSED" => "foto sudah pernah dipakai",
        "SELFIE_NEAR_DUPLICATE" => "foto sangat mirip dengan foto sebelumnya",
        "SELFIE_PHASH_MISMATCH" => "sidik foto tidak cocok",
        "QR_WAIVED" => "tanpa kode QR kantor (QR dikecualikan hari itu oleh admin)",
        // Signed time anchors (issue #13).
        "TIME_UNPROVEN" => "waktu dari aplikasi versi lama, tidak dapat dibuktikan",
        "TIME_CONTRADICTED" => "waktu bertentangan dengan catatan server untuk ponsel ini",
        "TIME_AFTER_RECEIPT" => "waktu ponsel melewati waktu diterima server",
        "LATE_DELIVERY" => "terkirim terlambat setelah waktu absen",
        _ => "perlu diperiksa",
    }
}

/// A result with nothing but its id, status, codes and message.
pub(crate) fn result(
    checkin_id: String,
    status: CheckInStatus,
    codes: Vec<String>,
    message: String,
) -> CheckInResult {
    CheckInResult {
        checkin_id,
        status,
        codes,
        message,
        trusted_time_ms: None,
        time_source: None,
        device_skew_ms: None,
        office_id: None,
        distance_m: None,
        delivery_delay_ms: None,
    }
}

/// A rejection with one code.
pub(crate) fn rejected(checkin_id: String, code: &str, message: String) -> CheckInResult {
    result(
        checkin_id,
        CheckInStatus::Rejected,
        vec![code.to_string()],
        message,
    )
}
