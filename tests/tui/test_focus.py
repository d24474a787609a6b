"""The app meets the person where they are: after resume the chat shows the pending question and the
message input has focus; after the spec editor or any other screen closes, focus is back on the input.
Real agent, offline guided planner, real Pilot."""

from __future__ import annotations

from textual.widgets import Input

from assistant.runtime import build_agent
from assistant.session import Workspace
from assistant.tui.app import TunesmithApp
from assistant.tui.screens.editor import SpecEditorScreen
from assistant.tui.widgets.cards import QuestionCard

from tests.tui.helpers import approval, idle, screen_name, until

DESCRIPTION = "Label user comments as Toxic, Neutral or Supportive for our moderators."
SMALL = (100, 24)


def prompt_focused(app) -> bool:
    return app.focused is app.query_one("#prompt", Input)


def in_view(chat, card) -> bool:
    top = card.virtual_region.y
    return chat.scroll_y <= top and top + 1 <= chat.scroll_y + chat.scrollable_content_region.height


async def asked_until_review(settings) -> str:
    """A session whose conversation is longer than the chat, ending on the review question."""
    session = Workspace(settings.workspace).create("long")

    agent = build_agent(settings.model_copy(update={"yes": True}), session)

    async def run():
        events = agent.send(DESCRIPTION)
        for answer in ["1", "1"]:  # tenets, base model (the users are in the description)
            async for _ in events:
                pass
            events = agent.send(answer)
        async for _ in events:
            pass

    await run()
    session.close()
    return session.name


async def test_resume_scrolls_to_the_pending_question_and_focuses_the_input(settings):
    name = await asked_until_review(settings)
    session = Workspace(settings.workspace).open(name)
    assert session.records()[-1]["type"] == "question"
    app = TunesmithApp(settings, session, resume=True)
    async with app.run_test(size=SMALL) as pilot:
        await idle(pilot)
        await until(pilot, lambda: app.active_question is not None, what="the pending question")
        chat, card = app.chat, app.active_question
        assert "Approve use_case.yaml" in card.text
        assert chat.max_scroll_y > 0, "the conversation is longer than the chat"
        await until(pilot, lambda: in_view(chat, card), what="the pending question in view")
        assert prompt_focused(app)
        await pilot.press(*"1")
        await pilot.press("enter")
        modal = await approval(pilot)
        assert card.answered == "Approve it" and modal.request.tool == "approve_use_case", "the typed answer went to the question"


async def test_focus_returns_to_the_input_after_the_spec_editor_and_other_screens(settings):
    session = Workspace(settings.workspace).create("focus")
    app = TunesmithApp(settings, session)
    async with app.run_test(size=(110, 34)) as pilot:
        prompt = app.query_one("#prompt", Input)
        prompt.value = DESCRIPTION
        await pilot.press("enter")
        await idle(pilot)
        prompt.value = "1"  # the tenets
        await pilot.press("enter")
        await idle(pilot)
        prompt.value = "1"  # the base model
        await pilot.press("enter")
        await approval(pilot)  # write_use_case
        await pilot.press("a")
        await idle(pilot)
        assert (session.dir / "use_case.yaml").exists()
        await until(pilot, lambda: prompt_focused(app), what="focus on the input after the approval closed")

        app.spec_panel.focus()  # open the editor from the spec list: focus is on the list, not the input
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SpecEditorScreen), what="the editor")
        await pilot.press("escape")
        await until(pilot, lambda: screen_name(pilot) == "Screen", what="the chat screen")
        await until(pilot, lambda: prompt_focused(app), what="focus on the message input")

        app.spec_panel.focus()
        await pilot.press("f1")
        await until(pilot, lambda: screen_name(pilot) == "HelpScreen", what="the help screen")
        await pilot.press("escape")
        await until(pilot, lambda: screen_name(pilot) == "Screen", what="the chat screen")
        await until(pilot, lambda: prompt_focused(app), what="focus on the message input")

        await pilot.press("ctrl+s")  # the spec list takes the focus (no screen opens)
        await until(pilot, lambda: not prompt_focused(app), what="focus on the spec list")
        await pilot.press("escape")
        await until(pilot, lambda: prompt_focused(app), what="escape brings the focus back to the message input")
        await pilot.press(*"1")
        await pilot.press("enter")
        modal = await approval(pilot)
        assert modal.request.tool == "approve_use_case", "typed keys reach the question"
        assert [q for q in app.query(QuestionCard)][-1].answered == "Approve it"
