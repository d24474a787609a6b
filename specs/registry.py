"""Which file holds which spec: one place that maps file names to models."""

from __future__ import annotations

from pathlib import Path

from specs.base import SpecFile
from specs.data_generation import DataGenerationSpec
from specs.evaluation import EvaluationSpec
from specs.export import ExportSpec
from specs.quality import QualityReport
from specs.reward import RewardSpec
from specs.training import TrainingPlan
from specs.use_case import UseCaseSpec

SPEC_FILES: dict[str, type[SpecFile]] = {
    "use_case.yaml": UseCaseSpec,
    "data_generation.yaml": DataGenerationSpec,
    "training.yaml": TrainingPlan,
    "reward.yaml": RewardSpec,
    "evaluation.yaml": EvaluationSpec,
    "export.yaml": ExportSpec,
}
"""YAML spec files in a session folder and their models."""

JSON_FILES: dict[str, type[SpecFile]] = {
    "quality.json": QualityReport,
}

ALL_MODELS: dict[str, type[SpecFile]] = {
    "use_case": UseCaseSpec,
    "data_generation": DataGenerationSpec,
    "quality_report": QualityReport,
    "training": TrainingPlan,
    "reward": RewardSpec,
    "evaluation": EvaluationSpec,
    "export": ExportSpec,
}
"""Schema name (the file under specs/schemas/<name>.schema.json) to model."""


def model_for(path: str | Path) -> type[SpecFile] | None:
    """The spec model of a file, judged by its name (also `*.use_case.yaml` style examples)."""
    name = Path(path).name
    if name in SPEC_FILES:
        return SPEC_FILES[name]
    if name in JSON_FILES:
        return JSON_FILES[name]
    for filename, model in SPEC_FILES.items():
        if name.endswith("." + filename) or name.endswith("-" + filename):
            return model
    return None


def schema_name(model: type[SpecFile]) -> str:
    for key, value in ALL_MODELS.items():
        if value is model:
            return key
    raise KeyError(model.__name__)
