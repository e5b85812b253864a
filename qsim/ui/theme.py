"""Colours and sizes for the light, dark and high-contrast (presentation) themes.

Actor states are told apart by colour AND by a text label and an icon glyph,
so nothing depends on telling colours apart. Token colours (one per producer,
or one per priority) come from the Okabe-Ito palette, which stays distinct for
the common colour-vision types, in an order where neighbours also differ in
lightness (CIE L*, given beside each colour), and a legend in the diagram says
what each colour means.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from qsim.model import state as S

#: Okabe-Ito: orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: producers on a light background: blue 46, orange 71, yellow 89, vermillion 54,
#: sky blue 70, bluish green 58, reddish purple 61 (L*): the first three are far apart
PRODUCERS_LIGHT = ("#0072B2", "#E69F00", "#F0E442", "#D55E00", "#56B4E9", "#009E73", "#CC79A7")
#: on a dark background the light hues lead: sky blue 70, vermillion 54, yellow 89, ...
PRODUCERS_DARK = ("#56B4E9", "#D55E00", "#F0E442", "#009E73", "#E69F00", "#CC79A7", "#0072B2")
#: priorities, most urgent first: vermillion 54, orange 71, yellow 89, sky blue 70,
#: blue 46 (hot is urgent); a scenario's priorities are spread over these by rank
PRIORITIES = ("#D55E00", "#E69F00", "#F0E442", "#56B4E9", "#0072B2")
#: the smallest text on screen, in pixels: at 1280x720, and presenting at 1920x1080
MIN_TEXT_PX = 11.0
MIN_TEXT_PX_PRESENTING = 18.0

#: state -> (short label, glyph) shown on each actor, whatever the colours
STATE_LABELS: dict[str, tuple[str, str]] = {
    S.STARTING: ("starting", "…"),
    S.IDLE: ("idle", "○"),
    S.WORKING: ("working", "⚙"),
    S.BLOCKED_PUT: ("blocked on put", "⛔"),
    S.WAITING_GET: ("waiting on get", "⏳"),
    S.JOIN_WAIT: ("waiting in join()", "⏳"),
    S.FINISHED: ("finished", "✔"),
    S.CRASHED: ("crashed", "✖"),
    "hung": ("hung", "⚠"),
    "paused": ("paused", "⏸"),
}


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    panel: str
    text: str
    muted: str
    queue_fill: str
    queue_border: str
    slot: str
    grid: str
    states: dict[str, str] = field(default_factory=dict)  # state -> fill colour
    producers: tuple[str, ...] = PRODUCERS_LIGHT
    priorities: tuple[str, ...] = PRIORITIES
    sentinel: str = "#000000"
    font_scale: float = 1.0
    token_scale: float = 1.0


_LIGHT_STATES = {
    S.STARTING: "#D9D9D9",
    S.IDLE: "#EDEDED",
    S.WORKING: "#8FD19E",
    S.BLOCKED_PUT: "#F4A3A3",
    S.WAITING_GET: "#A9CCF0",
    S.JOIN_WAIT: "#C9B3E6",
    S.FINISHED: "#FFFFFF",
    S.CRASHED: "#444444",
    "hung": "#F6C85F",
}
_DARK_STATES = {
    S.STARTING: "#4A4A4A",
    S.IDLE: "#3A3F47",
    S.WORKING: "#2E7D4F",
    S.BLOCKED_PUT: "#A83A3A",
    S.WAITING_GET: "#2D5F8F",
    S.JOIN_WAIT: "#5E4A8A",
    S.FINISHED: "#23272E",
    S.CRASHED: "#111111",
    "hung": "#9C7A1E",
}

LIGHT = Theme(
    name="light",
    background="#FAFAFA",
    panel="#FFFFFF",
    text="#1A1A1A",
    muted="#666666",
    queue_fill="#FFFFFF",
    queue_border="#333333",
    slot="#E6E6E6",
    grid="#DDDDDD",
    states=_LIGHT_STATES,
    sentinel="#1A1A1A",
)
DARK = Theme(
    name="dark",
    background="#1E2127",
    panel="#262A31",
    text="#EDEDED",
    muted="#A0A0A0",
    queue_fill="#2B3038",
    queue_border="#C8C8C8",
    slot="#3A404A",
    grid="#3A3F47",
    states=_DARK_STATES,
    producers=PRODUCERS_DARK,
    sentinel="#F5F5F5",
)
#: presentation mode: black on white, thicker, 1.5x fonts and tokens
HIGH_CONTRAST = replace(
    LIGHT,
    name="high-contrast",
    background="#FFFFFF",
    text="#000000",
    muted="#222222",
    queue_border="#000000",
    font_scale=1.5,
    token_scale=1.5,
)
THEMES = {t.name: t for t in (LIGHT, DARK, HIGH_CONTRAST)}


def priority_colours(theme: Theme, priorities: list[int]) -> dict[int, str]:
    """A colour per priority value, most urgent (lowest) first, spread over the
    palette by rank so that two priorities get the two most different colours."""
    levels = sorted(set(priorities))
    pal = theme.priorities
    if len(levels) <= 1:
        return {p: pal[0] for p in levels}
    if len(levels) > len(pal):  # more levels than colours: the legend tells them apart
        return {p: pal[k % len(pal)] for k, p in enumerate(levels)}
    last = len(pal) - 1
    return {p: pal[round(k * last / (len(levels) - 1))] for k, p in enumerate(levels)}


def presentation(theme: Theme) -> Theme:
    """The presentation variant of a theme: high contrast for light, scaled for dark."""
    if theme.name == "dark":
        return replace(theme, name="dark-presentation", font_scale=1.5, token_scale=1.5)
    return HIGH_CONTRAST


# ---------------------------------------------------------------- window chrome
#: accent (selection, focus) per theme: Okabe-Ito blue reads on light and dark
ACCENT = {"light": "#0072B2", "dark": "#56B4E9", "high-contrast": "#004C80"}


def accent(theme: Theme) -> str:
    return ACCENT.get(theme.name, ACCENT["dark" if is_dark(theme) else "light"])


def is_dark(theme: Theme) -> bool:
    return theme.name.startswith("dark")


def stylesheet(theme: Theme, base_pt: float = 10.0) -> str:
    """A small stylesheet for what the palette does not reach: the font size of
    the whole window (1.5x to present), the caption, alerts, dock titles."""
    scale = theme.font_scale
    return f"""
QWidget {{ font-size: {base_pt * scale:.1f}pt; }}
QLabel#caption {{
    color: {theme.text}; background: {theme.panel};
    border-top: 1px solid {theme.grid};
}}
QLabel#key_figure {{
    color: {theme.text}; background: {theme.panel};
    border-bottom: 1px solid {theme.grid};
}}
QLabel#caption[alert="true"] {{ color: #FFFFFF; background: #B3261E; }}
QLabel#run_state {{ font-weight: bold; padding: 0 6px; }}
QLabel#run_state[alert="true"] {{ color: #FFFFFF; background: #B3261E; }}
QLabel#knob_error {{ color: {"#FF8A80" if is_dark(theme) else "#B3261E"}; }}
QDockWidget::title {{ padding: 3px 6px; background: {theme.grid}; }}
QToolBar {{ spacing: 4px; }}
"""


def qt_palette(theme: Theme) -> object:
    """The ``QPalette`` of a theme (typed loosely so this module stays Qt-free)."""
    from PySide6.QtGui import QColor, QPalette

    pal = QPalette()
    dark = is_dark(theme)
    window = theme.panel if dark else "#F0F0F0"
    base = theme.background if dark else "#FFFFFF"
    button = theme.queue_fill if dark else "#E8E8E8"
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: theme.slot,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: button,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.ToolTipBase: theme.panel,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Highlight: accent(theme),
        QPalette.ColorRole.HighlightedText: "#000000" if dark else "#FFFFFF",
        QPalette.ColorRole.Link: accent(theme),
        QPalette.ColorRole.BrightText: "#FF5252",
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    muted = QColor(theme.muted)
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, muted)
    return pal
