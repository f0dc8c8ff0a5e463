//! Free functions the shells call while a person types or scans, before any engine
//! exists: the identifier check for inline validation and the enrollment QR. They
//! delegate to hadir-core's rules (`ids`, `enrollment_qr`).

use hadir_core::enrollment_qr::EnrollmentQr;

use crate::error::HadirError;
use crate::types::PersonRef;

/// Checks an identifier as typed, for inline validation on the enrollment screen:
/// `InvalidInput` (field `person`) with the Indonesian reason, e.g. "NIP tidak valid:
/// tanggal lahir 19851312 tidak ada.", or nothing when it is well formed. Local,
/// any thread.
#[uniffi::export]
pub fn check_person_id(person: PersonRef) -> Result<(), HadirError> {
    person
        .to_core("person")
        .map(|_| ())
        .map_err(HadirError::from)
}

/// What an admin's enrollment QR carries (see `docs/PROTOCOL.md`, "Enrollment QR").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollmentQrInfo {
    /// The one-time enrollment code.
    pub enrollment_code: String,
    /// Whom it was issued to.
    pub person: PersonRef,
}

/// Reads a scanned enrollment QR: `InvalidInput` (field `enrollment_qr`) with an
/// Indonesian reason when the text is another QR or damaged. Local, any thread.
#[uniffi::export]
pub fn parse_enrollment_qr(text: String) -> Result<EnrollmentQrInfo, HadirError> {
    let qr = EnrollmentQr::parse(&text).map_err(|e| HadirError::InvalidInput {
        code: e.code().to_string(),
        staff_message: e.staff_message(),
        field: "enrollment_qr".to_string(),
    })?;
    Ok(EnrollmentQrInfo {
        enrollment_code: qr.code,
        person: PersonRef::from_core(&qr.person),
    })
}
