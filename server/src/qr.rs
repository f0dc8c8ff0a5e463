//! The office QR check of a check-in (`docs/PROTOCOL.md`, "The office QR and the
//! kiosk"): which office's QR a check-in must carry ([`requirement`], decided in
//! `prepare` from the geofence verdict), and the judgement of its token inside the write
//! transaction ([`judge`], called by `Findings::qr` in [`crate::decision`]).
//!
//! Rules, decided here once:
//! * only an office whose policy says `qr_required` is checked, and only when the
//!   geofence verdict puts the check-in inside it (outside, the geofence already
//!   refuses);
//! * a token in a check-in for an office that does not require one is ignored (not
//!   checked, not flagged): the phone may scan a screen it passes, and nothing rests on
//!   it;
//! * the window is judged at the check-in's trusted instant, so an offline check-in made
//!   in a QR office is judged when it was made, not when it arrived; except a version-1
//!   check-in, whose time is the phone's unsigned word: it would let the phone choose
//!   the instant its token is judged at (and replay an old token by claiming its time),
//!   so it is judged at its receipt ([`judged_at_ms`]);
//! * on a day an admin waived (office-local date of the trusted instant), a check-in
//!   without a good token is accepted with the flag `QR_WAIVED`; one with a good token
//!   needs no waiver and carries no flag.

use hadir_core::geofence::{GeofenceIndex, GeofenceVerdict};
use hadir_core::qr::{QrError, parse_token, verify_token};
use hadir_core::schedule::local_date;

use crate::ledger::{Ledger, PreparedCheckIn, QrRequirement};

/// The QR requirement of a check-in with this geofence verdict: the office it is inside,
/// if that office requires its QR.
pub fn requirement(
    verdict: Option<&GeofenceVerdict>,
    offices: &GeofenceIndex,
) -> Option<QrRequirement> {
    let Some(GeofenceVerdict::Inside { office_id, .. }) = verdict else {
        return None;
    };
    offices
        .office(office_id)
        .filter(|o| o.qr_required)
        .map(|o| QrRequirement {
            office_id: o.id.clone(),
            utc_offset_minutes: o.utc_offset_minutes,
        })
}

/// What the QR step concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrJudgement {
    /// The office does not require a QR (or the check-in is not inside a QR office).
    NotRequired,
    /// A genuine token of the office, within a window of the trusted instant.
    Valid,
    /// No good token, but the office's QR is waived that day: accepted, flagged.
    Waived,
    /// Refused with this reason.
    Refused(QrError),
}

/// The instant a check-in's token (and waiver day) is judged at: its trusted instant,
/// or, for a version-1 check-in whose time nothing proves, its receipt by the server.
pub fn judged_at_ms(item: &PreparedCheckIn) -> i64 {
    if item.time_unproven {
        item.received_ms
    } else {
        item.trusted.instant_ms
    }
}

/// Judges the check-in's token against the office [`requirement`] named, at
/// [`judged_at_ms`].
pub fn judge<L: Ledger + ?Sized>(
    item: &PreparedCheckIn,
    ledger: &mut L,
) -> Result<QrJudgement, L::Error> {
    let Some(required) = &item.qr else {
        return Ok(QrJudgement::NotRequired);
    };
    let token = item
        .payload
        .qr_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let at_ms = judged_at_ms(item);
    let checked = match token {
        None => Err(QrError::Missing),
        Some(token) => match ledger.qr_secret(&required.office_id)? {
            Some(secret) => verify_token(&secret, &required.office_id, token, at_ms),
            // No secret yet: no kiosk ever showed a token of this office, so none is
            // genuine (and an empty key must never verify one).
            None => Err(without_secret(token, &required.office_id)),
        },
    };
    let Err(refusal) = checked else {
        return Ok(QrJudgement::Valid);
    };
    let day = local_date(at_ms, required.utc_offset_minutes);
    Ok(if ledger.qr_waived(&required.office_id, day)? {
        QrJudgement::Waived
    } else {
        QrJudgement::Refused(refusal)
    })
}

/// The refusal of a token for an office that has no secret: another office's if it
/// names one, otherwise invalid.
fn without_secret(token: &str, office_id: &str) -> QrError {
    match parse_token(token) {
        Ok(parsed) if parsed.office_id != office_id => QrError::WrongOffice {
            expected: office_id.to_string(),
            found: parsed.office_id,
        },
        _ => QrError::Invalid,
    }
}

/// Records a waiver of an office's QR for one office-local day (`qr waive`): that day,
/// check-ins there without a good token are accepted with the flag `QR_WAIVED`.
pub fn waive(
    storage: &dyn crate::storage::Storage,
    office_id: &str,
    local_date: chrono::NaiveDate,
    reason: &str,
    waived_by: &str,
) -> Result<crate::storage::QrWaiver, crate::admin::AdminError> {
    use crate::admin::AdminError;
    let (reason, waived_by) = (reason.trim(), waived_by.trim());
    if reason.is_empty() || waived_by.is_empty() {
        return Err(AdminError::Invalid(
            "a waiver needs a reason and who grants it".into(),
        ));
    }
    let waiver = crate::storage::QrWaiver {
        office_id: office_id.to_string(),
        local_date,
        reason: reason.to_string(),
        waived_by: waived_by.to_string(),
        created_ms: storage.clock().now_ms(),
    };
    storage.add_qr_waiver(waiver.clone()).map_err(|e| match e {
        crate::storage::StorageError::Invalid(m) => AdminError::Invalid(m),
        e => AdminError::Storage(e),
    })?;
    Ok(waiver)
}
