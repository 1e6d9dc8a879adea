#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (real PostgreSQL and Redis servers for the
# integration tests, Chromium for the web app's end-to-end tests), skipping those already installed;
# `apt-get update` runs only when something is missing. Idempotent: safe to run on every CI start.
# Packages given as arguments replace that list (the demo needs no Chromium).
set -euo pipefail

if [ $# -gt 0 ]; then PACKAGES=("$@"); else PACKAGES=(postgresql redis-server chromium); fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${PACKAGES[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-system-deps: installing them needs root; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
