"""``qsim bench gui``: the figures come out, with real processes, in a short run."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from qsim.ui.bench import bench_gui

KEYS = (
    "fps",
    "frames",
    "frame_ms_median",
    "frame_ms_p95",
    "latency_ms_p95",
    "max_items_visible_or_in_flight",
)


def test_bench_gui_reports_frame_and_latency_figures(qtbot: QtBot) -> None:
    result = bench_gui(duration=1.5)
    for key in KEYS:
        assert key in result, key
    assert result["frames"] > 10
    assert result["frame_ms_median"] > 0
    assert result["frame_ms_p95"] >= result["frame_ms_median"]
    # the latency includes the reducer's 50 ms reorder window
    assert result["latency_ms_p95"] >= 50
    assert result["max_items_visible_or_in_flight"] > 100
    assert result["events"] > 1000


def test_bench_gui_with_panels_reports_both_medians(qtbot: QtBot) -> None:
    result = bench_gui(panels="all", duration=2.0)
    if result.get("panels") == "none":  # the panels are not there yet
        assert "panels not available" in result["note"]
        return
    assert result["frame_ms_median_diagram_only"] > 0
    assert result["frame_ms_median_with_panels"] > 0
    diff = result["frame_ms_median_with_panels"] - result["frame_ms_median_diagram_only"]
    assert abs(result["frame_ms_panels_cost"] - diff) < 0.02
