"""The help screen: every key the app answers to."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Chat", [
        ("enter", "send your message (or the number of a choice)"),
        ("escape", "interrupt the assistant"),
        ("ctrl+s", "focus the spec list; enter opens a file"),
        ("ctrl+p", "command palette: new session, resume, open spec, help, quit"),
        ("f1", "this help"),
        ("ctrl+q", "quit (the session is saved; `tunesmith resume` continues)"),
    ]),
    ("Approval card", [
        ("a", "allow once"),
        ("A", "allow always (this tool, this session)"),
        ("r", "reject once"),
        ("R", "reject always"),
        ("tab", "comment field and findings to waive (space ticks one)"),
        ("escape", "leave the comment field"),
    ]),
    ("Spec editor", [
        ("ctrl+s", "validate and save (an invalid edit is never written)"),
        ("ctrl+o", "open in $EDITOR, then validate and save"),
        ("escape", "close (twice to discard unsaved changes)"),
    ]),
    ("Session picker", [
        ("enter", "open the highlighted session"),
        ("n", "new session"),
        ("escape", "cancel"),
    ]),
]


def help_text() -> str:
    lines = ["[b]tunesmith keys[/b]", ""]
    for section, keys in KEYS:
        lines.append(f"[b u]{section}[/]")
        for key, what in keys:
            lines.append(f"  [b]{key:<8}[/b] {what}")
        lines.append("")
    lines.append("[dim]esc, q or f1 closes this help[/dim]")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("f1", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(help_text(), id="help-text")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
