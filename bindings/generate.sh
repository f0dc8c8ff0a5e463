#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings (Swift: source, C header and modulemap) from
# the built hadir-ffi library, with the bindgen built from the same uniffi version.
# Usage: bindings/generate.sh [OUT_DIR]   (default: target/bindings)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/bindings}"
# The whole workspace, as `cargo test --workspace` builds it: the same feature
# unification, so after the tests this reuses every artifact instead of rebuilding
# hadir-ffi's dependencies with hadir-ffi's features alone.
cargo build --workspace --locked
case "$(uname -s)" in
  Darwin) lib="target/debug/libhadir_ffi.dylib" ;;   # a developer's Mac building the app
  *) lib="target/debug/libhadir_ffi.so" ;;
esac
# The bindgen is its own small workspace (bindings/uniffi-bindgen) with its own target
# dir; it must be the very uniffi version the library was built with.
pin() { grep -o 'uniffi = {[^}]*version = "=[0-9.]*"' "$1" | grep -o '=[0-9.]*'; }
[ "$(pin Cargo.toml)" = "$(pin bindings/uniffi-bindgen/Cargo.toml)" ] || {
  echo "uniffi pins differ: Cargo.toml $(pin Cargo.toml), bindgen $(pin bindings/uniffi-bindgen/Cargo.toml)" >&2
  exit 1
}
cargo build -q --locked --manifest-path bindings/uniffi-bindgen/Cargo.toml --target-dir target/bindgen
for language in kotlin swift; do
  rm -rf "$out/$language"
  target/bindgen/debug/uniffi-bindgen \
    generate --no-format --config uniffi.toml "$lib" --language "$language" --out-dir "$out/$language"
done
# The Swift package's sources (bindings/swift/Package.swift) come from the same output.
pkg=bindings/swift/Sources
rm -rf "$pkg" && mkdir -p "$pkg/HadirCoreFFI" "$pkg/HadirCore"
cp "$out/swift/HadirCoreFFI.h" "$pkg/HadirCoreFFI/"
cp "$out/swift/HadirCoreFFI.modulemap" "$pkg/HadirCoreFFI/module.modulemap"
cp "$out/swift/HadirCore.swift" "$pkg/HadirCore/"
echo "bindings in $out: $(find "$out" -type f | wc -l) files"
