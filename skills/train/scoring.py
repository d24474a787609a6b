"""Score completions with an approved reward: reward.py in the sandbox, judge components by an LLM.

Every sample gets a total (the weighted mean of the counted components, 0 to 1) and its named
sub-scores (log-only ones included). Used by the dry run and, through ``trl_reward_functions``, by
GRPO in the training job: TRL gets one function per component, so it logs every sub-score as
``rewards/<name>/mean``, and weights that are zero for log-only components.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specs.reward import RewardSpec
from synth import scale

JUDGE_PROMPT = """You grade one answer against a rubric.

Rubric ({name}): {rubric}

Request:
{prompt}

Answer:
{answer}
{reference}
""" + scale.FINAL_LINE


class RewardError(Exception):
    """The reward could not score a batch (the code failed, timed out or returned the wrong shape)."""


@dataclass
class Scored:
    total: float
    scores: dict[str, float] = field(default_factory=dict)


def text_of(value: Any) -> str:
    """A prompt or completion as text: chat messages joined, the last user turn for prompts."""
    if isinstance(value, list):
        users = [m.get("content", "") for m in value if isinstance(m, dict) and m.get("role") == "user"]
        if users and any(isinstance(m, dict) and m.get("role") != "assistant" for m in value):
            return str(users[-1])
        return "".join(str(m.get("content", "")) for m in value if isinstance(m, dict))
    return "" if value is None else str(value)


def load_reward(session: Path, reward_path: str) -> RewardSpec:
    from specs.yamlio import load_spec

    return load_spec(session / reward_path, RewardSpec)


def weights(spec: RewardSpec) -> dict[str, float]:
    """Normalized weights of the counted components (log-only ones get 0)."""
    raw = {c.name: (0.0 if c.log_only else c.weight) for c in spec.components}
    total = sum(raw.values()) or 1.0
    return {name: value / total for name, value in raw.items()}


def code_scores(session: Path, spec: RewardSpec, prompts: list[str], completions: list[str],
                references: list[str | None]) -> list[dict[str, float]]:
    """Sub-scores of the code components, computed by reward.py in the sandbox."""
    if all(c.kind == "judge" for c in spec.components):
        return [{} for _ in completions]
    from synth.sandbox import run_python, unconfined_approved

    code = session / spec.code_path
    if not code.exists():
        raise RewardError(f"{spec.code_path} is missing; write the reward first")
    result = run_python(Path(code), "score", {"completions": completions, "references": references, "prompts": prompts},
                        timeout_s=spec.timeout_s, memory_mb=spec.memory_mb, allow_unconfined=unconfined_approved(session))
    if not result.ok:
        raise RewardError(f"reward.py failed: {result.error}")
    value = result.value
    if not isinstance(value, list) or len(value) != len(completions):
        raise RewardError(f"reward.py returned {type(value).__name__} of the wrong length; expected {len(completions)} items")
    out = []
    for item in value:
        scores = item.get("scores", item) if isinstance(item, dict) else {}
        out.append({str(k): float(v) for k, v in scores.items() if isinstance(v, (int, float))})
    return out


def judge_scores(spec: RewardSpec, prompts: list[str], completions: list[str], references: list[str | None]) -> list[dict[str, float]]:
    """Sub-scores of the judge components (RLAIF), one LLM call per sample and component."""
    judges = [c for c in spec.components if c.kind == "judge"]
    if not judges:
        return [{} for _ in completions]
    model = spec.judge_model or os.environ.get("TUNESMITH_JUDGE_MODEL")
    if not model:
        raise RewardError("the reward has judge components but no `judge_model` is set in reward.yaml")
    from synth.llm import LLMClient, LLMStopped, run_sync

    client = LLMClient(model, api_base=os.environ.get("TUNESMITH_JUDGE_API_BASE") or os.environ.get("TUNESMITH_API_BASE"),
                       cache_dir=os.environ.get("TUNESMITH_JUDGE_CACHE"))
    requests, index = [], []
    for i, (prompt, answer, ref) in enumerate(zip(prompts, completions, references)):
        for comp in judges:
            reference = f"\nReference answer (for comparison):\n{ref}\n" if ref else ""
            content = JUDGE_PROMPT.format(name=comp.name, rubric=comp.params.get("rubric", ""), prompt=prompt,
                                          answer=answer, reference=reference)
            requests.append({"messages": [{"role": "user", "content": content}], "temperature": 0.0, "max_tokens": 200})
            index.append((i, comp.name))
    results = run_sync(client.map(requests))
    stopped = next((r for r in results if isinstance(r, LLMStopped)), None)
    if stopped is not None:  # a reward of 0 for every answer would train on nothing but silence
        raise RewardError(f"the reward's judge cannot answer: {stopped}. Training stops here rather than learn from "
                          "rewards of 0; start the judge's server (or allow more time with --timeout) and train again.")
    out: list[dict[str, float]] = [{} for _ in completions]
    for (i, name), result in zip(index, results):
        out[i][name] = parse_judge(result.text) if not isinstance(result, BaseException) else 0.0
    return out


def parse_judge(text: str) -> float:
    """The reward of a judge's reply: its score on the one judge scale as 0..1; no score gives 0."""
    value = scale.read_verdict(text)
    return 0.0 if value is None else value


def score(session: Path, spec: RewardSpec, prompts: list[Any], completions: list[Any],
          references: list[Any] | None = None) -> list[Scored]:
    """Totals and sub-scores for a batch."""
    prompts_t = [text_of(p) for p in prompts]
    completions_t = [text_of(c) for c in completions]
    refs = [None if r is None else str(r) for r in (references or [None] * len(completions_t))]
    code = code_scores(session, spec, prompts_t, completions_t, refs)
    judged = judge_scores(spec, prompts_t, completions_t, refs)
    w = weights(spec)
    out = []
    for a, b in zip(code, judged):
        scores = {**a, **b}
        total = sum(w[name] * scores.get(name, 0.0) for name in w)
        out.append(Scored(round(total, 6), scores))
    return out


def trl_reward_functions(session: Path, reward_path: str | None):
    """One TRL reward function per component (named after it) and their weights, sharing one scoring per batch."""
    if not reward_path:
        raise RewardError("an RL plan needs `reward` (e.g. reward.yaml)")
    spec = load_reward(session, reward_path)
    cache: dict[str, Any] = {"key": None, "scores": None}

    def batch_scores(prompts, completions, reference=None, **_: Any) -> list[Scored]:
        key = (tuple(text_of(c) for c in completions), tuple(text_of(p) for p in prompts))
        if cache["key"] != key:
            cache["scores"] = score(session, spec, prompts, completions, reference)
            cache["key"] = key
        return cache["scores"]

    funcs = []
    for comp in spec.components:
        def func(prompts, completions, _name=comp.name, **kwargs):
            return [s.scores.get(_name, 0.0) for s in batch_scores(prompts, completions, **kwargs)]

        func.__name__ = comp.name
        funcs.append(func)
    w = weights(spec)
    return funcs, [w[c.name] for c in spec.components]
