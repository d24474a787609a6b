"""Tools of the train step: recommend a technique and write the plan (tools_plan.py), measure speed,
write and dry-run the reward, start, watch, wait for and cancel training, sweep."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from skills.toolkit import Estimate, Preview, ToolContext, ToolError, ToolResult, Waiver, tool
from skills.common import jobs
from skills.train import runs, sweep
# The plan's tools first: the planner is offered the step's tools in the order this module binds them.
from skills.train.tools_plan import recommend_technique, write_training_plan
from skills.train.access import PLAN, REWARD, REWARD_REPORT, _check_memory, _diff, _load, _plan, _render, _use_case
from skills.train.plan import LOAD_SECONDS, fit_budget, format_seconds
from specs.reward import RewardSpec
from specs.base import WaitSeconds
from specs.training import BatchSize, LearningRate, Steps, Technique, TimeEstimate, TrainingPlan

WARMUP_STEPS = 3

__all__ = ["recommend_technique", "write_training_plan"]


def _latest_run(ctx: ToolContext, run_id: str | None) -> Path:
    if run_id:
        path = ctx.path(f"runs/{run_id}")
        if not path.is_dir():
            raise ToolError(f"no run {run_id!r} under runs/")
        return path
    found = runs.list_runs(ctx.session_dir)
    if not found:
        raise ToolError("no training run in this session yet; start_training starts one")
    return found[-1]


def _sha(path: Path) -> str | None:
    from specs.lineage import file_hash

    return file_hash(path)

def _preview_measure(ctx: ToolContext) -> Preview:
    plan = _plan(ctx)
    argv = runs.job_argv(ctx.session_dir, "warmup", warmup_steps=WARMUP_STEPS)
    rl = " GRPO steps call reward.py in its sandbox." if plan.needs_reward else ""
    return Preview(summary=f"Time {WARMUP_STEPS} real training steps of the plan on this machine and write the estimate into training.yaml.{rl}",
                   command=" ".join(argv), estimate=Estimate(seconds=30 + WARMUP_STEPS * (plan.estimate.seconds_per_step if plan.estimate else 5)))


@tool("ask", preview=_preview_measure)
def measure_training_speed(ctx: ToolContext) -> ToolResult:
    """Run a short warm-up (a few real training steps, nothing saved) and write the measured time
    estimate into training.yaml."""
    from specs.yamlio import save_spec

    plan = _plan(ctx)
    run_dir = ctx.path("runs/warmup")
    (run_dir / "estimate.json").unlink(missing_ok=True)
    runs.launch(ctx, "train-warmup", runs.job_argv(ctx.session_dir, "warmup", warmup_steps=WARMUP_STEPS), run_dir)
    runs.follow(run_dir, lambda events: [ctx.emit({"type": "progress", "task": "warm-up", "done": e.get("step"), "total": e.get("total_steps")})
                                         for e in events if e.get("type") == "progress"], ctx.jobs)
    measured = jobs.read_json(run_dir / "estimate.json")
    if not measured.get("seconds_per_step"):
        raise ToolError("the warm-up did not finish; its log ends with:\n" + jobs.log_tail(run_dir, ctx.jobs))
    sps = float(measured["seconds_per_step"])
    earlier = plan.estimate
    plan.estimate = TimeEstimate(seconds_per_step=sps, total_seconds=round(LOAD_SECONDS + sps * plan.hyperparameters.max_steps, 1),
                                 tokens_per_second=measured.get("tokens_per_second"), measured_on=measured.get("measured_on"),
                                 cut_from_steps=earlier.cut_from_steps if earlier else None,
                                 cut_to_steps=earlier.cut_to_steps if earlier else None)
    cut = fit_budget(plan, ctx.settings.train_minutes, ctx.settings.train_min_steps)
    save_spec(ctx.path(PLAN), plan)
    return ToolResult(content=f"Measured {sps:.2f} s a step ({measured.get('tokens_per_second')} tokens/s): "
                              f"{plan.hyperparameters.max_steps} steps take about {format_seconds(plan.estimate.total_seconds)}. "
                              + (f"{cut} " if cut else "") + "Saved in training.yaml.", files=[PLAN], data=measured)


# -- the reward ---------------------------------------------------------------------------------


def _reward_pair(ctx: ToolContext, from_tenets: bool) -> tuple[RewardSpec, str, list[str]]:
    from skills.train.rewards import compile_reward, render_reward_code

    if from_tenets or not ctx.path(REWARD).exists():
        plan = _load(ctx, PLAN, TrainingPlan)
        technique = plan.technique if plan else Technique.RLVR
        try:
            spec, notes = compile_reward(_use_case(ctx), technique,
                                         judge_model=ctx.settings.judge_model if technique.needs_judge else None)
        except ValueError as exc:
            raise ToolError(str(exc)) from exc
    else:
        spec, notes = _load(ctx, REWARD, RewardSpec), ["reward.py regenerated from the edited reward.yaml."]
    return spec, render_reward_code(spec), notes


def _preview_reward(ctx: ToolContext, from_tenets: bool = True) -> Preview:
    spec, code, notes = _reward_pair(ctx, from_tenets)
    parts = ", ".join(f"{c.name} ({c.kind}{', log only' if c.log_only else f', weight {c.weight:g}'})" for c in spec.components)
    return Preview(summary=f"Write reward.yaml and reward.py: {parts}.\n" + "\n".join(notes),
                   diff=_diff(ctx, REWARD, _render(ctx, REWARD, spec)), code=code)


@tool("ask", preview=_preview_reward)
def write_reward(ctx: ToolContext, from_tenets: bool = True) -> ToolResult:
    """Build the reward for RL from the success tenets: reward.yaml (components, weights, limits) and
    the generated reward.py (verifiable templates; judge rubrics for RLAIF). Nothing runs yet.

    Args:
        from_tenets: True rebuilds both from use_case.yaml; False keeps the edited reward.yaml and regenerates reward.py from it.
    """
    from specs import lineage
    from specs.io import atomic_write_text
    from specs.yamlio import save_spec

    spec, code, notes = _reward_pair(ctx, from_tenets)
    save_spec(ctx.path(REWARD), spec)
    atomic_write_text(ctx.path(spec.code_path), code)
    lineage.record(ctx.session_dir, "reward", REWARD, inputs=["use_case.yaml"], code=spec.code_path)
    return ToolResult(content=f"Wrote reward.yaml and {spec.code_path} ({len(spec.components)} components). "
                              + " ".join(notes) + " Next: dry_run_reward scores the base model's answers with it.",
                      files=[REWARD, spec.code_path])


def _preview_dry_run(ctx: ToolContext, samples: int = 16) -> Preview:
    spec = _load(ctx, REWARD, RewardSpec)
    if spec is None:
        raise ToolError("no reward.yaml yet: call write_reward first")
    code = ctx.path(spec.code_path)
    return Preview(summary=f"Sample the base model's answers to {samples} training prompts, then run {spec.code_path} on them "
                           f"in a sandbox (separate process, {spec.timeout_s:g} s and {spec.memory_mb} MiB limits).",
                   code=code.read_text(encoding="utf-8") if code.exists() else None, estimate=Estimate(seconds=40 + samples * 2))


@tool("ask", preview=_preview_dry_run)
def dry_run_reward(ctx: ToolContext, samples: Annotated[int, Field(ge=1, le=1000)] = 16) -> ToolResult:
    """Score the base model's answers on a few training prompts with the reward and show the
    distribution; flag a reward that is constant or ignores the output (controls: gold, empty and
    shuffled answers).

    Args:
        samples: How many prompts to sample (16 by default).
    """
    from skills.train import scoring
    from skills.train.dryrun import analyze
    from specs.io import atomic_write_text

    plan = _plan(ctx)
    spec = _load(ctx, REWARD, RewardSpec)
    if spec is None:
        raise ToolError("no reward.yaml yet: call write_reward first")
    run_dir = ctx.path("runs/dryrun")
    out = run_dir / "samples.jsonl"
    out.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "skills.train.sample", "--session", str(ctx.session_dir), "--plan", PLAN,
            "--n", str(samples), "--out", "runs/dryrun/samples.jsonl"]
    runs.launch(ctx, "reward-dry-run", argv, run_dir)
    runs.follow(run_dir, lambda events: [ctx.emit({"type": "notice", "text": "sampling the base model's answers"})
                                         for e in events if e.get("type") == "progress"], ctx.jobs)
    if not out.exists():
        raise ToolError("sampling the base model failed; its log ends with:\n" + jobs.log_tail(run_dir, ctx.jobs))
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines() if l.strip()]
    try:
        report = analyze([r["prompt"] for r in rows], [r["completion"] for r in rows], [r.get("reference") for r in rows],
                         lambda p, c, r: scoring.score(ctx.session_dir, spec, p, c, r))
    except scoring.RewardError as exc:
        raise ToolError(str(exc)) from exc
    data = report.as_dict() | {"reward_sha256": _sha(ctx.path(spec.code_path)), "spec_sha256": _sha(ctx.path(REWARD)), "plan": plan.technique}
    atomic_write_text(ctx.path(REWARD_REPORT), json.dumps(data, indent=2, default=str) + "\n")
    examples = "\n".join(f"- {r['completion'][:60]!r} -> {r['total']:.2f}" for r in report.rows[:4])
    return ToolResult(content=report.text() + "\nExamples:\n" + examples, data={"ok": report.ok, "flags": report.flags, "mean": report.mean},
                      files=[REWARD_REPORT])


# -- training -----------------------------------------------------------------------------------


def _blocking(ctx: ToolContext) -> list[str]:
    """Blocking data findings (unwaived high severity, missing or stale report) the person has not waived in this approval."""
    from synth.quality import blocking_findings

    found = [Waiver(f.code, f.message) for f in blocking_findings(ctx.session_dir)]
    return [f.text() for f in found if not ctx.waived(f.code, f.message)]


def _record_waivers(ctx: ToolContext) -> None:
    """Write the waivers given in this approval into data/quality.json (the report keeps who allowed what)."""
    from synth.quality import load_report, waive

    report = load_report(ctx.session_dir)
    if report is None or not ctx.approved_waivers:
        return
    codes = [f.code for f in report.blocking() if ctx.waived(f.code)]
    if codes:
        waive(ctx.session_dir, codes, "waived by the person when allowing start_training")


def _launcher_argv(ctx: ToolContext, plan: TrainingPlan, run_id: str, resume: bool, write_config: bool = True) -> list[str]:
    """The job command: one process, or `accelerate launch` (its config written into the run folder)."""
    from skills.train.launch import LaunchError, job_command

    try:
        return job_command(plan, ctx.session_dir, run_id, resume=resume, write_config=write_config)
    except LaunchError as exc:
        raise ToolError(str(exc)) from exc


def _preview_start(ctx: ToolContext, resume_run: str | None = None) -> Preview:
    plan = _plan(ctx) if not resume_run else _load(ctx, f"runs/{resume_run}/training.yaml", TrainingPlan) or _plan(ctx)
    run_id = resume_run or "<new run id>"
    argv = _launcher_argv(ctx, plan, run_id, bool(resume_run), write_config=False)
    est = plan.estimate
    summary = (f"{'Resume' if resume_run else 'Start'} training: {plan.technique.label} with {plan.adapter} on {plan.base_model}, "
               f"{plan.hyperparameters.max_steps} steps, about {format_seconds(est.total_seconds if est else None)} "
               f"({est.measured_on if est else 'no estimate'}). Runs in the background; checkpoints every {plan.hyperparameters.save_steps} steps.")
    from skills.train.launch import command_text, other_nodes_text

    if plan.compute.launcher == "accelerate":
        summary += (f" Launched with accelerate: {plan.compute.num_processes} processes on {plan.compute.num_machines} machine(s), "
                    f"{'config ' + plan.compute.accelerate_config + ' copied' if plan.compute.accelerate_config else 'a generated config written'} "
                    f"to runs/{run_id}/accelerate.yaml.")
        summary += ("\n" + other_nodes_text(argv, plan.compute.num_machines)).rstrip()
    return Preview(summary=summary, command=command_text(argv), findings=_blocking(ctx),
                   estimate=Estimate(seconds=est.total_seconds if est else None, note=est.measured_on if est else None))


@tool("ask", preview=_preview_start)
def start_training(ctx: ToolContext, resume_run: str | None = None) -> ToolResult:
    """Start training from the approved training.yaml as a background job (or resume an interrupted
    run from its last checkpoint). Refuses while high-severity data findings are not waived.

    Args:
        resume_run: The run id of an interrupted run to resume; omit to start a new run.
    """
    from specs import lineage

    blocking = _blocking(ctx)
    if blocking:
        raise ToolError("training is blocked by data quality findings (fix them, or allow this call to waive them):\n- " + "\n- ".join(blocking))
    _record_waivers(ctx)
    active = [p.name for p in runs.list_runs(ctx.session_dir) if runs.run_state(p, ctx.jobs)["running"]]
    if active:
        raise ToolError(f"run {active[-1]} is still training; wait_for_training or cancel_training first")
    if sweep.running_sweep(ctx):
        raise ToolError(f"the sweep {sweep.running_sweep(ctx).name} is still running; run_sweep follows it to the end")
    if resume_run:
        run_dir = ctx.path(f"runs/{resume_run}")
        if not (run_dir / "training.yaml").exists():
            raise ToolError(f"run {resume_run!r} has no saved plan to resume")
        plan = _load(ctx, f"runs/{resume_run}/training.yaml", TrainingPlan)
        run_id = resume_run
    else:
        plan = _plan(ctx)
        if not ctx.path(plan.data.train_path).exists():
            raise ToolError(f"no training data at {plan.data.train_path}; generate it in the data step")
        if plan.needs_reward:
            _check_reward_ready(ctx, plan)
        run_id = runs.new_run_id()
        run_dir = ctx.path(f"runs/{run_id}")
        lineage.record(ctx.session_dir, "training", PLAN, inputs=[p for p in ("use_case.yaml", plan.data.train_path, plan.reward or "")
                                                                     if p and ctx.path(p).exists()])
    _check_memory(plan.base_model, plan.adapter)
    argv = _launcher_argv(ctx, plan, run_id, bool(resume_run))
    info = runs.launch(ctx, "train", argv, run_dir)
    est = plan.estimate
    return ToolResult(content=f"Training {'resumed' if resume_run else 'started'}: run {run_id}, {plan.hyperparameters.max_steps} steps, "
                              f"about {format_seconds(est.total_seconds if est else None)}. It runs in the background; "
                              "training_status shows progress, wait_for_training follows it to the end.",
                      data={"run_id": run_id, "job_id": info.get("job_id")}, files=[f"runs/{run_id}"])


def _check_reward_ready(ctx: ToolContext, plan: TrainingPlan) -> None:
    spec = _load(ctx, plan.reward or REWARD, RewardSpec)
    if spec is None or not ctx.path(spec.code_path).exists():
        raise ToolError("an RL plan needs reward.yaml and reward.py: call write_reward first")
    report = jobs.read_json(ctx.path(REWARD_REPORT))
    if not report or report.get("reward_sha256") != _sha(ctx.path(spec.code_path)):
        raise ToolError("the current reward.py has not been dry-run yet: call dry_run_reward first")
    if not report.get("ok"):
        raise ToolError("the reward dry run flagged the reward as unusable: " + "; ".join(report.get("flags", [])))


def _status_text(state: dict[str, Any]) -> str:
    last = state.get("last") or {}
    parts = [f"Run {state['run_id']}: {state['status']}, step {state.get('step', 0)}/{state.get('total_steps') or '?'}"]
    for key in ("loss", "reward", "reward_std", "kl", "learning_rate", "tokens_per_second"):
        if isinstance(last.get(key), (int, float)):
            parts.append(f"{key} {last[key]:.4g}")
    if isinstance(last.get("eta_seconds"), (int, float)) and state["status"] == "running":
        parts.append(f"ETA {format_seconds(last['eta_seconds'])}")
    text = ", ".join(parts) + "."
    if state.get("checkpoint"):
        text += f" Last checkpoint: {state['checkpoint']}."
    if state["status"] == "interrupted":
        text += f" The job stopped before finishing: start_training(resume_run={state['run_id']!r}) resumes from the last checkpoint."
    if state.get("error"):
        text += f" Error: {state['error']}"
    if state.get("mlflow_run_id"):
        text += f" MLflow run {state['mlflow_run_id']} (tunesmith mlflow opens the UI)."
    return text


@tool("always")
def training_status(ctx: ToolContext, run_id: str | None = None) -> ToolResult:
    """Show a training run's progress: step, loss or reward, ETA, last checkpoint, status.

    Args:
        run_id: The run to show; omit for the latest.
    """
    state = runs.run_state(_latest_run(ctx, run_id), ctx.jobs)
    return ToolResult(content=_status_text(state), data={k: v for k, v in state.items() if k != "events"})


@tool("always")
def cancel_training(ctx: ToolContext, run_id: str | None = None) -> ToolResult:
    """Stop a running training job. Its checkpoints stay; start_training(resume_run=...) continues it.

    Args:
        run_id: The run to stop; omit for the latest.
    """
    run_dir = _latest_run(ctx, run_id)
    if not jobs.cancel(run_dir, ctx.jobs):
        return ToolResult(content=f"Run {run_dir.name} is not running.")
    from skills.train.job import write_run_json

    write_run_json(run_dir, status="cancelled", ended=time.time())
    return ToolResult(content=f"Cancelled run {run_dir.name}. " + _status_text(runs.run_state(run_dir, ctx.jobs)))


@tool("always")
def wait_for_training(ctx: ToolContext, run_id: str | None = None, timeout_s: WaitSeconds | None = None) -> ToolResult:
    """Wait until a training run ends, showing its progress as it goes (for guided and headless runs).

    Args:
        run_id: The run to wait for; omit for the latest.
        timeout_s: Stop waiting after this many seconds (the run goes on); omit to wait to the end.
    """
    run_dir = _latest_run(ctx, run_id)

    def relay(events: list[dict[str, Any]]) -> None:
        for event in events:
            kind = event.get("type")
            if kind == "progress":
                fields = {k: v for k, v in event.items() if k not in ("type", "time")}
                ctx.emit({"type": "progress", "task": f"training {run_dir.name}", "done": event.get("step"),
                          "total": event.get("total_steps"), "eta_s": event.get("eta_seconds"), **fields})
            elif kind in ("checkpoint", "log", "done", "cancelled"):
                text = event.get("message") or (f"checkpoint at step {event.get('step')}" if kind == "checkpoint" else f"training {kind}")
                ctx.emit({"type": "notice", "text": text})
            elif kind == "error":
                ctx.emit({"type": "warning", "text": f"training failed: {event.get('message')}"})

    state = runs.follow(run_dir, relay, ctx.jobs, timeout_s=timeout_s, cancel=ctx.cancel)
    if ctx.cancel.is_set() and ctx.cancel_jobs and state["running"]:  # the progress card's Cancel button
        return cancel_training.fn(ctx, run_id=run_dir.name)
    finished = state["status"] == "finished"
    return ToolResult(content=_status_text(state) + (" Next: evaluate the tuned model against the base model." if finished else ""),
                      data={k: v for k, v in state.items() if k != "events"}, phase="evaluate" if finished else None,
                      is_error=state["status"] in ("failed", "interrupted"))


# -- sweep --------------------------------------------------------------------------------------


def _sweep_setup(ctx: ToolContext, grid: dict[str, list[Any]]) -> tuple[TrainingPlan, list[dict[str, Any]], dict[str, Any]]:
    """The plan, the trials and how they are scored (the use case's code metrics on held-out records)."""
    from specs.evaluation import EvaluationSpec

    plan = _plan(ctx)
    if plan.needs_reward:
        _check_reward_ready(ctx, plan)
    if not ctx.path(plan.data.eval_path).exists() or not ctx.path(plan.data.train_path).exists():
        raise ToolError(f"a sweep trains on {plan.data.train_path} and scores on {plan.data.eval_path}; generate the data first")
    scoring = sweep.scoring(_use_case(ctx), _load(ctx, "evaluation.yaml", EvaluationSpec), plan, ctx.path(plan.data.eval_path))
    trials = sweep.build_trials(plan, grid, sweep.default_steps(plan, grid, scoring["score_seconds"]))
    if not 2 <= len(trials) <= sweep.MAX_TRIALS:
        raise ToolError(f"the grid makes {len(trials)} distinct trials with this plan ({plan.adapter}); a sweep runs 2 to "
                        f"{sweep.MAX_TRIALS} (LoRA ranks vary LoRA trials only)")
    sweep.check_fits(plan, trials, scoring["score_seconds"])
    return plan, trials, scoring


def _preview_sweep(ctx: ToolContext, **grid_args: Any) -> Preview:
    folder = sweep.running_sweep(ctx)
    if folder is not None:
        return Preview(summary=f"Follow the sweep {folder.name}, which is still running (nothing new starts).")
    plan, trials, scoring = _sweep_setup(ctx, sweep.grid_of(grid_args))
    summary, seconds = sweep.preview_text(plan, trials, scoring)
    est = plan.estimate
    return Preview(summary=summary, command=" ".join(sweep.job_argv(ctx.session_dir, "<new sweep id>")),
                   findings=_blocking(ctx), estimate=Estimate(seconds=seconds, note=est.measured_on if est else None))


@tool("ask", preview=_preview_sweep, check=sweep.check_grid)
def run_sweep(ctx: ToolContext, adapter: list[Literal["lora", "full"]] | None = None,
              learning_rate: list[LearningRate] | None = None, lora_r: list[Annotated[int, Field(ge=1, le=1024)]] | None = None,
              batch_size: list[BatchSize] | None = None, max_steps: list[Steps] | None = None) -> ToolResult:
    """Compare settings of training.yaml by short real runs: every combination of the lists given (the
    rest as planned), scored on held-out data; a trial behind the best at halfway stops early. 2-8 trials."""
    folder = sweep.running_sweep(ctx)
    if folder is None:
        blocking = _blocking(ctx)
        if blocking:
            raise ToolError("the sweep trains on data with blocking quality findings (fix them, or allow this call to waive them):\n- "
                            + "\n- ".join(blocking))
        if any(runs.run_state(p, ctx.jobs)["running"] for p in runs.list_runs(ctx.session_dir)):
            raise ToolError("a training run is still going; wait_for_training or cancel_training first")
        grid = sweep.grid_of({"adapter": adapter, "learning_rate": learning_rate, "lora_r": lora_r,
                              "batch_size": batch_size, "max_steps": max_steps})
        plan, trials, scoring = _sweep_setup(ctx, grid)
        _record_waivers(ctx)
        folder = sweep.start(ctx, plan, trials, grid, scoring)
    return sweep.follow_to_result(ctx, folder)
