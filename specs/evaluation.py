"""The evaluation spec (evaluation.yaml): judge rubrics and code metrics per tenet."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from specs.base import MAX_TEXT, SessionPath, Spec, SpecFile, session_relative
from specs.use_case import CodeMetric

ExampleCount = Annotated[int, Field(ge=1, le=1_000_000)]
GeneralItems = Annotated[int, Field(ge=0, le=10_000)]
"""How many items of the shipped general set an evaluation scores (0: no forgetting measure)."""
"""How many held-out records to evaluate (1 to 1,000,000)."""


class JudgeRubric(Spec):
    """An LLM-as-judge rubric."""

    prompt: str = Field(min_length=1, max_length=MAX_TEXT)
    """The judge's instructions; `{prompt}`, `{reference}` and `{output}` are replaced by the input, the reference answer and the model's answer."""
    scale: Literal["numeric", "categorical"] = "numeric"
    """`numeric`: a score from 1 to 5 mapped to 0-1; `categorical`: one of `categories`."""
    categories: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict, max_length=100)
    """For `categorical`: each category the judge may answer and its score 0-1."""

    @model_validator(mode="after")
    def _categories(self) -> "JudgeRubric":
        for field in ("{output}",):
            if field not in self.prompt:
                raise ValueError(f"the judge prompt must contain the placeholder {field}")
        if self.scale == "categorical" and not self.categories:
            raise ValueError("a categorical rubric needs `categories`")
        return self


class MetricSpec(Spec):
    """How one tenet (or a standard metric) is scored."""

    name: str = Field(min_length=1, max_length=80)
    """Metric name in the report, usually the tenet's name."""
    tenet: str | None = None
    """The success tenet it measures, if any."""
    code: CodeMetric | Literal["accuracy", "custom"] | None = None
    """A code metric, or `custom` for a scorer file run in a separate process."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Settings of the code metric (e.g. `pattern`, `tolerance`, `scorer_path`)."""
    judge: JudgeRubric | None = None
    """A judge rubric, when the tenet needs a judgement."""

    @model_validator(mode="after")
    def _something(self) -> "MetricSpec":
        if self.code is None and self.judge is None:
            raise ValueError("a metric needs `code`, `judge`, or both")
        scorer = self.params.get("scorer_path")
        if scorer is not None:
            if not isinstance(scorer, str):
                raise ValueError("`scorer_path` in `params` must be a path inside the session folder")
            session_relative(scorer)
        return self


class EvaluationSpec(SpecFile):
    """What evaluation measures and how."""

    metrics: list[MetricSpec] = Field(min_length=1, max_length=50)
    """One entry per tenet plus standard metrics."""
    eval_path: SessionPath = "data/eval.jsonl"
    """Held-out records, relative to the session folder."""
    max_examples: ExampleCount | None = None
    """Evaluate only the first N records (None: all)."""
    include_prompt_baseline: bool = False
    """Also score the base model with a stronger system prompt."""
    baseline_system_prompt: str | None = Field(default=None, max_length=MAX_TEXT)
    """The stronger system prompt for the prompt-only baseline."""
    judge_model: str | None = Field(default=None, max_length=200)
    """The litellm model that judges; without one, judge metrics are reported as not judged."""
    max_new_tokens: int = Field(default=64, ge=1, le=8192)
    """Longest generated answer in tokens."""
    batch_size: int = Field(default=8, ge=1, le=1024)
    """Prompts generated at once."""
    bootstrap_samples: int = Field(default=1000, ge=100, le=100_000)
    """Bootstrap resamples for confidence intervals."""
    general_items: GeneralItems | None = 80
    """Items of tunesmith's general set (arithmetic, facts, instructions, formats) scored on the base model and each tuned run to measure forgetting: the first N (each prefix holds every kind), null for the whole set (308), 0 to skip."""
    forgetting_threshold: float = Field(default=0.05, ge=0, le=1)
    """A tuned run whose general-set score falls by more than this (its interval below zero) is a finding on the report."""
    status: Literal["draft", "approved"] = "draft"
    """`approved` once the person has reviewed it."""
