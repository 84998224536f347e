#!/usr/bin/env bash
# Installs the system packages the test suite needs, when they are missing: Debian's Chromium for
# the browser test (the tests never download a browser of their own; CHROMIUM_PATH may name another
# Chromium or Chrome build instead), Debian's redis-server for the redis driver's tests, which
# start their own on a free port (REDIS_SERVER may name another build), and Debian's nginx-light
# for the reverse-proxy test, which starts its own nginx with the shipped config (NGINX may name
# another nginx binary). Debian puts nginx in /usr/sbin, off a normal user's PATH: looked for there too.
set -euo pipefail

packages=()
if ! { [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; } && [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium)
fi
if ! { [ -n "${REDIS_SERVER:-}" ] && [ -x "$REDIS_SERVER" ]; } && ! command -v redis-server >/dev/null 2>&1; then
  packages+=(redis-server)
fi
if ! { [ -n "${NGINX:-}" ] && [ -x "$NGINX" ]; } && ! command -v nginx >/dev/null 2>&1 \
  && [ ! -x /usr/sbin/nginx ]; then
  packages+=(nginx-light)
fi
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: ${packages[*]} missing and apt-get is not available; install them and put them on PATH (chromium, redis-server, nginx)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-test-deps: installing ${packages[*]} with apt-get"
$sudo apt-get update -qq
# A release without nginx-light (newer ones fold its modules into nginx) gets nginx itself.
if [[ " ${packages[*]} " == *" nginx-light "* ]] && ! apt-cache show nginx-light >/dev/null 2>&1; then
  packages=("${packages[@]/#nginx-light/nginx}")
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
