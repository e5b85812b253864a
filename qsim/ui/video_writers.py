"""Video files from rendered frames: animated GIF (Pillow) and MP4 (ffmpeg).

Frames are RGB bytes of a fixed size, written one at a time, so an export
of any length holds one frame in memory. A GIF is written frame by frame
with Pillow's GIF encoder (its ``save_all`` would merge identical frames and
keep them all in memory); each frame gets its own 256-colour palette, and
its delay alternates between whole hundredths of a second so that the clock
stays exact (30 fps: 3, 3, 4 hundredths...). MP4 goes through the ffmpeg
binary that the optional ``imageio-ffmpeg`` package ships (``pip install
'qsim[video]'``): it is a GPL build of about 170 MB, so it is not a default
dependency and not in the packaged app, which exports GIF.

Every writer writes to a temporary name beside the target and puts the file
in place only when it is complete; ``abort`` removes it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path
from typing import Any, Protocol

GIF_MAX_FPS = 50  # GIF delays are whole hundredths of a second (browsers clamp below 2)
MP4_MISSING = (
    "MP4 needs the optional video encoder: pip install 'qsim[video]' "
    "(imageio-ffmpeg, which brings an ffmpeg of about 170 MB). "
    "GIF needs nothing more: give the output a .gif name."
)
FORMATS = (".gif", ".mp4")


class VideoError(Exception):
    """A video that cannot be written: one line saying why."""


class VideoWriter(Protocol):
    path: Path
    frames: int

    def write(self, rgb: bytes) -> None: ...

    def close(self) -> Path: ...

    def abort(self) -> None: ...


def _part(path: Path) -> Path:
    """A temporary name beside ``path`` with the same extension (ffmpeg reads it)."""
    return path.with_name(f".{path.stem}.part{path.suffix}")


def gif_delay_cs(k: int, fps: int) -> int:
    """Hundredths of a second frame ``k`` stays: they add up to exactly k/fps."""
    return round((k + 1) * 100 / fps) - round(k * 100 / fps)


class GifWriter:
    """An animated GIF, looping, written frame by frame (see the module docstring)."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int) -> None:
        if not 1 <= fps <= GIF_MAX_FPS:
            raise VideoError(
                f"a GIF plays at most {GIF_MAX_FPS} frames a second (its delays are whole "
                f"hundredths of a second); got --fps {fps}: use less, or an .mp4"
            )
        try:  # a plain import: PyInstaller bundles Pillow for the packaged app's GIFs
            from PIL import GifImagePlugin, Image
        except ImportError:
            raise VideoError("GIF export needs Pillow: pip install pillow") from None
        self._image: Any = Image
        self._gif: Any = GifImagePlugin
        self.path, self.size, self.fps = path, size, fps
        self.frames = 0
        self._part = _part(path)
        try:
            self._f = open(self._part, "wb")  # noqa: SIM115 - closed in close/abort
        except OSError as e:
            raise VideoError(f"{path}: cannot write it: {e.strerror or e}") from None

    def write(self, rgb: bytes) -> None:
        Image = self._image
        im = Image.frombytes("RGB", self.size, rgb)
        # median cut keeps the UI's near-white greys apart (fast octree merged 240-255)
        frame = im.quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        delay = gif_delay_cs(self.frames, self.fps) * 10  # ms, a whole number of cs
        if not self.frames:
            header, _used = self._gif.getheader(frame.copy(), None, {"loop": 0, "duration": 1})
            self._f.write(b"".join(header))
        data = self._gif.getdata(frame, (0, 0), duration=delay, include_color_table=True)
        self._f.write(b"".join(data))
        self.frames += 1

    def close(self) -> Path:
        self._f.write(b";")  # the GIF trailer
        self._f.close()
        os.replace(self._part, self.path)
        return self.path

    def abort(self) -> None:
        self._f.close()
        self._part.unlink(missing_ok=True)


class Mp4Writer:
    """An H.264 MP4 through imageio-ffmpeg's ffmpeg (an optional extra)."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int) -> None:
        ffmpeg = mp4_encoder()
        if size[0] % 2 or size[1] % 2:
            raise VideoError(f"an MP4 needs an even width and height, got {size[0]}x{size[1]}")
        self.path, self.size, self.fps = path, size, fps
        self.frames = 0
        self._part = _part(path)
        self._gen = ffmpeg.write_frames(
            str(self._part),
            size,
            fps=fps,
            codec="libx264",
            quality=None,
            macro_block_size=2,
            ffmpeg_log_level="error",
            output_params=["-crf", "20", "-preset", "veryfast", "-movflags", "+faststart"],
        )
        try:
            self._gen.send(None)  # starts ffmpeg
        except (OSError, RuntimeError) as e:
            raise VideoError(f"{path}: ffmpeg did not start: {e}") from None

    def write(self, rgb: bytes) -> None:
        try:
            self._gen.send(rgb)
        except (OSError, RuntimeError) as e:  # ffmpeg died (a full disk...)
            self.abort()
            raise VideoError(f"{self.path}: ffmpeg stopped: {e}") from None
        self.frames += 1

    def close(self) -> Path:
        try:
            self._gen.close()  # waits for ffmpeg to finish the file
        except (OSError, RuntimeError) as e:
            self._part.unlink(missing_ok=True)
            raise VideoError(f"{self.path}: ffmpeg failed: {e}") from None
        os.replace(self._part, self.path)
        return self.path

    def abort(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):  # it is thrown away anyway
            self._gen.close()
        self._part.unlink(missing_ok=True)


def mp4_encoder() -> Any:
    """The ``imageio_ffmpeg`` module, or ``VideoError`` saying how to get it.

    Imported by name so that PyInstaller does not pull the 170 MB ffmpeg into
    the packaged app."""
    try:
        return importlib.import_module("imageio_ffmpeg")
    except ImportError:
        raise VideoError(MP4_MISSING) from None


def have_mp4() -> bool:
    try:
        mp4_encoder()
    except VideoError:
        return False
    return True


def check_output(path: str | Path) -> Path:
    """The output path if qsim can write that kind of video; ``VideoError`` otherwise."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise VideoError(f"{p}: the name must end in .mp4 or .gif")
    if p.suffix.lower() == ".mp4":
        mp4_encoder()
    if not p.parent.is_dir():
        raise VideoError(f"{p}: its folder {p.parent} does not exist")
    return p


def open_writer(path: str | Path, size: tuple[int, int], fps: int) -> VideoWriter:
    """A writer for ``path`` by its extension (.gif or .mp4)."""
    p = check_output(path)
    if p.suffix.lower() == ".gif":
        return GifWriter(p, size, fps)
    return Mp4Writer(p, size, fps)
