"""Write a scenario back as TOML (File > Save as): ``parse_scenario`` of the
text gives back an equal scenario (tested for every built-in lesson)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from qsim.model.scenario import Scenario

SECTIONS = ("queues", "producers", "consumers", "knobs")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        if "\n" in v:
            body = v.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
            return f'"""\n{body}"""'
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


def _table(obj: Any, skip_defaults: bool = True) -> list[str]:
    out = []
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        default = f.default if f.default is not dataclasses.MISSING else None
        if skip_defaults and default is not None and v == default and f.name != "id":
            continue
        out.append(f"{f.name} = {_toml_value(v)}")
    return out


def dump_scenario(sc: Scenario) -> str:
    """TOML text that ``parse_scenario`` turns back into an equal scenario."""
    lines = ["[scenario]", f"id = {_toml_value(sc.id)}", f"title = {_toml_value(sc.title)}"]
    if sc.summary:
        lines.append(f"summary = {_toml_value(sc.summary)}")
    if sc.lesson:
        lines.append(f"lesson = {_toml_value(sc.lesson)}")
    for name in ("run", "main"):
        body = _table(getattr(sc, name))
        if body:
            lines += ["", f"[{name}]", *body]
    for name in SECTIONS:
        for row in getattr(sc, name):
            lines += ["", f"[[{name}]]", *_table(row)]
    return "\n".join(lines) + "\n"


def save_scenario(sc: Scenario, path: str | Path) -> None:
    Path(path).write_text(dump_scenario(sc), encoding="utf-8")
