"""The session picker for `tunesmith resume` without a name (and the palette's "Resume")."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from assistant.session import SessionMeta

NEW_SESSION = "\x00new"
"""Returned when the person asks for a new session instead."""


def _fmt_updated(value: datetime) -> str:
    """When a session was last saved, in the person's local time, to the minute."""
    return value.astimezone().isoformat(timespec="minutes").replace("T", " ")[:16]


class SessionPicker(ModalScreen[str | None]):
    """Lists sessions, newest first; returns a name, NEW_SESSION, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("n", "new", "New session"),
    ]

    def __init__(self, sessions: list[SessionMeta]) -> None:
        super().__init__()
        self.sessions = list(sessions)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Static("[b]Resume a session[/b]  ·  enter open · n new · esc cancel", id="picker-title")
            options = []
            for meta in self.sessions:
                name, phase, title = meta.name, meta.phase, meta.title
                model = meta.planner_model or "guided"
                updated = _fmt_updated(meta.updated)
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
