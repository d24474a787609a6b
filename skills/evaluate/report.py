"""The comparison report: base against each other variant, per tenet and metric.

For every score column (a code metric or a judge rubric of one MetricSpec) it gives each variant's
mean, the paired difference against the base model with a seeded bootstrap confidence interval (and the
variant's own mean with its interval, so "reaches 0.6" can be read off the report, not only the change),
win/tie/loss counts and shares, and the examples that got worse the most. Pure Python.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from skills.evaluate.examples import BASE
from synth import scale

TIE_TOLERANCE = 1e-9


def metric_columns(spec: Any) -> list[dict[str, Any]]:
    """The score columns of an EvaluationSpec: one per code metric and one per judge rubric."""
    columns = []
    for metric in spec.metrics:
        both = metric.code is not None and metric.judge is not None
        if metric.code is not None:
            columns.append({"key": metric.name, "metric": metric.name, "tenet": metric.tenet,
                            "kind": "code", "method": metric.code})
        if metric.judge is not None:
            columns.append({"key": f"{metric.name}.judge" if both else metric.name, "metric": metric.name,
                            "tenet": metric.tenet, "kind": "judge", "method": f"judge ({metric.judge.scale})"})
    return columns


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def bootstrap_ci(diffs: list[float], *, samples: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of paired differences (seeded, so reports repeat)."""
    if not diffs:
        return None
    if len(diffs) == 1:
        return diffs[0], diffs[0]
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    tail = (1 - level) / 2
    lo = means[int(tail * (samples - 1))]
    hi = means[int(round((1 - tail) * (samples - 1)))]
    return lo, hi


def win_tie_loss(pairs: list[tuple[float, float]], tolerance: float = TIE_TOLERANCE) -> tuple[int, int, int]:
    """Counts of examples where the second score is higher, equal (within tolerance) or lower than the first."""
    win = tie = loss = 0
    for before, after in pairs:
        if after - before > tolerance:
            win += 1
        elif before - after > tolerance:
            loss += 1
        else:
            tie += 1
    return win, tie, loss


def compare(rows: list[dict[str, Any]], key: str, variant: str, *, against: str = BASE, samples: int = 1000,
            seed: int = 0, top_k: int = 3) -> dict[str, Any]:
    """One variant against another on one score column, over the examples both were scored on."""
    pairs, worst = [], []
    for row in rows:
        scores = row.get("scores", {})
        before = scores.get(against, {}).get(key)
        after = scores.get(variant, {}).get(key)
        if before is None or after is None:
            continue
        pairs.append((before, after))
        if after < before - TIE_TOLERANCE:
            outputs = row.get("outputs", {})
            worst.append({"index": row.get("index"), "drop": before - after, against: before, variant: after,
                          "prompt": row.get("prompt"), "reference": row.get("reference"),
                          "before_output": outputs.get(against), "after_output": outputs.get(variant)})
    diffs = [after - before for before, after in pairs]
    win, tie, loss = win_tie_loss(pairs)
    n = len(pairs)
    ci = bootstrap_ci(diffs, samples=samples, seed=seed)
    own = bootstrap_ci([a for _, a in pairs], samples=samples, seed=seed)
    worst.sort(key=lambda item: (-item["drop"], item["index"] if item["index"] is not None else 0))
    return {
        "variant": variant, "against": against, "n": n,
        "mean_before": mean([b for b, _ in pairs]), "mean_after": mean([a for _, a in pairs]),
        "diff": mean(diffs), "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
        "after_ci_low": own[0] if own else None, "after_ci_high": own[1] if own else None,
        "win": win, "tie": tie, "loss": loss,
        "better": win / n if n else None, "equal": tie / n if n else None, "worse": loss / n if n else None,
        "regressions": worst[:top_k],
    }


def build_report(rows: list[dict[str, Any]], columns: list[dict[str, Any]], variants: list[str], *,
                 eval_id: str, samples: int = 1000, seed: int = 0, top_k: int = 3,
                 not_judged: list[str] | None = None, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole report as a dict (saved as report.json and rendered to report.md)."""
    metrics = []
    for column in columns:
        key = column["key"]
        means, counts = {}, {}
        for variant in variants:
            values = [r["scores"][variant][key] for r in rows
                      if r.get("scores", {}).get(variant, {}).get(key) is not None]
            means[variant], counts[variant] = mean(values), len(values)
        comparisons = [compare(rows, key, v, samples=samples, seed=seed, top_k=top_k) for v in variants if v != BASE]
        metrics.append({**column, "means": means, "scored": counts, "comparisons": comparisons})
    return {
        "eval_id": eval_id,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "examples": len(rows), "variants": variants, "metrics": metrics,
        "not_judged": sorted(set(not_judged or [])),
        "bootstrap": {"samples": samples, "seed": seed, "level": 0.95},
        **(meta or {}),
    }


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{round(100 * value)}%"


def _own_interval(comparison: dict[str, Any] | None) -> str:
    """" [0.550, 0.717]": the 95% interval of a variant's own mean over the examples paired with the base."""
    if not comparison or comparison.get("after_ci_low") is None or comparison.get("after_ci_high") is None:
        return ""
    return f" [{_num(comparison['after_ci_low'])}, {_num(comparison['after_ci_high'])}]"


def shares_sentence(comparison: dict[str, Any]) -> str:
    """E.g. "better on 49%, equal on 41%, worse on 10% (of 37 examples)"."""
    if not comparison["n"]:
        return "no example scored for both"
    return (f"better on {_pct(comparison['better'])}, equal on {_pct(comparison['equal'])}, "
            f"worse on {_pct(comparison['worse'])} (of {comparison['n']} examples)")


def _clip(text: Any, limit: int = 300) -> str:
    text = "" if text is None else str(text)
    text = text.replace("\n", " ⏎ ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_markdown(report: dict[str, Any]) -> str:
    """report.md: summary table, one line per comparison, not-judged tenets, largest regressions, agreement."""
    variants = report["variants"]
    others = [v for v in variants if v != BASE]
    lines = [f"# Evaluation {report['eval_id']}", ""]
    facts = [f"{report['examples']} examples", f"variants: {', '.join(variants)}"]
    if report.get("base_model"):
        facts.insert(0, f"base model: {report['base_model']}")
    facts.append(f"judge: {report.get('judge_model') or 'none configured'}")
    lines += ["; ".join(facts) + ".", ""]
    header = ["metric", "tenet", "how"] + [v if v == BASE else f"{v} [95% CI]" for v in variants] + [f"Δ {v} vs base [95% CI]" for v in others] + [f"{v}: win / tie / loss" for v in others]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for metric in report["metrics"]:
        cells = [metric["key"], metric.get("tenet") or "", metric["method"]]
        if metric["kind"] == "judge" and (metric.get("tenet") or metric["metric"]) in report.get("not_judged", []):
            lines.append("| " + " | ".join(cells + ["not judged"] * (len(header) - 3)) + " |")
            continue
        own = {c["variant"]: c for c in metric["comparisons"]}
        cells += [_num(metric["means"].get(v)) + _own_interval(own.get(v)) for v in variants]
        cells += [f"{_signed(c['diff'])} [{_signed(c['ci_low'])}, {_signed(c['ci_high'])}]" for c in metric["comparisons"]]
        cells += [f"{c['win']} / {c['tie']} / {c['loss']}" for c in metric["comparisons"]]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if any(m["kind"] == "judge" and m["method"] == "judge (numeric)" for m in report["metrics"]):
        lines += [f"Judge scores: the judge answers {scale.SCALE_TEXT}; the table shows it as 0-1 "
                  f"({scale.LOW} -> 0, 3 -> 0.5, {scale.HIGH} -> 1), as the RLAIF reward does.", ""]
    for metric in report["metrics"]:
        for comparison in metric["comparisons"]:
            if comparison["n"]:
                lines.append(f"- **{metric['key']}**: {comparison['variant']} is {shares_sentence(comparison)} against the base model.")
    if report.get("forgetting"):
        from skills.evaluate.forgetting import render as render_forgetting

        lines += [""] + render_forgetting(report["forgetting"])
    if report.get("not_judged"):
        lines += ["", "## Not judged", "",
                  "No judge model was configured, so these tenets were not scored: "
                  + ", ".join(f"`{name}`" for name in report["not_judged"])
                  + ". Set `judge_model` in evaluation.yaml (or configure one) and run the evaluation again."]
    usage = report.get("judge_usage") or {}
    if usage.get("stopped"):
        lines += ["", f"**Judging stopped: {usage['stopped']}** Start the judge's server (or allow more time with "
                  "--timeout) and evaluate again: the answers are reused and the verdicts already given come from the cache."]
    if usage.get("failures"):
        lines += ["", f"**The judge gave no usable score for {usage['failures']} of {usage.get('judged', '?')} answers** "
                  "(a failed call or an answer without a score); their notes are in results.jsonl (`judge_notes`)."]
    if report.get("judge_warning"):
        lines += ["", f"**Warning:** {report['judge_warning']}"]
    regressions = [(m, c) for m in report["metrics"] for c in m["comparisons"] if c["regressions"]]
    if regressions:
        lines += ["", "## Largest regressions", ""]
        for metric, comparison in regressions:
            lines.append(f"### {metric['key']}: {comparison['variant']} worse than {comparison['against']}")
            lines.append("")
            for item in comparison["regressions"]:
                lines.append(f"- example {item['index']} (score {_num(item[comparison['against']], 2)} → "
                             f"{_num(item[comparison['variant']], 2)})")
                lines.append(f"  - input: {_clip(item['prompt'])}")
                if item.get("reference") is not None:
                    lines.append(f"  - reference: {_clip(item['reference'])}")
                lines.append(f"  - {comparison['against']}: {_clip(item['before_output'])}")
                lines.append(f"  - {comparison['variant']}: {_clip(item['after_output'])}")
            lines.append("")
    agreement = report.get("agreement")
    if agreement:
        lines += ["", "## Judge agreement with your ratings", "", agreement_sentence(agreement)]
    return "\n".join(lines).rstrip() + "\n"


def agreement_sentence(agreement: dict[str, Any]) -> str:
    if not agreement.get("compared"):
        return f"You rated {agreement.get('rated', 0)} answers; none had a judge score to compare with."
    return (f"The judge agrees with you on {agreement['agree']} of {agreement['compared']} rated answers "
            f"({_pct(agreement['rate'])}, pass/fail at 0.5); same score on {agreement['exact']} "
            f"({_pct(agreement['exact'] / agreement['compared'])}).")


def write_report(folder: Path, report: dict[str, Any]) -> tuple[Path, Path]:
    """Write report.json and report.md atomically; return their paths."""
    from specs.io import atomic_write_text

    folder = Path(folder)
    json_path = atomic_write_text(folder / "report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    md_path = atomic_write_text(folder / "report.md", render_markdown(report))
    return json_path, md_path


def load_report(folder: Path) -> dict[str, Any] | None:
    path = Path(folder) / "report.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def summary(report: dict[str, Any]) -> str:
    """A few lines for the chat: per metric, base vs best other variant and the shares."""
    lines = []
    for metric in report["metrics"]:
        for c in metric["comparisons"]:
            if c["n"]:
                lines.append(f"{metric['key']}: base {_num(c['mean_before'])} → {c['variant']} {_num(c['mean_after'])}"
                             f"{_own_interval(c)} ({_signed(c['diff'])}, 95% CI [{_signed(c['ci_low'])}, {_signed(c['ci_high'])}]); "
                             f"{shares_sentence(c)}")
    for c in (report.get("forgetting") or {}).get("comparisons", []):
        if c["n"]:
            lines.append(f"general set (forgetting): base {_num(c['mean_before'])} → {c['variant']} {_num(c['mean_after'])} "
                         f"({_signed(c['diff'])}, 95% CI [{_signed(c['ci_low'])}, {_signed(c['ci_high'])}])")
    lines += [f"Finding: {f}" for f in findings(report)]
    if report.get("not_judged"):
        lines.append("Not judged (no judge model): " + ", ".join(report["not_judged"]))
    return "\n".join(lines)


def findings(report: dict[str, Any]) -> list[str]:
    """What the report card flags: today a general-set drop beyond the threshold (forgetting)."""
    return list((report.get("forgetting") or {}).get("findings", []))
