"""Benchmark helper: the size of the planner's request on each step. Prints one ``RESULT=<json>`` line.

    python -m tests.bench.planner_requests

For every step, a session holding every kind of file (the longest files listing) sends one request
through the real agent; the system prompt and the tool schemas (as the JSON a chat template writes
into the prompt) are counted with litellm's token counter.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

FILES = ["use_case.yaml", "data_generation.yaml", "training.yaml", "evaluation.yaml", "export.yaml", "reward.py",
         "notes.md", "lineage.jsonl", "data/examples.jsonl", "data/train.jsonl", "data/eval.jsonl", "data/quality.json",
         "runs/run-1/metrics.jsonl", "evals/eval-1/report.md", "exports/export-1/Modelfile"]


def step_requests(root: Path) -> dict[str, dict[str, int]]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    from assistant.config import Settings
    from assistant.runtime import build_agent
    from assistant.session import Workspace
    from skills import catalog
    from tests.fakes import ScriptedModel, collect, say

    session = Workspace(root).create("bench")
    for name in FILES:
        (session.dir / name).parent.mkdir(parents=True, exist_ok=True)
        (session.dir / name).write_text("x\n")
    out = {}
    for step in [*catalog.ORDER, "done"]:
        session.meta.phase = step
        model = ScriptedModel([say("ok")])
        agent = build_agent(Settings.load({}, workspace=str(root)), session, model=model)
        asyncio.run(collect(agent.send("hi")))
        messages, schemas = model.requests[0]
        prompt = litellm.token_counter(model="gpt-4o", messages=messages[:1])
        tools = litellm.token_counter(model="gpt-4o", text=json.dumps(schemas))
        out[step] = {"system_prompt": prompt, "tool_schemas": tools, "total": prompt + tools, "tools": len(schemas)}
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        steps = step_requests(Path(folder))
    print("RESULT=" + json.dumps({"steps": steps, "largest": max(s["total"] for s in steps.values())}))


if __name__ == "__main__":
    main()
