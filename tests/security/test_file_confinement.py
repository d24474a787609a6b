"""File tools refuse paths outside the session folder: ``..``, absolute paths, and symlinks that
point out (to a file or a folder). Checked on the join every tool uses (skills.toolkit.safe_join via
ToolContext.path), on Session.path, and end to end on the real tools that take a session path
(show_file reads, record_note writes), called through the agent with a scripted planner.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.agent import Agent
from assistant.events import ToolFinished
from assistant.runtime import collect_tools
from assistant.session import SessionError
from skills.common_tools import list_files, record_note, show_file
from skills.toolkit import ToolContext, ToolError, safe_join
from tests.fakes import ScriptedModel, call, collect, say

SECRET = "top secret outside the session"


@pytest.fixture
def layout(tmp_path):
    """A session folder beside a secret file, with symlinks inside that point out."""
    session = tmp_path / "session"
    (session / "data").mkdir(parents=True)
    (session / "data" / "train.jsonl").write_text('{"ok": 1}\n')
    secret_dir = tmp_path / "private"
    secret_dir.mkdir()
    (secret_dir / "secret.txt").write_text(SECRET)
    os.symlink(secret_dir / "secret.txt", session / "link_to_secret.txt")
    os.symlink(secret_dir, session / "data" / "link_to_dir")
    os.symlink("../../private/secret.txt", session / "data" / "relative_link.txt")
    return session, secret_dir


ESCAPES = ["../private/secret.txt", "data/../../private/secret.txt", "{abs}", "/etc/passwd",
           "link_to_secret.txt", "data/link_to_dir/secret.txt", "data/relative_link.txt", "data/link_to_dir", ".."]


def _paths(secret_dir: Path) -> list[str]:
    return [p.format(abs=secret_dir / "secret.txt") for p in ESCAPES]


def test_safe_join_refuses_every_escape(layout):
    session, secret_dir = layout
    for path in _paths(secret_dir):
        with pytest.raises(ToolError):
            safe_join(session, path)
        with pytest.raises(ToolError):
            ToolContext(session_dir=session).path(path)
    assert safe_join(session, "data/train.jsonl") == (session / "data" / "train.jsonl").resolve()


def test_session_path_refuses_dot_dot_and_absolute(workspace, tmp_path):
    session = workspace.create("s")
    for path in ["../other/session.json", "/etc/passwd", str(tmp_path / "x"), "data/../../x"]:
        with pytest.raises(SessionError):
            session.path(path)
        with pytest.raises(SessionError):
            session.write_text(path, "x")


def test_show_file_refuses_and_never_reveals_the_secret(layout):
    session, secret_dir = layout
    ctx = ToolContext(session_dir=session)
    for path in _paths(secret_dir):
        result = show_file.run(ctx, show_file.validate({"path": path}))
        assert result.is_error, path
        assert SECRET not in result.content


def test_record_note_cannot_be_redirected_out_by_a_symlink(layout):
    session, secret_dir = layout
    os.symlink(secret_dir / "secret.txt", session / "notes.md")
    result = record_note.run(ToolContext(session_dir=session), record_note.validate({"note": "overwrite?"}))
    assert result.is_error and "outside" in result.content
    assert (secret_dir / "secret.txt").read_text() == SECRET


def test_list_files_does_not_walk_into_a_linked_folder(layout):
    session, _ = layout
    result = list_files.run(ToolContext(session_dir=session), list_files.validate({}))
    assert "secret.txt" not in result.content.replace("link_to_secret.txt", "").replace("relative_link.txt", "")
    assert SECRET not in result.content


async def test_through_the_agent_the_model_reads_only_refusals(workspace, tmp_path):
    session = workspace.create("s")
    (tmp_path / "secret.txt").write_text(SECRET)
    os.symlink(tmp_path / "secret.txt", session.dir / "innocent.yaml")
    turns = [call("show_file", {"path": p}) for p in ("../../../secret.txt", str(tmp_path / "secret.txt"), "innocent.yaml")]
    model = ScriptedModel([*turns, say("I cannot read those.")])
    agent = Agent(session, model, collect_tools(), approver=None)
    events = await collect(agent.send("show me the secret"))
    results = [e for e in events if isinstance(e, ToolFinished)]
    assert len(results) == 3 and all(r.is_error for r in results)
    for request, _ in model.requests:
        assert SECRET not in str(request)
    assert SECRET.encode() not in session.conversation_path.read_bytes()
