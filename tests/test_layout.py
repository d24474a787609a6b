"""Tests are laid out as the packages are: a rule a new test file or a new package can fail.

tests/<package>/ holds the tests of <package>/ (assistant, skills, synth, specs); tests/tui/ those of
the assistant.tui layer; tests/skills/<sub>/ those of each package folder under skills/ (the five
steps and skills/common/, the shared step code). A test directly under tests/skills/ tests skills'
own top-level modules (catalog, toolkit, common_tools, ...) and imports no package under skills/; a
test named for a step (test_train_*, test_eval_*, ...) lives in that step's folder; a test in
tests/skills/<sub>/ imports skills.<sub> when it imports any package under skills/, and is named for
<sub> when it imports none. Four folders test across the layers (ACROSS); the two checks of the
whole layout (this file and test_layers.py) sit at the top. Every product package folder has its
test folder, snapshots sit beside their test, and test file names are unique: pytest imports them
by basename (no __init__.py).
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PACKAGES = ("assistant", "skills", "synth", "specs")
"""The layers' top-level packages; each has tests/<package>/."""

TUI = ("assistant/tui", "tests/tui")
"""The assistant.tui layer (see test_layers.LAYERS) is tested in tests/tui/, its snapshots beside it."""

ACROSS = {
    "tests/bench": "`make bench` (run.py), the measuring scripts it runs, its committed report and the README table (table.py), and a check of them",
    "tests/faults": "killed processes, a full disk, broken storage and teachers, through the real command",
    "tests/security": "confinement of model-written code and of the agent's file access, across the layers",
    "tests/suite": "headless journeys of ten use cases through every step",
}
"""Test folders that mirror no one package, with why."""

TOP_LEVEL = {
    "test_layers.py": "imports flow one way through every package",
    "test_layout.py": "this file: tests mirror the packages",
}
"""The only test files directly under tests/: checks of the whole layout."""

STEP_ALIASES = {"evaluate": ("eval",)}
"""Short names a step's test files may use instead of the step's own (test_eval_metrics.py)."""


def _steps(root: Path) -> list[str]:
    """The workflow steps: folders under skills/ with a SKILL.md (as skills.catalog discovers them)."""
    return sorted(p.parent.name for p in (root / "skills").glob("*/SKILL.md"))


def _skills_subpackages(root: Path) -> list[str]:
    """Folders directly under skills/ that hold Python modules: the steps and shared step code."""
    return sorted(p.name for p in (root / "skills").iterdir()
                  if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py")))


def _mirrors(root: Path) -> dict[str, str]:
    """test folder -> the product folder it tests."""
    found = {f"tests/{package}": package for package in PACKAGES}
    found[TUI[1]] = TUI[0]
    found.update({f"tests/skills/{sub}": f"skills/{sub}" for sub in _skills_subpackages(root)})
    return found


def _test_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "tests").rglob("test_*.py") if "__pycache__" not in p.parts)


def _imported(path: Path) -> set[str]:
    """Every module a file imports, lazy imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _skills_packages_imported(imported: set[str], root: Path) -> list[str]:
    """The folders under skills/ whose modules a test imports (skills.train.plan -> train)."""
    subs = _skills_subpackages(root)
    return sorted({m.split(".")[1] for m in imported if m.startswith("skills.") and m.split(".")[1] in subs})


def _prefixes(step: str) -> tuple[str, ...]:
    return tuple(f"test_{name}_" for name in (step, *STEP_ALIASES.get(step, ())))


def _named_for(name: str, step: str) -> bool:
    return name.startswith(_prefixes(step)) or name == f"test_{step}.py"


def layout_problems(root: Path) -> list[str]:
    """Every way the tests under root/tests/ stray from the packages under root, one line each."""
    mirrors = _mirrors(root)
    steps = _steps(root)
    problems = []
    for folder, product in sorted(mirrors.items()):
        if not any((root / folder).glob("test_*.py")):
            problems.append(f"{product}/ has no tests: add {folder}/test_*.py")
    for path in _test_files(root):
        where = path.relative_to(root)
        folder = where.parent.as_posix()
        name = path.name
        if folder == "tests":
            if name not in TOP_LEVEL:
                problems.append(f"{where}: a test file at the top of tests/; move it into the folder of the package "
                                f"it tests ({', '.join(sorted(mirrors))})")
            continue
        if folder not in mirrors and folder not in ACROSS:
            problems.append(f"{where}: {folder}/ mirrors no package; put the file under {', '.join(sorted(mirrors))}, "
                            f"or name the folder in ACROSS with why")
            continue
        if not folder.startswith("tests/skills"):
            continue
        named = [step for step in steps if _named_for(name, step)]
        if named and folder != f"tests/skills/{named[0]}":
            problems.append(f"{where}: named for the {named[0]} step; it belongs in tests/skills/{named[0]}/")
            continue
        imported = _imported(path)
        if folder == "tests/skills":
            into = _skills_packages_imported(imported, root)
            if into:
                problems.append(f"{where}: imports skills.{into[0]}; tests/skills/ itself holds the tests of skills' "
                                f"top-level modules, so it belongs in tests/skills/{into[0]}/")
            continue
        sub = folder.split("/")[2]
        packages = _skills_packages_imported(imported, root)
        if packages and sub not in packages:
            problems.append(f"{where}: imports skills.{packages[0]} but not skills.{sub}; "
                            f"it belongs in tests/skills/{packages[0]}/")
        elif not packages and not _named_for(name, sub):
            problems.append(f"{where}: neither named for {sub} (test_{sub}_*) nor importing skills.{sub}; "
                            f"move it beside the package it tests")
    for shots in sorted((root / "tests").rglob("__snapshots__/*")):
        if shots.is_dir() and not (shots.parent.parent / f"{shots.name}.py").exists():
            problems.append(f"{shots.relative_to(root)}: no {shots.name}.py beside __snapshots__/; "
                            f"pytest-textual-snapshot looks for the SVGs next to their test")
    for name, count in sorted(Counter(p.name for p in _test_files(root)).items()):
        if count > 1:
            problems.append(f"tests/**/{name}: {count} test files share this name; pytest imports them by basename")
    return problems


def test_tests_mirror_the_packages():
    assert layout_problems(ROOT) == []


def test_the_layout_check_catches_strays(tmp_path):
    """The checker itself, on a made-up checkout: each kind of stray is named."""
    files = {
        "assistant/cli.py": "", "assistant/tui/app.py": "", "synth/llm.py": "", "specs/io.py": "",
        "skills/toolkit.py": "", "skills/train/SKILL.md": "", "skills/train/job.py": "",
        "skills/evaluate/SKILL.md": "", "skills/evaluate/job.py": "", "skills/common/tracking.py": "",
        "tests/test_layers.py": "", "tests/test_cli.py": "", "tests/misc/test_other.py": "",
        "tests/assistant/test_agent.py": "", "tests/tui/test_app.py": "", "tests/synth/test_llm.py": "",
        "tests/specs/test_io.py": "",
        "tests/skills/test_toolkit.py": "from skills.train import job\n",
        "tests/skills/test_eval_metrics.py": "", "tests/skills/train/test_launch.py": "from skills.common import tracking\n",
        "tests/skills/train/test_train_jobs.py": "", "tests/skills/train/test_stray.py": "",
        "tests/tui/__snapshots__/test_app/screen.svg": "", "tests/tui/__snapshots__/test_moved/screen.svg": "", "tests/skills/evaluate/test_agent.py": "from skills.evaluate import job\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    problems = "\n".join(layout_problems(tmp_path))
    assert "skills/common/ has no tests: add tests/skills/common/test_*.py" in problems
    assert "tests/test_cli.py: a test file at the top of tests/" in problems
    assert "tests/test_layers.py" not in problems
    assert "tests/misc/test_other.py: tests/misc/ mirrors no package" in problems
    assert "tests/skills/test_toolkit.py: imports skills.train" in problems
    assert "tests/skills/test_eval_metrics.py: named for the evaluate step; it belongs in tests/skills/evaluate/" in problems
    assert "tests/skills/train/test_launch.py: imports skills.common but not skills.train; it belongs in tests/skills/common/" in problems
    assert "tests/skills/train/test_stray.py: neither named for train" in problems
    assert "tests/skills/train/test_train_jobs.py" not in problems
    assert "tests/**/test_agent.py: 2 test files share this name" in problems
    assert "tests/tui/__snapshots__/test_moved: no test_moved.py beside __snapshots__/" in problems
    assert "__snapshots__/test_app" not in problems
    assert len(problems.splitlines()) == 9, problems
