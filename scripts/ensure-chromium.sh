#!/usr/bin/env bash
# The dashboard test drives Debian's Chromium (never a browser download). Install it when missing
# and we are root on Debian (CI and these machines); otherwise say what to do.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian's chromium package for the dashboard test..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "ensure-chromium: /usr/bin/chromium is missing. Install Debian's chromium package (sudo apt-get install chromium); the dashboard test needs it." >&2
exit 1
