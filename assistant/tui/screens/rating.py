"""Rate about 20 evaluated answers, then see how often the judge agrees with you.

Answers are shown blind (the model is not named). Keys 1-5 rate on the rubric's scale (1 = fails,
5 = fully meets it), s skips, escape stops early. Each rating goes to evals/<id>/ratings.jsonl at
once, so nothing is lost when the screen closes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from assistant.session_files import RatingRound, agreement_sentence


class RatingScreen(Screen[dict]):
    """Shows one answer at a time; dismisses with the agreement summary."""

    DEFAULT_CSS = """
    RatingScreen { layout: vertical; }
    #rt-head { height: 2; padding: 0 1; background: $panel; }
    #rt-body { height: 1fr; padding: 0 1; }
    .rt-label { text-style: bold; margin-top: 1; }
    #rt-foot { height: 2; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        *(Binding(str(k), f"rate({k})", f"{k}", show=k in (1, 5)) for k in range(1, 6)),
        Binding("s", "skip", "Skip"),
        Binding("escape", "finish", "Done"),
    ]

    def __init__(self, session_dir: Path, eval_id: str | None = None, *, n: int = 20, seed: int = 0) -> None:
        super().__init__()
        self.session_dir = Path(session_dir)
        self.round = RatingRound.open(self.session_dir, eval_id, n=n, seed=seed)
        """The engine's rating round: the answers to rate and where each rating is saved."""
        self.eval_id, self.folder, self.items = self.round.eval_id, self.round.folder, self.round.items
        self.metric, self.what = self.round.metric, self.round.what
        self.position = 0
        self.rated = 0

    def compose(self) -> ComposeResult:
        yield Static(id="rt-head")
        with VerticalScroll(id="rt-body"):
            yield Static("Input", classes="rt-label")
            yield Static(id="rt-prompt", markup=False)
            yield Static("Reference answer", classes="rt-label")
            yield Static(id="rt-reference", markup=False)
            yield Static("Model answer", classes="rt-label")
            yield Static(id="rt-output", markup=False)
        with Vertical(id="rt-foot"):
            yield Static(id="rt-result")
            yield Static("1 fails … 5 fully meets it · s skip · esc done")

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        head = self.query_one("#rt-head", Static)
        if not self.items:
            head.update("Nothing to rate: no finished evaluation with answers yet. esc closes.")
            return
        if self.position >= len(self.items):
            self._summary()
            return
        item = self.items[self.position]
        head.update(f"Rate {self.what}: answer {self.position + 1} of {len(self.items)} (evaluation {self.eval_id})")
        self.query_one("#rt-prompt", Static).update(item.get("prompt") or "")
        self.query_one("#rt-reference", Static).update(item.get("reference") or "(none)")
        self.query_one("#rt-output", Static).update(item.get("output") or "(empty answer)")

    def agreement(self) -> dict[str, Any]:
        return self.round.agreement()

    def _summary(self) -> None:
        result = self.agreement()
        if self.rated:
            self.round.update_report()
        self.query_one("#rt-head", Static).update(f"Done: you rated {self.rated} answers. esc closes.")
        self.query_one("#rt-result", Static).update(agreement_sentence(result))

    def action_rate(self, stars: int) -> None:
        if not self.items or self.position >= len(self.items) or self.folder is None:
            return
        item = self.items[self.position]
        self.round.rate(item, stars)
        self.rated += 1
        self.position += 1
        self._show()

    def action_skip(self) -> None:
        if self.position < len(self.items):
            self.position += 1
            self._show()

    def action_finish(self) -> None:
        if self.rated and self.position < len(self.items):
            self.round.update_report()  # stopped early: the report still shows what was rated
        self.dismiss(self.agreement())
