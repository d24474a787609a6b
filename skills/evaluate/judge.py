"""LLM-as-judge and the person's ratings.

A judge rubric (specs.evaluation.JudgeRubric) is a prompt with ``{prompt}``, ``{reference}`` and
``{output}`` placeholders. The judge answers with a score on the one judge scale of synth.scale
(1-5, mapped to 0-1 there) or a category name (categorical scale, mapped by ``categories``). Calls go through synth.llm (disk cache,
bounded concurrency, retries).

Ratings: the person scores about 20 answers (evals/<id>/ratings.jsonl); ``agreement`` says how
often the judge agrees with them.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from skills.evaluate.examples import read_jsonl
from synth import scale

JUDGE_SYSTEM = ("You are a strict evaluator. Follow the rubric. End your answer with a final line "
                "`SCORE: <value>` where <value> is {scale_hint}.")
PASS_MARK = 0.5
"""Scores at or above this count as a pass when ratings and judge scores are compared."""


def fill(template: str, *, prompt: str, reference: str | None, output: str) -> str:
    """Replace the placeholders (plain replacement, so braces elsewhere in the rubric are safe)."""
    return (template.replace("{prompt}", prompt or "")
            .replace("{reference}", reference if reference is not None else "(no reference answer)")
            .replace("{output}", output or ""))


def scale_hint(rubric: Any) -> str:
    if rubric.scale == "categorical":
        return "one of: " + ", ".join(rubric.categories)
    return scale.SCALE_TEXT


def judge_messages(rubric: Any, *, prompt: str, reference: str | None, output: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": JUDGE_SYSTEM.format(scale_hint=scale_hint(rubric))},
        {"role": "user", "content": fill(rubric.prompt, prompt=prompt, reference=reference, output=output)},
    ]


def parse_verdict(text: str, rubric: Any) -> float | None:
    """The 0-1 score in a judge's answer, or None when it gave none."""
    text = text or ""
    if rubric.scale != "categorical":
        return scale.read_verdict(text)
    tail = re.findall(r"score\s*[:=]\s*(.+)", text, re.IGNORECASE)
    candidates = [tail[-1]] if tail else []
    candidates.append(text.strip().splitlines()[-1] if text.strip() else "")
    for candidate in candidates:
        value = _parse_one(candidate.strip().strip("*`'\". "), rubric)
        if value is not None:
            return value
    return None


def _parse_one(text: str, rubric: Any) -> float | None:
    if rubric.scale == "categorical":
        lowered = {name.lower(): score for name, score in rubric.categories.items()}
        if text.lower() in lowered:
            return float(lowered[text.lower()])
        for name in sorted(lowered, key=len, reverse=True):
            if re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text, re.IGNORECASE):
                return float(lowered[name])
        return None
    return scale.read_verdict(text)


async def judge_many(client: Any, rubric: Any, items: list[dict[str, Any]], *, max_tokens: int = 256,
                     on_done: Any = None) -> list[tuple[float | None, str]]:
    """Judge many answers; each item has prompt, reference, output. Returns (score or None, judge text)."""
    requests = [{"messages": judge_messages(rubric, prompt=i["prompt"], reference=i.get("reference"), output=i["output"]),
                 "temperature": 0.0, "max_tokens": max_tokens} for i in items]
    answers = await client.map(requests, on_done=on_done)
    out = []
    for answer in answers:
        if isinstance(answer, BaseException):
            out.append((None, f"judge failed: {answer}"))
        else:
            out.append((parse_verdict(answer.text, rubric), answer.text))
    return out


def make_client(model: str, *, api_base: str | None = None, cache_dir: Path | None = None, concurrency: int = 4) -> Any:
    """A synth.llm client for the judge model."""
    from synth.llm import LLMClient

    return LLMClient(model, api_base=api_base, cache_dir=cache_dir, concurrency=concurrency)


# -- judges must differ from the RLAIF reward judge ------------------------------------------------

SAME_JUDGE = "EVAL_JUDGE_IS_REWARD_JUDGE"
"""Finding code: the evaluation judge is the model that gave the training reward."""


def reward_judge(session_dir: Path) -> str | None:
    """The judge model that scored the reward, when training.yaml uses RLAIF."""
    from skills.evaluate.examples import load_optional
    from specs.reward import RewardSpec
    from specs.training import TrainingPlan

    plan = load_optional(Path(session_dir) / "training.yaml", TrainingPlan)
    if plan is None or not plan.technique.needs_judge:
        return None
    reward = load_optional(Path(session_dir) / (plan.reward or "reward.yaml"), RewardSpec)
    if reward is None:
        return None
    if reward.judge_model:
        return reward.judge_model
    for component in reward.components:
        model = component.params.get("judge_model") or component.params.get("model")
        if component.kind == "judge" and model:
            return str(model)
    return None


def judge_conflict(session_dir: Path, judge_model: str | None) -> str | None:
    """A warning when the evaluation judge is the RLAIF reward judge (the model was trained to please it)."""
    if not judge_model:
        return None
    rewarder = reward_judge(session_dir)
    if rewarder and _same_model(rewarder, judge_model):
        return (f"{SAME_JUDGE}: the evaluation judge `{judge_model}` is the model that gave the RLAIF reward in "
                "training; the tuned model learned to please it, so its scores will look better than they are. "
                "Pick a different judge model, or allow to accept the risk.")
    return None


def _same_model(a: str, b: str) -> bool:
    def norm(name: str) -> str:
        name = name.strip().lower()
        return name.split("/", 1)[1] if name.startswith(("openai/", "ollama/", "ollama_chat/", "hosted_vllm/")) else name
    return norm(a) == norm(b)


# -- the person's ratings ---------------------------------------------------------------------------


def rating_candidates(rows: list[dict[str, Any]], *, n: int = 20, seed: int = 0) -> list[dict[str, Any]]:
    """About ``n`` answers for the person to rate: a seeded sample over examples and variants."""
    pool = [(row, variant) for row in rows for variant in sorted(row.get("outputs", {}))]
    rng = random.Random(seed)
    rng.shuffle(pool)
    picked, seen = [], set()
    for row, variant in pool:  # prefer distinct examples first
        if row["index"] not in seen:
            picked.append((row, variant))
            seen.add(row["index"])
        if len(picked) >= n:
            break
    for pair in pool:
        if len(picked) >= n:
            break
        if pair not in picked:
            picked.append(pair)
    return [{"index": row["index"], "variant": variant, "prompt": row.get("prompt"),
             "reference": row.get("reference"), "output": row["outputs"][variant]} for row, variant in picked]


def save_rating(eval_folder: Path, *, index: int, variant: str, metric: str, score: float,
                note: str | None = None) -> dict[str, Any]:
    """Append one rating (0-1) to ratings.jsonl; a later rating of the same answer replaces an earlier one."""
    if not 0.0 <= float(score) <= 1.0:
        raise ValueError("a rating is a score between 0 and 1")
    row = {"index": int(index), "variant": variant, "metric": metric, "score": float(score),
           "rated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if note:
        row["note"] = note
    path = Path(eval_folder) / "ratings.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
    return row


def load_ratings(eval_folder: Path) -> list[dict[str, Any]]:
    """The latest rating of each (example, variant, metric)."""
    path = Path(eval_folder) / "ratings.jsonl"
    if not path.exists():
        return []
    latest: dict[tuple[int, str, str], dict[str, Any]] = {}
    for row in read_jsonl(path):
        latest[(row["index"], row["variant"], row["metric"])] = row
    return list(latest.values())


def agreement(ratings: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How often the judge agrees with the person: pass/fail at 0.5, and the same score."""
    by_index = {row["index"]: row for row in rows}
    compared = agree = exact = 0
    per_metric: dict[str, dict[str, int]] = {}
    for rating in ratings:
        row = by_index.get(rating["index"])
        judged = (row or {}).get("scores", {}).get(rating["variant"], {}).get(rating["metric"])
        if judged is None:
            continue
        compared += 1
        same_side = (judged >= PASS_MARK) == (rating["score"] >= PASS_MARK)
        agree += same_side
        exact += abs(judged - rating["score"]) < 1e-6
        bucket = per_metric.setdefault(rating["metric"], {"compared": 0, "agree": 0})
        bucket["compared"] += 1
        bucket["agree"] += same_side
    return {"rated": len(ratings), "compared": compared, "agree": agree, "exact": exact,
            "rate": agree / compared if compared else None, "per_metric": per_metric}


def update_report_agreement(eval_folder: Path) -> dict[str, Any] | None:
    """Recompute the judge's agreement with the stored ratings and write it into report.json and report.md."""
    from skills.evaluate.examples import load_results
    from skills.evaluate.report import load_report, write_report

    report = load_report(eval_folder)
    if report is None:
        return None
    report["agreement"] = agreement(load_ratings(eval_folder), load_results(eval_folder))
    write_report(eval_folder, report)
    return report["agreement"]
