//! Selfie evidence end to end on real JPEG bytes generated here: synthetic face-like
//! pictures (gradients, shapes, sensor-like noise) encoded with libjpeg (mozjpeg crate),
//! with hand-built EXIF segments spliced in where a test needs orientation or GPS data.

use hadir_core::photo::{
    NEAR_DUPLICATE_MAX_DISTANCE, PhotoError, SelfieLimits, hamming_distance,
    inspect_normalised_selfie, normalise_selfie, sha256_hex,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// Test pictures.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Roughly triangular noise in [-amp, amp].
    fn noise(&mut self, amp: i32) -> i32 {
        if amp == 0 {
            return 0;
        }
        let r = self.next();
        let a = (r & 0xFFFF) as i32 % (amp + 1);
        let b = ((r >> 16) & 0xFFFF) as i32 % (amp + 1);
        a - b
    }
}

fn inside(u: f32, v: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    let (du, dv) = ((u - cx) / rx, (v - cy) / ry);
    du * du + dv * dv < 1.0
}

/// A face-like RGB picture: a background (gradient plus a bright "window"), hair, a skin
/// ellipse with eyes and mouth, and sensor-like noise. `variant` moves and reshapes
/// everything, so two variants are different photos.
fn face(w: u32, h: u32, variant: u32, noise: i32, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let vf = variant as f32;
    let cx = 0.35 + 0.1 * (variant % 4) as f32;
    let cy = 0.45 + 0.05 * (variant % 3) as f32;
    let (rx, ry) = (0.16 + 0.02 * (variant % 2) as f32, 0.24);
    let angle = vf * 1.3;
    let (gx, gy) = (angle.cos(), angle.sin());
    let window = (
        0.05 + 0.2 * ((variant * 7) % 4) as f32,
        0.1 + 0.15 * (variant % 3) as f32,
    );
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
            let g = 60.0 + 120.0 * ((u - 0.5) * gx + (v - 0.5) * gy + 0.5);
            let mut px = [g * 0.9, g, g * 1.1];
            if u > window.0 && u < window.0 + 0.25 && v > window.1 && v < window.1 + 0.3 {
                px = [235.0, 235.0, 225.0];
            }
            if inside(u, v, cx, cy - 0.1, rx * 1.15, ry * 0.8) {
                px = [55.0, 40.0, 30.0]; // hair
            }
            if inside(u, v, cx, cy, rx, ry) {
                let shade = 1.0 - 0.35 * (u - cx + rx) / (2.0 * rx);
                px = [205.0 * shade, 160.0 * shade, 130.0 * shade];
                let eye_dy = cy - 0.06;
                if inside(u, v, cx - rx * 0.4, eye_dy, rx * 0.18, ry * 0.07)
                    || inside(u, v, cx + rx * 0.4, eye_dy, rx * 0.18, ry * 0.07)
                {
                    px = [35.0, 30.0, 30.0];
                }
                if inside(u, v, cx, cy + 0.12, rx * 0.4, ry * 0.06) {
                    px = [150.0, 60.0, 60.0];
                }
            }
            if inside(u, v, cx, cy + ry + 0.2, rx * 2.2, 0.25) && v > cy + ry * 0.8 {
                px = [40.0 + 30.0 * (variant % 3) as f32, 60.0, 110.0]; // shoulders
            }
            for c in px {
                out.push((c as i32 + rng.noise(noise)).clamp(0, 255) as u8);
            }
        }
    }
    out
}

/// A 400×300 picture with a pure red square at (20..80, 20..80), to follow rotations.
fn marked(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            if (20..80).contains(&x) && (20..80).contains(&y) {
                out.extend_from_slice(&[240, 10, 10]);
            } else {
                let g = 40 + (x * 180 / w) as u8 / 2 + (y * 180 / h) as u8 / 2;
                out.extend_from_slice(&[g, g, g]);
            }
        }
    }
    out
}

fn encode_with(rgb: &[u8], w: u32, h: u32, quality: u8, progressive: bool) -> Vec<u8> {
    let mut comp = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    comp.set_fastest_defaults();
    if progressive {
        comp.set_progressive_mode();
    }
    comp.set_quality(f32::from(quality));
    comp.set_size(w as usize, h as usize);
    comp.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
    let mut started = comp.start_compress(Vec::new()).unwrap();
    started.write_scanlines(rgb).unwrap();
    started.finish().unwrap()
}

fn encode(rgb: &[u8], w: u32, h: u32, quality: u8) -> Vec<u8> {
    encode_with(rgb, w, h, quality, false)
}

fn face_jpeg(w: u32, h: u32, variant: u32) -> Vec<u8> {
    encode(&face(w, h, variant, 8, u64::from(variant) + 1), w, h, 92)
}

/// An APP1 Exif segment (little-endian TIFF, one IFD) with ImageDescription, Make and
/// Orientation, the way cameras put them; `description` lets a test look for leaks.
fn exif_app1(orientation: u16, description: &str) -> Vec<u8> {
    let desc = format!("{description}\0");
    let make = "HadirTestPhone GPS 6.2088S 106.8456E\0";
    let entries = 3u16;
    let data_start = 8 + 2 + 12 * u32::from(entries) + 4;
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&entries.to_le_bytes());
    let ascii_entry = |tiff: &mut Vec<u8>, tag: u16, len: usize, offset: u32| {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&(len as u32).to_le_bytes());
        tiff.extend_from_slice(&offset.to_le_bytes());
    };
    ascii_entry(&mut tiff, 0x010E, desc.len(), data_start);
    ascii_entry(
        &mut tiff,
        0x010F,
        make.len(),
        data_start + desc.len() as u32,
    );
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    tiff.extend_from_slice(desc.as_bytes());
    tiff.extend_from_slice(make.as_bytes());
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    seg.extend_from_slice(&payload);
    seg
}

/// The JPEG with an Exif APP1 segment inserted right after SOI.
fn with_exif(jpeg: &[u8], orientation: u16, description: &str) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&exif_app1(orientation, description));
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn decode_rgb(jpeg: &[u8]) -> (Vec<u8>, u32, u32) {
    let mut started = mozjpeg::Decompress::new_mem(jpeg).unwrap().rgb().unwrap();
    let (w, h) = (started.width() as u32, started.height() as u32);
    let px: Vec<u8> = started.read_scanlines().unwrap();
    started.finish().unwrap();
    (px, w, h)
}

/// Markers of the segments before the first scan.
fn header_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let m = jpeg[pos + 1];
        markers.push(m);
        if m == 0xDA {
            break;
        }
        pos += 2 + (usize::from(jpeg[pos + 2]) << 8 | usize::from(jpeg[pos + 3]));
    }
    markers
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Centroid of the pure-red pixels.
fn red_centroid(rgb: &[u8], w: u32) -> (f64, f64) {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (i, p) in rgb.chunks_exact(3).enumerate() {
        if p[0] > 180 && p[1] < 90 && p[2] < 90 {
            sx += (i as u32 % w) as f64;
            sy += (i as u32 / w) as f64;
            n += 1.0;
        }
    }
    assert!(n > 1000.0, "red square not found ({n} px)");
    (sx / n, sy / n)
}

fn limits() -> SelfieLimits {
    SelfieLimits::default()
}

// ---------------------------------------------------------------------------------------
// Size and orientation.

#[test]
fn long_edge_is_brought_to_640_keeping_aspect() {
    let ev = normalise_selfie(&face_jpeg(1280, 960, 0), &limits()).unwrap();
    assert_eq!((ev.width, ev.height), (640, 480));
    let (_, w, h) = decode_rgb(&ev.jpeg);
    assert_eq!((w, h), (640, 480));

    let ev = normalise_selfie(&face_jpeg(720, 1280, 1), &limits()).unwrap();
    assert_eq!((ev.width, ev.height), (360, 640));

    // Not a power-of-two ratio: full-scale decode, then resize.
    let ev = normalise_selfie(&face_jpeg(1000, 750, 2), &limits()).unwrap();
    assert_eq!((ev.width, ev.height), (640, 480));
}

#[test]
fn small_images_are_kept_at_their_size_and_too_small_ones_refused() {
    let ev = normalise_selfie(&face_jpeg(320, 240, 0), &limits()).unwrap();
    assert_eq!((ev.width, ev.height), (320, 240));

    let err = normalise_selfie(&face_jpeg(200, 150, 0), &limits()).unwrap_err();
    assert!(
        matches!(
            err,
            PhotoError::TooSmall {
                width: 200,
                height: 150,
                min: 240
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "PHOTO_TOO_SMALL");

    // A strip that would be 640x160 after normalising.
    let err = normalise_selfie(&face_jpeg(1280, 320, 0), &limits()).unwrap_err();
    assert!(
        matches!(
            err,
            PhotoError::TooSmall {
                width: 640,
                height: 160,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn exif_orientations_rotate_and_flip_the_pixels() {
    let (w, h) = (400, 300);
    let jpeg = encode(&marked(w, h), w, h, 95);
    // Where the red square's centre (49.5, 49.5) lands for each EXIF orientation.
    let far_x = f64::from(w) - 1.0 - 49.5;
    let far_y = f64::from(h) - 1.0 - 49.5;
    type Case = (u16, (u32, u32), (f64, f64));
    let cases: [Case; 8] = [
        (1, (400, 300), (49.5, 49.5)),
        (2, (400, 300), (far_x, 49.5)),
        (3, (400, 300), (far_x, far_y)),
        (4, (400, 300), (49.5, far_y)),
        (5, (300, 400), (49.5, 49.5)),
        (6, (300, 400), (far_y, 49.5)),
        (7, (300, 400), (far_y, far_x)),
        (8, (300, 400), (49.5, far_x)),
    ];
    for (orientation, dims, centre) in cases {
        let input = with_exif(&jpeg, orientation, "orientation test");
        let ev = normalise_selfie(&input, &limits()).unwrap();
        assert_eq!((ev.width, ev.height), dims, "orientation {orientation}");
        let (px, dw, dh) = decode_rgb(&ev.jpeg);
        assert_eq!((dw, dh), dims);
        let (cx, cy) = red_centroid(&px, dw);
        assert!(
            (cx - centre.0).abs() < 3.0 && (cy - centre.1).abs() < 3.0,
            "orientation {orientation}: red centre at ({cx:.1}, {cy:.1}), expected {centre:?}"
        );
    }
}

#[test]
fn orientation_applies_together_with_downscaling() {
    // A 1280x960 landscape sensor image held in portrait: orientation 6.
    let input = with_exif(&face_jpeg(1280, 960, 3), 6, "portrait");
    let ev = normalise_selfie(&input, &limits()).unwrap();
    assert_eq!((ev.width, ev.height), (480, 640));
}

// ---------------------------------------------------------------------------------------
// Metadata and hashes.

#[test]
fn output_carries_no_metadata_and_no_gps_text() {
    let secret = "HADIR-GPS-SECRET lat -6.2088 lon 106.8456 device SM-A155F";
    let input = with_exif(&face_jpeg(1280, 960, 0), 6, secret);
    assert!(contains(&input, secret.as_bytes()));
    let ev = normalise_selfie(&input, &limits()).unwrap();
    assert!(!contains(&ev.jpeg, b"HADIR-GPS-SECRET"));
    assert!(!contains(&ev.jpeg, b"HadirTestPhone"));
    assert!(!contains(&ev.jpeg, b"Exif"));
    assert!(!contains(&ev.jpeg, b"JFIF"));
    let markers = header_markers(&ev.jpeg);
    assert_eq!(markers.last(), Some(&0xDA));
    assert!(
        markers.iter().all(|m| !matches!(m, 0xE0..=0xEF | 0xFE)),
        "metadata segment in output: {markers:02X?}"
    );
    assert_eq!(&ev.jpeg[..2], &[0xFF, 0xD8]);
    assert_eq!(&ev.jpeg[ev.jpeg.len() - 2..], &[0xFF, 0xD9]);
}

#[test]
fn sha256_is_over_the_exact_output_bytes() {
    let ev = normalise_selfie(&face_jpeg(640, 480, 4), &limits()).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &ev.jpeg);
    assert_eq!(&ev.sha256[..], digest.as_ref());
    assert_eq!(ev.sha256_hex(), sha256_hex(&ev.jpeg));
    assert_eq!(ev.sha256_hex().len(), 64);
    // Deterministic: the same input gives the same bytes.
    let again = normalise_selfie(&face_jpeg(640, 480, 4), &limits()).unwrap();
    assert_eq!(again.jpeg, ev.jpeg);
}

#[test]
fn server_inspection_recomputes_the_same_evidence() {
    for (variant, (w, h)) in [(0, (1280, 960)), (1, (960, 1280)), (5, (640, 480))] {
        let ev = normalise_selfie(&face_jpeg(w, h, variant), &limits()).unwrap();
        let seen = inspect_normalised_selfie(&ev.jpeg, &limits()).unwrap();
        assert_eq!(seen.jpeg, ev.jpeg);
        assert_eq!(seen.sha256, ev.sha256);
        assert_eq!((seen.width, seen.height), (ev.width, ev.height));
        let d = hamming_distance(seen.perceptual_hash, ev.perceptual_hash);
        assert!(
            d <= 2,
            "variant {variant}: phone and server dHash differ by {d} bits"
        );
    }
}

#[test]
fn server_refuses_uploads_that_were_not_normalised() {
    let camera = face_jpeg(1280, 960, 0);
    let err = inspect_normalised_selfie(&camera, &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::NotNormalised { .. }), "{err:?}");
    assert_eq!(err.code(), "PHOTO_NOT_NORMALISED");

    let ev = normalise_selfie(&camera, &limits()).unwrap();
    let with_metadata = with_exif(&ev.jpeg, 1, "sneaky");
    let err = inspect_normalised_selfie(&with_metadata, &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::NotNormalised { .. }), "{err:?}");

    let half = &ev.jpeg[..ev.jpeg.len() / 2];
    let err = inspect_normalised_selfie(half, &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::Truncated), "{err:?}");
}

#[test]
fn recompressed_copy_is_a_near_duplicate() {
    let (w, h) = (1280, 960);
    let rgb = face(w, h, 6, 8, 42);
    let a = normalise_selfie(&encode(&rgb, w, h, 92), &limits()).unwrap();
    let b = normalise_selfie(&encode(&rgb, w, h, 60), &limits()).unwrap();
    assert_ne!(a.sha256, b.sha256);
    let d = hamming_distance(a.perceptual_hash, b.perceptual_hash);
    assert!(d <= 4, "same picture at q92 and q60: distance {d}");

    // A photo of the normalised selfie re-uploaded through the pipeline again.
    let again = normalise_selfie(&a.jpeg, &limits()).unwrap();
    let d = hamming_distance(a.perceptual_hash, again.perceptual_hash);
    assert!(d <= 4, "renormalised: distance {d}");
}

#[test]
fn different_pictures_are_far_apart() {
    let hashes: Vec<u64> = (0..4)
        .map(|v| {
            normalise_selfie(&face_jpeg(640, 480, v), &limits())
                .unwrap()
                .perceptual_hash
        })
        .collect();
    for i in 0..hashes.len() {
        for j in i + 1..hashes.len() {
            let d = hamming_distance(hashes[i], hashes[j]);
            assert!(
                d > NEAR_DUPLICATE_MAX_DISTANCE,
                "variants {i} and {j} only {d} bits apart"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Refusals.

#[test]
fn not_a_jpeg_is_refused() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x02\0\0\0";
    for bytes in [
        &png[..],
        b"",
        b"hello",
        &[0xFF][..],
        &[0xFF, 0xD9, 0xFF, 0xD8][..],
    ] {
        let err = normalise_selfie(bytes, &limits()).unwrap_err();
        assert!(matches!(err, PhotoError::NotJpeg), "{bytes:?}: {err:?}");
        assert_eq!(err.code(), "PHOTO_NOT_JPEG");
    }
}

#[test]
fn truncated_jpeg_is_refused() {
    let jpeg = face_jpeg(640, 480, 0);
    let err = normalise_selfie(&jpeg[..jpeg.len() / 2], &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::Truncated), "{err:?}");
    assert_eq!(err.code(), "PHOTO_TRUNCATED");
    // Cut inside the header segments.
    let err = normalise_selfie(&jpeg[..100], &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::Truncated), "{err:?}");
    // Cut just before EOI: all scan data present, still refused.
    let err = normalise_selfie(&jpeg[..jpeg.len() - 200], &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::Truncated), "{err:?}");
}

#[test]
fn garbage_after_soi_is_refused() {
    let mut rng = Rng(7);
    let mut bytes = vec![0xFF, 0xD8];
    bytes.extend((0..4096).map(|_| rng.next() as u8 | 1));
    bytes[2] = 0x42;
    let err = normalise_selfie(&bytes, &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::Corrupt { .. }), "{err:?}");
    assert_eq!(err.code(), "PHOTO_CORRUPT");

    // Valid header, scan data replaced by noise: libjpeg must not hand back grey pixels.
    let jpeg = face_jpeg(640, 480, 0);
    let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let mut damaged = jpeg.clone();
    for b in &mut damaged[sos + 20..jpeg.len() - 2] {
        *b = (rng.next() as u8) | 0x80;
        if *b == 0xFF {
            *b = 0xFE;
        }
    }
    let err = normalise_selfie(&damaged, &limits()).unwrap_err();
    assert!(
        matches!(err, PhotoError::Corrupt { .. } | PhotoError::Truncated),
        "{err:?}"
    );
}

#[test]
fn declared_dimensions_are_checked_before_decoding() {
    let mut jpeg = face_jpeg(320, 240, 0);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]); // 60000 x 60000
    let err = normalise_selfie(&jpeg, &limits()).unwrap_err();
    assert!(
        matches!(
            err,
            PhotoError::TooManyPixels {
                width: 60000,
                height: 60000,
                limit: 50_000_000
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "PHOTO_TOO_MANY_PIXELS");
    let err = inspect_normalised_selfie(&jpeg, &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::TooManyPixels { .. }), "{err:?}");
}

#[test]
fn byte_limit_is_checked_first() {
    let jpeg = face_jpeg(320, 240, 0);
    let small = SelfieLimits {
        max_bytes: 1000,
        ..SelfieLimits::default()
    };
    let err = normalise_selfie(&jpeg, &small).unwrap_err();
    assert!(
        matches!(err, PhotoError::TooLarge { limit: 1000, .. }),
        "{err:?}"
    );
    assert!(err.staff_message().contains("terlalu besar"));
    let err = normalise_selfie(&[0u8; 2000], &small).unwrap_err();
    assert!(matches!(err, PhotoError::TooLarge { .. }), "{err:?}");
}

#[test]
fn black_frame_and_flat_wall_are_refused_as_nearly_uniform() {
    let (w, h) = (1280, 960);
    let black = vec![0u8; (w * h * 3) as usize];
    let err = normalise_selfie(&encode(&black, w, h, 92), &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::NearlyUniform { .. }), "{err:?}");
    assert_eq!(err.code(), "PHOTO_NEARLY_UNIFORM");
    assert!(err.staff_message().contains("tertutup"));

    // Covered lens: dark with heavy sensor noise.
    let mut rng = Rng(3);
    let covered: Vec<u8> = (0..w * h * 3)
        .map(|_| (12 + rng.noise(12)).max(0) as u8)
        .collect();
    let err = normalise_selfie(&encode(&covered, w, h, 92), &limits()).unwrap_err();
    assert!(matches!(err, PhotoError::NearlyUniform { .. }), "{err:?}");

    // A flat grey wall with a gentle lighting falloff and noise.
    let wall: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .flat_map(|(x, y)| {
            let g = 130 + (x * 12 / w) as i32 - (y * 8 / h) as i32;
            [g as u8, g as u8, (g - 5) as u8]
        })
        .map(|v| (i32::from(v) + rng.noise(6)).clamp(0, 255) as u8)
        .collect();
    let err = normalise_selfie(&encode(&wall, w, h, 92), &limits()).unwrap_err();
    assert!(
        matches!(err, PhotoError::NearlyUniform { stddev } if stddev < 8.0),
        "{err:?}"
    );
}

#[test]
fn a_dim_face_still_passes() {
    let (w, h) = (640, 480);
    let dim: Vec<u8> = face(w, h, 2, 6, 9).iter().map(|&v| v / 4).collect();
    let ev = normalise_selfie(&encode(&dim, w, h, 92), &limits()).unwrap();
    assert_eq!((ev.width, ev.height), (640, 480));
}

#[test]
fn progressive_and_grayscale_inputs_are_accepted() {
    let (w, h) = (1280, 960);
    let rgb = face(w, h, 1, 8, 5);
    let progressive = encode_with(&rgb, w, h, 90, true);
    assert!(header_markers(&progressive).contains(&0xC2));
    let ev = normalise_selfie(&progressive, &limits()).unwrap();
    assert_eq!((ev.width, ev.height), (640, 480));
    assert!(
        header_markers(&ev.jpeg).contains(&0xC0),
        "output must be baseline"
    );

    let gray: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
    let mut comp = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_GRAYSCALE);
    comp.set_fastest_defaults();
    comp.set_size(w as usize, h as usize);
    let mut started = comp.start_compress(Vec::new()).unwrap();
    started.write_scanlines(&gray).unwrap();
    let gray_jpeg = started.finish().unwrap();
    let ev = normalise_selfie(&gray_jpeg, &limits()).unwrap();
    assert_eq!((ev.width, ev.height), (640, 480));
}

#[test]
fn every_error_has_a_code_and_an_indonesian_message() {
    let errors = [
        PhotoError::NotJpeg,
        PhotoError::TooLarge {
            bytes: 20 << 20,
            limit: 15 << 20,
        },
        PhotoError::TooManyPixels {
            width: 60000,
            height: 60000,
            limit: 50_000_000,
        },
        PhotoError::TooSmall {
            width: 200,
            height: 150,
            min: 240,
        },
        PhotoError::Truncated,
        PhotoError::Corrupt { detail: "x".into() },
        PhotoError::Unsupported {
            detail: "12-bit samples".into(),
        },
        PhotoError::NearlyUniform { stddev: 1.5 },
        PhotoError::NotNormalised { detail: "x".into() },
        PhotoError::Encode { detail: "x".into() },
    ];
    let mut codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
    for e in &errors {
        assert!(e.code().starts_with("PHOTO_"));
        let msg = e.staff_message();
        assert!(msg.contains("foto") || msg.contains("Foto"), "{msg}");
        assert!(!e.to_string().is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// Hostile input never panics.

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = normalise_selfie(&bytes, &limits());
        let _ = inspect_normalised_selfie(&bytes, &limits());
    }

    #[test]
    fn random_bytes_after_soi_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut input = vec![0xFF, 0xD8, 0xFF];
        input.extend_from_slice(&bytes);
        let _ = normalise_selfie(&input, &limits());
    }

    #[test]
    fn mutated_jpegs_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut jpeg = small_valid_jpeg().to_vec();
        for (at, byte) in edits {
            let i = at.index(jpeg.len());
            jpeg[i] = byte;
        }
        let len = jpeg.len();
        jpeg.truncate(len - cut.index(len / 4));
        let _ = normalise_selfie(&jpeg, &limits());
        let _ = inspect_normalised_selfie(&jpeg, &limits());
    }
}

fn small_valid_jpeg() -> &'static [u8] {
    static JPEG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    JPEG.get_or_init(|| with_exif(&face_jpeg(320, 240, 1), 6, "fuzz"))
}
