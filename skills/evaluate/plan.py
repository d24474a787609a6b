"""Turn the use case's success tenets into an evaluation spec.

Each tenet measured by code becomes a code metric (with settings taken from the contract: labels,
JSON Schema, regex, length); each tenet measured by a judge becomes a judge rubric with the
``{prompt}``, ``{reference}`` and ``{output}`` placeholders. Standard metrics that fit the task
(accuracy, ROUGE-L, F1, JSON validity) are added when no tenet already covers them.
"""

from __future__ import annotations

import json
from typing import Any

from skills.common.usecase_metrics import answer_tokens, code_tenet_metric, standard_metrics
from specs.evaluation import EvaluationSpec, JudgeRubric, MetricSpec
from specs.use_case import Tenet, UseCaseSpec
from synth import scale

JUDGE_TEMPLATE = """You judge one answer of a model against this success tenet.

Tenet `{name}`: {description}
Rubric: {rubric}

The input the model received:
<input>
{{prompt}}
</input>

A reference answer (may be one of several good answers):
<reference>
{{reference}}
</reference>

The model's answer:
<answer>
{{output}}
</answer>

Score how well the answer meets the tenet: """ + scale.SCALE_TEXT + "."


def judge_rubric(tenet: Tenet) -> JudgeRubric:
    text = JUDGE_TEMPLATE.format(name=tenet.name, description=tenet.description.strip(),
                                 rubric=(tenet.rubric or tenet.description).strip())
    return JudgeRubric(prompt=text, scale="numeric")


def tenet_metric(tenet: Tenet, use_case: UseCaseSpec) -> MetricSpec:
    if tenet.measured_by == "judge":
        return MetricSpec(name=tenet.name, tenet=tenet.name, judge=judge_rubric(tenet))
    return code_tenet_metric(tenet, use_case)


def baseline_prompt(use_case: UseCaseSpec) -> str:
    """A stronger system prompt for the prompt-only baseline: the contract spelled out."""
    contract = use_case.contract
    parts = [contract.system_prompt.strip()] if contract.system_prompt else [f"You are {use_case.name.strip()}."]
    parts.append(f"Input: {contract.input_description.strip()}")
    parts.append(f"Your answer: {contract.output_description.strip()}")
    if contract.output_format == "label" and contract.labels:
        parts.append("Answer with exactly one of these labels and nothing else: " + ", ".join(contract.labels) + ".")
    if contract.output_format == "json" and contract.output_schema:
        parts.append("Answer with JSON only, valid against this schema: " + json.dumps(contract.output_schema))
    if contract.output_regex:
        parts.append(f"The whole answer must match the regular expression {contract.output_regex}")
    if contract.max_output_chars:
        parts.append(f"Keep the answer under {contract.max_output_chars} characters.")
    return "\n".join(parts)


def build_spec(use_case: UseCaseSpec, *, judge_model: str | None = None, include_prompt_baseline: bool = True,
               max_examples: int | None = None, general_items: int | None = None,
               existing: EvaluationSpec | None = None) -> EvaluationSpec:
    """The evaluation spec for a use case; settings of an existing spec are kept where not given."""
    metrics = [tenet_metric(t, use_case) for t in use_case.success_tenets]
    taken = {str(m.code) for m in metrics if m.code}
    metrics += standard_metrics(use_case, taken, {m.name for m in metrics})
    if existing is not None:  # custom scorers the person added by hand stay
        names = {m.name for m in metrics}
        metrics += [m for m in existing.metrics if m.code == "custom" and m.name not in names]
    data: dict[str, Any] = existing.model_dump() if existing else {}
    data.update({
        "metrics": [m.model_dump() for m in metrics],
        "include_prompt_baseline": include_prompt_baseline,
        "baseline_system_prompt": baseline_prompt(use_case) if include_prompt_baseline else data.get("baseline_system_prompt"),
        "judge_model": judge_model if judge_model is not None else data.get("judge_model"),
        "status": "draft",
    })
    if max_examples is not None:
        data["max_examples"] = max_examples
    if general_items is not None:
        data["general_items"] = general_items
    if answer_tokens(use_case.contract) and "max_new_tokens" not in data:
        data["max_new_tokens"] = answer_tokens(use_case.contract)
    return EvaluationSpec.model_validate(data)


def judged_tenets(spec: EvaluationSpec) -> list[str]:
    """Names (tenet, else metric) of the metrics that need a judge."""
    return [m.tenet or m.name for m in spec.metrics if m.judge is not None]
