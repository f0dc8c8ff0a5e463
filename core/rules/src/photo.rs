//! Selfie evidence: turn the camera's JPEG into the normalised selfie that is signed,
//! queued and uploaded, and let the server recompute the same evidence.
//!
//! [`normalise_selfie`] runs on the phone, on JPEG bytes straight from the camera:
//!
//! 1. **Limits before work.** The byte length is checked against
//!    [`SelfieLimits::max_bytes`]; then the marker segments up to the first scan are parsed
//!    by hand (no decoder involved) and the frame header's width × height is checked
//!    against [`SelfieLimits::max_pixels`], so a 60000×60000 "decompression bomb" is
//!    refused before any pixel buffer exists. Only 8-bit baseline, extended-sequential and
//!    progressive Huffman JPEGs with 1 or 3 components are accepted; a progressive file
//!    with more than [`MAX_PROGRESSIVE_SCANS`] scans is refused (each scan re-walks the
//!    whole image, so scan count is a CPU bomb).
//! 2. **Decode at a reduced DCT scale.** libjpeg-turbo (through the `mozjpeg` crate)
//!    decodes at 1/8, 1/4 or 1/2 scale when the source is at least that much larger than
//!    the target (a 4000×3000 photo decodes straight to 1000×750), then
//!    `fast_image_resize` (Lanczos3) brings the long edge to
//!    [`SelfieLimits::target_long_edge`]. Images are never upscaled.
//! 3. **EXIF orientation** (tag 0x0112 of the first `Exif` APP1 segment) is applied to the
//!    small image, so the stored selfie is upright without any metadata.
//! 4. **Too small** (short edge after normalisation under
//!    [`SelfieLimits::min_short_edge`]) is refused from the header alone, before decoding.
//! 5. **Encode** baseline JPEG 4:2:0 at [`SelfieLimits::jpeg_quality`] with no APPn or COM
//!    segment at all: no EXIF (so no GPS or device data), no JFIF, no ICC, no thumbnail.
//! 6. **Evidence from the output bytes.** The encoded selfie is decoded once more as
//!    greyscale (about a millisecond at 640×480) and the uniformity check (luma standard
//!    deviation under [`SelfieLimits::min_luma_stddev`]: covered lens, black frame, flat
//!    wall) and the 64-bit dHash are computed from it — the very computation
//!    [`inspect_normalised_selfie`] does on the server, so the phone's perceptual hash
//!    and its uniformity verdict are the server's, bit for bit, not merely close.
//!    SHA-256 (ring) is over the exact output bytes: the value bound into the signed
//!    check-in.
//!
//! [`inspect_normalised_selfie`] is the server's half: it checks an uploaded normalised
//! selfie against the same limits (plus "really normalised": no metadata segments, long
//! edge not above the target), decodes it and recomputes SHA-256 and dHash. The one
//! segment it tolerates is a plain JFIF APP0 header right after SOI (see
//! [`is_plain_jfif_app0`]): Pillow and most encoders always write it, and without a
//! thumbnail it carries a version and a pixel density, nothing about the person.
//!
//! # dHash, precisely
//!
//! 1. Luma: the Y (BT.601) channel of the normalised JPEG as libjpeg-turbo decodes it to
//!    greyscale at full size (8-bit, `JDCT_ISLOW`, whose SIMD and C paths are bit-exact).
//! 2. Area ("box") average onto a 9 × 8 grid: grid cell (i, j) covers the source rectangle
//!    `[i·W/9, (i+1)·W/9) × [j·H/8, (j+1)·H/8)` in real coordinates, and each pixel counts
//!    with the exact area it shares with the cell (integer arithmetic, no rounding).
//! 3. Row-major over rows j = 0..8 and columns i = 0..8, bit = `cell(i, j) < cell(i+1, j)`
//!    (strictly: brighter to the right sets the bit). The first comparison (row 0, column
//!    0) is the most significant bit of the `u64`, so the 16 hex digits read row by row.
//!
//! # Errors and hostile input
//!
//! Every failure is a [`PhotoError`] with a stable [`PhotoError::code`] and an Indonesian
//! [`PhotoError::staff_message`]. libjpeg reports fatal errors through the `mozjpeg` crate
//! as Rust unwinds; this module installs its own libjpeg error manager (which also turns
//! "corrupt data" and "premature end of file" warnings into failures instead of grey
//! pixels) and wraps every libjpeg call in [`std::panic::catch_unwind`], so hostile bytes
//! produce an error, never a panic escaping to the caller. This relies on
//! `panic = "unwind"`, which the workspace's release profile keeps.

use std::fmt;
use std::io;
use std::os::raw::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use fast_image_resize as fir;
use image::metadata::Orientation;
use mozjpeg_sys as jsys;

/// Largest Hamming distance between two dHashes that still counts as "the same photo".
///
/// The same picture re-encoded, rescaled or lightly recompressed typically moves 0–4 of
/// the 64 bits (the tests check re-encoding at another quality stays within 4); two
/// unrelated photos differ in about 32 bits on average (each bit is roughly a coin flip),
/// with a standard deviation of 4, so 10 sits more than five standard deviations below
/// chance. Two genuinely new selfies of the same person at the same desk can land near
/// this bound, which is why a match flags the check-in for a human and never refuses it.
pub const NEAR_DUPLICATE_MAX_DISTANCE: u32 = 10;

/// Most scans accepted in a progressive JPEG.
///
/// Cameras write 6–12 (mozjpeg's optimised progression up to a few dozen); each scan makes
/// the decoder walk the whole coefficient buffer again, so an unbounded scan count lets a
/// small file cost seconds of CPU.
pub const MAX_PROGRESSIVE_SCANS: usize = 100;

/// Limits and settings for selfie normalisation and inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfieLimits {
    /// Largest input accepted, in bytes (default 15 MiB). Checked before anything else.
    pub max_bytes: usize,
    /// Largest width × height accepted, read from the JPEG frame header before decoding
    /// (default 50 million pixels: a 48 MP phone sensor passes, a bomb does not).
    pub max_pixels: u64,
    /// Smallest short edge, in pixels, of the *normalised* selfie (default 240). A source
    /// smaller than this, or so elongated that normalising leaves less, is refused.
    pub min_short_edge: u32,
    /// Long edge of the normalised selfie in pixels (default 640). Smaller sources are
    /// kept at their size, never upscaled.
    pub target_long_edge: u32,
    /// JPEG quality of the normalised selfie, 1–100 (default 85).
    pub jpeg_quality: u8,
    /// Smallest standard deviation of luma (0–255 scale, measured on the normalised
    /// selfie) accepted; below it the frame is refused as nearly uniform (default 8.0).
    ///
    /// Measured on the test pictures: a black frame 0, a covered lens with heavy sensor
    /// noise about 2 (downscaling averages the noise away), a flat wall with a lighting
    /// falloff about 4; a face against a background 39–52 when exposed normally and still
    /// about 9.6 when every pixel is divided by four (a badly underexposed selfie).
    pub min_luma_stddev: f64,
}

impl Default for SelfieLimits {
    fn default() -> Self {
        SelfieLimits {
            max_bytes: 15 * 1024 * 1024,
            max_pixels: 50_000_000,
            min_short_edge: 240,
            target_long_edge: 640,
            jpeg_quality: 85,
            min_luma_stddev: 8.0,
        }
    }
}

/// A normalised selfie and the hashes that bind it to a check-in.
#[derive(Clone, PartialEq, Eq)]
pub struct SelfieEvidence {
    /// The normalised JPEG: upright, long edge at most the target, no metadata segments.
    pub jpeg: Vec<u8>,
    /// SHA-256 of exactly [`SelfieEvidence::jpeg`].
    pub sha256: [u8; 32],
    /// 64-bit dHash (see the module documentation) for near-duplicate detection.
    pub perceptual_hash: u64,
    /// Width of the normalised selfie in pixels.
    pub width: u32,
    /// Height of the normalised selfie in pixels.
    pub height: u32,
}

impl SelfieEvidence {
    /// [`SelfieEvidence::sha256`] as 64 lowercase hex digits.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }

    /// [`SelfieEvidence::perceptual_hash`] as 16 lowercase hex digits.
    pub fn perceptual_hash_hex(&self) -> String {
        format!("{:016x}", self.perceptual_hash)
    }
}

impl fmt::Debug for SelfieEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelfieEvidence")
            .field("jpeg_len", &self.jpeg.len())
            .field("sha256", &self.sha256_hex())
            .field("perceptual_hash", &self.perceptual_hash_hex())
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// Why a selfie was refused.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The bytes do not start with a JPEG start-of-image marker.
    #[error("not a JPEG (no start-of-image marker)")]
    NotJpeg,
    /// More bytes than [`SelfieLimits::max_bytes`].
    #[error("photo is {bytes} bytes, limit is {limit}")]
    TooLarge {
        /// Size of the input.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The frame header declares more pixels than [`SelfieLimits::max_pixels`].
    #[error("photo declares {width}x{height} pixels, limit is {limit}")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit in pixels.
        limit: u64,
    },
    /// The normalised selfie's short edge would be under [`SelfieLimits::min_short_edge`].
    #[error("photo would be {width}x{height} after normalising, short edge must be at least {min}")]
    TooSmall {
        /// Width after orientation and normalisation.
        width: u32,
        /// Height after orientation and normalisation.
        height: u32,
        /// The minimum short edge.
        min: u32,
    },
    /// The data ends before the image does (an interrupted write or upload).
    #[error("JPEG data is truncated")]
    Truncated,
    /// The JPEG structure or compressed data is damaged.
    #[error("JPEG is corrupt: {detail}")]
    Corrupt {
        /// What the parser or libjpeg reported.
        detail: String,
    },
    /// A valid JPEG of a kind cameras do not produce (12-bit, lossless, arithmetic-coded,
    /// CMYK, too many progressive scans).
    #[error("unsupported JPEG: {detail}")]
    Unsupported {
        /// Which feature.
        detail: String,
    },
    /// The frame is almost one flat colour: covered lens, black frame, flat wall.
    #[error("photo is nearly uniform (luma standard deviation {stddev:.1})")]
    NearlyUniform {
        /// Measured standard deviation of luma, 0–255 scale.
        stddev: f64,
    },
    /// Server side: an upload that did not come out of [`normalise_selfie`] (it carries
    /// metadata segments or is larger than the target size).
    #[error("not a normalised selfie: {detail}")]
    NotNormalised {
        /// What gave it away.
        detail: String,
    },
    /// Encoding the normalised JPEG failed (should not happen; reported, never panics).
    #[error("could not encode the normalised selfie: {detail}")]
    Encode {
        /// What libjpeg or the resizer reported.
        detail: String,
    },
}

impl PhotoError {
    /// A stable machine code for the shells, the server's responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::NotJpeg => "PHOTO_NOT_JPEG",
            PhotoError::TooLarge { .. } => "PHOTO_TOO_LARGE",
            PhotoError::TooManyPixels { .. } => "PHOTO_TOO_MANY_PIXELS",
            PhotoError::TooSmall { .. } => "PHOTO_TOO_SMALL",
            PhotoError::Truncated => "PHOTO_TRUNCATED",
            PhotoError::Corrupt { .. } => "PHOTO_CORRUPT",
            PhotoError::Unsupported { .. } => "PHOTO_UNSUPPORTED",
            PhotoError::NearlyUniform { .. } => "PHOTO_NEARLY_UNIFORM",
            PhotoError::NotNormalised { .. } => "PHOTO_NOT_NORMALISED",
            PhotoError::Encode { .. } => "PHOTO_ENCODE_FAILED",
        }
    }

    /// The message to show staff, in Indonesian.
    pub fn staff_message(&self) -> String {
        match self {
            PhotoError::NotJpeg => {
                "Berkas ini bukan foto JPEG. Silakan ambil foto ulang dengan kamera.".to_string()
            }
            PhotoError::TooLarge { bytes, limit } => format!(
                "Ukuran foto terlalu besar ({:.1} MB, batas {:.1} MB). Silakan ambil foto ulang.",
                *bytes as f64 / 1_048_576.0,
                *limit as f64 / 1_048_576.0
            ),
            PhotoError::TooManyPixels { width, height, .. } => format!(
                "Resolusi foto terlalu besar ({width}×{height} piksel). Silakan ambil foto \
                 ulang dengan resolusi kamera yang lebih kecil."
            ),
            PhotoError::TooSmall { min, .. } => format!(
                "Foto terlalu kecil atau terlalu sempit (sisi terpendek minimal {min} piksel). \
                 Silakan ambil foto ulang."
            ),
            PhotoError::Truncated => {
                "Foto tidak lengkap (terpotong). Silakan ambil foto ulang.".to_string()
            }
            PhotoError::Corrupt { .. } => {
                "Foto tidak dapat dibaca. Silakan ambil foto ulang.".to_string()
            }
            PhotoError::Unsupported { .. } => {
                "Format foto tidak didukung. Silakan ambil foto ulang dengan kamera aplikasi Hadir."
                    .to_string()
            }
            PhotoError::NearlyUniform { .. } => {
                "Foto terlalu gelap atau polos sehingga wajah tidak terlihat. Pastikan kamera \
                 tidak tertutup dan pencahayaan cukup, lalu ambil foto ulang."
                    .to_string()
            }
            PhotoError::NotNormalised { .. } => {
                "Foto tidak berasal dari aplikasi Hadir. Silakan kirim ulang dari aplikasi."
                    .to_string()
            }
            PhotoError::Encode { .. } => "Foto gagal diproses. Silakan coba lagi.".to_string(),
        }
    }
}

/// Normalises a camera JPEG into selfie evidence (see the module documentation for each
/// step). Never panics on hostile input.
pub fn normalise_selfie(
    camera_jpeg: &[u8],
    limits: &SelfieLimits,
) -> Result<SelfieEvidence, PhotoError> {
    check_bytes(camera_jpeg, limits)?;
    let header = parse_header(camera_jpeg)?;
    check_pixels(&header, limits)?;

    let swap = swaps_axes(header.orientation);
    // Target size in the stored (unrotated) frame.
    let (tw, th) = fit_long_edge(header.width, header.height, limits.target_long_edge.max(1));
    let (ow, oh) = if swap { (th, tw) } else { (tw, th) };
    if ow.min(oh) < limits.min_short_edge {
        return Err(PhotoError::TooSmall {
            width: ow,
            height: oh,
            min: limits.min_short_edge,
        });
    }

    let scale = dct_scale(header.width, header.height, tw, th);
    let decoded = decode(camera_jpeg, scale, Channels::Rgbx)?;
    let rgbx = if (decoded.width, decoded.height) == (tw, th) {
        decoded.pixels
    } else {
        resize_rgbx(decoded.pixels, decoded.width, decoded.height, tw, th)?
    };
    let (rgbx, width, height) = apply_orientation(rgbx, tw, th, header.orientation);
    let jpeg = encode_rgbx(&rgbx, width, height, limits.jpeg_quality)?;
    drop(rgbx);

    // Uniformity and dHash come from the encoded bytes, exactly as the server computes
    // them, so phone and server agree bit for bit (costs one small greyscale decode).
    let luma = decode(&jpeg, 8, Channels::Luma)?;
    let stddev = luma_stddev(&luma.pixels);
    if stddev < limits.min_luma_stddev {
        return Err(PhotoError::NearlyUniform { stddev });
    }
    Ok(SelfieEvidence {
        sha256: sha256(&jpeg),
        perceptual_hash: dhash(&luma.pixels, luma.width, luma.height),
        jpeg,
        width,
        height,
    })
}

/// For the server: SHA-256 and dHash of an already-normalised JPEG as uploaded (decodes
/// it, checks size limits).
///
/// Refuses, besides everything [`normalise_selfie`] refuses, an upload that is not really
/// normalised: one carrying any APPn or COM segment (EXIF, GPS, ICC, XMP, a JFIF
/// thumbnail or extension…) other than one plain JFIF APP0 header directly after SOI
/// ([`is_plain_jfif_app0`]), or whose long edge exceeds
/// [`SelfieLimits::target_long_edge`]. The returned
/// [`SelfieEvidence::jpeg`] is a copy of the input.
pub fn inspect_normalised_selfie(
    jpeg: &[u8],
    limits: &SelfieLimits,
) -> Result<SelfieEvidence, PhotoError> {
    check_bytes(jpeg, limits)?;
    let header = parse_header(jpeg)?;
    check_pixels(&header, limits)?;
    if let Some(marker) = header.metadata_marker {
        return Err(PhotoError::NotNormalised {
            detail: format!("carries a metadata segment (marker 0xFF{marker:02X})"),
        });
    }
    let long = header.width.max(header.height);
    if long > limits.target_long_edge.max(1) {
        return Err(PhotoError::NotNormalised {
            detail: format!(
                "{}x{} is larger than the {} px long edge",
                header.width, header.height, limits.target_long_edge
            ),
        });
    }
    if header.width.min(header.height) < limits.min_short_edge {
        return Err(PhotoError::TooSmall {
            width: header.width,
            height: header.height,
            min: limits.min_short_edge,
        });
    }
    let decoded = decode(jpeg, 8, Channels::Luma)?;
    let stddev = luma_stddev(&decoded.pixels);
    if stddev < limits.min_luma_stddev {
        return Err(PhotoError::NearlyUniform { stddev });
    }
    Ok(SelfieEvidence {
        jpeg: jpeg.to_vec(),
        sha256: sha256(jpeg),
        perceptual_hash: dhash(&decoded.pixels, decoded.width, decoded.height),
        width: decoded.width,
        height: decoded.height,
    })
}

/// SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256(bytes))
}

/// Number of differing bits between two perceptual hashes; compare with
/// [`NEAR_DUPLICATE_MAX_DISTANCE`].
pub fn hamming_distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Whether two perceptual hashes are near duplicates (distance at most
/// [`NEAR_DUPLICATE_MAX_DISTANCE`]).
pub fn is_near_duplicate(a: u64, b: u64) -> bool {
    hamming_distance(a, b) <= NEAR_DUPLICATE_MAX_DISTANCE
}

// ---------------------------------------------------------------------------------------
// Limits and the hand-written header parser.

fn check_bytes(data: &[u8], limits: &SelfieLimits) -> Result<(), PhotoError> {
    if data.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            bytes: data.len(),
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

fn check_pixels(header: &Header, limits: &SelfieLimits) -> Result<(), PhotoError> {
    if u64::from(header.width) * u64::from(header.height) > limits.max_pixels {
        return Err(PhotoError::TooManyPixels {
            width: header.width,
            height: header.height,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// What the marker segments before the first scan say.
#[derive(Debug)]
struct Header {
    width: u32,
    height: u32,
    orientation: Orientation,
    /// The first APPn or COM marker seen, if any, other than a plain JFIF APP0 header
    /// as the first segment ([`is_plain_jfif_app0`]).
    metadata_marker: Option<u8>,
}

/// Length of a JFIF APP0 payload without a thumbnail: `JFIF\0`, version (2 bytes),
/// density units (1), X and Y density (2 + 2), thumbnail width and height (1 + 1).
const PLAIN_JFIF_APP0_LEN: usize = 14;

/// Whether an APP0 segment's payload (after its length field) is a plain JFIF header:
/// identifier `JFIF\0`, major version 1, density units 0, 1 or 2, non-zero densities,
/// and no thumbnail (width and height 0, nothing after them). Such a segment says only
/// how large a pixel is meant to be, so a normalised selfie may carry it.
pub fn is_plain_jfif_app0(payload: &[u8]) -> bool {
    payload.len() == PLAIN_JFIF_APP0_LEN
        && payload.starts_with(b"JFIF\0")
        && payload[5] == 1
        && payload[7] <= 2
        && be16(payload, 8) != 0
        && be16(payload, 10) != 0
        && payload[12] == 0
        && payload[13] == 0
}

fn corrupt(detail: impl Into<String>) -> PhotoError {
    PhotoError::Corrupt {
        detail: detail.into(),
    }
}

fn unsupported(detail: impl Into<String>) -> PhotoError {
    PhotoError::Unsupported {
        detail: detail.into(),
    }
}

fn be16(data: &[u8], pos: usize) -> usize {
    (usize::from(data[pos]) << 8) | usize::from(data[pos + 1])
}

/// Walks the marker segments from SOI to the first SOS without decoding anything.
fn parse_header(data: &[u8]) -> Result<Header, PhotoError> {
    if data.len() < 2 || data[0] != 0xFF || data[1] != 0xD8 {
        return Err(PhotoError::NotJpeg);
    }
    let mut pos = 2;
    let mut frame: Option<(u32, u32, bool)> = None;
    let mut orientation = None;
    let mut metadata_marker = None;
    let mut first_segment = true;
    loop {
        if pos >= data.len() {
            return Err(PhotoError::Truncated);
        }
        if data[pos] != 0xFF {
            return Err(corrupt(format!("expected a marker at byte {pos}")));
        }
        while pos < data.len() && data[pos] == 0xFF {
            pos += 1; // fill bytes
        }
        if pos >= data.len() {
            return Err(PhotoError::Truncated);
        }
        let marker = data[pos];
        pos += 1;
        match marker {
            0x00 => return Err(corrupt("stuffed zero byte outside entropy-coded data")),
            0xD8 => return Err(corrupt("second start-of-image marker")),
            0xD9 => return Err(corrupt("end of image before any scan")),
            0x01 | 0xD0..=0xD7 => continue, // standalone markers without a length
            _ => {}
        }
        if pos + 2 > data.len() {
            return Err(PhotoError::Truncated);
        }
        let len = be16(data, pos);
        if len < 2 {
            return Err(corrupt(format!(
                "segment 0xFF{marker:02X} has length {len}"
            )));
        }
        if pos + len > data.len() {
            return Err(PhotoError::Truncated);
        }
        let payload = &data[pos + 2..pos + len];
        match marker {
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(corrupt("two frame headers"));
                }
                frame = Some(parse_frame(payload, marker == 0xC2)?);
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(unsupported(format!(
                    "JPEG process SOF{} (lossless, hierarchical or arithmetic-coded)",
                    marker - 0xC0
                )));
            }
            0xE0 if first_segment && is_plain_jfif_app0(payload) => {}
            0xE0..=0xEF | 0xFE => {
                metadata_marker.get_or_insert(marker);
                if marker == 0xE1 && orientation.is_none() && payload.starts_with(b"Exif\0\0") {
                    orientation = Some(
                        Orientation::from_exif_chunk(&payload[6..])
                            .unwrap_or(Orientation::NoTransforms),
                    );
                }
            }
            0xDA => {
                let Some((width, height, progressive)) = frame else {
                    return Err(corrupt("scan before frame header"));
                };
                if progressive {
                    let scans = count_scans(data, pos);
                    if scans > MAX_PROGRESSIVE_SCANS {
                        return Err(unsupported(format!(
                            "progressive JPEG with more than {MAX_PROGRESSIVE_SCANS} scans"
                        )));
                    }
                }
                return Ok(Header {
                    width,
                    height,
                    orientation: orientation.unwrap_or(Orientation::NoTransforms),
                    metadata_marker,
                });
            }
            _ => {}
        }
        first_segment = false;
        pos += len;
    }
}

fn parse_frame(payload: &[u8], progressive: bool) -> Result<(u32, u32, bool), PhotoError> {
    if payload.len() < 6 {
        return Err(corrupt("frame header too short"));
    }
    let precision = payload[0];
    let height = be16(payload, 1) as u32;
    let width = be16(payload, 3) as u32;
    let components = usize::from(payload[5]);
    if payload.len() < 6 + 3 * components {
        return Err(corrupt("frame header too short for its components"));
    }
    if precision != 8 {
        return Err(unsupported(format!("{precision}-bit samples")));
    }
    if components != 1 && components != 3 {
        return Err(unsupported(format!("{components} colour components")));
    }
    if width == 0 || height == 0 {
        return Err(corrupt(format!("frame declares {width}x{height} pixels")));
    }
    Ok((width, height, progressive))
}

/// Counts SOS markers from the first scan (`pos` at its length field) on, stopping early
/// once past the limit. Entropy-coded data never contains 0xFF followed by anything but
/// 0x00 or RSTn, so every other 0xFFxx is a real marker.
fn count_scans(data: &[u8], mut pos: usize) -> usize {
    let mut scans = 1;
    pos += be16(data, pos); // skip the first scan header (bounds checked by the caller)
    while pos + 1 < data.len() && scans <= MAX_PROGRESSIVE_SCANS {
        if data[pos] != 0xFF {
            pos += 1;
            continue;
        }
        let marker = data[pos + 1];
        pos += 2;
        match marker {
            0x00 | 0xFF | 0x01 | 0xD0..=0xD7 => {
                if marker == 0xFF {
                    pos -= 1; // fill byte: look at it again as a marker prefix
                }
            }
            0xD9 => break,
            _ => {
                if marker == 0xDA {
                    scans += 1;
                }
                if pos + 2 <= data.len() {
                    pos += be16(data, pos);
                }
            }
        }
    }
    scans
}

// ---------------------------------------------------------------------------------------
// Geometry.

/// Size with the long edge brought down to `target` (aspect kept, rounded to nearest,
/// never upscaled, never zero).
fn fit_long_edge(width: u32, height: u32, target: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= target {
        return (width, height);
    }
    let scale = |edge: u32| -> u32 {
        let v = (u64::from(edge) * u64::from(target) * 2 + u64::from(long)) / (2 * u64::from(long));
        (v as u32).max(1)
    };
    if width >= height {
        (target, scale(height))
    } else {
        (scale(width), target)
    }
}

/// Largest DCT reduction (numerator over 8: 1, 2, 4 or 8; libjpeg-turbo has SIMD for
/// these) whose output still covers the target in both directions.
fn dct_scale(width: u32, height: u32, target_w: u32, target_h: u32) -> u8 {
    for num in [1u8, 2, 4] {
        let w = (u64::from(width) * u64::from(num)).div_ceil(8);
        let h = (u64::from(height) * u64::from(num)).div_ceil(8);
        if w >= u64::from(target_w) && h >= u64::from(target_h) {
            return num;
        }
    }
    8
}

fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Applies the EXIF orientation to packed RGBX; returns the pixels and the new size.
fn apply_orientation(
    rgb: Vec<u8>,
    width: u32,
    height: u32,
    orientation: Orientation,
) -> (Vec<u8>, u32, u32) {
    let (w, h) = (width as usize, height as usize);
    let src = rgb.as_slice();
    match orientation {
        Orientation::NoTransforms => (rgb, width, height),
        Orientation::FlipHorizontal => (remap(src, w, w, h, |x, y| (w - 1 - x, y)), width, height),
        Orientation::Rotate180 => (
            remap(src, w, w, h, |x, y| (w - 1 - x, h - 1 - y)),
            width,
            height,
        ),
        Orientation::FlipVertical => (remap(src, w, w, h, |x, y| (x, h - 1 - y)), width, height),
        // Transpose (EXIF 5).
        Orientation::Rotate90FlipH => (remap(src, w, h, w, |x, y| (y, x)), height, width),
        // 90° clockwise (EXIF 6): output (x, y) shows source (y, H-1-x).
        Orientation::Rotate90 => (remap(src, w, h, w, |x, y| (y, h - 1 - x)), height, width),
        // Transverse (EXIF 7).
        Orientation::Rotate270FlipH => (
            remap(src, w, h, w, |x, y| (w - 1 - y, h - 1 - x)),
            height,
            width,
        ),
        // 90° counter-clockwise (EXIF 8): output (x, y) shows source (W-1-y, x).
        Orientation::Rotate270 => (remap(src, w, h, w, |x, y| (w - 1 - y, x)), height, width),
    }
}

/// Builds a `dw`×`dh` RGBX image whose pixel (x, y) is source pixel `src_of(x, y)` of a
/// source `src_w` pixels wide. Generic so each orientation gets its own tight loop.
#[inline(always)]
fn remap(
    src: &[u8],
    src_w: usize,
    dw: usize,
    dh: usize,
    src_of: impl Fn(usize, usize) -> (usize, usize),
) -> Vec<u8> {
    let mut out = vec![0u8; dw * dh * BYTES_PER_PIXEL];
    for (y, row) in out.chunks_exact_mut(dw * BYTES_PER_PIXEL).enumerate() {
        for (x, px) in row.chunks_exact_mut(BYTES_PER_PIXEL).enumerate() {
            let (sx, sy) = src_of(x, y);
            let s = (sy * src_w + sx) * BYTES_PER_PIXEL;
            px.copy_from_slice(&src[s..s + BYTES_PER_PIXEL]);
        }
    }
    out
}

/// Colour pixels are handled as RGBX (4 bytes, the 4th unused): libjpeg-turbo decodes and
/// encodes that layout directly, and fast_image_resize is built with only its U8x4
/// kernels (`only_u8x4`), which keeps 2.4 MB of unused pixel-format code out of the
/// phone library at the cost of resizing one padding byte per pixel.
const BYTES_PER_PIXEL: usize = 4;

fn resize_rgbx(
    rgb: Vec<u8>,
    width: u32,
    height: u32,
    target_w: u32,
    target_h: u32,
) -> Result<Vec<u8>, PhotoError> {
    let encode_err = |e: &dyn fmt::Display| PhotoError::Encode {
        detail: format!("resize: {e}"),
    };
    let src = fir::images::Image::from_vec_u8(width, height, rgb, fir::PixelType::U8x4)
        .map_err(|e| encode_err(&e))?;
    let mut dst = fir::images::Image::new(target_w, target_h, fir::PixelType::U8x4);
    // The 4th byte is padding, not alpha: no premultiplication.
    let options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3))
        .use_alpha(false);
    fir::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| encode_err(&e))?;
    Ok(dst.into_vec())
}

// ---------------------------------------------------------------------------------------
// Luma statistics and dHash.

fn luma_stddev(luma: &[u8]) -> f64 {
    if luma.is_empty() {
        return 0.0;
    }
    let (sum, sum_sq) = luma.iter().fold((0u64, 0u64), |(s, q), &v| {
        let v = u64::from(v);
        (s + v, q + v * v)
    });
    let n = luma.len() as f64;
    let mean = sum as f64 / n;
    (sum_sq as f64 / n - mean * mean).max(0.0).sqrt()
}

/// How cell `c` of `cells` equal cells along an axis of `len` pixels is made of pixels,
/// in units of 1/`cells` pixel (a whole pixel weighs `cells`, a whole cell `len`):
/// `(first, first_weight, last, last_weight)`; the pixels strictly between `first` and
/// `last` lie wholly inside the cell. When `first == last` only `first_weight` counts.
fn cell_span(c: usize, len: usize, cells: usize) -> (usize, u64, usize, u64) {
    let (start, end) = (c * len, (c + 1) * len);
    let (first, last) = (start / cells, (end - 1) / cells);
    let overlap = |x: usize| (end.min((x + 1) * cells) - start.max(x * cells)) as u64;
    (first, overlap(first), last, overlap(last))
}

/// Exact area-weighted sum of `values` over each of `N` equal cells (weights as in
/// [`cell_span`], so every cell's total weight is the same).
fn cell_sums<const N: usize>(values: &[u8]) -> [u64; N] {
    let len = values.len();
    let mut sums = [0u64; N];
    for (c, sum) in sums.iter_mut().enumerate() {
        let (first, first_w, last, last_w) = cell_span(c, len, N);
        *sum = if first == last {
            first_w * u64::from(values[first])
        } else {
            let inner: u64 = values[first + 1..last].iter().map(|&v| u64::from(v)).sum();
            first_w * u64::from(values[first]) + N as u64 * inner + last_w * u64::from(values[last])
        };
    }
    sums
}

/// dHash of a row-major 8-bit luma plane `width` × `height`, as defined in the module
/// documentation (and in docs/PROTOCOL.md, checked against `docs/vectors/dhash.json`).
/// An empty or short plane hashes to 0.
pub fn dhash(luma: &[u8], width: u32, height: u32) -> u64 {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || luma.len() < w * h {
        return 0;
    }
    let row_sums: Vec<[u64; 9]> = luma.chunks_exact(w).take(h).map(cell_sums::<9>).collect();
    let mut cells = [[0u64; 9]; 8];
    for (j, cell_row) in cells.iter_mut().enumerate() {
        let (first, first_w, last, last_w) = cell_span(j, h, 8);
        for (y, sums) in row_sums.iter().enumerate().take(last + 1).skip(first) {
            let wy = if y == first {
                first_w
            } else if y == last {
                last_w
            } else {
                8
            };
            for (cell, &s) in cell_row.iter_mut().zip(sums) {
                *cell += s * wy;
            }
        }
    }
    // Every cell has the same total weight (W·H), so raw sums compare like averages.
    let mut hash = 0u64;
    for row in &cells {
        for i in 0..8 {
            hash = (hash << 1) | u64::from(row[i] < row[i + 1]);
        }
    }
    hash
}

// ---------------------------------------------------------------------------------------
// libjpeg through mozjpeg, with panics contained.

/// Payload of the unwind started by this module's libjpeg error manager.
struct LibjpegFailure {
    code: c_int,
    message: String,
}

/// Warnings that do not mean lost image data; any other libjpeg warning fails the decode.
fn benign_warning(code: c_int) -> bool {
    let code = code as u32;
    code == jsys::JWRN_EXTRANEOUS_DATA as u32
        || code == jsys::JWRN_JFIF_MAJOR as u32
        || code == jsys::JWRN_ADOBE_XFORM as u32
        || code == jsys::JWRN_BOGUS_ICC as u32
}

fn libjpeg_message(cinfo: &mut jsys::jpeg_common_struct) -> String {
    // SAFETY: libjpeg calls the error manager with its own live cinfo, whose `err` points
    // at the manager set up by `error_manager` (initialised by `jpeg_std_error`).
    unsafe {
        let err = &*cinfo.err;
        let code = err.msg_code;
        let Some(format) = err.format_message else {
            return format!("libjpeg message {code}");
        };
        // The binding declares the buffer as shared, but libjpeg writes into it.
        let format = std::mem::transmute::<
            unsafe extern "C-unwind" fn(&mut jsys::jpeg_common_struct, &[u8; 80]),
            unsafe extern "C-unwind" fn(&mut jsys::jpeg_common_struct, &mut [u8; 80]),
        >(format);
        let mut buffer = [0u8; 80];
        format(cinfo, &mut buffer);
        let text = buffer.split(|&c| c == 0).next().unwrap_or_default();
        String::from_utf8_lossy(text).into_owned()
    }
}

extern "C-unwind" fn on_error_exit(cinfo: &mut jsys::jpeg_common_struct) {
    // SAFETY: see `libjpeg_message`.
    let code = unsafe { (*cinfo.err).msg_code };
    let message = libjpeg_message(cinfo);
    resume_unwind(Box::new(LibjpegFailure { code, message }));
}

extern "C-unwind" fn on_emit_message(cinfo: &mut jsys::jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return; // trace messages
    }
    // SAFETY: see `libjpeg_message`.
    let code = unsafe { (*cinfo.err).msg_code };
    if benign_warning(code) {
        return;
    }
    let message = libjpeg_message(cinfo);
    resume_unwind(Box::new(LibjpegFailure { code, message }));
}

fn error_manager() -> jsys::jpeg_error_mgr {
    // SAFETY: jpeg_error_mgr is a plain C struct for which all-zero is a valid value, and
    // jpeg_std_error fills in every field it needs; no pointer into the struct is kept.
    unsafe {
        let mut err: jsys::jpeg_error_mgr = std::mem::zeroed();
        jsys::jpeg_std_error(&mut err);
        err.error_exit = Some(on_error_exit);
        err.emit_message = Some(on_emit_message);
        err
    }
}

/// Runs `f`, turning libjpeg failures (and any other unwind) into a `PhotoError`.
fn contained<T>(
    f: impl FnOnce() -> io::Result<T>,
    on_error: fn(String) -> PhotoError,
) -> Result<T, PhotoError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(on_error(e.to_string())),
        Err(payload) => {
            if let Some(failure) = payload.downcast_ref::<LibjpegFailure>() {
                if failure.code as u32 == jsys::JWRN_JPEG_EOF as u32 {
                    return Err(PhotoError::Truncated);
                }
                return Err(on_error(failure.message.clone()));
            }
            let detail = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "libjpeg failed".to_string());
            Err(on_error(detail))
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Channels {
    Rgbx,
    Luma,
}

struct Decoded {
    pixels: Vec<u8>,
    width: u32,
    height: u32,
}

fn decode(data: &[u8], scale_num: u8, channels: Channels) -> Result<Decoded, PhotoError> {
    contained(
        || {
            let mut dec = mozjpeg::Decompress::builder()
                .with_err(error_manager())
                .from_mem(data)?;
            dec.scale(scale_num);
            let mut started = match channels {
                Channels::Rgbx => dec.rgba()?,
                Channels::Luma => dec.grayscale()?,
            };
            let (width, height) = (started.width() as u32, started.height() as u32);
            let pixels: Vec<u8> = started.read_scanlines()?;
            started.finish()?;
            Ok(Decoded {
                pixels,
                width,
                height,
            })
        },
        |detail| PhotoError::Corrupt { detail },
    )
}

fn encode_rgbx(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let jpeg = contained(
        || {
            let mut comp = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_EXT_RGBX);
            comp.set_fastest_defaults(); // baseline, libjpeg-turbo speed
            comp.set_quality(f32::from(quality.clamp(1, 100)));
            comp.set_size(width as usize, height as usize);
            comp.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
            let capacity = (width as usize * height as usize / 4).max(4096);
            let mut started = comp.start_compress(Vec::with_capacity(capacity))?;
            started.write_scanlines(rgb)?;
            started.finish()
        },
        |detail| PhotoError::Encode { detail },
    )?;
    Ok(strip_metadata_segments(jpeg))
}

/// Drops every APPn and COM segment before the first scan (libjpeg always writes a JFIF
/// APP0; the normalised selfie carries no metadata at all).
fn strip_metadata_segments(jpeg: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(jpeg.len());
    out.extend_from_slice(&jpeg[..2.min(jpeg.len())]);
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let marker = jpeg[pos + 1];
        if marker == 0xDA {
            break;
        }
        let end = (pos + 2 + be16(&jpeg, pos + 2)).min(jpeg.len());
        if !matches!(marker, 0xE0..=0xEF | 0xFE) {
            out.extend_from_slice(&jpeg[pos..end]);
        }
        pos = end;
    }
    out.extend_from_slice(&jpeg[pos.min(jpeg.len())..]);
    out
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_fit_long_edge_rounds_and_never_upscales() {
        assert_eq!(fit_long_edge(4000, 3000, 640), (640, 480));
        assert_eq!(fit_long_edge(3000, 4000, 640), (480, 640));
        assert_eq!(fit_long_edge(1920, 1080, 640), (640, 360));
        assert_eq!(fit_long_edge(320, 240, 640), (320, 240));
        assert_eq!(fit_long_edge(10000, 1, 640), (640, 1));
    }

    #[test]
    fn photo_dct_scale_picks_the_largest_reduction_that_covers_the_target() {
        assert_eq!(dct_scale(4000, 3000, 640, 480), 2); // 1000x750
        assert_eq!(dct_scale(1280, 960, 640, 480), 4); // 640x480 exactly
        assert_eq!(dct_scale(1000, 750, 640, 480), 8);
        assert_eq!(dct_scale(8000, 6000, 640, 480), 1); // 1000x750
    }

    #[test]
    fn photo_cell_sums_weigh_every_pixel_exactly_once() {
        for len in [1usize, 2, 5, 8, 9, 17, 480, 640, 641] {
            let ones = vec![1u8; len];
            // Each cell covers len/cells pixels, i.e. weight `len` in 1/cells units.
            assert!(
                cell_sums::<9>(&ones).iter().all(|&s| s == len as u64),
                "{len}"
            );
            assert!(
                cell_sums::<8>(&ones).iter().all(|&s| s == len as u64),
                "{len}"
            );
        }
        // 18 pixels into 9 cells: pairs.
        let ramp: Vec<u8> = (0..18).collect();
        let sums = cell_sums::<9>(&ramp);
        let expected: Vec<u64> = (0..9).map(|c| 9 * (2 * c + 2 * c + 1)).collect();
        assert_eq!(sums.to_vec(), expected);
    }

    /// The definition, spelled out pixel by pixel.
    fn naive_dhash(luma: &[u8], w: usize, h: usize) -> u64 {
        let overlap = |p: usize, c: usize, len: usize, cells: usize| -> u64 {
            let (lo, hi) = (p * cells, (p + 1) * cells);
            let (clo, chi) = (c * len, (c + 1) * len);
            hi.min(chi).saturating_sub(lo.max(clo)) as u64
        };
        let mut cells = [[0u64; 9]; 8];
        for (j, row) in cells.iter_mut().enumerate() {
            for (i, cell) in row.iter_mut().enumerate() {
                for y in 0..h {
                    for x in 0..w {
                        *cell +=
                            overlap(x, i, w, 9) * overlap(y, j, h, 8) * u64::from(luma[y * w + x]);
                    }
                }
            }
        }
        let mut hash = 0;
        for row in &cells {
            for i in 0..8 {
                hash = (hash << 1) | u64::from(row[i] < row[i + 1]);
            }
        }
        hash
    }

    #[test]
    fn photo_dhash_matches_its_definition() {
        let mut state = 0x1234_5678_9ABC_DEF1u64;
        for (w, h) in [
            (1, 1),
            (3, 2),
            (9, 8),
            (10, 7),
            (37, 29),
            (64, 48),
            (71, 80),
        ] {
            let luma: Vec<u8> = (0..w * h)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect();
            assert_eq!(
                dhash(&luma, w as u32, h as u32),
                naive_dhash(&luma, w, h),
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn photo_dhash_of_a_horizontal_ramp_sets_every_bit() {
        let (w, h) = (90u32, 80u32);
        let ramp: Vec<u8> = (0..h).flat_map(|_| (0..w).map(|x| (x * 2) as u8)).collect();
        assert_eq!(dhash(&ramp, w, h), u64::MAX);
        let reversed: Vec<u8> = ramp.iter().map(|v| 255 - v).collect();
        assert_eq!(dhash(&reversed, w, h), 0);
        // Only the first row brightening to the right: the top byte.
        let mut first_row_only = vec![100u8; (w * h) as usize];
        for y in 0..10 {
            for x in 0..w {
                first_row_only[(y * w + x) as usize] = x as u8;
            }
        }
        assert_eq!(dhash(&first_row_only, w, h), 0xFF00_0000_0000_0000);
    }

    #[test]
    fn photo_header_parser_refuses_structural_damage() {
        assert!(matches!(parse_header(b""), Err(PhotoError::NotJpeg)));
        assert!(matches!(
            parse_header(&[0xFF, 0xD8]),
            Err(PhotoError::Truncated)
        ));
        assert!(matches!(
            parse_header(&[0xFF, 0xD8, 0x12, 0x34]),
            Err(PhotoError::Corrupt { .. })
        ));
        assert!(matches!(
            parse_header(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 1, 2]),
            Err(PhotoError::Truncated)
        ));
        assert!(matches!(
            parse_header(&[0xFF, 0xD8, 0xFF, 0xD9]),
            Err(PhotoError::Corrupt { .. })
        ));
        // Arithmetic-coded frame.
        let sof9 = [
            0xFF, 0xD8, 0xFF, 0xC9, 0, 11, 8, 0, 16, 0, 16, 1, 1, 0x11, 0,
        ];
        assert!(matches!(
            parse_header(&sof9),
            Err(PhotoError::Unsupported { .. })
        ));
    }

    #[test]
    fn photo_strip_metadata_segments_drops_app_and_com() {
        let jpeg = vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2, 0xFF, 0xFE, 0, 3, b'x', 0xFF, 0xDB, 0, 3, 9, 0xFF,
            0xDA, 0, 2, 0xAB, 0xFF, 0xD9,
        ];
        assert_eq!(
            strip_metadata_segments(jpeg),
            vec![
                0xFF, 0xD8, 0xFF, 0xDB, 0, 3, 9, 0xFF, 0xDA, 0, 2, 0xAB, 0xFF, 0xD9
            ]
        );
    }

    #[test]
    fn photo_sha256_hex_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hamming_distance(0, u64::MAX), 64);
        assert_eq!(hamming_distance(0b1011, 0b0001), 2);
        assert!(is_near_duplicate(0, 0x3FF));
        assert!(!is_near_duplicate(0, 0x7FF));
    }

    #[test]
    fn photo_error_codes_are_stable_and_messages_indonesian() {
        let e = PhotoError::Corrupt { detail: "x".into() };
        assert_eq!(e.code(), "PHOTO_CORRUPT");
        assert_eq!(
            e.staff_message(),
            "Foto tidak dapat dibaca. Silakan ambil foto ulang."
        );
        assert_eq!(
            PhotoError::NearlyUniform { stddev: 1.0 }.code(),
            "PHOTO_NEARLY_UNIFORM"
        );
    }
}
