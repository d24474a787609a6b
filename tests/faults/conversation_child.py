"""The app side of tests/faults/test_kill_conversation.py, run as a subprocess and killed with SIGKILL.

    python -m tests.faults.conversation_child WORKSPACE SESSION MODE

A headless agent session with the real use-case tools and a scripted planner that streams slowly.
MODE ``stream``: write use_case.yaml (allowed), approve it (allowed), then stream a long answer
slowly, printing STREAMING when it starts. MODE ``pending``: call write_use_case and wait forever
for the person's decision, printing PENDING. The test kills the process at that moment.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import yaml

from assistant.agent import Agent
from assistant.events import TextDelta
from assistant.runtime import collect_tools
from assistant.session import Workspace
from tests.fakes import FixedApprover, HangingApprover, ScriptedModel, call

EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "examples" / "bank_transactions.use_case.yaml"


def use_case_args() -> dict:
    """write_use_case arguments equal to the shipped bank example."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    keys = ("name", "business_problem", "primary_users", "task_type", "contract", "success_tenets", "constraints")
    return {key: data[key] for key in keys if key in data}


class SlowModel(ScriptedModel):
    """A scripted model whose last turn is a long answer streamed a few characters at a time."""

    async def stream(self, messages, tools):
        if len(self.turns) == 1 and self.turns[0].text.startswith("LONG"):
            print("STREAMING", flush=True)
            for _ in range(100_000):
                await asyncio.sleep(0.01)
                yield TextDelta("more words ")
        async for item in super().stream(messages, tools):
            yield item


async def main(root: str, name: str, mode: str) -> None:
    session = Workspace(root).open(name)
    if mode == "stream":
        model = SlowModel([call("write_use_case", use_case_args(), text="Here is the spec."),
                           call("approve_use_case", {}, text="Marking it approved."),
                           call("list_files", {}, text="LONG")])
        approver = FixedApprover("allow_once")
    else:
        model = SlowModel([call("write_use_case", use_case_args(), text="Here is the spec.")])
        approver = HangingApprover()

        async def announce(request, _inner=approver.decide):
            print("PENDING", flush=True)
            return await _inner(request)

        approver.decide = announce  # type: ignore[method-assign]
    agent = Agent(session, model, collect_tools(), approver=approver)
    async for _ in agent.send("I need a model that categorizes bank transactions."):
        pass
    print("FINISHED", flush=True)  # never reached: the test kills us first


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
