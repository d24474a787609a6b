"""The seed examples table through Pilot: edit and save, add and delete, a refused invalid save,
escape with unsaved changes, preference columns, and an empty session."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static

from assistant.tui.screens.seeds import DISCARD_WARNING, CellEditor, SeedTableScreen
from synth import seeds

from tests.tui.helpers import until

SIZE = (110, 30)
UNSET = object()

SFT_ROWS = [
    {"input": "TESCO STORES 3341 LONDON", "output": "groceries", "meta": {"category": "groceries"}},
    {"input": "RENT MARCH FLAT 2B", "output": "rent", "meta": {"category": "rent"}, "reference": "rent"},
    {"input": "EASYJET " + "X" * 120, "output": "travel", "meta": {"category": "travel"}},
]


class Host(App):
    """Pushes the table screen and keeps what it dismisses with."""

    def __init__(self, session_dir: Path) -> None:
        super().__init__()
        self.session_dir = session_dir
        self.result: object = UNSET

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.push_screen(SeedTableScreen(self.session_dir), self.record_result)

    def record_result(self, value: str | None) -> None:
        self.result = value


def session_with(tmp_path: Path, rows: list[dict]) -> Path:
    folder = tmp_path / "session"
    folder.mkdir()
    if rows:
        seeds.save(folder, rows)
    return folder


async def opened(pilot) -> SeedTableScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, SeedTableScreen) and pilot.app.screen.query(DataTable),
                what="the seed table")
    await pilot.pause()
    return pilot.app.screen


def status(screen: SeedTableScreen) -> str:
    return str(screen.query_one("#seeds-status", Static).render())


def cell(screen: SeedTableScreen, row: int, column: str) -> str:
    table = screen.query_one(DataTable)
    return str(table.get_cell_at((row, screen.columns.index(column))))


async def edit_cell(pilot, screen: SeedTableScreen, row: int, column: str, text: str) -> None:
    """Select a cell, open its editor, replace the text by typing, keep it with enter."""
    screen.query_one(DataTable).move_cursor(row=row, column=screen.columns.index(column))
    await pilot.press("e")
    await until(pilot, lambda: screen.editing == (row, column), what="the cell editor")
    editor = screen.query_one(CellEditor)
    editor.select_all()
    await pilot.press(*text if text else ["backspace"])
    await pilot.press("enter")
    await until(pilot, lambda: screen.editing is None, what="the edit to be kept")


async def test_editing_a_cell_and_saving_writes_the_file_and_names_the_row(tmp_path):
    folder = session_with(tmp_path, SFT_ROWS)
    app = Host(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        assert screen.columns == ["#", "input", "output"]
        assert cell(screen, 0, "#") == "0" and cell(screen, 0, "output") == "groceries"
        long_cell = cell(screen, 2, "input")
        assert long_cell.endswith("…") and len(long_cell) < len(SFT_ROWS[2]["input"])

        screen.query_one(DataTable).move_cursor(row=2, column=1)
        await pilot.press("enter")  # enter on a cell opens the editor too, with the full text
        await until(pilot, lambda: screen.editing == (2, "input"), what="the cell editor")
        assert screen.query_one(CellEditor).text == SFT_ROWS[2]["input"]
        await pilot.press("escape")  # cancels the cell edit, not the screen
        await until(pilot, lambda: screen.editing is None, what="cancelled edit")
        assert app.screen is screen and not screen.dirty

        await edit_cell(pilot, screen, 1, "output", "housing")
        assert cell(screen, 1, "output") == "housing" and screen.dirty
        assert seeds.load(folder)[1]["output"] == "rent", "nothing is written before ctrl+s"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.dirty, what="the save")
        saved = seeds.load(folder)
        assert saved[1] == {"input": "RENT MARCH FLAT 2B", "output": "housing", "reference": "rent",
                            "meta": {"category": "rent"}}
        assert saved[0] == SFT_ROWS[0] and saved[2] == SFT_ROWS[2]
        await pilot.press("escape")
        await until(pilot, lambda: app.result is not UNSET, what="the screen to close")
    assert app.result == ("I edited the seed examples in the table: changed row 1. "
                          "data/examples.jsonl now has 3 rows.")


async def test_adding_and_deleting_rows(tmp_path):
    folder = session_with(tmp_path, SFT_ROWS)
    app = Host(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("a")  # adds a row at the end and edits its input
        await until(pilot, lambda: screen.editing == (3, "input"), what="the new row's editor")
        await pilot.press(*"SALARY ACME LTD", "enter")
        await until(pilot, lambda: screen.editing is None, what="the input kept")
        await edit_cell(pilot, screen, 3, "output", "salary")
        screen.query_one(DataTable).move_cursor(row=0, column=1)
        await pilot.press("d")
        await until(pilot, lambda: len(screen.rows) == 3, what="the delete")
        assert cell(screen, 0, "input") == "RENT MARCH FLAT 2B" and cell(screen, 2, "#") == "2"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.dirty, what="the save")
        await pilot.press("escape")
        await until(pilot, lambda: app.result is not UNSET, what="the screen to close")
    saved = seeds.load(folder)
    assert [row["input"] for row in saved] == ["RENT MARCH FLAT 2B", SFT_ROWS[2]["input"], "SALARY ACME LTD"]
    assert saved[2]["output"] == "salary" and saved[0]["reference"] == "rent"
    assert app.result == ("I edited the seed examples in the table: added 1 row; deleted 1 row. "
                          "data/examples.jsonl now has 3 rows.")


async def test_an_empty_input_is_refused_with_the_row_named_and_the_file_unchanged(tmp_path):
    folder = session_with(tmp_path, SFT_ROWS)
    before = (folder / seeds.EXAMPLES).read_bytes()
    app = Host(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await edit_cell(pilot, screen, 2, "input", "")
        assert screen.rows[2]["input"] == ""
        screen.query_one(DataTable).move_cursor(row=0, column=2)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "row 2:" in status(screen), what="the refusal")
        assert "row 2: a seed row needs a non-empty `input`" in status(screen)
        assert screen.query_one(DataTable).cursor_coordinate == (2, 1), "the cursor goes to the bad cell"
        assert (folder / seeds.EXAMPLES).read_bytes() == before
        assert screen.dirty and app.screen is screen


async def test_escape_with_unsaved_changes_needs_a_second_escape(tmp_path):
    folder = session_with(tmp_path, SFT_ROWS)
    before = (folder / seeds.EXAMPLES).read_bytes()
    app = Host(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await edit_cell(pilot, screen, 0, "output", "shopping")
        await pilot.press("escape")
        await until(pilot, lambda: DISCARD_WARNING in status(screen), what="the warning")
        assert app.screen is screen and app.result is UNSET
        await pilot.press("escape")
        await until(pilot, lambda: app.result is not UNSET, what="the screen to close")
    assert app.result is None
    assert (folder / seeds.EXAMPLES).read_bytes() == before


async def test_preference_rows_show_chosen_and_rejected(tmp_path):
    rows = [{"input": "TESCO", "chosen": "groceries", "rejected": "rent", "meta": {}},
            {"input": "EASYJET", "chosen": "travel", "rejected": "I'm not sure.", "meta": {}}]
    folder = session_with(tmp_path, rows)
    app = Host(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        labels = [str(column.label) for column in screen.query_one(DataTable).ordered_columns]
        assert labels == ["#", "input", "chosen", "rejected"]
        assert cell(screen, 1, "rejected") == "I'm not sure."
        await edit_cell(pilot, screen, 0, "rejected", "travel")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.dirty, what="the save")
    assert seeds.load(folder)[0] == {"input": "TESCO", "chosen": "groceries", "rejected": "travel", "meta": {}}


async def test_an_empty_session_starts_with_a_hint_and_saving_creates_the_file(tmp_path):
    folder = session_with(tmp_path, [])
    app = Host(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        assert screen.query_one(DataTable).row_count == 0
        assert "a adds a row" in status(screen)
        await pilot.press("a")
        await until(pilot, lambda: screen.editing == (0, "input"), what="the new row's editor")
        await pilot.press("escape")  # cancelling a new, empty row drops it
        await until(pilot, lambda: not screen.rows, what="the new row dropped")
        await pilot.press("a", *"hello", "ctrl+s")  # saving keeps the open edit first
        await until(pilot, lambda: (folder / seeds.EXAMPLES).exists(), what="the file")
        await pilot.press("escape")
        await until(pilot, lambda: app.result is not UNSET, what="the screen to close")
    assert seeds.load(folder) == [{"input": "hello", "meta": {"source": "person"}}]
    assert app.result == ("I edited the seed examples in the table: added 1 row. "
                          "data/examples.jsonl now has 1 row.")
