#!/usr/bin/env bash
# Installs what the application itself needs on a fresh Debian machine, then the project into .venv:
#   libmagic (format detection), Tesseract with Chinese Simplified/Traditional and English data
#   plus its headers (tesserocr is built against them), antiword (legacy .doc).
# Usage: scripts/install-app-deps.sh [EXTRA_APT_PACKAGE...] [-- PIP_EXTRA]   (used by start.sh and test deps)
set -euo pipefail
cd "$(dirname "$0")/.."

extra_pip=""
need_apt=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then extra_pip=${2:-}; break; fi
  dpkg -s "$1" >/dev/null 2>&1 || need_apt+=("$1"); shift
done
for pkg in libmagic1 tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-eng \
           libtesseract-dev libleptonica-dev pkg-config antiword python3-venv; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".${extra_pip:+[$extra_pip]}"
