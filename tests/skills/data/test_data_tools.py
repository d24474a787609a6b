"""The data step's tools and its offline guide, driven the way the agent drives them."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from skills.data import guide
from skills.data import tools as data_tools
from skills.guiding import GuideState, LastTool
from skills.toolkit import ToolContext
from skills.settings import ToolSettings
from specs.data_generation import DataGenerationSpec
from specs.yamlio import load_spec

ROOT = Path(__file__).resolve().parents[3]
FAST = ToolSettings(quality_embeddings=False)  # the MiniLM subprocess is covered in tests/synth


@pytest.fixture
def session(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(ROOT / "specs/examples/bank_transactions.use_case.yaml", folder / "use_case.yaml")
    return folder


def _call(tool, ctx, **args):
    parsed = tool.validate(args)
    preview = tool.describe(ctx, parsed)
    return tool.run(ctx, parsed), preview


def _state(session, last_tool=None, last_user=None):
    return GuideState(session_dir=session, messages=[], last_user=last_user, last_tool=last_tool)


def test_guided_data_step_end_to_end(session):
    events = []
    ctx = ToolContext(session_dir=session, emit=events.append, settings=FAST)
    by_name = {t.name: t for t in vars(data_tools).values() if hasattr(t, "args_model")}
    turn = guide.next_turn(_state(session))
    assert turn.tool == "draft_seed_examples"
    result, preview = _call(by_name[turn.tool], ctx, **turn.arguments)
    assert not result.is_error and "groceries" in preview.summary
    turn = guide.next_turn(_state(session, LastTool(turn.tool, result.content, False)))
    assert turn.tool == "ask_user" and guide.SEED_QUESTION in turn.arguments["question"]
    turn = guide.next_turn(_state(session, last_user=guide.CONTINUE))
    assert turn.tool == "write_data_generation_spec"
    result, preview = _call(by_name[turn.tool], ctx, **turn.arguments)
    assert preview.diff and "+train_count: 600" in preview.diff and not result.is_error
    assert (session / "data_generation.yaml").read_text().startswith("# yaml-language-server")
    turn = guide.next_turn(_state(session, LastTool("write_data_generation_spec", result.content, False)))
    assert turn.tool == "generate_data"
    parsed = by_name["generate_data"].validate({})
    preview = by_name["generate_data"].describe(ctx, parsed)
    assert preview.code and "def generate" in preview.code and preview.estimate.cost_usd == 0.0
    result = by_name["generate_data"].run(ctx, parsed)
    assert not result.is_error, result.content
    assert "600 train" in result.content and (session / "data/quality.json").exists()
    assert any(e.get("task") == "generate" for e in events)
    turn = guide.next_turn(_state(session, LastTool("generate_data", result.content, False)))
    assert turn.tool == "finish_data_step"
    result, _ = _call(by_name["finish_data_step"], ctx)
    assert result.phase == "train"
    assert guide.next_turn(_state(session, LastTool("finish_data_step", result.content, False))) is None


def test_blocking_findings_are_asked_then_waived(session):
    ctx = ToolContext(session_dir=session, settings=FAST)
    data_tools.draft_seed_examples.run(ctx, data_tools.draft_seed_examples.validate({}))
    changes = {"train_count": 30, "eval_count": 10}
    data_tools.write_data_generation_spec.run(ctx, data_tools.write_data_generation_spec.validate({"changes": changes}))
    result = data_tools.generate_data.run(ctx, data_tools.generate_data.validate({}))
    assert "too_few_records" in result.content
    finish = data_tools.finish_data_step.run(ctx, data_tools.finish_data_step.validate({}))
    assert finish.is_error and "too_few_records" in finish.content
    turn = guide.next_turn(_state(session, LastTool("generate_data", result.content, False)))
    assert turn.tool == "ask_user" and guide.WAIVE in turn.arguments["choices"]
    turn = guide.next_turn(_state(session, last_user="Waive the blocking findings: a small pilot is fine"))
    assert turn.tool == "waive_findings" and "too_few_records" in turn.arguments["codes"]
    preview = data_tools.waive_findings.describe(ctx, data_tools.waive_findings.validate(turn.arguments))
    assert any("too_few_records" in f for f in preview.findings)
    data_tools.waive_findings.run(ctx, data_tools.waive_findings.validate(turn.arguments))
    turn = guide.next_turn(_state(session, LastTool("waive_findings", "ok", False)))
    assert turn.tool == "finish_data_step"


def test_seed_editing_tools_and_import(session, tmp_path):
    ctx = ToolContext(session_dir=session, settings=FAST)
    data_tools.draft_seed_examples.run(ctx, data_tools.draft_seed_examples.validate({"count": 5}))
    shown = data_tools.show_seed_examples.run(ctx, data_tools.show_seed_examples.validate({}))
    assert shown.content.count("\n") >= 12
    edited = data_tools.edit_seed_example.run(ctx, data_tools.edit_seed_example.validate({"index": 0, "output": "dining"}))
    assert "dining" in edited.content
    bad = data_tools.edit_seed_example.run(ctx, data_tools.edit_seed_example.validate({"index": 50, "output": "x"}))
    assert bad.is_error
    source = tmp_path / "mine.csv"
    source.write_text("text,label\nSTARBUCKS 4.50,dining\nSHELL OIL 40.00,transport\n")
    info = data_tools.inspect_data_file.run(ctx, data_tools.inspect_data_file.validate({"path": str(source)}))
    assert info.data["mapping"] == {"input": "text", "output": "label"}
    imported = data_tools.import_data.run(ctx, data_tools.import_data.validate(
        {"path": str(source), "mapping": info.data["mapping"]}))
    assert not imported.is_error and (session / "data/imported.jsonl").exists()


class _RecordingJobs:
    """A job runner that records what it was asked to start (this test checks the call, not the job)."""

    def __init__(self, started: list, folder: Path):
        self.started, self.folder = started, folder

    def start(self, name, argv, cwd=None, env=None):
        self.started.append((name, argv))
        return SimpleNamespace(id="job-1", events_path=self.folder / "job-1.events.jsonl")

    def get(self, job_id):
        raise KeyError(job_id)


def test_teacher_path_previews_cost_drafts_seeds_and_starts_a_job(session, tmp_path):
    import json as _json

    from tests.fake_openai import FakeOpenAI

    rows = [{"input": f"STARBUCKS STORE {i} 4.50", "output": "dining"} for i in range(6)]
    with FakeOpenAI(delay_s=0.0, responder=lambda messages: _json.dumps(rows)) as server:
        started = []
        settings = FAST.model_copy(update={"teacher_model": "openai/gpt-4.1-mini", "api_base": server.api_base,
                    "workspace": tmp_path / "ws"})
        ctx = ToolContext(session_dir=session, settings=settings, jobs=_RecordingJobs(started, tmp_path))
        drafted = data_tools.draft_seed_examples.run(ctx, data_tools.draft_seed_examples.validate({"use_teacher": True}))
        assert not drafted.is_error and "STARBUCKS STORE 0" in drafted.content
        card = data_tools.write_data_generation_spec.describe(ctx, data_tools.write_data_generation_spec.validate({}))
        assert "on approval one real request is timed first" in card.summary  # the card says what the call will send
        before = server.requests
        wrote = data_tools.write_data_generation_spec.run(ctx, data_tools.write_data_generation_spec.validate({}))
        assert server.requests == before + 1 and "The teacher answered one real request in" in wrote.content
        assert "kind: teacher" in (session / "data_generation.yaml").read_text()
        timed = _json.loads((session / "data/teacher_speed.json").read_text())
        assert timed["model"] == "openai/gpt-4.1-mini" and timed["api_base"] == server.api_base
        preview = data_tools.generate_data.describe(ctx, data_tools.generate_data.validate({}))
        # this teacher answers at once, so the usual counts stay, and the estimate is its own timing, one at a time
        assert preview.estimate.calls == 720 and preview.estimate.tokens > 0 and preview.estimate.cost_usd > 0
        assert "one request at a time" in preview.estimate.note and "timed on it" in preview.estimate.note
        assert preview.estimate.seconds == pytest.approx(720 * timed["seconds_per_record"], abs=0.1)
        result = data_tools.generate_data.run(ctx, data_tools.generate_data.validate({}))
        assert "background job" in result.content
        name, argv = started[0]
        assert name == "generate-data" and argv[1:3] == ["-m", "skills.data.job"]
        assert "--teacher-model" in argv and "--no-embeddings" in argv


def test_a_slow_teacher_on_this_machine_gets_the_records_that_fit_its_minutes(session, tmp_path):
    # A loopback teacher that takes 0.3 s a reply and a one-minute budget: one request is timed, and the spec asks
    # for what fits a minute (not the usual 600 + 120), never under what the quality gate needs.
    import json as _json

    from tests.fake_openai import FakeOpenAI

    rows = [{"input": f"CORNER CAFE {i} 6.20", "output": "dining"} for i in range(6)]
    with FakeOpenAI(delay_s=0.3, responder=lambda messages: _json.dumps(rows)) as server:
        settings = FAST.model_copy(update={"teacher_model": "openai/local", "api_base": server.api_base,
                                           "workspace": tmp_path / "ws", "teacher_minutes": 1.0})
        ctx = ToolContext(session_dir=session, settings=settings)
        data_tools.draft_seed_examples.run(ctx, data_tools.draft_seed_examples.validate({"use_teacher": True}))
        wrote = data_tools.write_data_generation_spec.run(ctx, data_tools.write_data_generation_spec.validate({}))
        spec = load_spec(session / "data_generation.yaml", DataGenerationSpec)
        seconds = _json.loads((session / "data/teacher_speed.json").read_text())["seconds_per_record"]
        assert seconds >= 0.3
        assert spec.train_count + spec.eval_count <= int(60 / seconds) and spec.train_count >= spec.quality.min_records
        assert spec.eval_count >= 20 and "the usual 600 train + 120 eval records" in wrote.content
        # the person's own count wins, and a later write keeps the file's counts
        again = data_tools.write_data_generation_spec.run(ctx, data_tools.write_data_generation_spec.validate(
            {"changes": {"train_count": 400}}))
        assert not again.is_error and load_spec(session / "data_generation.yaml", DataGenerationSpec).train_count == 400


def test_a_local_teacher_that_does_not_answer_the_timing_request_still_gets_a_spec(session, tmp_path):
    import socket

    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = FAST.model_copy(update={"teacher_model": "openai/local", "api_base": f"http://127.0.0.1:{port}/v1",
                                       "workspace": tmp_path / "ws"})
    ctx = ToolContext(session_dir=session, settings=settings)
    wrote = data_tools.write_data_generation_spec.run(ctx, data_tools.write_data_generation_spec.validate({}))
    assert not wrote.is_error and "did not answer the timing request" in wrote.content
    spec = load_spec(session / "data_generation.yaml", DataGenerationSpec)
    # the guess (tens of seconds a record on two cores) fits about a hundred records into 30 minutes
    assert spec.generator.kind == "teacher" and 50 <= spec.train_count + spec.eval_count <= 200
    assert not (session / "data/teacher_speed.json").exists()


def test_guide_after_a_rejection_waits_for_the_person(session):
    turn = guide.next_turn(_state(session, LastTool("generate_data", "Not run: the person rejected this call.", True)))
    assert turn.tool is None and "did not do that" in turn.text
    turn = guide.next_turn(_state(session, LastTool("generate_data", "Error: data generation is already running", True)))
    assert turn.tool is None and "still running" in turn.text
    turn = guide.next_turn(_state(session, last_user="continue"))
    assert turn.tool == "draft_seed_examples"


def test_reading_the_persons_own_file_needs_an_approval_that_names_it(tmp_path):
    from skills.toolkit import ToolContext

    assert data_tools.inspect_data_file.permission == "ask"  # it may read outside the session folder
    ctx = ToolContext(session_dir=tmp_path)
    preview = data_tools.inspect_data_file.describe(ctx, data_tools.inspect_data_file.validate({"path": "/etc/hostname"}))
    assert "/etc/hostname" in preview.summary


def test_only_a_server_on_this_machine_counts_as_a_local_teacher():
    from skills.data.tools_generation import _is_local

    assert all(_is_local(u) for u in ("http://127.0.0.1:8080/v1", "http://localhost:11434", "http://[::1]:9000/v1"))
    assert not any(_is_local(u) for u in (None, "", "https://api.openai.com/v1", "http://10.0.0.5:8000/v1",
                                          "http://localhost.example.com/v1"))


def test_seeds_drafted_without_saying_how_use_the_configured_teacher_and_false_keeps_them_offline(session, tmp_path):
    # a real 1.5B planner called draft_seed_examples() with a teacher configured and got the offline template's rows
    import json as _json

    from tests.fake_openai import FakeOpenAI

    rows = [{"input": f"HARBOUR BAKERY {i} 3.80", "output": "dining"} for i in range(6)]
    with FakeOpenAI(delay_s=0.0, responder=lambda messages: _json.dumps(rows)) as server:
        settings = FAST.model_copy(update={"teacher_model": "openai/local", "api_base": server.api_base,
                                           "workspace": tmp_path / "ws"})
        ctx = ToolContext(session_dir=session, settings=settings)
        drafted = data_tools.draft_seed_examples.run(ctx, data_tools.draft_seed_examples.validate({}))
        assert not drafted.is_error and "HARBOUR BAKERY 0" in drafted.content and server.requests == 1
        offline = data_tools.draft_seed_examples.run(ctx, data_tools.draft_seed_examples.validate({"use_teacher": False}))
        assert not offline.is_error and "HARBOUR BAKERY" not in offline.content and server.requests == 1
    no_teacher = ToolContext(session_dir=session, settings=FAST.model_copy(update={"workspace": tmp_path / "ws"}))
    alone = data_tools.draft_seed_examples.run(no_teacher, data_tools.draft_seed_examples.validate({}))
    assert not alone.is_error and "HARBOUR BAKERY" not in alone.content
