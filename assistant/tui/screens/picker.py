"""The session picker for `tunesmith resume` without a name (and the palette's "Resume")."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

NEW_SESSION = "\x00new"
"""Returned when the person asks for a new session instead."""


def _fmt_updated(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "astimezone"):
        value = value.astimezone()  # the person's local time
    text = value.isoformat(timespec="minutes") if hasattr(value, "isoformat") else str(value)
    return text.replace("T", " ")[:16]


class SessionPicker(ModalScreen[str | None]):
    """Lists sessions, newest first; returns a name, NEW_SESSION, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("n", "new", "New session"),
    ]

    def __init__(self, sessions: list[Any]) -> None:
        super().__init__()
        self.sessions = list(sessions)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Static("[b]Resume a session[/b]  ·  enter open · n new · esc cancel", id="picker-title")
            options = []
            for meta in self.sessions:
                name = getattr(meta, "name", str(meta))
                phase = getattr(meta, "phase", "") or ""
                model = getattr(meta, "planner_model", "") or "guided"
                updated = _fmt_updated(getattr(meta, "updated", None))
                title = getattr(meta, "title", None)
                label = f"[b]{name}[/b]  [dim]{phase} · {model} · {updated}[/dim]"
                if title:
                    label += f"\n  [i]{escape(title)}[/i]"
                options.append(Option(label, id=name))
            if not options:
                options.append(Option("[dim]no sessions yet — press n for a new one[/dim]", id=NEW_SESSION))
            yield OptionList(*options, id="picker-list")

    def on_mount(self) -> None:
        self.query_one("#picker-list").focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_new(self) -> None:
        self.dismiss(NEW_SESSION)
