"""The approval modal: what a tool call will do, and the person's decision.

Keys: a allow once, A allow always, r reject once, R reject always; tab reaches the comment
field and the findings to waive. The screen returns an assistant.events.Decision.
"""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, SelectionList, Static

from assistant.approval_card import format_estimate
from assistant.events import ApprovalRequested, Decision, Waiver

DECISION_LABELS = {
    "allow_once": "a  Allow once",
    "allow_always": "A  Allow always",
    "reject_once": "r  Reject once",
    "reject_always": "R  Reject always",
}


class ApprovalScreen(ModalScreen[Decision]):
    """Shows a tool call's preview and returns the person's Decision."""

    BINDINGS = [
        Binding("a", "decide('allow_once')", "Allow once"),
        Binding("A", "decide('allow_always')", "Allow always"),
        Binding("r", "decide('reject_once')", "Reject once"),
        Binding("R", "decide('reject_always')", "Reject always"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(self, request: ApprovalRequested) -> None:
        super().__init__()
        self.request = request
        self.preview: dict[str, Any] = dict(request.preview or {})

    def compose(self) -> ComposeResult:
        preview = self.preview
        with Vertical(id="approval-dialog"):
            yield Static(f"Approve [b]{self.request.tool}[/b]?", id="approval-title")
            yield Static(preview.get("summary") or self.request.tool, markup=False, id="approval-summary")
            estimate = format_estimate(preview.get("estimate"))
            if estimate:
                yield Static(estimate, markup=False, id="approval-estimate")
            with VerticalScroll(id="approval-body"):
                if preview.get("diff"):
                    yield Static("Changes", classes="approval-label")
                    yield Static(Syntax(preview["diff"], "diff", theme="ansi_dark", word_wrap=True), id="approval-diff")
                if preview.get("code"):
                    yield Static("Code it will run", classes="approval-label")
                    yield Static(Syntax(preview["code"], "python", theme="ansi_dark", line_numbers=True,
                                        word_wrap=True), id="approval-code")
                if preview.get("command"):
                    yield Static("Command", classes="approval-label")
                    yield Static(Syntax(preview["command"], "bash", theme="ansi_dark", word_wrap=True),
                                 id="approval-command")
                if not any(preview.get(key) for key in ("diff", "code", "command")) and self.request.arguments:
                    yield Static("Arguments", classes="approval-label")
                    yield Static(_args_text(self.request.arguments), markup=False, id="approval-args")
            findings = list(preview.get("findings") or [])
            if findings:
                yield Static("[b red]Blocking findings[/] — tick (space) each one you waive to allow:",
                             id="approval-findings-label")
                yield SelectionList[str](*[(finding, finding) for finding in findings], id="approval-findings")
            yield Input(placeholder="Comment for the assistant (optional, tab here)", id="approval-comment")
            yield Static("", id="approval-error")
            with Horizontal(id="approval-buttons"):
                for kind, label in DECISION_LABELS.items():
                    if kind == "allow_always" and self.request.person_only:
                        continue  # only the person decides it, each time
                    yield Button(label, id=f"decide-{kind}", compact=True,
                                 variant="success" if kind.startswith("allow") else "error")

    def on_mount(self) -> None:
        self.query_one("#approval-body").focus()

    def action_leave_field(self) -> None:
        self.query_one("#approval-body").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#approval-body").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id and event.button.id.startswith("decide-"):
            self.action_decide(event.button.id.removeprefix("decide-"))

    def action_decide(self, kind: str) -> None:
        if kind == "allow_always" and self.request.person_only:
            kind = "allow_once"
        comment = self.query_one("#approval-comment", Input).value.strip() or None
        findings = list(self.preview.get("findings") or [])
        ticked: list[str] = []
        if findings:
            ticked = list(self.query_one("#approval-findings", SelectionList).selected)
            missing = [f for f in findings if f not in ticked]
            if kind.startswith("allow") and missing:
                self.query_one("#approval-error", Static).update(
                    f"[red]Waive each blocking finding first ({len(missing)} left), or reject.[/]")
                return
        waived = [Waiver.parse(finding) for finding in ticked] if kind.startswith("allow") else []
        self.dismiss(Decision(kind=kind, comment=comment, by="person", waive=waived))


def _args_text(arguments: dict[str, Any]) -> str:
    import json

    try:
        return json.dumps(arguments, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(arguments)
