#!/usr/bin/env bash
# Installs what scimsync needs to build and test on Debian 12 (GCC for the normal
# build, clang for the sanitizer and fuzz stage, debhelper and lintian for the
# Debian package), then the SCIM test
# server's npm packages (from the committed lockfile). Safe to run again: apt-get
# runs only when a package is missing, npm only when the lockfile changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config g++ make ca-certificates curl openssl
  libcurl4-openssl-dev rapidjson-dev libldap-dev libsqlitecpp-dev libsqlite3-dev doctest-dev
  libtomlplusplus-dev libsystemd-dev libcli11-dev
  slapd ldap-utils
  # Samba's AD domain controller, a throwaway one per test file (tests/integration/ad.test.js)
  samba samba-ad-dc samba-ad-provision
  systemd   # systemd-analyze, for the unit checks of the integration tests
  # scripts/sanitize.sh: clang with the ASan/UBSan/libFuzzer runtimes, llvm-symbolizer
  # for readable sanitizer stack traces
  clang libclang-rt-14-dev llvm
  # scripts/package.sh and tests/package/: the Debian package build and its checks
  # (ccache makes a repeated package build cheap)
  debhelper dpkg-dev fakeroot lintian ccache
)
# Node 20 may come from elsewhere (nodesource, nvm): the Debian packages only when
# there is no node at all.
if ! command -v node >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo -E); fi
  export DEBIAN_FRONTEND=noninteractive
  # slapd must not ask questions or configure a system directory: the tests run
  # their own throwaway slapd.
  echo "slapd slapd/no_configuration boolean true" | "${SUDO[@]}" debconf-set-selections
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci wipes and reinstalls node_modules; skip it when node_modules was installed
# from this very lockfile (npm keeps a copy in node_modules/.package-lock.json).
cd tests/scim_server
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
   && node -e 'require("express"); require("scimmy"); require("scimmy-routers");
                require.resolve("better-auth"); require.resolve("@better-auth/scim")' 2>/dev/null; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
