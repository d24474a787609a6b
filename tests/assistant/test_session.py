"""Sessions: layout, names, the append-only log, atomic meta, torn lines, messages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant.session import (
    SessionError,
    SessionMeta,
    Workspace,
    assistant_record,
    default_root,
    tool_record,
    user_record,
)


def test_default_workspace_is_under_cwd_unless_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_root({}) == tmp_path / "tunesmith"
    assert default_root({"TUNESMITH_HOME": str(tmp_path / "x")}) == tmp_path / "x"
    monkeypatch.delenv("TUNESMITH_HOME", raising=False)
    assert Workspace().root == tmp_path / "tunesmith"


def test_create_lays_out_the_session_folder(workspace):
    session = workspace.create()
    assert session.dir == workspace.root / "sessions" / "session-1"
    meta = json.loads((session.dir / "session.json").read_text())
    assert meta["name"] == "session-1" and meta["phase"] == "use_case"
    assert meta["planner_model"] is None and meta["pending_approval"] is None
    assert set(meta["usage"]) >= {"prompt_tokens", "completion_tokens", "cost_usd"}
    assert workspace.create().name == "session-2"


def test_auto_names_from_title_are_dated_and_unique(workspace):
    first = workspace.create(title="Bank categorizer!")
    second = workspace.create(title="Bank categorizer!")
    today = date.today().isoformat()
    assert first.name == f"{today}-bank-categorizer"
    assert second.name == f"{today}-bank-categorizer-2"


@pytest.mark.parametrize("bad", ["", ".", "..", "...", "a/b", "../x", "/abs", "a\\b", "x" * 81, " lead", ".hidden", "a b"])
def test_bad_names_are_refused(workspace, bad):
    with pytest.raises(SessionError):
        workspace.create(bad)


def test_duplicate_name_is_refused(workspace):
    workspace.create("mine")
    with pytest.raises(SessionError, match="already exists"):
        workspace.create("mine")


def test_append_writes_one_line_per_record_and_reloads(workspace):
    session = workspace.create("s")
    session.append(user_record("hello"))
    session.append({"type": "event", "event": "PhaseChanged", "phase": "data"})
    lines = session.conversation_path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["ts"] for line in lines)
    again = workspace.open("s")
    assert [r["type"] for r in again.records()] == ["user", "event"]
    assert again.problems == []


def test_append_refuses_records_without_type(workspace):
    session = workspace.create("s")
    with pytest.raises(ValueError):
        session.append({"message": {}})


def test_messages_rebuild_openai_format(workspace):
    session = workspace.create("s")
    call = {"id": "c1", "type": "function", "function": {"name": "write_spec", "arguments": "{}"}}
    session.append(user_record("I need a classifier"))
    session.append(assistant_record("Let me write it.", [call]))
    session.append({"type": "decision", "call_id": "c1", "tool": "write_spec", "decision": "allow_once", "comment": None, "by": "person"})
    session.append(tool_record("c1", "write_spec", "wrote use_case.yaml"))
    session.append({"type": "notice", "level": "info", "text": "saved"})
    session.append(assistant_record("Done."))
    messages = workspace.open("s").messages()
    assert messages == [
        {"role": "user", "content": "I need a classifier"},
        {"role": "assistant", "content": "Let me write it.", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "name": "write_spec", "content": "wrote use_case.yaml"},
        {"role": "assistant", "content": "Done."},
    ]


def test_dangling_tool_calls_can_be_closed(workspace):
    session = workspace.create("s")
    call = {"id": "c9", "type": "function", "function": {"name": "train", "arguments": "{}"}}
    session.append(user_record("go"))
    session.append(assistant_record("", [call]))
    assert session.messages()[-1]["role"] == "assistant"
    closed = session.messages(close_dangling=True)
    assert closed[-1]["role"] == "tool" and closed[-1]["tool_call_id"] == "c9"
    session.append(user_record("and?"))
    roles = [m["role"] for m in session.messages(close_dangling=True)]
    assert roles == ["user", "assistant", "tool", "user"]


def test_torn_last_line_is_ignored_reported_and_cut_before_next_append(workspace):
    session = workspace.create("s")
    for i in range(3):
        session.append(user_record(f"m{i}"))
    session.close()
    with open(session.conversation_path, "ab") as handle:
        handle.write(b'{"type": "user", "message": {"role": "us')
    again = workspace.open("s")
    assert [r["message"]["content"] for r in again.records()] == ["m0", "m1", "m2"]
    assert any("cut off" in problem for problem in again.problems)
    again.append(user_record("m3"))
    third = workspace.open("s")
    assert [r["message"]["content"] for r in third.records()] == ["m0", "m1", "m2", "m3"]
    assert third.problems == []


def test_a_bad_line_in_the_middle_is_skipped_not_fatal(workspace):
    session = workspace.create("s")
    session.append(user_record("a"))
    with open(session.conversation_path, "ab") as handle:
        handle.write(b"not json\n[1, 2]\n")
    session.append(user_record("b"))
    again = workspace.open("s")
    assert [r["message"]["content"] for r in again.records()] == ["a", "b"]
    assert len(again.problems) == 2


def test_save_meta_is_atomic_and_round_trips(workspace):
    session = workspace.create("s", planner_model="openai/gpt-4.1")
    session.meta.phase = "data"
    session.meta.pending_approval = {"call_id": "c1", "tool": "generate"}
    session.meta.usage.prompt_tokens = 12
    session.save_meta()
    leftovers = [p.name for p in session.dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    meta = workspace.open("s").meta
    assert (meta.phase, meta.planner_model, meta.usage.prompt_tokens) == ("data", "openai/gpt-4.1", 12)
    assert meta.pending_approval == {"call_id": "c1", "tool": "generate"}


def test_meta_keeps_unknown_keys_from_newer_versions(workspace):
    session = workspace.create("s")
    data = json.loads(session.meta_path.read_text())
    data["future_field"] = [1, 2]
    session.meta_path.write_text(json.dumps(data))
    reopened = workspace.open("s")
    reopened.save_meta()
    assert json.loads(reopened.meta_path.read_text())["future_field"] == [1, 2]


def test_unreadable_meta_does_not_stop_listing_or_opening(workspace):
    workspace.create("good")
    broken = workspace.create("broken")
    broken.meta_path.write_text("{ not json")
    names = {meta.name: meta for meta in workspace.list()}
    assert set(names) == {"good", "broken"} and names["broken"].phase == "unknown"
    session = workspace.open("broken")
    assert any("not valid JSON" in p and "session.json.corrupt-" in p for p in session.problems)
    aside = list(session.dir.glob("session.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{ not json", "the damaged file is kept, not overwritten"
    assert json.loads(session.meta_path.read_text())["name"] == "broken"
    assert workspace.open("broken").problems == [], "reported once; the new session.json reads back"


def test_wrongly_typed_meta_keeps_what_validates_and_the_original(workspace):
    session = workspace.create("typed", title="Bank categorizer")
    data = json.loads(session.meta_path.read_text())
    data.update(usage="lots", approval_rules={"start_training": "allow"}, phase=7, future=[1])
    session.meta_path.write_text(json.dumps(data))
    again = workspace.open("typed")
    assert any("wrongly typed fields (phase, usage)" in p for p in again.problems), again.problems
    assert again.meta.title == "Bank categorizer" and again.meta.approval_rules == {"start_training": "allow"}
    assert again.meta.phase == "use_case" and again.meta.usage.prompt_tokens == 0  # the step comes back from the log
    assert json.loads(next(again.dir.glob("session.json.corrupt-*")).read_text())["usage"] == "lots"
    assert json.loads(again.meta_path.read_text())["future"] == [1]


def test_complete_last_record_without_newline_is_kept(workspace):
    session = workspace.create("s")
    session.append(user_record("m0"))
    session.close()
    with open(session.conversation_path, "ab") as handle:
        handle.write(json.dumps(user_record("m1")).encode())  # whole, but no newline
    again = workspace.open("s")
    assert [r["message"]["content"] for r in again.records()] == ["m0", "m1"] and again.problems == []
    again.append(user_record("m2"))
    third = workspace.open("s")
    assert [r["message"]["content"] for r in third.records()] == ["m0", "m1", "m2"] and third.problems == []


@pytest.mark.parametrize("record, says", [
    ({"type": "assistant", "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "function": None}]}},
     "tool call 1 has no `function` object (it is None)"),
    ({"type": "assistant", "message": {"role": "assistant", "content": "", "tool_calls": {"id": "c1"}}},
     "`tool_calls` is not a list"),
    ({"type": "user", "message": None}, "a user record without a `message` object"),
    ({"type": "tool", "message": {"role": "tool", "tool_call_id": 5, "content": "x"}}, "`tool_call_id` is not a string"),
    ({"type": "user", "message": {"role": "user", "content": {"a": 1}}}, "`content` is dict"),
    ({"type": "question", "text": "?", "choices": "ab"}, "`choices` is not a list"),
    ({"message": {"role": "user", "content": "x"}}, "without a string `type`"),
])
def test_malformed_records_are_skipped_with_their_line_named(workspace, record, says):
    session = workspace.create("s")
    session.append(user_record("before"))
    with open(session.conversation_path, "ab") as handle:
        handle.write(json.dumps(record).encode() + b"\n")
    session.append(user_record("after"))
    again = workspace.open("s")
    assert [m["content"] for m in again.messages(close_dangling=True)] == ["before", "after"]
    assert len(again.problems) == 1 and again.problems[0].startswith("conversation.jsonl:2: ")
    assert says in again.problems[0] and again.problems[0].endswith("; line skipped")


def test_a_torn_last_line_is_moved_aside_not_lost(workspace):
    session = workspace.create("s")
    session.append(user_record("m0"))
    session.close()
    with open(session.conversation_path, "ab") as handle:
        handle.write(b'{"type": "user", "mess')
    again = workspace.open("s")
    assert again.problems and "conversation.jsonl:2: the last line was cut off" in again.problems[0]
    again.append(user_record("m1"))
    torn = list(again.dir.glob("conversation.jsonl.torn-*"))
    assert len(torn) == 1 and torn[0].read_bytes() == b'{"type": "user", "mess'


def test_a_renamed_or_deleted_folder_is_never_recreated_by_an_open_session(workspace):
    from assistant.session import SessionWriteError

    session = workspace.create("old")
    session.append(user_record("one"))
    session.close()
    (workspace.sessions_dir / "old").rename(workspace.sessions_dir / "moved")
    with pytest.raises(SessionWriteError, match="no longer exists"):
        session.append(user_record("two"))
    with pytest.raises(SessionWriteError, match="no longer exists"):
        session.save_meta()
    with pytest.raises(SessionWriteError, match="no longer exists"):
        session.write_text("use_case.yaml", "name: x\n")
    assert not (workspace.sessions_dir / "old").exists()


def test_rename_and_delete_respect_the_lock(workspace):
    from assistant.session import SessionError

    session = workspace.create("busy")
    session.lock()
    probe = ("import sys; from assistant.session import Workspace, SessionError\n"
             "w = Workspace(sys.argv[1])\n"
             "for act in (lambda: w.rename('busy', 'other'), lambda: w.delete('busy')):\n"
             "    try:\n        act(); print('done')\n    except SessionError as e:\n        print('refused', e)\n")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", probe, str(workspace.root)], capture_output=True, text=True, timeout=60)
    assert out.stdout.count("refused") == 2 and "open in another tunesmith" in out.stdout, out.stdout + out.stderr
    assert workspace.names() == ["busy"]
    workspace.delete("busy", held=session)
    assert workspace.names() == [] and not session.holds_lock
    with pytest.raises(SessionError):
        workspace.open("busy")


def test_list_is_most_recent_first(workspace):
    a = workspace.create("a")
    workspace.create("b")
    a.append(user_record("newer"))
    a.save_meta()
    assert [meta.name for meta in workspace.list()] == ["a", "b"]
    assert isinstance(workspace.list()[0], SessionMeta)


def test_rename_moves_folder_and_meta(workspace):
    session = workspace.create("old")
    session.append(user_record("kept"))
    renamed = workspace.rename("old", "new")
    assert not (workspace.sessions_dir / "old").exists()
    assert renamed.meta.name == "new"
    assert json.loads(renamed.meta_path.read_text())["name"] == "new"
    assert renamed.records()[0]["message"]["content"] == "kept"
    workspace.create("other")
    with pytest.raises(SessionError):
        workspace.rename("new", "other")
    with pytest.raises(SessionError):
        workspace.rename("missing", "x")


def test_delete_removes_everything(workspace):
    session = workspace.create("gone")
    session.write_text("data/train.jsonl", "{}\n")
    workspace.delete("gone")
    assert not session.dir.exists()
    assert list(workspace.sessions_dir.iterdir()) == []
    with pytest.raises(SessionError):
        workspace.delete("gone")


def test_open_unknown_session_names_the_known_ones(workspace):
    workspace.create("alpha")
    with pytest.raises(SessionError, match="alpha"):
        workspace.open("beta")


def test_session_paths_stay_inside(workspace):
    session = workspace.create("s")
    assert session.write_text("evals/e1/report.md", "# ok\n") == session.dir / "evals/e1/report.md"
    for bad in ("../x", "/etc/passwd", "a/../../b"):
        with pytest.raises(SessionError):
            session.path(bad)


def test_non_ascii_text_survives(workspace):
    session = workspace.create("s")
    session.append(user_record("Überweisung → Miete 🏠"))
    assert workspace.open("s").messages()[0]["content"] == "Überweisung → Miete 🏠"


def test_records_written_by_one_handle_are_seen_by_a_new_one(workspace):
    session = workspace.create("s")
    session.append(user_record("x"))
    assert Path(session.conversation_path).read_text().count("\n") == 1
    assert len(workspace.open("s").records()) == 1


def test_a_failing_write_leaves_the_log_whole(workspace, monkeypatch):
    import errno
    import os

    from assistant.session import SessionWriteError

    session = workspace.create("s")
    session.append(user_record("before"))
    real_write = os.write

    def half_then_full(fd, data):
        real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(SessionWriteError, match="No space left"):
        session.append(user_record("lost " * 100))
    monkeypatch.setattr(os, "write", real_write)
    assert workspace.open("s").problems == []
    session.append(user_record("after"))
    again = workspace.open("s")
    assert [r["message"]["content"] for r in again.records()] == ["before", "after"]
    assert [r["message"]["content"] for r in session.records()] == ["before", "after"]


def test_lock_allows_one_holder_and_ends_with_it(workspace):
    import subprocess
    import sys

    session = workspace.create("s")
    session.lock()
    session.lock()  # idempotent for the holder
    probe = ("import sys; from assistant.session import Workspace, SessionError\n"
             "try:\n    Workspace(sys.argv[1]).open('s').lock()\nexcept SessionError as e:\n    print(e); sys.exit(3)\n")
    out = subprocess.run([sys.executable, "-c", probe, str(workspace.root)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 3 and "open in another tunesmith" in out.stdout
    session.close()
    out = subprocess.run([sys.executable, "-c", probe, str(workspace.root)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    session.append(user_record("still writable after close"))
    assert workspace.open("s").records()[-1]["message"]["content"] == "still writable after close"


def test_a_lost_step_comes_back_from_the_log(workspace):
    session = workspace.create("s")
    session.append({"type": "phase", "phase": "data"})
    session.append({"type": "phase", "phase": "train"})
    session.meta_path.write_text("\x00\x01")
    assert workspace.open("s").meta.phase == "train"


def test_lineage_refuses_paths_outside_the_session(tmp_path):
    from specs import lineage

    (tmp_path / "a.txt").write_text("a")
    for bad in ("../x", "/etc/hostname", "sub/../../x"):
        with pytest.raises(ValueError, match="not inside the session folder"):
            lineage.record(tmp_path, "data", bad)
        with pytest.raises(ValueError, match="not inside the session folder"):
            lineage.record(tmp_path, "data", "a.txt", inputs=[bad])
    (tmp_path / "link").symlink_to("/etc")
    assert lineage.inside(tmp_path, "link/hostname") is None
    lineage.record(tmp_path, "data", "a.txt")
    assert [e["path"] for e in lineage.read(tmp_path)] == ["a.txt"]


def test_this_step_keeps_the_persons_first_words_and_no_result_whose_call_came_before_the_step(tmp_path):
    from assistant.records import assistant_record, tool_record, user_record
    from assistant.session import Workspace

    session = Workspace(tmp_path / "ws").create("steps")
    call = lambda i, name: {"id": i, "type": "function", "function": {"name": name, "arguments": "{}"}}  # noqa: E731
    session.append(user_record("Label our comments as PRAISE or COMPLAINT."))
    session.append(user_record("(tunesmith) a hidden nudge", hidden=True))
    session.append(assistant_record("", [call("a", "approve_use_case"), call("b", "show_spec")]))
    session.append(tool_record("a", "approve_use_case", "Approved."))
    session.append({"type": "phase", "phase": "data"})
    session.append(tool_record("b", "show_spec", "The spec."))  # the second call of that answer, run after the change
    session.append(assistant_record("", [call("c", "draft_seed_examples")]))  # no result yet: the app stopped
    trimmed = session.messages(close_dangling=True, this_step=True)
    assert [m["role"] for m in trimmed] == ["user", "assistant", "tool"]
    assert trimmed[0]["content"] == "Label our comments as PRAISE or COMPLAINT."
    assert trimmed[2]["tool_call_id"] == "c" and "stopped" in trimmed[2]["content"]
    assert len(session.messages(close_dangling=True)) == 7  # the whole log, as before
