#!/usr/bin/env bash
# Debian packages MotCua needs outside Python (stack-notes §1.1, §8):
#   - WeasyPrint's libraries; without libharfbuzz-subset0 every PDF silently takes ~4x longer;
#   - Liberation Serif, the Times-compatible face with full Vietnamese coverage;
#   - poppler-utils (pdftotext, pdftoppm) for the tests that look at PDFs.
# Installs what is missing when it can (root + apt-get), otherwise stops and names them.
# Usage: scripts/system-deps.sh [extra-package ...]   (e.g. chromium for the browser tests)
set -euo pipefail

packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2 poppler-utils "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

cat >&2 <<MSG
MotCua needs these Debian packages, which are not installed:
    ${missing[*]}
Install them as root, then run make again:
    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}
MSG
exit 1
