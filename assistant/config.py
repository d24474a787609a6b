"""Settings from command-line flags and environment variables (flags win).

API keys are never part of Settings and never written to disk: litellm and the providers read
them from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, AWS_*, ...) when a call is made.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from skills.settings import ToolSettings

DEFAULT_TIMEOUT_S = 600.0
"""Seconds to wait for a model's first token or next chunk: a 1.5B model on a 2-core CPU needs minutes
before the first token of a long request (docs: README, Local models)."""

ENV = {
    "workspace": "TUNESMITH_HOME",
    "model": "TUNESMITH_MODEL",
    "api_base": "TUNESMITH_API_BASE",
    "teacher_model": "TUNESMITH_TEACHER_MODEL",
    "judge_model": "TUNESMITH_JUDGE_MODEL",
    "policy_file": "TUNESMITH_POLICY_FILE",
    "yes": "TUNESMITH_YES",
    "train_minutes": "TUNESMITH_TRAIN_MINUTES",
    "train_min_steps": "TUNESMITH_TRAIN_MIN_STEPS",
    "teacher_minutes": "TUNESMITH_TEACHER_MINUTES",
    "timeout": "TUNESMITH_TIMEOUT",
    "quality_embeddings": "TUNESMITH_QUALITY_EMBEDDINGS",
}
"""Setting name -> environment variable."""

_TRUE = {"1", "true", "yes", "on", "y"}


class Settings(BaseModel):
    """How tunesmith runs: where it keeps files and which models it talks to."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    workspace: Path
    """Folder that holds the sessions (default ./tunesmith; --workspace or TUNESMITH_HOME)."""
    model: str | None = None
    """litellm model string of the planner, e.g. openai/gpt-4.1 or ollama/qwen3; None runs the
    offline guided planner (--model or TUNESMITH_MODEL)."""
    api_base: str | None = None
    """Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (--api-base or
    TUNESMITH_API_BASE)."""
    teacher_model: str | None = None
    """Model that writes training data; defaults to the planner model when one is set."""
    judge_model: str | None = None
    """Model that judges outputs (LLM-as-judge); defaults to the planner model when one is set."""
    yes: bool = False
    """Allow every approval without asking (headless runs only; --yes)."""
    policy_file: Path | None = None
    """YAML file of standing approval rules for headless runs (--policy-file)."""
    train_minutes: float | None = None
    """Cap on a training run's planned time, in minutes: plans are cut to the steps that fit,
    using the measured speed once the warm-up ran (--train-minutes or TUNESMITH_TRAIN_MINUTES)."""
    train_min_steps: int | None = Field(None, ge=1, le=100_000)
    """Fewest steps a cut to --train-minutes may leave: a busy machine makes slower steps, and this keeps
    the training it buys from falling below a known-good count (--train-min-steps or TUNESMITH_TRAIN_MIN_STEPS)."""
    teacher_minutes: float = Field(30.0, gt=0, le=10_000)
    """Minutes of data generation a teacher served on this machine (a loopback --api-base) is given: one of
    its requests is timed and the first data_generation.yaml asks for the records that fit
    (--teacher-minutes or TUNESMITH_TEACHER_MINUTES)."""
    timeout: float = Field(DEFAULT_TIMEOUT_S, gt=0)
    """Seconds to wait for an answer of the planner, teacher or judge before giving up on that request
    (a streaming answer that keeps arriving is never cut); a timed-out request is not sent again
    while the server may still be working on it (--timeout or TUNESMITH_TIMEOUT)."""
    quality_embeddings: bool = True
    """Measure the embedding spread of the inputs in the quality report (a MiniLM subprocess, about
    10-30 s); --no-quality-embeddings or TUNESMITH_QUALITY_EMBEDDINGS=0 turns it off."""

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **flags: Any) -> "Settings":
        """Build settings: a flag that is not None wins over its environment variable."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, var in ENV.items():
            flag = flags.pop(name, None)
            raw = flag if flag not in (None, "") else (env.get(var) or None)
            if raw is not None:
                values[name] = raw
        if flags:
            raise TypeError(f"unknown settings: {', '.join(sorted(flags))}")
        if isinstance(values.get("yes"), str):
            values["yes"] = values["yes"].strip().lower() in _TRUE
        workspace = values.get("workspace")
        values["workspace"] = Path(workspace).expanduser() if workspace else Path.cwd() / "tunesmith"
        if values.get("policy_file"):
            values["policy_file"] = Path(values["policy_file"]).expanduser()
        for derived in ("teacher_model", "judge_model"):
            values.setdefault(derived, values.get("model"))
        try:
            return cls(**values)
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None

    @classmethod
    def from_args(cls, args: Any, env: Mapping[str, str] | None = None) -> "Settings":
        """Settings from an argparse namespace built by assistant.cli (missing flags fall to env)."""
        return settings_from_args(args, env)

    @property
    def offline(self) -> bool:
        """True when no planner LLM is configured (the guided planner runs)."""
        return not self.model

    def for_tools(self) -> ToolSettings:
        """What a skill's tools and guides read (``ctx.settings``); built here and nowhere else.
        Never secrets: Settings holds none."""
        return ToolSettings(workspace=self.workspace, teacher_model=self.teacher_model, judge_model=self.judge_model,
                            api_base=self.api_base, train_minutes=self.train_minutes, train_min_steps=self.train_min_steps,
                            teacher_minutes=self.teacher_minutes,
                            quality_embeddings=self.quality_embeddings)


def tool_settings(settings: Settings | ToolSettings | None) -> ToolSettings:
    """The tools' settings of the app's Settings (``for_tools``); ToolSettings as given; None: the defaults."""
    if isinstance(settings, Settings):
        return settings.for_tools()
    return settings if settings is not None else ToolSettings()


class SettingsError(ValueError):
    """A setting from a flag or the environment has a value it cannot take; the message says which."""


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        flag = "--" + name.replace("_", "-")
        var = f" or {ENV[name]}" if name in ENV else ""
        parts.append(f"setting {flag}{var}: {error['msg']} (got {error.get('input')!r})")
    return "; ".join(parts)


def settings_from_args(args: Any, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from an argparse namespace built by assistant.cli (missing flags fall to env). The
    timeout is exported as TUNESMITH_TIMEOUT so the teacher and judge clients, in the app and in the
    jobs it starts, wait as long as the planner."""
    flags = {name: getattr(args, name, None) for name in ENV}
    if not flags.get("yes"):
        flags["yes"] = None
    settings = Settings.load(env, **flags)
    if env is None:
        os.environ[ENV["timeout"]] = f"{settings.timeout:g}"
    return settings
