"""The use-case journey through the TUI with the real agent and the offline guided planner:
describe, answer, approve the draft, edit the spec in the app, ask to approve, quit while the
approval waits, resume, and find the conversation and the pending approval restored."""

from __future__ import annotations

from assistant.session import Workspace
from assistant.tui.app import TunesmithApp
from assistant.tui.screens.editor import SpecEditorScreen
from assistant.tui.widgets.cards import QuestionCard, ToolCard
from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec
from textual.widgets import TextArea

from tests.tui.helpers import approval, idle, screen_name, until

DESCRIPTION = "I need a model that categorizes bank transactions into our 12 categories."
LABELS = "groceries, dining, transport, rent, utilities, entertainment, shopping, health, travel, income, transfers, fees"


async def say(pilot, text: str) -> None:
    prompt = pilot.app.query_one("#prompt")
    prompt.value = text
    prompt.focus()
    await pilot.press("enter")


def last_question(app) -> QuestionCard:
    return list(app.query(QuestionCard))[-1]


async def test_describe_answer_edit_approve_quit_resume(settings, tmp_path):
    workspace = Workspace(settings.workspace)
    session = workspace.create("demo")
    app = TunesmithApp(settings, session)
    async with app.run_test(size=(110, 40)) as pilot:
        await say(pilot, DESCRIPTION)
        await idle(pilot)
        assert "Who will use" in last_question(app).text
        assert last_question(app).choices, "the question offers choices"
        await say(pilot, "1")  # the number picks the first choice
        await idle(pilot)
        assert "labels" in last_question(app).text.lower()
        await say(pilot, LABELS)
        await idle(pilot)
        await say(pilot, "Use these three tenets")
        await idle(pilot)
        assert "base model" in last_question(app).text
        await say(pilot, "1")

        modal = await approval(pilot)
        assert modal.request.tool == "write_use_case"
        assert "+task_type: classification" in modal.request.preview["diff"]
        await pilot.press("a")
        await idle(pilot)
        assert (session.dir / "use_case.yaml").exists()
        card = next(c for c in app.query(ToolCard) if c.tool == "write_use_case")
        assert card.state == "done" and card.decision == "allow_once"
        await until(pilot, lambda: app.spec_panel.status().get("use_case.yaml") == 0, what="spec panel shows the file")

        # edit the spec in the app: an invalid edit is refused, a valid one is saved and the agent hears of it
        app.spec_panel.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SpecEditorScreen) and app.screen.query(TextArea),
                    what="the editor")
        editor = app.screen.query_one(TextArea)
        before = (session.dir / "use_case.yaml").read_text()
        editor.load_text(before.replace("task_type: classification", "task_type: sorting"))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.problems and "task_type" in app.screen.problems[0].path
        assert (session.dir / "use_case.yaml").read_text() == before, "an invalid edit never reaches the file"
        edited = before.replace("constraints: []", "constraints:\n  - Answer in under 50 ms")
        assert edited != before
        editor.load_text(edited)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.problems == []
        assert (session.dir / "use_case.yaml").read_text() == edited
        await pilot.press("escape")
        await idle(pilot)
        assert screen_name(pilot) == "Screen"
        told = [r for r in session.records() if r.get("type") == "user"][-1]["message"]["content"]
        assert told.startswith("I edited use_case.yaml in the app") and "+  - Answer in under 50 ms" in told
        assert "Approve it" in last_question(app).choices

        await say(pilot, "1")  # Approve it
        modal = await approval(pilot)
        assert modal.request.tool == "approve_use_case"
        transcript_before = app.chat.transcript()
        await pilot.press("ctrl+q")  # quit while the approval waits

    session = Workspace(settings.workspace).open("demo")
    assert session.meta.pending_approval and session.meta.pending_approval["tool"] == "approve_use_case"
    app = TunesmithApp(settings, session, resume=True)
    async with app.run_test(size=(110, 40)) as pilot:
        modal = await approval(pilot)
        assert modal.request.tool == "approve_use_case", "the pending approval is asked again"
        transcript = app.chat.transcript()
        users = [text for kind, text in transcript if kind == "user"]
        assert users[0] == DESCRIPTION and any(t.startswith("I edited use_case.yaml") for t in users)
        assert [t for k, t in transcript if k == "question"] == [t for k, t in transcript_before if k == "question"]
        await pilot.press("a")
        await until(pilot, lambda: app.status_bar.phase == "data", what="the data phase")
        card = next(c for c in app.query(ToolCard) if c.tool == "approve_use_case")
        await until(pilot, lambda: card.state == "done", what="approve_use_case to finish")
        assert dict(app.query_one("#plan").steps()) == {
            "use_case": "done", "data": "current", "train": "next", "evaluate": "next", "export": "next"}
    spec = load_spec(session.dir / "use_case.yaml", UseCaseSpec)
    assert spec.status == "approved" and spec.constraints == ["Answer in under 50 ms"]


async def test_resume_at_an_open_question_waits_for_the_person(settings):
    session = Workspace(settings.workspace).create("asked")
    app = TunesmithApp(settings, session)
    async with app.run_test(size=(110, 40)) as pilot:
        await say(pilot, DESCRIPTION)
        await idle(pilot)
        assert "Who will use" in last_question(app).text
        await pilot.press("ctrl+q")
    count = len(session.records())

    session = Workspace(settings.workspace).open("asked")
    app = TunesmithApp(settings, session, resume=True)
    async with app.run_test(size=(110, 40)) as pilot:
        await idle(pilot)
        assert len(session.records()) == count, "resuming at a question asks the model nothing"
        assert app.active_question is not None and "Who will use" in app.active_question.text
        await say(pilot, "1")
        await idle(pilot)
        assert "labels" in last_question(app).text.lower()
