#!/usr/bin/env bash
# Build qsim.app and a drag-to-Applications .dmg on macOS (run from anywhere):
#
#   dist/qsim.app                             the app (Contents/MacOS/qsim)
#   dist/qsim-<version>-macos-<arch>.dmg      what students download
#
# The app is ad-hoc signed by PyInstaller, not notarized: the first time, a
# student opens it with right-click > Open. With a Developer ID, sign and
# notarize dist/qsim.app before the hdiutil step (codesign --deep --options
# runtime, then xcrun notarytool submit --wait, xcrun stapler staple).
# Environment: PYTHON (default python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}

"$PY" -m pip install -q -e '.[package]'
VERSION=$("$PY" -c 'import qsim; print(qsim.__version__)')
ARCH=$(uname -m)

"$PY" packaging/make_icons.py build/icons
QSIM_ICON_DIR="$ROOT/build/icons" "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/qsim.spec

# the app must work before it is shipped
dist/qsim.app/Contents/MacOS/qsim --self-test

STAGE=build/dmg
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp -R dist/qsim.app "$STAGE/"
ln -s /Applications "$STAGE/Applications"
DMG="dist/qsim-$VERSION-macos-$ARCH.dmg"
rm -f "$DMG"
hdiutil create -volname "qsim $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
echo "built $DMG ($(du -h "$DMG" | cut -f1))"
