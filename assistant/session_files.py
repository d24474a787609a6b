"""What the screens ask the engine about a session's files: the face renders, this module does the work.

Spec files (their names, validation of a file or of unsaved editor text, saving), the data quality
report with the session's limits, the seed examples, and the person's ratings of evaluated answers.
Screens under assistant/tui/ call these and never import synth, skills or specs except for types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skills.evaluate import examples as evals
from skills.evaluate import judge as judging
from skills.evaluate.report import agreement_sentence
from specs.data_generation import DataGenerationSpec
from specs.errors import Problem, SpecError
from specs.io import atomic_write_text
from specs.quality import Finding, QualityReport
from specs.registry import SPEC_FILES
from specs.validate import validate_file, validate_text
from specs.yamlio import load_spec
from synth import scale, seeds
from synth.quality import QUALITY, blocking_findings, load_report

__all__ = ["SPEC_FILES", "QUALITY", "EXAMPLES", "SeedError", "Problem", "agreement_sentence", "validate_path",
           "validate_unsaved", "describe", "save_spec_text", "QualityView", "read_quality", "quality_limits",
           "load_seeds", "clean_seed", "save_seeds", "RatingRound"]

EXAMPLES = seeds.EXAMPLES
SeedError = seeds.SeedError
"""A seed row that cannot be saved; its message says which field and why."""

# --- spec files ---------------------------------------------------------------------------------------


def validate_path(path: Path) -> list[Problem]:
    """Problems of a spec file on disk (empty when valid)."""
    return list(validate_file(path))


def validate_unsaved(name: str, text: str) -> list[Problem]:
    """Problems of text that would be saved as ``name`` (the spec that name holds)."""
    return list(validate_text(text, name))


def describe(problem: Problem) -> str:
    """'line 4, column 3: contract.labels: message (allowed: ...)'"""
    where = []
    if problem.line:
        where.append(f"line {problem.line}")
        if problem.column:
            where.append(f"column {problem.column}")
    text = ", ".join(where)
    out = (text + ": " if text else "") + (f"{problem.path}: " if problem.path else "") + problem.message
    if problem.allowed:
        out += f" (allowed: {problem.allowed})"
    return out


def save_spec_text(path: Path, text: str) -> None:
    """Write a spec file atomically (temp file + rename): a crash never leaves half a file."""
    atomic_write_text(path, text)


# --- the data quality report --------------------------------------------------------------------------

DEFAULT_LIMITS: dict[str, float] = {"max_duplicate_rate": 0.05, "max_label_imbalance": 10.0}
"""The limits the quality charts draw when data_generation.yaml does not set them."""


def quality_limits(spec: DataGenerationSpec | Mapping[str, Any] | None = None) -> dict[str, float]:
    """The limits the charts draw: from a DataGenerationSpec, its `quality` mapping, or defaults."""
    limits = dict(DEFAULT_LIMITS)
    if spec is None:
        return limits
    if isinstance(spec, DataGenerationSpec):
        source: Any = spec.quality.model_dump()
    else:
        source = spec.get("quality", spec)
    for key in limits:
        value = source.get(key) if isinstance(source, Mapping) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            limits[key] = float(value)
    return limits


@dataclass
class QualityView:
    """data/quality.json as the screens show it: the report, what blocks training, the chart limits."""

    report: QualityReport | None
    blocking: list[Finding] = field(default_factory=list)
    limits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    problem: str | None = None
    """Why there is no report to show (missing, or not a valid report), in words for the person."""


def read_quality(session_dir: Path, limits: DataGenerationSpec | Mapping[str, Any] | None = None) -> QualityView:
    """The session's quality report, its blocking findings and limits (``limits`` or data_generation.yaml's)."""
    session_dir = Path(session_dir)
    chart_limits = quality_limits(limits if limits is not None else _session_spec(session_dir))
    report = load_report(session_dir)
    if report is not None:
        return QualityView(report, blocking_findings(session_dir), chart_limits)
    path = session_dir / QUALITY
    if not path.exists():
        problem = f"No quality report yet; generate the data first (the data step scores it into {QUALITY})."
    else:
        problem = f"{QUALITY} is not a valid quality report: {_why_invalid(path)}\nScore the data again to rewrite it."
    return QualityView(None, [], chart_limits, problem)


def _session_spec(session_dir: Path) -> DataGenerationSpec | None:
    """data_generation.yaml, or None when it is missing or broken (the charts then use the defaults)."""
    path = session_dir / "data_generation.yaml"
    try:
        return load_spec(path, DataGenerationSpec) if path.exists() else None
    except (SpecError, OSError):
        return None


def _why_invalid(path: Path) -> str:
    try:
        load_spec(path, QualityReport)
    except SpecError as exc:
        return str(exc).replace(str(path), QUALITY)
    except OSError as exc:
        return str(exc)
    return "it could not be read"


# --- seed examples ------------------------------------------------------------------------------------


def load_seeds(session_dir: Path) -> list[dict[str, Any]]:
    """The rows of data/examples.jsonl (empty when there is none)."""
    return seeds.load(Path(session_dir))


def clean_seed(row: dict[str, Any]) -> dict[str, Any]:
    """A row as it would be saved; raises SeedError naming what is wrong."""
    return seeds.clean_row(row)


def save_seeds(session_dir: Path, rows: list[dict[str, Any]]) -> None:
    """Write data/examples.jsonl atomically (rows already cleaned with ``clean_seed``)."""
    seeds.save(Path(session_dir), rows)


# --- rating evaluated answers -------------------------------------------------------------------------


def judged_metric(folder: Path) -> tuple[str, str]:
    """(score column, what to rate): the first judge rubric of the report, else an overall rating."""
    report_path = folder / "report.json"
    if report_path.exists():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        for metric in report.get("metrics", []):
            if metric.get("kind") == "judge":
                return metric["key"], f"tenet `{metric.get('tenet') or metric['metric']}`"
    return "overall", "the answer overall"


@dataclass
class RatingRound:
    """About 20 answers of the newest finished evaluation to rate blind; each rating is saved at once
    to evals/<id>/ratings.jsonl, so nothing is lost when the screen closes."""

    eval_id: str | None
    folder: Path | None
    rows: list[dict[str, Any]]
    items: list[dict[str, Any]]
    """The answers to rate, in order (prompt, reference, output, index, variant)."""
    metric: str
    what: str
    """What the person rates, in words (a tenet, or the answer overall)."""

    @classmethod
    def open(cls, session_dir: Path, eval_id: str | None = None, *, n: int = 20, seed: int = 0) -> "RatingRound":
        eval_id = eval_id or evals.latest_eval_id(Path(session_dir), finished=True)
        folder = evals.eval_dir(Path(session_dir), eval_id) if eval_id else None
        rows = evals.load_results(folder) if folder else []
        metric, what = judged_metric(folder) if folder else ("overall", "the answer")
        return cls(eval_id, folder, rows, judging.rating_candidates(rows, n=n, seed=seed), metric, what)

    def rate(self, item: dict[str, Any], stars: int) -> None:
        """Save the person's 1-5 stars for one answer (normalized to the judge's 0..1)."""
        if self.folder is not None:
            judging.save_rating(self.folder, index=item["index"], variant=item["variant"], metric=self.metric,
                                score=scale.normalize(int(stars)))

    def agreement(self) -> dict[str, Any]:
        """How often the judge agrees with the ratings saved so far."""
        return judging.agreement(judging.load_ratings(self.folder) if self.folder else [], self.rows)

    def update_report(self) -> None:
        """Write the agreement into the evaluation's report (report.json and report.md)."""
        if self.folder is not None:
            judging.update_report_agreement(self.folder)
