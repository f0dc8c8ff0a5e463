//! The one public error of the bindings. Every variant carries a stable machine `code`
//! and a `staff_message` in Indonesian that a screen can show as is; internal details
//! (coordinates, keys, SQL) never cross.

use hadir_device::device::DeviceError;

/// What went wrong, grouped by what the shell does about it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HadirError {
    /// Bad input from the shell or the person (identifier, fix, enrollment code format).
    #[error("{code}: {staff_message}")]
    InvalidInput {
        /// Stable machine code.
        code: String,
        /// Indonesian message for staff.
        staff_message: String,
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
            | HadirError::Refused { code, .. }
            | HadirError::Platform { code, .. } => code,
        }
    }

    pub(crate) fn invalid(code: &str, staff_message: impl Into<String>) -> Self {
        HadirError::InvalidInput {
            code: code.to_string(),
            staff_message: staff_message.into(),
        }
    }
}

impl From<DeviceError> for HadirError {
    fn from(e: DeviceError) -> Self {
        let (code, staff_message) = (e.code(), e.staff_message());
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
            DeviceError::InvalidFix(_) => HadirError::InvalidInput {
                code,
                staff_message,
            },
            DeviceError::Store(_) => HadirError::Storage {
                code,
                staff_message,
            },
            DeviceError::Key(_) => HadirError::Platform {
                code,
                staff_message,
            },
            DeviceError::Network(_) | DeviceError::Unavailable { .. } => HadirError::Network {
                code,
                staff_message,
            },
            DeviceError::Refused { .. } | DeviceError::Config(_) => HadirError::Refused {
                code,
                staff_message,
            },
        }
    }
}

impl From<hadir_core::ids::IdError> for HadirError {
    fn from(e: hadir_core::ids::IdError) -> Self {
        HadirError::invalid(e.code(), e.message())
    }
}
