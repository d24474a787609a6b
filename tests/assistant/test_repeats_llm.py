"""An LLM planner (scripted, through real litellm streaming from the loopback server) that keeps asking
the same question in plain text, never calling a tool: headless, the run stops at the first repeat with
exit 1 and says which step and why, also when the model rewords the question; different questions go on."""

from __future__ import annotations

import asyncio
import io

import pytest

from assistant.config import Settings
from assistant.headless import EXIT_FAILED, EXIT_LIMIT, Printer, drive
from assistant.runtime import build_agent
from assistant.session import Workspace
from tests.loopback import LoopbackServer, Reply

ASKED = "Which labels should the model use? For example urgent, normal or spam."


def _run(tmp_path, replies: list[str], max_turns: int = 8) -> tuple[int, str, LoopbackServer]:
    # After a turn without a call, a headless run starts the model's next answer as a tool call (a prefill). This
    # model ignores that and writes its question again, which is dropped, then once more: each turn after the
    # first takes two of its answers.
    script = replies[:1] + [text for text in replies[1:] for _ in (0, 1)]
    with LoopbackServer([Reply(text=text) for text in script]) as server:
        settings = Settings.load({}, workspace=str(tmp_path / "ws"), model="openai/planner", api_base=server.api_base,
                                 yes=True, timeout=30)
        session = Workspace(tmp_path / "ws").create("talk")
        out = io.StringIO()
        code = asyncio.run(drive(build_agent(settings, session), "Sort our support tickets.", printer=Printer(out),
                                 goal_phase="data", max_turns=max_turns))
    return code, out.getvalue(), server


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")


def test_the_same_question_again_stops_the_run(tmp_path):
    code, out, server = _run(tmp_path, [ASKED, ASKED, ASKED, ASKED])
    assert code == EXIT_FAILED, out
    stopped = [line for line in out.splitlines() if "stopped:" in line]
    assert stopped and "step use_case would repeat turn 1" in stopped[0] and "Which labels" in stopped[0], out
    assert len(server.replies) == 4, "it stopped at the first repeat"
    assert server.requests[1]["messages"][-1]["role"] == "assistant"  # the prefilled request
    assert "began a tool call but it could not be read" in server.requests[2]["messages"][-1]["content"]


def test_the_same_question_in_other_words_stops_the_run(tmp_path):
    reworded = ["Which labels should the model use? For example urgent, normal or spam.",
                "So, which labels should the model use for the tickets, e.g. urgent, normal, spam?",
                "Could you tell me which labels the model should use?", "Labels?"]
    code, out, server = _run(tmp_path, reworded)
    assert code == EXIT_FAILED, out
    stopped = [line for line in out.splitlines() if "stopped:" in line]
    assert stopped and "would repeat turn 1" in stopped[0] and "in other words" in stopped[0], out
    assert len(server.replies) == 4, "it stopped at the first repeat"


def test_different_questions_are_no_repeat(tmp_path):
    different = ["Who will use the model: agents, or a bot?", "Which labels should the tickets get?",
                 "How many tickets do you have at hand?"]
    code, out, server = _run(tmp_path, different, max_turns=3)
    assert code == EXIT_LIMIT and "stopped:" not in out, out
    assert not server.replies
