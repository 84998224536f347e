#!/usr/bin/env bash
# Installs the system packages the test suite needs, when they are missing: Debian's Chromium for
# the browser test (the tests never download a browser of their own). CHROMIUM_PATH may name
# another Chromium or Chrome build instead.
set -euo pipefail

if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
  exit 0
fi
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: chromium is missing and apt-get is not available; install Chromium and put it on PATH as 'chromium'" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-test-deps: installing chromium with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
