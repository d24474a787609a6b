"""The quality report of a generated dataset (data/quality.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from specs.base import Spec, SpecFile

Severity = Literal["high", "medium", "low", "info"]


class Finding(Spec):
    """One problem found in the data."""

    code: str
    """Stable identifier, e.g. `duplicates`, `too_few_records`, `label_imbalance`, `train_eval_overlap`, `pii_in_outputs`."""
    severity: Severity
    """`high` findings block training until fixed or waived."""
    message: str
    """What was found, in plain words, with the numbers."""
    rows: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    """Indices of the affected records (may be truncated)."""
    waived: bool = False
    """Set when the person waived this finding in an approval."""
    waiver_comment: str | None = None
    """Why the person waived it."""


class QualityReport(SpecFile):
    """Scores of a dataset: duplicates, diversity, lengths, balance, coverage, PII, toxicity, leakage."""

    train_records: int = Field(default=0, ge=0)
    """Usable training records after verification."""
    eval_records: int = Field(default=0, ge=0)
    """Usable evaluation records after verification."""
    dropped: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    """Records dropped by verification, counted by reason."""
    metrics: dict[str, Any] = Field(default_factory=dict)
    """Measured values: duplicate rates, distinct-n, embedding spread, token lengths, label counts, axis coverage, PII and toxicity counts, overlap."""
    findings: list[Finding] = Field(default_factory=list)
    """Problems found, most severe first."""
    row_reasons: dict[str, list[str]] = Field(default_factory=dict)
    """Per-row reasons keyed by `train:<i>` or `eval:<i>`."""
    data_hash: str | None = None
    """SHA-256 of train.jsonl and eval.jsonl the report describes."""

    def blocking(self) -> list[Finding]:
        """High-severity findings that are not waived."""
        return [f for f in self.findings if f.severity == "high" and not f.waived]
