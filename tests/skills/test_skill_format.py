"""Every shipped SKILL.md has valid frontmatter whose name is its folder; bad ones are refused clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skills.catalog import ORDER, SKILLS_DIR, SkillFormatError, discover, parse_skill_md

SHIPPED = sorted(SKILLS_DIR.glob("*/SKILL.md"))


def test_every_step_of_the_journey_has_a_skill():
    names = [skill.name for skill in discover()]
    assert names[: len(ORDER)] == ORDER


@pytest.mark.parametrize("path", SHIPPED, ids=[p.parent.name for p in SHIPPED])
def test_shipped_skill_md_is_valid(path: Path):
    meta, body = parse_skill_md(path)
    assert meta["name"] == path.parent.name
    assert len(meta["description"]) >= 40, "the description must say when to use the skill"
    assert any(w in meta["description"].lower() for w in ("use ", "when ")), "the description says when to use it"
    assert body.strip(), "the playbook body is empty"
    assert len(body.splitlines()) <= 80, "keep the playbook short; put details in references/"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.parent.name for p in SHIPPED])
def test_references_named_in_a_playbook_exist(path: Path):
    _, body = parse_skill_md(path)
    for word in body.replace("(", " ").replace(")", " ").split():
        word = word.strip("`.,;:")
        if word.startswith("references/"):
            assert (path.parent / word).exists(), f"{path} names {word}, which does not exist"
    for skill, page in re.findall(r'read_reference\(skill="(\w+)", name="([\w.-]+)"\)', body):
        assert (SKILLS_DIR / skill / "references" / page).exists(), f"{path} points at {skill}/references/{page}"


def _write(tmp_path: Path, folder: str, text: str) -> Path:
    target = tmp_path / folder / "SKILL.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("folder", "text", "expected"),
    [
        ("demo", "# Demo\nno frontmatter here\n", "must start with a '---' frontmatter block"),
        ("demo", "---\nname: demo\ndescription: Use when testing.\n", "not closed"),
        ("demo", "---\ndescription: Use when testing.\n---\nbody\n", "'name' is missing"),
        ("demo", "---\nname: demo\n---\nbody\n", "'description' is missing"),
        ("demo", "---\nname: other\ndescription: Use when testing.\n---\nbody\n", "differs from its folder 'demo'"),
        ("demo", "---\nname: Demo Step\ndescription: Use when testing.\n---\nbody\n", "must be lowercase"),
        ("demo", "---\nname: demo\njust words\n---\nbody\n", "line 3: expected 'key: value'"),
    ],
    ids=["no-frontmatter", "unclosed", "missing-name", "missing-description", "mismatched-name", "bad-name", "bad-line"],
)
def test_bad_skill_md_is_rejected_with_a_clear_message(tmp_path, folder, text, expected):
    path = _write(tmp_path, folder, text)
    with pytest.raises(SkillFormatError) as info:
        parse_skill_md(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message, "the message names the file"


def test_a_good_skill_md_parses(tmp_path):
    path = _write(tmp_path, "demo", '---\nname: demo\ndescription: "Use when testing: quoted."\n---\n\n# Demo\n1. Do it.\n')
    meta, body = parse_skill_md(path)
    assert meta == {"name": "demo", "description": "Use when testing: quoted."}
    assert body.startswith("# Demo")
