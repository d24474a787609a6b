"""Saving a spec keeps the person's comments and key order, and never replaces a good file with a bad one."""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from specs.errors import SpecError
from specs.quality import Finding, QualityReport
from specs.schema import SCHEMA_DIR
from specs.training import TrainingPlan
from specs.use_case import UseCaseSpec
from specs.yamlio import MODELINE_PREFIX, load_spec, merge_into, render_spec, save_spec, schema_reference

EXAMPLES = Path(__file__).resolve().parents[2] / "specs" / "examples"


def comment_lines(text: str) -> list[str]:
    """Every comment in the text, whole-line or trailing, without the modeline."""
    found = []
    for line in text.splitlines():
        if "#" in line and not line.startswith("# yaml-language-server"):
            found.append(line[line.index("#"):].strip())
    return found


def top_keys(text: str) -> list[str]:
    return list(YAML().load(text).keys())


def test_change_keeps_comments_and_order(tmp_path: Path) -> None:
    target = tmp_path / "use_case.yaml"
    shutil.copy(EXAMPLES / "bank_transactions.use_case.yaml", target)
    before = target.read_text()
    spec = load_spec(target)

    spec.status = "draft"
    spec.contract.labels = [*spec.contract.labels[:-1], "fees"]
    spec.success_tenets[0].description = "The answer is the analyst's category."
    spec.constraints.append("Must run offline.")
    save_spec(target, spec)

    after = target.read_text()
    assert comment_lines(after) == comment_lines(before)
    assert top_keys(after) == top_keys(before)
    assert load_spec(target) == spec
    assert "  labels:\n    - groceries\n" in after          # the person's list style
    assert "business_problem: |\n  Our personal-finance app" in after  # literal block kept
    assert "status: draft" in after and "- fees\n" in after and "fees_and_charges" not in after.split("output_schema")[0]


def test_unchanged_spec_keeps_every_line_of_the_file(tmp_path: Path) -> None:
    for source in sorted(EXAMPLES.glob("*.yaml")):
        text = source.read_text()
        rendered = render_spec(load_spec(source), text, path=source)
        # Same values keep the person's spelling; only fields the file left out are added.
        removed = [line for line in difflib.ndiff(text.splitlines(), rendered.splitlines()) if line.startswith("- ")]
        assert removed == [], source.name


def test_changed_value_keeps_its_trailing_comment(tmp_path: Path) -> None:
    target = tmp_path / "training.yaml"
    shutil.copy(EXAMPLES / "bank_transactions.training.yaml", target)
    plan = load_spec(target)
    plan.hyperparameters.max_length = 96
    plan.hyperparameters.lora_targets = ["q_proj", "v_proj"]
    save_spec(target, plan)
    text = target.read_text()
    assert re.search(r"\n  max_length: 96 +# transactions are short; the longest record is about 70 tokens\n", text)
    assert "lora_targets: [q_proj, v_proj]" in text   # the person's flow style for this list is kept
    assert load_spec(target) == plan


def test_nan_in_a_report_does_not_block_saving(tmp_path: Path) -> None:
    report = QualityReport(metrics={"embedding_spread": float("nan"), "distinct_2": 0.8})
    save_spec(tmp_path / "quality.json", report)   # JSON mode writes NaN as null
    assert load_spec(tmp_path / "quality.json").metrics == {"embedding_spread": None, "distinct_2": 0.8}


def test_shared_anchor_does_not_corrupt_a_save(tmp_path: Path) -> None:
    target = tmp_path / "reward.yaml"
    target.write_text(
        "components:\n"
        "  - {name: a, kind: regex, params: &shared {pattern: x}}\n"
        "  - {name: b, kind: regex, params: *shared}\n"
    )
    reward = load_spec(target)
    reward.components[1].params = {"pattern": "y"}
    save_spec(target, reward)   # merging into the shared node would change both components
    assert [c.params for c in load_spec(target).components] == [{"pattern": "x"}, {"pattern": "y"}]


def test_new_keys_go_at_the_end_and_order_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "training.yaml"
    target.write_text("# the plan\nreward: reward.yaml  # for GRPO\ntechnique: rlvr\n")
    spec = load_spec(target)
    save_spec(target, spec)
    text = target.read_text()
    keys = top_keys(text)
    assert keys[:2] == ["reward", "technique"]
    unset = {name for name in TrainingPlan.model_fields if getattr(spec, name) is None}
    assert unset and set(keys) == set(TrainingPlan.model_fields) - unset   # unset optional fields stay out
    assert "# the plan\n" in text and "reward: reward.yaml  # for GRPO\n" in text
    assert text.startswith(MODELINE_PREFIX)


def test_merge_removes_keys_the_spec_no_longer_has() -> None:
    yaml = YAML()
    doc = yaml.load("a: 1  # first\nb:\n  c: 2  # inner\n  d: 3\ne: [1, 2, 3]\n")
    merge_into(doc, {"a": 1, "b": {"c": 5}, "e": [1, 2]})
    assert doc == {"a": 1, "b": {"c": 5}, "e": [1, 2]}


def test_modeline_is_the_first_line_and_points_at_the_schema(tmp_path: Path) -> None:
    spec = load_spec(EXAMPLES / "bank_transactions.export.yaml")
    # a file in the package tree gets a relative path, as the shipped examples have
    assert schema_reference(type(spec), EXAMPLES / "x.export.yaml") == "../schemas/export.schema.json"
    target = tmp_path / "session" / "export.yaml"
    target.parent.mkdir()
    target.write_text("# yaml-language-server: $schema=https://example.com/old.json\n# mine\nformats: [vllm]\n")
    save_spec(target, spec)
    lines = target.read_text().splitlines()
    assert lines[0].startswith(MODELINE_PREFIX) and lines[1] == "# mine"
    assert sum(line.startswith("# yaml-language-server") for line in lines) == 1
    reference = lines[0].removeprefix(MODELINE_PREFIX)
    schema = Path(reference) if os.path.isabs(reference) else target.parent / reference
    assert schema.resolve() == (SCHEMA_DIR / "export.schema.json").resolve()
    assert json.loads(schema.read_text())["title"] == "ExportSpec"


def test_preview_render_shows_the_modeline_save_will_write() -> None:
    source = EXAMPLES / "bank_transactions.export.yaml"
    spec = load_spec(source)
    assert render_spec(spec, source.read_text()) == render_spec(spec, source.read_text(), path=source)
    assert render_spec(spec).splitlines()[0] == MODELINE_PREFIX + (SCHEMA_DIR / "export.schema.json").as_posix()


def test_render_is_readable_and_complete() -> None:
    spec = load_spec(EXAMPLES / "bank_transactions_rlvr.training.yaml")
    text = render_spec(spec)
    assert "{" not in text.replace("{}", "")          # block style, no flow mappings
    assert "learning_rate: 0.0001" in text and "weight_decay: 0.0" in text  # defaults shown too
    use_case = load_spec(EXAMPLES / "bank_transactions.use_case.yaml")
    assert "system_prompt: |\n" in render_spec(use_case)  # multi-line text as a literal block


def test_failed_save_keeps_the_last_valid_version(tmp_path: Path) -> None:
    target = tmp_path / "use_case.yaml"
    shutil.copy(EXAMPLES / "bank_transactions.use_case.yaml", target)
    good = target.read_bytes()
    spec = load_spec(target)

    broken = UseCaseSpec.model_construct(**{**dict(spec), "task_type": "astrology"})
    with pytest.raises(SpecError) as raised:
        save_spec(target, broken)
    assert any(p.path == "task_type" for p in raised.value.problems)
    assert target.read_bytes() == good

    contract = spec.contract.model_copy()
    object.__setattr__(contract, "labels", ["a", "a"])   # bypasses validate_assignment
    with pytest.raises(SpecError):
        save_spec(target, spec.model_copy(update={"contract": contract}))
    assert target.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["use_case.yaml"]


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "use_case.yaml"
    shutil.copy(EXAMPLES / "bank_transactions.use_case.yaml", target)
    good = target.read_bytes()
    spec = load_spec(target)
    spec.status = "draft"

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        save_spec(target, spec)
    assert target.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["use_case.yaml"]


def test_broken_existing_file_is_replaced_by_a_valid_one(tmp_path: Path) -> None:
    target = tmp_path / "export.yaml"
    target.write_text("formats: [gguf\n")    # the person left it broken; the app writes a good one
    spec = load_spec(EXAMPLES / "bank_transactions.export.yaml")
    save_spec(target, spec)
    assert load_spec(target) == spec


def test_quality_report_json_round_trip_and_errors(tmp_path: Path) -> None:
    target = tmp_path / "data" / "quality.json"
    report = QualityReport(train_records=120, eval_records=30, dropped={"label_not_in_set": 4},
                           findings=[Finding(code="duplicates", severity="high", message="7% duplicates")])
    save_spec(target, report)
    assert load_spec(target) == report
    assert json.loads(target.read_text())["train_records"] == 120

    target.write_text('{\n  "train_records": 1,\n  "findings": [\n    {"code": "x", "severity": "urgent", "message": "m"}\n  ]\n}\n')
    with pytest.raises(SpecError) as raised:
        load_spec(target)
    [problem] = raised.value.problems
    assert (problem.line, problem.column, problem.path) == (4, 31, "findings[0].severity")
    assert "high" in problem.allowed

    target.write_text('{"train_records": 1,\n "eval_records": }\n')
    with pytest.raises(SpecError) as raised:
        load_spec(target)
    assert (raised.value.problems[0].line, raised.value.problems[0].column) == (2, 18)
