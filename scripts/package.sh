#!/usr/bin/env bash
# Builds the Debian package scimsync_<version>_<arch>.deb with dpkg-buildpackage and
# debhelper (debian/), from a clean copy of the tree in build-deb/ (the files git
# tracks plus new, not ignored ones; no build directories), and copies it to OUTDIR
# (default: the repository root). Then: sudo apt install ./scimsync_*.deb
#
#   scripts/package.sh [OUTDIR]
#
# The version is the CMake project version (CMakeLists.txt); debian/changelog must
# name the same one, or this fails before building. The package's files come from
# the CMake install() rules (debian/rules lists none).
#
# Fast by default: DEB_BUILD_OPTIONS="nocheck parallel=2" unless set (the unit tests
# run in scripts/test.sh; set DEB_BUILD_OPTIONS=parallel=2 to run them here too), and
# ccache when it is installed (kept where ccache keeps it outside the build:
# debhelper points HOME elsewhere). Needs debhelper, dpkg-dev, fakeroot and the
# build dependencies (scripts/install-deps.sh installs them).
set -euo pipefail
OUT="$(realpath -m "${1:-$(dirname "$0")/..}")"
cd "$(dirname "$0")/.."

version=$(sed -n -E 's/^project\(scimsync VERSION ([0-9][0-9.]*)[ )].*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo "package.sh: no project(scimsync VERSION x.y.z) in CMakeLists.txt" >&2; exit 1; }
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ "$version" != "$deb_version" ]; then
  echo "package.sh: CMakeLists.txt says version $version, debian/changelog says $deb_version;" \
       "add a debian/changelog entry for $version (dch -v $version)" >&2
  exit 1
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb="scimsync_${version}_${arch}.deb"

# A clean copy at a fixed path, so ccache finds the objects of the previous run.
WORK=build-deb
SRC="$WORK/scimsync-$version"
rm -rf "$WORK"
mkdir -p "$SRC"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      # deleted but still in the index: gone; node_modules: a local install (or link)
      [ -e "$f" ] && [[ "$f" != */node_modules* ]] && printf '%s\0' "$f"
    done | tar --null -T - -cf - | tar -xf - -C "$SRC"
else
  tar --exclude='./build*' --exclude=node_modules --exclude='./scimsync_*.deb' -cf - . |
    tar -xf - -C "$SRC"
fi

export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS-nocheck parallel=2}"
profiles=()
case " $DEB_BUILD_OPTIONS " in *" nocheck "*) profiles=(-Pnocheck) ;; esac
if command -v ccache >/dev/null 2>&1; then
  CCACHE_DIR="${CCACHE_DIR:-$(ccache -k cache_dir)}"
  export CCACHE_DIR
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
fi

start=$SECONDS
(cd "$SRC" && dpkg-buildpackage -b -us -uc "${profiles[@]}") >"$WORK/build.log" 2>&1 || {
  tail -n 40 "$WORK/build.log"
  echo "package.sh: dpkg-buildpackage failed; full log: $WORK/build.log" >&2
  exit 1
}
[ -f "$WORK/$deb" ] || { echo "package.sh: dpkg-buildpackage made no $WORK/$deb" >&2; exit 1; }
mkdir -p "$OUT"
cp "$WORK/$deb" "$OUT/"
echo "built $OUT/$deb in $((SECONDS - start))s (log: $WORK/build.log)"
