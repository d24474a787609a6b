from __future__ import annotations

from assistant import events as ev
from assistant.tui.app import TunesmithApp
from assistant.tui.widgets.cards import QuestionCard, ToolCard

from tests.tui.conftest import DIFF, ReplayAgent, write_use_case


async def test_question_and_approval(settings, session):
    write_use_case(session.dir)
    turns = [
        [ev.TextDelta("Who "), ev.TextDelta("uses it?"), ev.AssistantMessage("Who uses it?"),
         ev.Question("Who uses the answers?", ["Finance team", "An app"]), ev.TurnEnded("question")],
        [ev.ToolCallStarted("c1", "update_use_case", {"changes": {"labels": ["a"]}}),
         ev.ApprovalRequested("c1", "update_use_case", {"changes": {}}, {"summary": "Update use_case.yaml", "diff": DIFF}),
         ev.ToolFinished("c1", "update_use_case", "Wrote use_case.yaml", files=["use_case.yaml"]),
         ev.TurnEnded("answer")],
    ]
    agents = []

    def factory(settings, session, approver):
        agents.append(ReplayAgent(approver, turns))
        return agents[-1]

    app = TunesmithApp(settings, session, agent_factory=factory)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press(*"sort my bank transactions", "enter")
        await app.wait_idle()
        await pilot.pause()
        cards = app.query(QuestionCard)
        assert len(cards) == 1
        await pilot.press("1", "enter")
        await pilot.pause()
        for _ in range(20):
            await pilot.pause()
            if app.screen.__class__.__name__ == "ApprovalScreen":
                break
        assert app.screen.__class__.__name__ == "ApprovalScreen"
        await pilot.press("a")
        await app.wait_idle()
        await pilot.pause()
        agent = agents[0]
        assert agent.sent == ["sort my bank transactions", "Finance team"]
        assert agent.decisions[0].kind == "allow_once"
        card = app.query_one(ToolCard)
        assert card.state == "done"
        assert card.query(".card-preview"), "the approved diff stays in the chat"
