//! The office QR token (the "Dumai monitor"): a short MAC over an office id and a
//! 30-second window, shown as a QR code on a kiosk screen in the office, so a check-in
//! that carries it shows that someone read the screen in that window.
//!
//! The token for office `o` in window `w = floor(unix_ms / 30000)` is
//!
//! ```text
//! v1.<o>.<w>.<MAC>
//! MAC = BASE32(first 10 bytes of HMAC-SHA256(secret, "hadir-qr-v1\n" || o || "\n" || w))
//! ```
//!
//! with `w` in decimal ASCII (no sign for non-negative windows, no leading zeros) and
//! BASE32 the RFC 4648 alphabet, upper case, without padding (16 characters). The
//! office and window travel in the clear so the server can answer "another office" or
//! "expired" rather than just "invalid"; the MAC binds them. Verification
//! ([`verify_token`]) takes the check-in's trusted instant and accepts the window it
//! falls in and one window either side. The secret is the server's alone: phones never
//! compute tokens, they only carry the one they scanned.

use ring::hmac;

/// Length of one token window, ms.
pub const QR_WINDOW_MS: i64 = 30_000;
/// Windows accepted either side of the trusted instant's window.
pub const QR_TOLERANCE_WINDOWS: i64 = 1;
/// Bytes of the HMAC-SHA256 kept in a token (80 bits).
pub const QR_MAC_BYTES: usize = 10;
/// The token format's version prefix.
pub const QR_TOKEN_PREFIX: &str = "v1";
/// Domain separation of the MAC input.
const MAC_DOMAIN: &str = "hadir-qr-v1";
/// RFC 4648 base32 alphabet.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Characters of the encoded MAC: ceil(80 / 5).
const MAC_CHARS: usize = (QR_MAC_BYTES * 8).div_ceil(5);
/// Longest token accepted for parsing (an office id is short; this bounds the work).
const MAX_TOKEN_LEN: usize = 256;

/// Why a token was refused. Each has a stable [`QrError::code`] and an Indonesian
/// [`QrError::staff_message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The office requires a token and the check-in carries none.
    #[error("no QR token where the office requires one")]
    Missing,
    /// Not a token of this format, or its MAC does not verify.
    #[error("malformed QR token or bad MAC")]
    Invalid,
    /// A well-formed token naming another office.
    #[error("QR token of office {found:?}, not of {expected:?}")]
    WrongOffice {
        /// The office the check-in is judged at.
        expected: String,
        /// The office the token names.
        found: String,
    },
    /// A genuine token of this office, from a window more than one step away from the
    /// check-in's trusted instant.
    #[error("QR token of window {token_window}, check-in in window {checkin_window}")]
    Expired {
        /// The token's window.
        token_window: i64,
        /// The window of the check-in's trusted instant.
        checkin_window: i64,
    },
}

impl QrError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            QrError::Missing => "QR_MISSING",
            QrError::Invalid => "QR_INVALID",
            QrError::WrongOffice { .. } => "QR_WRONG_OFFICE",
            QrError::Expired { .. } => "QR_EXPIRED",
        }
    }

    /// What staff see (Indonesian).
    pub fn staff_message(&self) -> String {
        match self {
            QrError::Missing => {
                "Kantor ini mewajibkan pindai kode QR di layar kantor; absensi tanpa kode QR \
                 ditolak."
            }
            QrError::Invalid => "Kode QR tidak sah; pindai ulang kode QR di layar kantor.",
            QrError::WrongOffice { .. } => {
                "Kode QR ini milik kantor lain; pindai kode QR di layar kantor Anda."
            }
            QrError::Expired { .. } => {
                "Kode QR sudah kedaluwarsa; pindai kode QR terbaru di layar kantor."
            }
        }
        .to_string()
    }
}

/// The window an instant falls in: `floor(unix_ms / 30000)`.
pub fn window_of(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(QR_WINDOW_MS)
}

/// The first instant after `window`, Unix ms (when its token stops being the current
/// one).
pub fn window_end_ms(window: i64) -> i64 {
    (window + 1) * QR_WINDOW_MS
}

/// The exact bytes the MAC covers.
pub fn mac_input(office_id: &str, window: i64) -> Vec<u8> {
    format!("{MAC_DOMAIN}\n{office_id}\n{window}").into_bytes()
}

fn mac(secret: &[u8], office_id: &str, window: i64) -> [u8; QR_MAC_BYTES] {
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, secret),
        &mac_input(office_id, window),
    );
    let mut out = [0u8; QR_MAC_BYTES];
    out.copy_from_slice(&tag.as_ref()[..QR_MAC_BYTES]);
    out
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = BASE32.iter().position(|&a| a == c.to_ascii_uppercase())? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Leftover bits must be zero padding, so a MAC has one spelling up to letter case
    // (lower case is accepted, for a token typed by hand).
    (acc & ((1 << bits) - 1) == 0).then_some(out)
}

/// The token of `office_id` for `window`, under the office's `secret`.
pub fn token_for_window(secret: &[u8], office_id: &str, window: i64) -> String {
    format!(
        "{QR_TOKEN_PREFIX}.{office_id}.{window}.{}",
        base32(&mac(secret, office_id, window))
    )
}

/// The token shown at instant `unix_ms`.
pub fn token_at(secret: &[u8], office_id: &str, unix_ms: i64) -> String {
    token_for_window(secret, office_id, window_of(unix_ms))
}

/// A token split into its parts, MAC not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    /// The office it names.
    pub office_id: String,
    /// The window it names.
    pub window: i64,
    mac: [u8; QR_MAC_BYTES],
}

/// Splits a token (surrounding whitespace ignored; the MAC's letters may be in either
/// case, for a token typed by hand). Office ids may contain dots: the window and MAC
/// are the last two fields.
pub fn parse_token(token: &str) -> Result<ParsedToken, QrError> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_LEN {
        return Err(QrError::Invalid);
    }
    let rest = token
        .strip_prefix(QR_TOKEN_PREFIX)
        .and_then(|r| r.strip_prefix('.'))
        .ok_or(QrError::Invalid)?;
    let mut fields = rest.rsplitn(3, '.');
    let (Some(mac_text), Some(window_text), Some(office_id)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err(QrError::Invalid);
    };
    let canonical_window = window_text
        .parse::<i64>()
        .ok()
        .filter(|w| w.to_string() == window_text);
    let (Some(window), false, MAC_CHARS) = (canonical_window, office_id.is_empty(), mac_text.len())
    else {
        return Err(QrError::Invalid);
    };
    let bytes = unbase32(mac_text).ok_or(QrError::Invalid)?;
    let mac: [u8; QR_MAC_BYTES] = bytes.try_into().map_err(|_| QrError::Invalid)?;
    Ok(ParsedToken {
        office_id: office_id.to_string(),
        window,
        mac,
    })
}

/// True when `token` parses and its window is already more than
/// [`QR_TOLERANCE_WINDOWS`] behind the window of `now_ms`: a check-in made now would be
/// refused [`QrError::Expired`] (the same rule as [`verify_token`]'s, from the past
/// side). The phone asks this before signing so the person rescans instead of getting a
/// final rejection; a token that does not parse is left for the server to judge (false).
pub fn is_behind(token: &str, now_ms: i64) -> bool {
    parse_token(token).is_ok_and(|t| window_of(now_ms) - t.window > QR_TOLERANCE_WINDOWS)
}

/// Equality of two MACs in time independent of where they differ.
fn same_mac(a: &[u8; QR_MAC_BYTES], b: &[u8; QR_MAC_BYTES]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks `token` for a check-in judged at `office_id` (whose secret is `secret`) at
/// the trusted instant `trusted_ms`. In this order: the format ([`QrError::Invalid`]),
/// the office it names ([`QrError::WrongOffice`]), its MAC ([`QrError::Invalid`]),
/// its window within ±[`QR_TOLERANCE_WINDOWS`] ([`QrError::Expired`]).
pub fn verify_token(
    secret: &[u8],
    office_id: &str,
    token: &str,
    trusted_ms: i64,
) -> Result<(), QrError> {
    let parsed = parse_token(token)?;
    if parsed.office_id != office_id {
        return Err(QrError::WrongOffice {
            expected: office_id.to_string(),
            found: parsed.office_id,
        });
    }
    if !same_mac(&parsed.mac, &mac(secret, office_id, parsed.window)) {
        return Err(QrError::Invalid);
    }
    let checkin_window = window_of(trusted_ms);
    if (parsed.window - checkin_window).abs() > QR_TOLERANCE_WINDOWS {
        return Err(QrError::Expired {
            token_window: parsed.window,
            checkin_window,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const T: i64 = 1_764_500_000_000; // 2025-11-30T10:53:20Z, window start + 20 s

    #[test]
    fn base32_round_trips_and_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(unbase32("MZXW6YTBOI").unwrap(), b"foobar");
        assert_eq!(unbase32("mzxw6ytboi").unwrap(), b"foobar");
        assert!(unbase32("MZXW6YTBOJ").is_none(), "non-zero padding bits");
        assert!(unbase32("MZXW1").is_none());
    }

    #[test]
    fn a_token_verifies_in_its_window_and_one_either_side() {
        let token = token_at(SECRET, "kominfo", T);
        assert!(token.starts_with(&format!("v1.kominfo.{}.", window_of(T))));
        assert_eq!(token.rsplit('.').next().unwrap().len(), 16);
        for dt in [-QR_WINDOW_MS, 0, QR_WINDOW_MS] {
            assert_eq!(verify_token(SECRET, "kominfo", &token, T + dt), Ok(()));
        }
        let mac = token.rsplit('.').next().unwrap().to_lowercase();
        let typed = format!("  v1.kominfo.{}.{mac}\n", window_of(T));
        assert_eq!(verify_token(SECRET, "kominfo", &typed, T), Ok(()));
    }

    #[test]
    fn two_windows_away_is_expired_either_way() {
        let token = token_at(SECRET, "kominfo", T);
        for dt in [-2 * QR_WINDOW_MS, 2 * QR_WINDOW_MS] {
            let err = verify_token(SECRET, "kominfo", &token, T + dt).unwrap_err();
            assert_eq!(err.code(), "QR_EXPIRED");
        }
    }

    #[test]
    fn another_office_is_named_as_such() {
        let token = token_at(SECRET, "dinkes", T);
        let err = verify_token(SECRET, "kominfo", &token, T).unwrap_err();
        assert_eq!(
            err,
            QrError::WrongOffice {
                expected: "kominfo".into(),
                found: "dinkes".into()
            }
        );
        assert_eq!(err.code(), "QR_WRONG_OFFICE");
    }

    #[test]
    fn office_ids_with_dots_parse() {
        let token = token_at(SECRET, "dinas.kominfo", T);
        assert_eq!(verify_token(SECRET, "dinas.kominfo", &token, T), Ok(()));
    }

    #[test]
    fn forged_or_malformed_tokens_are_invalid() {
        let good = token_at(SECRET, "kominfo", T);
        let other_secret = token_at(b"another secret", "kominfo", T);
        let w = window_of(T);
        let mac = good.rsplit('.').next().unwrap();
        // The MAC of one window does not carry over to another.
        let moved = format!("v1.kominfo.{}.{mac}", w + 1);
        let cases = [
            other_secret,
            moved,
            String::new(),
            "v2.kominfo.1.AAAAAAAAAAAAAAAA".into(),
            format!("v1.kominfo.{w}"),
            format!("v1..{w}.{mac}"),
            format!("v1.kominfo.0{w}.{mac}"),
            format!("v1.kominfo.+{w}.{mac}"),
            format!("v1.kominfo.{w}.{}", &mac[..15]),
            format!("v1.kominfo.{w}.{mac}A"),
            format!("v1.kominfo.{w}.{}1", &mac[..15]),
            "x".repeat(300),
        ];
        for token in cases {
            let err = verify_token(SECRET, "kominfo", &token, T).unwrap_err();
            assert_eq!(err, QrError::Invalid, "{token:?}");
        }
    }

    #[test]
    fn a_token_is_behind_only_beyond_the_tolerance_and_only_when_it_parses() {
        let token = token_at(SECRET, "kominfo", T);
        assert!(!is_behind(&token, T));
        assert!(!is_behind(&token, T + QR_WINDOW_MS));
        assert!(
            !is_behind(&token, T - 5 * QR_WINDOW_MS),
            "ahead is the server's call"
        );
        assert!(is_behind(&token, T + 2 * QR_WINDOW_MS));
        // Its window began 20 s before T: 40 s later is still the next window.
        assert!(!is_behind(
            &token,
            window_end_ms(window_of(T)) + QR_WINDOW_MS - 1
        ));
        assert!(is_behind(
            &token,
            window_end_ms(window_of(T)) + QR_WINDOW_MS
        ));
        for junk in ["", "not a token", "v1.kominfo.12.SHORT"] {
            assert!(!is_behind(junk, T + 100 * QR_WINDOW_MS), "{junk:?}");
        }
    }

    #[test]
    fn windows_floor_towards_minus_infinity() {
        assert_eq!(window_of(0), 0);
        assert_eq!(window_of(29_999), 0);
        assert_eq!(window_of(30_000), 1);
        assert_eq!(window_of(-1), -1);
        assert_eq!(window_end_ms(window_of(T)) - T, 10_000);
    }

    #[test]
    fn an_office_from_an_older_config_requires_no_qr() {
        let json = r#"{"id":"kominfo","name":"Kominfo","utc_offset_minutes":420,
            "zones":[{"id":"utama","name":"Area","shape":{"type":"circle",
            "center":{"latitude":-3.79,"longitude":102.26},"radius_m":80.0}}]}"#;
        let office: crate::geofence::Office = serde_json::from_str(json).unwrap();
        assert!(!office.qr_required);
        let with = serde_json::to_value(crate::geofence::Office {
            qr_required: true,
            ..office
        })
        .unwrap();
        assert_eq!(with["qr_required"], true);
    }

    #[test]
    fn every_code_has_its_own_indonesian_message() {
        let all = [
            QrError::Missing,
            QrError::Invalid,
            QrError::WrongOffice {
                expected: "a".into(),
                found: "b".into(),
            },
            QrError::Expired {
                token_window: 1,
                checkin_window: 3,
            },
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(QrError::code).collect();
        let messages: std::collections::BTreeSet<_> =
            all.iter().map(QrError::staff_message).collect();
        assert_eq!((codes.len(), messages.len()), (4, 4));
        assert!(messages.iter().all(|m| m.contains("QR")));
    }
}
