"""What the train step's tools share: the session's use case and plan, the data's facts, a diff of a
file a tool will write, the memory check."""

from __future__ import annotations

from difflib import unified_diff

from skills.common.basemodel import fits_in_memory, param_count
from skills.toolkit import ToolContext, ToolError
from skills.train.datafacts import DataFacts, inspect_data
from specs.training import TrainingPlan
from specs.use_case import UseCaseSpec

PLAN, REWARD, REWARD_REPORT = "training.yaml", "reward.yaml", "runs/dryrun/report.json"


def _load(ctx: ToolContext, name: str, model):
    from specs.errors import SpecError
    from specs.yamlio import load_spec

    path = ctx.path(name)
    if not path.exists():
        return None
    try:
        return load_spec(path, model)
    except SpecError as exc:
        problems = "; ".join(f"line {p.line}: {p.path}: {p.message}" for p in exc.problems[:5])
        raise ToolError(f"{name} is not valid ({problems or exc}); fix it first") from exc


def _use_case(ctx: ToolContext) -> UseCaseSpec:
    spec = _load(ctx, "use_case.yaml", UseCaseSpec)
    if spec is None:
        raise ToolError("no use_case.yaml yet: describe the use case first (use_case step)")
    return spec


def _plan(ctx: ToolContext) -> TrainingPlan:
    plan = _load(ctx, PLAN, TrainingPlan)
    if plan is None:
        raise ToolError("no training.yaml yet: call write_training_plan first")
    return plan


def _facts(ctx: ToolContext, plan: TrainingPlan | None = None) -> DataFacts:
    data = plan.data if plan else TrainingPlan().data
    return inspect_data(ctx.path(data.train_path), ctx.path(data.eval_path))


def _diff(ctx: ToolContext, name: str, new_text: str) -> str:
    path = ctx.path(name)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    return "".join(unified_diff(old.splitlines(True), new_text.splitlines(True), f"a/{name}", f"b/{name}"))


def _render(ctx: ToolContext, name: str, spec) -> str:
    from specs.yamlio import render_spec

    path = ctx.path(name)
    return render_spec(spec, path.read_text(encoding="utf-8") if path.exists() else None, path)


def _check_memory(base_model: str, adapter: str) -> str:
    ok, why = fits_in_memory(param_count(base_model), adapter)
    if not ok:
        raise ToolError(f"{base_model} will not train here: {why}")
    return why

