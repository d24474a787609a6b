"""The offline planner of the use-case step: from a plain description to an approved use_case.yaml.

Each call reads the conversation and the session folder afresh (so it works after a resume), infers
what the description says, asks one question at a time for what it cannot infer (choices plus free
text), writes the spec with three measurable tenets, shows it, applies requested changes, and
approves only when the person says so. Deterministic: the same conversation gives the same turn.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from skills.guiding import GuideState, Turn
from skills.toolkit import ToolError
from skills.use_case import base_models, specfile
from skills.use_case.edits import DONE_EDITING, SELF_EDIT, is_approval, parse_edits
from skills.use_case.drafting import contract_for, custom_tenet, tenet_options, use_case_name
from skills.use_case.infer import (
    DATA_FILE_INTRO, Facts, infer, infer_task, own_data, snake, split_items, suggested_fields, suggested_labels,
    labels_in_data,
)
from specs.errors import SpecError
from specs.use_case import UseCaseSpec

TASK_CHOICES = [
    "Pick one label from a fixed list (classification)",
    "Pull fields out of the text as JSON (extraction)",
    "Write a reply or other text (generation)",
    "Answer questions (question_answering)",
    "Summarize text (summarization)",
    "Rewrite text in another style (rewriting)",
    "Solve math problems (math)",
    "Turn questions into SQL queries (text_to_sql)",
    "Call one of a set of tools with arguments (tool_calling)",
]
USER_CHOICES = {
    "default": ["An application or pipeline that reads the answers automatically",
                "A team that reviews the answers before using them",
                "Customers who read the answers directly"],
    "generation": ["Our team, who edit the drafts before sending them",
                   "Customers who read the answers directly",
                   "An application that sends them automatically"],
    "math": ["Students who learn from the worked solutions",
             "An application that checks only the final answer",
             "Teachers who review the solutions"],
}
"""Likely answers to "who uses the answers", by task type."""
KEEP_TENETS = "Use these three tenets"
APPROVE = "Approve it"
SELF_EDIT_CHOICE = "I will edit use_case.yaml myself"
REWRITE = "Rewrite it from our conversation"

# Each question carries a phrase that says which slot it fills (read back from the conversation).
MARK = {
    "task": "What should the model do with each input?",
    "users": "Who will use the model's answers?",
    "labels": "Which labels should the model choose from?",
    "fields": "Which fields should the model extract?",
    "tools": "Which tools can the model call?",
    "tenets": "what a good answer does",
    "base": "Which base model should I customize?",
    "revise": "What should I change before writing it?",
    "review": "Approve use_case.yaml, or tell me what to change.",
    "broken": "use_case.yaml has problems",
}
REJECTED = re.compile(r"rejected this call\.\s*Their comment:\s*(.+)", re.S | re.I)
"""How the engine reports a rejected call with the person's comment."""
EDIT_HINT = ('For example: "rename tenet label_only to exact_label", "add label savings", "remove label fees", '
             '"set users to the finance team", "use model ./my-model", "add constraint: answer in English".')


@dataclass
class Ask:
    slot: str | None
    question: str
    choices: list[str]
    answer: str | None = None


@dataclass
class Conversation:
    description: str | None = None
    asks: list[Ask] = field(default_factory=list)

    def answers(self, slot: str) -> list[str]:
        return [a.answer for a in self.asks if a.slot == slot and a.answer is not None]

    def answer(self, slot: str) -> str | None:
        found = self.answers(slot)
        return found[-1] if found else None

    def asked(self, slot: str) -> bool:
        return any(a.slot == slot for a in self.asks)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _slot_of(question: str) -> str | None:
    for slot, mark in MARK.items():
        if mark in question:
            return slot
    return None


def read_conversation(messages: list[dict[str, Any]]) -> Conversation:
    """The description (first words of the person) and each question with the answer that followed it."""
    convo = Conversation()
    pending: Ask | None = None
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            for call in message.get("tool_calls") or []:
                fn = call.get("function", call)
                if fn.get("name") != "ask_user":
                    continue
                args = fn.get("arguments") or {}
                if isinstance(args, str):
                    try:
                        args = json.loads(args)
                    except ValueError:
                        args = {}
                question = str(args.get("question", ""))
                pending = Ask(_slot_of(question), question, list(args.get("choices") or []))
                convo.asks.append(pending)
        elif role == "user":
            text = _text(message.get("content")).strip()
            if pending is not None:
                pending.answer = text
                pending = None
            elif convo.description is None and text:
                convo.description = text
            elif text:  # words that answer no question: a change request for the draft
                convo.asks.append(Ask("revise", "", [], text))
        elif role == "tool":
            rejected = REJECTED.search(_text(message.get("content")))
            if rejected:  # the person's comment on a rejected call asks for a change too
                convo.asks.append(Ask("revise", "", [], rejected.group(1).strip()))
    return convo


def _pick(answer: str, choices: list[str]) -> str:
    """A choice picked by number or by its exact text; otherwise the answer as typed."""
    stripped = answer.strip()
    key = stripped.rstrip(".").lower()
    if key.isdigit() and 1 <= int(key) <= len(choices):
        return choices[int(key) - 1]
    for choice in choices:
        if key == choice.rstrip(".").lower():
            return choice
    return stripped


def _ask(text: str, question: str, choices: list[str] | None = None) -> Turn:
    return Turn(text=text, tool="ask_user", arguments={"question": question, "choices": choices or [], "allow_free_text": True})


# -- the interview ------------------------------------------------------------------------------


@dataclass
class Draft:
    facts: Facts
    task: str | None = None
    users: str | None = None
    labels: list[str] | None = None
    fields: list[str] | None = None
    tools: list[str] | None = None
    tenets: list[dict] | None = None
    base: str | None = None
    problem: dict[str, str] = field(default_factory=dict)
    """Slot -> why its last answer could not be used (asked again with this reason)."""


def resolve(convo: Conversation) -> Draft:
    """Everything known so far: inferred from the description, then taken from the answers."""
    facts = infer(convo.description or "")
    task_answer = convo.answer("task")
    if facts.task_type is None and task_answer:
        chosen = _pick(task_answer, TASK_CHOICES)
        named = re.search(r"\((\w+)\)\s*$", chosen)
        facts = infer(convo.description or "", task=named.group(1) if named else (infer_task(chosen) or "generation"))
    if facts.own_data is None:  # an answer may say it: "the support team; we have 500 routed emails"
        facts.own_data = next((found for found in map(own_data, (a.answer for a in convo.asks if a.answer)) if found), None)
    draft = Draft(facts=facts, task=facts.task_type, users=facts.primary_users, labels=facts.labels,
                  fields=facts.fields, tools=facts.tools, base=facts.base_model)
    if draft.base is not None:
        check = base_models.check_model(draft.base, "lora")
        if not check.fits:
            draft.problem["base"] = f"You named {draft.base}, but it cannot be used: {check.reason}."
            draft.base = None
    users_answer = convo.answer("users")
    if draft.users is None and users_answer:
        draft.users = _pick(users_answer, _ask_for(convo, "users"))
    if draft.task == "classification" and draft.labels is None and convo.answer("labels"):
        chosen = _pick(convo.answer("labels"), _ask_for(convo, "labels"))
        items = split_items(chosen.split(":", 1)[1] if chosen.lower().startswith("use these") else chosen)
        if len(items) >= 2:
            draft.labels = items
        else:
            draft.problem["labels"] = "I need at least two labels, separated by commas."
    if draft.task == "extraction" and draft.fields is None and convo.answer("fields"):
        chosen = _pick(convo.answer("fields"), _ask_for(convo, "fields"))
        items = [snake(i) for i in split_items(chosen.split(":", 1)[1] if chosen.lower().startswith("use these") else chosen)]
        if items and all(items):
            draft.fields = items
        else:
            draft.problem["fields"] = "I need at least one field name."
    if draft.task == "tool_calling" and draft.tools is None and convo.answer("tools"):
        items = split_items(_pick(convo.answer("tools"), _ask_for(convo, "tools")))
        if items:
            draft.tools = [snake(i) if " " in i else i for i in items]
        else:
            draft.problem["tools"] = "I need at least one tool name."
    if draft.task and convo.answer("tenets"):
        proposed, alternatives = tenet_options(draft.task, draft.labels, facts.max_chars, facts)
        chosen = _pick(convo.answer("tenets"), _ask_for(convo, "tenets"))
        if chosen == KEEP_TENETS or is_approval(chosen):
            draft.tenets = proposed
        else:
            swap = [alt for alt in alternatives if alt["description"] in chosen]
            draft.tenets = proposed[:2] + [swap[0] if swap else custom_tenet(chosen)]
    if draft.base is None and convo.answer("base"):
        chosen = _pick(convo.answer("base"), _ask_for(convo, "base"))
        ref = chosen.split(" (", 1)[0].strip()
        if re.search(r"\b(default|embedded|smollm2?|yes|ok|okay)\b", ref, re.I) and not ref.startswith(("/", ".", "~")):
            ref = base_models.EMBEDDED if "/" not in ref else ref
        check = base_models.check_model(ref, "lora")
        if check.fits:
            draft.base = ref
        else:
            draft.problem["base"] = f"{ref} cannot be used: {check.reason}."
    return draft


def _ask_for(convo: Conversation, slot: str) -> list[str]:
    for ask in reversed(convo.asks):
        if ask.slot == slot:
            return ask.choices
    return []


def build_arguments(draft: Draft) -> dict[str, Any]:
    """The write_use_case arguments of a complete draft."""
    facts, task = draft.facts, draft.task or "generation"
    facts.tools = draft.tools
    arguments = {
        "name": use_case_name(task, facts.subject, facts.description),
        "business_problem": DATA_FILE_INTRO.sub("", facts.description).strip(" .") + "." if DATA_FILE_INTRO.search(
            facts.description) else facts.description,
        "primary_users": draft.users or "not stated",
        "task_type": task,
        "contract": contract_for(task, facts.subject, draft.labels, draft.fields, facts.max_chars,
                                 facts.input_hint, facts.output_hint, facts),
        "success_tenets": draft.tenets or tenet_options(task, draft.labels, facts.max_chars, facts)[0],
        "constraints": facts.constraints,
        "base_model": draft.base or base_models.EMBEDDED,
    }
    if facts.own_data is not None:
        arguments["own_data"] = dict(facts.own_data)
    return arguments


def _understood(draft: Draft) -> str:
    facts = draft.facts
    if not draft.task:
        return ""
    parts = [f"a {draft.task.replace('_', ' ')} task on {facts.subject}"]
    if draft.labels:
        parts.append(f"labels {', '.join(draft.labels)}")
        if facts.label_count and facts.label_count != len(draft.labels):
            parts.append(f"you mentioned {facts.label_count} categories and listed {len(draft.labels)}: "
                         f"I use the {len(draft.labels)} listed (add or remove labels later if needed)")
    elif facts.label_count:
        parts.append(f"{facts.label_count} categories")
    if facts.facets:
        parts.append("; ".join(f"{name}: {', '.join(values)}" for name, values in facts.facets.items()))
    if draft.fields:
        parts.append(f"fields {', '.join(draft.fields)}")
    if draft.tools:
        parts.append(f"tools {', '.join(draft.tools)}")
    if facts.own_data and facts.own_data.get("has_data"):
        where = f" ({facts.own_data['path']})" if facts.own_data.get("path") else ""
        parts.append(f"you have data of your own{where}; the data step starts with it")
    if draft.users:
        parts.append(f"used by {draft.users[:1].lower() + draft.users[1:]}")
    return "So far I understand: " + "; ".join(parts) + "."


def interview_turn(state: GuideState, convo: Conversation) -> Turn:
    draft = resolve(convo)
    intro = _understood(draft)
    last = state.last_tool
    if draft.task is None:
        return _ask("I will ask a few short questions, one at a time.", MARK["task"], TASK_CHOICES)
    if draft.users is None:
        choices = USER_CHOICES.get(draft.task, USER_CHOICES["default"])
        return _ask(intro, f"{MARK['users']} (This decides the tone and how strict the format must be.)", choices)
    if draft.task == "classification" and draft.labels is None and not draft.facts.facets:
        count = f" You mentioned {draft.facts.label_count} categories; list them" if draft.facts.label_count else " List them"
        in_data = labels_in_data(draft.facts)
        proposal = suggested_labels(draft.facts)
        choices = ([f"Use these {len(in_data[0])} from {in_data[1]}: {', '.join(in_data[0])}"] if in_data else
                   [f"Use these {len(proposal)}: {', '.join(proposal)}"] if proposal else [])
        reason = draft.problem.get("labels", "")
        return _ask(intro, f"{reason} {MARK['labels']}{count}, separated by commas, spelled as the model must answer.".strip(), choices)
    if draft.task == "extraction" and draft.fields is None:
        proposal = suggested_fields(draft.facts)
        choices = [f"Use these: {', '.join(proposal)}"] if proposal else []
        reason = draft.problem.get("fields", "")
        return _ask(intro, f"{reason} {MARK['fields']} List the field names, separated by commas.".strip(), choices)
    if draft.task == "tool_calling" and draft.tools is None:
        reason = draft.problem.get("tools", "")
        return _ask(intro, f"{reason} {MARK['tools']} List their names, separated by commas (e.g. create_event, "
                           "list_events).".strip(), [])
    if draft.tenets is None:
        proposed, alternatives = tenet_options(draft.task, draft.labels, draft.facts.max_chars, draft.facts)
        listing = " ".join(f"({i}) {t['name']}: {t['description']} [{_how(t)}]" for i, t in enumerate(proposed, 1))
        choices = [KEEP_TENETS] + [f"Swap tenet 3 for: {alt['description']}" for alt in alternatives]
        return _ask(intro, f"Here is {MARK['tenets']}, as three success tenets I can measure: {listing} "
                           "Keep them, swap the third, or describe your own third tenet.", choices)
    if draft.base is None:
        if last is not None and last.name == "propose_base_model" and not last.is_error:
            fitting = [c for c in base_models.list_choices("lora") if c.fits]
            choices = [f"{c.ref} ({'default, ' if c.ref == base_models.EMBEDDED else ''}{c.reason})" for c in fitting]
            reason = draft.problem.get("base", "")
            return _ask("", f"{reason} {MARK['base']} Pick one that fits this machine, or type a local model "
                            "folder path or a hub id `org/name`.".strip(), choices)
        return Turn(text="Let me check which base models fit this machine.", tool="propose_base_model", arguments={"adapter": "lora"})
    arguments = build_arguments(draft)
    revisions = convo.answers("revise")
    pending = state.last_user is not None and bool(convo.asks) and convo.asks[-1].slot == "revise"
    for answer in revisions[:-1] if pending else revisions:
        arguments = _revised(arguments, answer)
    if last is not None and last.name == "write_use_case":  # no file after a write: it failed or was rejected
        comment = REJECTED.search(last.content)
        if comment and parse_edits(comment.group(1), build_arguments(draft))[0]:
            return Turn(text="Writing it again with your changes.", tool="write_use_case", arguments=arguments)
        return _ask(f"It was not written: {_short(last.content)}", f"{MARK['revise']} {EDIT_HINT}", ["Write it as it is"])
    if pending:
        answer = revisions[-1]
        changes, unknown = parse_edits(answer, arguments)
        if not changes and not _write_as_is(answer):
            problem = "; ".join(unknown) or answer
            return _ask(f"I could not apply: {problem}.", f"{MARK['revise']} {EDIT_HINT}", ["Write it as it is"])
        arguments = _revised(arguments, answer)
    return Turn(text=f"{intro} I have what I need; here is the use-case spec to write.",
                tool="write_use_case", arguments=arguments)


def _write_as_is(answer: str) -> bool:
    return is_approval(answer) or bool(re.search(r"\b(write it|as it is|as is|try again)\b", answer, re.I))


def _revised(arguments: dict[str, Any], answer: str) -> dict[str, Any]:
    """The draft's arguments with the changes asked for in ``answer`` (none when it only says go ahead)."""
    if _write_as_is(answer):
        return arguments
    changes, _ = parse_edits(answer, arguments)
    return specfile.apply_changes(arguments, changes) if changes else arguments


def _failed(last) -> bool:
    """A tool result that reports an error or the person's rejection."""
    return bool(last.is_error or re.search(r"\b(reject\w*|denied|not allowed)\b", last.content[:200], re.I))


def _how(tenet: dict) -> str:
    return f"code: {tenet['metric']}" if tenet.get("measured_by") == "code" else "judge"


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- review: show, change, approve --------------------------------------------------------------


def _review_ask(state: GuideState, lead: str) -> Turn:
    text = specfile.read_text(state.session_dir) or ""
    return _ask(f"{lead}\n```yaml\n{text.rstrip()}\n```", f"{MARK['review']} {EDIT_HINT}", [APPROVE, SELF_EDIT_CHOICE])


def review_turn(state: GuideState, convo: Conversation, spec_data: dict[str, Any]) -> Turn:
    last = state.last_tool
    if last is not None and last.name in ("write_use_case", "update_use_case") and not _failed(last):
        return _review_ask(state, "Here is use_case.yaml as written now (status: draft).")
    if last is not None and last.name in ("write_use_case", "update_use_case", "approve_use_case"):
        comment = REJECTED.search(last.content)
        changes = parse_edits(comment.group(1), spec_data)[0] if comment else {}
        if changes:
            return Turn(text="Applying the changes from your comment.", tool="update_use_case", arguments={"changes": changes})
        return _ask(f"That did not go through: {_short(last.content)}", f"{MARK['review']} {EDIT_HINT}", [APPROVE, SELF_EDIT_CHOICE])
    if last is not None and last.name == "ask_user":
        return Turn(text=last.content)
    answer = state.last_user
    if answer is None:
        return _review_ask(state, "use_case.yaml is a draft; please review it.")
    chosen = _pick(answer, [APPROVE, SELF_EDIT_CHOICE])
    if chosen == APPROVE or is_approval(chosen):
        return Turn(text="Approving use_case.yaml.", tool="approve_use_case", arguments={})
    if chosen == SELF_EDIT_CHOICE or SELF_EDIT.search(chosen):
        return Turn(text="Edit use_case.yaml in the spec panel or your editor; tunesmith re-validates it on save. "
                         "Tell me when you are done.")
    if DONE_EDITING.search(chosen):
        return _review_ask(state, "I re-read your edits. Here is use_case.yaml as it is now (status: draft until you approve).")
    changes, unknown = parse_edits(chosen, spec_data)
    problem = _problem_with(spec_data, changes) if changes else None
    if problem:
        return _ask(f"I cannot make that change: {problem}", f"{MARK['review']} {EDIT_HINT}", [APPROVE, SELF_EDIT_CHOICE])
    if changes:
        note = f" (I could not apply: {'; '.join(unknown)})" if unknown else ""
        return Turn(text=f"Applying your changes{note}.", tool="update_use_case", arguments={"changes": changes})
    return _ask(f"I could not turn that into a change: {'; '.join(unknown) or chosen}.", f"{MARK['review']} {EDIT_HINT}",
                [APPROVE, SELF_EDIT_CHOICE])


def _problem_with(spec_data: dict[str, Any], changes: dict[str, Any]) -> str | None:
    """Why these changes would be refused (checked before asking the person to approve them), or None."""
    try:
        data = specfile.apply_changes(spec_data, changes)
        spec = UseCaseSpec.model_validate({**data, "status": "draft"})
    except ToolError as exc:
        return str(exc)
    except ValidationError as exc:
        return specfile.explain_validation(exc)
    if spec.base_model != spec_data.get("base_model"):
        check = base_models.check_model(spec.base_model, "lora")
        if not check.fits:
            return f"{spec.base_model} cannot be used: {check.reason}"
    return None


def broken_turn(state: GuideState, convo: Conversation, error: SpecError) -> Turn:
    answer = state.last_user
    if answer is not None and convo.asks and convo.asks[-1].slot == "broken" and _pick(answer, [REWRITE]) == REWRITE:
        if convo.description:
            return Turn(text="Rewriting use_case.yaml from our conversation.", tool="write_use_case",
                        arguments=build_arguments(resolve(convo)))
    problems = specfile.explain_spec_error(error)
    return _ask("", f"{MARK['broken']}: {problems}. Fix them in the file and tell me, or let me rewrite it.",
                ["I fixed it", REWRITE])


# -- entry point --------------------------------------------------------------------------------


def next_turn(state: GuideState) -> Turn | None:
    """The next turn of the use-case step, or None once use_case.yaml is approved."""
    convo = read_conversation(state.messages)
    if specfile.read_text(state.session_dir) is not None:
        try:
            spec = specfile.load(state.session_dir)
        except SpecError as exc:
            return broken_turn(state, convo, exc)
        if spec.status == "approved":
            return None
        return review_turn(state, convo, spec.model_dump(mode="json"))
    if not convo.description:
        return Turn(text="Describe what you want a model to do, in a sentence or two: what goes in, what should "
                         "come out, and who uses it. For example: \"categorize bank transactions into our 12 categories\".")
    return interview_turn(state, convo)
