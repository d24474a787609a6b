"""The full data quality report of a session (data/quality.json): findings, then a small chart per measure."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from assistant.tui.widgets.quality import (coverage_text, diversity_text, duplicates_text, findings_text, header_text,
                                           labels_text, overlap_text, pii_text, rows_text, tokens_text, toxicity_text)

from assistant.session_files import QUALITY, quality_limits, read_quality

if TYPE_CHECKING:
    from specs.quality import Finding, QualityReport

ROWS_SHOWN = 50


class QualityScreen(Screen[None]):
    """The quality report, section by section; `r` re-reads the file, escape closes."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("r", "refresh", "Re-read the report"),
    ]

    DEFAULT_CSS = """
    QualityScreen { layout: vertical; }
    #quality-title { height: 1; padding: 0 1; background: $primary-darken-3; text-style: bold; }
    #quality-body { height: 1fr; padding: 0 1; }
    .quality-heading { margin: 1 0 0 0; text-style: bold underline; color: $accent; }
    .quality-section { height: auto; }
    #quality-message { margin: 1 0; padding: 0 1; border-left: thick $warning; }
    #quality-keys { height: 1; padding: 0 1; color: $text-muted; background: $primary-darken-3; }
    """

    def __init__(self, session_dir: Path, *, limits: Any = None) -> None:
        """`limits`: a DataGenerationSpec or its `quality` mapping; by default the session's data_generation.yaml."""
        super().__init__()
        self.session_dir = Path(session_dir)
        self._limits_given = limits
        self.report: QualityReport | None = None
        self.blocking: list[Finding] = []
        self.problem: str | None = None
        self.limits: dict[str, float] = quality_limits(limits)
        self.load()

    def load(self) -> None:
        """Read data/quality.json (and the limits); on a missing or invalid file, set `problem`."""
        view = read_quality(self.session_dir, self._limits_given)
        self.report, self.blocking, self.limits, self.problem = view.report, view.blocking, view.limits, view.problem

    def sections(self) -> list[tuple[str, str, Text]]:
        """(id, heading, body) of each section of the report."""
        report, blocking, limits = self.report, self.blocking, self.limits
        assert report is not None
        rows = len(report.row_reasons)
        return [
            ("header", "Records", header_text(report)),
            ("findings", "Findings", findings_text(report, blocking)),
            ("duplicates", "Duplicates", duplicates_text(report, limits, blocking)),
            ("diversity", "Diversity", diversity_text(report, blocking)),
            ("tokens", "Token lengths", tokens_text(report, blocking)),
            ("labels", "Label balance", labels_text(report, limits, blocking)),
            ("coverage", "Coverage of each diversity axis", coverage_text(report, blocking)),
            ("pii", "Personal data (PII)", pii_text(report, blocking)),
            ("toxicity", "Toxicity", toxicity_text(report, blocking)),
            ("overlap", "Train/eval overlap", overlap_text(report, blocking)),
            ("rows", f"Rows flagged ({rows}" + (f", first {ROWS_SHOWN} shown)" if rows > ROWS_SHOWN else ")"),
             rows_text(report, ROWS_SHOWN)),
        ]

    def compose(self) -> ComposeResult:
        yield Static(f"Data quality report — {self.session_dir.name}/{QUALITY}", id="quality-title", markup=False)
        with VerticalScroll(id="quality-body"):
            if self.problem is not None:
                yield Static(self.problem, id="quality-message", markup=False)
            else:
                for key, heading, body in self.sections():
                    yield Static(heading, classes="quality-heading", markup=False)
                    yield Static(body, id=f"quality-{key}", classes="quality-section")
        yield Static("esc closes · r re-reads the report · ↑↓ pgup pgdn scroll", id="quality-keys")

    def on_mount(self) -> None:
        self.query_one("#quality-body").focus()

    async def action_refresh(self) -> None:
        self.load()
        await self.recompose()
        self.query_one("#quality-body").focus()
        self.notify("quality report re-read" if self.problem is None else "no valid quality report",
                    severity="information" if self.problem is None else "warning", timeout=2)

    def action_close(self) -> None:
        self.dismiss(None)
