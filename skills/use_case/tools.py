"""Tools of the use-case step: propose a base model, write, change and approve use_case.yaml."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from specs import lineage
from skills.toolkit import Preview, ToolContext, ToolError, ToolResult, tool
from skills.use_case import base_models, specfile
from specs.errors import SpecError
from specs.use_case import IOContract, OwnData, TaskType, Tenet, UseCaseSpec

NEXT_PHASE = "data"
FILE = specfile.FILENAME
_LOCKED_FIELDS = {"status": "use approve_use_case to approve; any change sets it back to draft",
                  "version": "the format version is set by tunesmith"}


# -- propose_base_model -------------------------------------------------------------------------


@tool("always")
def propose_base_model(ctx: ToolContext, model: str | None = None, adapter: Literal["lora", "full"] = "lora") -> ToolResult:
    """List base models that fit this machine for training, or check one model. The embedded
    SmolLM2-135M-Instruct is the default; a local Hugging Face folder or a hub id (when the hub is
    reachable) can replace it. Each is sized and checked against this machine's memory.

    Args:
        model: A model to check instead of listing: `embedded:SmolLM2-135M-Instruct`, a local folder path, or a hub id `org/name`.
        adapter: How it would be trained: `lora` (small adapters, less memory) or `full` (every weight).
    """
    memory = base_models.machine_memory()
    if model:
        choice = base_models.check_model(model, adapter, memory)
        if not choice.fits:
            raise ToolError(f"`model` {model!r} cannot be used here: {choice.reason}. "
                            f"The embedded default `{base_models.EMBEDDED}` fits this machine.")
        return ToolResult(content=f"{choice.label()}: {choice.reason}.",
                          data={"choices": [choice.to_dict()], "fitting": [choice.ref], "default": base_models.EMBEDDED})
    choices = base_models.list_choices(adapter, memory=memory)
    hub = base_models.hub_reachable()
    lines = [f"- {c.label()}: {c.reason}" for c in choices]
    lines.append("- a local Hugging Face model folder: give its path and I will size it")
    lines.append("- a hub id `org/name`: " + ("the hub is reachable" if hub else "not possible now, the hub is not reachable"))
    fitting = [c.ref for c in choices if c.fits]
    return ToolResult(
        content=f"Base models for {adapter} training on this machine "
                f"({base_models.human_bytes(memory.available)} of {base_models.human_bytes(memory.total)} RAM free):\n"
                + "\n".join(lines),
        data={"choices": [c.to_dict() for c in choices], "fitting": fitting,
              "default": base_models.EMBEDDED, "hub_reachable": hub},
    )


def _check_base_model(ref: str) -> None:
    choice = base_models.check_model(ref, "lora")
    if not choice.fits:
        raise ToolError(f"`base_model` {ref!r} cannot be used: {choice.reason}")


# -- write_use_case ----------------------------------------------------------------------------


def _build(name, business_problem, primary_users, task_type, contract, success_tenets, constraints, base_model,
           own_data=None) -> UseCaseSpec:
    try:
        return UseCaseSpec(
            name=name, business_problem=business_problem, primary_users=primary_users, task_type=task_type,
            contract=contract, success_tenets=success_tenets, constraints=constraints, base_model=base_model,
            own_data=own_data, status="draft",
        )
    except ValidationError as exc:
        raise ToolError("use_case.yaml would be invalid: " + specfile.explain_validation(exc)) from exc


def _existing(ctx: ToolContext) -> str | None:
    path = ctx.path(FILE)
    return path.read_text(encoding="utf-8") if path.exists() else None


def _preview_write(ctx: ToolContext, name, business_problem, primary_users, task_type, contract,
                   success_tenets, constraints=(), base_model=base_models.EMBEDDED, own_data=None) -> Preview:
    try:
        spec = _build(name, business_problem, primary_users, task_type, contract, success_tenets,
                      list(constraints), base_model, own_data)
    except ToolError as exc:
        return Preview(summary=f"Write {FILE}: not possible as given. {exc}")
    old = _existing(ctx)
    new = specfile.render(spec, old, ctx.session_dir)
    verb = "Replace" if old is not None else "Create"
    tenets = ", ".join(t.name for t in spec.success_tenets)
    return Preview(summary=f"{verb} {FILE} (draft): {spec.name}; {spec.task_type}; tenets: {tenets}; "
                           f"base model {spec.base_model}", diff=specfile.diff(old, new))


# -- draft_use_case ----------------------------------------------------------------------------


def _persons_words(ctx: ToolContext) -> str:
    """What the person wrote in this session (their description and answers), oldest first; not the headless
    run's "continue" nudges."""
    import json as _json

    path = ctx.path("conversation.jsonl")
    words = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for line in lines:
        try:
            record = _json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("type") != "user" or record.get("hidden"):
            continue
        content = (record.get("message") or {}).get("content")
        if isinstance(content, str) and content.strip() and not content.lower().startswith("continue"):
            words.append(content.strip())
    return "\n".join(words)


def _drafted(description: str, person: str = "") -> tuple[dict[str, Any], list[str], list[str]]:
    """write_use_case arguments inferred from the person's own words in the session (``person``) and, where
    those do not say the task, the planner's ``description`` too (as the guided interview infers them), what
    was taken, and what was guessed (to ask the person about). A small model's paraphrase loses the labels
    or the task; the person's words are read first."""
    from skills.use_case.guide import Draft, build_arguments
    from skills.use_case.infer import infer, labels_in_data

    facts = infer(person) if person else infer(description)
    if person and (facts.task_type is None or (facts.task_type == "classification" and not facts.labels and not facts.facets)):
        facts = infer(person + "\n" + description)
    if person and facts.primary_users is None:
        facts.primary_users = infer(description).primary_users  # who uses it, as the planner heard it
    draft = Draft(facts=facts, task=facts.task_type, users=facts.primary_users, labels=facts.labels,
                  fields=facts.fields, tools=facts.tools, base=facts.base_model)
    if draft.base is not None and not base_models.check_model(draft.base, "lora").fits:
        draft.base = None
    if facts.task_type is None:
        raise ToolError("the description does not say what kind of task it is (put each input into a category, "
                        "extract fields, summarize, answer questions, rewrite, ...): ask the person (ask_user), then call "
                        "draft_use_case again with the description and their answer together")
    taken, guessed = [f"task type {draft.task}"], []
    in_data = None
    if facts.task_type == "classification" and not facts.labels and not facts.facets:
        in_data = labels_in_data(facts)  # "we have a CSV of labeled tickets": its label column names them
        if in_data:
            facts.labels = draft.labels = in_data[0]
    if in_data:
        guessed.append(f"the labels {', '.join(in_data[0])}, read from the label column of {in_data[1]}")
    elif facts.labels:
        taken.append("labels " + ", ".join(facts.labels))
    if facts.facets:
        taken.append("; ".join(f"{k}: {', '.join(v)}" for k, v in facts.facets.items()))
    if facts.fields:
        taken.append("fields " + ", ".join(facts.fields))
    if facts.tools:
        taken.append("tools " + ", ".join(facts.tools))
    (taken if facts.primary_users else guessed).append(f"users {facts.primary_users or 'not stated'}")
    if facts.own_data and facts.own_data.get("has_data"):
        taken.append("the person has data of their own" + (f" ({facts.own_data['path']})" if facts.own_data.get("path") else ""))
    guessed.append("the three success tenets (the usual ones for this task type)")
    missing = {"classification": (not facts.labels and not facts.facets, "the labels"),
               "extraction": (not facts.fields, "the fields"), "tool_calling": (not facts.tools, "the tool names")}
    lacking, what = missing.get(draft.task or "", (False, ""))
    if lacking:
        raise ToolError(f"the description does not list {what}: ask the person for them (ask_user), then call "
                        f"draft_use_case again with the description and their answer together")
    return build_arguments(draft), taken, guessed


def _preview_draft(ctx: ToolContext, description: str) -> Preview:
    try:
        arguments, taken, guessed = _drafted(description, _persons_words(ctx))
    except ToolError as exc:
        return Preview(summary=f"Draft {FILE}: not possible yet. {exc}")
    preview = _preview_write(ctx, **arguments)
    return Preview(summary=f"{preview.summary}\nTaken from the description: {'; '.join(taken)}. "
                           f"Guessed: {'; '.join(guessed)}.", diff=preview.diff)


@tool("ask", preview=_preview_draft)
def draft_use_case(ctx: ToolContext, description: Annotated[str, Field(min_length=3, max_length=8000)]) -> ToolResult:
    """Write a draft use_case.yaml inferred from the person's words in this session and your description,
    as the guided interview does:
    task type, labels or fields as written, users, own data, three usual tenets. Easier than write_use_case;
    the result says what was guessed. Then show it and ask what to change, or approval.

    Args:
        description: The person's description of the task, with their answers so far.
    """
    arguments, taken, guessed = _drafted(description, _persons_words(ctx))
    result = write_use_case.run(ctx, write_use_case.validate(arguments))
    if result.is_error:
        return result
    return ToolResult(content=f"Taken from the description: {'; '.join(taken)}. Guessed, to confirm with the person: "
                              f"{'; '.join(guessed)}.\n{result.content}\nNext: ask_user whether to approve it (choices "
                              "\"Approve it\" and what to change); once the person approves, call approve_use_case.",
                      data=result.data, files=result.files)


@tool("ask", preview=_preview_write)
def write_use_case(
    ctx: ToolContext,
    name: Annotated[str, Field(min_length=1, max_length=80)],
    business_problem: Annotated[str, Field(min_length=1)],
    primary_users: Annotated[str, Field(min_length=1)],
    task_type: TaskType,
    contract: IOContract,
    success_tenets: Annotated[list[Tenet], Field(min_length=1, max_length=10)],
    constraints: list[str] = [],  # noqa: B006 - a tool argument: pydantic copies the default
    base_model: str = base_models.EMBEDDED,
    own_data: OwnData | None = None,
) -> ToolResult:
    """Write use_case.yaml (status draft) from what the person said: the problem, who uses the answers,
    the task type, the input/output contract and three measurable success tenets. The person sees the
    diff before it is written. Afterwards show it and ask for changes or approval.

    Args:
        name: Short name of the use case, e.g. "Transaction categorizer".
        business_problem: The problem the model solves, in the person's words.
        primary_users: Who or what uses the answers (a team, an application, a pipeline).
        task_type: The kind of task.
        contract: Input/output contract: input and output descriptions, output format, labels or JSON schema, system prompt.
        success_tenets: Three measurable statements of a good answer, each measured by code (with a metric) or a judge (with a rubric).
        constraints: Hard requirements beyond the contract (latency, privacy, tone, languages).
        base_model: `embedded:SmolLM2-135M-Instruct` (default), a local Hugging Face folder, or a hub id; must fit this machine.
        own_data: What the person said about data of their own (has_data, kind, their words, a path), when they said it.
    """
    spec = _build(name, business_problem, primary_users, task_type, contract, success_tenets, list(constraints), base_model,
                  own_data)
    _check_base_model(spec.base_model)
    old = _existing(ctx)
    text = specfile.render(spec, old, ctx.session_dir)
    try:
        specfile.save(ctx.session_dir, spec)
    except SpecError as exc:
        raise ToolError(f"{FILE} was not written: {specfile.explain_spec_error(exc)}") from exc
    note = ""
    if len(spec.success_tenets) != 3:
        note = f"\nNote: it has {len(spec.success_tenets)} success tenets; three is the usual number."
    written = ctx.path(FILE).read_text(encoding="utf-8")
    return ToolResult(
        content=f"Wrote {FILE} (status: draft). Show it to the person and ask for changes or approval.{note}\n"
                f"```yaml\n{written.rstrip()}\n```",
        data={"path": FILE, "status": "draft", "diff": specfile.diff(old, text)},
        files=[FILE],
    )


# -- update_use_case ---------------------------------------------------------------------------


def _load_current(ctx: ToolContext) -> UseCaseSpec:
    try:
        return specfile.load(ctx.session_dir)
    except FileNotFoundError:
        raise ToolError(f"there is no {FILE} yet; call write_use_case first") from None
    except SpecError as exc:
        raise ToolError(f"{FILE} has problems: {specfile.explain_spec_error(exc)}. Fix them in the file, "
                        "or rewrite it with write_use_case") from exc


def _changed_spec(ctx: ToolContext, changes: dict[str, Any]) -> UseCaseSpec:
    if not changes:
        raise ToolError("`changes` is empty; give field paths and new values, e.g. {\"contract.labels\": [\"a\", \"b\"]}")
    for path in changes:
        head = specfile.split_path(path)[0] if path else ""
        if head in _LOCKED_FIELDS:
            raise ToolError(f"`{path}` cannot be changed here: {_LOCKED_FIELDS[head]}")
    current = _load_current(ctx)
    try:
        data = specfile.apply_changes(current.model_dump(mode="json"), changes)
    except specfile.EditError as exc:
        raise ToolError(str(exc)) from exc
    data["status"] = "draft"
    try:
        spec = UseCaseSpec.model_validate(data)
    except ValidationError as exc:
        raise ToolError("these changes would make use_case.yaml invalid: " + specfile.explain_validation(exc)) from exc
    if spec.base_model != current.base_model:
        _check_base_model(spec.base_model)
    return spec


def _preview_update(ctx: ToolContext, changes: dict[str, Any]) -> Preview:
    try:
        spec = _changed_spec(ctx, changes)
    except ToolError as exc:
        return Preview(summary=f"Change {FILE}: not possible as given. {exc}")
    old = _existing(ctx)
    fields = ", ".join(f"`{p}`" for p in changes)
    return Preview(summary=f"Change {fields} in {FILE} (status back to draft)",
                   diff=specfile.diff(old, specfile.render(spec, old, ctx.session_dir)))


@tool("ask", preview=_preview_update)
def update_use_case(ctx: ToolContext, changes: dict[str, Any]) -> ToolResult:
    """Change fields of use_case.yaml the person asked to change, keeping their comments; the person
    sees the diff first. Any change sets the status back to draft.

    Args:
        changes: Field path to new value, e.g. {"success_tenets[0].name": "right_label", "contract.labels": ["food", "rent"], "primary_users": "the finance team"}. `[+]` appends to a list; null removes an optional field.
    """
    spec = _changed_spec(ctx, changes)
    old = _existing(ctx)
    new = specfile.render(spec, old, ctx.session_dir)
    if old is not None and new == old:
        return ToolResult(content=f"No change: {FILE} already says that.", data={"path": FILE, "changed": False})
    try:
        specfile.save(ctx.session_dir, spec)
    except SpecError as exc:
        raise ToolError(f"{FILE} was not changed: {specfile.explain_spec_error(exc)}") from exc
    written = ctx.path(FILE).read_text(encoding="utf-8")
    return ToolResult(
        content=f"Updated {', '.join(changes)} in {FILE} (status: draft). Show the change and ask for approval.\n"
                f"```diff\n{specfile.diff(old, written).rstrip()}\n```",
        data={"path": FILE, "status": "draft", "changed": True, "diff": specfile.diff(old, written)},
        files=[FILE],
    )


# -- approve_use_case --------------------------------------------------------------------------


def _preview_approve(ctx: ToolContext) -> Preview:
    try:
        spec = _load_current(ctx)
    except ToolError as exc:
        return Preview(summary=f"Approve {FILE}: not possible. {exc}")
    old = _existing(ctx)
    approved = spec.model_copy(update={"status": "approved"})
    tenets = "; ".join(f"{t.name} ({t.metric or 'judge'})" for t in spec.success_tenets)
    return Preview(summary=f"Approve {FILE}: {spec.name} ({spec.task_type}), tenets: {tenets}; "
                           f"base model {spec.base_model}. Then move on to the data step.",
                   diff=specfile.diff(old, specfile.render(approved, old, ctx.session_dir)))


def _first_data_call(spec: UseCaseSpec) -> str:
    """The data step's first call, named where the approval's result is read (small models stop there otherwise)."""
    own = spec.own_data
    if own is not None and own.has_data and own.path:
        if own.kind == "reference_document":
            return f"It starts with the person's document: attach_document(path={json.dumps(own.path)})."
        return f"It starts with the person's data: inspect_data_file(path={json.dumps(own.path)})."
    if own is not None and own.has_data:
        return "The person has data of their own: ask them for the file's path, then inspect_data_file(path=...)."
    return "It starts with seed examples: draft_seed_examples()."


@tool("ask", preview=_preview_approve)
def approve_use_case(ctx: ToolContext) -> ToolResult:
    """Mark use_case.yaml approved and move on to the data step. Call it only after the person said
    they approve the spec as it is now."""
    spec = _load_current(ctx)
    _check_base_model(spec.base_model)
    if spec.status != "approved":
        spec = spec.model_copy(update={"status": "approved"})
        try:
            specfile.save(ctx.session_dir, spec)
        except SpecError as exc:
            raise ToolError(f"{FILE} was not approved: {specfile.explain_spec_error(exc)}") from exc
    digest = hashlib.sha256(ctx.path(FILE).read_bytes()).hexdigest()
    lineage.record(ctx.session_dir, "use_case", FILE, version=spec.version, base_model=spec.base_model)
    return ToolResult(
        content=f"{FILE} is approved ({spec.name}). Next step: data. {_first_data_call(spec)}",
        data={"path": FILE, "status": "approved", "sha256": digest},
        files=[FILE],
        phase=NEXT_PHASE,
    )
