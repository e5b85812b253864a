"""The lesson text: the scenario's markdown, rendered beside the diagram."""

from __future__ import annotations

from PySide6.QtWidgets import QTextBrowser, QWidget

from qsim.model.scenario import QUEUE_KIND_LABELS, Scenario


def lesson_markdown(sc: Scenario) -> str:
    """The lesson text, or (for a scenario without one) a short description of it."""
    if sc.lesson.strip():
        return sc.lesson
    lines = [f"# {sc.title}", ""]
    if sc.summary:
        lines += [sc.summary, ""]
    for q in sc.queues:
        size = f"maxsize={q.maxsize}" if q.maxsize else "unbounded"
        lines.append(f"- queue **{q.id}**: `{QUEUE_KIND_LABELS.get(q.kind, q.kind)}`, {size}")
    for p in sc.producers:
        lines.append(f"- {p.count} producer(s) **{p.id}** put into `{p.queue}`")
    for c in sc.consumers:
        role = f"stage, forwards to `{c.output}`" if c.output else "consumer"
        lines.append(f"- {c.count} {role} **{c.id}** get from `{c.queue}`")
    lines += ["", "Press **Play** (Space) to run the real processes, **Step** (S) for one "]
    lines[-1] += "queue operation at a time."
    return "\n".join(lines)


class LessonText(QTextBrowser):
    """Read-only markdown view of the current lesson."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lesson_text")
        self.setOpenExternalLinks(True)
        self.setMarkdown("Choose a lesson on the left.")

    def set_scenario(self, sc: Scenario) -> None:
        self.setMarkdown(lesson_markdown(sc))
