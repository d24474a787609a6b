"""Fixtures of the TUI tests: settings on a temp workspace, a fixed use_case.yaml, an event-replaying agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant import events as ev
from assistant.runtime import OFFLINE_BANNER

USE_CASE_YAML = """\
# yaml-language-server: $schema=../../specs/schemas/use_case.schema.json
version: 1
name: Transaction categorizer
business_problem: Sort bank transactions into our categories.
primary_users: The finance team
task_type: classification
contract:
  input_description: one transaction line
  output_description: one category
  output_format: label
  labels: [groceries, rent, travel]
success_tenets:
  - name: correct_label
    description: The label is right.
    metric: label_match
  - name: only_label
    description: Answers with the label only.
    metric: exact_match
  - name: plain
    description: The answer is plain.
    measured_by: judge
    rubric: 1 if the answer is only the label, else 0.
status: draft
"""

DIFF = """\
--- a/use_case.yaml
+++ b/use_case.yaml
@@ -9,7 +9,7 @@
   output_format: label
-  labels: [groceries, rent, travel]
+  labels: [groceries, rent, travel, salary]
 success_tenets:
   - name: correct_label
-    description: The label is right.
+    description: The label is one of the four and matches the ledger.
"""


class ReplayAgent:
    """An agent stand-in for screens: each send() replays the next list of events.

    An ApprovalRequested in the list is put to the approver, and its decision becomes a
    DecisionRecorded, as the real loop does. Used where only drawing is under test. Like an agent
    the runtime builds with no LLM configured, it carries the offline banner; interrupting stops the
    replay at the next event, as the real loop stops at its next safe point.
    """

    tool_running: str | None = None

    def __init__(self, approver: Any, turns: list[list[Any]], resume_turn: list[Any] | None = None) -> None:
        self.approver = approver
        self.turns = list(turns)
        self.resume_turn = resume_turn or []
        self.sent: list[str] = []
        self.decisions: list[ev.Decision] = []
        self.notices: list[ev.Notice] = [ev.Notice(OFFLINE_BANNER, "info")]
        self.interrupted = False

    def interrupt(self, cancel_jobs: bool = False) -> None:
        self.interrupted = True

    async def _play(self, events: list[Any]):
        self.interrupted = False
        for event in events:
            if self.interrupted:
                yield ev.Notice("Stopped: you interrupted.", "warning")
                yield ev.TurnEnded("interrupted")
                return
            yield event
            if isinstance(event, ev.ApprovalRequested):
                decision = await self.approver.decide(event)
                self.decisions.append(decision)
                yield ev.DecisionRecorded(event.call_id, event.tool, decision.kind, decision.comment, decision.by)

    async def send(self, text: str):
        self.sent.append(text)
        events = self.turns.pop(0) if self.turns else [ev.TurnEnded("answer")]
        async for event in self._play(events):
            yield event

    async def resume(self):
        async for event in self._play(self.resume_turn):
            yield event


@pytest.fixture
def settings(tmp_path):
    from assistant.config import Settings

    return Settings.load(env={}, workspace=str(tmp_path / "ws"))


@pytest.fixture
def session(settings):
    from assistant.session import Workspace

    return Workspace(settings.workspace).create("demo")


def write_use_case(folder: Path, text: str = USE_CASE_YAML) -> Path:
    path = folder / "use_case.yaml"
    path.write_text(text, encoding="utf-8")
    return path
