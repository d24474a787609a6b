"""Approvals that wait for the person outside the client: person-only decisions and `tunesmith approve`.

When a tool call needs the person's approval and the client driving the session cannot ask them
(an MCP client without elicitation), or the decision is the person's alone (a waiver, a rating),
the call waits: its card stays in ``session.json`` (``pending_approval``, written by the agent) and
the person decides in a terminal with ``tunesmith approve SESSION``. That decision is written to
``<session>/approvals/<key>.json``, where the key names the tool, its exact arguments and its card; the
session's writer takes it (once) when the same call comes again, and records it in the log.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.events import ApprovalRequested, Decision
from assistant.session import SessionMeta
from skills.toolkit import Waiver
from specs.io import atomic_write_text

APPROVALS_DIR = "approvals"

BY_TERMINAL = "person (tunesmith approve)"
"""Who decided, in the log, when the person decided in the terminal."""
BY_ELICITATION = "person (MCP elicitation)"
"""Who decided, in the log, when the person answered the client's elicitation form."""


class ApprovalPending(Exception):
    """Raised by an approver: nobody who may decide was asked yet; the call waits for the person.

    ``str(exc)`` is what the caller reads: that approval is pending and how to give it."""

    def __init__(self, message: str, request: ApprovalRequested, person_only: bool = False) -> None:
        super().__init__(message)
        self.request = request
        self.person_only = person_only


def person_only(request: ApprovalRequested) -> bool:
    """True when only the person may decide: a person-only tool (a waiver, a rating; ``Tool.person_only``)
    or a card with blocking findings that allowing would waive."""
    return request.person_only or bool(request.preview.get("findings"))


def call_key(request: ApprovalRequested) -> str:
    """A short name for one exact call as the person saw it: the tool, its arguments (key order
    ignored) and its card, so a decision never applies to a call whose card now says something else."""
    seen = {"tool": request.tool, "arguments": request.arguments, "preview": request.preview}
    text = json.dumps(seen, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def pending_request(meta: SessionMeta) -> ApprovalRequested | None:
    """The session's pending approval (from its meta), or None."""
    data = dict(meta.pending_approval or {})
    if not data.get("tool"):
        return None
    return ApprovalRequested(call_id=str(data.get("call_id", "")), tool=str(data["tool"]),
                             arguments=dict(data.get("arguments") or {}), preview=dict(data.get("preview") or {}),
                             person_only=bool(data.get("person_only")))


def write_decision(session_dir: Path, request: ApprovalRequested, decision: Decision) -> Path:
    """Leave the person's decision on ``request`` for the session's writer to take."""
    path = Path(session_dir) / APPROVALS_DIR / f"{call_key(request)}.json"
    record = {"tool": request.tool, "arguments": request.arguments, "call_id": request.call_id,
              "decision": decision.kind, "comment": decision.comment, "waive": [waiver.to_dict() for waiver in decision.waive],
              "by": decision.by, "decided": datetime.now(timezone.utc).isoformat()}
    return atomic_write_text(path, json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n")


def take_decision(session_dir: Path, request: ApprovalRequested) -> Decision | None:
    """The decision the person left for this exact call and card, removed so it is used once; else None."""
    tool = request.tool
    path = Path(session_dir) / APPROVALS_DIR / f"{call_key(request)}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        path.unlink(missing_ok=True)  # a torn or foreign file decides nothing
        return None
    path.unlink(missing_ok=True)
    kind = record.get("decision")
    if record.get("tool") != tool or kind not in ("allow_once", "allow_always", "reject_once", "reject_always"):
        return None
    try:  # waivers are {"code", "message"} objects; files written before that hold "code: message" text
        waive = [Waiver.read(value) for value in record.get("waive") or []]
    except (TypeError, ValueError):
        return None  # a waiver that names no finding decides nothing
    return Decision(kind, record.get("comment") or None, by=str(record.get("by") or BY_TERMINAL), waive=waive)


def waiting_decisions(session_dir: Path) -> list[dict[str, Any]]:
    """Decisions written by `tunesmith approve` that no call has taken yet."""
    folder = Path(session_dir) / APPROVALS_DIR
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def how_to_approve(session: str, tool: str, *, person_only: bool) -> str:
    """What a caller reads when a call waits for the person."""
    why = ("Only the person may decide this (a waiver or a rating), never the client"
           if person_only else "The client cannot ask the person here (no elicitation)")
    return (f"Approval pending: {tool} did not run. {why}. The person gives the decision in a terminal with "
            f"`tunesmith approve {session}` (it shows the approval card), then call {tool} again with the same "
            "arguments and it runs (or reports the rejection)."
            + ("" if person_only else " A policy file (`tunesmith mcp --policy-file FILE`) can allow it standing."))
