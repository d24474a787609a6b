"""What the data step's tools share: the session's use case and data spec, the teacher, a diff, the
embeddings setting."""

from __future__ import annotations

from difflib import unified_diff

from skills.toolkit import ToolContext, ToolError
from specs.data_generation import DataGenerationSpec
from specs.errors import SpecError
from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec

SPEC_FILE = "data_generation.yaml"


def _use_case(ctx: ToolContext) -> UseCaseSpec:
    path = ctx.path("use_case.yaml")
    if not path.exists():
        raise ToolError("use_case.yaml does not exist yet; finish the use-case step first")
    try:
        spec = load_spec(path, UseCaseSpec)
    except SpecError as exc:
        raise ToolError(f"use_case.yaml has problems: {exc}") from exc
    return spec  # type: ignore[return-value]


def _data_spec(ctx: ToolContext, required: bool = True) -> DataGenerationSpec | None:
    path = ctx.path(SPEC_FILE)
    if not path.exists():
        if required:
            raise ToolError(f"{SPEC_FILE} does not exist yet; write it with write_data_generation_spec")
        return None
    try:
        return load_spec(path, DataGenerationSpec)  # type: ignore[return-value]
    except SpecError as exc:
        raise ToolError(f"{SPEC_FILE} has problems: {exc}") from exc


def _teacher(ctx: ToolContext, spec: DataGenerationSpec | None = None) -> tuple[str | None, str | None]:
    gen = spec.generator if spec else None
    model = (gen.model if gen else None) or ctx.settings.teacher_model
    base = (gen.api_base if gen else None) or ctx.settings.api_base
    return model, base


def _client(ctx: ToolContext, model: str, api_base: str | None, concurrency: int = 8):
    from synth.generate import cache_dir
    from synth.llm import LLMClient

    return LLMClient(model, api_base=api_base, cache_dir=cache_dir(ctx.session_dir, ctx.settings.workspace),
                     concurrency=concurrency)


def _diff(ctx: ToolContext, name: str, new_text: str) -> str:
    path = ctx.path(name)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    return "".join(unified_diff(old.splitlines(True), new_text.splitlines(True), f"a/{name}", f"b/{name}"))
