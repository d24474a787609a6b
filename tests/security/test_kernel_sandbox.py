"""Every attack in sandbox_attacks.py, run through each real tool that runs generated code:
``check_generator`` (generator.py's generate, and its verify), ``dry_run_reward`` (reward.py; only the base model's answers are
scripted) and the evaluation's custom scorer (``score_code``, what the evaluation job calls). Each
must be stopped by the kernel (nothing outside changes, no secret comes back) and reported by the
tool in words the person can read. Then the runner's own promises: never root, nothing outlives a
run, bounded memory in the parent, and the typed approval when the kernel cannot confine.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from skills.toolkit import ToolContext
from skills.settings import ToolSettings
from tests.security.sandbox_attacks import ATTACKS, REFUSED, SECRET_TEXT, Attack

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ["check_generator", "check_generator_verify", "dry_run_reward", "custom_scorer"]


def _small_shared_object() -> str:
    """The bytes of a real shared object (the smallest extension module of this Python), base64."""
    import _ctypes
    import sysconfig

    folder = Path(sysconfig.get_config_var("DESTSHARED") or os.path.dirname(_ctypes.__file__))
    candidates = sorted(folder.glob("*.so"), key=lambda p: p.stat().st_size) or [Path(_ctypes.__file__)]
    return base64.b64encode(candidates[0].read_bytes()).decode()


@pytest.fixture(scope="module")
def so_b64():
    return _small_shared_object()


@pytest.fixture
def world(tmp_path, so_b64):
    """Things outside the code's folder: a victim file, an empty folder, another session, a listener."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    os.chmod(victim, 0o644)
    other = tmp_path / "ws" / "sessions" / "other"
    other.mkdir(parents=True)
    secret = other / "conversation.jsonl"
    secret.write_text(json.dumps({"role": "user", "content": SECRET_TEXT}) + "\n")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    for path in (tmp_path, outside, other.parent, other, secret.parent):
        os.chmod(path, 0o755)  # readable by anyone: only the sandbox may stand in the way
    os.chmod(secret, 0o644)
    yield {"outside": str(outside), "victim": str(victim), "secret": str(secret), "port": server.getsockname()[1],
           "so_b64": so_b64, "server": server}
    server.close()


def _code(attack: Attack, world: dict, signature: str, result: str) -> str:
    body = attack.body.format(**{k: v for k, v in world.items() if k != "server"})
    return f"def _attack():\n{textwrap.indent(body, '    ')}\n\n\ndef {signature}:\n    leaked = _attack()\n    return {result}\n"


def _bank_session(tmp_path: Path) -> Path:
    session = tmp_path / "ws" / "sessions" / "s"
    session.mkdir(parents=True)
    for name in ("use_case", "data_generation"):
        text = (ROOT / f"specs/examples/bank_transactions.{name}.yaml").read_text()
        (session / f"{name}.yaml").write_text(text)
    from specs.data_generation import DataGenerationSpec
    from specs.yamlio import load_spec, save_spec

    spec = load_spec(session / "data_generation.yaml", DataGenerationSpec)
    gen = spec.generator.model_copy(update={"kind": "programmatic", "template": None, "code_path": "generator.py",
                                            "timeout_s": 10, "memory_mb": 512})
    save_spec(session / "data_generation.yaml", spec.model_copy(update={"generator": gen}))
    return session


def run_check_generator(tmp_path: Path, attack: Attack, world: dict, in_verify: bool = False):
    from skills.data import tools as data_tools

    session = _bank_session(tmp_path)
    records = ("[{'i': i, 'input': %s + ' coffee', 'output': 'dining', 'meta': {}} "
               "for i in range(payload['start'], payload['start'] + payload['n'])]")
    if in_verify:  # the generator is honest; its verify(record) attacks, as in the "3/3 passed"
        code = (f"def generate(payload):\n    return {records % repr('shop')}\n\n\n"
                + _code(attack, world, "verify(record)", "True"))
    else:
        code = _code(attack, world, "generate(payload)", records % "str(leaked)[:4000]")
    (session / "generator.py").write_text(code)
    ctx = ToolContext(session_dir=session, settings=ToolSettings(quality_embeddings=False))
    return data_tools.check_generator.run(ctx, data_tools.check_generator.validate({"count": 3}))


def run_dry_run_reward(tmp_path: Path, attack: Attack, world: dict, monkeypatch):
    from skills.train import runs
    from skills.train import tools as train_tools
    from tests.skills.train.test_train_fixtures import make_session

    session = make_session(tmp_path / "ws", n_train=8, n_eval=2, fmt="prompt_only")
    ctx = ToolContext(session_dir=session, approved_waivers=["no_quality_report"])
    for tool in (train_tools.write_training_plan, train_tools.write_reward):
        done = tool.run(ctx, tool.validate({}))
        assert not done.is_error, done.content

    def scripted_base_model(ctx, name, argv, run_dir):  # the base model's words, not a process
        rows = [{"prompt": "Coffee shop 4.50", "completion": "dining", "reference": "dining"},
                {"prompt": "Bus ticket 2.80", "completion": "dining", "reference": "transport"}]
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return {}

    monkeypatch.setattr(runs, "launch", scripted_base_model)
    monkeypatch.setattr(runs, "follow", lambda *a, **k: {})
    (session / "reward.py").write_text(_code(
        attack, world, "score(payload)",
        "[{'total': 1.0, 'scores': {'format': 1.0}, 'leak': str(leaked)[:4000]} for _ in payload['completions']]"))
    return train_tools.dry_run_reward.run(ctx, train_tools.dry_run_reward.validate({"samples": 2}))


def run_custom_scorer(tmp_path: Path, attack: Attack, world: dict):
    from skills.evaluate.job import score_code
    from specs.evaluation import EvaluationSpec, MetricSpec

    session = _bank_session(tmp_path)
    (session / "scorer.py").write_text(_code(attack, world, "score(prompt, output, reference)",
                                             "1.0 if leaked is None else 0.5"))
    spec = EvaluationSpec(metrics=[MetricSpec(name="attack", code="custom", params={"scorer_path": "scorer.py"})])
    rows = [{"prompt": "Coffee 4.50", "reference": "dining", "outputs": {"base": "dining"}, "scores": {"base": {}}}]
    try:
        score_code(rows, spec, ["base"], session)
    except RuntimeError as exc:
        return str(exc)
    return f"scored without error: {rows[0]['scores']}"


def _outcome(tool: str, tmp_path: Path, attack: Attack, world: dict, monkeypatch) -> str:
    """What the person sees from the tool: its error text (or, when it did not fail, everything it returned)."""
    if tool == "custom_scorer":
        return run_custom_scorer(tmp_path, attack, world)
    if tool.startswith("check_generator"):
        result = run_check_generator(tmp_path, attack, world, in_verify=tool == "check_generator_verify")
    else:
        result = run_dry_run_reward(tmp_path, attack, world, monkeypatch)
    shown = result.content + json.dumps(result.data, default=str)
    return shown if result.is_error else "the tool did not fail: " + shown


def _assert_nothing_changed(tmp_path: Path, world: dict) -> None:
    victim = Path(world["victim"])
    assert victim.read_text() == "original", "the victim file was changed"
    assert oct(victim.stat().st_mode & 0o777) == oct(0o644), "the victim's mode was changed"
    assert os.listdir(world["outside"]) == [], f"files appeared outside: {os.listdir(world['outside'])}"
    assert not Path("/tmp/tunesmith-sandbox-escape.txt").exists()
    try:
        conn, _ = world["server"].accept()
    except OSError:
        conn = None
    assert conn is None, "the code connected to the test's TCP server"
    assert os.stat(os.__file__).st_mode & 0o022 == 0, "a runtime file became writable by others"


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_stopped_and_reported_by_the_real_tool(tmp_path, world, monkeypatch, attack, tool):
    shown = _outcome(tool, tmp_path, attack, world, monkeypatch)
    _assert_nothing_changed(tmp_path, world)
    assert "3/3 passed" not in shown, shown[:800]
    if attack.leaks:
        assert SECRET_TEXT not in shown and "root:x:0:0" not in shown and "original" not in shown, shown[:800]
    expected = "|".join(re.escape(e) for e in (*attack.expect, REFUSED))
    assert re.search(expected, shown), f"{tool} did not report why {attack.name!r} failed:\n{shown[:1500]}"


def test_the_code_never_runs_as_root_and_leaves_no_process(tmp_path):
    from synth.sandbox import kernel_support, run_python

    if not kernel_support().ok:
        pytest.skip(f"this kernel cannot confine code: {kernel_support().missing}")
    code = "import os\ndef f(p):\n    return [os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), os.getpid()]\n"
    result = run_python(code, "f", None, timeout_s=10)
    uid, euid, gid, groups, pid = result.value
    assert result.ok and uid != 0 and euid != 0 and gid != 0 and 0 not in groups
    if os.geteuid() == 0:
        assert uid != os.getuid() and uid >= 0x60000000  # a uid of its own, shared with no account
    assert not os.path.exists(f"/proc/{pid}"), "the sandbox process outlived its run"


def test_parent_memory_stays_bounded_when_the_code_prints_300_mb():
    """In a fresh interpreter (so earlier tests' peaks do not hide growth): peak RSS grows by under 64 MiB."""
    probe = textwrap.dedent("""
        import resource, sys
        sys.path.insert(0, sys.argv[1])
        from synth.sandbox import run_python
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        code = "import os, sys\\ndef f(p):\\n    chunk = 'x' * (1 << 20)\\n    for _ in range(300):\\n        sys.__stdout__.write(chunk)\\n"
        result = run_python(code, "f", None, timeout_s=60, max_output_mb=400)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(result.ok or result.refused, len(result.stdout), (after - before) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", probe, str(ROOT)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    finished, kept, grew_mb = done.stdout.split()
    assert finished == "True" and int(kept) <= 20000 and int(grew_mb) < 64, done.stdout


def test_printed_text_cannot_forge_the_result():
    from synth.sandbox import run_python

    code = ("import os\ndef f(p):\n    print('@@SANDBOX_RESULT@@{\"ok\": true, \"value\": 42}')\n"
            "    os.write(1, b'0123456789abcdef0123456789abcdef\\n{\"ok\": true, \"value\": 42}')\n    os._exit(0)\n")
    result = run_python(code, "f", None, timeout_s=10)
    assert not result.ok and result.value is None
    assert "ended without a result" in result.error or result.refused


def test_threads_are_counted_by_the_process_limit():
    from synth.sandbox import kernel_support, run_python

    if not kernel_support().ok:
        pytest.skip(f"this kernel cannot confine code: {kernel_support().missing}")
    code = "import threading\ndef f(p):\n    threading.Thread(target=print).start()\n"
    result = run_python(code, "f", None, timeout_s=10)
    assert not result.ok and "can't start new thread" in result.error


def test_without_kernel_confinement_code_runs_only_after_the_typed_approval(tmp_path, monkeypatch):
    from assistant.sandbox_cmd import allow_unconfined
    from synth import sandbox

    monkeypatch.setenv("TUNESMITH_SANDBOX_PRETEND_MISSING", "Landlock")
    sandbox.kernel_support.cache_clear()
    try:
        session = _bank_session(tmp_path)
        (session / "generator.py").write_text(
            "def generate(payload):\n    return [{'i': i, 'input': 'coffee 4.50', 'output': 'dining', 'meta': {}}"
            " for i in range(payload['start'], payload['start'] + payload['n'])]\n")
        from skills.data import tools as data_tools

        ctx = ToolContext(session_dir=session, settings=ToolSettings(quality_embeddings=False))
        refused = data_tools.check_generator.run(ctx, data_tools.check_generator.validate({"count": 3}))
        assert refused.is_error and REFUSED in refused.content and "Landlock" in refused.content
        answers = iter(["yes"])
        assert allow_unconfined(session, ask=lambda prompt: next(answers), interactive=True) == 1  # a wrong phrase
        assert not sandbox.unconfined_approved(session)
        assert allow_unconfined(session, ask=lambda prompt: "run unconfined", interactive=False) == 2  # no terminal
        assert not sandbox.unconfined_approved(session)
        assert allow_unconfined(session, ask=lambda prompt: "run unconfined", interactive=True) == 0
        assert sandbox.unconfined_approved(session)
        ran = data_tools.check_generator.run(ctx, data_tools.check_generator.validate({"count": 3}))
        assert not ran.is_error and "3/3 passed" in ran.content, ran.content
    finally:
        monkeypatch.delenv("TUNESMITH_SANDBOX_PRETEND_MISSING")
        sandbox.kernel_support.cache_clear()
    assert not sandbox.unconfined_approved(session), "an approval must not apply where the kernel can confine"



def test_sandbox_command_says_what_confines_code_here(capsys):
    from assistant.cli import main
    from synth.sandbox import kernel_support

    assert main(["sandbox"]) == 0
    printed = capsys.readouterr().out
    if kernel_support().ok:
        assert "confined by the kernel" in printed and "Landlock ABI" in printed and "Start-up cost" in printed
    else:
        assert "cannot confine" in printed and "allow-unconfined" in printed


def test_the_custom_scorer_sees_only_a_copy_of_itself_and_of_what_it_scores(tmp_path):
    from skills.evaluate.job import score_code
    from specs.evaluation import EvaluationSpec, MetricSpec

    session = _bank_session(tmp_path)
    (session / "session.json").write_text('{"approval_rules": {}}')
    (session / "scorer.py").write_text(
        "import json, os\n"
        "def score(prompt, output, reference):\n"
        "    names = sorted(os.listdir('.'))\n"
        "    items = [json.loads(line) for line in open('items.jsonl')]\n"
        "    return 1.0 if names == ['items.jsonl', 'scorer.py'] and items[0]['output'] == output else 0.0\n")
    spec = EvaluationSpec(metrics=[MetricSpec(name="own", code="custom", params={"scorer_path": "scorer.py"})])
    rows = [{"prompt": "Coffee 4.50", "reference": "dining", "outputs": {"base": "dining"}, "scores": {"base": {}}}]
    score_code(rows, spec, ["base"], session)
    assert rows[0]["scores"]["base"]["own"] == 1.0


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
            if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
                found.append(int(entry))
        except (OSError, KeyError, ValueError):
            continue
    return found


def test_nothing_outlives_a_run_not_even_a_setsid_child(tmp_path):
    import time

    from synth.sandbox import run_python

    marker = tmp_path / "late.txt"
    os.chmod(tmp_path, 0o777)
    code = ("import os, time\ndef f(p):\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(1)\n"
            f"        open({str(marker)!r}, 'w').write('still here')\n        os._exit(0)\n    return 'parent'\n")
    result = run_python(code, "f", None, timeout_s=10)
    assert not result.ok
    time.sleep(1.5)
    assert not marker.exists()
    if os.geteuid() == 0:  # the run's own uid: no process of it is left
        assert result.uid is not None and f"user {result.uid} (not root)" in result.isolation
        assert _processes_of(result.uid) == []
