"""The seed examples (data/examples.jsonl) as an editable table.

Keys: enter or e edits the selected cell (enter keeps the text, escape cancels), a adds a row,
d deletes the selected row, ctrl+s saves, escape closes. Saving checks every row first: a bad
row is named and selected, and nothing is written; a good table is written atomically. The
screen dismisses with a sentence for the assistant saying what the person saved, or None.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TextArea

from assistant.session_files import EXAMPLES, SeedError, clean_seed, load_seeds, save_seeds

CELL_CHARS = 48
"""Cells show at most this many characters; the editor shows the whole text."""

HINT = "enter/e edit cell · a add row · d delete row · ctrl+s save · esc close"
EDIT_HINT = "enter keeps · shift+enter or ctrl+j new line · esc cancels"
DISCARD_WARNING = "unsaved changes: ctrl+s saves, escape again discards"


def answer_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The answer fields the rows use: output for SFT and prompt-only rows, chosen/rejected for preference rows."""
    preference = any(row.get(key) is not None for row in rows for key in ("chosen", "rejected"))
    with_output = any(row.get("output") is not None for row in rows)
    if not preference:
        return ["output"]
    return (["output"] if with_output else []) + ["chosen", "rejected"]


def shown(value: Any, limit: int = CELL_CHARS) -> Text:
    """One line of a cell: newlines shown as ⏎, long text cut with an ellipsis."""
    text = "" if value is None else str(value).replace("\r\n", "\n").replace("\n", " ⏎ ")
    return Text(text if len(text) <= limit else text[: limit - 1] + "…", no_wrap=True)


def baseline(row: dict[str, Any]) -> dict[str, Any]:
    """A row as it would be saved (to compare rows without counting added defaults as changes)."""
    try:
        return clean_seed(row)
    except SeedError:
        return row


def describe_save(changed: list[int], added: int, deleted: int, total: int) -> str | None:
    """The sentence the assistant reads; None when the saved table equals what was there before."""
    parts = []
    if changed:
        parts.append(("changed row " if len(changed) == 1 else "changed rows ") + ", ".join(map(str, changed)))
    if added:
        parts.append(f"added {added} row" + ("s" if added != 1 else ""))
    if deleted:
        parts.append(f"deleted {deleted} row" + ("s" if deleted != 1 else ""))
    if not parts:
        return None
    noun = "row" if total == 1 else "rows"
    return f"I edited the seed examples in the table: {'; '.join(parts)}. {EXAMPLES} now has {total} {noun}."


class CellEditor(TextArea):
    """The full text of one cell; enter keeps it, escape cancels, shift+enter or ctrl+j starts a new line."""

    class Done(Message):
        """Editing ended: `value` is the new text, or None when cancelled."""

        def __init__(self, value: str | None) -> None:
            super().__init__()
            self.value = value

    async def _on_key(self, event: events.Key) -> None:
        if event.key in ("enter", "escape"):
            event.stop()
            event.prevent_default()
            self.post_message(self.Done(self.text if event.key == "enter" else None))
            return
        if event.key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)


class SeedTableScreen(Screen[str | None]):
    """Edit, add and delete seed examples in a table; dismisses with what was saved, or None."""

    DEFAULT_CSS = """
    SeedTableScreen { layout: vertical; }
    #seeds-title { height: 1; padding: 0 1; background: $panel; }
    #seeds-table { height: 1fr; }
    #seeds-edit { height: auto; display: none; border-top: solid $accent; }
    #seeds-edit.editing { display: block; }
    #seeds-edit-label { height: 1; padding: 0 1; color: $text-muted; }
    #seeds-editor { height: auto; min-height: 3; max-height: 10; }
    #seeds-status { height: auto; padding: 0 1; }
    #seeds-hint { height: 1; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("e", "edit", "Edit cell"),
        Binding("a", "add", "Add row"),
        Binding("d", "delete", "Delete row"),
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, session_dir: Path) -> None:
        super().__init__()
        self.session_dir = Path(session_dir)
        loaded = load_seeds(self.session_dir)
        self.rows: list[dict[str, Any]] = copy.deepcopy(loaded)
        self.origins: list[int | None] = list(range(len(loaded)))
        """Per shown row: its position when the screen opened, or None for an added row."""
        self.initial = [baseline(row) for row in loaded]
        self.saved_rows = copy.deepcopy(loaded)
        self.saved_origins = list(self.origins)
        self.columns = ["#", "input", *answer_columns(loaded)]
        self.saved = False
        self.editing: tuple[int, str] | None = None
        self.fresh_row: int | None = None
        """The row just added with `a`, while its first edit is open (cancelling it removes the row)."""
        self._confirm_discard = False

    def compose(self) -> ComposeResult:
        yield Static(id="seeds-title")
        yield DataTable(id="seeds-table", cursor_type="cell", zebra_stripes=True)
        with Vertical(id="seeds-edit"):
            yield Static(id="seeds-edit-label")
            yield CellEditor(id="seeds-editor", soft_wrap=True, show_line_numbers=False)
        yield Static(id="seeds-status", markup=False)
        yield Static(HINT, id="seeds-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        for name in self.columns:
            table.add_column(name, key=name)
        self._refill()
        if not self.rows:
            self._say("No seed examples yet: a adds a row (saving creates data/examples.jsonl).")
        table.focus()

    # --- state -------------------------------------------------------------------------------

    @property
    def table(self) -> DataTable:
        return self.query_one("#seeds-table", DataTable)

    @property
    def editor(self) -> CellEditor:
        return self.query_one("#seeds-editor", CellEditor)

    @property
    def dirty(self) -> bool:
        return self.rows != self.saved_rows

    def _say(self, message: str) -> None:
        self.query_one("#seeds-status", Static).update(message)

    def _refill(self, row: int | None = None, column: int | None = None) -> None:
        """Redraw every row (numbers shift after a delete) and put the cursor back."""
        table = self.table
        current = table.cursor_coordinate
        table.clear()
        for k, item in enumerate(self.rows):
            table.add_row(Text(str(k)), *(shown(item.get(name)) for name in self.columns[1:]))
        if self.rows:
            table.move_cursor(row=min(current.row if row is None else row, len(self.rows) - 1),
                              column=current.column if column is None else column)
        unsaved = " · unsaved changes" if self.dirty else ""
        noun = "row" if len(self.rows) == 1 else "rows"
        self.query_one("#seeds-title", Static).update(
            Text(f"Seed examples · {EXAMPLES} · {len(self.rows)} {noun}{unsaved}"))

    def _changed(self) -> None:
        self._confirm_discard = False
        self._refill()

    # --- editing -----------------------------------------------------------------------------

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_edit()

    def action_edit(self) -> None:
        if self.editing is not None or not self.rows:
            if not self.rows:
                self._say("No rows to edit: a adds a row.")
            return
        coordinate = self.table.cursor_coordinate
        field = self.columns[max(coordinate.column, 1)]  # the # column edits the input
        self._open_editor(coordinate.row, field)

    def _open_editor(self, row: int, field: str) -> None:
        self._confirm_discard = False
        self.editing = (row, field)
        self.table.move_cursor(row=row, column=self.columns.index(field))
        value = self.rows[row].get(field)
        self.query_one("#seeds-edit-label", Static).update(Text(f"row {row} · {field} — {EDIT_HINT}"))
        self.query_one("#seeds-edit").add_class("editing")
        editor = self.editor
        editor.load_text("" if value is None else str(value))
        editor.move_cursor(editor.document.end)
        editor.focus()

    def on_cell_editor_done(self, message: CellEditor.Done) -> None:
        message.stop()
        self._close_editor(message.value)

    def _close_editor(self, value: str | None) -> None:
        if self.editing is None:
            return
        row, field = self.editing
        self.editing = None
        self.query_one("#seeds-edit").remove_class("editing")
        self.table.focus()
        fresh, self.fresh_row = self.fresh_row == row, None
        if value is None:
            if fresh and not str(self.rows[row].get("input", "")).strip():
                del self.rows[row]
                del self.origins[row]
                self._say("The new row was not kept.")
                self._changed()
            else:
                self._say("Edit cancelled.")
            return
        item = self.rows[row]
        if field != "input" and value == "":
            item.pop(field, None)  # an empty answer cell leaves the field out
        else:
            item[field] = value
        self._say(f"row {row}: {field} updated (ctrl+s saves).")
        self._changed()

    def action_add(self) -> None:
        if self.editing is not None:
            return
        self.rows.append({"input": "", "meta": {"source": "person"}})
        self.origins.append(None)
        self._changed()
        self.fresh_row = len(self.rows) - 1
        self._open_editor(self.fresh_row, "input")

    def action_delete(self) -> None:
        if self.editing is not None or not self.rows:
            return
        row = self.table.cursor_coordinate.row
        del self.rows[row]
        del self.origins[row]
        self._say(f"row {row} deleted (ctrl+s saves).")
        self._changed()

    # --- saving and closing ------------------------------------------------------------------

    def action_save(self) -> None:
        if self.editing is not None:
            self._close_editor(self.editor.text)
        cleaned = []
        for k, item in enumerate(self.rows):
            try:
                cleaned.append(clean_seed(item))
            except SeedError as exc:
                field = "input" if "non-empty `input`" in str(exc) else "#"
                self.table.move_cursor(row=k, column=self.columns.index(field))
                self._say(f"row {k}: {exc}. Nothing was saved.")
                return
        save_seeds(self.session_dir, cleaned)
        self.rows = copy.deepcopy(cleaned)
        self.saved_rows = copy.deepcopy(cleaned)
        self.saved_origins = list(self.origins)
        self.saved = True
        noun = "row" if len(cleaned) == 1 else "rows"
        self._say(f"Saved {len(cleaned)} {noun} to {EXAMPLES}.")
        self._changed()

    def summary(self) -> str | None:
        """What the saved table changed since the screen opened, as a sentence for the assistant."""
        if not self.saved:
            return None
        rows, origins = self.saved_rows, self.saved_origins
        changed = [k for k, (row, origin) in enumerate(zip(rows, origins))
                   if origin is not None and row != self.initial[origin]]
        kept = {origin for origin in origins if origin is not None}
        added = sum(origin is None for origin in origins)
        return describe_save(changed, added, len(self.initial) - len(kept), len(rows))

    def action_close(self) -> None:
        if self.editing is not None:
            self._close_editor(None)
            return
        if self.dirty and not self._confirm_discard:
            self._confirm_discard = True
            self._say(DISCARD_WARNING)
            return
        self.dismiss(self.summary())
