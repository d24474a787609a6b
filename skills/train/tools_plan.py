"""Tools of the train step for the technique and the plan: rank the techniques, write training.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from skills.common.basemodel import param_count
from skills.toolkit import Estimate, Preview, ToolContext, ToolError, ToolResult, tool
from skills.train import sweep
from skills.train.access import PLAN, REWARD, _check_memory, _diff, _facts, _load, _render, _use_case
from skills.train.plan import LOAD_SECONDS, apply_overrides, fit_budget, format_seconds, heuristic_estimate, size_plan
from skills.train.recommend import recommend
from specs.training import BatchSize, LearningRate, MixRatio, Recommended, Steps, Technique, TrainingPlan


# -- recommendation -----------------------------------------------------------------------------


@tool("always")
def recommend_technique(ctx: ToolContext, base_score: float | None = None) -> ToolResult:
    """Rank SFT, DPO, RLVR and RLAIF for this use case and data, each with a reason; choose LoRA or a
    full fine-tune for this machine; say when a better prompt alone may be enough.

    Args:
        base_score: The base model's overall evaluation score (0-1), if it was evaluated already.
    """
    use_case = _use_case(ctx)
    facts = _facts(ctx)
    rec = recommend(use_case, facts, judge_available=bool(ctx.settings.judge_model), base_score=base_score)
    text = rec.text() + f"\nData: {facts.summary()}"
    return ToolResult(content=text, data=rec.as_dict() | {"data": facts.summary()})


# -- the plan -----------------------------------------------------------------------------------


def _build_plan(ctx: ToolContext, technique, adapter, base_model, overrides: dict[str, Any]) -> tuple[TrainingPlan, list[str]]:
    use_case = _use_case(ctx)
    facts = _facts(ctx)
    base_model = base_model or use_case.base_model
    if not base_model.startswith("embedded:") and not Path(base_model).is_absolute() and (ctx.session_dir / base_model).exists():
        base_model = str(ctx.path(base_model))  # e.g. runs/<id>/final: an SFT run as the base of RL
    rec = recommend(use_case, facts, n_params=param_count(base_model), judge_available=bool(ctx.settings.judge_model))
    recommended = Recommended(technique=rec.technique, adapter=rec.adapter, reason=rec.reason)
    technique = Technique(technique) if technique else recommended.technique
    adapter = adapter or (recommended.adapter if technique == recommended.technique
                          else "lora" if technique.needs_reference_model else recommended.adapter)
    _check_memory(base_model, adapter)
    chosen = (technique, adapter) == (recommended.technique, recommended.adapter)
    reason = recommended.reason if chosen else f"{technique.label} with {adapter}, chosen by the person."
    plan, notes = size_plan(technique, adapter, base_model, facts, reward=REWARD, reason=reason)
    plan.recommended = recommended
    try:
        plan = apply_overrides(plan, overrides)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    plan.estimate = heuristic_estimate(plan, facts)
    old = _load(ctx, PLAN, TrainingPlan) if ctx.path(PLAN).exists() else None
    if old and old.estimate and "heuristic" not in (old.estimate.measured_on or "heuristic"):
        same = ("technique", "adapter", "base_model")
        same_hp = ("batch_size", "grad_accum", "max_length", "num_generations", "max_completion_length")
        if old.model_dump(include=set(same)) == plan.model_dump(include=set(same)) and \
                old.hyperparameters.model_dump(include=set(same_hp)) == plan.hyperparameters.model_dump(include=set(same_hp)):
            sps = old.estimate.seconds_per_step
            plan.estimate = old.estimate.model_copy(update={"total_seconds": round(LOAD_SECONDS + sps * plan.hyperparameters.max_steps, 1)})
    if overrides.get("max_steps") is None:
        cut = fit_budget(plan, ctx.settings.train_minutes, ctx.settings.train_min_steps)
        if cut:
            notes.append(cut)
    return plan, notes


def _plan_args(max_steps, learning_rate, batch_size, general_mix_ratio):
    return {"max_steps": max_steps, "learning_rate": learning_rate, "batch_size": batch_size, "general_mix_ratio": general_mix_ratio}


def _new_plan(ctx: ToolContext, technique, adapter, base_model, overrides: dict[str, Any],
              sweep_trial: int | None) -> tuple[TrainingPlan, list[str]]:
    """A plan sized from scratch, or the plan a sweep varied with one trial's settings (and the arguments given)."""
    if not sweep_trial:
        return _build_plan(ctx, technique, adapter, base_model, overrides)
    base, trial, note = sweep.trial_plan(ctx.session_dir, sweep_trial)
    given = {"technique": technique, "adapter": adapter, "base_model": base_model, **overrides}
    try:
        plan = apply_overrides(base, {**trial, **{k: v for k, v in given.items() if v is not None}})
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    _check_memory(plan.base_model, plan.adapter)
    same = {"batch_size", "grad_accum", "max_length"}
    if base.estimate and plan.adapter == base.adapter and \
            plan.hyperparameters.model_dump(include=same) == base.hyperparameters.model_dump(include=same):
        sps = base.estimate.seconds_per_step
        plan.estimate = base.estimate.model_copy(update={"total_seconds": round(LOAD_SECONDS + sps * plan.hyperparameters.max_steps, 1)})
    else:
        plan.estimate = heuristic_estimate(plan, _facts(ctx, plan))
    return plan, [note]


@dataclass(frozen=True)
class _ShownPlan:
    """The plan a write_training_plan preview showed, for the run of the same call (ToolContext.previewed)."""

    args: tuple[Any, ...]
    plan: TrainingPlan
    notes: list[str]


def _planned(ctx: ToolContext, technique, adapter, base_model, max_steps, learning_rate, batch_size, general_mix_ratio,
             sweep_trial) -> tuple[TrainingPlan, list[str]]:
    """The plan for these arguments: the one this call's preview showed when it had one (the recommendation
    is ranked and the plan sized once per call, so the card and training.yaml agree), else worked out now."""
    args = (technique, adapter, base_model, max_steps, learning_rate, batch_size, general_mix_ratio, sweep_trial)
    shown = ctx.previewed
    if isinstance(shown, _ShownPlan) and shown.args == args:
        ctx.previewed = None
        return shown.plan.model_copy(deep=True), list(shown.notes)
    return _new_plan(ctx, technique, adapter, base_model,
                     _plan_args(max_steps, learning_rate, batch_size, general_mix_ratio), sweep_trial)


def _preview_plan(ctx: ToolContext, technique=None, adapter=None, base_model=None, max_steps=None, learning_rate=None,
                  batch_size=None, general_mix_ratio=None, sweep_trial=None) -> Preview:
    args = (technique, adapter, base_model, max_steps, learning_rate, batch_size, general_mix_ratio, sweep_trial)
    plan, notes = _planned(ctx, *args)
    ctx.previewed = _ShownPlan(args, plan.model_copy(deep=True), list(notes))
    est = plan.estimate
    return Preview(summary=f"Write training.yaml: {plan.technique.label} with {plan.adapter}, {plan.hyperparameters.max_steps} steps "
                           f"(about {format_seconds(est.total_seconds if est else None)}).\n" + "\n".join(notes),
                   diff=_diff(ctx, PLAN, _render(ctx, PLAN, plan)),
                   estimate=Estimate(seconds=est.total_seconds if est else None, note=est.measured_on if est else None))


@tool("ask", preview=_preview_plan)
def write_training_plan(ctx: ToolContext, technique: Technique | None = None,
                        adapter: Literal["lora", "full"] | None = None, base_model: str | None = None,
                        max_steps: Steps | None = None, learning_rate: LearningRate | None = None,
                        batch_size: BatchSize | None = None, general_mix_ratio: MixRatio | None = None,
                        sweep_trial: Annotated[int, Field(ge=1)] | None = None) -> ToolResult:
    """Write training.yaml with defaults sized to this machine and the data (batch size, max length from
    the records' token lengths, steps, learning rate, LoRA settings, packing, forgetting guard).

    Args:
        technique: sft, dpo, rlvr or rlaif; omit to take the recommendation.
        adapter: lora or full; omit to take the recommendation.
        base_model: Model to train; omit for the use case's base model. A finished run's `runs/<id>/final` trains on top of that run (e.g. SFT before RLVR).
        max_steps: Override the sized number of optimizer steps.
        learning_rate: Override the learning rate.
        batch_size: Override the batch size.
        general_mix_ratio: Share (0-0.9) of general instruction data mixed in against forgetting.
        sweep_trial: Take this run_sweep trial's settings (1 = the first).
    """
    from specs.yamlio import save_spec

    plan, notes = _planned(ctx, technique, adapter, base_model, max_steps, learning_rate, batch_size, general_mix_ratio,
                           sweep_trial)
    save_spec(ctx.path(PLAN), plan)
    est = plan.estimate
    text = (f"Wrote training.yaml: {plan.technique.label} with {plan.adapter}, {plan.hyperparameters.max_steps} steps, "
            f"about {format_seconds(est.total_seconds if est else None)} ({est.measured_on if est else 'no estimate'}).\n"
            + "\n".join(notes))
    if plan.needs_reward and not ctx.path(REWARD).exists():
        text += "\nNext: write_reward builds reward.yaml and reward.py from the tenets."
    else:
        text += "\nNext: measure_training_speed times a few real steps on this machine."
    return ToolResult(content=text, files=[PLAN], data={"technique": plan.technique, "adapter": plan.adapter})

