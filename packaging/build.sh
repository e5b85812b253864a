#!/usr/bin/env bash
# Build qsim's Linux packages (run from anywhere; `make package` calls this):
#
#   dist/qsim/                                 the one-folder app (run dist/qsim/qsim)
#   dist/qsim-<version>-linux-<arch>.tar.gz    unpack anywhere, run qsim/qsim
#   dist/qsim_<version>_<debarch>.deb          /opt/qsim, /usr/bin/qsim, menu entry, icon
#   dist/build-info.json                       version, build time, sizes
#
# The version is read from the installed package's metadata (pyproject.toml's
# [project] version), never written here. PyInstaller comes from the
# `package` extra and is installed into the venv when missing (`make setup`
# installs it already).
#
# Environment: PYTHON (default .venv/bin/python), SKIP_DEB=1 to skip the .deb,
# NO_INSTALL=1 to stop instead of installing what is missing (the tests: they
# download nothing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-$ROOT/.venv/bin/python}
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
t0=$(date +%s.%N)

say() { printf '\n== %s\n' "$*"; }
# one line on stderr saying what is missing and how to get it, then stop
die() { echo "build.sh: $*" >&2; exit 1; }

# --- 1. PyInstaller, and qsim's metadata matching pyproject.toml -------------
declared=$(sed -n 's/^version *= *"\(.*\)"/\1/p' pyproject.toml | head -n1)
installed=$("$PY" -c 'from importlib.metadata import version; print(version("qsim"))' 2>/dev/null || true)
if ! "$PY" -c 'import PyInstaller' 2>/dev/null || [ "$installed" != "$declared" ]; then
    [ "${NO_INSTALL:-0}" != 1 ] || die "PyInstaller or qsim $declared is not installed in $PY: run \`make setup\` (pip install -e '.[dev,package]')"
    say "installing PyInstaller and qsim (editable) into $("$PY" -c 'import sys; print(sys.prefix)')"
    "$PY" -m pip install -q -e '.[package]'
fi
# What PyInstaller needs from the system on Linux, checked before it starts so
# that a failure names its cause (the Makefile's `debs` installs both).
command -v objdump >/dev/null || die "PyInstaller needs objdump: apt-get install -y binutils"
"$PY" -c 'from PyInstaller.depend.bindepend import get_python_library_path as f; f()' 2>/dev/null \
    || die "PyInstaller needs this Python as a shared library ($("$PY" -c 'import sys; print(
    "apt-get install -y libpython%d.%d" % sys.version_info[:2] if sys.base_prefix == "/usr"
    else sys.base_prefix + " has none: use a Python built with --enable-shared")'))"
VERSION=$("$PY" -c 'import qsim; print(qsim.__version__)')
ARCH=$(uname -m)
DEBARCH=$(dpkg --print-architecture 2>/dev/null || echo "$ARCH")
say "qsim $VERSION for linux-$ARCH"

# --- 2. icons, then the one-folder bundle -----------------------------------
"$PY" packaging/make_icons.py build/icons
say "PyInstaller (one folder)"
QSIM_ICON_DIR="$ROOT/build/icons" "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/qsim.spec
t_bundle=$(date +%s.%N)

# --- 3. the .tar.gz ---------------------------------------------------------
TARBALL="dist/qsim-$VERSION-linux-$ARCH.tar.gz"
say "$TARBALL"
tar -C dist -czf "$TARBALL" qsim

# --- 4. the .deb ------------------------------------------------------------
DEB="dist/qsim_${VERSION}_${DEBARCH}.deb"
rm -f "$DEB"
if [ "${SKIP_DEB:-0}" != 1 ]; then
    say "$DEB"
    STAGE="build/deb/qsim_${VERSION}_${DEBARCH}"
    rm -rf "$STAGE"
    mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
        "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/doc/qsim"
    cp -a dist/qsim "$STAGE/opt/qsim"
    ln -s /opt/qsim/qsim "$STAGE/usr/bin/qsim"
    install -m 644 packaging/linux/qsim.desktop packaging/linux/qsim-self-test.desktop \
        "$STAGE/usr/share/applications/"
    install -m 644 build/icons/qsim.png "$STAGE/usr/share/icons/hicolor/256x256/apps/qsim.png"
    printf 'qsim %s\nLicense: MIT\n' "$VERSION" >"$STAGE/usr/share/doc/qsim/copyright"
    size_kb=$(du -sk "$STAGE" | cut -f1)
    # the bundle's binaries were linked against this machine's glibc
    glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
    sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$DEBARCH/" -e "s/@SIZE@/$size_kb/" \
        -e "s/@GLIBC@/$glibc/" packaging/linux/control.in >"$STAGE/DEBIAN/control"
    # menu and icon caches are refreshed by dpkg triggers (desktop-file-utils,
    # hicolor-icon-theme): no maintainer scripts needed, and `dpkg -r` removes
    # every file listed here
    dpkg-deb --root-owner-group -Zxz -z1 --build "$STAGE" "$DEB" >/dev/null
fi
t_end=$(date +%s.%N)

# --- 5. what we made --------------------------------------------------------
"$PY" - "$VERSION" "$t0" "$t_bundle" "$t_end" "$TARBALL" "$DEB" <<'EOF'
import json, os, sys
from pathlib import Path

version, t0, t_bundle, t_end, tarball, deb = sys.argv[1:]
bundle = sum(f.stat().st_size for f in Path("dist/qsim").rglob("*") if f.is_file() and not f.is_symlink())
info = {
    "version": version,
    "started_at": round(float(t0), 3),
    "bundle_seconds": round(float(t_bundle) - float(t0), 1),
    "total_seconds": round(float(t_end) - float(t0), 1),
    "bundle_mb": round(bundle / 1e6, 1),
    "tar_gz": tarball,
    "tar_gz_mb": round(os.path.getsize(tarball) / 1e6, 1),
    "deb": deb if os.path.exists(deb) else None,
    "deb_mb": round(os.path.getsize(deb) / 1e6, 1) if os.path.exists(deb) else None,
}
Path("dist/build-info.json").write_text(json.dumps(info, indent=2) + "\n")
print()
for k, v in info.items():
    print(f"  {k:15} {v}")
EOF
