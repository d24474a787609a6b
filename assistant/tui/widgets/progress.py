"""A progress card for long work (generation, training, evaluation): bar, rate, ETA, live charts."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, ProgressBar, Sparkline, Static

from assistant.events import Progress

CHART_KEYS = ("loss", "reward", "reward_margin", "kl", "eval_loss")
"""Numeric fields drawn as sparklines as they arrive (training curves)."""
HISTORY = 400


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class ProgressCard(Vertical):
    """One task's progress; updated in place by every Progress event of that task.

    Its Cancel button asks the running tool to stop (and a background job it follows to be cancelled);
    the app disables the button once the tool has returned."""

    class CancelRequested(Message):
        def __init__(self, card: "ProgressCard") -> None:
            super().__init__()
            self.card = card

    def __init__(self, task: str) -> None:
        super().__init__(classes="progress-card")
        self.task_name = task
        self.history: dict[str, list[float]] = {}
        self.charts: dict[str, Sparkline] = {}
        self.summary = ""
        self.active = True

    def compose(self) -> ComposeResult:
        with Horizontal(classes="progress-head"):
            yield Static("", markup=False, classes="progress-label")
            yield Button("Cancel", classes="progress-cancel", compact=True, variant="error")
        yield ProgressBar(total=None, show_eta=False, classes="progress-bar")
        yield Vertical(classes="progress-charts")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.active:
            event.button.disabled = True
            event.button.label = "Cancelling…"
            self.post_message(self.CancelRequested(self))

    def finish(self) -> None:
        """The tool behind this card has returned: nothing is left to cancel."""
        self.active = False
        for button in self.query(".progress-cancel"):
            button.display = False
        if self.summary.startswith("⏳ "):
            self.summary = "■ " + self.summary[2:]
            self.query_one(".progress-label", Static).update(self.summary)

    def update_from(self, event: Progress) -> None:
        fields = event.fields
        done = _num(event.done) or _num(fields.get("step")) or 0.0
        total = _num(event.total) or _num(fields.get("total_steps"))
        eta = _num(event.eta_s) if event.eta_s is not None else _num(fields.get("eta_seconds"))
        parts = [f"{self.task_name}: {done:g}" + (f"/{total:g}" if total else "")]
        if total:
            parts.append(f"{100 * done / total:.0f}%")
        if event.rate is not None:
            parts.append(f"{event.rate:.3g}/s")
        elif _num(fields.get("tokens_per_second")) is not None:
            parts.append(f"{fields['tokens_per_second']:.0f} tokens/s")
        if eta is not None:
            parts.append(f"ETA {eta:.0f} s" if eta < 120 else f"ETA {eta / 60:.0f} min")
        for key in CHART_KEYS:
            value = _num(fields.get(key))
            if value is not None:
                parts.append(f"{key} {value:.4g}")
                series = self.history.setdefault(key, [])
                series.append(value)
                del series[:-HISTORY]
        message = fields.get("message")
        if message:
            parts.append(str(message))
        self.summary = ("⏳ " if self.active else "■ ") + " · ".join(parts)
        self.query_one(".progress-label", Static).update(self.summary)
        bar = self.query_one(ProgressBar)
        if total:
            bar.update(total=total, progress=done)
        bar.display = bool(total)
        self._charts()

    def _charts(self) -> None:
        holder = self.query_one(".progress-charts", Vertical)
        for key, series in self.history.items():
            if len(series) < 2:
                continue
            chart = self.charts.get(key)
            if chart is not None:
                chart.data = list(series)
            else:
                chart = self.charts[key] = Sparkline(list(series), summary_function=max)
                holder.mount(Horizontal(Static(f"{key:>13} ", classes="chart-label"), chart,
                                        classes=f"progress-chart chart-{key}"))

    def transcript_entry(self) -> tuple[str, str]:
        return ("progress", self.summary)
