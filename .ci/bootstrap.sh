#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh Debian/Ubuntu machine for hilnas:
#   1. Debian packages for the Cortex-M cross-build and the emulated boards;
#   2. .venv with the pinned Python dependencies (see .ci/requirements.lock).
# A second run only checks what is there and returns in seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

APT_PACKAGES="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm cmake make clang libclang-rt-14-dev"
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

# Ask dpkg, package by package, so that a package added to the list above is
# installed on machines that already have the older set.
missing=""
for pkg in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
need_apt=0
[ -z "$missing" ] || need_apt=1
if [ "$need_apt" = 1 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "[bootstrap] installing Debian packages:$missing"
  $sudo apt-get update -qq
  # --no-install-recommends: otherwise qemu pulls GUI/EFI packages (~3.7 GB).
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

stamp=.venv/.hilnas-stamp
want=$(cat .ci/requirements.lock .ci/bootstrap.sh pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[bootstrap] creating .venv with pinned dependencies"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip=".venv/bin/python -m pip --disable-pip-version-check -q"
# torch first and exactly: the CPU wheel is on local disk; any unpinned
# 'torch' requirement resolved later would otherwise pull the CUDA build.
$pip install torch==2.13.0
$pip install -r .ci/requirements.lock
# onnx2tf 1.29 and tf-keras pin TF 2.19 / numpy 1.26 / full 'tensorflow';
# they work with the locked set, so they go in without their pins.
$pip install --no-deps onnx2tf==1.29.24 tf-keras==2.21.0
$pip install --no-deps --no-build-isolation -e .
echo "$want" > "$stamp"
