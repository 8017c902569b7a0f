#!/usr/bin/env bash
# Installs what scimsync needs to build and test on Debian 12, then the SCIM test
# server's npm packages (from the committed lockfile). Safe to run again: apt-get
# runs only when a package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config g++ make ca-certificates curl openssl
  libcurl4-openssl-dev rapidjson-dev libldap-dev libsqlitecpp-dev libsqlite3-dev doctest-dev
  libtomlplusplus-dev libsystemd-dev libcli11-dev
  slapd ldap-utils
)
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # slapd must not ask questions or configure a system directory: the tests run
  # their own throwaway slapd.
  echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO -E apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

(cd tests/scim_server && npm ci --no-audit --no-fund --loglevel=error)
