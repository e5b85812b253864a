"""Render the app icon for every platform's installer from one picture.

The source is ``resources/icons/qsim.svg`` (or ``.png``) when the app ships
one, else ``packaging/qsim.svg``. Writes into OUTDIR:

* ``qsim.png``  256x256, the Linux desktop icon (hicolor/256x256/apps);
* ``qsim.ico``  Windows (PNG-compressed entries 16-256, Vista and later);
* ``qsim.icns`` macOS (PNG-compressed entries 128-512).

Usage: ``python packaging/make_icons.py OUTDIR``. Needs only PySide6.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def source_icon() -> Path:
    for p in (
        ROOT / "resources" / "icons" / "qsim.svg",
        ROOT / "resources" / "icons" / "qsim.png",
        ROOT / "packaging" / "qsim.svg",
    ):
        if p.is_file():
            return p
    raise FileNotFoundError("no app icon found")


def render(src: Path, size: int) -> bytes:
    """The icon at ``size`` x ``size`` pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter

    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    if src.suffix == ".svg":
        from PySide6.QtSvg import QSvgRenderer

        renderer = QSvgRenderer(str(src))
        if not renderer.isValid():
            raise ValueError(f"{src}: not a valid SVG")
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(p)
        p.end()
    else:
        img = QImage(str(src)).scaled(
            size,
            size,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    buf.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico whose entries are PNG images."""
    head = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, png in sorted(pngs.items()):
        dim = 0 if size >= 256 else size  # 0 means 256 in the directory entry
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return head + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns whose entries are PNG images."""
    kinds = {128: b"ic07", 256: b"ic08", 512: b"ic09"}
    body = b"".join(
        kinds[s] + struct.pack(">I", 8 + len(png)) + png
        for s, png in sorted(pngs.items())
        if s in kinds
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])
    src = source_icon()
    pngs = {s: render(src, s) for s in (16, 32, 48, 128, 256, 512)}
    (out / "qsim.png").write_bytes(pngs[256])
    (out / "qsim.ico").write_bytes(ico({s: pngs[s] for s in (16, 32, 48, 256)}))
    (out / "qsim.icns").write_bytes(icns(pngs))
    print(f"icons from {src.relative_to(ROOT)} -> {out}")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
