"""Where in the user's code a process is: its current line, and names.

The agent does not trace every line (``sys.settrace`` on 3.11 would cost a
flat-out program most of its speed). The line a process is *blocked or
parked on* is exact: the patched call walks its own stack to the user's
frame at that moment. While it runs, the control thread samples the main
thread's frame a few times a second (``sys._current_frames``), which costs
the program nothing.

User code is the traced script's folder; the standard library, site
packages and qsim itself are not.
"""

from __future__ import annotations

import dis
import os
import sys
from types import CodeType, FrameType

_user_dir = ""
_user_cache: dict[CodeType, bool] = {}
_names: dict[tuple[CodeType, int], str] = {}
#: modules whose queues and processes serve the library, not the program
_INTERNAL_MODULES = ("multiprocessing.pool", "multiprocessing.managers", "concurrent.futures")


def _module(f: FrameType) -> str:
    return str(f.f_globals.get("__name__", ""))


def _skipped(mod: str) -> bool:
    """Frames between the user's call and ours: qsim's agent, multiprocessing's context."""
    return mod.startswith("qsim.agent") or mod == "multiprocessing.context"


def set_user_dir(folder: str) -> None:
    global _user_dir
    _user_dir = os.path.join(os.path.abspath(folder), "")
    _user_cache.clear()


def is_user(code: CodeType) -> bool:
    hit = _user_cache.get(code)
    if hit is None:
        f = code.co_filename
        hit = _user_cache[code] = bool(_user_dir) and f.startswith(_user_dir)
    return hit


#: code objects no walk goes past: ``BaseProcess._bootstrap`` (a forked
#: child's frames above it are its parent's, from the ``p.start()`` line)
boundary: set[CodeType] = set()


def user_frame(frame: FrameType | None) -> FrameType | None:
    """The innermost frame of user code at or above ``frame``."""
    while frame is not None and not is_user(frame.f_code):
        if frame.f_code in boundary:
            return None
        frame = frame.f_back
    return frame


def current_line(depth: int = 1) -> tuple[str, int] | None:
    """``(file, line)`` of the user's code that called us (walks up the stack)."""
    f = user_frame(sys._getframe(depth))
    return (f.f_code.co_filename, f.f_lineno) if f is not None else None


def line_of(frame: FrameType | None) -> tuple[str, int] | None:
    f = user_frame(frame)
    return (f.f_code.co_filename, f.f_lineno) if f is not None else None


def maker(depth: int = 1, skip: tuple[str, ...] = ()) -> str:
    """Who made a queue, pipe or process: ``user``, ``internal`` (a Pool, a
    manager, an executor made it) or ``multiprocessing`` (for its own use, as
    a Queue's own pipe). Frames of the agent, of ``multiprocessing.context``
    and of the modules in ``skip`` are looked through."""
    f: FrameType | None = sys._getframe(depth)
    while f is not None and (_skipped(_module(f)) or _module(f) in skip):
        f = f.f_back
    if f is None:
        return "user"
    mod = _module(f)
    if mod.startswith(_INTERNAL_MODULES):
        return "internal"
    return "multiprocessing" if mod.startswith("multiprocessing.") else "user"


def assigned_name(depth: int = 1, skip: tuple[str, ...] = ()) -> str:
    """The variable the object being made is assigned to (``q = Queue()``: ``q``;
    a Pool's ``self._inqueue = ...``: ``_inqueue``).

    Reads the bytecode after the call in the first frame that is not the
    agent's, ``multiprocessing.context``'s or in ``skip``; '' when that is not
    a plain assignment.
    """
    f: FrameType | None = sys._getframe(depth)
    while f is not None and (_skipped(_module(f)) or _module(f) in skip):
        f = f.f_back
    if f is None:
        return ""
    key = (f.f_code, f.f_lasti)
    name = _names.get(key)
    if name is None:
        name = _names[key] = _store_after(f.f_code, f.f_lasti)
    return name


def _store_after(code: CodeType, lasti: int) -> str:
    names: list[str] = []
    unpack = 0
    for ins in dis.get_instructions(code):
        if ins.offset <= lasti:
            continue
        op = ins.opname
        if op in ("CACHE", "EXTENDED_ARG", "NOP", "COPY", "SWAP"):
            continue
        if op == "UNPACK_SEQUENCE" and not names:
            unpack = int(ins.arg or 0)
            continue
        if op.startswith("LOAD_") and op != "LOAD_CONST":
            continue  # the object of ``self.q = ...`` (STORE_ATTR follows)
        if op.startswith("STORE_") and op != "STORE_SUBSCR":
            val = ins.argval
            names.extend(val if isinstance(val, tuple) else [str(val)])
            if len(names) >= max(1, unpack):
                break
            continue
        break
    return "/".join(names[: max(1, unpack)]) if names else ""
