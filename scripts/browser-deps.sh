#!/usr/bin/env bash
# Debian's Chromium, its driver and a font with Persian glyphs, for the sandbox browser test
# (no browser download at test time). Idempotent and instant when already installed; installs
# with apt-get as root (or via sudo) on a fresh Debian machine.
set -euo pipefail
FONTS="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
have_fonts() { for f in $FONTS; do [ -f "$f" ] || return 1; done; }
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && have_fonts; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "browser-deps: chromium/chromedriver missing and not root;" \
             "run: apt-get install -y chromium chromium-driver fonts-dejavu-core fonts-noto-color-emoji" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-driver fonts-dejavu-core \
    fonts-noto-color-emoji >/dev/null
/usr/bin/chromium --version
/usr/bin/chromedriver --version
