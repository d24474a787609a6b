"""Reward dry run: score the base model's answers and controls, and flag a reward that cannot teach.

Besides the base model's answers, three controls are scored: the gold answers (a working reward
scores them high), empty answers, and the answers paired with the wrong prompts (shuffled). A reward
that is constant, scores an empty answer like a real one, or does not notice the shuffle gives GRPO
no useful signal.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass, field
from typing import Callable

Scorer = Callable[[list, list, list], list]
"""scorer(prompts, completions, references) -> list of objects with .total and .scores"""


@dataclass
class DryRunReport:
    samples: int
    mean: float
    std: float
    minimum: float
    maximum: float
    histogram: list[int]
    component_means: dict[str, float]
    gold_mean: float | None
    empty_mean: float
    shuffled_mean: float | None
    flags: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.startswith("BLOCK") for f in self.flags)

    def text(self) -> str:
        bars = " ".join(f"{i / 5:.1f}-{(i + 1) / 5:.1f}:{n}" for i, n in enumerate(self.histogram))
        lines = [f"Reward dry run on {self.samples} base-model answers: mean {self.mean:.3f}, std {self.std:.3f}, "
                 f"min {self.minimum:.2f}, max {self.maximum:.2f}", f"Distribution: {bars}",
                 "Sub-scores (mean): " + ", ".join(f"{k} {v:.2f}" for k, v in self.component_means.items())]
        controls = [f"empty answers {self.empty_mean:.3f}"]
        if self.gold_mean is not None:
            controls.insert(0, f"gold answers {self.gold_mean:.3f}")
        if self.shuffled_mean is not None:
            controls.append(f"gold answers on the wrong prompts {self.shuffled_mean:.3f}")
        lines.append("Controls: " + ", ".join(controls))
        lines.extend(self.flags or ["No problems found: the reward separates good answers from bad ones."])
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self) | {"ok": self.ok}


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def analyze(prompts: list, completions: list[str], references: list[str | None], scorer: Scorer) -> DryRunReport:
    """Score answers and controls in one batch (one sandbox call) and judge the reward."""
    n = len(completions)
    has_refs = any(r for r in references)
    gold = [r or "" for r in references]
    shift = [gold[(i + 1) % n] for i in range(n)] if n > 1 else gold
    batch_prompts = list(prompts) * (4 if has_refs else 2)
    batch_completions = list(completions) + [""] * n + ((gold + shift) if has_refs else [])
    batch_refs = list(references) * (4 if has_refs else 2)
    scored = scorer(batch_prompts, batch_completions, batch_refs)
    real, empty = scored[:n], scored[n:2 * n]
    totals = [s.total for s in real]
    hist = [0] * 5
    for t in totals:
        hist[min(4, int(t * 5))] += 1
    names = list(real[0].scores) if real else []
    report = DryRunReport(
        samples=n, mean=_mean(totals), std=statistics.pstdev(totals) if n > 1 else 0.0,
        minimum=min(totals, default=0.0), maximum=max(totals, default=0.0), histogram=hist,
        component_means={k: _mean([s.scores.get(k, 0.0) for s in real]) for k in names},
        gold_mean=_mean([s.total for s in scored[2 * n:3 * n]]) if has_refs else None,
        empty_mean=_mean([s.total for s in empty]),
        shuffled_mean=_mean([s.total for s in scored[3 * n:4 * n]]) if has_refs else None,
        rows=[{"completion": c, "reference": r, "total": s.total, "scores": s.scores}
              for c, r, s in zip(completions, references, real)],
    )
    flags = report.flags
    every = [s.total for s in scored]
    if max(every, default=0.0) - min(every, default=0.0) < 1e-6:
        flags.append(f"BLOCK constant: every answer, gold answer and empty answer scores {report.mean:.3f}; "
                     "the reward ignores the output and GRPO learns nothing from it.")
    else:
        if report.std < 1e-6:
            flags.append(f"WARN constant on base answers: all {n} score {report.mean:.3f}. Groups with equal rewards give "
                         "GRPO no signal: train SFT first, or add partial credit.")
        same_empty = _mean([abs(a.total - b.total) for a, b in zip(real, empty)]) < 1e-6
        if same_empty and (report.gold_mean is None or abs(report.gold_mean - report.empty_mean) < 1e-6):
            flags.append("BLOCK ignores the output: an empty answer scores the same as the real and gold answers.")
    if has_refs and report.gold_mean is not None:
        if report.gold_mean < 0.5:
            flags.append(f"WARN gold answers score only {report.gold_mean:.2f}: the reward may disagree with the data.")
        if report.shuffled_mean is not None and n > 1 and len(set(gold)) > 1 and abs(report.shuffled_mean - report.gold_mean) < 1e-6:
            flags.append("WARN does not check correctness: gold answers score the same on the wrong prompts "
                         "(fine for a format-only reward, not for a correctness reward).")
    return report
