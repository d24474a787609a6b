"""Discover skills: each folder under skills/ with a SKILL.md is a workflow step."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from skills.toolkit import Tool

SKILLS_DIR = Path(__file__).resolve().parent
ORDER = ["use_case", "data", "train", "evaluate", "export"]
"""The journey's steps in order."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class SkillFormatError(ValueError):
    """A SKILL.md whose frontmatter is missing or invalid."""


@dataclass
class Skill:
    name: str
    description: str
    folder: Path
    meta: dict[str, Any] = field(default_factory=dict)

    def body(self) -> str:
        """The playbook text, loaded when the step starts."""
        return parse_skill_md(self.folder / "SKILL.md")[1]

    def tools(self) -> list[Tool]:
        """Tools declared in the step's tools.py (module-level Tool objects)."""
        if not (self.folder / "tools.py").exists():
            return []
        module = importlib.import_module(f"skills.{self.name}.tools")
        found = [value for value in vars(module).values() if isinstance(value, Tool)]
        for item in found:
            item.skill = self.name
        return found

    def guide(self) -> Any | None:
        if not (self.folder / "guide.py").exists():
            return None
        return importlib.import_module(f"skills.{self.name}.guide")


def parse_skill_md(path: Path) -> tuple[dict[str, str], str]:
    """Split a SKILL.md into (frontmatter, body); raise SkillFormatError naming the problem."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise SkillFormatError(f"{path}: line 1: SKILL.md must start with a '---' frontmatter block")
    end = text.find("\n---", 4)
    if end == -1:
        raise SkillFormatError(f"{path}: frontmatter is not closed with '---'")
    meta: dict[str, str] = {}
    for lineno, line in enumerate(text[4:end].splitlines(), start=2):
        if not line.strip():
            continue
        if ":" not in line:
            raise SkillFormatError(f"{path}: line {lineno}: expected 'key: value', got {line!r}")
        key, value = line.split(":", 1)
        meta[key.strip()] = value.strip().strip('"')
    for key in ("name", "description"):
        if not meta.get(key):
            raise SkillFormatError(f"{path}: frontmatter field '{key}' is missing or empty")
    if not _NAME.match(meta["name"]):
        raise SkillFormatError(f"{path}: frontmatter name {meta['name']!r} must be lowercase letters, digits, '_'")
    if meta["name"] != path.parent.name:
        raise SkillFormatError(f"{path}: frontmatter name {meta['name']!r} differs from its folder {path.parent.name!r}")
    body = text[end + 4 :].lstrip("\n")
    return meta, body


@lru_cache(maxsize=1)
def discover() -> tuple[Skill, ...]:
    """All skills, in journey order (then alphabetical)."""
    found = []
    for md in sorted(SKILLS_DIR.glob("*/SKILL.md")):
        meta, _ = parse_skill_md(md)
        found.append(Skill(meta["name"], meta["description"], md.parent, meta))
    rank = {name: i for i, name in enumerate(ORDER)}
    return tuple(sorted(found, key=lambda s: (rank.get(s.name, len(ORDER)), s.name)))


def get(name: str) -> Skill:
    for skill in discover():
        if skill.name == name:
            return skill
    raise KeyError(f"no skill named {name!r}")


def tools_for_step(step: str, tools: Iterable[Tool]) -> list[Tool]:
    """The tools a request offers in ``step``: that step's own tools and every tool of no step (the
    common ones), in the given order; tools whose permission is ``never`` are left out."""
    return [item for item in tools if item.permission != "never" and item.skill in (None, step)]
