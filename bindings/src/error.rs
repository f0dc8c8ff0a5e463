//! The one public error of the bindings, mapped in one place ([`From<DeviceError>`]) from
//! the core's error. Every variant carries a stable machine `code` (the core's; the
//! bindings invent none) and a `staff_message` in Indonesian that a screen can show as
//! is, plus the fields a screen needs (`field`, `retry_after_s`). Internal detail
//! (SQL, server text, coordinates) goes to the `Logger`, never into these.

use hadir_device::device::DeviceError;

/// What went wrong, grouped by what the shell does about it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HadirError {
    /// Bad input from the shell or the person: an identifier, a fix, a date.
    #[error("{code} ({field}): {staff_message}")]
    InvalidInput {
        /// Stable machine code (e.g. `ID_BAD_BIRTH_DATE`, `GEOFENCE_BAD_LATITUDE`).
        code: String,
        /// Indonesian message for staff.
        staff_message: String,
        /// The parameter at fault: `person`, `supervisor`, `device_label`, `fix`, `date`,
        /// `kind`, `qr_token` (`QR_RESCAN`: scan the office screen again).
        field: String,
    },
    /// The device or the person is not enrolled, or no configuration has been fetched.
    #[error("{code}: {staff_message}")]
    NotReady {
        /// Stable machine code.
        code: String,
        /// Indonesian message for staff.
        staff_message: String,
    },
    /// The selfie was refused (not a JPEG, too dark, too small...): take it again.
    #[error("{code}: {staff_message}")]
    Photo {
        /// Stable machine code.
        code: String,
        /// Indonesian message for staff.
        staff_message: String,
    },
    /// The device store failed or the outbox is full.
    #[error("{code}: {staff_message}")]
    Storage {
        /// Stable machine code.
        code: String,
        /// Indonesian message for staff.
        staff_message: String,
    },
    /// The server could not be reached; nothing is lost, try again later.
    #[error("{code}: {staff_message}")]
    Network {
        /// Stable machine code.
        code: String,
        /// Indonesian message for staff.
        staff_message: String,
    },
    /// The server is rate-limiting this device (HTTP 429, `RATE_LIMITED`).
    #[error("{code}: {staff_message}")]
    RateLimited {
        /// Stable machine code.
        code: String,
        /// Indonesian message for staff (says how long to wait when known).
        staff_message: String,
        /// Seconds to wait before trying again (the server's `Retry-After`), if given.
        retry_after_s: Option<u64>,
    },
    /// The server is overloaded or unavailable (HTTP 5xx, `SERVER_UNAVAILABLE`).
    #[error("{code}: {staff_message}")]
    Overloaded {
        /// Stable machine code.
        code: String,
        /// Indonesian message for staff (says how long to wait when known).
        staff_message: String,
        /// Seconds to wait before trying again (the server's `Retry-After`), if given.
        retry_after_s: Option<u64>,
    },
    /// The server refused the request (e.g. an enrollment code already used).
    #[error("{code}: {staff_message}")]
    Refused {
        /// Stable machine code (the server's).
        code: String,
        /// Indonesian message for staff (the server's).
        staff_message: String,
    },
    /// A platform feature (hardware key, clock) failed.
    #[error("{code}: {staff_message}")]
    Platform {
        /// Stable machine code.
        code: String,
        /// Indonesian message for staff.
        staff_message: String,
    },
}

impl HadirError {
    /// The stable machine code of any variant.
    pub fn code(&self) -> &str {
        match self {
            HadirError::InvalidInput { code, .. }
            | HadirError::NotReady { code, .. }
            | HadirError::Photo { code, .. }
            | HadirError::Storage { code, .. }
            | HadirError::Network { code, .. }
            | HadirError::RateLimited { code, .. }
            | HadirError::Overloaded { code, .. }
            | HadirError::Refused { code, .. }
            | HadirError::Platform { code, .. } => code,
        }
    }

    /// The Indonesian message of any variant.
    pub fn staff_message(&self) -> &str {
        match self {
            HadirError::InvalidInput { staff_message, .. }
            | HadirError::NotReady { staff_message, .. }
            | HadirError::Photo { staff_message, .. }
            | HadirError::Storage { staff_message, .. }
            | HadirError::Network { staff_message, .. }
            | HadirError::RateLimited { staff_message, .. }
            | HadirError::Overloaded { staff_message, .. }
            | HadirError::Refused { staff_message, .. }
            | HadirError::Platform { staff_message, .. } => staff_message,
        }
    }
}

/// The one mapping from the core's error to what the shells see.
impl From<DeviceError> for HadirError {
    fn from(e: DeviceError) -> Self {
        let (code, staff_message) = (e.code(), e.staff_message());
        if let Some(field) = e.field() {
            return HadirError::InvalidInput {
                code,
                staff_message,
                field: field.to_string(),
            };
        }
        match e {
            DeviceError::NotEnrolled
            | DeviceError::PersonNotOnDevice(_)
            | DeviceError::NoConfig => HadirError::NotReady {
                code,
                staff_message,
            },
            DeviceError::Photo(_) => HadirError::Photo {
                code,
                staff_message,
            },
            DeviceError::Store(_) => HadirError::Storage {
                code,
                staff_message,
            },
            DeviceError::Key(_)
            | DeviceError::KeyUnavailable(_)
            | DeviceError::ClockUnavailable(_) => HadirError::Platform {
                code,
                staff_message,
            },
            DeviceError::Network(_) => HadirError::Network {
                code,
                staff_message,
            },
            DeviceError::Unavailable {
                status: 429,
                retry_after_s,
                ..
            } => HadirError::RateLimited {
                code,
                staff_message,
                retry_after_s,
            },
            DeviceError::Unavailable { retry_after_s, .. } => HadirError::Overloaded {
                code,
                staff_message,
                retry_after_s,
            },
            DeviceError::Refused { .. } | DeviceError::Config(_) => HadirError::Refused {
                code,
                staff_message,
            },
            // Carried a field: mapped above.
            DeviceError::InvalidFix(_)
            | DeviceError::InvalidId { .. }
            | DeviceError::InvalidDate { .. }
            | DeviceError::UnknownAttendanceKind
            | DeviceError::QrRescan => HadirError::InvalidInput {
                code,
                staff_message,
                field: String::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hadir_core::ids::{PersonId, PersonIdKind};

    #[test]
    fn rate_limit_and_overload_carry_retry_after() {
        let limited = HadirError::from(DeviceError::Unavailable {
            status: 429,
            code: "RATE_LIMITED".into(),
            retry_after_s: Some(30),
        });
        match limited {
            HadirError::RateLimited {
                code,
                retry_after_s,
                staff_message,
            } => {
                assert_eq!(code, "RATE_LIMITED");
                assert_eq!(retry_after_s, Some(30));
                assert!(staff_message.contains("30 detik"), "{staff_message}");
            }
            other => panic!("{other:?}"),
        }
        let busy = HadirError::from(DeviceError::Unavailable {
            status: 503,
            code: "OVERLOADED".into(),
            retry_after_s: Some(5),
        });
        assert!(matches!(
            busy,
            HadirError::Overloaded { retry_after_s: Some(5), ref code, .. } if code == "SERVER_UNAVAILABLE"
        ));
    }

    #[test]
    fn invalid_input_names_the_field_and_keeps_internal_detail_out() {
        let bad = PersonId::parse(PersonIdKind::Nip, "198502302010011003").unwrap_err();
        let e = HadirError::from(DeviceError::InvalidId {
            field: "supervisor",
            source: bad,
        });
        assert!(
            matches!(&e, HadirError::InvalidInput { field, code, .. } if field == "supervisor" && code == "ID_BAD_BIRTH_DATE"),
            "{e:?}"
        );
        let rescan = HadirError::from(DeviceError::QrRescan);
        assert!(
            matches!(&rescan, HadirError::InvalidInput { field, code, staff_message }
                if field == "qr_token" && code == "QR_RESCAN" && staff_message.contains("pindai ulang")),
            "{rescan:?}"
        );
        let network = HadirError::from(DeviceError::Network("tcp connect 10.0.0.7:443".into()));
        assert!(!format!("{network}").contains("10.0.0.7"), "{network}");
    }
}
