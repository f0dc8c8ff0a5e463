//! Typed identifiers of people and device labels, each with its own check.
//!
//! * **NIP** (PNS, Perka BKN 22/2007): 18 digits = birth date `YYYYMMDD` + TMT CPNS
//!   `YYYYMM` + gender (`1` male, `2` female) + 3-digit serial. There is no check digit;
//!   what can be checked is that both dates exist and that the appointment month is not
//!   before the month of the 18th birthday.
//! * **NI PPPK** (contract ASN since 2019): 18 digits = birth date `YYYYMMDD` +
//!   appointment year `YYYY` + 2-digit code + gender + 3-digit serial, e.g.
//!   `199009132025242014`. A strict NIP check would refuse it, so it is its own type.
//! * **Non-ASN / honorer id**: issued by the regency (often keyed on the 16-digit NIK);
//!   accepted as 3–32 characters of `A-Z a-z 0-9 . / -` with at least one digit.
//! * **IMEI**: 15 digits whose last is a Luhn check digit. A device *label*, never a
//!   secret: the device is identified by its key pair.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Why an identifier was refused. `code()` is stable; `message()` is Indonesian.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Wrong number of characters or a non-digit where digits are required.
    #[error("{kind} must be {expected}, got {found:?}")]
    BadFormat {
        /// Which identifier kind was being parsed.
        kind: &'static str,
        /// What shape was expected.
        expected: &'static str,
        /// The refused input.
        found: String,
    },
    /// The embedded birth date is not a real date.
    #[error("{kind} {value}: birth date {date} does not exist")]
    BadBirthDate {
        /// Identifier kind.
        kind: &'static str,
        /// The identifier.
        value: String,
        /// The `YYYYMMDD` part.
        date: String,
    },
    /// The embedded appointment date is impossible (not a month, or before age 18).
    #[error("{kind} {value}: appointment {appointment} is impossible ({why})")]
    BadAppointment {
        /// Identifier kind.
        kind: &'static str,
        /// The identifier.
        value: String,
        /// The appointment part as written.
        appointment: String,
        /// Why it is impossible.
        why: &'static str,
    },
    /// The gender digit is neither 1 nor 2.
    #[error("{kind} {value}: gender digit {digit} is not 1 or 2")]
    BadGender {
        /// Identifier kind.
        kind: &'static str,
        /// The identifier.
        value: String,
        /// The digit found.
        digit: char,
    },
    /// An IMEI whose Luhn check digit does not match.
    #[error("IMEI {0} fails its Luhn check digit")]
    BadImeiCheckDigit(String),
    /// A person written without its kind, or with a kind that does not exist: the
    /// `kind:value` form ([`PersonId`]'s `FromStr`) needs one of `nip`, `ni_pppk`,
    /// `non_asn`.
    #[error("{found:?} is not kind:value with kind nip, ni_pppk or non_asn")]
    BadKind {
        /// The refused input.
        found: String,
    },
}

impl IdError {
    /// Stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            IdError::BadFormat { .. } => "ID_BAD_FORMAT",
            IdError::BadBirthDate { .. } => "ID_BAD_BIRTH_DATE",
            IdError::BadAppointment { .. } => "ID_BAD_APPOINTMENT",
            IdError::BadGender { .. } => "ID_BAD_GENDER",
            IdError::BadImeiCheckDigit(_) => "ID_BAD_IMEI",
            IdError::BadKind { .. } => "ID_BAD_KIND",
        }
    }

    /// Indonesian message for the person typing the identifier.
    pub fn message(&self) -> String {
        match self {
            IdError::BadFormat { kind, expected, .. } => {
                format!("{kind} tidak sesuai format: harus {expected}.")
            }
            IdError::BadBirthDate { kind, date, .. } => {
                format!("{kind} tidak valid: tanggal lahir {date} tidak ada.")
            }
            IdError::BadAppointment {
                kind, appointment, ..
            } => format!("{kind} tidak valid: tanggal pengangkatan {appointment} tidak mungkin."),
            IdError::BadGender { kind, digit, .. } => {
                format!("{kind} tidak valid: digit jenis kelamin {digit} harus 1 atau 2.")
            }
            IdError::BadImeiCheckDigit(_) => {
                "IMEI tidak valid: digit pemeriksa (Luhn) tidak cocok.".to_string()
            }
            IdError::BadKind { .. } => "Jenis identitas harus nip, ni_pppk atau non_asn, \
                 ditulis jenis:nomor (mis. nip:198503122010011003)."
                .to_string(),
        }
    }
}

/// The kind of a person identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonIdKind {
    /// Nomor Induk Pegawai of a PNS.
    Nip,
    /// Nomor Induk PPPK of a contract ASN.
    NiPppk,
    /// An id issued by the regency to honorer / non-ASN staff.
    NonAsn,
}

impl PersonIdKind {
    /// The stable lowercase name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PersonIdKind::Nip => "nip",
            PersonIdKind::NiPppk => "ni_pppk",
            PersonIdKind::NonAsn => "non_asn",
        }
    }

    /// Parses [`PersonIdKind::as_str`]'s output, forgiving what people type: surrounding
    /// spaces, upper case and `-` for `_` (`NI-PPPK` is `ni_pppk`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "nip" => Some(PersonIdKind::Nip),
            "ni_pppk" => Some(PersonIdKind::NiPppk),
            "non_asn" => Some(PersonIdKind::NonAsn),
            _ => None,
        }
    }
}

/// A validated person identifier. Construct it with [`PersonId::parse`]; deserialising
/// runs the same check, so an invalid id can never be held in this type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPersonId", into = "RawPersonId")]
pub struct PersonId {
    kind: PersonIdKind,
    value: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPersonId {
    kind: PersonIdKind,
    value: String,
}

impl TryFrom<RawPersonId> for PersonId {
    type Error = IdError;
    fn try_from(raw: RawPersonId) -> Result<Self, IdError> {
        PersonId::parse(raw.kind, &raw.value)
    }
}

impl From<PersonId> for RawPersonId {
    fn from(id: PersonId) -> Self {
        RawPersonId {
            kind: id.kind,
            value: id.value,
        }
    }
}

impl PersonId {
    /// Validates `value` as an identifier of `kind` (surrounding spaces are trimmed).
    pub fn parse(kind: PersonIdKind, value: &str) -> Result<Self, IdError> {
        let value = value.trim();
        match kind {
            PersonIdKind::Nip => validate_nip(value)?,
            PersonIdKind::NiPppk => validate_ni_pppk(value)?,
            PersonIdKind::NonAsn => validate_non_asn(value)?,
        }
        Ok(PersonId {
            kind,
            value: value.to_string(),
        })
    }

    /// The identifier's kind.
    pub fn kind(&self) -> PersonIdKind {
        self.kind
    }

    /// The identifier as issued (the key people and admins know it by).
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// The one written form of a person everywhere a single string must name one (storage
/// keys, query values, CLI arguments, logs): `kind:value`, e.g.
/// `nip:198503122010011003`. Two people of different kinds may share a value, so the
/// kind is always part of it.
impl std::fmt::Display for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

/// Parses the `kind:value` form [`Display`](std::fmt::Display) writes. The kind is
/// forgiven as [`PersonIdKind::parse`] says and the value is trimmed; a bare value
/// without a kind is refused with [`IdError::BadKind`].
impl std::str::FromStr for PersonId {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, IdError> {
        let bad_kind = || IdError::BadKind {
            found: text.to_string(),
        };
        let (kind, value) = text.split_once(':').ok_or_else(bad_kind)?;
        let kind = PersonIdKind::parse(kind).ok_or_else(bad_kind)?;
        PersonId::parse(kind, value)
    }
}

fn all_digits(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_digit())
}

fn digits_u32(s: &str) -> u32 {
    s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

fn birth_date(kind: &'static str, value: &str) -> Result<NaiveDate, IdError> {
    let part = &value[0..8];
    NaiveDate::from_ymd_opt(
        digits_u32(&part[0..4]) as i32,
        digits_u32(&part[4..6]),
        digits_u32(&part[6..8]),
    )
    .filter(|d| d.year() >= 1900)
    .ok_or_else(|| IdError::BadBirthDate {
        kind,
        value: value.to_string(),
        date: part.to_string(),
    })
}

fn check_gender(kind: &'static str, value: &str, index: usize) -> Result<(), IdError> {
    let digit = value.as_bytes()[index] as char;
    if digit == '1' || digit == '2' {
        Ok(())
    } else {
        Err(IdError::BadGender {
            kind,
            value: value.to_string(),
            digit,
        })
    }
}

/// The shape NIP and NI PPPK share: 18 digits opening with a real birth date `YYYYMMDD`.
fn eighteen_digits_from_birth_date(kind: &'static str, value: &str) -> Result<NaiveDate, IdError> {
    if !all_digits(value, 18) {
        return Err(IdError::BadFormat {
            kind,
            expected: "18 digit angka",
            found: value.to_string(),
        });
    }
    birth_date(kind, value)
}

/// Checks a NIP (PNS): 18 digits, real birth date, TMT CPNS a real month not before the
/// month of the 18th birthday, gender digit 1 or 2.
pub fn validate_nip(value: &str) -> Result<(), IdError> {
    const KIND: &str = "NIP";
    let born = eighteen_digits_from_birth_date(KIND, value)?;
    let year = digits_u32(&value[8..12]) as i32;
    let month = digits_u32(&value[12..14]);
    let bad = |why| IdError::BadAppointment {
        kind: KIND,
        value: value.to_string(),
        appointment: value[8..14].to_string(),
        why,
    };
    if !(1..=12).contains(&month) {
        return Err(bad("month must be 01..12"));
    }
    if (year, month) < (born.year() + 18, born.month()) {
        return Err(bad("before the 18th birthday"));
    }
    check_gender(KIND, value, 14)
}

/// Checks an NI PPPK: 18 digits, real birth date, appointment year from 2019 (the first
/// PPPK intake) and not before the 18th birthday, gender digit 1 or 2.
pub fn validate_ni_pppk(value: &str) -> Result<(), IdError> {
    const KIND: &str = "NI PPPK";
    let born = eighteen_digits_from_birth_date(KIND, value)?;
    let year = digits_u32(&value[8..12]) as i32;
    let bad = |why| IdError::BadAppointment {
        kind: KIND,
        value: value.to_string(),
        appointment: value[8..12].to_string(),
        why,
    };
    if year < 2019 {
        return Err(bad("PPPK appointments start in 2019"));
    }
    if year < born.year() + 18 {
        return Err(bad("before the 18th birthday"));
    }
    check_gender(KIND, value, 14)
}

/// Checks a regency-issued non-ASN id: 3–32 characters of `A-Z a-z 0-9 . / -`, with at
/// least one digit.
pub fn validate_non_asn(value: &str) -> Result<(), IdError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-');
    if (3..=32).contains(&value.len())
        && value.chars().all(allowed)
        && value.chars().any(|c| c.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(IdError::BadFormat {
            kind: "ID non-ASN",
            expected: "3–32 huruf/angka (boleh . / -) dengan sedikitnya satu angka",
            found: value.to_string(),
        })
    }
}

/// Checks an IMEI: 15 digits, the last one the Luhn check digit of the first 14.
pub fn validate_imei(value: &str) -> Result<(), IdError> {
    if !all_digits(value, 15) {
        return Err(IdError::BadFormat {
            kind: "IMEI",
            expected: "15 digit angka",
            found: value.to_string(),
        });
    }
    if luhn_valid(value) {
        Ok(())
    } else {
        Err(IdError::BadImeiCheckDigit(value.to_string()))
    }
}

/// True when a string of ASCII digits passes the Luhn (mod 10) check.
pub fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// What the server records about the hardware that carries a device key: a label for
/// people, never a secret (the key pair identifies the device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum DeviceLabel {
    /// An IMEI, where an MDM-managed phone can supply it (validated with Luhn).
    Imei(String),
    /// The platform's per-app device id (Android `ANDROID_ID`, iOS
    /// `identifierForVendor`): 1–64 printable ASCII characters.
    PlatformId(String),
}

impl DeviceLabel {
    /// Checks the label's shape (and the IMEI's check digit).
    pub fn validate(&self) -> Result<(), IdError> {
        match self {
            DeviceLabel::Imei(imei) => validate_imei(imei),
            DeviceLabel::PlatformId(id) => {
                if (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) {
                    Ok(())
                } else {
                    Err(IdError::BadFormat {
                        kind: "ID perangkat",
                        expected: "1–64 karakter ASCII tanpa spasi",
                        found: id.clone(),
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_value_form_round_trips_and_forgives_what_people_type() {
        let id = PersonId::parse(PersonIdKind::NiPppk, "199009132025242014").unwrap();
        assert_eq!(id.to_string(), "ni_pppk:199009132025242014");
        assert_eq!(id.to_string().parse::<PersonId>().unwrap(), id);
        for typed in [
            " NI-PPPK : 199009132025242014 ",
            "ni_pppk:199009132025242014",
            "Ni_Pppk:199009132025242014",
        ] {
            assert_eq!(typed.parse::<PersonId>().unwrap(), id, "{typed:?}");
        }
        let honorer: PersonId = "non-asn:1771010101900001".parse().unwrap();
        assert_eq!(honorer.kind(), PersonIdKind::NonAsn);
    }

    #[test]
    fn the_kind_value_form_refuses_a_bare_or_unknown_kind() {
        for bad in [
            "198503122010011003",
            "pns:198503122010011003",
            ":198503122010011003",
        ] {
            let e = bad.parse::<PersonId>().unwrap_err();
            assert_eq!(e.code(), "ID_BAD_KIND", "{bad:?}");
            assert!(e.message().contains("nip:"), "{}", e.message());
        }
        // A known kind with a bad value is that kind's own error.
        let e = "nip:123".parse::<PersonId>().unwrap_err();
        assert_eq!(e.code(), "ID_BAD_FORMAT");
    }

    #[test]
    fn accepts_a_real_shaped_nip() {
        // Born 1985-03-12, TMT CPNS 2010-01, male, serial 003.
        let id = PersonId::parse(PersonIdKind::Nip, " 198503122010011003 ").unwrap();
        assert_eq!(id.value(), "198503122010011003");
        assert_eq!(id.kind(), PersonIdKind::Nip);
    }

    #[test]
    fn refuses_nip_with_impossible_dates_or_gender() {
        let code = |v: &str| validate_nip(v).unwrap_err().code();
        assert_eq!(code("19850312201001100"), "ID_BAD_FORMAT"); // 17 digits
        assert_eq!(code("1985031220100110a3"), "ID_BAD_FORMAT");
        assert_eq!(code("198502302010011003"), "ID_BAD_BIRTH_DATE"); // 30 Feb
        assert_eq!(code("198503122010131003"), "ID_BAD_APPOINTMENT"); // month 13
        assert_eq!(code("198503122003021003"), "ID_BAD_APPOINTMENT"); // aged 17
        assert_eq!(code("198503122010013003"), "ID_BAD_GENDER");
        // The month of the 18th birthday itself is possible.
        validate_nip("198503122003031003").unwrap();
    }

    #[test]
    fn ni_pppk_is_not_a_nip_and_has_its_own_check() {
        let pppk = "199009132025242014";
        assert!(
            validate_nip(pppk).is_err(),
            "a strict NIP check refuses NI PPPK"
        );
        let id = PersonId::parse(PersonIdKind::NiPppk, pppk).unwrap();
        assert_eq!(id.kind(), PersonIdKind::NiPppk);
        assert_eq!(
            validate_ni_pppk("199009132018242014").unwrap_err().code(),
            "ID_BAD_APPOINTMENT"
        );
        assert_eq!(
            validate_ni_pppk("199009132025243014").unwrap_err().code(),
            "ID_BAD_GENDER"
        );
    }

    #[test]
    fn non_asn_ids_as_issued() {
        validate_non_asn("3171011203850002").unwrap(); // NIK-keyed
        validate_non_asn("THL-2024/017").unwrap();
        assert!(validate_non_asn("ab").is_err());
        assert!(validate_non_asn("tanpa-angka").is_err());
        assert!(validate_non_asn("12 34").is_err());
    }

    #[test]
    fn imei_luhn() {
        validate_imei("490154203237518").unwrap();
        assert_eq!(
            validate_imei("490154203237517").unwrap_err().code(),
            "ID_BAD_IMEI"
        );
        assert_eq!(
            validate_imei("49015420323751").unwrap_err().code(),
            "ID_BAD_FORMAT"
        );
        DeviceLabel::Imei("356938035643809".into())
            .validate()
            .unwrap();
        DeviceLabel::PlatformId("9774d56d682e549c".into())
            .validate()
            .unwrap();
        assert!(DeviceLabel::PlatformId(String::new()).validate().is_err());
    }

    #[test]
    fn person_id_deserialisation_validates() {
        let ok: PersonId =
            serde_json::from_str(r#"{"kind":"nip","value":"198503122010011003"}"#).unwrap();
        assert_eq!(ok.value(), "198503122010011003");
        let json = serde_json::to_string(&ok).unwrap();
        assert_eq!(json, r#"{"kind":"nip","value":"198503122010011003"}"#);
        assert!(
            serde_json::from_str::<PersonId>(r#"{"kind":"nip","value":"198502302010011003"}"#)
                .is_err()
        );
    }
}
