#!/usr/bin/env bash
# Debian packages the project needs outside the virtualenv. Idempotent: installs only what
# is missing and runs `apt-get update` at most once. Called by the Makefile.
#   fonts-noto-core  Noto Sans + Noto Sans Devanagari: the PDF receipts (Hindi, ₹)
#   poppler-utils    pdftoppm: the receipt test renders a Hindi page to an image
#   chromium         headless browser for the agent console's browser test (Playwright)
#   zbar-tools       zbarimg: the receipt test reads the QR code back off the page
set -euo pipefail

PACKAGES=(fonts-noto-core poppler-utils chromium zbar-tools)

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: not a Debian/Ubuntu system; install these yourself: ${missing[*]}" >&2
    exit 1
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo)
    else
        echo "install-system-deps: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-system-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
