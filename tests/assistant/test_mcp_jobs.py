"""Long work through `tunesmith mcp`: a real background job (teacher data generation against a
loopback teacher) starts and the tool returns; the client closes and the job goes on; a new
`tunesmith mcp` finds it running and follows it to the end with MCP progress notifications."""

from __future__ import annotations

import json
import shutil
import time

from mcp import Client

from assistant.jobs import JobRunner
from assistant.session import Workspace
from specs.data_generation import DataGenerationSpec
from specs.yamlio import load_spec, save_spec
from tests.fake_openai import FakeOpenAI
from tests.assistant.test_mcp_server import EXAMPLES, decisions, server, text


def _teacher(messages):
    prompt = messages[-1]["content"]
    label = prompt.split("category = ")[1].split(";")[0].strip()
    return json.dumps({"input": f"CARD {time.monotonic_ns()} {label.upper()} SHOP", "output": label})


def _data_session(ws, api_base: str) -> None:
    session = Workspace(ws).create("jobs")
    shutil.copy(EXAMPLES / "bank_transactions.use_case.yaml", session.dir / "use_case.yaml")
    spec = load_spec(EXAMPLES / "bank_transactions.data_generation.yaml", DataGenerationSpec)
    generator = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/fake", "api_base": api_base,
                                                  "concurrency": 1})
    save_spec(session.dir / "data_generation.yaml",
              spec.model_copy(update={"generator": generator, "train_count": 10, "eval_count": 2}))
    session.meta.phase = "data"
    session.save_meta()
    session.close()


async def test_a_job_outlives_the_client_and_a_new_server_follows_it_with_progress(tmp_path):
    ws = tmp_path / "ws"
    policy = tmp_path / "policy.yaml"
    policy.write_text("tools:\n  generate_data: allow\n")
    with FakeOpenAI(delay_s=0.3, responder=_teacher) as teacher:
        _data_session(ws, teacher.api_base)
        async with Client(server(ws, "jobs", "--policy-file", str(policy)), mode="legacy", cache=None) as client:
            started = await client.call_tool("generate_data", {})
            assert not started.is_error, text(started)
            assert "Started data generation as a background job" in text(started)
        running = JobRunner(ws / "sessions" / "jobs").reattach()
        assert [job.name for job in running] == ["generate-data"], "closing the client left the job running"

        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append((value, total, message))

        async with Client(server(ws, "jobs", "--policy-file", str(policy)), mode="legacy", cache=None) as client:
            assert f"Jobs still running from before: {running[0].id}" in client.instructions
            status = await client.call_tool("job_status", {})
            assert f"{running[0].id} (generate-data): running" in text(status)
            waited = await client.call_tool("wait_job", {"timeout_s": 180}, progress_callback=on_progress)
            assert "Job ended" in text(waited) and ": finished" in text(waited), text(waited)
            relayed: list[tuple[float, float | None, str | None]] = []

            async def on_relayed(value: float, total: float | None, message: str | None) -> None:
                relayed.append((value, total, message))

            report = await client.call_tool("wait_for_data_generation", {}, progress_callback=on_relayed)
            assert not report.is_error and "10 train and 2 eval records kept" in text(report), text(report)
            assert relayed, "a step's own wait tool sends the job's progress too"
    assert progress, "the job's progress reached the client"
    values = [value for value, _, _ in progress]
    assert values == sorted(values), "progress only grows"
    assert any(message and message.startswith("generate") for _, _, message in progress)
    assert progress[-1][1] is not None and progress[-1][0] <= progress[-1][1]
    assert decisions(ws, "jobs") == [("generate_data", "allow_once", "policy file policy.yaml")]
