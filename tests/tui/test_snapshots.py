"""Snapshots of key screens (pytest-textual-snapshot). Fixed terminal size, fixed session name, a
replaying agent and fixed file text: nothing that varies between runs reaches the screen.
Update after checking the SVGs: `pytest tests/tui/test_snapshots.py --snapshot-update`."""

from __future__ import annotations

import asyncio

from assistant import events as ev
from assistant.tui.app import TunesmithApp

from tests.tui.conftest import DIFF, USE_CASE_YAML, ReplayAgent, write_use_case
from tests.tui.helpers import approval, until

SIZE = (110, 34)


def make_app(settings, session, turns):
    return TunesmithApp(settings, session, agent_factory=lambda s, sess, approver: ReplayAgent(approver, turns))


async def _say(pilot, text: str) -> None:
    prompt = pilot.app.query_one("#prompt")
    prompt.value = text
    await pilot.press("enter")


def test_chat_with_a_question(snap_compare, settings, session):
    turns = [[
        ev.TextDelta("Got it: sorting bank transactions into categories. "),
        ev.TextDelta("I have **one question** before I write the spec."),
        ev.AssistantMessage("Got it: sorting bank transactions into categories. "
                            "I have **one question** before I write the spec."),
        ev.ToolCallStarted("c1", "ask_user", {"question": "Who will use the model's answers?"}),
        ev.ToolFinished("c1", "ask_user", "Asked the person."),
        ev.Question("Who will use the model's answers?", ["The finance team", "An app or pipeline", "Customers"]),
        ev.Usage(1200, 340, 0.0042),
        ev.TurnEnded("question"),
    ]]

    async def run_before(pilot):
        await _say(pilot, "I need a model that categorizes bank transactions into our 12 categories.")
        await asyncio.wait_for(pilot.app.wait_idle(), 20)
        await pilot.pause()

    assert snap_compare(make_app(settings, session, turns), terminal_size=SIZE, run_before=run_before)


def test_approval_modal_with_a_diff(snap_compare, settings, session):
    write_use_case(session.dir)
    preview = {
        "summary": "Update use_case.yaml: add the label `salary` and sharpen tenet correct_label.",
        "diff": DIFF,
        "estimate": {"seconds": 1, "tokens": 0, "cost_usd": 0.0, "note": "writes one file"},
        "findings": ["label_imbalance: rent has 40x fewer records than groceries"],
    }
    turns = [[
        ev.ToolCallStarted("c1", "update_use_case", {"changes": {"contract.labels": ["salary"]}}),
        ev.ApprovalRequested("c1", "update_use_case", {"changes": {"contract.labels": ["salary"]}}, preview),
    ]]

    async def run_before(pilot):
        await _say(pilot, "add label salary")
        await approval(pilot)

    assert snap_compare(make_app(settings, session, turns), terminal_size=SIZE, run_before=run_before)


BROKEN = USE_CASE_YAML.replace("task_type: classification", "task_type: sorting")


def test_spec_panel_with_a_validation_error(snap_compare, settings, session):
    write_use_case(session.dir, BROKEN)

    async def run_before(pilot):
        await until(pilot, lambda: pilot.app.spec_panel.status().get("use_case.yaml"), what="validation")
        await pilot.pause()

    assert snap_compare(make_app(settings, session, []), terminal_size=SIZE, run_before=run_before)


def test_spec_editor_with_a_refused_edit(snap_compare, settings, session):
    write_use_case(session.dir)

    async def run_before(pilot):
        from textual.widgets import TextArea

        pilot.app.open_spec("use_case.yaml")
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "SpecEditorScreen"
                    and pilot.app.screen.query(TextArea), what="the editor")
        pilot.app.screen.query_one(TextArea).load_text(BROKEN)
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(make_app(settings, session, []), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, settings, session):
    assert snap_compare(make_app(settings, session, []), terminal_size=SIZE, press=["f1"])
