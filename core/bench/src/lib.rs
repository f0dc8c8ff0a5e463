//! hadir-core-bench: nothing but the benchmarks of hadir-core, in `benches/` (see
//! docs/PERFORMANCE.md for how each is run and what it measured). They live in a crate of
//! their own so that criterion is not a dev-dependency of hadir-core: CI builds that
//! crate's tests for aarch64 and armv7 under qemu, and criterion's dependencies (clap,
//! regex...) would only make those builds longer.
