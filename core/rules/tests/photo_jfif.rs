//! The server's selfie inspection against a JPEG written by Pillow (`Image.save(...,
//! "JPEG", quality=85)`, generated once and committed as `fixtures/pillow_selfie.jpg`),
//! which like most encoders always writes a JFIF APP0 header. A plain JFIF header is
//! accepted; a JFIF thumbnail or extension, EXIF, ICC, COM or any other APPn is still
//! refused, and so is a JFIF header anywhere but directly after SOI.

use hadir_core::photo::{SelfieLimits, inspect_normalised_selfie, is_plain_jfif_app0, sha256_hex};

const PILLOW_SELFIE: &[u8] = include_bytes!("fixtures/pillow_selfie.jpg");

/// SOI, then Pillow's 18-byte JFIF APP0 segment (marker, length 16, 14 payload bytes).
const JFIF_END: usize = 2 + 18;

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The fixture with its JFIF segment replaced by `segments` (in order).
fn with_header_segments(segments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = PILLOW_SELFIE[..2].to_vec();
    for s in segments {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(&PILLOW_SELFIE[JFIF_END..]);
    out
}

fn jfif_payload(thumb_w: u8, thumb_h: u8, thumbnail: &[u8]) -> Vec<u8> {
    let mut p = b"JFIF\0".to_vec();
    p.extend_from_slice(&[1, 1, 1, 0, 72, 0, 72, thumb_w, thumb_h]);
    p.extend_from_slice(thumbnail);
    p
}

fn refusal(jpeg: &[u8]) -> String {
    let err = inspect_normalised_selfie(jpeg, &SelfieLimits::default()).unwrap_err();
    assert_eq!(err.code(), "PHOTO_NOT_NORMALISED", "{err}");
    err.to_string()
}

#[test]
fn the_fixture_is_what_pillow_writes() {
    assert_eq!(&PILLOW_SELFIE[..4], &[0xFF, 0xD8, 0xFF, 0xE0]);
    assert!(is_plain_jfif_app0(&PILLOW_SELFIE[6..JFIF_END]));
    assert_eq!(&PILLOW_SELFIE[JFIF_END..JFIF_END + 2], &[0xFF, 0xDB]);
}

#[test]
fn a_pillow_selfie_with_a_plain_jfif_header_is_accepted() {
    let ev = inspect_normalised_selfie(PILLOW_SELFIE, &SelfieLimits::default()).unwrap();
    assert_eq!((ev.width, ev.height), (640, 480));
    assert_eq!(ev.sha256_hex(), sha256_hex(PILLOW_SELFIE));
    assert_eq!(ev.jpeg, PILLOW_SELFIE);
    // What tests/python/hadir_dhash.py computes from PROTOCOL.md with Pillow's decoder.
    assert_eq!(ev.perceptual_hash_hex(), "df8f97d7f3fbf7ff");
    // Without the header the pixels, hence the dHash, are the same.
    let bare = with_header_segments(&[]);
    let bare_ev = inspect_normalised_selfie(&bare, &SelfieLimits::default()).unwrap();
    assert_eq!(bare_ev.perceptual_hash, ev.perceptual_hash);
    assert_ne!(bare_ev.sha256, ev.sha256);
}

#[test]
fn a_jfif_header_with_a_thumbnail_or_an_extension_is_refused() {
    let thumb = with_header_segments(&[segment(0xE0, &jfif_payload(1, 1, &[9, 9, 9]))]);
    assert!(refusal(&thumb).contains("0xFFE0"));
    // Thumbnail size zero but trailing bytes: still not plain.
    let trailing = with_header_segments(&[segment(0xE0, &jfif_payload(0, 0, &[0]))]);
    refusal(&trailing);
    let jfxx = with_header_segments(&[
        PILLOW_SELFIE[2..JFIF_END].to_vec(),
        segment(0xE0, b"JFXX\0\x13\x00\x00"),
    ]);
    refusal(&jfxx);
    let mut bad_version = jfif_payload(0, 0, &[]);
    bad_version[5] = 2;
    refusal(&with_header_segments(&[segment(0xE0, &bad_version)]));
}

#[test]
fn every_other_metadata_segment_is_still_refused_next_to_jfif() {
    let jfif = PILLOW_SELFIE[2..JFIF_END].to_vec();
    let exif = segment(0xE1, b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0");
    let icc = segment(0xE2, b"ICC_PROFILE\0\x01\x01abcd");
    let comment = segment(0xFE, b"taken at home");
    let app13 = segment(0xED, b"Photoshop 3.0\0");
    for (name, extra, marker) in [
        ("EXIF", exif, "0xFFE1"),
        ("ICC", icc, "0xFFE2"),
        ("COM", comment, "0xFFFE"),
        ("APP13", app13, "0xFFED"),
    ] {
        let text = refusal(&with_header_segments(&[jfif.clone(), extra]));
        assert!(text.contains(marker), "{name}: {text}");
    }
}

#[test]
fn a_jfif_header_is_accepted_only_directly_after_soi() {
    let jfif = PILLOW_SELFIE[2..JFIF_END].to_vec();
    // Moved after the quantisation table: no longer where JFIF puts it.
    let dqt_len = usize::from(u16::from_be_bytes([
        PILLOW_SELFIE[JFIF_END + 2],
        PILLOW_SELFIE[JFIF_END + 3],
    ]));
    let dqt_end = JFIF_END + 2 + dqt_len;
    let mut moved = PILLOW_SELFIE[..2].to_vec();
    moved.extend_from_slice(&PILLOW_SELFIE[JFIF_END..dqt_end]);
    moved.extend_from_slice(&jfif);
    moved.extend_from_slice(&PILLOW_SELFIE[dqt_end..]);
    refusal(&moved);
    // Twice: the second is a metadata segment.
    refusal(&with_header_segments(&[jfif.clone(), jfif]));
}
