"""The forgetting measure: base and each tuned run on tunesmith's general set, checked by code.

The general set (general_set.jsonl, written by skills.evaluate.general_set) holds arithmetic, short
factual questions, instruction following and format obedience. Each answer scores 1 or 0 against
its item's ``check``; the report gives each variant's share right, the paired change against the
base model with its bootstrap interval (overall and per category), and a finding when a tuned
run's score falls by more than the spec's threshold with the whole interval below zero.
Pure Python; the job generates the answers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from skills.evaluate.examples import BASE
from skills.common.metrics import parse_json
from synth.answers import final_number

SET_PATH = Path(__file__).with_name("general_set.jsonl")


def load_set(limit: int | None = None, path: Path = SET_PATH) -> list[dict[str, Any]]:
    """The general set's items, the first ``limit`` of them when given (each prefix holds every kind)."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return items if limit is None else items[:limit]


def _clean(text: str) -> str:
    return (text or "").strip().strip(".!\"'` \n").strip()


def _contains(text: str, needle: str, case: bool = False) -> bool:
    flags = 0 if case else re.IGNORECASE
    return re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", text or "", flags) is not None


def check(item: dict[str, Any], output: str) -> float:
    """1.0 when ``output`` satisfies the item's check, else 0.0."""
    rule = item["check"]
    kind = rule["kind"]
    text = (output or "").strip()
    if kind == "number":  # the `Answer:` line's number, else the last: "9 times 9 is 81" answers 81
        got = final_number(text)
        return float(got is not None and abs(got - float(rule["value"])) < 1e-6)
    if kind == "contains":
        return float(any(_contains(text, needle, rule.get("case", False)) for needle in rule["any"]))
    if kind == "exact":
        return float(_clean(text).lower() in {a.lower() for a in rule["any"]})
    if kind == "json":
        ok, value = parse_json(text)
        return float(ok and value == rule["equals"])
    if kind == "bullets":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return float(len(lines) == rule["count"] and all(line.startswith("- ") and len(line) > 2 for line in lines))
    if kind == "lower":
        return float(bool(text) and text == text.lower() and _contains(text, rule["contains"]))
    if kind == "ends_with":
        return float(bool(text) and text.endswith(rule["suffix"]) and len(text.split()) <= rule.get("max_words", 10**6))
    if kind == "words":
        return float(rule["min"] <= len(text.split()) <= rule["max"])
    raise ValueError(f"general set item {item.get('id')}: unknown check kind {kind!r}")


def rows_for(items: list[dict[str, Any]], answers: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One result row per item: its answers and scores per variant (the shape report.compare reads)."""
    rows = []
    for i, item in enumerate(items):
        outputs = {variant: texts[i] for variant, texts in answers.items()}
        rows.append({"index": i, "id": item["id"], "category": item["category"], "prompt": item["prompt"],
                     "reference": json.dumps(item["check"], ensure_ascii=False), "outputs": outputs,
                     "scores": {variant: {"general": check(item, text)} for variant, text in outputs.items()}})
    return rows


def build_section(rows: list[dict[str, Any]], variants: list[str], *, threshold: float, total: int,
                  samples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """report["forgetting"]: means, comparisons against base (overall and per category) and findings."""
    from skills.evaluate.report import compare, mean

    categories = sorted({r["category"] for r in rows})
    means = {v: mean([r["scores"][v]["general"] for r in rows]) for v in variants}
    by_category = {c: {v: mean([r["scores"][v]["general"] for r in rows if r["category"] == c]) for v in variants}
                   for c in categories}
    comparisons, findings = [], []
    for variant in variants:
        if variant == BASE:
            continue
        overall = compare(rows, "general", variant, samples=samples, seed=seed, top_k=3)
        per = {c: compare([r for r in rows if r["category"] == c], "general", variant, samples=samples, seed=seed, top_k=0)
               for c in categories}
        overall["categories"] = {c: {k: per[c][k] for k in ("n", "diff", "ci_low", "ci_high")} for c in categories}
        comparisons.append(overall)
        if overall["diff"] is not None and overall["diff"] < -threshold and (overall["ci_high"] or 0) < 0:
            worst = min(categories, key=lambda c: per[c]["diff"] if per[c]["diff"] is not None else 0)
            findings.append(f"forgetting: {variant} scores {overall['mean_after']:.2f} on the general set against the "
                            f"base model's {overall['mean_before']:.2f} ({overall['diff']:+.2f}, 95% CI "
                            f"[{overall['ci_low']:+.2f}, {overall['ci_high']:+.2f}]; threshold -{threshold:.2f}); "
                            f"worst on {worst} ({per[worst]['diff']:+.2f}). Mix in general data "
                            "(training.yaml data.general_mix_ratio) or train fewer steps.")
            continue
        for category in categories:  # the whole set held, but one kind of ability was lost (a tuned unit-conversion
            stats = per[category]     # model that kept its facts and lost its arithmetic)
            if stats["diff"] is not None and stats["diff"] < -threshold and (stats["ci_high"] or 0) < 0:
                findings.append(f"forgetting: {variant} lost {category} on the general set: {stats['mean_after']:.2f} "
                                f"against the base model's {stats['mean_before']:.2f} ({stats['diff']:+.2f}, 95% CI "
                                f"[{stats['ci_low']:+.2f}, {stats['ci_high']:+.2f}] over {stats['n']} items; threshold "
                                f"-{threshold:.2f}). Mix in general data (training.yaml data.general_mix_ratio) or "
                                "train fewer steps.")
    return {"items": len(rows), "set_items": total, "threshold": threshold, "categories": categories,
            "means": means, "by_category": by_category, "comparisons": comparisons, "findings": findings}


def render(section: dict[str, Any]) -> list[str]:
    """The report.md lines of the forgetting section."""
    variants = list(section["means"])
    lines = ["## General abilities (forgetting)", "",
             f"{section['items']} of the {section['set_items']} items of tunesmith's general set "
             f"(arithmetic, facts, instructions, formats; checked by code), answered without the task's system prompt. "
             f"A drop beyond {section['threshold']:.2f} with its interval below zero is a finding.", ""]
    header = ["", *variants] + [f"Δ {c['variant']} vs base [95% CI]" for c in section["comparisons"]]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def row(name: str, means: dict[str, Any], stats: list[dict[str, Any]]) -> str:
        cells = [name] + ["n/a" if means.get(v) is None else f"{means[v]:.3f}" for v in variants]
        cells += ["n/a" if s["diff"] is None else f"{s['diff']:+.3f} [{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]" for s in stats]
        return "| " + " | ".join(cells) + " |"

    lines.append(row("**all**", section["means"], section["comparisons"]))
    for category in section["categories"]:
        lines.append(row(category, section["by_category"][category],
                         [c["categories"][category] for c in section["comparisons"]]))
    for finding in section["findings"]:
        lines += ["", f"**Finding:** {finding}"]
    return lines
