#!/usr/bin/env bash
# Builds the Rust core (crate hadir-ffi) for the phone and generates its Kotlin bindings.
#
#   android/build-rust.sh                  both steps
#   android/build-rust.sh --bindings-only  only the Kotlin bindings, from a host debug
#                                          build (what :shell's compile runs; no NDK)
#   android/build-rust.sh --libs-only      only the Android libraries (what :app's preBuild runs)
#
# Libraries: `cargo ndk` (cargo install cargo-ndk) builds `-p hadir-ffi --release` for
# arm64-v8a and armeabi-v7a into app/src/main/jniLibs/<abi>/libhadir_ffi.so, 16 KB-page
# aligned as Android 15 requires: NDK r28+ links that way by default; for an older NDK
# the linker flag `-z max-page-size=16384` is passed. Each library's LOAD segments are
# then checked with the NDK's llvm-readelf. Needs the Android NDK (ANDROID_NDK_HOME, or
# ANDROID_HOME/ndk/<version>) and `rustup target add aarch64-linux-android
# armv7-linux-androideabi`.
#
# Bindings: the repository's bindings/generate.sh (uniffi's JVM flavour: the `android`
# flag is off in uniffi.toml) into shell/build/generated/uniffi/kotlin.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# The API level the libraries are linked against: the app's minSdk (app/build.gradle.kts).
min_sdk=24
abis=(arm64-v8a armeabi-v7a)

build_libs=true
build_bindings=true
case "${1:-}" in
  "") ;;
  --bindings-only) build_libs=false ;;
  --libs-only) build_bindings=false ;;
  *) echo "usage: $0 [--bindings-only|--libs-only]" >&2; exit 2 ;;
esac

fail() { echo "build-rust.sh: $*" >&2; exit 1; }

# The NDK to use: ANDROID_NDK_HOME / ANDROID_NDK_ROOT, else the newest under the SDK.
find_ndk() {
  local ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
  if [ -z "$ndk" ]; then
    local sdk="${ANDROID_HOME:-${ANDROID_SDK_ROOT:-}}"
    [ -n "$sdk" ] && [ -d "$sdk/ndk" ] || return 1
    ndk="$(find "$sdk/ndk" -mindepth 1 -maxdepth 1 -type d | sort -V | tail -n 1)"
  fi
  [ -n "$ndk" ] && [ -f "$ndk/source.properties" ] || return 1
  printf '%s\n' "$ndk"
}

# The NDK's major version from source.properties ("Pkg.Revision = 28.0.13004108").
ndk_major() {
  sed -n 's/^Pkg\.Revision *= *\([0-9][0-9]*\)\..*/\1/p' "$1/source.properties"
}

# Fails unless every LOAD segment of the library is aligned to at least 16 KB.
check_alignment() {
  local readelf="$1" lib="$2" align
  local aligns
  aligns="$("$readelf" -lW "$lib" | awk '$1 == "LOAD" { print $NF }')"
  [ -n "$aligns" ] || fail "no LOAD segments in $lib"
  for align in $aligns; do
    [ $((align)) -ge 16384 ] || fail "$lib: LOAD segment aligned to $align, not 16 KB"
  done
}

if $build_libs; then
  command -v cargo-ndk >/dev/null || fail "cargo-ndk missing: cargo install cargo-ndk"
  ndk="$(find_ndk)" || fail "Android NDK not found: set ANDROID_NDK_HOME (NDK r28+ recommended)"
  major="$(ndk_major "$ndk")"
  [ -n "$major" ] || fail "cannot read the NDK version from $ndk/source.properties"
  if [ "$major" -lt 28 ]; then
    # Older NDKs link with 4 KB pages: ask the linker for 16 KB, per target so host
    # build scripts are left alone.
    page="-C link-arg=-Wl,-z,max-page-size=16384"
    export CARGO_TARGET_AARCH64_LINUX_ANDROID_RUSTFLAGS="${CARGO_TARGET_AARCH64_LINUX_ANDROID_RUSTFLAGS:-} $page"
    export CARGO_TARGET_ARMV7_LINUX_ANDROIDEABI_RUSTFLAGS="${CARGO_TARGET_ARMV7_LINUX_ANDROIDEABI_RUSTFLAGS:-} $page"
  fi
  jni="$here/app/src/main/jniLibs"
  targets=()
  for abi in "${abis[@]}"; do targets+=(-t "$abi"); done
  (
    cd "$repo"
    ANDROID_NDK_HOME="$ndk" cargo ndk "${targets[@]}" --platform "$min_sdk" -o "$jni" \
      build -p hadir-ffi --release --locked
  )
  # The NDK's llvm-readelf is a symlink to llvm-readobj: look for it by path.
  readelf=""
  for candidate in "$ndk"/toolchains/llvm/prebuilt/*/bin/llvm-readelf; do
    [ -x "$candidate" ] && readelf="$candidate" && break
  done
  [ -n "$readelf" ] || fail "llvm-readelf not found in $ndk"
  for abi in "${abis[@]}"; do
    lib="$jni/$abi/libhadir_ffi.so"
    [ -f "$lib" ] || fail "$lib was not built"
    check_alignment "$readelf" "$lib"
  done
  echo "native libraries (NDK $major, 16 KB aligned): ${abis[*]} in $jni"
fi

if $build_bindings; then
  "$repo/bindings/generate.sh" "$here/shell/build/generated/uniffi" >/dev/null
  echo "Kotlin bindings in $here/shell/build/generated/uniffi/kotlin"
fi
