"""The training job: one approved training.yaml in, a trained adapter or model out.

    python -m skills.train.job --plan training.yaml --session DIR --run-id ID --events PATH [--resume]
                               [--max-steps N] [--warmup]

Reads the plan, trains with TRL (SFT, DPO, or GRPO for RLVR/RLAIF), LoRA through PEFT or a full
fine-tune, and writes, under ``<session>/runs/<run-id>/``:

    training.yaml      the plan as approved (a resumed run keeps using it)
    checkpoints/       checkpoint-<step>/ every save_steps (the last two are kept)
    final/             the adapter (LoRA) or model (full) with its tokenizer
    metrics.jsonl      one line per logged step
    run.json           status, steps, MLflow run id, data hash

Progress events (JSONL, appended to ``--events``): ``{"type": "start"|"progress"|"checkpoint"|
"done"|"error"|"estimate", ...}``; progress carries step, total_steps, loss, learning_rate, grad_norm,
reward, reward_std, kl, tokens_per_second, eta_seconds. ``--resume`` continues from the last complete
checkpoint (e.g. after SIGKILL) and finishes the planned steps. ``--warmup`` runs a few steps without
saving anything and reports the measured speed (the plan's time estimate).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from skills.common.checkpoints import last_checkpoint
from skills.common.events import ProgressEvents
from skills.train import general
from specs.io import atomic_write_text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m skills.train.job", description="Train from an approved training.yaml.")
    parser.add_argument("--plan", default="training.yaml", help="plan file, relative to the session folder")
    parser.add_argument("--session", required=True, help="session folder")
    parser.add_argument("--run-id", required=True, help="run folder name under runs/")
    parser.add_argument("--events", default=os.environ.get("TUNESMITH_EVENTS"), help="JSONL progress file")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--max-steps", type=int, default=None, help="override the plan's max_steps")
    parser.add_argument("--warmup", action="store_true", help="measure speed on a few steps; save nothing")
    return parser.parse_args(argv)


def is_main_process() -> bool:
    """Rank 0, or the only process. Under `accelerate launch` every rank trains, but only rank 0
    writes events, metrics.jsonl, run.json, final/ and MLflow (the others would duplicate them)."""
    return os.environ.get("RANK", "0") == "0"


def die_with_launcher() -> None:
    """Under `accelerate launch` (torchrun) each rank runs in its own session, so a SIGKILL of the
    job's process group stops the launcher but not the ranks: they would train on, orphaned. Ask
    Linux to SIGKILL this rank when its launcher dies (the run then reads as interrupted)."""
    if "LOCAL_RANK" not in os.environ or not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the launcher died before the request took effect
        os._exit(137)


def load_plan(path: Path):
    from specs.training import TrainingPlan
    from specs.yamlio import load_spec

    return load_spec(path, TrainingPlan)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Training rows without the ``meta`` column the trainers do not read."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                row.pop("meta", None)
                rows.append(row)
    if not rows:
        raise SystemExit(f"no records in {path}")
    return rows


def write_run_json(run_dir: Path, **fields: Any) -> dict[str, Any]:
    path = run_dir / "run.json"
    state = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    state.update(fields)
    atomic_write_text(path, json.dumps(state, indent=2, default=str) + "\n")
    return state


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    die_with_launcher()
    session = Path(args.session).resolve()
    run_dir = session / "runs" / args.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    rank0 = is_main_process()
    events = ProgressEvents(args.events, enabled=rank0)
    frozen = run_dir / "training.yaml"
    if args.warmup:
        plan_path = session / args.plan
    elif args.resume and frozen.exists():
        plan_path = frozen
    elif not rank0:  # rank 0 freezes the plan; the others read the same file, not a half-copied one
        plan_path = session / args.plan
    else:
        shutil.copyfile(session / args.plan, frozen)
        plan_path = frozen
    if not args.warmup:
        signal.signal(signal.SIGTERM, lambda *_: _cancelled(run_dir, events))
    try:
        plan = load_plan(plan_path)
        return train(plan, session, run_dir, args, events)
    except Exception as exc:  # reported as an event, then re-raised for the log
        events.emit("error", message=f"{type(exc).__name__}: {exc}")
        if not args.warmup and rank0:
            write_run_json(run_dir, status="failed", error=f"{type(exc).__name__}: {exc}", ended=time.time())
        raise


def _cancelled(run_dir: Path, events: ProgressEvents) -> None:
    """SIGTERM (cancel): record it, so a cancelled run is not mistaken for an interrupted one."""
    if is_main_process():
        write_run_json(run_dir, status="cancelled", ended=time.time())
    events.emit("cancelled", message="cancelled; checkpoints are kept")
    sys.exit(143)


def train(plan, session: Path, run_dir: Path, args: argparse.Namespace, events: ProgressEvents) -> int:
    import torch

    local_procs = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))  # processes sharing this machine's cores
    from skills.common.threads import cpu_threads

    torch.set_num_threads(cpu_threads(processes=local_procs))
    from transformers import TrainerCallback

    hp = plan.hyperparameters
    max_steps = args.max_steps or hp.max_steps
    rank0 = is_main_process()
    events.emit("start", run_id=args.run_id, technique=plan.technique, adapter=plan.adapter,
                total_steps=max_steps, base_model=plan.base_model, resume=args.resume, warmup=args.warmup,
                num_processes=int(os.environ.get("WORLD_SIZE", "1")))
    model, tokenizer = load_model(plan)
    dataset, trained_prompt = training_dataset(plan, session, model, tokenizer, events.emit)
    peft_config = lora_config(plan)
    checkpoints = run_dir / "checkpoints"
    common = trainer_args(plan, checkpoints, max_steps, save=not args.warmup)
    progress = Progress(events, run_dir, max_steps, warmup=args.warmup or not rank0)  # other ranks write no metrics
    tracker, mlflow_id = None, None
    if plan.mlflow and not args.warmup and rank0:
        from skills.common.tracking import RunTracker

        tracker = RunTracker(session, args.run_id)
        previous = json.loads((run_dir / "run.json").read_text()).get("mlflow_run_id") if (run_dir / "run.json").exists() else None
        try:
            mlflow_id = tracker.start(plan, existing_run_id=previous if args.resume else None)
        except Exception as exc:  # noqa: BLE001 - training goes on without tracking
            events.emit("log", message=f"MLflow tracking disabled: {type(exc).__name__}: {exc}")
            tracker = None
        progress.tracker = tracker
    if not args.warmup and rank0:
        write_run_json(run_dir, run_id=args.run_id, status="running", total_steps=max_steps, technique=plan.technique,
                       adapter=plan.adapter, base_model=plan.base_model, mlflow_run_id=mlflow_id,
                       mlflow_uri=tracker.uri if tracker else None, pid=os.getpid(), started=time.time(), **trained_prompt)

    class Callback(TrainerCallback):
        def on_log(self, targs, state, control, logs=None, **kwargs):
            progress.log(state, logs or {})

        def on_save(self, targs, state, control, **kwargs):
            events.emit("checkpoint", step=state.global_step, path=str(checkpoints / f"checkpoint-{state.global_step}"))

    trainer = build_trainer(plan, model, tokenizer, dataset, peft_config, common, session, hp)
    trainer.add_callback(Callback())
    world = trainer.args.world_size
    print(f"process {trainer.args.process_index} of {world}: {trainer.accelerator.distributed_type}, "
          f"device {trainer.args.device}", flush=True)
    if world > 1:
        events.emit("log", message=f"distributed: {world} processes ({trainer.accelerator.distributed_type}), "
                                   f"{hp.batch_size * hp.grad_accum * world} records per step")
    resume_from = last_checkpoint(checkpoints) if args.resume else None
    if resume_from is not None and rank0:
        progress.truncate_after(int(resume_from.name.split("-")[-1]))
        events.emit("log", message=f"resuming from {resume_from.name}")
    progress.begin()
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)

    if args.warmup:
        estimate = progress.estimate()
        atomic_write_text(run_dir / "estimate.json", json.dumps(estimate, indent=2) + "\n")
        events.emit("estimate", **estimate)
        return 0
    final = run_dir / "final"
    tmp = run_dir / "final.tmp"
    if rank0:
        shutil.rmtree(tmp, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(tmp))  # every rank: FSDP and DeepSpeed gather the shards; rank 0 writes
    trainer.accelerator.wait_for_everyone()
    if not rank0:
        return 0
    tokenizer.save_pretrained(str(tmp))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    if tracker is not None:
        tracker.log_model(final)
        tracker.log_file(run_dir / "metrics.jsonl")
        tracker.end("FINISHED")
    _lineage(session, run_dir, plan, tracker)
    state = write_run_json(run_dir, status="finished", steps=trainer.state.global_step, ended=time.time(), final="final")
    events.emit("done", run_id=args.run_id, steps=state["steps"], final=str(final), mlflow_run_id=state.get("mlflow_run_id"))
    return 0


def load_model(plan) -> tuple[Any, Any]:
    """(model, tokenizer) of the plan's base model, in float32, with a pad token."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from skills.common.basemodel import resolve_model_path

    model_path = resolve_model_path(plan.base_model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    return model, tokenizer


def training_dataset(plan, session: Path, model, tokenizer, emit) -> tuple[Any, dict[str, Any]]:
    """(the training rows as a Dataset, the shortened system prompt trained on if any): the forgetting
    guard's general rows mixed in for SFT."""
    from datasets import Dataset

    rows = read_rows(session / plan.data.train_path)
    trained_prompt: dict[str, Any] = {}
    if plan.data.system_prompt == "short" and not plan.technique.is_rl:
        from skills.common.prompt import shorten_rows

        rows, used = shorten_rows(rows)
        if used is not None:
            trained_prompt["system_prompt"] = used
            emit("log", message=f"system prompt shortened for training and for asking this model: {used!r}")
    if plan.technique.needs_gold and plan.data.general_mix_ratio > 0:
        general_rows = general.load_or_make(session, plan, model, tokenizer, emit)
        rows = general.mix(rows, general_rows, plan.data.general_mix_ratio, seed=plan.hyperparameters.seed)
    return Dataset.from_list(rows), trained_prompt


def lora_config(plan) -> Any | None:
    """PEFT's LoRA settings of the plan, or None for a full fine-tune."""
    if plan.adapter != "lora":
        return None
    from peft import LoraConfig

    hp = plan.hyperparameters
    return LoraConfig(r=hp.lora_r, lora_alpha=hp.lora_alpha, lora_dropout=hp.lora_dropout,
                      target_modules=list(hp.lora_targets), task_type="CAUSAL_LM")


def trainer_args(plan, output_dir: Path, max_steps: int, save: bool = True) -> dict[str, Any]:
    """The trainer arguments every technique shares (``save``: write checkpoints every save_steps)."""
    import torch

    hp = plan.hyperparameters
    on_gpu = plan.compute.device != "cpu" and torch.cuda.is_available()
    return dict(
        output_dir=str(output_dir), max_steps=max_steps, per_device_train_batch_size=hp.batch_size,
        gradient_accumulation_steps=hp.grad_accum, learning_rate=hp.learning_rate, warmup_steps=hp.warmup_ratio,
        weight_decay=hp.weight_decay, logging_steps=hp.logging_steps, save_steps=hp.save_steps, save_total_limit=2,
        save_strategy="steps" if save else "no", seed=hp.seed, report_to=[], use_cpu=not on_gpu,
        bf16=bool(on_gpu and torch.cuda.is_bf16_supported()), gradient_checkpointing=plan.compute.gradient_checkpointing,
        disable_tqdm=True, dataloader_num_workers=0, include_num_input_tokens_seen="non_padding",
    )


def score_answers_only() -> None:
    """Make TRL's fused LM head score only the positions the loss counts (the answer's tokens) on every
    device. TRL does so only where Triton runs (CUDA, XPU) and elsewhere scores every position, to keep
    tile shapes fixed for compilers; eager CPU training compiles nothing, and on short answers most of
    the LM head's work (a 49k-word vocabulary at every prompt token) is then skipped. Same loss, same
    gradients; measured in skills/train/references/speed.md (tests/bench/answer_only_head.py)."""
    from trl.trainer import utils as trl_utils

    trl_utils._use_triton = lambda device: True  # the module's only use: whether to score answer positions only


def build_trainer(plan, model, tokenizer, dataset, peft_config, common: dict[str, Any], session: Path, hp):
    """The TRL trainer for the plan's technique."""
    if plan.technique.needs_gold:
        from trl import SFTConfig, SFTTrainer

        if plan.hyperparameters.answer_only_head:
            score_answers_only()

        grouped = hp.group_by_length and not hp.packing  # fewer padding tokens per batch: more useful tokens/s
        config = SFTConfig(**common, max_length=hp.max_length, packing=hp.packing,
                           train_sampling_strategy="group_by_length" if grouped else "random")
        return SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config)
    if plan.technique.needs_pairs:
        from trl import DPOConfig, DPOTrainer

        config = DPOConfig(**common, max_length=hp.max_length, beta=hp.beta)
        return DPOTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config)
    from trl import GRPOConfig, GRPOTrainer

    from skills.train.scoring import trl_reward_functions

    funcs, weights = trl_reward_functions(session, plan.reward)
    common = {**common, "per_device_train_batch_size": max(hp.batch_size, hp.num_generations)
              // hp.num_generations * hp.num_generations}
    config = GRPOConfig(**common, num_generations=hp.num_generations, max_completion_length=hp.max_completion_length,
                        beta=hp.beta, reward_weights=weights, temperature=1.0)
    return GRPOTrainer(model=model, reward_funcs=funcs, args=config, train_dataset=dataset,
                       processing_class=tokenizer, peft_config=peft_config)


class Progress:
    """Turns the trainer's logs into progress events, metrics.jsonl lines and MLflow metrics."""

    KEYS = {"loss": "loss", "learning_rate": "learning_rate", "grad_norm": "grad_norm", "reward": "reward",
            "reward_std": "reward_std", "kl": "kl", "rewards/margins": "reward_margin",
            "rewards/accuracies": "reward_accuracy", "mean_token_accuracy": "token_accuracy"}

    def __init__(self, events: ProgressEvents, run_dir: Path, total: int, warmup: bool = False):
        self.events, self.run_dir, self.total, self.warmup = events, run_dir, total, warmup
        self.metrics = run_dir / "metrics.jsonl"
        self.tracker = None
        self.times: list[tuple[int, float, int]] = []

    def begin(self) -> None:
        self.start = time.monotonic()

    def truncate_after(self, step: int) -> None:
        if self.metrics.exists():
            keep = [l for l in self.metrics.read_text(encoding="utf-8").splitlines() if l.strip() and json.loads(l).get("step", 0) <= step]
            atomic_write_text(self.metrics, "".join(l + "\n" for l in keep))

    def log(self, state, logs: dict[str, Any]) -> None:
        if "train_loss" in logs:  # the closing summary, not a step
            return
        now, step = time.monotonic(), state.global_step
        tokens = int(getattr(state, "num_input_tokens_seen", 0) or 0)
        self.times.append((step, now, tokens))
        row: dict[str, Any] = {"step": step, "total_steps": self.total, "epoch": logs.get("epoch")}
        for key, name in self.KEYS.items():
            if key in logs:
                row[name] = logs[key]
        for key, value in logs.items():
            if key.startswith("rewards/") and key.endswith("/mean") and isinstance(value, (int, float)):
                row[key.replace("/", ".")] = value
        speed = self._speed()
        if speed:
            row["seconds_per_step"], row["tokens_per_second"] = speed
            row["eta_seconds"] = round(max(0, self.total - step) * speed[0], 1)
        self.events.emit("progress", **row)
        if self.warmup:
            return
        with open(self.metrics, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, default=str) + "\n")
        if self.tracker is not None:
            self.tracker.log_metrics({k: v for k, v in row.items() if k not in ("step", "total_steps")}, step)

    def _speed(self) -> tuple[float, float] | None:
        """Seconds per step and tokens per second, skipping the slow first step when possible."""
        points = self.times[1:] if len(self.times) > 2 else self.times
        if len(points) < 2:
            if len(self.times) == 1 and self.times[0][0] > 0:
                step, now, tokens = self.times[0]
                elapsed = now - self.start
                return round(elapsed / step, 3), round(tokens / elapsed, 1) if elapsed else 0.0
            return None
        (s0, t0, k0), (s1, t1, k1) = points[0], points[-1]
        if s1 <= s0 or t1 <= t0:
            return None
        return round((t1 - t0) / (s1 - s0), 3), round((k1 - k0) / (t1 - t0), 1)

    def estimate(self) -> dict[str, Any]:
        speed = self._speed() or (0.0, 0.0)
        import platform

        import torch

        return {"seconds_per_step": speed[0], "tokens_per_second": speed[1], "steps_measured": len(self.times),
                "measured_on": f"{platform.machine()}, {torch.get_num_threads()} CPU threads of {os.cpu_count()}"
                + (f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "")}


def _lineage(session: Path, run_dir: Path, plan, tracker) -> None:
    try:
        from specs import lineage

        inputs = [p for p in ("training.yaml", plan.data.train_path, plan.reward or "", "reward.py") if p and (session / p).exists()]
        lineage.record(session, "run", str((run_dir / "final").relative_to(session)), inputs=inputs,
                       run_id=run_dir.name, mlflow_run_id=tracker.mlflow_run_id if tracker else None,
                       technique=plan.technique, adapter=plan.adapter, base_model=plan.base_model)
    except Exception:  # noqa: BLE001 - lineage must not fail a finished training
        pass


if __name__ == "__main__":
    sys.exit(main())
