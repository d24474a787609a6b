"""The training plan (training.yaml): technique, adapter, hyperparameters, compute, data mix."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from specs.base import MAX_TEXT, Seed, SessionPath, Spec, SpecFile


class Technique(StrEnum):
    """How a model is trained: `sft` learns from gold answers, `dpo` from preference pairs, `rlvr` is RL
    with a verifiable (program-checked) reward, `rlaif` RL with an LLM judge's reward."""

    SFT = "sft"
    DPO = "dpo"
    RLVR = "rlvr"
    RLAIF = "rlaif"

    @property
    def is_rl(self) -> bool:
        """Trained with GRPO: the model samples answers and a reward scores them."""
        return self in (Technique.RLVR, Technique.RLAIF)

    @property
    def needs_reward(self) -> bool:
        """Trains against a reward (reward.yaml and the generated reward.py)."""
        return self.is_rl

    @property
    def needs_judge(self) -> bool:
        """Its reward is an LLM judge's rubric (a judge model must be configured)."""
        return self is Technique.RLAIF

    @property
    def needs_pairs(self) -> bool:
        """Learns from preference pairs (chosen and rejected answers)."""
        return self is Technique.DPO

    @property
    def needs_gold(self) -> bool:
        """Learns from gold answers (input and output records)."""
        return self is Technique.SFT

    @property
    def needs_reference_model(self) -> bool:
        """Keeps a frozen reference model (DPO and GRPO): LoRA's base weights can serve as it."""
        return self is not Technique.SFT

    @property
    def label(self) -> str:
        """How messages name it: SFT, DPO, RLVR, RLAIF."""
        return self.value.upper()
Adapter = Literal["lora", "full"]
Steps = Annotated[int, Field(ge=1, le=1_000_000)]
"""Optimizer steps (1 to 1,000,000)."""
LearningRate = Annotated[float, Field(gt=0, lt=1)]
"""A learning rate (above 0, below 1)."""
BatchSize = Annotated[int, Field(ge=1, le=4096)]
"""Records per device per step (1 to 4096)."""
MixRatio = Annotated[float, Field(ge=0, le=0.9)]
"""Share of general data mixed in (0 to 0.9)."""


class Hyperparameters(Spec):
    """Optimizer and trainer settings; the defaults are sized to the machine and the data."""

    learning_rate: LearningRate = 2e-4
    """Peak learning rate. LoRA: 2e-4 to 5e-4; full fine-tune: 5e-5 to 1e-4; DPO: 5e-5; GRPO: 1e-4 to 2e-4."""
    max_steps: Steps = 60
    """Optimizer steps to train for. Takes precedence over epochs."""
    epochs: float = Field(default=1.0, gt=0, le=1000)
    """Passes over the training data, used when `max_steps` is not what you want to fix (informational)."""
    batch_size: BatchSize = 4
    """Records per device per step."""
    grad_accum: int = Field(default=1, ge=1, le=4096)
    """Gradient accumulation steps; the effective batch is batch_size x grad_accum x processes."""
    max_length: int = Field(default=256, ge=16, le=131_072)
    """Longest training sequence in tokens; longer records are truncated."""
    packing: bool = False
    """Pack several short SFT records into one sequence (faster on short records)."""
    group_by_length: bool = True
    """Put SFT records of similar length in the same batch, so less of each batch is padding (faster when
    record lengths vary; the order is still shuffled in large groups). Ignored when packing is on."""
    answer_only_head: bool = True
    """SFT: run the LM head only on the answer's tokens, the only ones the loss counts (same loss, less
    work per step on the CPU, where TRL otherwise scores every position)."""
    warmup_ratio: float = Field(default=0.05, ge=0, lt=1)
    """Share of steps spent warming up the learning rate."""
    weight_decay: float = Field(default=0.0, ge=0, le=10)
    """Weight decay."""
    lora_r: int = Field(default=16, ge=1, le=1024)
    """LoRA rank."""
    lora_alpha: int = Field(default=32, ge=1, le=4096)
    """LoRA scaling alpha."""
    lora_dropout: float = Field(default=0.05, ge=0, lt=1)
    """LoRA dropout."""
    lora_targets: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(max_length=200, default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    """Module names LoRA adapts."""
    beta: float = Field(default=0.1, gt=0, le=100)
    """DPO / GRPO KL strength."""
    num_generations: int = Field(default=4, ge=2, le=64)
    """GRPO: completions sampled per prompt."""
    max_completion_length: int = Field(default=32, ge=1, le=8192)
    """GRPO: longest sampled completion in tokens."""
    save_steps: int = Field(default=20, ge=1, le=1_000_000)
    """Save a checkpoint every this many steps."""
    logging_steps: int = Field(default=1, ge=1, le=100_000)
    """Log metrics every this many steps."""
    seed: Seed = 0
    """Random seed."""


class Compute(Spec):
    """Where and how the job runs."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    """`auto` uses a GPU when one is present, else the CPU."""
    launcher: Literal["local", "accelerate"] = "local"
    """`local`: one process; `accelerate`: `accelerate launch` with several processes, GPUs or nodes."""
    num_processes: int = Field(default=1, ge=1, le=1024)
    """Processes for `accelerate` (one per GPU, or CPU processes)."""
    num_machines: int = Field(default=1, ge=1, le=1024)
    """Machines (nodes) for `accelerate`."""
    accelerate_config: SessionPath | None = None
    """Path to an accelerate config (FSDP or DeepSpeed), relative to the session folder."""
    gradient_checkpointing: bool = False
    """Trade about 30% speed for less memory."""


class DataMix(Spec):
    """Which data the job trains on."""

    train_path: SessionPath = "data/train.jsonl"
    """Training records, relative to the session folder."""
    eval_path: SessionPath = "data/eval.jsonl"
    """Held-out records, relative to the session folder."""
    system_prompt: Literal["full", "short"] = "full"
    """`short`: SFT and DPO train with the first sentence of the records' system prompt (the task, without the
    list of labels or format rules the model learns from its data), fewer tokens on every step; the run
    records it and evaluation, the playground and export ask the model the same way. `full`: as written."""
    general_mix_ratio: MixRatio = 0.0
    """Share of general instruction data mixed in against forgetting (on by default for full fine-tunes)."""
    general_data_path: SessionPath | None = None
    """General instruction data (e.g. the base model's own answers to generic prompts), relative to the session folder."""


class TimeEstimate(Spec):
    """How long the plan should take, measured on a short warm-up."""

    seconds_per_step: float = Field(ge=0, le=10_000_000)
    """Measured seconds per optimizer step."""
    total_seconds: float = Field(ge=0, le=1_000_000_000)
    """Estimated wall time of the whole run."""
    tokens_per_second: float | None = Field(default=None, ge=0, le=1_000_000_000)
    """Measured training tokens per second."""
    measured_on: str | None = Field(default=None, max_length=500)
    """The machine the warm-up ran on."""
    cut_from_steps: int | None = Field(default=None, ge=1, le=10_000_000)
    """The plan's steps before they were cut to the training budget (--train-minutes); a warm-up that measures
    faster steps than the guess re-fits from these, and a hand edit of max_steps stands."""
    cut_to_steps: int | None = Field(default=None, ge=1, le=10_000_000)
    """The steps that cut left (when max_steps still equals this, the steps are the budget's, not the person's)."""


class Recommended(Spec):
    """What the assistant recommended for this use case, data and machine when the plan was written."""

    technique: Technique
    """The technique the ranking put first."""
    adapter: Adapter
    """LoRA or a full fine-tune, for this model on this machine."""
    reason: str = Field(min_length=1, max_length=MAX_TEXT)
    """Why that technique and adapter."""


class TrainingPlan(SpecFile):
    """How to train: technique, adapter, hyperparameters, compute and data."""

    technique: Technique = Technique.SFT
    """`sft`: learn from gold answers; `dpo`: from preference pairs; `rlvr`: RL with a verifiable reward; `rlaif`: RL with an LLM judge's reward."""
    adapter: Adapter = "lora"
    """`lora` trains small adapter matrices (less memory); `full` trains every weight."""
    base_model: str = Field(default="embedded:SmolLM2-135M-Instruct", min_length=1, max_length=500)
    """The model to train; normally copied from the use-case spec."""
    reason: str | None = Field(default=None, max_length=MAX_TEXT)
    """Why this technique and adapter: the recommendation's reason, or that the person chose them."""
    recommended: Recommended | None = None
    """The recommendation the plan was written from (technique and adapter above differ from it when
    the person chose others); later steps read it from here instead of ranking again."""
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    """Optimizer and trainer settings."""
    compute: Compute = Field(default_factory=Compute)
    """Where and how it runs."""
    data: DataMix = Field(default_factory=DataMix)
    """What it trains on."""
    reward: SessionPath | None = None
    """For RL techniques: the reward spec file, relative to the session folder (e.g. `reward.yaml`)."""
    estimate: TimeEstimate | None = None
    """Measured time estimate."""
    mlflow: bool = True
    """Log the run to MLflow."""

    @property
    def needs_reward(self) -> bool:
        """The plan's technique trains against a reward (``Technique.needs_reward``)."""
        return self.technique.needs_reward

    @model_validator(mode="after")
    def _reward_for_rl(self) -> "TrainingPlan":
        if self.needs_reward and not self.reward:
            raise ValueError(f"technique `{self.technique}` needs a `reward` file")
        return self
