"""The plan: the journey's steps (assistant.steps.JOURNEY) marked done, current or next."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from assistant.steps import JOURNEY as ORDER
from assistant.steps import step_descriptions

TITLES = {
    "use_case": "Use case",
    "data": "Data",
    "train": "Train",
    "evaluate": "Evaluate",
    "export": "Export",
}


def step_states(phase: str | None) -> list[tuple[str, str]]:
    """(step, state) for each step: state is done, current or next."""
    if phase == "done":
        return [(step, "done") for step in ORDER]
    current = ORDER.index(phase) if phase in ORDER else 0
    out = []
    for index, step in enumerate(ORDER):
        state = "done" if index < current else "current" if index == current else "next"
        out.append((step, state))
    return out


class PlanView(Static):
    """Steps done (✓), current (▶) and next (·)."""

    phase = reactive("use_case")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._descriptions = step_descriptions()
        self.border_title = "Plan"

    def render(self) -> str:
        marks = {"done": "[green]✓[/]", "current": "[b yellow]▶[/]", "next": "[dim]·[/]"}
        lines = []
        for step, state in step_states(self.phase):
            title = TITLES.get(step, step)
            title = f"[b]{title}[/b]" if state == "current" else (f"[dim]{title}[/dim]" if state == "next" else title)
            lines.append(f"{marks[state]} {title}")
        return "\n".join(lines)

    def watch_phase(self, phase: str) -> None:
        self.tooltip = self._descriptions.get(phase) or None

    def steps(self) -> list[tuple[str, str]]:
        return step_states(self.phase)
