"""Redraw a session's conversation log in the chat (resume, or opening another session)."""

from __future__ import annotations

import json
from typing import Any

from assistant.tui.widgets.cards import QuestionCard, ToolCard
from assistant.tui.widgets.chat import ChatView

QUIET_TOOLS = frozenset({"ask_user"})
"""Tools drawn by their outcome (the question card), not as a tool card."""


def _arguments(call: dict[str, Any]) -> dict[str, Any]:
    raw = call.get("function", {}).get("arguments", {})
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {"raw": raw}
    return value if isinstance(value, dict) else {"value": value}


def _event_of(record: dict[str, Any]) -> dict[str, Any] | None:
    """The event dict inside an ``event`` record, in either of the shapes the log may use."""
    event = record.get("event")
    if isinstance(event, dict):
        return event
    if record.get("type") in ("question", "notice", "phase"):
        return record
    return None


async def replay(chat: ChatView, records: list[dict[str, Any]]) -> dict[str, ToolCard]:
    """Draw every record; returns the tool cards by call id. The last unanswered question stays live."""
    cards: dict[str, ToolCard] = {}
    last_question: QuestionCard | None = None
    for record in records:
        kind = record.get("type")
        message = record.get("message") if isinstance(record.get("message"), dict) else None
        if kind == "user" and message is not None:
            if last_question is not None and last_question.answered is None:
                last_question.mark_answered(str(message.get("content") or ""))
            if not record.get("hidden"):
                await chat.add_user(str(message.get("content") or ""))
        elif kind == "assistant" and message is not None:
            await chat.add_assistant(str(message.get("content") or ""))
            for call in message.get("tool_calls") or []:
                if call.get("function", {}).get("name") in QUIET_TOOLS:
                    continue
                card = ToolCard(call.get("id", ""), call.get("function", {}).get("name", "?"), _arguments(call))
                cards[card.call_id] = card
                await chat.add(card)
        elif kind == "tool" and message is not None:
            card = cards.get(message.get("tool_call_id", ""))
            if card is not None:
                card.set_result(str(message.get("content") or ""), bool(record.get("is_error")), record.get("files"))
        elif kind == "decision":
            card = cards.get(record.get("call_id", ""))
            if card is not None:
                card.set_decision(str(record.get("decision") or record.get("kind") or "?"),
                                  record.get("comment"), str(record.get("by") or "person"))
        else:
            event = _event_of(record)
            if event is None:
                continue
            etype = str(event.get("type", "")).lower()
            if etype == "question" and event.get("text"):
                last_question = QuestionCard(event["text"], list(event.get("choices") or []),
                                             bool(event.get("allow_free_text", True)))
                await chat.add(last_question)
            elif etype == "notice" and event.get("text"):
                await chat.add_notice(str(event["text"]), str(event.get("level") or "info"))
    return cards
