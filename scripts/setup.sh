#!/usr/bin/env bash
# Installs what building and testing Hadir needs, idempotently:
#   - nasm: libjpeg-turbo's x86 SIMD (the mozjpeg crate) is assembled with it;
#   - libjna-java: JNA for the Kotlin tests of the generated bindings;
#   - clang, llvm, libc6-dev-arm64-cross and the aarch64-linux-android and
#     armv7-linux-androideabi targets: the Android type checks (scripts/check-android.sh);
#   - gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf, their libc headers, qemu-user and
#     the aarch64/armv7 Linux targets: the rules crate's tests on Arm under emulation
#     (scripts/test-arm.sh);
#   - kotlin-compiler (npm) into .tools/: kotlinc for those tests;
#   - python3-cryptography and python3-pil: the independent Python client;
#   - a venv target/py-xlsx with openpyxl (PyPI): the real reader of the recap's XLSX
#     (tests/python/read_xlsx.py, server/tests/recap_export.rs);
#   - rustfmt and clippy components.
set -euo pipefail
cd "$(dirname "$0")/.."
need_apt=()
command -v nasm >/dev/null 2>&1 || need_apt+=(nasm)
[ -f /usr/share/java/jna.jar ] || need_apt+=(libjna-java)
if [ "${1:-}" != "--minimal" ]; then
  command -v clang >/dev/null 2>&1 || need_apt+=(clang)
  command -v llvm-ar >/dev/null 2>&1 || need_apt+=(llvm)
  [ -d /usr/aarch64-linux-gnu/include ] || need_apt+=(libc6-dev-arm64-cross)
  [ -d /usr/arm-linux-gnueabihf/include ] || need_apt+=(libc6-dev-armhf-cross)
  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need_apt+=(gcc-aarch64-linux-gnu)
  command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || need_apt+=(gcc-arm-linux-gnueabihf)
  command -v qemu-aarch64 >/dev/null 2>&1 && command -v qemu-arm >/dev/null 2>&1 || need_apt+=(qemu-user)
fi
# The independent Python client (tests/python/run.sh): Debian's python3-cryptography and
# python3-pil for /usr/bin/python3 (the client uses nothing else beyond the standard
# library).
if [ "${1:-}" != "--minimal" ] && ! /usr/bin/python3 -c 'import cryptography, PIL' 2>/dev/null; then
  need_apt+=(python3-cryptography python3-pil)
fi
# The venv for openpyxl below: Debian splits `python3 -m venv` (ensurepip) into
# python3-venv.
if ! target/py-xlsx/bin/python -c 'import openpyxl' 2>/dev/null \
  && ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then
  need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}"
fi
# The recap export's reader (tests/python/read_xlsx.py): openpyxl pinned, in its own venv
# so the system Python stays Debian's.
if ! target/py-xlsx/bin/python -c 'import openpyxl' 2>/dev/null; then
  rm -rf target/py-xlsx  # a venv left half-made by an interrupted run
  python3 -m venv target/py-xlsx
  target/py-xlsx/bin/pip install --quiet --disable-pip-version-check openpyxl==3.1.5
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
[ "${1:-}" = "--minimal" ] || rustup target add aarch64-linux-android armv7-linux-androideabi \
  aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf >/dev/null
if [ "${1:-}" != "--minimal" ] && [ -d bindings ] && [ ! -x .tools/node_modules/kotlin-compiler/bin/kotlinc ]; then
  npm install --silent --no-audit --no-fund --prefix .tools kotlin-compiler@2.4.20
fi
# The kiosk browser test (tests/kiosk, issue #13): Debian's chromium, and
# playwright-core (drives it; never `playwright install`), jsqr and pngjs (read the QR
# from a screenshot) at the versions pinned in tests/kiosk/package.json, into .tools/.
if [ "${1:-}" != "--minimal" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium
  fi
  for pkg in playwright-core@1.65.1 jsqr@1.4.0 pngjs@7.0.0; do
    if [ "$(node -p "try{require('./.tools/node_modules/${pkg%@*}/package.json').version}catch(e){''}")" != "${pkg##*@}" ]; then
      npm install --silent --no-audit --no-fund --prefix .tools \
        playwright-core@1.65.1 jsqr@1.4.0 pngjs@7.0.0
      break
    fi
  done
fi
echo "setup: done"
