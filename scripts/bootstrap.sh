#!/usr/bin/env bash
# Sets up everything the project needs on a fresh Debian machine, idempotently:
# Debian packages (Pango for WeasyPrint, Japanese fonts, poppler, Chromium for browser tests),
# a virtual environment in .venv and the project with its dev extras.
# Used by both README commands; safe to run again (it only installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0   # WeasyPrint's text layout
  fonts-ipaexfont-gothic fonts-ipaexfont-mincho          # Japanese fonts embedded in the PDFs (TrueType: fast subsetting)
  poppler-utils                                          # pdftoppm / pdftotext for looking at reports
  ${PLANNER_EXTRA_DEBIAN_PACKAGES:-}
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> virtual environment (.venv)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> Python packages"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  rm -f .venv/.installed-* && touch "$stamp"
fi
