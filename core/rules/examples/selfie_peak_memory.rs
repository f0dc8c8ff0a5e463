//! Peak memory that `normalise_selfie` adds on a camera JPEG (Linux only: reads VmHWM,
//! the resident-set high-water mark, from /proc/self/status before and after).
//!
//! ```sh
//! cargo bench -p hadir-core --bench selfie -- --generate-inputs   # writes the inputs
//! cargo run --release -p hadir-core --example selfie_peak_memory [FILE]
//! ```
//!
//! FILE defaults to `<target>/bench-inputs/selfie-12mp.jpg` (or
//! `$HADIR_BENCH_INPUTS/selfie-12mp.jpg`). The input is read into memory and VmHWM
//! recorded before the call, so the figure is what the normalisation itself adds.

use std::path::PathBuf;

use hadir_core::photo::{SelfieLimits, normalise_selfie};

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM line")
}

fn default_input() -> PathBuf {
    let dir = match std::env::var_os("HADIR_BENCH_INPUTS") {
        Some(dir) => PathBuf::from(dir),
        // <target>/release/examples/selfie_peak_memory  →  <target>/bench-inputs
        None => std::env::current_exe()
            .expect("current exe")
            .ancestors()
            .nth(3)
            .expect("exe lives in <target>/<profile>/examples")
            .join("bench-inputs"),
    };
    dir.join("selfie-12mp.jpg")
}

fn main() {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(default_input);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); run `cargo bench -p hadir-core --bench selfie -- \
             --generate-inputs` first",
            path.display()
        )
    });
    let before = vm_hwm_kib();
    let evidence = normalise_selfie(&bytes, &SelfieLimits::default()).expect("normalise");
    let after = vm_hwm_kib();
    println!(
        "input {} ({} bytes) -> {}x{} ({} bytes)",
        path.display(),
        bytes.len(),
        evidence.width,
        evidence.height,
        evidence.jpeg.len()
    );
    println!(
        "VmHWM before {before} KiB, after {after} KiB, added peak {:.1} MiB",
        (after.saturating_sub(before)) as f64 / 1024.0
    );
}
