"""The data step in the TUI with the real agent and tools (a scripted model): the Cancel button of a
progress card (and esc) stops generation that runs inside the tool call and keeps what was made; a
finished generation draws the quality card with charts and f3 opens the full report; the seed table
opens from f2 and tells the agent what the person saved."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import Button

from assistant.agent import Agent
from assistant.runtime import collect_tools
from assistant.session import Workspace
from assistant.tui.app import TunesmithApp
from assistant.tui.widgets.cards import ToolCard
from assistant.tui.widgets.progress import ProgressCard
from specs.data_generation import DataGenerationSpec
from specs.yamlio import load_spec, save_spec
from synth.records import read_jsonl
from tests.fakes import call, say as reply, scripted  # noqa: F401
from tests.tui.helpers import approval, idle, screen_name, until

ROOT = Path(__file__).resolve().parents[2]
SIZE = (110, 40)
TOTAL = 20000


async def say(pilot, text: str) -> None:
    prompt = pilot.app.query_one("#prompt")
    prompt.value = text
    prompt.focus()
    await pilot.press("enter")


def bank_session(settings, count: int = TOTAL):
    session = Workspace(settings.workspace).create("gen")
    shutil.copy(ROOT / "specs/examples/bank_transactions.use_case.yaml", session.dir / "use_case.yaml")
    spec = load_spec(ROOT / "specs/examples/bank_transactions.data_generation.yaml", DataGenerationSpec)
    save_spec(session.dir / "data_generation.yaml", spec.model_copy(update={"train_count": count, "eval_count": 100}))
    session.meta.phase = "data"  # the request offers the data step's tools
    session.save_meta()
    return session


def app_for(settings, session, model):
    def factory(settings, session, approver):
        return Agent(session, model, collect_tools(), approver=approver, settings=settings,
                     system_prompt=lambda s: "test")

    return TunesmithApp(settings, session, agent_factory=factory)


async def test_cancel_button_stops_generation_and_keeps_what_was_made(settings, scripted):
    session = bank_session(settings)
    model = scripted([call("generate_data", {})])  # no further turn: a cancelled step does not ask the model again
    app = app_for(settings, session, model)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "generate the data")
        modal = await approval(pilot)
        assert modal.request.tool == "generate_data"
        await pilot.press("a")
        await until(pilot, lambda: any(c.summary for c in app.query(ProgressCard)), what="a progress card")
        card = app.query_one(ProgressCard)
        assert card.task_name == "generate" and "ETA" in card.summary and "/s" in card.summary
        button = card.query_one(".progress-cancel", Button)
        assert button.display
        await pilot.click(button)
        await idle(pilot, timeout=60)
        tool_card = next(c for c in app.query(ToolCard) if c.tool == "generate_data")
        assert tool_card.state == "done" and tool_card.result.startswith("Generation cancelled after ")
        assert not card.active and not button.display and card.summary.startswith("■ ")
        notices = [t for k, t in app.chat.transcript() if k.startswith("notice")]
        assert any("interrupted" in t for t in notices)
    made = read_jsonl(session.dir / "data" / ".partial" / "train.jsonl")
    assert 0 < len(made) < TOTAL, "generation stopped early and kept its records"
    assert not (session.dir / "data" / "train.jsonl").exists()


async def test_escape_during_generation_stops_it_too(settings, scripted):
    session = bank_session(settings)
    model = scripted([call("generate_data", {})])
    app = app_for(settings, session, model)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "generate the data")
        await approval(pilot)
        await pilot.press("a")
        await until(pilot, lambda: any(c.summary for c in app.query(ProgressCard)), what="a progress card")
        app.set_focus(None)
        await pilot.press("escape")
        await idle(pilot, timeout=60)
        tool_card = next(c for c in app.query(ToolCard) if c.tool == "generate_data")
        assert tool_card.result.startswith("Generation cancelled after ")
    assert len(read_jsonl(session.dir / "data" / ".partial" / "train.jsonl")) < TOTAL


async def test_seed_table_opens_with_f2_and_tells_the_agent(settings, scripted):
    from synth import seeds

    session = bank_session(settings, count=600)
    seeds.save(session.dir, [{"input": "TESCO STORES 2231", "output": "groceries"},
                             {"input": "SHELL 0045", "output": "transport"}])
    model = scripted([reply("Thanks, I will use the edited seeds.")])
    app = app_for(settings, session, model)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await until(pilot, lambda: screen_name(pilot) == "SeedTableScreen", what="the seed table")
        await pilot.press("d")  # the cursor starts on row 0
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(seeds.load(session.dir)) == 1, what="the saved file")
        await pilot.press("escape")
        await until(pilot, lambda: screen_name(pilot) != "SeedTableScreen", what="the table to close")
        await idle(pilot)
        users = [t for k, t in app.chat.transcript() if k == "user"]
        assert users and "deleted 1 row" in users[-1] and "now has 1 row" in users[-1]
        assert model.requests[-1][0][-1]["content"] == users[-1], "the agent read what the person saved"
    assert seeds.load(session.dir)[0]["input"] == "SHELL 0045"


async def test_generation_draws_the_quality_card_and_f3_opens_the_report(settings, scripted, monkeypatch):
    from assistant.tui.screens.quality import QualityScreen
    from assistant.tui.widgets.quality import QualitySummary

    settings = settings.model_copy(update={"quality_embeddings": False})
    session = bank_session(settings, count=300)
    model = scripted([call("generate_data", {}), reply("The data is ready.")])
    app = app_for(settings, session, model)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "generate the data")
        await approval(pilot)
        await pilot.press("a")
        await idle(pilot, timeout=120)
        card = app.query_one(QualitySummary)
        assert card.transcript_entry()[1].startswith(f"{card.report.train_records} train, 100 eval")
        assert card.report.train_records > 250
        text = str(card.render())
        assert "dup" in text and "f3 opens the full quality report" in text
        app.set_focus(None)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, QualityScreen), what="the quality screen")
        await pilot.pause()
        shown = str(app.screen.query_one("#quality-duplicates").render())
        assert "duplicate" in shown.lower()
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, QualityScreen), what="the screen to close")
