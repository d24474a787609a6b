"""Which code metrics score a use case's answers, and with what settings from its contract.

The evaluation step builds its spec from these (adding judge rubrics for judged tenets); the train
step's sweep scores each trial's held-out answers with the same code metrics, so a trial's score and
the evaluation's are the same number.
"""

from __future__ import annotations

from typing import Any

from specs.evaluation import EvaluationSpec, MetricSpec
from specs.use_case import IOContract, Tenet, UseCaseSpec

STANDARD_BY_TASK: dict[str, list[str]] = {
    "classification": ["accuracy"],
    "extraction": ["exact_match"],
    "question_answering": ["f1", "exact_match"],
    "summarization": ["rouge_l"],
    "rewriting": ["rouge_l"],
    "generation": ["rouge_l"],
    "math": ["numeric_tolerance"],
    "chat": ["rouge_l"],
}
"""Standard reference-based metrics added per task type (when no tenet already uses them)."""


def contract_params(use_case: UseCaseSpec, metric: str) -> dict[str, Any]:
    """Settings a code metric takes from the contract (labels, schema, pattern, length)."""
    contract = use_case.contract
    if metric in ("label_match", "accuracy") and contract.labels:
        return {"labels": list(contract.labels)}
    if metric == "json_schema" and contract.output_schema:
        return {"schema": contract.output_schema}
    if metric == "regex" and contract.output_regex:
        return {"pattern": contract.output_regex}
    if metric == "length_bounds" and contract.max_output_chars:
        return {"max_chars": contract.max_output_chars}
    return {}


def code_tenet_metric(tenet: Tenet, use_case: UseCaseSpec) -> MetricSpec:
    """The code metric of a tenet measured by code, its settings completed from the contract."""
    params = {**contract_params(use_case, tenet.metric or ""), **tenet.params}
    return MetricSpec(name=tenet.name, tenet=tenet.name, code=tenet.metric, params=params)


def standard_metrics(use_case: UseCaseSpec, taken: set[str], names: set[str]) -> list[MetricSpec]:
    out = []
    wanted = list(STANDARD_BY_TASK.get(use_case.task_type, []))
    if use_case.contract.output_format == "json" and not {"json_valid", "json_schema"} & taken:
        wanted.append("json_valid")
    for metric in wanted:
        if metric in taken or (metric == "accuracy" and "label_match" in taken) or metric in names:
            continue
        params = contract_params(use_case, metric)
        if metric == "exact_match" and use_case.contract.output_format == "json":
            params = {"json": True}
        if metric == "numeric_tolerance":
            params = {"tolerance": 1e-6}
        out.append(MetricSpec(name=metric, code=metric, params=params))
    return out


def code_metrics(use_case: UseCaseSpec, evaluation: EvaluationSpec | None = None) -> list[MetricSpec]:
    """The code metrics that score this use case: evaluation.yaml's when there is one (custom scorers
    left out: they run in the evaluation's sandbox), else the tenets measured by code and the standard
    metrics of the task type. Each carries its contract settings."""
    if evaluation is not None:
        found = [m for m in evaluation.metrics if m.code is not None and m.code != "custom"]
        return [m.model_copy(update={"params": {**contract_params(use_case, m.code or ""), **m.params}}) for m in found]
    metrics = [code_tenet_metric(t, use_case) for t in use_case.success_tenets if t.measured_by == "code" and t.metric]
    taken = {str(m.code) for m in metrics}
    return metrics + standard_metrics(use_case, taken, {m.name for m in metrics})


def answer_tokens(contract: IOContract) -> int | None:
    """How many tokens an answer needs when the contract bounds it (a length, or a label), else None."""
    if contract.max_output_chars:
        return max(16, min(256, contract.max_output_chars // 3 + 8))
    if contract.labels:
        # a label is a few tokens: room for the longest label and a little more, not a paragraph
        return max(12, max(len(label) for label in contract.labels) // 2 + 8)
    return None
