"""The headless hint for an LLM planner that stopped without a call: the call the step's files point to next,
for a person with a data file, with a reference document and with nothing, across task families."""

from __future__ import annotations

import json
import os

from assistant.headless import go_on_for
from assistant.next_call import next_call
from assistant.records import user_record
from assistant.session import Workspace
from skills.toolkit import ToolContext
from skills.use_case.tools import approve_use_case, draft_use_case


def _drafted(tmp_path, name, description):
    session = Workspace(tmp_path / "ws").create(name)
    session.append(user_record(description))
    result = draft_use_case.run(ToolContext(session_dir=session.dir),
                                draft_use_case.validate({"description": description}))
    assert not result.is_error, result.content
    return session


def test_the_use_case_hint_asks_for_approval_until_the_person_approves_then_names_approve_use_case(tmp_path):
    session = Workspace(tmp_path / "ws").create("empty")
    assert next_call(session.dir, "use_case").startswith("draft_use_case(")
    session = _drafted(tmp_path, "memos", "Tag product reviews as POSITIVE, NEGATIVE or MIXED. We have no data yet.")
    assert next_call(session.dir, "use_case").startswith('ask_user(question="Do you approve use_case.yaml')
    session.append(user_record("Approve it"))
    assert next_call(session.dir, "use_case") == "approve_use_case()"
    nudge = go_on_for(session)
    assert nudge.startswith("continue. Nobody is at the keyboard") and nudge.endswith("Call this next: approve_use_case()")


def test_the_data_hint_starts_with_the_persons_file_and_then_its_proposed_mapping(tmp_path):
    data = tmp_path / "tickets.csv"
    data.write_text("ticket,queue\n" + "\n".join(f"printer {i} jams on tray two,hardware" for i in range(30)) + "\n")
    session = _drafted(tmp_path, "it", f"Route IT tickets to one of these queues: hardware, software, other. "
                                       f"We have labeled tickets in {data}.")
    ctx = ToolContext(session_dir=session.dir)
    result = approve_use_case.run(ctx, approve_use_case.validate({}))
    assert f'inspect_data_file(path={json.dumps(str(data))})' in result.content  # the approval names the first call
    assert next_call(session.dir, "data") == f"inspect_data_file(path={json.dumps(str(data))})"
    from skills.data.own_data import inspect_data_file

    assert not inspect_data_file.run(ctx, inspect_data_file.validate({"path": str(data)})).is_error
    hint = next_call(session.dir, "data")
    assert hint.startswith(f"import_data(path={json.dumps(str(data))}, mapping=") and '"ticket"' in hint and '"queue"' in hint


def test_without_data_the_data_hint_is_the_seeds_and_a_document_is_attached(tmp_path):
    session = _drafted(tmp_path, "math", "Answer unit-conversion word problems with a number. We have no data.")
    assert "draft_seed_examples()" in approve_use_case.run(ToolContext(session_dir=session.dir),
                                                           approve_use_case.validate({})).content
    assert next_call(session.dir, "data") == "draft_seed_examples()"
    (session.dir / "data").mkdir(exist_ok=True)
    (session.dir / "data" / "examples.jsonl").write_text('{"input": "2 km in m?", "output": "2000"}\n')
    assert next_call(session.dir, "data") == "write_data_generation_spec()"
    assert next_call(session.dir, "train").startswith("recommend_technique()")
    assert next_call(session.dir, "done") is None  # past the last step nothing is hinted


def test_while_the_data_job_runs_the_hint_is_to_wait_for_it_not_to_start_it_again(tmp_path):
    # Qwen2.5-Coder-1.5B, told generate_data() by the hint while its job ran, called it again and was refused
    from synth.generate import generation_lock

    session = _drafted(tmp_path, "math", "Answer unit-conversion word problems with a number. We have no data.")
    (session.dir / "data").mkdir(exist_ok=True)
    (session.dir / "data" / "examples.jsonl").write_text('{"input": "2 km in m?", "output": "2000"}\n')
    (session.dir / "data_generation.yaml").write_text("version: 1\n")
    assert next_call(session.dir, "data").startswith("generate_data()")
    with generation_lock(session.dir):  # what the running job holds
        assert next_call(session.dir, "data").startswith("wait_for_data_generation()")
    assert next_call(session.dir, "data").startswith("generate_data()")


def test_the_train_hint_moves_on_after_the_recommendation_and_after_the_start(tmp_path):
    # a real 1.5B planner, hinted "recommend_technique(), then write_training_plan()" after its recommendation, was
    # started on recommend_technique again and again: the hint now reads what the step's log says was done
    from assistant.records import tool_record

    session = Workspace(tmp_path / "ws").create("train")
    session.append({"type": "phase", "phase": "train"})
    assert next_call(session.dir, "train") == "recommend_technique(), then write_training_plan()"
    session.append(tool_record("c1", "recommend_technique", "Error: no data yet", is_error=True))
    assert next_call(session.dir, "train").startswith("recommend_technique()")  # a failed one does not count
    session.append(tool_record("c2", "recommend_technique", "Recommended: SFT with a full fine-tune.", is_error=False))
    assert next_call(session.dir, "train").startswith("write_training_plan() with no arguments")
    (session.dir / "training.yaml").write_text("version: 1\n")
    assert next_call(session.dir, "train") == "start_training(), then wait_for_training()"
    session.append(tool_record("c3", "start_training", "Started training as a background job.", is_error=False))
    assert next_call(session.dir, "train").startswith("wait_for_training()")
    session.append({"type": "phase", "phase": "data"})  # back to an earlier step and in again: its log starts over
    session.append({"type": "phase", "phase": "train"})
    assert next_call(session.dir, "train") == "start_training(), then wait_for_training()"


def test_a_blocking_quality_gate_gets_a_hint_that_names_it_not_finish_data_step(tmp_path):
    # the real 1.5B teacher's math: 39 of 85 answers differed from their own arithmetic, 25 train records were left,
    # and the hint kept saying "show_quality_report(), then finish_data_step()" while the gate blocked
    folder = tmp_path / "s"
    (folder / "data").mkdir(parents=True)
    for name in ("data/examples.jsonl", "data_generation.yaml", "data/train.jsonl"):
        (folder / name).write_text("{}\n")
    os.utime(folder / "data_generation.yaml", (1_000_000, 1_000_000))  # the spec the data was made from
    (folder / "data" / "generation.json").write_text(json.dumps({"requested": {"train": 65}, "train_records": 25}))

    def report(*findings):
        (folder / "data" / "quality.json").write_text(json.dumps({"findings": list(findings)}))

    few = {"code": "too_few_records", "severity": "high", "message": "only 25 usable training records; at least 50 are needed."}
    report(few, {"code": "axis_gap:difficulty", "severity": "low", "message": "..."})
    hint = next_call(folder, "data")
    # at the share the last run kept (25 of 65), 50 usable need about 156 asked
    assert hint.startswith('write_data_generation_spec(changes={"train_count": 156})') and "only 25 usable" in hint
    report({"code": "pii", "severity": "high", "message": "12 records hold e-mail addresses.", "waived": False})
    hint = next_call(folder, "data")
    assert hint.startswith("show_quality_report()") and "pii" in hint and "only the person can waive" in hint
    report({"code": "pii", "severity": "high", "message": "12 records hold e-mail addresses.", "waived": True})
    assert next_call(folder, "data") == "show_quality_report(), then finish_data_step() once nothing blocks"
    (folder / "data_generation.yaml").write_text("{}\n")  # a spec written after the data: generate again
    assert next_call(folder, "data").startswith("generate_data()")


def test_the_evaluate_and_export_hints_follow_the_evaluation_folder_and_the_steps_log(tmp_path):
    # the real 1.5B planner was never driven past training: its evaluate and export steps had no hint at all
    from assistant.records import tool_record

    session = Workspace(tmp_path / "ws").create("ev")
    session.append({"type": "phase", "phase": "evaluate"})
    assert next_call(session.dir, "evaluate") == "write_evaluation_spec()"
    (session.dir / "evaluation.yaml").write_text("version: 1\n")
    assert next_call(session.dir, "evaluate") == "run_evaluation(), then wait_for_evaluation()"
    running = session.dir / "evals" / "20261204-020000"
    running.mkdir(parents=True)
    (running / "events.jsonl").write_text(json.dumps({"type": "progress", "done": 3, "total": 40}) + "\n")
    assert next_call(session.dir, "evaluate").startswith("wait_for_evaluation()")
    with (running / "events.jsonl").open("a") as out:
        out.write(json.dumps({"type": "error", "message": "the judge model did not answer"}) + "\n")
    hint = next_call(session.dir, "evaluate")
    assert hint.startswith("run_evaluation() again") and "the judge model did not answer" in hint
    finished = session.dir / "evals" / "20261204-030000"
    finished.mkdir()
    (finished / "report.json").write_text("{}")
    assert next_call(session.dir, "evaluate") == "show_evaluation_report(), then finish_evaluation()"
    session.append(tool_record("c1", "show_evaluation_report", "| tenet | base | tuned |", is_error=False))
    assert next_call(session.dir, "evaluate").startswith("finish_evaluation()")
    session.append({"type": "phase", "phase": "export"})
    assert next_call(session.dir, "export") == "write_export_spec()"
    (session.dir / "export.yaml").write_text("version: 1\n")
    assert next_call(session.dir, "export") == "export_model()"


def test_a_hinted_call_is_started_with_the_arguments_the_hint_gives_in_full_and_only_those():
    # Qwen2.5-Coder-1.5B, started on write_data_generation_spec by name while the gate said "train_count 120",
    # wrote {"changes": {}} and regenerated the same too-small data; llama.cpp reads a call whose start holds
    # arguments (seen: the stream sends only the model's closing brace, which the agent puts after the start)
    from assistant.agent import _known_arguments
    from skills.data.own_data import import_data
    from skills.data.tools_spec import write_data_generation_spec
    from skills.use_case.tools import draft_use_case

    blocked = ('write_data_generation_spec(changes={"train_count": 156}), then generate_data() (the quality gate '
               'blocks: too few training records (25; at least 50))')
    started = _known_arguments(blocked, write_data_generation_spec)
    assert json.loads("{" + started + "}") == {"changes": {"train_count": 156}}
    mapping = 'import_data(path="/d/hotel.parquet", mapping={"prompt": "guest_review"}) once the person agrees'
    assert json.loads("{" + _known_arguments(mapping, import_data) + "}") == {
        "path": "/d/hotel.parquet", "mapping": {"prompt": "guest_review"}}
    assert _known_arguments("draft_use_case(description=<the person's first message, word for word>)",
                            draft_use_case) == ""  # given in words: the model writes it
    assert _known_arguments('write_data_generation_spec(count=3)', write_data_generation_spec) == ""  # not its argument
    assert _known_arguments("write_data_generation_spec()", write_data_generation_spec) == ""
    assert _known_arguments(None, write_data_generation_spec) == ""


def test_after_a_draft_that_lacks_the_labels_the_hint_is_to_ask_for_them_then_to_draft_again(tmp_path):
    from assistant.records import tool_record

    session = Workspace(tmp_path / "ws").create("queues")
    description = "Route our incoming support emails to the right queue."
    session.append(user_record(description))
    result = draft_use_case.run(ToolContext(session_dir=session.dir), draft_use_case.validate({"description": description}))
    assert result.is_error and "does not list the labels" in result.content
    session.append(tool_record("c1", "draft_use_case", result.content, is_error=True))
    hint = next_call(session.dir, "use_case")
    assert hint.startswith('ask_user(question="Which labels should the model choose from?'), hint
    session.append(user_record("continue. Nobody is at the keyboard in this headless run", ))  # no answer yet
    assert next_call(session.dir, "use_case").startswith("ask_user(")
    session.append(user_record("billing, shipping, returns"))
    assert next_call(session.dir, "use_case").startswith("draft_use_case(")


def test_draft_use_case_reads_the_labels_from_the_persons_labeled_file_and_says_it_guessed_them(tmp_path):
    data = tmp_path / "tickets.csv"
    rows = [("the printer on floor two jams", "HARDWARE"), ("vpn drops every hour", "NETWORK"),
            ("excel crashes on open", "SOFTWARE"), ("badge does not open the lab", "ACCESS")] * 5
    data.write_text("ticket_text,queue\n" + "\n".join(f"{text} {i},{label}" for i, (text, label) in enumerate(rows)) + "\n")
    session = Workspace(tmp_path / "ws").create("tickets")
    description = f"Route our IT helpdesk tickets to the right queue. We have a CSV of labeled tickets.\n\nMy data file: {data}"
    session.append(user_record(description))
    result = draft_use_case.run(ToolContext(session_dir=session.dir), draft_use_case.validate({"description": description}))
    assert not result.is_error, result.content
    assert "read from the label column of tickets.csv" in result.content.split("Guessed")[1]
    text = (session.dir / "use_case.yaml").read_text()
    assert all(f"- {label}" in text for label in ("HARDWARE", "NETWORK", "SOFTWARE", "ACCESS"))
