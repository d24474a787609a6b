"""`tunesmith run --describe TEXT [--data FILE]`: a new session headless from a description, and a run that
would repeat the same step with the same result stops with exit 1 and says which step and why."""

from __future__ import annotations

import asyncio
import io
import json

from assistant.headless import EXIT_FAILED, Printer, drive
from assistant.session import Workspace
from tests.fakes import ScriptedModel, call, say
from test_headless import tunesmith

LABELED = "Label user comments as Toxic, Neutral or Supportive for our moderators. We have 300 labeled comments."


def test_describe_starts_a_new_session_and_records_the_data_file(tmp_path):
    data = tmp_path / "comments.csv"
    data.write_text("text,label\nyou are great,Supportive\nok,Neutral\n")
    run = tunesmith(tmp_path / "ws", "run", "--describe", LABELED, "--data", str(data), "--until", "data", "--yes",
                    "--session-name", "comments")
    assert run.returncode == 0, run.stdout + run.stderr
    session = tmp_path / "ws" / "sessions" / "comments"
    text = (session / "use_case.yaml").read_text()
    assert "status: approved" in text and "- Toxic" in text and "- Supportive" in text
    assert json.loads((session / "session.json").read_text())["phase"] == "data"
    assert f"path: {data}" in text and "kind: labeled_examples" in text, "the data file is in the use case"
    assert "My data file" not in text.split("business_problem:")[1].split("\n")[0], "the problem stays in the person's words"


def test_describe_and_a_session_name_are_exclusive_and_bad_input_is_explained(tmp_path):
    ws = tmp_path / "ws"
    both = tunesmith(ws, "run", "old-session", "--describe", "classify tickets")
    assert both.returncode == 2 and "not both" in both.stdout and "Traceback" not in both.stderr
    neither = tunesmith(ws, "run")
    assert neither.returncode == 2 and "--describe" in neither.stdout
    missing = tunesmith(ws, "run", "--describe", "classify tickets into a, b", "--data", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "nope.csv: no such file" in missing.stdout
    stray = tunesmith(ws, "run", "old-session", "--data", str(tmp_path))
    assert stray.returncode == 2 and "go with --describe" in stray.stdout
    assert not (ws / "sessions").exists() or not any((ws / "sessions").iterdir()), "no session made for bad usage"


def test_the_same_question_asked_again_stops_the_run(tmp_path):
    """No labels in the description and headless has no answer for them: it stops instead of spinning."""
    run = tunesmith(tmp_path / "ws", "run", "--describe", "Route incoming support emails to our queues for the support team.",
                    "--yes", "--until", "data")
    assert run.returncode == 1, run.stdout + run.stderr
    stopped = [line for line in run.stdout.splitlines() if "stopped:" in line]
    assert stopped and "step use_case would repeat" in stopped[0] and "Which labels" in stopped[0], run.stdout
    assert run.stdout.count("?  ") <= 4, "it stopped at the first repeat, not at the turn limit"


def test_regenerating_the_same_data_at_the_gate_stops_the_run(tmp_path):
    """The offline generator is deterministic: regenerating at a blocking gate gives the same data again."""
    from specs.data_generation import DataGenerationSpec
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec, save_spec
    from synth.plan import default_spec

    ws = tmp_path / "ws"
    first = tunesmith(ws, "run", "--describe", "Categorize bank transactions into groceries, dining, rent for the finance team.", "--yes",
                      "--until", "data", "--session-name", "gate")
    assert first.returncode == 0, first.stdout + first.stderr
    session = ws / "sessions" / "gate"
    spec = default_spec(load_spec(session / "use_case.yaml", UseCaseSpec)).model_dump(mode="json")
    spec.update(train_count=40, eval_count=10)
    spec["quality"]["min_records"] = 1000  # a limit this data can never meet: the gate blocks every time
    save_spec(session / "data_generation.yaml", DataGenerationSpec.model_validate(spec))
    run = tunesmith(ws, "run", "gate", "--yes", "--until", "train")
    assert run.returncode == 1, run.stdout + run.stderr
    stopped = [line for line in run.stdout.splitlines() if "stopped:" in line]
    assert stopped and "step data would repeat" in stopped[0] and "generate_data" in stopped[0], run.stdout
    assert run.stdout.count("-> generate_data") == 2, "one regeneration shows it is the same; no third"


def test_the_same_tool_call_with_the_same_result_stops_drive(tmp_path):
    from assistant.config import Settings
    from assistant.runtime import build_agent

    session = Workspace(tmp_path / "ws").create("loop")
    (session.dir / "notes.txt").write_text("nothing changes here\n")
    look = [call("show_file", {"path": "notes.txt"}), say("Let me look again.")]
    model = ScriptedModel(look * 3)
    agent = build_agent(Settings.load(env={}, workspace=tmp_path / "ws", yes=True), session, model=model)
    out = io.StringIO()
    code = asyncio.run(drive(agent, "show me the notes", printer=Printer(out), max_turns=20))
    assert code == EXIT_FAILED
    assert model.remaining == 2, "it stopped on the first repeat"
    assert 'stopped: step use_case would repeat turn 1' in out.getvalue()
    assert 'show_file({"path": "notes.txt"}) gave the same result' in out.getvalue()


def test_waiting_on_a_job_that_moves_on_is_no_repeat():
    from assistant.events import Progress, ToolCallStarted, ToolFinished
    from assistant.repeats import RepeatWatch

    watch = RepeatWatch()
    for done in (10, 20):
        watch.observe(ToolCallStarted(call_id="c", tool="wait_for_training", arguments={}))
        watch.observe(Progress(task="train", done=done, total=100))
        watch.observe(ToolFinished(call_id="c", tool="wait_for_training", content="still running (took 3.2 s)"))
        assert watch.end_turn("train", "continue") is None
    watch.observe(ToolCallStarted(call_id="c", tool="wait_for_training", arguments={}))
    watch.observe(Progress(task="train", done=20, total=100))
    watch.observe(ToolFinished(call_id="c", tool="wait_for_training", content="still running (took 9.9 s)"))
    assert "step train would repeat turn 2" in watch.end_turn("train", "continue"), "a stalled job is a repeat"


def test_the_global_name_flag_names_a_described_session_and_a_closed_pipe_is_no_traceback(tmp_path):
    import os
    import subprocess
    import sys

    from test_headless import ROOT

    ws = tmp_path / "ws"
    named = tunesmith(ws, "--name", "spam-filter", "run", "--describe", "Decide whether an email is spam or not",
                      "--until", "use_case", "--yes")
    assert named.returncode == 0, named.stdout + named.stderr
    assert (ws / "sessions" / "spam-filter" / "session.json").exists()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNESMITH_QUALITY_EMBEDDINGS": "0"}
    reader = subprocess.Popen([sys.executable, "-m", "assistant.cli", "--workspace", str(ws), "run", "--describe",
                               "Tell me whether each review is Positive or Negative", "--until", "data", "--yes"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.readline()  # the first line, then the reader leaves, as `| head -1` does
    reader.stdout.close()
    stderr = reader.stderr.read().decode()
    assert reader.wait(timeout=600) in (0, 141) and "Traceback" not in stderr, stderr


def test_labels_left_out_of_the_description_are_offered_from_the_persons_labeled_file(tmp_path):
    """Offline: the guided interview's first choice for the labels is the label column of the person's file."""
    data = tmp_path / "reviews.jsonl"
    rows = [("arrived broken and late", "delivery"), ("the zipper tore after a week", "quality"),
            ("cheaper than in town", "price")] * 8
    data.write_text("".join(json.dumps({"review": f"{text} ({i})", "topic": label}) + "\n"
                            for i, (text, label) in enumerate(rows)))
    run = tunesmith(tmp_path / "ws", "run", "--describe", "Tag our product reviews by topic. We have tagged reviews.",
                    "--data", str(data), "--until", "data", "--yes", "--session-name", "reviews")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Use these 3 from reviews.jsonl: delivery, quality, price" in run.stdout
    text = (tmp_path / "ws" / "sessions" / "reviews" / "use_case.yaml").read_text()
    assert "- delivery" in text and "- quality" in text and "- price" in text and "status: approved" in text
