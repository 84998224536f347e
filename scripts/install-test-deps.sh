#!/usr/bin/env bash
# Installs the system packages the test suite needs, when they are missing: Debian's Chromium for
# the browser test (the tests never download a browser of their own; CHROMIUM_PATH may name another
# Chromium or Chrome build instead) and Debian's redis-server for the redis driver's tests, which
# start their own on a free port (REDIS_SERVER may name another build).
set -euo pipefail

packages=()
if ! { [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; } && [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium)
fi
if ! { [ -n "${REDIS_SERVER:-}" ] && [ -x "$REDIS_SERVER" ]; } && ! command -v redis-server >/dev/null 2>&1; then
  packages+=(redis-server)
fi
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: ${packages[*]} missing and apt-get is not available; install them and put them on PATH (chromium, redis-server)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-test-deps: installing ${packages[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
