"""Small charts of the data quality report (data/quality.json) and the compact card the chat shows.

The helpers are pure: they turn a QualityReport (its `metrics`, findings and row reasons) into Rich
Text, so tests can read them without an app. Every chart is a few lines wide of about 60 cells at
most and colored by status: green ok, yellow a warning (or a waived blocking finding), red blocking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from assistant.session_files import quality_limits

if TYPE_CHECKING:
    from specs.quality import Finding, QualityReport

BLOCKS = "▏▎▍▌▋▊▉█"
"""Horizontal eighths: BLOCKS[k] is k+1 eighths of a cell."""
SPARKS = "▁▂▃▄▅▆▇█"
"""Vertical eighths, lowest first."""
STATUS_STYLE = {"ok": "green", "warn": "yellow", "waived": "yellow", "blocking": "bold red"}
CARD_LINES = 14
REPORT_HINT = "f3 opens the full quality report"


# --- primitives -------------------------------------------------------------------------------------

def bar(value: float, maximum: float, width: int = 20) -> str:
    """A horizontal bar of `value` out of `maximum` in `width` cells, to an eighth of a cell.

    Not padded; a value above zero shows at least a sliver, one above `maximum` fills the width.
    """
    if width <= 0 or maximum <= 0 or value <= 0:
        return ""
    eighths = round(min(value, maximum) / maximum * width * 8)
    full, rest = divmod(max(1, eighths), 8)
    return "█" * full + (BLOCKS[rest - 1] if rest else "")


def sparkline(counts: Iterable[float]) -> str:
    """One character per value, its height relative to the largest (zero is a blank)."""
    values = [max(0.0, float(c)) for c in counts]
    top = max(values, default=0.0)
    if top <= 0:
        return " " * len(values)
    return "".join(" " if v == 0 else SPARKS[max(0, min(7, round(v / top * 8) - 1))] for v in values)


def _matches(finding: Finding, codes: Iterable[str]) -> bool:
    return any(finding.code == c or (c.endswith(":") and finding.code.startswith(c)) for c in codes)


def measure_status(report: QualityReport, codes: Iterable[str], blocking: Iterable[Finding] = ()) -> str:
    """`blocking`, `waived`, `warn` or `ok` for the findings whose code is in `codes` (`x:` matches `x:*`)."""
    codes = list(codes)
    blocking_codes = {f.code for f in blocking}
    found = [f for f in report.findings if _matches(f, codes)]
    if any(f.code in blocking_codes or (f.severity == "high" and not f.waived) for f in found):
        return "blocking"
    if any(f.severity == "high" and f.waived for f in found):
        return "waived"
    if any(f.severity in ("medium", "low") for f in found):
        return "warn"
    return "ok"


def _fit(label: str, width: int) -> str:
    return label if len(label) <= width else label[:max(1, width - 1)] + "…"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def bar_chart(rows: list[tuple[str, float]], *, width: int = 20, maximum: float | None = None,
              label_width: int = 20, min_label_width: int = 0, style: str = "green",
              styles: Mapping[str, str] | None = None, suffix: Mapping[str, str] | None = None) -> Text:
    """Labelled horizontal bars, one line each: `label  ████▌  12` (labels cut to `label_width`)."""
    text = Text()
    if not rows:
        return text
    top = maximum if maximum is not None else max((float(v) for _, v in rows), default=0.0)
    column = max(min_label_width, min(label_width, max(len(label) for label, _ in rows)))
    for k, (label, value) in enumerate(rows):
        if k:
            text.append("\n")
        text.append(f"{_fit(label, column):<{column}} ", style="bold" if value else "dim")
        text.append(f"{bar(float(value), top, width):<{width}}", style=(styles or {}).get(label, style))
        text.append(f" {_number(value)}" + (suffix or {}).get(label, ""))
    return text


def limit_bar(value: float, limit: float, width: int = 20) -> Text:
    """A bar of `value` on a scale of twice `limit`, with `│` at the limit: green within it, red over."""
    maximum = max(2 * limit, value, 1e-9)
    filled = bar(value, maximum, width)
    at = min(width - 1, round(limit / maximum * width)) if limit > 0 else -1
    text = Text(filled, style="red" if value > limit else "green")
    for cell in range(len(filled), width):
        text.append("│" if cell == at else "·", style="bold" if cell == at else "dim")
    return text


def histogram(bins: list[list[int]], max_allowed: int | None, *, height: int = 4, column: int = 3) -> Text:
    """A vertical histogram of `[[bin_start, count], ...]`, bins over `max_allowed` in red.

    Under the bars: the first bin's start and the last bin's end, then `▲ max N` under the bin
    holding the maximum (or a note that every bin lies below it).
    """
    text = Text()
    bins = [(int(b[0]), int(b[1])) for b in bins if isinstance(b, (list, tuple)) and len(b) == 2]
    if not bins:
        return Text("no lengths measured", style="dim")
    step = bins[1][0] - bins[0][0] if len(bins) > 1 else 1
    top = max(count for _, count in bins) or 1

    def style_of(start: int) -> str:
        if max_allowed is None or start + step - 1 <= max_allowed:
            return "green"
        return "red" if start > max_allowed else "yellow"

    for row in range(height - 1, -1, -1):
        for start, count in bins:
            level = count / top * height * 8 - row * 8
            cell = "█" if level >= 8 else (SPARKS[max(0, round(level) - 1)] if level > 0 else " ")
            text.append(cell * (column - 1) + " ", style=style_of(start))
        text.append("\n")
    span = len(bins) * column
    low, high = str(bins[0][0]), str(bins[-1][0] + step)
    text.append(low + " " * max(1, span - len(low) - len(high)) + high + " tokens", style="dim")
    if max_allowed is None:
        return text
    text.append("\n")
    holding = [k for k, (start, _) in enumerate(bins) if start <= max_allowed < start + step]
    if max_allowed < bins[0][0]:
        holding = [0]
    if holding:
        text.append(" " * (holding[0] * column) + f"▲ max {max_allowed}", style="bold red")
    else:
        text.append(f"max {max_allowed} tokens lies beyond the longest record", style="green")
    return text


def token_sparkline(tokens: Mapping[str, Any]) -> Text:
    """The token-length histogram as one line: sparkline (bins over the max in red), p95, records over the max."""
    bins = [b for b in tokens.get("histogram") or [] if isinstance(b, (list, tuple)) and len(b) == 2]
    limit = tokens.get("max_allowed")
    text = Text()
    step = bins[1][0] - bins[0][0] if len(bins) > 1 else 1
    while len(bins) > 1 and not bins[-1][1]:
        bins = bins[:-1]  # empty bins past the longest record say nothing on one line
    for (start, _count), char in zip(bins, sparkline(c for _, c in bins)):
        over = limit is not None and start + step - 1 > limit
        text.append(char, style="red" if over else "green")
    over = int(tokens.get("over_max", 0) or 0)
    text.append(f" p95 {tokens.get('p95', '?')} · ")
    text.append(f"{over} over {limit if limit is not None else '?'}", style="bold red" if over else "green")
    return text


# --- sections of the full report -------------------------------------------------------------------

def _title(text: Text, words: str, status: str) -> None:
    text.append(words, style=STATUS_STYLE.get(status, ""))


def header_text(report: QualityReport) -> Text:
    """Records kept, and the dropped ones by reason as bars."""
    text = Text()
    text.append(f"{report.train_records} train records · {report.eval_records} eval records", style="bold")
    dropped = sum(report.dropped.values())
    if dropped:
        text.append(f"\ndropped by verification: {dropped}\n", style="yellow")
        rows = sorted(report.dropped.items(), key=lambda kv: -kv[1])
        text.append_text(bar_chart(rows, width=16, label_width=28, style="yellow"))
    else:
        text.append("\nnothing dropped by verification", style="dim")
    return text


def _finding_lines(finding: Finding, blocking_codes: set[str]) -> Text:
    text = Text()
    if finding.code in blocking_codes or (finding.severity == "high" and not finding.waived):
        text.append("✗ BLOCKING ", style="bold red")
    elif finding.waived:
        text.append("~ waived   ", style="yellow")
    else:
        text.append("· ", style="dim")
    style = {"high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}[finding.severity]
    text.append(f"[{finding.severity}] ", style=style)
    text.append(finding.code, style="bold")
    text.append(f": {finding.message}")
    if finding.waived:
        text.append(f"\n    waived: {finding.waiver_comment or 'no comment'}", style="yellow italic")
    return text


def findings_text(report: QualityReport, blocking: Iterable[Finding] = ()) -> Text:
    """Every finding, blocking ones first (marked), waived ones with the person's comment."""
    blocking = list(blocking)
    codes = {f.code for f in blocking}
    known = {f.code for f in report.findings}
    extra = [f for f in blocking if f.code not in known]  # e.g. the stale-report finding
    ordered = extra + sorted(report.findings, key=lambda f: (
        0 if f.code in codes or (f.severity == "high" and not f.waived) else 1,
        ["high", "medium", "low", "info"].index(f.severity)))
    if not ordered:
        return Text("✓ no findings", style="green")
    text = Text()
    for k, finding in enumerate(ordered):
        if k:
            text.append("\n")
        text.append_text(_finding_lines(finding, codes))
    return text


def duplicates_text(report: QualityReport, limits: Mapping[str, float] | None = None,
                    blocking: Iterable[Finding] = ()) -> Text:
    limits = quality_limits(limits)
    d = report.metrics.get("duplicates") or {}
    if not d:
        return Text("not measured", style="dim")
    rate, limit = float(d.get("rate", 0)), limits["max_duplicate_rate"]
    text = Text()
    text.append("duplicates ")
    text.append_text(limit_bar(rate, limit, 24))
    status = measure_status(report, ["duplicates"], blocking)
    _title(text, f" {rate:.1%}", status if status != "ok" or rate <= limit else "warn")
    text.append(f" (limit {limit:.0%})\n", style="dim")
    rows = [("exact", int(d.get("exact", 0))), ("near", int(d.get("near", 0)))]
    text.append_text(bar_chart(rows, width=24, maximum=max(1, report.train_records), min_label_width=10, style="yellow",
                               suffix={"exact": f" ({float(d.get('exact_rate', 0)):.1%})",
                                       "near": f" ({float(d.get('near_rate', 0)):.1%}, "
                                               f"Jaccard ≥ {d.get('near_threshold', '?')})"}))
    return text


def diversity_text(report: QualityReport, blocking: Iterable[Finding] = ()) -> Text:
    dist = report.metrics.get("distinct") or {}
    rows = [(f"distinct-{n}", float(dist.get(f"distinct_{n}", 0) or 0)) for n in (1, 2, 3) if f"distinct_{n}" in dist]
    style = STATUS_STYLE[measure_status(report, ["low_diversity"], blocking)]
    text = bar_chart(rows, width=24, maximum=1.0, label_width=10, style=style) if rows else \
        Text("not measured", style="dim")
    emb = report.metrics.get("embedding") or {}
    text.append("\n")
    if "spread" in emb:
        text.append_text(bar_chart([("spread", float(emb["spread"]))], width=24, maximum=1.0, min_label_width=10,
                                   style="green"))
        text.append(f"\nmean cosine distance, {emb.get('model', 'embedding model')}, {emb.get('n', '?')} inputs",
                    style="dim")
    elif emb.get("error"):
        text.append(f"embedding spread: {emb['error']}", style="yellow")
    else:
        text.append("embedding spread: skipped", style="dim")
    return text


def tokens_text(report: QualityReport, blocking: Iterable[Finding] = ()) -> Text:
    t = report.metrics.get("tokens") or {}
    if not t:
        return Text("not measured", style="dim")
    over = int(t.get("over_max", 0) or 0)
    text = Text(f"mean {t.get('mean', '?')} · p50 {t.get('p50', '?')} · p95 {t.get('p95', '?')} · "
                f"max {t.get('max', '?')} · training maximum {t.get('max_allowed', '?')}\n")
    text.append(f"{over} records over the maximum" + (" (they would be truncated)" if over else ""),
                style="bold red" if over else "green")
    text.append(f"\n{t.get('method', 'unknown method')}\n", style="dim")
    text.append_text(histogram(t.get("histogram") or [], t.get("max_allowed")))
    return text


def labels_text(report: QualityReport, limits: Mapping[str, float] | None = None,
                blocking: Iterable[Finding] = ()) -> Text:
    labels = report.metrics.get("labels") or {}
    if not labels:
        return Text("no label set (not a classification task)", style="dim")
    limit = quality_limits(limits)["max_label_imbalance"]
    status = measure_status(report, ["label_imbalance"], blocking)
    text = Text()
    _title(text, f"imbalance {labels.get('imbalance', '?')}:1", status)
    text.append(f" (most frequent / rarest; limit {limit:g}:1)", style="dim")
    missing = list(labels.get("missing") or [])
    if missing:
        text.append(f"\nnever seen: {', '.join(missing)}", style="bold red")
    rows = sorted(((str(k), int(v)) for k, v in (labels.get("counts") or {}).items()), key=lambda kv: -kv[1])
    text.append("\n")
    text.append_text(bar_chart(rows, width=24, label_width=22, style=STATUS_STYLE[status],
                               styles={k: "red" for k, v in rows if v == 0}))
    return text


def coverage_text(report: QualityReport, blocking: Iterable[Finding] = ()) -> Text:
    coverage = report.metrics.get("coverage") or {}
    if not coverage:
        return Text("no diversity axes", style="dim")
    text = Text()
    for k, (axis, data) in enumerate(coverage.items()):
        counts = {str(v): int(c) for v, c in (data.get("content_counts") or data.get("counts") or {}).items()}
        covered = sum(1 for c in counts.values() if c)
        status = measure_status(report, [f"axis_gap:{axis}"], blocking)
        if k:
            text.append("\n")
        text.append(axis, style="bold")
        _title(text, f"  {covered}/{len(counts)} values covered ({float(data.get('covered', 0)):.0%})\n", status)
        text.append_text(bar_chart(list(counts.items()), width=20, label_width=26,
                                   styles={v: "red" for v, c in counts.items() if c == 0}))
    return text


def pii_text(report: QualityReport, blocking: Iterable[Finding] = ()) -> Text:
    pii = report.metrics.get("pii") or {}
    text = Text()
    for k, (where, code) in enumerate((("inputs", "pii_in_inputs"), ("outputs", "pii_in_outputs"))):
        found = {str(kind): int(n) for kind, n in (pii.get(where) or {}).items()}
        if k:
            text.append("\n")
        if not found:
            text.append(f"in {where}: none found", style="green")
            continue
        status = measure_status(report, [code], blocking)
        _title(text, f"in {where}: {sum(found.values())} found\n", status)
        text.append_text(bar_chart(sorted(found.items(), key=lambda kv: -kv[1]), width=16, label_width=12,
                                   style=STATUS_STYLE[status]))
    if pii.get("method"):
        text.append(f"\n{pii['method']}", style="dim")
    return text


def toxicity_text(report: QualityReport, blocking: Iterable[Finding] = ()) -> Text:
    tox = report.metrics.get("toxicity") or {}
    records = int(tox.get("records", 0) or 0)
    text = Text()
    if not records:
        text.append("none found", style="green")
    else:
        status = measure_status(report, ["toxicity"], blocking)
        _title(text, f"{records} records with listed words\n", status)
        words = sorted(((str(w), int(n)) for w, n in (tox.get("words") or {}).items()), key=lambda kv: -kv[1])
        text.append_text(bar_chart(words[:10], width=16, label_width=16, style=STATUS_STYLE[status]))
    if tox.get("method"):
        text.append(f"\n{tox['method']}", style="dim")
    return text


def overlap_text(report: QualityReport, blocking: Iterable[Finding] = ()) -> Text:
    o = report.metrics.get("overlap") or {}
    if not o:
        return Text("not measured", style="dim")
    leaks, rate = int(o.get("eval_records_overlapping", 0) or 0), float(o.get("rate", 0) or 0)
    status = measure_status(report, ["train_eval_overlap"], blocking)
    text = Text("eval ")
    filled = bar(rate, 1.0, 24)
    text.append(filled, style=STATUS_STYLE[status] if leaks else "green")
    text.append("·" * (24 - len(filled)), style="dim")
    _title(text, f" {leaks} of {report.eval_records} eval records ({rate:.1%})", status if leaks else "ok")
    text.append(f"\nshare a sequence of {o.get('ngram', '?')} words with training", style="dim")
    return text


def rows_text(report: QualityReport, limit: int = 50) -> Text:
    """Per-row reasons, `train:12  exact duplicate of train:3`, the first `limit` rows."""
    items = list(report.row_reasons.items())
    if not items:
        return Text("no row was flagged", style="green")
    width = max(len(key) for key, _ in items[:limit])
    text = Text()
    for k, (key, reasons) in enumerate(items[:limit]):
        if k:
            text.append("\n")
        text.append(f"{key:<{width}}  ", style="bold")
        text.append("; ".join(reasons))
    if len(items) > limit:
        text.append(f"\n… {len(items) - limit} more rows in data/quality.json", style="dim")
    return text


# --- the chat card ---------------------------------------------------------------------------------

def summary_text(report: QualityReport, blocking: Iterable[Finding] = (),
                 limits: Mapping[str, float] | None = None) -> Text:
    """At most CARD_LINES lines: records, blocking findings, duplicates, top labels, token lengths, hint."""
    blocking = list(blocking)
    limits = quality_limits(limits)
    lines: list[Text] = []
    head = Text("Data quality  ", style="bold")
    head.append(f"{report.train_records} train · {report.eval_records} eval", style="")
    dropped = sum(report.dropped.values())
    head.append(f" · {dropped} dropped" if dropped else "", style="yellow")
    lines.append(head)
    codes = {f.code for f in blocking}
    shown = blocking + [f for f in report.findings if f.severity == "high" and f.waived and f.code not in codes]
    for finding in shown[:3]:
        line = Text()
        if finding.waived and finding.code not in codes:
            line.append(f"~ waived {finding.code}", style="yellow")
            line.append(f" — {finding.waiver_comment or 'no comment'}", style="dim")
        else:
            line.append(f"✗ {finding.code}", style="bold red")
            line.append(f": {finding.message}", style="red")
        lines.append(line)
    if len(shown) > 3:
        lines.append(Text(f"  … {len(shown) - 3} more findings", style="red"))
    if not shown:
        line = Text("✓ no blocking findings", style="green")
        others = len(report.findings)
        line.append(f" · {others} other finding{'s' if others != 1 else ''}" if others else "", style="yellow")
        lines.append(line)
    d = report.metrics.get("duplicates") or {}
    if d:
        rate = float(d.get("rate", 0))
        line = Text("duplicates  ")
        line.append_text(limit_bar(rate, limits["max_duplicate_rate"], 12))
        line.append(f" {rate:.1%}", style="red" if rate > limits["max_duplicate_rate"] else "green")
        line.append(f" (limit {limits['max_duplicate_rate']:.0%})", style="dim")
        lines.append(line)
    labels = report.metrics.get("labels") or {}
    if labels.get("counts"):
        rows = sorted(((str(k), int(v)) for k, v in labels["counts"].items()), key=lambda kv: -kv[1])
        picked = rows[:3] + ([rows[-1]] if len(rows) > 3 else [])
        status = measure_status(report, ["label_imbalance"], blocking)
        line = Text("labels  ")
        _title(line, f"imbalance {labels.get('imbalance', '?')}:1", status)
        line.append(f" · {len(rows)} labels" + (f" · {len(labels.get('missing') or [])} missing"
                                                if labels.get("missing") else ""), style="dim")
        lines.append(line)
        chart = bar_chart(picked, width=12, maximum=rows[0][1] or 1, label_width=14, style=STATUS_STYLE[status])
        for k, row in enumerate(chart.split("\n")):
            rarest = len(rows) > 3 and k == 3
            lines.append(Text.assemble(("… " if rarest else "  ", "dim"), row))
    tokens = report.metrics.get("tokens") or {}
    if tokens.get("histogram"):
        line = Text("tokens ")
        line.append_text(token_sparkline(tokens))
        lines.append(line)
    lines = lines[:CARD_LINES - 1]
    lines.append(Text(REPORT_HINT, style="dim italic"))
    return Text("\n").join(lines)


class QualitySummary(Static):
    """The data quality report as a compact card in the chat (at most 14 lines)."""

    DEFAULT_CSS = """
    QualitySummary {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: thick $accent;
        background: $boost;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    QualitySummary.blocking { border-left: thick $error; }
    """

    def __init__(self, report: QualityReport, blocking: list[Finding] | None = None, *,
                 limits: Mapping[str, float] | None = None, id: str | None = None) -> None:
        self.report = report
        self.blocking = list(blocking or [])
        super().__init__(summary_text(report, self.blocking, limits), id=id,
                         classes="blocking" if self.blocking else "")

    def transcript_entry(self) -> tuple[str, str]:
        blocking = ", ".join(f.code for f in self.blocking) or "none"
        return ("quality", f"{self.report.train_records} train, {self.report.eval_records} eval; blocking: {blocking}")
