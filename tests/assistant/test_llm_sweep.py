"""The sweep driven from the LLM path: a scripted planner, speaking through real litellm streaming from the
loopback server, asks for a sweep with its arguments written wrong first (a list given as one string, a
number where a list goes), reads the validation error, calls again as an LLM would (numbers as strings
inside the lists), and the session recovers: the person's approval card lists the trials and their time,
the real sweep runs as one background job, and the best trial goes into training.yaml by the normal plan
edit with approval."""

from __future__ import annotations

import json

import pytest

from assistant.config import Settings
from assistant.events import Progress, ToolFinished
from assistant.runtime import build_agent
from assistant.session import Workspace
from skills.train import sweep
from tests.assistant import llm_journey as script
from tests.fakes import FixedApprover, collect
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.slow


@pytest.fixture
def train_step(tmp_path, monkeypatch):
    from tests.skills.train.test_train_fixtures import make_session

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setattr(sweep, "EVAL_LIMIT", 4)
    monkeypatch.setattr(sweep, "TRIAL_MINUTES", 60.0)  # a busy machine must not cut these trials short
    monkeypatch.setattr(sweep, "STOP_MARGIN", -2.0)  # the second trial is behind at its check whatever it scores
    session = Workspace(tmp_path / "ws").create("s")
    make_session(tmp_path / "ws", n_train=16, n_eval=4)
    session.meta.phase = "train"
    session.save_meta()
    with LoopbackServer() as server:
        settings = Settings.load({}, workspace=str(tmp_path / "ws"), model=script.PLANNER, api_base=server.api_base, timeout=60)
        approver = FixedApprover("allow_once", waive=["no_quality_report"])
        yield server, session, build_agent(settings, session, approver), approver


def finished(events):
    return [(e.tool, e.is_error, e.content) for e in events if isinstance(e, ToolFinished)]


async def test_planner_recovers_from_wrong_sweep_arguments_and_applies_the_best_trial(train_step):
    server, session, agent, approver = train_step
    server.add(script.call("write_training_plan", {"adapter": "lora", "batch_size": 2}), script.say("training.yaml is written."))
    assert not finished(await collect(agent.send("Plan a LoRA run with batch 2.")))[0][1]

    server.add(script.call("run_sweep", {"learning_rate": "2e-4, 1e-3", "max_steps": 2}),
               script.call("run_sweep", {"learning_rate": ["2e-4", "1e-3"], "max_steps": [2]}),
               script.say("Trial 1 scored best per CPU-minute."))
    events = await collect(agent.send("Before training, try two learning rates and keep the one that learns fastest."))
    wrong, ran = finished(events)
    assert wrong[:2] == ("run_sweep", True)
    assert "`learning_rate`: Input should be a valid list" in wrong[2] and "`max_steps`: Input should be a valid list" in wrong[2]
    assert ran[:2] == ("run_sweep", False), ran[2]
    assert "Best: t1" in ran[2] and "write_training_plan(sweep_trial=1)" in ran[2]
    card = [r for r in approver.requests if r.tool == "run_sweep"]
    assert len(card) == 1, "the wrong call never reached the person"
    preview = card[0].preview
    assert "t1: learning_rate 0.0002, max_steps 2, 2 steps" in preview["summary"] and "t2: learning_rate 0.001" in preview["summary"]
    assert preview["estimate"]["seconds"] > 0
    tasks = {e.task for e in events if isinstance(e, Progress)}
    assert {"sweep trial 1/2 (t1)", "sweep trial 2/2 (t2)"} <= tasks, tasks
    read_back = [m["content"] for m in server.requests[-1]["messages"] if m["role"] == "tool"]
    assert any("valid list" in text for text in read_back), "the planner read the validation error"

    swept = json.loads((session.dir / "sweep.json").read_text())
    assert [t["status"] for t in swept["trials"]] == ["finished", "stopped_early"] and swept["best"] == "t1"

    server.add(script.call("write_training_plan", {"sweep_trial": 1}), script.say("training.yaml now uses trial 1."))
    applied = finished(await collect(agent.send("Use the best one.")))
    assert applied[0][:2] == ("write_training_plan", False), applied
    plan_card = [r for r in approver.requests if r.tool == "write_training_plan"][-1]
    assert "Settings of sweep trial t1" in plan_card.preview["summary"]
    text = (session.dir / "training.yaml").read_text()
    assert "learning_rate: 0.0002" in text and "batch_size: 2" in text
    assert not server.replies, "every scripted reply was used"
