"""Size a training plan to this machine and this data: batch, lengths, steps, learning rate, LoRA.

The numbers come from measurements on a 2-core CPU (shared/MEASURED.md): SFT runs at about 160
training tokens a second for a 135M model, DPO costs ~2.5x an SFT step, GRPO ~6.5 s a step with 4
generations of 32 tokens; the learning rates that moved a short run are LoRA 2e-4..5e-4, full 5e-5,
DPO 5e-5, GRPO 1e-4..2e-4; on the demo's task 60 full SFT steps reached 0.66 correct label on held-out
merchants at 1e-4 against 0.56 at 5e-5 (references/defaults.md). A warm-up of a few real steps replaces the
heuristic estimate.
"""

from __future__ import annotations

import math
import os
from typing import Any

from skills.common.basemodel import param_count
from skills.train.datafacts import DataFacts
from specs.training import DataMix, Hyperparameters, Technique, TimeEstimate, TrainingPlan

CPU_TOKENS_PER_SECOND_135M = 160.0
"""Measured SFT training throughput of SmolLM2-135M on 2 CPU cores."""
REFERENCE_PARAMS = 134_515_008
LOAD_SECONDS = 20.0
"""Model load, tokenization and the slow first steps."""

LEARNING_RATES = {(Technique.SFT, "lora"): 3e-4, (Technique.SFT, "full"): 1e-4, (Technique.DPO, "lora"): 5e-5,
                  (Technique.DPO, "full"): 1e-5, (Technique.RLVR, "lora"): 1.5e-4, (Technique.RLVR, "full"): 2e-5,
                  (Technique.RLAIF, "lora"): 1.5e-4, (Technique.RLAIF, "full"): 2e-5}


def has_gpu() -> bool:
    """Whether a GPU is visible, judged without importing torch."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return any(os.path.exists(p) for p in ("/dev/nvidia0", "/dev/nvidiactl"))


def round_up(value: float, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)


def size_plan(technique: Technique | str, adapter: str, base_model: str, facts: DataFacts, *, gpu: bool | None = None,
              reward: str | None = None, reason: str | None = None) -> tuple[TrainingPlan, list[str]]:
    """A plan with defaults sized to the data and the machine, and a note on each choice."""
    technique = Technique(technique)
    gpu = has_gpu() if gpu is None else gpu
    notes: list[str] = []
    p99 = facts.token_quantile(0.99) or 128
    mean = facts.mean_tokens or 100.0
    max_length = min(2048, max(32, round_up(p99 * 1.15, 16)))
    notes.append(f"max_length {max_length}: the longest records are about {p99} tokens (estimated).")
    if gpu:
        batch = 16 if mean < 256 else 8
    else:
        batch = 8 if mean < 100 else (4 if mean < 256 else 2)
    notes.append(f"batch_size {batch}: records average ~{mean:.0f} tokens on {'a GPU' if gpu else 'the CPU'}.")
    lr = LEARNING_RATES[(technique, adapter)]
    full_sft = technique.needs_gold and adapter == "full"
    notes.append(f"learning_rate {lr:g}: what moved short {technique.label} {adapter} runs in measurements"
                 + (" (full SFT: 1e-4 beat 5e-5 on the demo, references/defaults.md)." if full_sft else "."))
    records = max(1, facts.records)
    hp: dict[str, Any] = {"batch_size": batch, "max_length": max_length, "learning_rate": lr}
    if technique.needs_gold:
        epochs = 3.0 if records < 300 else (2.0 if records < 1000 else 1.0)
        steps = min(2000, max(30, math.ceil(records * epochs / batch)))
        notes.append(f"max_steps {steps}: about {epochs:g} passes over {records} records (at least 30 steps teach the format).")
        packing = gpu and mean < max_length / 4
        hp["packing"] = packing
        if mean < max_length / 4:
            notes.append("packing " + ("on: short records share sequences on the GPU." if packing else
                                       "off: packing needs flash attention to keep records apart on the CPU."))
        if not packing:
            notes.append("group_by_length on: records of similar length share a batch, so little of it is padding "
                         "and more of each step's work is real tokens.")
    elif technique.needs_pairs:
        epochs = 1.0
        steps = min(1000, max(20, math.ceil(records / batch)))
        notes.append(f"max_steps {steps}: one pass over {records} preference pairs.")
    else:
        answers = sorted(facts.answer_tokens) or [16]
        completion = min(256, max(8, round_up(answers[int(0.95 * (len(answers) - 1))] * 1.5, 8)))
        hp.update(num_generations=4, max_completion_length=completion, batch_size=max(4, batch // 4 * 4), beta=0.04)
        epochs = 1.0
        steps = min(500, max(40, records // 4))
        notes.append(f"max_steps {steps}: GRPO needs ~40+ steps before rewards move (10 showed no trend); "
                     f"{hp['num_generations']} generations of up to {completion} tokens per prompt.")
    hp.update(max_steps=steps, epochs=epochs, save_steps=max(10, steps // 5), logging_steps=1 if steps <= 300 else 5)
    data = DataMix()
    if technique.needs_gold:
        data.system_prompt = "short"
        notes.append("system_prompt short: the run trains with the first sentence of the system prompt (the model learns "
                     "the labels and format from its data) and is asked the same way; "
                     f"{SHORT_PROMPT_NOTE}")
    if full_sft:
        data.general_mix_ratio = 0.1
        notes.append("general_mix_ratio 0.1: a full fine-tune mixes in the base model's own answers to generic prompts against forgetting.")
    plan = TrainingPlan(technique=technique, adapter=adapter, base_model=base_model, reason=reason,
                        hyperparameters=Hyperparameters(**hp), data=data, reward=reward if technique.needs_reward else None)
    plan.estimate = heuristic_estimate(plan, facts, gpu)
    return plan, notes


SHORT_PROMPT_NOTE = "measured on the demo's task: 45 instead of 75 tokens a record, 1.7x the records a second (references/speed.md)."

MIN_STEPS = {Technique.SFT: 30, Technique.DPO: 20, Technique.RLVR: 40, Technique.RLAIF: 40}
"""Fewest steps worth running: SFT needs ~30 to learn the format, GRPO ~40 before rewards move."""


def fit_budget(plan: TrainingPlan, minutes: float | None, min_steps: int | None = None) -> str | None:
    """Cut ``plan``'s steps so its estimate fits ``minutes`` (in place); return a note when it cut.
    The cut never goes below the technique's floor (``MIN_STEPS``) or ``min_steps`` when that is higher."""
    if not minutes or plan.estimate is None or plan.estimate.seconds_per_step <= 0:
        return None
    hp = plan.hyperparameters
    est, restored = plan.estimate, None
    if est.cut_from_steps and est.cut_to_steps == hp.max_steps and est.cut_from_steps > hp.max_steps:
        restored = hp.max_steps
        hp.max_steps = est.cut_from_steps  # the budget's own earlier cut (from a guess): fit again from the sized plan
        plan.estimate = est = est.model_copy(update={"cut_from_steps": None, "cut_to_steps": None,
                                                     "total_seconds": round(LOAD_SECONDS + est.seconds_per_step * hp.max_steps, 1)})
    fits = int((minutes * 60 - LOAD_SECONDS) / plan.estimate.seconds_per_step)
    floor = max(MIN_STEPS.get(plan.technique, 20), min_steps or 0)
    if hp.max_steps <= max(fits, floor):
        return None if restored is None else (f"max_steps {hp.max_steps}: the measured speed fits the plan's own steps in the "
                                              f"training budget of {minutes:g} min (the guess had cut them to {restored}).")
    steps = max(floor, fits)
    uncut = hp.max_steps
    hp.max_steps = steps
    hp.save_steps = max(5, min(hp.save_steps, steps // 3))
    plan.estimate = plan.estimate.model_copy(update={"total_seconds": round(LOAD_SECONDS + plan.estimate.seconds_per_step * steps, 1),
                                                     "cut_from_steps": uncut, "cut_to_steps": steps})
    over = (" (the fewest steps " + ("set by --train-min-steps" if min_steps and min_steps >= MIN_STEPS.get(plan.technique, 20)
                                     else "worth running") + "; it still runs over the budget)") if fits < floor else ""
    if restored is not None and steps != restored:
        return f"max_steps {steps}: fitted again to the training budget of {minutes:g} min at the measured speed (was {restored}){over}."
    return f"max_steps {steps}: cut to fit the training budget of {minutes:g} min{over}."


def heuristic_estimate(plan: TrainingPlan, facts: DataFacts, gpu: bool = False) -> TimeEstimate:
    """Seconds per step from measured throughput, scaled by model size (replaced by a warm-up)."""
    hp = plan.hyperparameters
    n_params = param_count(plan.base_model) or REFERENCE_PARAMS
    scale = n_params / REFERENCE_PARAMS
    tokens_per_second = CPU_TOKENS_PER_SECOND_135M / scale * (20 if gpu else 1)
    padded = min(hp.max_length, facts.token_quantile(0.9) or hp.max_length)
    if plan.technique.needs_gold:
        tokens = hp.batch_size * hp.grad_accum * padded
        seconds = tokens / tokens_per_second
    elif plan.technique.needs_pairs:
        tokens = hp.batch_size * hp.grad_accum * padded * 2
        seconds = tokens * 1.25 / tokens_per_second
    else:
        generated = hp.num_generations * hp.max_completion_length * (hp.batch_size // hp.num_generations or 1)
        seconds = 6.5 * scale * generated / 128 / (20 if gpu else 1)
        tokens = generated
    seconds = max(0.2, seconds)
    return TimeEstimate(seconds_per_step=round(seconds, 2), total_seconds=round(LOAD_SECONDS + seconds * hp.max_steps, 1),
                        tokens_per_second=round(tokens / seconds, 1),
                        measured_on="heuristic from measurements on 2 CPU cores (not yet measured on this machine)")


def apply_overrides(plan: TrainingPlan, overrides: dict[str, Any]) -> TrainingPlan:
    """Set top-level or hyperparameter fields by name (e.g. ``max_steps``, ``adapter``)."""
    data = plan.model_dump()
    hp_fields = set(Hyperparameters.model_fields)
    data_fields = set(DataMix.model_fields)
    for key, value in overrides.items():
        if value is None:
            continue
        if key in hp_fields:
            data["hyperparameters"][key] = value
        elif key in data_fields:
            data["data"][key] = value
        elif key in TrainingPlan.model_fields:
            data[key] = value
        else:
            raise ValueError(f"unknown plan field {key!r}")
    return TrainingPlan.model_validate(data)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
