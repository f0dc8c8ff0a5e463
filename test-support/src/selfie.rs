//! Real JPEG bytes for selfies: camera-like pictures made from a seed, and the
//! normalised selfie a phone sends (through the core's own `normalise_selfie`).

use hadir_core::photo::{SelfieEvidence, SelfieLimits, normalise_selfie};

/// Xorshift64: reproducible pseudo-random numbers for picture content.
struct Xorshift(u64);

impl Xorshift {
    fn seeded(seed: u64, multiplier: u64) -> Xorshift {
        Xorshift(seed.wrapping_mul(multiplier) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A camera-like 800×600 JPEG (q90): a smooth wave pattern and a bright blob chosen by
/// `pattern`, plus mild sensor noise chosen by `noise`. The same pattern with other
/// noise is a near-duplicate picture; other patterns are far apart in dHash.
pub fn pattern_jpeg(pattern: u64, noise: u64) -> Vec<u8> {
    pattern_jpeg_sized(800, 600, pattern, noise)
}

/// [`pattern_jpeg`] at `width`×`height` (the blob scales with the width).
pub fn pattern_jpeg_sized(width: u32, height: u32, pattern: u64, noise: u64) -> Vec<u8> {
    let (w, h) = (width, height);
    let mut rng = Xorshift::seeded(noise, 0x9E37_79B9_7F4A_7C15);
    let mut p = Xorshift::seeded(pattern, 0xD1B5_4A32_D192_ED03);
    let fx = 1.0 + (p.next() % 7) as f64;
    let fy = 1.0 + (p.next() % 5) as f64;
    let phase = (p.next() % 628) as f64 / 100.0;
    let cx = (p.next() % u64::from(w)) as f64;
    let cy = (p.next() % u64::from(h)) as f64;
    let blob_radius = 150.0 * f64::from(w) / 800.0;
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (f64::from(x) / f64::from(w), f64::from(y) / f64::from(h));
            let wave = ((xf * fx * std::f64::consts::TAU + phase).sin()
                * (yf * fy * std::f64::consts::TAU).cos())
                * 70.0;
            let d = ((f64::from(x) - cx).powi(2) + (f64::from(y) - cy).powi(2)).sqrt();
            let blob = if d < blob_radius { 60.0 } else { 0.0 };
            let n = (rng.next() % 9) as f64 - 4.0;
            let base = 120.0 + wave + blob + n;
            for c in 0..3 {
                pixels.push((base + f64::from(c) * 10.0).clamp(0.0, 255.0) as u8);
            }
        }
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(&pixels, w, h, image::ExtendedColorType::Rgb8)
        .expect("encodes");
    out
}

/// A normalised selfie of [`pattern_jpeg`]`(pattern, noise)`, as the phone sends it.
pub fn selfie(pattern: u64, noise: u64) -> SelfieEvidence {
    normalise_selfie(&pattern_jpeg(pattern, noise), &SelfieLimits::default())
        .expect("a valid selfie")
}

/// A camera-like portrait JPEG (1280×960, baseline, q90): a face-like oval over a
/// background of blocks whose tones, layout and gradient all depend on `seed`, with
/// sensor noise. Different seeds give perceptually different pictures (far apart in
/// dHash); the same seed gives the same bytes.
pub fn portrait_jpeg(seed: u64) -> Vec<u8> {
    let (w, h) = (1280u32, 960u32);
    let mut rng = Xorshift(
        seed.wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
            | 1,
    );
    // A 6×4 grid of background blocks with independent tones.
    let blocks: Vec<f32> = (0..24).map(|_| 40.0 + (rng.next() % 180) as f32).collect();
    let cx = 320.0 + (rng.next() % 640) as f32;
    let cy = 280.0 + (rng.next() % 400) as f32;
    let (rx, ry) = (
        150.0 + (rng.next() % 120) as f32,
        200.0 + (rng.next() % 120) as f32,
    );
    let tone = 140.0 + (rng.next() % 80) as f32;
    let slope = (rng.next() % 200) as f32 / 100.0 - 1.0;
    let mut img = image::RgbImage::new(w, h);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32, y as f32);
        let block = blocks[(y * 4 / h * 6 + x * 6 / w) as usize];
        let bg = block + 30.0 * slope * (fx / w as f32 - 0.5);
        let d = ((fx - cx) / rx).powi(2) + ((fy - cy) / ry).powi(2);
        let base = if d < 1.0 { tone - 40.0 * d } else { bg };
        let noise = (rng.next() % 21) as f32 - 10.0;
        let v = |k: f32| (base * k + noise).clamp(0.0, 255.0) as u8;
        *p = image::Rgb([v(1.0), v(0.85), v(0.7)]);
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .expect("encodes");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_picture() {
        assert_eq!(portrait_jpeg(3), portrait_jpeg(3));
        let (a, b) = (
            normalise_selfie(&portrait_jpeg(1), &SelfieLimits::default()).unwrap(),
            normalise_selfie(&portrait_jpeg(2), &SelfieLimits::default()).unwrap(),
        );
        assert!((a.perceptual_hash ^ b.perceptual_hash).count_ones() > 10);
        let (near, far) = (selfie(5, 1), selfie(5, 2));
        assert_ne!(near.sha256, far.sha256, "other noise, other bytes");
        assert!((near.perceptual_hash ^ far.perceptual_hash).count_ones() <= 4);
    }
}
