"""The tunesmith command: help, version, sessions, resume, validate, settings, extra commands."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import assistant
from assistant import cli
from assistant.config import ENV, Settings

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("textual", "litellm", "torch", "transformers", "trl", "peft", "mlflow", "datasets",
         "sentence_transformers", "numpy", "pydantic", "ruamel")


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fake_app(monkeypatch):
    """Replace the TUI entry; record how it was called."""
    calls: list[dict] = []

    def launch_app(settings, session, resume):
        calls.append({"settings": settings, "session": session, "resume": resume})
        return 0

    monkeypatch.setattr(cli, "launch_app", launch_app)
    monkeypatch.setattr(cli, "has_terminal", lambda: True)
    return calls


def test_version_matches_the_package(capsys):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert assistant.__version__ == version
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"tunesmith {version}"


@pytest.mark.parametrize("argv", [[], ["resume"], ["sessions"], ["sessions", "rename"], ["sessions", "delete"],
                                  ["sessions", "list"], ["validate"]])
def test_help_on_each_command(argv, capsys):
    code, out, _ = run([*argv, "--help"], capsys)
    assert code == 0 and out.startswith("usage: tunesmith")


def test_help_imports_nothing_heavy():
    """`tunesmith --help` must stay instant: parsing it (for every command, the extra ones too)
    may not load any heavy library."""
    probe = textwrap.dedent(
        """
        import json, sys
        from assistant import cli
        extra = [[name, "--help"] for name, module, _ in cli.EXTRA_COMMANDS if cli._module_exists(module)]
        for argv in [["--help"], ["sessions", "--help"], ["resume", "--help"], ["validate", "--help"], *extra]:
            try:
                cli.main(argv)
            except SystemExit:
                pass
        print("MODULES=" + json.dumps(sorted(sys.modules)))
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    modules = json.loads(out.stdout.split("MODULES=")[-1])
    loaded = sorted({m.split(".")[0] for m in modules} & set(HEAVY))
    assert loaded == [], f"`tunesmith --help` imports {loaded}"


def test_python_dash_m_assistant_works():
    out = subprocess.run([sys.executable, "-m", "assistant", "--version"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("tunesmith ")


def test_new_session_opens_the_app(workspace, fake_app, capsys):
    code, _, _ = run(["--model", "openai/gpt-4.1"], capsys)
    assert code == 0 and len(fake_app) == 1
    call = fake_app[0]
    assert call["resume"] is False and call["session"].dir.parent == workspace.sessions_dir
    assert call["settings"].model == "openai/gpt-4.1" and call["session"].meta.planner_model == "openai/gpt-4.1"
    run(["--name", "mine"], capsys)
    assert fake_app[1]["session"].name == "mine"


def test_sessions_table(workspace, capsys):
    workspace.create("alpha")
    beta = workspace.create("beta", planner_model="openai/gpt-4.1")
    beta.meta.phase = "train"
    beta.save_meta()
    code, out, _ = run(["sessions"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["NAME", "PHASE", "UPDATED", "MODEL"]
    assert lines[1].split()[:2] == ["beta", "train"] and lines[1].endswith("openai/gpt-4.1")
    assert lines[2].split()[:2] == ["alpha", "use_case"] and "guided" in lines[2]


def test_sessions_empty_workspace(workspace, capsys):
    code, out, _ = run(["sessions", "list"], capsys)
    assert code == 0 and "No sessions" in out


def test_flags_work_before_and_after_the_command(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TUNESMITH_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    from assistant.session import Workspace

    Workspace(tmp_path / "elsewhere").create("x")
    assert "x" in run(["--workspace", str(tmp_path / "elsewhere"), "sessions"], capsys)[1]
    assert "x" in run(["sessions", "--workspace", str(tmp_path / "elsewhere")], capsys)[1]
    assert "No sessions" in run(["sessions"], capsys)[1]  # default ./tunesmith under the cwd


def test_rename(workspace, capsys):
    workspace.create("old")
    code, out, _ = run(["sessions", "rename", "old", "new"], capsys)
    assert code == 0 and workspace.names() == ["new"]
    code, _, err = run(["sessions", "rename", "missing", "other"], capsys)
    assert code == 1 and "no session named 'missing'" in err and "Traceback" not in err
    code, _, err = run(["sessions", "rename", "new", "../evil"], capsys)
    assert code == 1 and "invalid session name" in err


@pytest.mark.parametrize("answer, kept", [("n\n", True), ("\n", True), ("", True), ("y\n", False), ("yes\n", False)])
def test_delete_asks_first(workspace, capsys, monkeypatch, answer, kept):
    workspace.create("target")
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    code, out, _ = run(["sessions", "delete", "target"], capsys)
    assert "Delete session target" in out
    assert (workspace.names() == ["target"]) is kept
    assert code == (1 if kept else 0)


def test_delete_yes_skips_the_question(workspace, capsys):
    workspace.create("target")
    code, out, _ = run(["sessions", "delete", "target", "--yes"], capsys)
    assert code == 0 and "Delete session" not in out and workspace.names() == []


def test_resume_by_name(workspace, fake_app, capsys):
    session = workspace.create("mine")
    session.append({"type": "user", "message": {"role": "user", "content": "hi"}})
    code, _, _ = run(["resume", "mine"], capsys)
    assert code == 0 and fake_app[0]["resume"] is True
    assert fake_app[0]["session"].messages() == [{"role": "user", "content": "hi"}]


def test_resume_unknown_name_is_a_sentence_not_a_traceback(workspace, fake_app, capsys):
    workspace.create("alpha")
    code, _, err = run(["resume", "beta"], capsys)
    assert code == 1 and "no session named 'beta'" in err and "alpha" in err and fake_app == []


def test_resume_without_name_and_no_terminal_lists_and_exits_2(workspace, fake_app, capsys, monkeypatch):
    workspace.create("alpha")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(cli, "has_terminal", lambda: False)
    code, out, err = run(["resume"], capsys)
    assert code == 2 and "alpha" in out and "tunesmith resume NAME" in err and fake_app == []


def test_resume_without_name_in_a_terminal_opens_the_picker(workspace, fake_app, capsys, monkeypatch):
    workspace.create("alpha")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    code, _, _ = run(["resume"], capsys)
    assert code == 0 and fake_app == [{"settings": fake_app[0]["settings"], "session": None, "resume": True}]


def test_resume_with_no_sessions(workspace, fake_app, capsys):
    code, _, err = run(["resume"], capsys)
    assert code == 1 and "No sessions" in err


def test_validate_good_bad_and_missing_files(tmp_path, capsys):
    pytest.importorskip("specs.validate")
    good = ROOT / "specs" / "examples" / "bank_transactions.use_case.yaml"
    code, out, _ = run(["validate", str(good)], capsys)
    assert code == 0, out
    bad = tmp_path / "use_case.yaml"
    bad.write_text(good.read_text() + "\nno_such_field: 1\n")
    broken = tmp_path / "training.yaml"
    broken.write_text("technique: [unclosed\n")
    code, out, err = run(["validate", str(bad), str(broken), str(tmp_path / "missing.yaml")], capsys)
    assert code == 1 and "Traceback" not in out + err
    assert "no_such_field" in out and str(broken) in out and "missing.yaml: no such file" in out


def test_settings_flags_win_over_env():
    env = {"TUNESMITH_MODEL": "ollama/qwen3", "TUNESMITH_HOME": "/tmp/ws", "TUNESMITH_YES": "1",
           "TUNESMITH_API_BASE": "http://127.0.0.1:9/v1"}
    settings = Settings.load(env, model="openai/gpt-4.1")
    assert settings.model == "openai/gpt-4.1" and str(settings.workspace) == "/tmp/ws"
    assert settings.yes is True and settings.api_base == "http://127.0.0.1:9/v1"
    assert settings.teacher_model == settings.judge_model == "openai/gpt-4.1"
    offline = Settings.load({})
    assert offline.offline and offline.model is None and offline.workspace == Path.cwd() / "tunesmith"
    assert Settings.load({}, teacher_model="t", judge_model="j").teacher_model == "t"


def test_settings_hold_no_secrets():
    assert not [name for name in Settings.model_fields if "key" in name or "secret" in name or "token" in name]
    assert set(ENV) == set(Settings.model_fields)
    with pytest.raises(TypeError):
        Settings.load({}, api_key="sk-nope")
    dumped = Settings.load({"OPENAI_API_KEY": "sk-test-123"}).for_tools().model_dump_json()
    assert "sk-test-123" not in dumped


def test_extra_commands_plug_in_and_missing_ones_stay_hidden(tmp_path, monkeypatch, capsys):
    (tmp_path / "fake_cmd_mod.py").write_text(textwrap.dedent(
        """
        def add_arguments(parser):
            parser.add_argument("target")

        def main(args):
            print("ran", args.target, args.model)
            return 7
        """
    ))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "EXTRA_COMMANDS", [("fake", "fake_cmd_mod", "a fake command"),
                                                 ("ghost", "no_such_module_anywhere", "never listed")])
    code, out, _ = run(["--help"], capsys)
    assert "fake" in out and "a fake command" in out and "ghost" not in out
    code, out, _ = run(["fake", "thing", "--model", "m1"], capsys)
    assert code == 7 and out.strip() == "ran thing m1"
    code, _, err = run(["ghost"], capsys)
    assert code == 2 and "invalid choice" in err


def test_a_session_open_elsewhere_is_not_opened_twice(workspace, fake_app, capsys):
    other = workspace.create("busy")
    other.lock()
    code, _, err = run(["resume", "busy"], capsys)
    assert code == 1 and "open in another tunesmith" in err and fake_app == []
    code, _, err = run(["sessions", "delete", "busy", "--yes"], capsys)
    assert code == 1 and "open in another tunesmith" in err and workspace.names() == ["busy"]
    other.close()
    assert run(["resume", "busy"], capsys)[0] == 0


def test_the_command_sets_quiet_offline_defaults_without_overriding(monkeypatch, capsys):
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP", raising=False)
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")
    run(["--version"], capsys)
    import os

    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert os.environ["TOKENIZERS_PARALLELISM"] == "true"


def test_the_tui_entry_point_has_the_expected_signature():
    import inspect

    app = pytest.importorskip("assistant.tui.app")
    params = inspect.signature(app.run_app).parameters
    assert list(params)[:2] == ["settings", "session"] and "resume" in params
