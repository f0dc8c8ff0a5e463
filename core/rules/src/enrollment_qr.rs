//! The enrollment QR: what an admin prints on the enrollment slip so that staff scan
//! their code and identifier instead of typing them. One line of text,
//! `hadir-enroll:v1:<code>:<kind>:<value>` (e.g.
//! `hadir-enroll:v1:K7QM-3XPA-WN:nip:198503122010011003`); the person part is
//! [`PersonId`]'s `kind:value` form. The server URL is never in it: it comes from the
//! regency's build of the app, so a QR cannot send a phone to another server.

use crate::ids::{IdError, PersonId};

/// The prefix and version of an enrollment QR.
pub const ENROLLMENT_QR_PREFIX: &str = "hadir-enroll:v1:";

/// What an enrollment QR carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentQr {
    /// The one-time enrollment code, as issued.
    pub code: String,
    /// Whom the code was issued to.
    pub person: PersonId,
}

/// Why a scanned text is not an enrollment QR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollmentQrError {
    /// Not a Hadir enrollment QR at all (another QR, e.g. the office monitor's).
    #[error("not a hadir enrollment QR")]
    NotEnrollment,
    /// A Hadir enrollment QR of a version this app does not know.
    #[error("enrollment QR of an unknown version")]
    UnknownVersion,
    /// The code part is empty or holds characters no code has.
    #[error("enrollment QR without a valid code")]
    BadCode,
    /// The person part is not a valid identifier.
    #[error("enrollment QR person: {0}")]
    BadPerson(#[from] IdError),
}

impl EnrollmentQrError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            EnrollmentQrError::NotEnrollment => "ENROLL_QR_NOT_ENROLLMENT",
            EnrollmentQrError::UnknownVersion => "ENROLL_QR_VERSION",
            EnrollmentQrError::BadCode => "ENROLL_QR_BAD_CODE",
            EnrollmentQrError::BadPerson(e) => e.code(),
        }
    }

    /// Indonesian message for the person scanning.
    pub fn staff_message(&self) -> String {
        match self {
            EnrollmentQrError::NotEnrollment => {
                "Ini bukan QR pendaftaran Hadir. Pindai QR pada lembar kode pendaftaran \
                 dari admin."
                    .to_string()
            }
            EnrollmentQrError::UnknownVersion => {
                "QR pendaftaran ini dibuat oleh versi Hadir yang lebih baru. Perbarui \
                 aplikasi, atau ketik kodenya."
                    .to_string()
            }
            EnrollmentQrError::BadCode => {
                "QR pendaftaran rusak: kodenya tidak terbaca. Ketik kodenya, atau minta \
                 lembar baru ke admin."
                    .to_string()
            }
            EnrollmentQrError::BadPerson(e) => e.message(),
        }
    }
}

impl EnrollmentQr {
    /// The QR's text.
    pub fn to_text(&self) -> String {
        format!("{ENROLLMENT_QR_PREFIX}{}:{}", self.code, self.person)
    }

    /// Reads a scanned text (surrounding spaces ignored).
    pub fn parse(text: &str) -> Result<Self, EnrollmentQrError> {
        let text = text.trim();
        let Some(rest) = text.strip_prefix(ENROLLMENT_QR_PREFIX) else {
            return Err(if text.starts_with("hadir-enroll:") {
                EnrollmentQrError::UnknownVersion
            } else {
                EnrollmentQrError::NotEnrollment
            });
        };
        let (code, person) = rest.split_once(':').ok_or(EnrollmentQrError::BadCode)?;
        let code_ok = !code.is_empty()
            && code.len() <= 64
            && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !code_ok {
            return Err(EnrollmentQrError::BadCode);
        }
        Ok(EnrollmentQr {
            code: code.to_string(),
            person: person.parse()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_reads_back_what_was_written() {
        let qr = EnrollmentQr {
            code: "K7QM-3XPA-WN".into(),
            person: "ni_pppk:199009132025242014".parse().unwrap(),
        };
        let text = qr.to_text();
        assert_eq!(
            text,
            "hadir-enroll:v1:K7QM-3XPA-WN:ni_pppk:199009132025242014"
        );
        assert_eq!(EnrollmentQr::parse(&format!("  {text}\n")).unwrap(), qr);
    }

    #[test]
    fn other_qrs_and_damaged_ones_are_told_apart() {
        let office_token = "v1.kominfo.59412345.ABCDEFGHIJKLMNOP";
        assert_eq!(
            EnrollmentQr::parse(office_token).unwrap_err(),
            EnrollmentQrError::NotEnrollment
        );
        assert_eq!(
            EnrollmentQr::parse("hadir-enroll:v2:X:nip:1").unwrap_err(),
            EnrollmentQrError::UnknownVersion
        );
        for bad_code in [
            "hadir-enroll:v1::nip:198503122010011003",
            "hadir-enroll:v1:K7 QM:nip:198503122010011003",
            "hadir-enroll:v1:K7QM",
        ] {
            assert_eq!(
                EnrollmentQr::parse(bad_code).unwrap_err(),
                EnrollmentQrError::BadCode,
                "{bad_code}"
            );
        }
        let e = EnrollmentQr::parse("hadir-enroll:v1:K7QM:nip:198513122010011003").unwrap_err();
        assert_eq!(e.code(), "ID_BAD_BIRTH_DATE");
        assert!(
            e.staff_message().contains("tanggal lahir"),
            "{}",
            e.staff_message()
        );
    }
}
