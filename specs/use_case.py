"""The use-case spec: what the person wants the model to do, and how success is measured."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from specs.base import MAX_TEXT, Spec, SpecFile

TaskType = Literal[
    "classification", "extraction", "generation", "question_answering",
    "summarization", "rewriting", "math", "chat", "text_to_sql", "tool_calling",
]
MeasuredBy = Literal["judge", "code"]
CodeMetric = Literal[
    "exact_match", "label_match", "json_valid", "json_schema", "regex",
    "f1", "rouge_l", "numeric_tolerance", "length_bounds", "sql_valid",
]
DataKind = Literal[
    "labeled_examples", "input_output_pairs", "preference_pairs", "reference_document",
    "conversations", "unlabeled_inputs", "unknown",
]


class Tenet(Spec):
    """One measurable statement of what a good answer does."""

    name: str = Field(min_length=1, max_length=80)
    """Short identifier for the tenet, e.g. `correct_label`. Used in reports and metric names."""
    description: str = Field(min_length=1, max_length=MAX_TEXT)
    """What a good answer does, in one or two plain sentences."""
    measured_by: MeasuredBy = "code"
    """`code` when a program can check it (exact match, JSON validity, a regex); `judge` when it needs a judgement by an LLM."""
    metric: CodeMetric | None = None
    """For `code` tenets: which check scores it."""
    rubric: str | None = Field(default=None, max_length=MAX_TEXT)
    """For `judge` tenets: the instructions the judge follows to score an answer from 1 (fails) to 5 (fully meets), mapped to 0-1 in reports and rewards."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Extra settings of the check, e.g. `pattern` for regex or `tolerance` for numeric_tolerance."""

    @model_validator(mode="after")
    def _measurable(self) -> "Tenet":
        if self.measured_by == "code" and self.metric is None:
            raise ValueError("a tenet with measured_by `code` needs a `metric`")
        if self.measured_by == "judge" and not self.rubric:
            raise ValueError("a tenet with measured_by `judge` needs a `rubric`")
        return self


class IOContract(Spec):
    """What goes into the model and what must come out."""

    input_description: str = Field(min_length=1, max_length=MAX_TEXT)
    """What one input looks like, in words (e.g. "one bank transaction line: date, merchant, amount")."""
    output_description: str = Field(min_length=1, max_length=MAX_TEXT)
    """What one answer looks like, in words."""
    output_format: Literal["text", "label", "json"] = "text"
    """`label`: exactly one of `labels`; `json`: a JSON value valid against `output_schema`; `text`: free text."""
    labels: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(default=None, max_length=1000)
    """The allowed answers for a classification task, in the exact spelling the model must use."""
    output_schema: dict[str, Any] | None = None
    """JSON Schema the answer must satisfy when `output_format` is `json`."""
    output_regex: str | None = Field(default=None, max_length=2000)
    """A regular expression every answer must match in full, if any."""
    max_output_chars: int | None = Field(default=None, gt=0, le=100_000)
    """Longest acceptable answer in characters, if any."""
    system_prompt: str | None = Field(default=None, max_length=MAX_TEXT)
    """Instruction given to the model before every input, in training, evaluation and export."""

    @model_validator(mode="after")
    def _format_needs(self) -> "IOContract":
        if self.output_format == "label" and not self.labels:
            raise ValueError("output_format `label` needs a non-empty `labels` list")
        if self.labels is not None and len(set(self.labels)) != len(self.labels):
            raise ValueError("`labels` must not repeat a label")
        if self.output_format == "json" and self.output_schema is None:
            raise ValueError("output_format `json` needs an `output_schema`")
        return self


class OwnData(Spec):
    """What the person said about data of their own; the data step asks for it first."""

    has_data: bool
    """True when the person has examples of their own (the data step then starts by asking for the file)."""
    kind: DataKind = "unknown"
    """What the data is, as far as their words tell: labeled examples, input/output pairs, preference pairs
    (a better and a worse answer), a reference document (e.g. an FAQ), conversations, inputs without answers."""
    described_as: str | None = None
    """Their words about it, e.g. "a few thousand labeled memos"."""
    path: str | None = None
    """The file or folder they named (as written; relative paths are relative to where tunesmith runs)."""


class UseCaseSpec(SpecFile):
    """The use case: the problem, who it is for, the input/output contract and the success tenets."""

    name: str = Field(min_length=1, max_length=80)
    """A short name for the use case, e.g. "Transaction categorizer"."""
    business_problem: str = Field(min_length=1, max_length=MAX_TEXT)
    """The problem this model solves, in the person's words."""
    primary_users: str = Field(min_length=1, max_length=MAX_TEXT)
    """Who or what uses the model's answers (a team, an application, a pipeline)."""
    task_type: TaskType
    """The kind of task; it decides the data format, technique and metrics that fit."""
    contract: IOContract
    """The input/output contract every training record and every answer must follow."""
    constraints: list[Annotated[str, Field(max_length=MAX_TEXT)]] = Field(default_factory=list, max_length=50)
    """Hard requirements beyond the contract: latency, privacy, tone, languages, things never to say."""
    success_tenets: list[Tenet] = Field(min_length=1, max_length=10)
    """Measurable statements of a good answer (three by default). Evaluation scores each one."""
    own_data: OwnData | None = None
    """The person's own data, when they said whether they have some (None: not said yet)."""
    base_model: str = Field(default="embedded:SmolLM2-135M-Instruct", min_length=1, max_length=500)
    """The open model to customize: `embedded:SmolLM2-135M-Instruct`, a local Hugging Face folder, or a hub id."""
    status: Literal["draft", "approved"] = "draft"
    """`approved` once the person has approved this spec; editing it sets it back to `draft`."""

    @model_validator(mode="after")
    def _unique_tenets(self) -> "UseCaseSpec":
        names = [t.name for t in self.success_tenets]
        if len(set(names)) != len(names):
            raise ValueError("two `success_tenets` have the same name; names must be unique")
        return self
