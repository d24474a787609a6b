"""The reward spec (reward.yaml): how RL scores a completion, built from the tenets."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from specs.base import SessionPath, Spec, SpecFile

RewardKind = Literal["exact_match", "numeric_tolerance", "regex", "json_schema", "label_match", "judge", "length_penalty"]


class RewardComponent(Spec):
    """One named sub-score of the reward, between 0 and 1."""

    name: str = Field(min_length=1, max_length=80)
    """Name of the sub-score, shown in logs (e.g. `correct_label`)."""
    kind: RewardKind
    """Which template scores it: a verifiable check, or `judge` (an LLM rubric, RLAIF)."""
    weight: float = Field(default=1.0, ge=0, le=1000)
    """Weight in the total reward; weights are normalized to sum to 1."""
    log_only: bool = False
    """Logged but not part of the total reward."""
    tenet: str | None = None
    """The success tenet this component comes from."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Template settings: `pattern` (regex), `tolerance` (numeric), `schema` (json_schema), `labels` (label_match), `rubric` (judge)."""


class RewardSpec(SpecFile):
    """The reward function: components from the tenets, compiled to reward.py."""

    components: list[RewardComponent] = Field(min_length=1, max_length=50)
    """The sub-scores; the total is their weighted mean."""
    judge_model: str | None = Field(default=None, max_length=200)
    """For `judge` components: the litellm model that scores (must differ from the evaluation judge)."""
    code_path: SessionPath = "reward.py"
    """The generated reward code, relative to the session folder."""
    timeout_s: float = Field(default=30, gt=0, le=3600)
    """Time limit for scoring one batch, in seconds."""
    memory_mb: int = Field(default=1024, ge=64, le=65_536)
    """Memory limit of the reward process, in MiB."""

    @model_validator(mode="after")
    def _names(self) -> "RewardSpec":
        names = [c.name for c in self.components]
        if len(set(names)) != len(names):
            raise ValueError("reward component names must be unique")
        if all(c.log_only or c.weight == 0 for c in self.components):
            raise ValueError("at least one component must count toward the total (weight > 0 and not log_only)")
        return self
