"""The settings a tool or a guide may read: one declared, typed field each (never API keys).

The engine builds them once from the app's settings (``assistant.config.Settings.for_tools``) and
gives them to every tool as ``ctx.settings`` and to every guide as ``state.settings``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class ToolSettings(BaseModel):
    """What the person configured that the steps use (flags and environment variables of the app)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    workspace: Path | None = None
    """Folder that holds the sessions; teacher answers are cached under it, shared across sessions
    (--workspace or TUNESMITH_HOME). None: each session caches its own."""
    teacher_model: str | None = None
    """litellm model that writes training data (--teacher-model or TUNESMITH_TEACHER_MODEL); None: the
    offline generators."""
    judge_model: str | None = None
    """litellm model that judges outputs, in evaluation and as the RLAIF reward (--judge-model or
    TUNESMITH_JUDGE_MODEL); None: code metrics only."""
    api_base: str | None = None
    """Base URL of the OpenAI-compatible server the teacher and the judge answer on (--api-base or
    TUNESMITH_API_BASE)."""
    train_minutes: float | None = None
    """Cap on a training run's planned time, in minutes (--train-minutes or TUNESMITH_TRAIN_MINUTES)."""
    train_min_steps: int | None = None
    """Fewest steps a cut to ``train_minutes`` may leave, so a busy machine (slower steps) still trains
    that many (--train-min-steps or TUNESMITH_TRAIN_MIN_STEPS); None: the technique's own floor."""
    teacher_minutes: float = 30.0
    """Minutes of generation a teacher served on this machine (a loopback --api-base) is given: the first
    data_generation.yaml fits its record counts to that at the teacher's timed speed (--teacher-minutes or
    TUNESMITH_TEACHER_MINUTES)."""
    quality_embeddings: bool = True
    """Whether the quality report measures the embedding spread of the inputs (a MiniLM subprocess,
    about 10-30 s); --no-quality-embeddings or TUNESMITH_QUALITY_EMBEDDINGS=0 turns it off."""
