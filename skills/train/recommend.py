"""Recommend a technique (SFT, DPO, RLVR, RLAIF) and an adapter (LoRA or full), each with its reason.

The inputs are what the person has: the use-case spec (task, contract, how each tenet is measured),
the data (gold answers? preference pairs? prompts only?), the base model's size and this machine's
memory. The output ranks all four techniques, so the person sees why the first one wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skills.common.basemodel import available_memory_bytes, fits_in_memory, param_count, training_memory_bytes
from skills.train.datafacts import DataFacts
from specs.training import Technique
from specs.use_case import UseCaseSpec

VERIFIABLE_METRICS = {"exact_match", "label_match", "json_valid", "json_schema", "regex", "numeric_tolerance"}
"""Code metrics a reward can check exactly (RLVR)."""
OPEN_ENDED_TASKS = {"generation", "summarization", "rewriting", "chat"}
SMALL_MODEL = 500_000_000
"""Below this many parameters a full fine-tune is cheap on a CPU and learns more than LoRA (measured)."""
LARGE_MODEL = 1_000_000_000
"""From this size up a model often follows a good prompt well enough without training."""


@dataclass
class Option:
    technique: Technique
    score: float
    reason: str

    @property
    def label(self) -> str:
        return self.technique.label


@dataclass
class Recommendation:
    ranked: list[Option]
    adapter: str
    adapter_reason: str
    prompt_note: str | None = None
    """Set when a better prompt alone may be enough."""
    warnings: list[str] = field(default_factory=list)

    @property
    def technique(self) -> Technique:
        return self.ranked[0].technique

    @property
    def reason(self) -> str:
        return f"{self.ranked[0].reason} {self.adapter_reason}"

    def text(self) -> str:
        lines = [f"Recommended: {self.technique.label} with {self.adapter.upper() if self.adapter == 'lora' else 'a full fine-tune'}."]
        for rank, option in enumerate(self.ranked, start=1):
            lines.append(f"{rank}. {option.label} ({option.score:.1f}): {option.reason}")
        lines.append(f"Adapter: {self.adapter} — {self.adapter_reason}")
        if self.prompt_note:
            lines.append(f"Prompt only? {self.prompt_note}")
        lines.extend(f"Note: {w}" for w in self.warnings)
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "technique": self.technique,
            "adapter": self.adapter,
            "ranked": [{"technique": o.technique, "score": o.score, "reason": o.reason} for o in self.ranked],
            "adapter_reason": self.adapter_reason,
            "prompt_note": self.prompt_note,
            "warnings": self.warnings,
        }


def _verifiable(use_case: UseCaseSpec) -> list[str]:
    """Names of tenets a program can check exactly."""
    found = [t.name for t in use_case.success_tenets if t.measured_by == "code" and t.metric in VERIFIABLE_METRICS]
    if not found and use_case.contract.output_format in ("label", "json"):
        found = [f"output_format={use_case.contract.output_format}"]
    return found


def recommend(
    use_case: UseCaseSpec,
    data: DataFacts,
    *,
    n_params: int | None = None,
    available_bytes: int | None = None,
    judge_available: bool = False,
    base_score: float | None = None,
) -> Recommendation:
    """Rank the techniques for this use case and data; pick LoRA or full for this machine."""
    if n_params is None:
        n_params = param_count(use_case.base_model)
    verifiable = _verifiable(use_case)
    judged = [t.name for t in use_case.success_tenets if t.measured_by == "judge"]
    open_ended = use_case.task_type in OPEN_ENDED_TASKS
    gold, pairs = data.has_gold and data.format != "prompt_only", data.has_pairs
    prompts_only = data.format == "prompt_only"
    few = data.records and data.records < 50
    options: list[Option] = []

    # SFT: learns directly from gold answers; the first step whenever they exist.
    if gold:
        if open_ended and judged and not verifiable:
            options.append(Option(Technique.SFT, 3.0, f"{data.records} gold answers exist; SFT teaches the style and format directly (an RL or DPO pass can polish judged qualities afterwards)."))
        else:
            options.append(Option(Technique.SFT, 4.0, f"{data.records} records carry gold answers: SFT learns the format and the answers directly and is the cheapest, most stable technique."))
    elif pairs:
        options.append(Option(Technique.SFT, 2.0, "the chosen answers of the preference pairs can serve as SFT targets, but the rejected side's signal is lost."))
    else:
        options.append(Option(Technique.SFT, 0.5, "needs gold answers; the data holds prompts only."))

    # DPO: learns from chosen/rejected pairs.
    if pairs:
        options.append(Option(Technique.DPO, 4.5, f"{data.records} preference pairs (chosen vs rejected) are exactly what DPO learns from, with no reward model and no sampling."))
    elif judged and gold:
        options.append(Option(Technique.DPO, 1.5, "possible if you build preference pairs (e.g. gold answer vs the base model's answer), but no pairs exist yet."))
    else:
        options.append(Option(Technique.DPO, 0.5, "needs preference pairs (chosen and rejected answers); the data has none."))

    # RLVR: RL against a program-checked reward.
    if verifiable:
        what = ", ".join(verifiable)
        if prompts_only and data.has_reference:
            score, why = 4.2, f"prompts with reference answers and tenets a program checks ({what}): GRPO optimizes the verified reward directly."
        elif prompts_only:
            score, why = 3.5, f"tenets a program checks ({what}) give a verifiable reward without gold answers."
        elif use_case.task_type == "math":
            score, why = 3.6, f"math answers are checked by a program ({what}); RL explores other correct solutions beyond the gold ones (SFT first if the model misses the format)."
        else:
            score, why = 2.5, (f"the tenets are checkable ({what}), so RLVR can refine after SFT (plan it with base_model "
                               "runs/<sft-run>/final); from the base model it gets little signal while the base rarely answers in format.")
        options.append(Option(Technique.RLVR, score, why))
    else:
        options.append(Option(Technique.RLVR, 0.3, "no tenet is checkable by a program, so there is no verifiable reward."))

    # RLAIF: RL with an LLM judge's rubric.
    if judged:
        score = 3.8 if not gold and not pairs else (2.6 if open_ended else 2.0)
        why = f"the tenets {', '.join(judged)} need a judgement; an LLM judge's rubric becomes the reward."
        if not judge_available:
            score -= 1.0
            why += " No judge model is configured yet (set one with --judge-model)."
        options.append(Option(Technique.RLAIF, score, why))
    else:
        options.append(Option(Technique.RLAIF, 0.8, "every tenet is checkable by code; a judge adds cost and noise over a verifiable reward."))

    ranked = sorted(options, key=lambda o: -o.score)
    adapter, adapter_reason = choose_adapter(n_params, ranked[0].technique, available_bytes)
    warnings: list[str] = []
    if data.format in ("missing", "empty"):
        warnings.append("no training data yet: generate it in the data step before training.")
    elif few:
        warnings.append(f"only {data.records} training records; 100+ varied records teach far more.")
    if ranked[0].technique.is_rl and data.format not in ("prompt_only", "sft", "preference"):
        warnings.append("RL needs prompts; none were found.")
    return Recommendation(ranked, adapter, adapter_reason, prompt_note(use_case, n_params, base_score), warnings)


def choose_adapter(n_params: int | None, technique: Technique | str, available_bytes: int | None = None) -> tuple[str, str]:
    """LoRA or full, with the reason (model size against this machine's memory)."""
    size = f"{n_params / 1e6:.0f}M" if n_params else "unknown-size"
    full_ok, full_why = fits_in_memory(n_params, "full", available_bytes)
    lora_ok, lora_why = fits_in_memory(n_params, "lora", available_bytes)
    if not lora_ok:
        return "lora", f"even LoRA will not fit: {lora_why}."
    technique = Technique(technique)
    if technique.needs_reference_model:
        return "lora", (
            f"{technique.label} needs a frozen reference model; with LoRA the base weights serve as the reference with no second copy, "
            "and short runs are stable at LoRA learning rates."
        )
    have = available_bytes if available_bytes is not None else available_memory_bytes()
    if n_params and n_params <= SMALL_MODEL and full_ok and training_memory_bytes(n_params, "full") * 2 <= have:
        return "full", (
            f"the {size} model is small: a full fine-tune fits in memory ({full_why}), costs the same time as LoRA "
            "at this size and learned more in measurements (100% vs 85% on seen cases); general data is mixed in against forgetting."
        )
    if not full_ok:
        return "lora", f"a full fine-tune of the {size} model will not fit ({full_why}); LoRA trains small adapters over frozen weights."
    return "lora", f"the {size} model is large enough that LoRA's memory saving matters and its small adapter is easy to ship ({lora_why})."


def prompt_note(use_case: UseCaseSpec, n_params: int | None, base_score: float | None) -> str | None:
    """Say when a better prompt alone may be enough, and why."""
    if base_score is not None and base_score >= 0.85:
        return f"the base model already scores {base_score:.0%} on the evaluation; improve the system prompt and re-evaluate before training."
    big = n_params is not None and n_params >= LARGE_MODEL
    if big and use_case.task_type in OPEN_ENDED_TASKS | {"question_answering"}:
        return "a model this size often follows a clear system prompt with two or three examples; evaluate the base model with such a prompt first."
    if big and use_case.contract.output_format == "label" and len(use_case.contract.labels or []) <= 5:
        return "a few labels and a capable base model: a prompt listing the labels with one example each may already do; evaluate it first."
    return None
