"""The data generation spec: how many records, how varied, made by what, checked how."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from specs.base import MAX_TEXT, Seed, SessionPath, Spec, SpecFile

DataFormat = Literal["sft", "preference", "prompt_only"]
GeneratorKind = Literal["teacher", "programmatic", "offline"]


class AxisValue(Spec):
    """One value of a diversity axis and how often to draw it."""

    value: str = Field(min_length=1, max_length=500)
    """The value, e.g. `formal` for a writing-style axis."""
    weight: float = Field(default=1.0, gt=0, le=1_000_000)
    """Relative sampling weight; values are drawn in proportion to their weights."""


class DiversityAxis(Spec):
    """An attribute varied across records; all axes are sampled jointly for each record."""

    name: str = Field(min_length=1, max_length=80)
    """The attribute, e.g. `category`, `writing_style` or `difficulty`."""
    values: list[AxisValue] = Field(min_length=1, max_length=1000)
    """The values it takes, with weights."""


class GeneratorSpec(Spec):
    """Which generator makes the records."""

    kind: GeneratorKind = "offline"
    """`teacher`: an LLM through litellm; `programmatic`: generator and verifier code run in a sandbox; `offline`: template expansion of the seeds plus paraphrase by the embedded model."""
    model: str | None = Field(default=None, max_length=200)
    """For `teacher`: the litellm model string (e.g. `openai/gpt-4.1`). Defaults to the session's teacher model."""
    api_base: str | None = Field(default=None, max_length=500)
    """For `teacher`: base URL of an OpenAI-compatible server, if not the provider's default."""
    template: str | None = Field(default=None, max_length=80)
    """For `programmatic`: a shipped template (`classification`, `extraction`, `arithmetic`, `unit_conversion`, `money`) or `custom` for LLM-written code."""
    code_path: SessionPath | None = None
    """For `programmatic` with custom code: the generator file in the session folder (e.g. `generator.py`)."""
    concurrency: int = Field(default=8, ge=1, le=256)
    """How many teacher requests run at once."""
    temperature: float = Field(default=0.9, ge=0, le=2)
    """Sampling temperature for the teacher or paraphraser."""
    max_retries: int = Field(default=4, ge=0, le=20)
    """Retries per request on rate limits, server errors and timeouts."""
    paraphrase: bool = False
    """For `offline`: also paraphrase inputs with the embedded model (slow on CPU)."""
    timeout_s: float = Field(default=60, gt=0, le=3600)
    """Per-request timeout (teacher) or per-batch time limit (programmatic), in seconds."""
    memory_mb: int = Field(default=1024, ge=64, le=65_536)
    """Memory limit for generated code, in MiB."""


class VerificationRules(Spec):
    """Checks every record must pass; failures are dropped and counted by reason."""

    check_label_set: bool = True
    """Drop records whose output is not one of the use case's labels (classification)."""
    check_json_schema: bool = True
    """Drop records whose output is not valid JSON for the use case's schema (JSON outputs)."""
    output_regex: str | None = Field(default=None, max_length=2000)
    """Drop records whose output does not fully match this regex (defaults to the use case's)."""
    min_input_chars: int = Field(default=1, ge=0, le=100_000)
    """Drop records whose input is shorter than this."""
    max_input_chars: int = Field(default=4000, gt=0, le=100_000)
    """Drop records whose input is longer than this."""
    max_output_chars: int | None = Field(default=None, gt=0, le=100_000)
    """Drop records whose output is longer than this (defaults to the use case's)."""
    verifier_path: SessionPath | None = None
    """A Python file with `verify(record) -> bool | str` run in the sandbox on every record (a string is the failure reason)."""


class QualityThresholds(Spec):
    """Limits the quality report checks; a breach is a high-severity finding that blocks training unless waived."""

    max_duplicate_rate: float = Field(default=0.05, ge=0, le=1)
    """Largest acceptable share of exact or near-duplicate records."""
    near_duplicate_jaccard: float = Field(default=0.85, gt=0, le=1)
    """MinHash Jaccard similarity (character 5-grams of the inputs) at or above which two training records with
    the same answer count as near duplicates; a generated record that close to any record is not added."""
    min_records: int = Field(default=50, ge=1, le=1_000_000)
    """Fewest usable training records (tunesmith proposes 30 when your own rows are the data)."""
    min_distinct_2: float = Field(default=0.1, ge=0, le=1)
    """Share of distinct word pairs among the training inputs below which they repeat themselves; a generated
    record must bring at least this share of word pairs the data does not have yet."""
    max_label_imbalance: float = Field(default=10.0, ge=1, le=1_000_000)
    """Largest acceptable ratio between the most and least frequent label."""
    allow_train_eval_overlap: bool = False
    """Whether eval records may share n-grams with training records (leakage)."""
    overlap_ngram: int = Field(default=8, ge=3, le=64)
    """Length of the word n-grams compared between train and eval."""
    block_pii_in_outputs: bool = True
    """Whether PII (emails, phone numbers, card numbers, ...) in outputs blocks training."""
    max_tokens: int = Field(default=512, ge=16, le=131_072)
    """Training maximum length in base-model tokens; longer records are flagged."""


class GroundingDocument(Spec):
    """A document the generator draws facts from."""

    path: str = Field(min_length=1, max_length=500)
    """Path of the document: relative to the session folder, or the absolute path of the person's own
    document (it is only read, never written)."""
    description: str | None = Field(default=None, max_length=MAX_TEXT)
    """What it is, for the generator's prompt."""


class DataGenerationSpec(SpecFile):
    """How the training and evaluation data are made."""

    train_count: int = Field(default=200, ge=1, le=1_000_000)
    """How many training records to make (before verification drops any)."""
    eval_count: int = Field(default=40, ge=1, le=100_000)
    """How many held-out evaluation records to make."""
    format: DataFormat = "sft"
    """`sft`: prompt and answer; `preference`: prompt with chosen and rejected answers (DPO); `prompt_only`: prompt with a reference answer (RL)."""
    diversity_axes: list[DiversityAxis] = Field(default_factory=list, max_length=50)
    """Attributes varied across records, sampled jointly (e.g. category x style x difficulty)."""
    grounding_documents: list[GroundingDocument] = Field(default_factory=list, max_length=1000)
    """Documents the generator should draw on."""
    generator: GeneratorSpec = Field(default_factory=GeneratorSpec)
    """The generator that makes the records."""
    verification: VerificationRules = Field(default_factory=VerificationRules)
    """Checks each record must pass."""
    quality: QualityThresholds = Field(default_factory=QualityThresholds)
    """Thresholds of the quality report."""
    seed: Seed = 0
    """Random seed: the same spec and seed give the same records."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Generator-specific settings that have no field of their own."""

    @model_validator(mode="after")
    def _generator_fields(self) -> "DataGenerationSpec":
        names = [a.name for a in self.diversity_axes]
        if len(set(names)) != len(names):
            raise ValueError("diversity axis names must be unique")
        if self.generator.kind == "programmatic" and not (self.generator.template or self.generator.code_path):
            raise ValueError("a programmatic generator needs a `template` or a `code_path`")
        return self
