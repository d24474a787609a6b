"""The help screen: every key the app answers to."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Chat", [
        ("enter", "send your message (or the number of a choice)"),
        ("escape", "interrupt the assistant (a running step stops and keeps its work)"),
        ("ctrl+s", "focus the spec list; enter opens a file"),
        ("f2", "the seed examples as an editable table"),
        ("f3", "the data quality report, with charts"),
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
    ("Progress card", [
        ("Cancel", "stop the work (generation, a job being followed); what was made is kept and resumes"),
    ]),
    ("Seed table", [
        ("enter/e", "edit the cell (enter keeps, escape cancels)"),
        ("a / d", "add a row / delete the row"),
        ("ctrl+s", "check every row and save data/examples.jsonl"),
        ("escape", "close (twice to discard unsaved changes)"),
    ]),
    ("Session picker", [
        ("enter", "open the highlighted session"),
        ("n", "new session"),
        ("escape", "cancel"),
    ]),
]


def help_table(sections: list[tuple[str, list[tuple[str, str]]]] = KEYS) -> Group:
    """The keys as aligned tables: key column fixed, descriptions wrap under themselves."""
    parts: list = []
    for section, keys in sections:
        parts.append(Text(section, style="bold underline"))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True, width=7)
        grid.add_column(ratio=1)
        for key, what in keys:
            grid.add_row(key, what)
        parts.extend([grid, Text("")])
    return Group(*parts[:-1])


def help_text(sections: list[tuple[str, list[tuple[str, str]]]] = KEYS) -> str:
    """The keys as plain text (one line each)."""
    return "\n".join(f"{key}: {what}" for _, keys in sections for key, what in keys)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("f1", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static("[b]tunesmith keys[/b]", id="help-title")
            with Horizontal():
                yield Static(help_table(KEYS[:2]), classes="help-column")
                yield Static(help_table(KEYS[2:]), classes="help-column")
            yield Static("esc, q or f1 closes this help · the command palette (ctrl+p) lists every command",
                         id="help-foot")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
