"""Tools for the person's own data: inspect a file (format, proposed mapping), then import it."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from skills.data.access import SPEC_FILE, _data_spec, _teacher, _use_case
from skills.toolkit import Preview, ToolContext, ToolError, ToolResult, tool
from specs.io import atomic_write_text
from specs.yamlio import save_spec
from synth import importing, seeds
from synth.plan import default_spec, wants_answer_line


def _source(ctx: ToolContext, path: str) -> Path:
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        inside = ctx.session_dir / candidate
        candidate = inside if inside.exists() else Path.cwd() / candidate
    if not candidate.exists():
        raise ToolError(f"{path} does not exist")
    return candidate


def _exists(ctx: ToolContext, path: str) -> bool:
    try:
        _source(ctx, path)
    except ToolError:
        return False
    return True


def _preview_inspect(ctx: ToolContext, path: str) -> Preview:
    return Preview(summary=f"Read the first rows of {path} (outside the session folder unless it is inside it) "
                           "and show its columns, the detected format and a proposed column mapping to the assistant.")


def _read(ctx: ToolContext, path: str, limit: int | None = None) -> tuple[Path, list[dict[str, Any]]]:
    source = _source(ctx, path)
    try:
        return source, importing.read_table(source, limit=limit)
    except importing.DataFileError as exc:
        raise ToolError(str(exc)) from exc


@tool("ask", preview=_preview_inspect)  # it can read any file the person names: the person decides
def inspect_data_file(ctx: ToolContext, path: str) -> ToolResult:
    """Show the columns, the detected format (text + label, input + JSON output, prompt + reference answer,
    chosen/rejected pairs, conversations), a proposed column mapping and the first rows of the person's own
    data (JSONL, JSON, CSV/TSV, parquet, or a folder saved with datasets' save_to_disk). The person confirms
    or changes the mapping before import_data.

    Args:
        path: The file or folder (absolute, or relative to the session folder or the current folder).
    """
    source, rows = _read(ctx, path, limit=5000)
    if not rows:
        raise ToolError(f"{source.name} has no rows")
    cols = importing.columns(rows)
    proposal = importing.propose(rows)
    use_case = _use_case(ctx)
    lines = [f"{source.name}: {len(rows)} rows{' (first 5000 read)' if len(rows) == 5000 else ''}; columns: "
             f"{', '.join(cols)}.", f"Format: {proposal.words} ({'; '.join(proposal.reasons)}).",
             f"Proposed mapping: {json.dumps(proposal.mapping)}"]
    known = set(use_case.contract.labels or [])
    if proposal.labels:
        lines.append(f"Labels in the data ({len(proposal.labels)}): {', '.join(proposal.labels[:30])}")
        if known and set(proposal.labels) - known:
            lines.append("Not in the use case's labels (these rows fail verification unless the labels change): "
                         + ", ".join(sorted(set(proposal.labels) - known)[:20]))
    lines.append("First rows:")
    lines += [json.dumps(r, ensure_ascii=False, default=str)[:300] for r in rows[:3]]
    atomic_write_text(ctx.path(importing.PROPOSAL), json.dumps({"path": str(source), "columns": cols, "rows": len(rows),
                                                                 **proposal.as_dict()}, indent=2))
    return ToolResult(content="\n".join(lines), data={"columns": cols, **proposal.as_dict()}, files=[importing.PROPOSAL])


def _mapped_format(mapping: dict[str, str]) -> str:
    return "preference" if {"chosen", "rejected"} <= set(mapping) else "sft"


@tool("ask")
def import_data(ctx: ToolContext, path: str, mapping: dict[str, str], use_as: Literal["train", "seeds"] = "train",
                eval_path: str | None = None, eval_share: Annotated[float, Field(ge=0.05, le=0.5)] = 0.2,
                limit: Annotated[int, Field(ge=1, le=10_000_000)] | None = None) -> ToolResult:
    """Attach the person's own data with a confirmed column mapping. Each row is checked against the use
    case's contract (rows that break it are left out and listed by line), duplicates are dropped, and an
    eval split is held out (stratified by label) that is never trained on, unless `eval_path` gives the
    person's own eval file. As `train` the rows join the training data (data/imported.jsonl, the eval rows
    data/imported_eval.jsonl) and 20 of them become the seed examples when there are none; as `seeds` 20
    sampled rows replace the seed examples.

    Args:
        path: The file or saved dataset folder.
        mapping: Task field -> column, e.g. {"input": "memo", "output": "category"}; for preference pairs
            {"input": ..., "chosen": ..., "rejected": ...}; for conversations {"messages": ...}.
        use_as: `train` (the person's rows are training and eval data) or `seeds` (examples only).
        eval_path: The person's own eval file (same columns), used instead of a held-out split.
        eval_share: Share of the rows held out for evaluation when there is no eval file (0.05-0.5).
        limit: Read at most this many rows.
    """
    from synth.records import write_jsonl
    from synth.verify import Verifier

    source, rows = _read(ctx, path, limit=limit)
    if eval_path and _exists(ctx, eval_path) and _source(ctx, eval_path).resolve() == _source(ctx, path).resolve():
        raise ToolError(f"eval_path is {path} itself: an eval file must hold other records than the training file. "
                        f"Leave eval_path out: a stratified {eval_share:.0%} of {path} is then held out for evaluation "
                        "and never trained on.")
    if eval_path and not _exists(ctx, eval_path):
        raise ToolError(f"eval_path {eval_path} does not exist. Leave eval_path out: a stratified {eval_share:.0%} of "
                        f"{path} is then held out for evaluation and never trained on. Give eval_path only for an eval "
                        "file the person named.")
    eval_rows = _read(ctx, eval_path, limit=limit)[1] if eval_path else None
    use_case = _use_case(ctx)
    spec = _data_spec(ctx, required=False) or default_spec(use_case, fmt=_mapped_format(mapping))
    spec = spec.model_copy(update={"format": _mapped_format(mapping)})
    verifier = Verifier(use_case, spec, ctx.session_dir)
    normalize = None
    if use_case.task_type == "math":  # a number the person wrote is checkable: in the contract's answer form
        pattern = spec.verification.output_regex or use_case.contract.output_regex
        normalize = functools.partial(importing.numeric_answer, answer_line=wants_answer_line(use_case), pattern=pattern)
    try:
        prepared = importing.prepare(rows, mapping, verifier.check, by_label=bool(use_case.contract.labels),
                                     eval_rows=eval_rows, eval_share=min(0.5, max(0.05, eval_share)),
                                     near=spec.quality.near_duplicate_jaccard, ngram=spec.quality.overlap_ngram,
                                     normalize=normalize)
    except importing.DataFileError as exc:
        raise ToolError(f"{source.name}: {exc}") from exc
    if not prepared.train:
        raise ToolError(f"no row of {source.name} passes the use case's contract:\n{prepared.text(source.name)}")
    if eval_rows is not None and not prepared.eval:
        raise ToolError(f"no row of the eval file {eval_path} is left once the rows it shares with {source.name} are "
                        f"dropped:\n{prepared.text(source.name)}\nLeave eval_path out to hold out a stratified share "
                        f"of {source.name} instead.")
    if use_as == "seeds":
        rows_ = [seeds.clean_row({k: v for k, v in r.items() if k in seeds.ROW_KEYS})
                 for r in importing.sample(prepared.train, 20)]
        seeds.save(ctx.session_dir, rows_)
        return ToolResult(content=f"Saved {len(rows_)} of your rows as seed examples.", files=[seeds.EXAMPLES])
    write_jsonl(ctx.path(importing.IMPORTED), prepared.train)
    write_jsonl(ctx.path(importing.IMPORTED_EVAL), prepared.eval)
    files = [importing.IMPORTED, importing.IMPORTED_EVAL]
    if not seeds.load(ctx.session_dir):
        seeds.save(ctx.session_dir, [seeds.clean_row({k: v for k, v in r.items() if k in seeds.ROW_KEYS})
                                     for r in importing.sample(prepared.train, 20)])
        files.append(seeds.EXAMPLES)
    current = _data_spec(ctx, required=False)
    if current is not None and current.format != _mapped_format(mapping):
        save_spec(ctx.path(SPEC_FILE), current.model_copy(update={"format": _mapped_format(mapping)}))
        files.append(SPEC_FILE)
    return ToolResult(content=f"Imported {source.name}: {prepared.text(source.name)}\nThey are verified again and "
                              "joined with any generated records; the quality report says which records came from where.",
                      data={"train": len(prepared.train), "eval": len(prepared.eval), "dropped": prepared.dropped,
                            "format": _mapped_format(mapping)}, files=files)


def _preview_attach(ctx: ToolContext, path: str, description: str | None = None) -> Preview:
    return Preview(summary=f"Copy {path} into the session folder (documents/) and list it in data_generation.yaml's "
                           "grounding_documents: the teacher draws its examples from it.")


@tool("ask", preview=_preview_attach)  # it reads a file the person names: the person decides
def attach_document(ctx: ToolContext, path: str, description: str | None = None) -> ToolResult:
    """Ground the generated examples in the person's reference document (an FAQ, a manual, a policy): copy it
    into the session folder's documents/ and add it to data_generation.yaml's grounding_documents.

    Args:
        path: The document (a text file: .md, .txt, ...), absolute or relative to the session or current folder.
        description: What it is, for the teacher's prompt.
    """
    import shutil

    from specs.data_generation import GroundingDocument

    source = _source(ctx, path)
    if not source.is_file():
        raise ToolError(f"{path} is not a file")
    try:
        source.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{source.name} is not a text file ({exc.reason}); give a .md or .txt version") from exc
    target = ctx.path(f"documents/{source.name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    model, base = _teacher(ctx)  # a configured teacher writes the grounded records
    spec = _data_spec(ctx, required=False) or default_spec(_use_case(ctx), teacher_model=model, api_base=base)
    relative = f"documents/{source.name}"
    documents = [d for d in spec.grounding_documents if d.path != relative]
    documents.append(GroundingDocument(path=relative, description=description))
    save_spec(ctx.path(SPEC_FILE), spec.model_copy(update={"grounding_documents": documents}))
    return ToolResult(content=f"Attached {source.name} as a grounding document ({relative}); {SPEC_FILE} lists it.",
                      files=[relative, SPEC_FILE])
