"""Generated code (data generators, verifiers, reward.py) runs in synth.sandbox.run_python: code that
loops forever or allocates too much memory is stopped, through run_python and through the real
callers (generate_dataset for generator code, skills.train.scoring for reward.py), and the failure
comes back as a clear error. test_kernel_sandbox.py runs the attack matrix (sandbox_attacks.py:
absolute writes, os.open, symlinks, os.system, fork_exec, ...) through every tool that runs generated
code; here are the escapes it lacks (a relative path, a rename out of the folder, a write through
libc) and the writes inside the folder that must keep working. tests/synth/test_sandbox.py covers
the basic limits.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from synth.sandbox import run_python

ROOT = Path(__file__).resolve().parents[2]

LOOP = "def {fn}(p):\n    while True:\n        pass\n"
SLEEP_LOOP = "import time\ndef {fn}(p):\n    while True:\n        time.sleep(0.1)\n"
HOG = "def {fn}(p):\n    blocks = []\n    while True:\n        blocks.append(bytearray(50 * 1024 * 1024))\n"


def escape_code(fn: str, target: Path, how: str) -> str:
    bodies = {
        "relative": "    open('../" + target.name + "', 'w').write('pwned')\n",
        "rename": f"    import os\n    open('x', 'w').write('pwned')\n    os.rename('x', {str(target)!r})\n",
        "ctypes": f"    import ctypes\n    libc = ctypes.CDLL(None, use_errno=True)\n"
                  f"    if libc.creat({str(target).encode()!r}, 0o644) < 0:\n"
                  f"        raise OSError(ctypes.get_errno(), 'creat failed')\n",
    }
    return f"def {fn}(p):\n{bodies[how]}    return []\n"


@pytest.mark.parametrize("code", [LOOP, SLEEP_LOOP])
def test_code_that_never_ends_is_killed_and_reported(code):
    result = run_python(code.format(fn="f"), "f", None, timeout_s=1.5)
    assert not result.ok and result.killed and "timed out" in result.error


def test_code_that_eats_memory_is_stopped_and_reported():
    result = run_python(HOG.format(fn="f"), "f", None, timeout_s=30, memory_mb=256)
    assert not result.ok and "memory" in result.error.lower()


@pytest.mark.parametrize("how", ["relative", "rename", "ctypes"])
def test_writing_outside_its_folder_is_refused_and_reported(tmp_path, how):
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    target = outside / "escaped.txt"
    if how == "relative":
        target = tmp_path / "escaped.txt"
    result = run_python(escape_code("f", target, how), "f", None, timeout_s=10, cwd=work)
    assert not result.ok, f"{how}: the escape was not stopped"
    assert any(word in result.error for word in ("PermissionError", "FileNotFoundError", "SIGSYS", "OSError")), result.error
    assert not target.exists()
    assert not list(outside.iterdir())


def test_writing_inside_its_folder_still_works(tmp_path):
    code = ("import os, tempfile\ndef f(p):\n    os.makedirs('a/b')\n    open('a/b/c.txt', 'w').write('ok')\n"
            "    os.rename('a/b/c.txt', 'd.txt')\n    tempfile.NamedTemporaryFile().close()\n    return open('d.txt').read()\n")
    result = run_python(code, "f", None, timeout_s=10, cwd=tmp_path)
    assert result.ok and result.value == "ok"


@pytest.fixture
def bank(tmp_path):
    session = tmp_path / "session"
    session.mkdir()
    for name in ("use_case", "data_generation"):
        shutil.copy(ROOT / f"specs/examples/bank_transactions.{name}.yaml", session / f"{name}.yaml")
    from specs.data_generation import DataGenerationSpec
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    return session, load_spec(session / "use_case.yaml", UseCaseSpec), load_spec(session / "data_generation.yaml", DataGenerationSpec)


@pytest.mark.parametrize("threat", ["loop", "memory"])
def test_generated_generator_code_is_stopped_and_reported(bank, threat):
    from synth.generate import GenerationError, generate_dataset

    session, use_case, spec = bank
    code = {"loop": LOOP.format(fn="generate"), "memory": HOG.format(fn="generate")}[threat]
    (session / "generator.py").write_text(code)
    gen = spec.generator.model_copy(update={"kind": "programmatic", "template": None, "code_path": "generator.py",
                                            "timeout_s": 2, "memory_mb": 256})
    small = spec.model_copy(update={"generator": gen, "train_count": 10, "eval_count": 2})
    with pytest.raises(GenerationError) as caught:
        generate_dataset(session, use_case, small)
    expected = {"loop": "timed out", "memory": "memory"}[threat]
    assert expected in str(caught.value).lower(), str(caught.value)
    assert not (session / "data" / "train.jsonl").exists()


@pytest.mark.parametrize("threat", ["loop", "memory"])
def test_reward_code_is_stopped_and_reported(tmp_path, threat):
    from skills.train.scoring import RewardError, code_scores
    from specs.reward import RewardSpec
    from specs.yamlio import load_spec

    session = tmp_path / "session"
    session.mkdir()
    spec = load_spec(ROOT / "specs/examples/bank_transactions.reward.yaml", RewardSpec)
    spec = spec.model_copy(update={"timeout_s": 2, "memory_mb": 256})
    code = {"loop": LOOP.format(fn="score"), "memory": HOG.format(fn="score")}[threat]
    (session / "reward.py").write_text(code)
    with pytest.raises(RewardError) as caught:
        code_scores(session, spec, ["p"], ["groceries"], ["groceries"])
    message = str(caught.value).lower()
    assert {"loop": "timed out", "memory": "memory"}[threat] in message, message
    json.dumps(str(caught.value))  # the message is plain text the model and the person can read
