"""The approval gate for calls an MCP client makes: the person decides, never the client's say-so.

For a call that needs approval, in order: a decision the person left with `tunesmith approve`; for a
person-only decision (waivers, ratings, a card with blocking findings) nothing else, so the call
waits; an answer to our elicitation form (2026-07-28 clients send it with the retried call); our
elicitation form (the client shows the card and the person picks); else the call waits for
`tunesmith approve`. Standing rules (the person's "always" choices, a policy file) apply first
(assistant.approvals.Policy), and never allow a person-only tool.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types

from assistant.approval_card import DECISION_LABELS, card_text
from assistant.events import ApprovalRequested, Decision, Progress
from assistant.pending import (BY_ELICITATION, ApprovalPending, call_key, how_to_approve, person_only,
                               take_decision)

ELICIT_LIMIT = 8000
"""Characters of each diff/code/command block in the elicitation form (`tunesmith approve` shows all)."""


class InputNeeded(Exception):
    """The client must ask the person and retry the call (2026-07-28 clients, no back-channel)."""

    def __init__(self, key: str, request: types.ElicitRequest) -> None:
        super().__init__(key)
        self.key, self.request = key, request


def can_elicit(ctx: Any) -> bool:
    """Whether the client declared form elicitation."""
    capabilities = ctx.session.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None:
        return False
    return elicitation.form is not None or elicitation.url is None  # an empty capability means form


def elicitation_form(request: ApprovalRequested) -> tuple[str, dict[str, Any]]:
    """(message, requested schema) for the approval card."""
    message = "tunesmith asks for your approval.\n\n" + card_text(request.tool, request.arguments, request.preview,
                                                                   limit=ELICIT_LIMIT)
    schema = {
        "type": "object",
        "properties": {
            "decision": {"type": "string", "title": "Decision",
                         "oneOf": [{"const": kind, "title": label} for kind, label in DECISION_LABELS.items()]},
            "comment": {"type": "string", "title": "Comment for the assistant (optional)"},
        },
        "required": ["decision"],
    }
    return message, schema


def decision_from(result: Any) -> Decision:
    """The person's Decision from an elicitation answer (accept with a choice, decline or cancel)."""
    action = getattr(result, "action", None)
    content = dict(getattr(result, "content", None) or {})
    comment = str(content.get("comment") or "").strip() or None
    if action == "accept" and content.get("decision") in DECISION_LABELS:
        return Decision(content["decision"], comment, by=BY_ELICITATION)
    if action == "cancel":
        return Decision("reject_once", comment or "The person closed the approval form without deciding.",
                        by=BY_ELICITATION)
    return Decision("reject_once", comment, by=BY_ELICITATION)


class McpApprover:
    """Decides one call for the request ``ctx`` it came with (``params``: its tools/call params).

    It asks the person (their elicitation answer, or their `tunesmith approve` decision), so the agent
    lets it decide person-only calls, which it takes from the terminal only."""

    asks_person = True

    def __init__(self, session_name: str, session_dir: Any, ctx: Any, params: types.CallToolRequestParams) -> None:
        self.session_name, self.session_dir, self.ctx, self.params = session_name, session_dir, ctx, params

    async def decide(self, request: ApprovalRequested) -> Decision:
        left = take_decision(self.session_dir, request)
        if left is not None:
            return left
        if person_only(request):
            raise ApprovalPending(how_to_approve(self.session_name, request.tool, person_only=True), request, True)
        key = "approval-" + call_key(request)
        answers = self.params.input_responses or {}
        if key in answers:
            return decision_from(answers[key])
        if not can_elicit(self.ctx):
            raise ApprovalPending(how_to_approve(self.session_name, request.tool, person_only=False), request)
        message, schema = elicitation_form(request)
        if not self.ctx.session.can_send_request:
            form = types.ElicitRequestFormParams(message=message, requested_schema=schema)
            raise InputNeeded(key, types.ElicitRequest(params=form))
        try:
            result = await self.ctx.session.elicit_form(message, schema, related_request_id=self.ctx.request_id)
        except Exception as exc:  # noqa: BLE001 (a client that fails to ask leaves the call waiting)
            text = how_to_approve(self.session_name, request.tool, person_only=False)
            raise ApprovalPending(f"{text} (The client could not show the approval form: {exc})", request) from None
        return decision_from(result)


class ProgressReporter:
    """Progress events as MCP progress notifications for one request; the value only grows (a new
    task continues from where the last one stopped)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.task: str | None = None
        self.offset = 0.0
        self.last = 0.0

    def notification(self, event: Progress) -> tuple[float, float | None, str]:
        """(progress, total, message) for one event."""
        if event.task != self.task:
            self.offset, self.task = self.last, event.task
        total = self.offset + event.total if event.total else None
        value = max(self.offset + float(event.done), self.last)
        self.last = value
        parts = [f"{event.task}: {event.done:g}" + (f"/{event.total:g}" if event.total else "")]
        if event.rate:
            parts.append(f"{event.rate:.2f}/s")
        if event.eta_s is not None:
            parts.append(f"eta {event.eta_s:.0f} s")
        for name in ("loss", "reward", "message"):
            shown = event.fields.get(name)
            if isinstance(shown, (int, float, str)):
                parts.append(f"{name} {shown:.4g}" if isinstance(shown, float) else f"{name} {shown}")
        return value, total, " · ".join(parts)

    async def event(self, event: Progress) -> None:
        value, total, message = self.notification(event)
        try:
            await self.ctx.session.report_progress(value, total, message)
        except Exception:  # noqa: BLE001 (a client gone away does not stop the work)
            pass

    async def job_event(self, raw: dict[str, Any], default_task: str) -> None:
        progress = job_progress(raw, default_task)
        if progress is not None:
            await self.event(progress)


def job_progress(raw: dict[str, Any], default_task: str) -> Progress | None:
    """A job's JSONL progress event as a Progress (data and evaluation: done/total/rate/eta_s;
    training: step/total_steps/loss/eta_seconds); None for other events."""
    if raw.get("type") != "progress":
        return None
    done = raw.get("done", raw.get("step"))
    if done is None:
        return None
    extra = {k: v for k, v in raw.items() if k in ("loss", "reward", "message")}
    return Progress(task=str(raw.get("task") or default_task), done=float(done),
                    total=raw.get("total", raw.get("total_steps")), rate=raw.get("rate"),
                    eta_s=raw.get("eta_s", raw.get("eta_seconds")), fields=extra)
