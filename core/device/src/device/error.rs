//! Why a device operation failed: [`DeviceError`], with a stable code, an Indonesian
//! message for staff and, where a screen needs them, the input field at fault and the
//! server's `Retry-After`. Internal detail stays in `Display` (for logs), never in the
//! staff message.

use crate::client::ClientError;
use crate::store::StoreError;
use hadir_core::envelope;
use hadir_core::geofence::GeofenceError;
use hadir_core::ids::IdError;
use hadir_core::photo::PhotoError;

/// Why a device operation failed. `code()` is stable; `staff_message()` is Indonesian.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The device has not been enrolled yet.
    #[error("device not enrolled")]
    NotEnrolled,
    /// The person is not enrolled on this device.
    #[error("person {0} is not enrolled on this device")]
    PersonNotOnDevice(String),
    /// No office configuration has been fetched yet.
    #[error("no configuration yet")]
    NoConfig,
    /// The selfie was refused.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The fix is not a valid position.
    #[error(transparent)]
    InvalidFix(#[from] GeofenceError),
    /// The device store failed or is full.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing or key loading failed.
    #[error(transparent)]
    Key(#[from] envelope::EnvelopeError),
    /// The platform's key (Keystore, Secure Enclave) could not be read at all.
    #[error("device key unavailable: {0}")]
    KeyUnavailable(String),
    /// The platform's clocks could not be read; no time is guessed in their place.
    #[error("platform clock unavailable: {0}")]
    ClockUnavailable(String),
    /// An identifier given by the shell is not valid; `field` names the parameter.
    #[error("{field}: {source}")]
    InvalidId {
        /// The parameter at fault (`person`, `supervisor`, `device_label`).
        field: &'static str,
        /// Why the identifier is invalid.
        source: IdError,
    },
    /// A date given by the shell is not `YYYY-MM-DD`; `field` names the parameter.
    #[error("{field}: not a YYYY-MM-DD date: {value:?}")]
    InvalidDate {
        /// The parameter at fault.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// The shell asked to check in with [`hadir_core::wire::AttendanceKind::Unknown`]
    /// (a kind it only read from a newer server); nothing is recorded.
    #[error("kind: cannot check in with an unknown attendance kind")]
    UnknownAttendanceKind,
    /// The scanned office QR token is already more than one window old by the phone's
    /// anchored clock: the server would refuse the check-in `QR_EXPIRED` for good, so it
    /// is not recorded and the person rescans the screen.
    #[error("office QR token already expired; rescan")]
    QrRescan,
    /// The server could not be reached (retry later).
    #[error("server unreachable: {0}")]
    Network(String),
    /// The server is overloaded or rate-limiting this device (retry later).
    #[error("server unavailable: HTTP {status} {code}")]
    Unavailable {
        /// HTTP status (5xx or 429).
        status: u16,
        /// The server's code.
        code: String,
        /// The server's `Retry-After`, seconds.
        retry_after_s: Option<u64>,
    },
    /// The server refused the request.
    #[error("server refused: {code}: {message}")]
    Refused {
        /// The server's code.
        code: String,
        /// The server's (Indonesian) message.
        message: String,
    },
    /// The client is misconfigured (URL, certificate).
    #[error("configuration: {0}")]
    Config(String),
}

impl From<ClientError> for DeviceError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Network(m) | ClientError::BadAnswer(m) => DeviceError::Network(m),
            ClientError::Unavailable {
                status,
                code,
                retry_after_s,
            } => DeviceError::Unavailable {
                status,
                code,
                retry_after_s,
            },
            ClientError::Refused { error, .. } => DeviceError::Refused {
                code: error.code,
                message: error.message,
            },
            ClientError::Signing(m) => {
                DeviceError::Key(envelope::EnvelopeError::Signing(envelope::KeyError {
                    reason: m,
                }))
            }
            ClientError::Config(m) => DeviceError::Config(m),
        }
    }
}

impl DeviceError {
    /// Stable machine code.
    pub fn code(&self) -> String {
        match self {
            DeviceError::NotEnrolled => "DEVICE_NOT_ENROLLED".into(),
            DeviceError::PersonNotOnDevice(_) => "PERSON_NOT_ON_DEVICE".into(),
            DeviceError::NoConfig => "CONFIG_MISSING".into(),
            DeviceError::Photo(e) => e.code().into(),
            DeviceError::InvalidFix(e) => e.code().into(),
            DeviceError::Store(e) => e.code().into(),
            DeviceError::Key(e) => e.code().into(),
            DeviceError::Network(_) => "NETWORK".into(),
            DeviceError::KeyUnavailable(_) => "KEY_UNAVAILABLE".into(),
            DeviceError::ClockUnavailable(_) => "CLOCK_UNAVAILABLE".into(),
            DeviceError::InvalidId { source, .. } => source.code().into(),
            DeviceError::InvalidDate { .. } => "DATE_INVALID".into(),
            DeviceError::UnknownAttendanceKind => "ATTENDANCE_KIND_UNKNOWN".into(),
            DeviceError::QrRescan => "QR_RESCAN".into(),
            DeviceError::Unavailable { status: 429, .. } => "RATE_LIMITED".into(),
            DeviceError::Unavailable { .. } => "SERVER_UNAVAILABLE".into(),
            DeviceError::Refused { code, .. } => code.clone(),
            DeviceError::Config(_) => "CLIENT_CONFIG".into(),
        }
    }

    /// Indonesian message to show staff.
    pub fn staff_message(&self) -> String {
        match self {
            DeviceError::NotEnrolled => {
                "Perangkat ini belum didaftarkan. Masukkan kode pendaftaran dari admin.".into()
            }
            DeviceError::PersonNotOnDevice(_) => {
                "Pegawai ini belum didaftarkan di perangkat ini.".into()
            }
            DeviceError::NoConfig => {
                "Data kantor belum diunduh. Sambungkan ke internet sekali untuk memuatnya.".into()
            }
            DeviceError::Photo(e) => e.staff_message(),
            DeviceError::InvalidFix(_) => {
                "Lokasi dari GPS tidak valid. Coba lagi di tempat terbuka.".into()
            }
            DeviceError::Store(e) => e.staff_message(),
            DeviceError::Key(_) => {
                "Kunci keamanan perangkat tidak dapat dipakai. Hubungi admin.".into()
            }
            DeviceError::Network(_) => {
                "Server tidak dapat dihubungi. Absensi tetap tersimpan dan akan dikirim nanti."
                    .into()
            }
            DeviceError::KeyUnavailable(_) => {
                "Kunci keamanan perangkat tidak dapat dibaca. Hubungi admin.".into()
            }
            DeviceError::ClockUnavailable(_) => {
                "Jam ponsel tidak dapat dibaca. Mulai ulang aplikasi; jika berulang, hubungi admin."
                    .into()
            }
            DeviceError::InvalidId { source, .. } => source.message(),
            DeviceError::InvalidDate { .. } => "Tanggal tidak valid (TTTT-BB-HH).".into(),
            DeviceError::UnknownAttendanceKind => {
                "Jenis absen ini tidak dikenal aplikasi. Perbarui aplikasi.".into()
            }
            DeviceError::QrRescan => {
                "Kode QR sudah kedaluwarsa; pindai ulang kode QR di layar kantor.".into()
            }
            DeviceError::Unavailable {
                retry_after_s: Some(s),
                ..
            } => format!(
                "Server sedang sibuk. Coba lagi dalam {s} detik. Absensi yang sudah tercatat \
                 tetap tersimpan."
            ),
            DeviceError::Unavailable { .. } => {
                "Server sedang sibuk. Absensi tetap tersimpan dan akan dikirim nanti.".into()
            }
            DeviceError::Refused { message, .. } => message.clone(),
            DeviceError::Config(_) => "Pengaturan aplikasi salah. Hubungi admin.".into(),
        }
    }
}

impl DeviceError {
    /// The parameter at fault when the shell's input was invalid (`person`, `fix`,
    /// `date`...), so a screen can point at it.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DeviceError::InvalidId { field, .. } | DeviceError::InvalidDate { field, .. } => {
                Some(field)
            }
            DeviceError::InvalidFix(_) => Some("fix"),
            DeviceError::UnknownAttendanceKind => Some("kind"),
            DeviceError::QrRescan => Some("qr_token"),
            _ => None,
        }
    }

    /// The server's `Retry-After` when it was busy or rate-limiting, seconds.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            DeviceError::Unavailable { retry_after_s, .. } => *retry_after_s,
            _ => None,
        }
    }

    /// True for failures worth retrying later: no answer, or a busy server.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            DeviceError::Network(_) | DeviceError::Unavailable { .. }
        )
    }
}

/// Parses an office-local `YYYY-MM-DD` date given by the shell as parameter `field`.
pub fn parse_date(field: &'static str, value: &str) -> Result<chrono::NaiveDate, DeviceError> {
    hadir_core::schedule::iso_date::parse(value.trim()).ok_or_else(|| DeviceError::InvalidDate {
        field,
        value: value.to_string(),
    })
}
