#!/usr/bin/env bash
# The Debian package (issue 14), end to end: scripts/package.sh builds it, lintian
# finds no error, its contents, conffiles and dependencies are what README.md and
# docs/systemd.md promise, and it installs and purges cleanly:
#
#   - as root on a disposable machine (CI set, apt-get present, no scimsync package,
#     /etc/scimsync or /var/lib/scimsync there before): apt-get install -y ./the.deb,
#     scimsync --version, systemd-analyze verify of the installed units, units not
#     enabled (not started), apt-get remove keeps the config and state, apt-get purge
#     removes /etc/scimsync and /var/lib/scimsync;
#   - otherwise: dpkg -x into a temporary root, the same checks on the extracted
#     files, and the postrm's purge run against that root (DPKG_ROOT).
#
# Prints how long the package build took. SCIMSYNC_PACKAGE_INSTALL=0 forces the
# dpkg -x way.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
ok() { echo "   ok  $*"; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

version=$(sed -n -E 's/^project\(scimsync VERSION ([0-9][0-9.]*)[ )].*/\1/p' CMakeLists.txt)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
DEB="$TMP/scimsync_${version}_${arch}.deb"

# --- build -------------------------------------------------------------------------
start=$SECONDS
scripts/package.sh "$TMP" >"$TMP/package.out" 2>&1 || { cat "$TMP/package.out"; fail "scripts/package.sh"; }
build_secs=$((SECONDS - start))
[ -f "$DEB" ] || fail "scripts/package.sh made no $(basename "$DEB")"
ok "scripts/package.sh built $(basename "$DEB") in ${build_secs}s"

# A debian/changelog that disagrees with CMakeLists.txt stops the build.
mkdir -p "$TMP/skew/debian" "$TMP/skew/scripts"
cp scripts/package.sh "$TMP/skew/scripts/"
cp CMakeLists.txt "$TMP/skew/"
sed "1s/(${version//./\\.})/(${version}.1)/" debian/changelog >"$TMP/skew/debian/changelog"
if (cd "$TMP/skew" && GIT_DIR=/nonexistent scripts/package.sh "$TMP/skew-out") >"$TMP/skew.out" 2>&1; then
  fail "package.sh built with debian/changelog at ${version}.1 and CMake at $version"
fi
grep -q "CMakeLists.txt says version $version, debian/changelog says ${version}.1" "$TMP/skew.out" ||
  fail "unexpected message for a version mismatch: $(cat "$TMP/skew.out")"
ok "a debian/changelog version other than CMake's ($version) stops package.sh"

# --- lintian -----------------------------------------------------------------------
start=$SECONDS
lintian --display-info --tag-display-limit 0 "$DEB" >"$TMP/lintian.out" 2>"$TMP/lintian.err" || true
if grep -q '^E: ' "$TMP/lintian.out"; then
  cat "$TMP/lintian.out"
  fail "lintian reports errors"
fi
# Lintian's only remark on stderr should be that it runs as root (in CI it does).
grep -v 'running with root privileges' "$TMP/lintian.err" >&2 || true
ok "lintian: no error; $(grep -c '^W: ' "$TMP/lintian.out" || true) warnings," \
  "$(grep -c '^I: ' "$TMP/lintian.out" || true) info ($((SECONDS - start))s)"
sed -n 's/^\([WIP]\): /     \1: /p' "$TMP/lintian.out"

# --- contents ----------------------------------------------------------------------
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^$' | sort >"$TMP/files"
must_have=(
  /usr/bin/scimsync
  /lib/systemd/system/scimsync.service
  /lib/systemd/system/scimsync@.service
  /usr/share/man/man1/scimsync.1.gz
  /etc/scimsync/scimsync.toml
  /usr/share/doc/scimsync/copyright
  /usr/share/doc/scimsync/changelog.gz
  /usr/share/doc/scimsync/examples/scimsync.toml
  /usr/share/doc/scimsync/examples/ldap-openldap.toml
  /usr/share/doc/scimsync/examples/ldap-ad.toml
  /usr/share/doc/scimsync/examples/demo/scimsync.toml
  /usr/share/doc/scimsync/examples/demo/people.csv
)
# Every doc of docs/ and the README, compressed or not (dh_compress: over 4 kB).
for f in README.md docs/*.md; do must_have+=("/usr/share/doc/scimsync/$(basename "$f")"); done
for f in "${must_have[@]}"; do
  grep -qxF "$f" "$TMP/files" || grep -qxF "$f.gz" "$TMP/files" || fail "the package lacks $f"
done
# Nothing else: only these places (and their parent directories).
stray=$(grep -v -E '^/(usr/bin/scimsync|lib/systemd/system/scimsync@?\.service|usr/share/man/man1/scimsync\.1\.gz|etc/scimsync(/scimsync\.toml)?|usr/share/doc/scimsync(/.*)?)$' "$TMP/files" |
  grep -v -x -E '/|/usr|/usr/bin|/lib|/lib/systemd|/lib/systemd/system|/etc|/usr/share|/usr/share/man|/usr/share/man/man1|/usr/share/doc' || true)
[ -z "$stray" ] || fail "files outside the expected places: $stray"
ok "contents: $(grep -c . "$TMP/files") entries, the ${#must_have[@]} expected files, nothing elsewhere"

# --- control: conffiles, dependencies, maintainer scripts ----------------------------
dpkg-deb -e "$DEB" "$TMP/control"
[ "$(cat "$TMP/control/conffiles")" = /etc/scimsync/scimsync.toml ] ||
  fail "conffiles is not exactly /etc/scimsync/scimsync.toml: $(cat "$TMP/control/conffiles")"
ok "conffiles: /etc/scimsync/scimsync.toml"
depends=$(dpkg-deb -f "$DEB" Depends)
for lib in libc6 libstdc++6 libcurl4 libldap-2.5-0 libsqlite3-0 libsystemd0; do
  [[ ", $depends" == *", $lib "* || ", $depends" == *", $lib,"* || ", $depends" == *"| $lib "* ]] ||
    fail "Depends lacks $lib (\${shlibs:Depends}): $depends"
done
ok "Depends (computed): $depends"
# Not enabled, not started on install; stopped on removal (checked by running them
# below where systemd runs; here what the scripts say).
! grep -qE 'deb-systemd-invoke (start|restart)' "$TMP/control/postinst" || fail "postinst starts a unit"
# debhelper's --no-enable snippet re-enables only a unit that dpkg installed and the
# administrator had enabled (debian-installed guard); the enabling one has no guard.
[ "$(grep -c 'deb-systemd-helper --quiet was-enabled' "$TMP/control/postinst")" -ge 1 ] &&
  [ "$(grep -c 'deb-systemd-helper --quiet was-enabled' "$TMP/control/postinst")" = \
    "$(grep -c 'if deb-systemd-helper debian-installed' "$TMP/control/postinst")" ] ||
  fail "postinst enables the units on install"
grep -q "deb-systemd-invoke stop scimsync.service 'scimsync@\*.service'" "$TMP/control/prerm" ||
  fail "prerm does not stop the units on removal"
ok "maintainer scripts: no enable, no start on install; prerm stops scimsync.service and scimsync@*"

# --- checks on installed files (below $1: / or the dpkg -x root) ----------------------
check_installed() {
  local root="$1" bin="$1/usr/bin/scimsync" out
  out=$("$bin" --version) || fail "$bin --version failed"
  [ "$out" = "scimsync $version" ] || fail "scimsync --version says '$out', CMake says $version"
  ok "scimsync --version: $out"
  grep -qx 'ExecStart=/usr/bin/scimsync --config /etc/scimsync/scimsync.toml daemon' \
    "$root/lib/systemd/system/scimsync.service" || fail "the installed unit does not start /usr/bin/scimsync"
  cmp -s "$root/etc/scimsync/scimsync.toml" examples/scimsync.toml ||
    fail "/etc/scimsync/scimsync.toml is not examples/scimsync.toml"
  [ "$(stat -c %a "$root/etc/scimsync/scimsync.toml")" = 644 ] || fail "/etc/scimsync/scimsync.toml is not 0644"
  # The units as installed, with the binary at its place ($root may not be /).
  local units="$TMP/units"
  mkdir -p "$units"
  for u in scimsync.service scimsync@.service; do
    sed "s|/usr/bin/scimsync|$bin|g" "$root/lib/systemd/system/$u" >"$units/$u"
  done
  ln -sf scimsync@.service "$units/scimsync@acme.service"
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    [ -z "${CI:-}" ] || fail "systemd-analyze missing"
    echo "   skip systemd-analyze verify: not installed"
    return
  fi
  local u r
  for u in scimsync.service scimsync@acme.service; do
    r=0
    out=$(systemd-analyze verify --man=no "$units/$u" 2>&1) || r=$?
    # The caveat of tests/integration/systemd.test.js: some containers cannot run it.
    if [ $r != 0 ] && grep -qE 'Failed to (connect|initialize)|Operation not permitted' <<<"$out"; then
      echo "   skip systemd-analyze verify: not usable here: $out"
      return
    fi
    [ $r = 0 ] && [ -z "$out" ] || fail "systemd-analyze verify $u: $out"
  done
  ok "systemd-analyze verify: both installed units, no warning"
}

# --- install ------------------------------------------------------------------------
real_install=1
why=""
if [ "${SCIMSYNC_PACKAGE_INSTALL:-1}" = 0 ]; then real_install=0; why="SCIMSYNC_PACKAGE_INSTALL=0"
elif [ -z "${CI:-}" ] || [ "${CI:-}" = false ] || [ "${CI:-}" = 0 ]; then real_install=0; why="CI is not set"
elif [ "$(id -u)" != 0 ]; then real_install=0; why="not root"
elif ! command -v apt-get >/dev/null 2>&1; then real_install=0; why="no apt-get"
elif dpkg-query -W -f='${Status}' scimsync 2>/dev/null | grep -q installed; then
  real_install=0; why="a scimsync package is installed already"
elif [ -e /etc/scimsync ] || [ -e /var/lib/scimsync ] || [ -e /var/lib/private/scimsync ]; then
  real_install=0; why="/etc/scimsync or /var/lib/scimsync exists already"
fi

if [ $real_install = 1 ]; then
  echo "   installing for real (root, CI, a disposable machine): apt-get install ./$(basename "$DEB")"
  # Also on failure: none of these existed before (checked above), so the test owns them.
  cleanup_install() {
    apt-get purge -y -qq scimsync >/dev/null 2>&1 || true
    rm -rf /etc/scimsync /var/lib/scimsync /var/lib/private/scimsync "$TMP"
  }
  trap cleanup_install EXIT
  start=$SECONDS
  (cd "$TMP" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./scimsync_*.deb) >"$TMP/apt.out" 2>&1 ||
    { cat "$TMP/apt.out"; fail "apt-get install"; }
  ok "apt-get install ($((SECONDS - start))s)"
  [ "$(command -v scimsync)" = /usr/bin/scimsync ] || fail "scimsync is not /usr/bin/scimsync on PATH"
  check_installed /
  dpkg-query -W -f='${Conffiles}' scimsync | grep -q '^ /etc/scimsync/scimsync.toml ' ||
    fail "dpkg does not list /etc/scimsync/scimsync.toml as a conffile"
  # Not enabled: no link anywhere in /etc/systemd/system; systemctl agrees.
  links=$(find /etc/systemd/system -name 'scimsync*' 2>/dev/null || true)
  [ -z "$links" ] || fail "units enabled after install: $links"
  state=$(systemctl is-enabled scimsync.service 2>/dev/null || true)
  [ "$state" = disabled ] || fail "systemctl is-enabled scimsync.service: '$state', expected disabled"
  if [ -d /run/systemd/system ]; then
    [ "$(systemctl is-active scimsync.service || true)" != active ] || fail "scimsync.service started on install"
  fi
  ok "units installed, not enabled (systemctl is-enabled: $state), not started"

  # What a running service leaves: a token and the DynamicUser= state directory
  # (systemd keeps it in /var/lib/private/scimsync behind the /var/lib/scimsync link).
  install -m 0600 /dev/null /etc/scimsync/token
  install -d -m 0700 /var/lib/private
  install -d -m 0700 /var/lib/private/scimsync
  echo state >/var/lib/private/scimsync/state.db
  ln -s private/scimsync /var/lib/scimsync
  apt-get remove -y -qq scimsync >"$TMP/apt.out" 2>&1 || { cat "$TMP/apt.out"; fail "apt-get remove"; }
  [ ! -e /usr/bin/scimsync ] || fail "apt-get remove left /usr/bin/scimsync"
  [ -f /etc/scimsync/scimsync.toml ] && [ -f /etc/scimsync/token ] && [ -f /var/lib/scimsync/state.db ] ||
    fail "apt-get remove (not purge) removed the config or the state"
  ok "apt-get remove: binary gone, /etc/scimsync and /var/lib/scimsync kept"
  apt-get purge -y -qq scimsync >"$TMP/apt.out" 2>&1 || { cat "$TMP/apt.out"; fail "apt-get purge"; }
  for p in /etc/scimsync /var/lib/scimsync /var/lib/private/scimsync; do
    [ ! -e "$p" ] && [ ! -L "$p" ] || fail "apt-get purge left $p"
  done
  ! dpkg-query -W -f='${Status}' scimsync 2>/dev/null | grep -q 'installed\|config-files' ||
    fail "dpkg still knows scimsync after purge"
  ok "apt-get purge: /etc/scimsync, /var/lib/scimsync (and /var/lib/private/scimsync) removed"
else
  echo "   not installing for real ($why): dpkg -x into a temporary root"
  root="$TMP/root"
  dpkg-deb -x "$DEB" "$root"
  check_installed "$root"
  # The postrm's own purge step, run against the temporary root.
  mkdir -p "$root/var/lib/private/scimsync" "$root/etc/systemd/system/multi-user.target.wants"
  ln -s private/scimsync "$root/var/lib/scimsync"
  ln -s /lib/systemd/system/scimsync@.service "$root/etc/systemd/system/multi-user.target.wants/scimsync@acme.service"
  touch "$root/etc/scimsync/token"
  sed '/^#DEBHELPER#$/,$d; /^# Automatically added by dh_/,/^# End automatically added section/d' \
    "$TMP/control/postrm" >"$TMP/postrm-own"
  DPKG_ROOT="$root" sh "$TMP/postrm-own" remove
  [ -f "$root/etc/scimsync/token" ] && [ -L "$root/var/lib/scimsync" ] || fail "postrm remove removed config or state"
  DPKG_ROOT="$root" sh "$TMP/postrm-own" purge
  for p in etc/scimsync var/lib/scimsync var/lib/private/scimsync \
           etc/systemd/system/multi-user.target.wants/scimsync@acme.service; do
    [ ! -e "$root/$p" ] && [ ! -L "$root/$p" ] || fail "postrm purge left /$p"
  done
  ok "postrm: remove keeps /etc/scimsync and /var/lib/scimsync, purge removes them"
fi
echo "package_test: all checks passed (package build ${build_secs}s, whole test $((SECONDS))s)"
