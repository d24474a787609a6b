"""The spec panel: the session's spec files with live validation status; opens the editor."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.markup import escape
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from assistant.session_files import SPEC_FILES, describe, validate_path


@dataclass
class SpecState:
    """What the panel knows about one spec file."""

    name: str
    signature: tuple[float, int] | None = None
    problems: list[Any] = field(default_factory=list)
    baseline: str | None = None
    """The last valid text the agent knows about; person's edits are diffed against it."""


def _signature(path: Path) -> tuple[float, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime, stat.st_size)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


class SpecPanel(OptionList):
    """Lists use_case.yaml, data_generation.yaml, ... that exist in the session folder."""

    class Open(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class ExternalEdit(Message):
        """A spec file changed on disk while the agent was idle (the person's editor).

        ``old`` is None when the agent never saw a valid version (the file was broken or new)."""

        def __init__(self, name: str, old: str | None, new: str) -> None:
            super().__init__()
            self.name = name
            self.old = old
            self.new = new

    class BecameInvalid(Message):
        def __init__(self, name: str, problems: list[Any]) -> None:
            super().__init__()
            self.name = name
            self.problems = problems

    def __init__(self, session_dir: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session_dir = Path(session_dir)
        self.states: dict[str, SpecState] = {}
        self.watch_edits = True
        """False while the agent runs: its own writes are not the person's edits."""
        self.border_title = "Specs"

    def on_mount(self) -> None:
        self.refresh_specs(baseline=True)
        self.set_interval(1.0, self.poll)

    def set_session_dir(self, session_dir: Path) -> None:
        self.session_dir = Path(session_dir)
        self.states.clear()
        self.refresh_specs(baseline=True)

    def poll(self) -> None:
        self.refresh_specs(baseline=False)

    def refresh_specs(self, baseline: bool = False) -> None:
        """Re-validate changed files; with baseline=True accept the disk text as known to the agent."""
        changed = False
        for name in SPEC_FILES:
            path = self.session_dir / name
            signature = _signature(path)
            state = self.states.get(name)
            if signature is None:
                if state is not None:
                    del self.states[name]
                    changed = True
                continue
            if state is None:
                state = self.states[name] = SpecState(name)
            if state.signature != signature:
                changed = True
                state.signature = signature
                state.problems = validate_path(path)
                text = _read(path)
                if state.problems:
                    if not baseline and self.watch_edits:
                        self.post_message(self.BecameInvalid(name, state.problems))
                elif text is not None:
                    if baseline or not self.watch_edits:
                        state.baseline = text
                    elif text != state.baseline:
                        old, state.baseline = state.baseline, text
                        self.post_message(self.ExternalEdit(name, old, text))
            elif baseline and not state.problems:
                state.baseline = _read(path)
        if changed or not self.option_count:
            self._redraw()

    def accept(self, name: str, text: str) -> None:
        """The app saved `text` to `name` itself: it is the new baseline, no external edit."""
        state = self.states.setdefault(name, SpecState(name))
        state.baseline = text
        path = self.session_dir / name
        state.signature = _signature(path)
        state.problems = validate_path(path)
        self._redraw()

    def _redraw(self) -> None:
        highlighted = self.highlighted
        self.clear_options()
        if not self.states:
            self.add_option(Option("[dim]no spec files yet[/dim]", id="__none__", disabled=True))
            return
        for name in SPEC_FILES:
            state = self.states.get(name)
            if state is None:
                continue
            if state.problems:
                count = len(state.problems)
                label = f"[red]✗[/] {name}\n  [red]{count} problem{'s' if count > 1 else ''}[/]: {escape(describe(state.problems[0]))}"
            else:
                label = f"[green]✓[/] {name}"
            self.add_option(Option(label, id=name))
        self.highlighted = min(highlighted or 0, self.option_count - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id != "__none__":
            self.post_message(self.Open(event.option.id))

    def status(self) -> dict[str, int]:
        """name -> number of problems (for tests and the palette)."""
        return {name: len(state.problems) for name, state in self.states.items()}
