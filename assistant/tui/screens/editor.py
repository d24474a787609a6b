"""The in-app YAML editor for one spec file.

Saving validates first: a valid edit is written atomically and the agent is told what changed;
an invalid edit stays in the editor with its problems listed (line and column) and never
overwrites the file on disk. "Open in $EDITOR" edits a temporary copy the same way.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from assistant.session_files import describe, save_spec_text, validate_unsaved
from assistant.tui.diffs import change_message
from assistant.tui.messages import SpecChanged


_APPROVED = re.compile(r"^status:[ \t]*['\"]?approved['\"]?[ \t]*(#.*)?$", re.MULTILINE)


class SpecEditorScreen(Screen[None]):
    """Edit one spec file; ctrl+s validates and saves, ctrl+o opens $EDITOR, escape closes."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+o", "external", "Open in $EDITOR"),
        Binding("escape", "close", "Close", priority=True),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.name_on_disk = self.path.name
        self.saved_text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        self.problems: list = []
        self._confirm_discard = False

    def compose(self) -> ComposeResult:
        with Vertical(id="editor-body"):
            yield Static(f"Editing [b]{self.name_on_disk}[/b]  ·  ctrl+s save · ctrl+o open in $EDITOR · esc close",
                         id="editor-title")
            editor = TextArea.code_editor(self.saved_text, language="yaml", id="spec-editor", soft_wrap=False)
            yield editor
            yield Static("", id="editor-status")
            yield OptionList(id="editor-problems")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#editor-problems", OptionList).display = False
        self.query_one("#spec-editor", TextArea).focus()
        self.problems = validate_unsaved(self.name_on_disk, self.saved_text)
        self._show_problems(initial=True)

    @property
    def text(self) -> str:
        return self.query_one("#spec-editor", TextArea).text

    def _show_problems(self, initial: bool = False) -> None:
        status = self.query_one("#editor-status", Static)
        listing = self.query_one("#editor-problems", OptionList)
        listing.clear_options()
        if not self.problems:
            status.update("[green]✓ valid[/]" if initial else "[green]✓ valid — saved[/]")
            listing.display = False
            return
        count = len(self.problems)
        note = "the file on disk has" if initial else "not saved: the file on disk keeps its last valid version;"
        status.update(f"[red]✗ {note} {count} problem{'s' if count > 1 else ''}[/] (enter on a problem jumps to it)")
        for index, problem in enumerate(self.problems):
            listing.add_option(Option(escape(describe(problem)), id=str(index)))
        listing.display = True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        problem = self.problems[int(event.option.id or 0)]
        editor = self.query_one("#spec-editor", TextArea)
        if problem.line:
            editor.cursor_location = (problem.line - 1, max((problem.column or 1) - 1, 0))
        editor.focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._confirm_discard = False

    def action_save(self) -> bool:
        """Validate the editor text; write it only if valid. Returns whether it was saved."""
        text = self.text
        self.problems = validate_unsaved(self.name_on_disk, text)
        if self.problems:
            self._show_problems()
            return False
        old = self.saved_text
        text = self._back_to_draft(old, text)
        if text != old:
            save_spec_text(self.path, text)
            self.saved_text = text
            message = change_message(self.name_on_disk, old, text)
            if message:
                self.app.post_message(SpecChanged(self.name_on_disk, message))
        self._show_problems()
        return True

    def _back_to_draft(self, old: str, new: str) -> str:
        """An edit of an approved spec makes it a draft again (the spec's `status` contract)."""
        if new == old or not _APPROVED.search(old) or not _APPROVED.search(new):
            return new
        if _APPROVED.sub("", old) == _APPROVED.sub("", new):
            return new
        drafted = _APPROVED.sub(lambda m: m.group(0).replace("approved", "draft"), new, count=1)
        self.query_one("#spec-editor", TextArea).load_text(drafted)
        self.notify("You changed an approved spec: its status is draft again until you approve it in the chat.",
                    severity="information")
        return drafted

    def action_close(self) -> None:
        if self.text != self.saved_text and not self._confirm_discard:
            self._confirm_discard = True
            self.query_one("#editor-status", Static).update(
                "[yellow]Unsaved changes: ctrl+s saves them, esc again discards them.[/]")
            return
        self.dismiss(None)

    def action_external(self) -> None:
        """Edit a temporary copy in $EDITOR (or $VISUAL), then load it here and save it if valid."""
        editor_cmd = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.TemporaryDirectory(prefix="tunesmith-editor-") as folder:
            copy = Path(folder) / self.name_on_disk
            copy.write_text(self.text, encoding="utf-8")
            argv = shlex.split(editor_cmd) + [str(copy)]
            try:
                if self.app.is_headless:
                    result = subprocess.run(argv, check=False)
                else:
                    with self.app.suspend():
                        result = subprocess.run(argv, check=False)
            except (OSError, Exception) as exc:  # noqa: BLE001 - editor missing or suspend unsupported
                self.notify(f"Could not run {editor_cmd!r}: {exc}", severity="error")
                return
            if result.returncode != 0:
                self.notify(f"{editor_cmd} exited with {result.returncode}; nothing loaded", severity="warning")
                return
            edited = copy.read_text(encoding="utf-8")
        self.query_one("#spec-editor", TextArea).load_text(edited)
        self.action_save()
