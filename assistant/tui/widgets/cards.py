"""Cards in the chat: tool calls (collapsible, arguments and result) and questions (choices)."""

from __future__ import annotations

import json
from typing import Any

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Collapsible, Static

STACK_CHOICES_OVER = 90
"""Choices longer than this in total (cells) go one per line, so no label is cut off."""

RESULT_PREVIEW_CHARS = 4000


def _json(value: Any) -> str:
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


class ToolCard(Collapsible):
    """A tool call: name and state in the title; arguments, decision and result inside."""

    def __init__(self, call_id: str, tool: str, arguments: dict[str, Any]) -> None:
        super().__init__(
            Static("arguments", classes="card-label"),
            Static(Syntax(_json(arguments), "json", theme="ansi_dark", word_wrap=True), classes="card-args"),
            title=self._heading(tool, "running"), collapsed=True, classes="tool-card",
        )
        self.call_id = call_id
        self.tool = tool
        self.arguments = arguments
        self.state = "running"
        self.decision: str | None = None
        self.result: str | None = None

    @staticmethod
    def _heading(tool: str, state: str, note: str = "") -> str:
        marks = {"running": "…", "waiting": "?", "done": "✓", "error": "✗", "rejected": "⊘"}
        return f"{marks.get(state, '·')} {tool}" + (f" — {note}" if note else "")

    def set_preview(self, preview: dict[str, Any]) -> None:
        """Keep what the approval card showed (the diff, code or command) in the chat's record."""
        contents = self.query_one(Collapsible.Contents)
        for key, lexer, label in (("diff", "diff", "changes"), ("code", "python", "code"), ("command", "bash", "command")):
            if preview.get(key):
                contents.mount(Static(label, classes="card-label"),
                               Static(Syntax(preview[key], lexer, theme="ansi_dark", word_wrap=True), classes="card-preview"))

    def set_waiting(self) -> None:
        self.state = "waiting"
        self.title = self._heading(self.tool, "waiting", "waiting for your decision")

    def set_decision(self, decision: str, comment: str | None, by: str) -> None:
        self.decision = decision
        text = f"decision: {decision.replace('_', ' ')} (by {by})" + (f" — {comment}" if comment else "")
        self.query_one(Collapsible.Contents).mount(Static(text, markup=False, classes="card-decision"))
        if decision.startswith("reject"):
            self.state = "rejected"
            self.title = self._heading(self.tool, "rejected", decision.replace("_", " "))
        else:
            self.state = "running"
            self.title = self._heading(self.tool, "running")

    def set_result(self, content: str, is_error: bool, files: list[str] | None = None) -> None:
        self.result = content
        if self.state != "rejected":
            self.state = "error" if is_error else "done"
            note = "error" if is_error else (", ".join(files) if files else "")
            self.title = self._heading(self.tool, self.state, note)
        shown = content if len(content) <= RESULT_PREVIEW_CHARS else content[:RESULT_PREVIEW_CHARS] + "\n…"
        self.query_one(Collapsible.Contents).mount(
            Static("result", classes="card-label"),
            Static(shown, markup=False, classes="card-result" + (" card-error" if is_error else "")),
        )

    def transcript_entry(self) -> tuple[str, str]:
        return ("tool", f"{self.tool} [{self.state}]")


class QuestionCard(Vertical):
    """A question from the agent: the text, one button per choice; free text goes in the input."""

    class Answered(Message):
        def __init__(self, card: "QuestionCard", answer: str) -> None:
            super().__init__()
            self.card = card
            self.answer = answer

    def __init__(self, text: str, choices: list[str], allow_free_text: bool = True) -> None:
        super().__init__(classes="question-card")
        self.text = text
        self.choices = list(choices)
        self.allow_free_text = allow_free_text
        self.answered: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("❓ " + self.text, markup=False, classes="question-text")
        if self.choices:
            stacked = sum(len(choice) + 6 for choice in self.choices) > STACK_CHOICES_OVER
            layout = Vertical(classes="question-choices stacked") if stacked else Horizontal(classes="question-choices")
            with layout:
                for index, choice in enumerate(self.choices, start=1):
                    yield Button(f"{index}. {choice}", classes="choice", name=str(index - 1), compact=True)
        hint = "Pick a choice (click, or type its number)" if self.choices else ""
        if self.allow_free_text:
            hint = (hint + " or type your own answer below.") if hint else "Type your answer below."
        yield Static(hint, classes="question-hint")

    def choice_for(self, typed: str) -> str | None:
        """Map a typed number ('2') to its choice."""
        typed = typed.strip()
        if typed.isdigit() and 1 <= int(typed) <= len(self.choices):
            return self.choices[int(typed) - 1]
        return None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.answered is None and event.button.name is not None:
            self.post_message(self.Answered(self, self.choices[int(event.button.name)]))

    def mark_answered(self, answer: str) -> None:
        self.answered = answer
        self.add_class("answered")
        for button in self.query(Button):
            button.disabled = True
            if button.name is not None and self.choices[int(button.name)] == answer:
                button.add_class("chosen")

    def transcript_entry(self) -> tuple[str, str]:
        return ("question", self.text)
