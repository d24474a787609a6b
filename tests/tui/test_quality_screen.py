"""The data quality report in the TUI: chart helpers, the full screen and the chat card, on real scored data."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from assistant.session_files import quality_limits
from assistant.tui.screens.quality import QualityScreen
from assistant.tui.widgets.quality import (QualitySummary, bar, bar_chart, diversity_text, histogram, limit_bar,
                                           sparkline, summary_text)
from specs.quality import QualityReport
from synth.generate import generate_dataset
from synth.quality import blocking_findings, load_report, score_dataset, score_records, waive
from tests.tui.helpers import until

SECTIONS = ("header", "findings", "duplicates", "diversity", "tokens", "labels", "coverage", "pii", "toxicity",
            "overlap", "rows")


def _style_at(text: Text, offset: int) -> str:
    return str(text.get_style_at_offset(Console(), offset))


def _generate(session: Path, specs, **quality):
    """A small dataset from the shipped offline (programmatic) generator, scored; returns the spec used."""
    use_case, spec = specs
    spec = spec.model_copy(update={"train_count": 72, "eval_count": 12,
                                   "quality": spec.quality.model_copy(update=quality)})
    assert generate_dataset(session, use_case, spec)["status"] == "done"
    score_dataset(session, use_case, spec, embeddings=False, tokenizer=False)
    return spec


def _duplicate_training_rows(session: Path) -> None:
    train = session / "data" / "train.jsonl"
    train.write_text(train.read_text(encoding="utf-8") * 2, encoding="utf-8")


class Host(App[None]):
    """Opens the quality screen over an empty default screen."""

    def __init__(self, session: Path) -> None:
        super().__init__()
        self.session = session

    def on_mount(self) -> None:
        self.push_screen(QualityScreen(self.session))


def shown(app: App, key: str) -> str:
    content = app.screen.query_one(f"#quality-{key}", Static).content
    return content.plain if isinstance(content, Text) else str(content)


# --- helpers ---------------------------------------------------------------------------------------

def test_bar_sparkline_and_limit_bar():
    assert bar(5, 10, 10) == "█████"
    assert bar(10, 10, 4) == bar(25, 10, 4) == "████"
    assert bar(0, 10, 4) == "" and bar(3, 0, 4) == ""
    assert bar(3, 8, 2) == "▊"  # six eighths of one cell
    assert bar(0.001, 10, 4) == "▏", "a value above zero stays visible"
    assert sparkline([0, 1, 2, 4, 8]) == " ▁▂▄█"
    within = limit_bar(0.0, 0.05, 20)
    assert within.plain == "·" * 10 + "│" + "·" * 9
    over = limit_bar(0.10, 0.05, 20)
    assert over.plain == "█" * 20 and "red" in _style_at(over, 0)
    assert "green" in _style_at(limit_bar(0.02, 0.05, 20), 0)


def test_bar_chart_lines_scale_to_the_largest_value():
    chart = bar_chart([("groceries", 8), ("a_very_long_label_name_here", 4), ("rent", 0)], width=8, label_width=10)
    lines = chart.plain.split("\n")
    assert lines == ["groceries  ████████ 8",
                     "a_very_lo… ████     4",
                     "rent                0"]


def test_histogram_marks_the_bin_holding_the_maximum_and_colors_bins_over_it():
    chart = histogram([[10, 1], [20, 4], [30, 8], [40, 2]], 35, height=4, column=3)
    lines = chart.plain.split("\n")
    assert len(lines) == 6
    assert lines[0] == "      ██    ", "only the tallest bin reaches the top row"
    assert lines[3].startswith("▄▄ ██ ██ ██")
    assert lines[4].startswith("10") and lines[4].endswith("50 tokens")
    assert lines[5] == "      ▲ max 35", "the marker sits under the bin 30-39"
    offset = len(lines[0]) + 1 + len(lines[1]) + 1 + len(lines[2]) + 1  # start of the bottom bar row
    assert "green" in _style_at(chart, offset)          # bin 10-19: under the maximum
    assert "yellow" in _style_at(chart, offset + 6)     # bin 30-39: holds the maximum
    assert "red" in _style_at(chart, offset + 9)        # bin 40-49: all over it
    below = histogram([[10, 1], [20, 4]], 128).plain
    assert below.endswith("max 128 tokens lies beyond the longest record")


def test_diversity_shows_the_embedding_spread_or_why_not():
    report = QualityReport(metrics={"distinct": {"distinct_1": 0.25, "distinct_2": 0.5, "distinct_3": 1.0},
                                    "embedding": {"spread": 0.5, "model": "all-MiniLM-L6-v2", "n": 40}})
    lines = diversity_text(report).plain.split("\n")
    assert lines[:4] == ["distinct-1 ██████                   0.25",
                         "distinct-2 ████████████             0.5",
                         "distinct-3 ████████████████████████ 1",
                         "spread     ████████████             0.5"]
    assert lines[4] == "mean cosine distance, all-MiniLM-L6-v2, 40 inputs"
    report.metrics["embedding"] = {"error": "fewer than 2 texts"}
    assert diversity_text(report).plain.endswith("embedding spread: fewer than 2 texts")


def test_limits_come_from_the_spec_a_mapping_or_defaults(bank_specs):
    _, spec = bank_specs
    assert quality_limits() == {"max_duplicate_rate": 0.05, "max_label_imbalance": 10.0}
    spec = spec.model_copy(update={"quality": spec.quality.model_copy(update={"max_duplicate_rate": 0.2})})
    assert quality_limits(spec)["max_duplicate_rate"] == 0.2
    assert quality_limits({"quality": {"max_label_imbalance": 3}})["max_label_imbalance"] == 3.0
    assert quality_limits({"max_duplicate_rate": 0.1})["max_duplicate_rate"] == 0.1


def test_summary_card_stays_within_fourteen_lines_with_many_blocking_findings(bank_specs):
    use_case, spec = bank_specs
    train = [{"input": f"POS SHOP{i} STORE {i}.00 item {i}", "output": "groceries", "meta": {}} for i in range(20)]
    train += [train[0]] * 6 + [{"input": "refund to card", "output": "groceries a.b@example.com", "meta": {}}]
    report = score_records(train, [train[1]], use_case, spec, embeddings=False, tokenizer=False)
    blocking = report.blocking()
    assert len(blocking) >= 4
    lines = summary_text(report, blocking).plain.split("\n")
    assert len(lines) <= 14
    assert lines[0].startswith("Data quality  27 train · 1 eval")
    assert lines[1].startswith(f"✗ {blocking[0].code}: ")
    assert f"… {len(blocking) - 3} more findings" in lines[4]
    assert any(line.startswith("duplicates") and "(limit 5%)" in line for line in lines)
    assert lines[-1] == "f3 opens the full quality report"


# --- the screen ------------------------------------------------------------------------------------

async def test_screen_shows_every_section_with_its_chart(bank_session, bank_specs):
    use_case, _ = bank_specs
    _generate(bank_session, bank_specs, max_tokens=106)
    report = load_report(bank_session)
    over = report.metrics["tokens"]["over_max"]
    assert over > 0, "the lowered maximum must flag some records"
    card = summary_text(report, blocking_findings(bank_session)).plain.split("\n")
    assert card[1] == "✓ no blocking findings · 1 other finding"
    assert card[-2].startswith("tokens ") and card[-2].endswith(f" {over} over 106")
    async with Host(bank_session).run_test(size=(100, 50)) as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, QualityScreen), what="the quality screen")
        await pilot.pause()
        for key in SECTIONS:
            assert pilot.app.screen.query_one(f"#quality-{key}", Static).size.height > 0, key
        assert shown(pilot.app, "header").startswith("72 train records · 12 eval records")
        assert "over_max_tokens" in shown(pilot.app, "findings") and "BLOCKING" not in shown(pilot.app, "findings")
        duplicates = shown(pilot.app, "duplicates")
        assert "0.0% (limit 5%)" in duplicates and "│" in duplicates and "Jaccard ≥ 0.85" in duplicates
        diversity = shown(pilot.app, "diversity")
        assert "distinct-1" in diversity and "distinct-3" in diversity and "embedding spread: skipped" in diversity
        tokens = shown(pilot.app, "tokens")
        assert "training maximum 106" in tokens and f"{over} records over the maximum" in tokens
        assert "▲ max 106" in tokens and "█" in tokens
        labels = shown(pilot.app, "labels")
        assert "imbalance" in labels and "limit 10:1" in labels
        assert all(label in labels for label in use_case.contract.labels)
        coverage = shown(pilot.app, "coverage")
        assert "category  12/12 values covered (100%)" in coverage and "merchant_style" in coverage
        assert shown(pilot.app, "pii").startswith("in inputs: none found\nin outputs: none found")
        assert shown(pilot.app, "toxicity").startswith("none found")
        assert "of 12 eval records" in shown(pilot.app, "overlap")
        rows = shown(pilot.app, "rows")
        assert "longer than 106 tokens" in rows and rows.startswith("train:")
        assert len(rows.split("\n")) == min(50, len(report.row_reasons)) + (len(report.row_reasons) > 50)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(pilot.app.screen, QualityScreen), what="the screen to close")


async def test_blocking_findings_are_marked_and_waivers_shown_after_refresh(bank_session, bank_specs):
    use_case, _ = bank_specs
    spec = _generate(bank_session, bank_specs)
    _duplicate_training_rows(bank_session)
    score_dataset(bank_session, use_case, spec, embeddings=False, tokenizer=False)
    async with Host(bank_session).run_test(size=(100, 50)) as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, QualityScreen), what="the quality screen")
        findings = shown(pilot.app, "findings")
        assert findings.startswith("✗ BLOCKING [high] duplicates: 50.0% of training records are duplicates")
        duplicates = shown(pilot.app, "duplicates")
        assert "50.0% (limit 5%)" in duplicates and "exact" in duplicates
        body = pilot.app.screen.query_one("#quality-duplicates", Static).content
        assert "red" in _style_at(body, len("duplicates ")), "a rate over the limit is drawn red"
        assert "exact duplicate of train:0" in shown(pilot.app, "rows")

        waive(bank_session, ["duplicates"], "repeats are intended for this demo")
        await pilot.press("r")
        await until(pilot, lambda: "waived" in shown(pilot.app, "findings"), what="the waiver")
        findings = shown(pilot.app, "findings")
        assert "~ waived   [high] duplicates" in findings and "waived: repeats are intended for this demo" in findings
        assert "BLOCKING" not in findings

        with (bank_session / "data" / "train.jsonl").open("a", encoding="utf-8") as handle:
            handle.write((bank_session / "data" / "eval.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n")
        await pilot.press("r")
        await until(pilot, lambda: "stale_quality_report" in shown(pilot.app, "findings"), what="the stale finding")
        assert shown(pilot.app, "findings").startswith("✗ BLOCKING [high] stale_quality_report")


async def test_missing_then_scored_then_malformed_report(bank_session, bank_specs):
    async with Host(bank_session).run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, QualityScreen), what="the quality screen")
        assert shown(pilot.app, "message").startswith("No quality report yet; generate the data first")
        assert not pilot.app.screen.query("#quality-findings")

        _generate(bank_session, bank_specs)
        await pilot.press("r")
        await until(pilot, lambda: pilot.app.screen.query("#quality-header"), what="the report after refresh")
        assert not pilot.app.screen.query("#quality-message")
        assert shown(pilot.app, "findings") == "✓ no findings"

        (bank_session / "data" / "quality.json").write_text('{"train_records": "many"}', encoding="utf-8")
        await pilot.press("r")
        await until(pilot, lambda: pilot.app.screen.query("#quality-message"), what="the invalid-file message")
        message = shown(pilot.app, "message")
        assert message.startswith("data/quality.json is not a valid quality report: data/quality.json:1:")
        assert "train_records" in message and "Score the data again" in message


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
async def test_malformed_report_opens_with_a_message(bank_session, text):
    (bank_session / "data").mkdir()
    (bank_session / "data" / "quality.json").write_text(text, encoding="utf-8")
    async with Host(bank_session).run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, QualityScreen), what="the quality screen")
        assert "is not a valid quality report" in shown(pilot.app, "message")


# --- the chat card ---------------------------------------------------------------------------------

class CardHost(App[None]):
    def __init__(self, report, blocking) -> None:
        super().__init__()
        self.report, self.blocking = report, blocking

    def compose(self) -> ComposeResult:
        yield QualitySummary(self.report, self.blocking, id="card")


async def test_summary_card_in_the_chat(bank_session, bank_specs):
    use_case, _ = bank_specs
    spec = _generate(bank_session, bank_specs)
    _duplicate_training_rows(bank_session)
    score_dataset(bank_session, use_case, spec, embeddings=False, tokenizer=False)
    report, blocking = load_report(bank_session), blocking_findings(bank_session)
    async with CardHost(report, blocking).run_test(size=(44, 30)) as pilot:
        await pilot.pause()
        card = pilot.app.query_one("#card", QualitySummary)
        assert 8 <= card.size.height <= 14 and card.size.width <= 44
        assert card.has_class("blocking")
        lines = card.content.plain.split("\n")
        assert lines[0] == "Data quality  144 train · 12 eval"
        assert lines[1].startswith("✗ duplicates: 50.0%")
        assert any(line.startswith("labels  imbalance") and "12 labels" in line for line in lines)
        assert sum(line.startswith(("  ", "… ")) for line in lines) == 4, "three most frequent labels and the rarest"
        assert any(line.startswith("tokens ") and line.endswith(" 0 over 128") for line in lines)
        assert lines[-1] == "f3 opens the full quality report"
        assert card.size.height == len(lines), "one screen line per card line: long messages are cut, not wrapped"
        assert card.render_line(1).text.rstrip().endswith("…")

    waive(bank_session, ["duplicates"], "intended")
    report, blocking = load_report(bank_session), blocking_findings(bank_session)
    assert summary_text(report, blocking).plain.split("\n")[1] == "~ waived duplicates — intended"
