"""The tools every step may use, run directly with a ToolContext on a temp session folder."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from skills.common_tools import COMMON_TOOLS, ask_user, list_files, read_reference, record_note, show_file
from skills.toolkit import ToolContext


@pytest.fixture
def ctx(tmp_path):
    session = tmp_path / "session"
    session.mkdir()
    return ToolContext(session_dir=session)


def call(tool, ctx, **args):
    return tool.run(ctx, tool.validate(args))


def test_common_tools_never_ask_permission():
    assert {t.name for t in COMMON_TOOLS} == {"ask_user", "show_file", "list_files", "record_note", "read_reference"}
    assert all(t.permission == "always" for t in COMMON_TOOLS)


def test_ask_user_ends_the_turn_with_the_question_and_choices(ctx):
    result = call(ask_user, ctx, question="Who uses the answers?", choices=["An app", "A team"])
    assert result.ends_turn and not result.is_error
    assert result.data == {"question": "Who uses the answers?", "choices": ["An app", "A team"], "allow_free_text": True}
    assert "1. An app" in result.content


def test_ask_user_schema_describes_each_argument():
    params = ask_user.schema()["function"]["parameters"]
    assert params["required"] == ["question"]
    assert all(params["properties"][name].get("description") for name in ("question", "choices", "allow_free_text"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"question": "  "}, "`question` is empty"),
        ({"question": "Pick", "choices": ["a", "a"]}, "repeats a choice"),
        ({"question": "Pick", "choices": [], "allow_free_text": False}, "could not answer"),
    ],
)
def test_ask_user_refuses_questions_nobody_could_answer(ctx, args, message):
    result = call(ask_user, ctx, **args)
    assert result.is_error and message in result.content


def test_ask_user_arguments_are_typed():
    with pytest.raises(ValidationError):
        ask_user.validate({"question": "x", "choices": "not a list"})
    with pytest.raises(ValidationError):
        ask_user.validate({"question": "x", "surprise": 1})


def test_show_file_shows_a_session_file(ctx):
    (ctx.session_dir / "use_case.yaml").write_text("name: demo\n")
    result = call(show_file, ctx, path="use_case.yaml")
    assert "```yaml\nname: demo\n```" in result.content
    assert result.data["text"] == "name: demo\n"


def test_show_file_shows_the_first_rows_of_a_long_jsonl(ctx):
    (ctx.session_dir / "data").mkdir()
    (ctx.session_dir / "data" / "train.jsonl").write_text("".join(f'{{"i": {i}}}\n' for i in range(100)))
    result = call(show_file, ctx, path="data/train.jsonl")
    assert '{"i": 19}' in result.content and '{"i": 20}' not in result.content
    assert "first 20 of 100 rows" in result.content


def test_show_file_says_what_a_binary_file_is(ctx):
    (ctx.session_dir / "blob.bin").write_bytes(b"\x00\x01\x02")
    result = call(show_file, ctx, path="blob.bin")
    assert result.data["binary"] and "binary" in result.content


@pytest.mark.parametrize("path", ["../secret.txt", "/etc/passwd", "data/../../secret.txt"])
def test_show_file_refuses_paths_outside_the_session(ctx, path):
    (ctx.session_dir.parent / "secret.txt").write_text("secret")
    result = call(show_file, ctx, path=path)
    assert result.is_error
    assert "secret" not in result.content.replace("secret.txt", "")


def test_show_file_refuses_a_symlink_that_leaves_the_session(ctx):
    outside = ctx.session_dir.parent / "outside.txt"
    outside.write_text("private words")
    os.symlink(outside, ctx.session_dir / "link.txt")
    result = call(show_file, ctx, path="link.txt")
    assert result.is_error and "outside the session" in result.content
    assert "private words" not in result.content


def test_show_file_explains_missing_files_and_folders(ctx):
    (ctx.session_dir / "data").mkdir()
    assert "list_files" in call(show_file, ctx, path="nope.yaml").content
    assert "is a folder" in call(show_file, ctx, path="data").content


def test_list_files_lists_what_the_session_holds_but_not_the_log(ctx):
    assert "no files yet" in call(list_files, ctx).content
    (ctx.session_dir / "conversation.jsonl").write_text("{}\n")
    (ctx.session_dir / ".use_case.yaml.tmp").write_text("x")
    (ctx.session_dir / "use_case.yaml").write_text("name: demo\n")
    (ctx.session_dir / "data").mkdir()
    (ctx.session_dir / "data" / "examples.jsonl").write_text("{}\n" * 10)
    result = call(list_files, ctx)
    assert [row["path"] for row in result.data["files"]] == ["data/examples.jsonl", "use_case.yaml"]
    assert "- use_case.yaml (11 B)" in result.content


def test_record_note_appends_to_notes_md(ctx):
    call(record_note, ctx, note="Amounts are in  EUR.")
    call(record_note, ctx, note="Labels come from the finance wiki.")
    text = (ctx.session_dir / "notes.md").read_text()
    assert text.startswith("# Notes\n")
    assert text.count("\n- ") == 2 and "Amounts are in EUR." in text
    assert call(record_note, ctx, note=" ").is_error


def test_read_reference_lists_and_reads_a_steps_pages(ctx):
    listing = call(read_reference, ctx, skill="use_case")
    assert "tenets.md" in listing.data["pages"]
    page = call(read_reference, ctx, skill="use_case", name="references/tenets.md")
    assert page.content.startswith("# Success tenets")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"skill": "nope"}, "no step named 'nope'"),
        ({"skill": "../skills"}, "no step named"),
        ({"skill": "use_case", "name": "missing.md"}, "no reference page 'missing.md'"),
        ({"skill": "use_case", "name": "../SKILL.md"}, "is not a page name"),
    ],
)
def test_read_reference_refuses_what_is_not_a_reference_page(ctx, args, message):
    result = call(read_reference, ctx, **args)
    assert result.is_error and message in result.content
