"""Layers: imports flow one way, `assistant.tui -> assistant -> skills -> synth -> specs`.

Two checks. Statically (ast, every import in every module, lazy ones included): no import runs
against the direction, textual only under assistant/tui/, litellm only in the two LLM modules,
torch & co. never at module level outside job scripts, subprocess only in the job runner
(assistant/jobs.py) and the few listed modules that wait for a child within one call, only the
runner names its own files (a job's .exit and .log), no product module imports tests/ (test and
bench helpers live there), control flow asks a technique's properties instead of comparing it with
its names, and assistant/tui/ imports specs, synth and skills only for types, under
`if TYPE_CHECKING:` (the face asks the engine). Dynamically: every app module is imported in a
fresh process and `sys.modules` must hold no textual (outside assistant.tui), no torch,
transformers, trl, peft, accelerate or sentence_transformers, and no module of a higher layer.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

JOB_ONLY_MODULES: set[str] = set()
"""Modules only job scripts import (they may import heavy libraries at module level). Extend
with a comment saying which job uses it. Job scripts `skills/*/job.py` are always job-only."""

LAYERS = ("specs", "synth", "skills", "assistant", "assistant.tui")
"""Lowest first: a module may import its own layer and the ones before it."""

HEAVY = ("torch", "transformers", "trl", "peft", "accelerate", "sentence_transformers")
LITELLM_ALLOWED = {"assistant.model", "synth.llm"}
"""The planner and the teacher/judge client: the only modules that talk to litellm."""

MCP_ALLOWED = {"assistant.mcp_server", "assistant.mcp_gate", "assistant.mcp_engine_tools"}
"""The MCP server (`tunesmith mcp`): the only modules that import the mcp package; the command line
imports them only when that command runs, so `tunesmith --help` stays instant."""
MCP = ("mcp", "mcp_types")

PROCESS_MODULES = ("subprocess", "multiprocessing")
LAUNCHER = "assistant.jobs"
"""The engine's job runner: the one home of background processes (start, watch, cancel, reattach).
Skills reach it through skills/jobcontrol.py (``ctx.jobs``); the TUI through JobRunner itself."""
SUBPROCESS_ALLOWED = {
    LAUNCHER: "the job runner",
    "assistant.mlflow_cmd": "`tunesmith mlflow` runs the MLflow UI in the foreground until ctrl+c",
    "assistant.tui.screens.editor": "the person's $EDITOR, in the foreground, while the app is suspended",
    "synth.sandbox": "generated code runs in a confined child and is waited for within the call",
    "synth.embed": "the MiniLM embedding spread runs in a child (torch stays out of the app), waited for",
    "synth.tokens": "a tokenizer is converted once from the GGUF in a child, waited for",
}
"""Modules that may import subprocess or multiprocessing, with why; job scripts may too (their tools)."""

STEP_SHARED = "skills.common"
"""Code the steps share (base model, checkpoints, tracking, threads, job helpers, progress events).
A step folder `skills/<step>/` may import its own folder, this package, the toolkit modules at the top
of skills/ (toolkit, jobcontrol, ...), synth and specs; never another step. skills/common imports no step."""
UPWARD_ALLOWED = {("assistant.cli", "assistant.tui")}
"""(module, layer it may import lazily, inside a function): the command line starts the app."""

ENGINE_ONLY_FOR_THE_FACE = ("specs", "synth", "skills")
"""Layers assistant/tui/ may import only for types (under ``if TYPE_CHECKING:``): the screens render
events and engine results; reading, validating and writing a session's files goes through the engine
(assistant/session_files.py, assistant/steps.py, the agent's tools)."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _app_modules() -> dict[str, Path]:
    found = {}
    for package in ("assistant", "skills", "synth", "specs"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _app_modules()


def _is_job_only(module: str) -> bool:
    parts = module.split(".")
    is_job_script = len(parts) == 3 and parts[0] == "skills" and parts[2] == "job"
    return is_job_script or module in JOB_ONLY_MODULES


def _step(module: str) -> str | None:
    """The step folder a skills module belongs to (``skills.<step>...``), "common" for the shared
    package, None for the toolkit modules at the top of skills/ and for other packages."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "skills" or not (ROOT / "skills" / parts[1]).is_dir():
        return None
    return parts[1]


def _layer(module: str) -> int | None:
    """Index in LAYERS of a first-party module, None for third-party ones."""
    if module == "assistant.tui" or module.startswith("assistant.tui."):
        return LAYERS.index("assistant.tui")
    top = module.split(".")[0]
    return LAYERS.index(top) if top in LAYERS else None


def _is_type_checking(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``): imports there never run."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, path: Path, *, runtime_only: bool = False) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import statement in the file; with
    ``runtime_only``, leaving out those under ``if TYPE_CHECKING:`` (types for annotations only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if runtime_only and _is_type_checking(child):
                for orelse in child.orelse:
                    visit(ast.Module(body=[orelse], type_ignores=[]), top_level)
                continue
            nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, top_level) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    found.append((candidate if candidate in MODULES else base, child.lineno, top_level))
            visit(child, top_level and not nested)

    visit(tree, True)
    return found


def _static_problems(module: str, path: Path) -> list[str]:
    problems = []
    own = _layer(module)
    in_tui = own == LAYERS.index("assistant.tui")
    for target, line, top_level in _imports(module, path):
        where = f"{path.relative_to(ROOT)}:{line}"
        root = target.split(".")[0]
        layer = _layer(target)
        if layer is not None and own is not None and layer > own:
            allowed = (module, LAYERS[layer]) in UPWARD_ALLOWED and not top_level
            if not allowed:
                problems.append(f"{where}: {module} ({LAYERS[own]}) imports {target} ({LAYERS[layer]}), against the layers")
        if root == "textual" and not in_tui:
            problems.append(f"{where}: textual imported outside assistant/tui/")
        step, target_step = _step(module), _step(target)
        if step is not None and target_step not in (None, step, "common"):
            problems.append(f"{where}: {module} imports {target}: a step never imports another step; "
                            f"shared step code lives in {STEP_SHARED} (skills/common/)")
        if root == "litellm" and module not in LITELLM_ALLOWED:
            problems.append(f"{where}: litellm imported outside {sorted(LITELLM_ALLOWED)}")
        if root in MCP and module not in MCP_ALLOWED:
            problems.append(f"{where}: {root} imported outside {sorted(MCP_ALLOWED)}")
        if root == "tests":
            problems.append(f"{where}: product code imports {target}; test and bench helpers live under tests/ only")
        if root in PROCESS_MODULES and module not in SUBPROCESS_ALLOWED and not _is_job_only(module):
            problems.append(f"{where}: {root} imported; background processes are started by {LAUNCHER} "
                            "(skills: ctx.jobs, skills/jobcontrol.py)")
        if root in HEAVY and top_level and not _is_job_only(module):
            problems.append(f"{where}: {root} imported at module level; import it inside the function a job runs")
    if in_tui:
        for target, line, _ in _imports(module, path, runtime_only=True):
            if target.split(".")[0] in ENGINE_ONLY_FOR_THE_FACE:
                problems.append(f"{path.relative_to(ROOT)}:{line}: the face imports {target} at run time; ask the "
                                "engine (assistant/session_files.py, assistant/steps.py) and import it only for types, "
                                "under `if TYPE_CHECKING:`")
    return problems


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers(module):
    assert _static_problems(module, MODULES[module]) == []


def test_the_layer_check_catches_violations(tmp_path, monkeypatch):
    """The checker itself: a specs module importing upward and a skill importing textual fail."""
    bad = tmp_path / "specs" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("import torch\nfrom assistant.session import Workspace\n\ndef f():\n    import textual\n    from synth import llm\n"
                   "    import mcp_types\n    import subprocess\n    from tests.fake_openai import FakeOpenAI\n")
    face = tmp_path / "assistant" / "tui" / "screen.py"
    face.parent.mkdir(parents=True)
    face.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from specs.quality import Finding\n"
                    "def f():\n    from synth.quality import load_report\n")
    for folder in ("data", "train", "common"):
        (tmp_path / "skills" / folder).mkdir(parents=True)
    step = tmp_path / "skills" / "data" / "bad.py"
    step.write_text("from skills.train.runs import launch\nfrom skills.common.basemodel import cache_root\n"
                    "from skills.toolkit import tool\nfrom skills.data.access import SPEC_FILE\n")
    shared = tmp_path / "skills" / "common" / "bad.py"
    shared.write_text("def f():\n    from skills.data import tools\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    face_problems = _static_problems("assistant.tui.screen", face)
    assert len(face_problems) == 1 and "imports synth.quality at run time" in face_problems[0]
    problems = "\n".join(_static_problems("specs.bad", bad))
    assert "against the layers" in problems and "textual" in problems and "module level" in problems
    assert "mcp_types imported outside" in problems
    assert "subprocess imported; background processes are started by assistant.jobs" in problems
    assert "product code imports tests.fake_openai" in problems
    assert problems.count("against the layers") == 2
    step_problems = _static_problems("skills.data.bad", step) + _static_problems("skills.common.bad", shared)
    assert [p.split(":")[1] for p in step_problems] == ["1", "2"], step_problems
    assert all("a step never imports another step" in p for p in step_problems)


def test_every_job_script_writes_progress_through_the_one_writer():
    """A module that takes ``--events`` (a job script) writes its progress events with
    skills/common/events.py, not by hand."""
    takers = sorted(m for m, path in MODULES.items()
                    if m.startswith("skills.") and 'add_argument("--events"' in path.read_text(encoding="utf-8"))
    assert len(takers) >= 5, takers
    by_hand = [m for m in takers if "skills.common.events" not in {t for t, _, _ in _imports(m, MODULES[m])}]
    assert by_hand == [], f"job scripts writing events by hand: {by_hand}; use skills.common.events.ProgressEvents"


RUNNER_FILES = (".exit", ".log")
"""Suffixes of the files the job runner keeps per job (``jobs/<id>.exit``, ``jobs/<id>.log``): private to it."""


def test_only_the_runner_names_its_own_files():
    """Nothing outside assistant/jobs.py reads a job's exit marker or log file: skills ask ``ctx.jobs``
    (``handle.status()``, ``handle.log_tail()``), the face asks the runner's Job."""
    found = []
    for module, path in MODULES.items():
        if module == LAUNCHER:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith(RUNNER_FILES):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert found == [], "the job runner's files are its own; ask it instead:\n" + "\n".join(found)


def _names_technique(node: ast.AST) -> bool:
    """``technique``, ``plan.technique``, or a tuple holding one (``(technique, adapter)``)."""
    if isinstance(node, ast.Tuple):
        return any(_names_technique(item) for item in node.elts)
    return (isinstance(node, ast.Name) and node.id == "technique") or (
        isinstance(node, ast.Attribute) and node.attr == "technique")


def _spells_a_technique(node: ast.AST) -> bool:
    """A technique written out: "sft", Technique.DPO, or a tuple/list/set of them."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return bool(node.elts) and all(_spells_a_technique(item) for item in node.elts)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Technique"


def _technique_comparisons(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_names_technique(side) for side in sides) and any(_spells_a_technique(side) for side in sides):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_control_flow_asks_the_technique_not_its_name():
    """Code decides by ``Technique``'s properties (is_rl, needs_reward, needs_judge, needs_pairs, needs_gold,
    needs_reference_model), never by comparing a technique with its spelled-out names."""
    found = [hit for module, path in MODULES.items() if not module.startswith("specs.") for hit in _technique_comparisons(path)]
    assert found == [], "ask specs.training.Technique's properties instead:\n" + "\n".join(found)


def test_the_technique_check_catches_names(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    bad = tmp_path / "bad.py"
    bad.write_text("if plan.technique in ('rlvr', 'rlaif'):\n    pass\nok = technique.is_rl and technique == Technique.SFT\n"
                   "fine = plan.technique.needs_gold and adapter == 'full'\nfull_sft = (technique, adapter) == ('sft', 'full')\n"
                   "chosen = (technique, adapter) == (rec.technique, rec.adapter)\n")
    assert sorted(int(hit.split(":")[1]) for hit in _technique_comparisons(bad)) == [1, 3, 5]


# -- dynamic: import each module in a fresh process --------------------------------------------------

# One helper process imports nothing of ours; for each module it forks a child that imports just
# that module and reports which modules got loaded. Forking skips interpreter start-up per module.
_PROBE = textwrap.dedent(
    """
    import json, os, sys
    import pydantic  # allowed everywhere; loaded once so each child is quick
    results = {}
    for name in json.loads(sys.argv[1]):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            try:
                __import__(name)
                report = {"loaded": sorted(sys.modules)}
            except BaseException as exc:
                report = {"error": f"{type(exc).__name__}: {exc}"}
            with os.fdopen(write_fd, "w") as out:
                out.write(json.dumps(report))
            os._exit(0)
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        results[name] = json.loads(data) if data else {"error": "the import crashed the process"}
    print("RESULTS=" + json.dumps(results))
    """
)


def _importable(module: str) -> bool:
    return not _is_job_only(module) and not module.endswith("__main__")


@pytest.fixture(scope="module")
def loaded_by_module() -> dict[str, dict]:
    names = sorted(m for m in MODULES if _importable(m))
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(names)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.split("RESULTS=")[-1])


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _importable(m)))
def test_importing_loads_nothing_it_must_not(module, loaded_by_module):
    report = loaded_by_module[module]
    assert "error" not in report, f"import {module} failed: {report.get('error')}"
    loaded = set(report["loaded"])
    roots = {name.split(".")[0] for name in loaded}
    own = _layer(module)
    heavy = sorted(roots & set(HEAVY))
    assert not heavy, f"import {module} loads {heavy}; only job scripts may"
    if own != LAYERS.index("assistant.tui"):
        assert "textual" not in roots, f"import {module} loads textual outside assistant/tui/"
    if module not in MCP_ALLOWED:
        assert not roots & set(MCP), f"import {module} loads the mcp package outside {sorted(MCP_ALLOWED)}"
    above = sorted(name for name in loaded if (_layer(name) or 0) > (own or 0) and name in MODULES)
    assert not above, f"import {module} loads modules of a higher layer: {above}"


def test_the_probe_sees_what_a_module_loads(loaded_by_module):
    loaded = set(loaded_by_module["assistant.session"]["loaded"])
    assert {"assistant.session", "specs.io", "pydantic"} <= loaded


def test_house_rules_hold():
    """ruff, as configured in pyproject.toml (make test runs it too): a finding names file, line and rule."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", str(ROOT)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
