//! Selfie normalisation speed on camera-like inputs.
//!
//! Inputs (written once to `<target>/bench-inputs/`, or to `$HADIR_BENCH_INPUTS`):
//! `selfie-12mp.jpg` (4000×3000) and `selfie-1mp.jpg` (1280×960), both baseline q92 4:2:0
//! with sensor-like noise and an Exif APP1 segment carrying Orientation 6 (a phone held
//! upright), as a phone camera writes them.
//!
//! ```sh
//! cargo bench -p hadir-core-bench --bench selfie                       # criterion
//! cargo bench -p hadir-core-bench --bench selfie -- --generate-inputs  # only write the inputs
//! cargo bench -p hadir-core-bench --bench selfie -- --table 30         # min/median of 30 runs
//! ```
//!
//! `--table N` prints `rust <input> <min ms> <median ms> <output bytes>` lines in the same
//! format as `scripts/pillow_selfie.py`, which `scripts/bench-selfie.sh` interleaves.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::Criterion;
use hadir_core::photo::{SelfieLimits, normalise_selfie};

/// (file name, width, height)
const INPUTS: [(&str, u32, u32); 2] = [
    ("selfie-12mp.jpg", 4000, 3000),
    ("selfie-1mp.jpg", 1280, 960),
];

fn inputs_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HADIR_BENCH_INPUTS") {
        return PathBuf::from(dir);
    }
    // <target>/release/deps/selfie-<hash>  →  <target>/bench-inputs
    let exe = std::env::current_exe().expect("current exe");
    exe.ancestors()
        .nth(3)
        .expect("exe lives in <target>/<profile>/deps")
        .join("bench-inputs")
}

/// xorshift64*: deterministic noise, identical on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A camera-like picture: smooth lighting, a face and shoulders, a bright window, and
/// per-pixel noise of about ±7 levels (standard deviation; what a phone sensor leaves at
/// indoor ISO). Stored sideways, as a phone held upright stores it: the scene is upright
/// once EXIF Orientation 6 (90° clockwise) is applied.
fn camera_like(w: u32, h: u32) -> Vec<u8> {
    let mut rng = Rng(0x5EED_CAFE);
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    let inside = |u: f32, v: f32, cx: f32, cy: f32, rx: f32, ry: f32| {
        let (a, b) = ((u - cx) / rx, (v - cy) / ry);
        a * a + b * b < 1.0
    };
    for y in 0..h {
        // Upright (displayed) coordinates: stored (x, y) is shown at (h-1-y, x).
        let u = (h - 1 - y) as f32 / h as f32;
        for x in 0..w {
            let v = x as f32 / w as f32;
            let light = 70.0 + 110.0 * (0.6 * u + 0.4 * (1.0 - v));
            let mut px = [light * 0.92, light, light * 1.06];
            if (0.08..0.3).contains(&u) && (0.1..0.45).contains(&v) {
                px = [238.0, 236.0, 226.0];
            }
            if inside(u, v, 0.5, 0.36, 0.22, 0.19) {
                px = [52.0, 38.0, 30.0];
            }
            if inside(u, v, 0.5, 0.45, 0.19, 0.2) {
                let shade = 1.0 - 0.3 * (u - 0.33) / 0.34;
                px = [208.0 * shade, 162.0 * shade, 132.0 * shade];
                if inside(u, v, 0.43, 0.41, 0.035, 0.015) || inside(u, v, 0.57, 0.41, 0.035, 0.015)
                {
                    px = [35.0, 30.0, 30.0];
                }
                if inside(u, v, 0.5, 0.54, 0.07, 0.012) {
                    px = [150.0, 62.0, 60.0];
                }
            }
            if v > 0.7 && inside(u, v, 0.5, 0.98, 0.38, 0.3) {
                px = [40.0, 62.0, 112.0];
            }
            let r = rng.next();
            for (i, c) in px.into_iter().enumerate() {
                let n = ((r >> (i * 16)) & 0xFF) as i32 - ((r >> (i * 16 + 8)) & 0xFF) as i32;
                out.push((c as i32 + n / 14).clamp(0, 255) as u8);
            }
        }
    }
    out
}

/// Exif APP1 with Orientation 6 plus a Make string, as a phone writes it.
fn exif_orientation_6() -> Vec<u8> {
    let make = b"HadirBenchPhone\0";
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&0x010Fu16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&(make.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&(8u32 + 2 + 24 + 4).to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&[6, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(make);
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&tiff);
    seg
}

fn camera_jpeg(w: u32, h: u32) -> Vec<u8> {
    let rgb = camera_like(w, h);
    let mut comp = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    comp.set_fastest_defaults(); // baseline, standard Huffman tables, like a camera
    comp.set_quality(92.0);
    comp.set_size(w as usize, h as usize);
    comp.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
    let mut started = comp.start_compress(Vec::new()).expect("start");
    started.write_scanlines(&rgb).expect("write");
    let jpeg = started.finish().expect("finish");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&exif_orientation_6());
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Reads the inputs, writing any that are missing.
fn ensure_inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::create_dir_all(dir).expect("create bench-inputs dir");
    INPUTS
        .iter()
        .map(|&(name, w, h)| {
            let path = dir.join(name);
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(_) => {
                    let bytes = camera_jpeg(w, h);
                    std::fs::write(&path, &bytes).expect("write input");
                    eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
                    bytes
                }
            };
            (name.trim_end_matches(".jpg").to_string(), bytes)
        })
        .collect()
}

fn table(inputs: &[(String, Vec<u8>)], runs: usize) {
    let limits = SelfieLimits::default();
    for (name, bytes) in inputs {
        for _ in 0..3 {
            black_box(normalise_selfie(bytes, &limits).expect("normalise"));
        }
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        let mut out_len = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let ev = normalise_selfie(black_box(bytes), &limits).expect("normalise");
            times.push(start.elapsed());
            out_len = ev.jpeg.len();
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "rust {name} {:.2} {:.2} {out_len}",
            ms(times[0]),
            ms(times[times.len() / 2])
        );
    }
}

fn bench(c: &mut Criterion, inputs: &[(String, Vec<u8>)]) {
    let limits = SelfieLimits::default();
    let mut group = c.benchmark_group("normalise_selfie");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(4));
    for (name, bytes) in inputs {
        group.bench_function(name.as_str(), |b| {
            b.iter(|| normalise_selfie(black_box(bytes), &limits).expect("normalise"))
        });
    }
    group.finish();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = inputs_dir();
    let inputs = ensure_inputs(&dir);
    if args.iter().any(|a| a == "--generate-inputs") {
        for (name, bytes) in &inputs {
            println!("{} {name}.jpg {} bytes", dir.display(), bytes.len());
        }
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--table") {
        let runs = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(30);
        table(&inputs, runs);
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion, &inputs);
    criterion.final_summary();
}
