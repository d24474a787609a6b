"""Each bad edit a person might make gives one problem with the right file, line, column, field and hint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from specs.errors import SpecError
from specs.validate import format_problem, validate_file, validate_paths, validate_text
from specs.yamlio import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "specs" / "examples"


def example(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def position(text: str, needle: str, occurrence: int = 1, offset: int = 0) -> tuple[int, int]:
    """1-based line and column where ``needle`` starts (its n-th occurrence), plus ``offset`` columns."""
    start = -1
    for _ in range(occurrence):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, column + offset


def edit(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text, f"the example no longer contains {old!r}"
    return text.replace(old, new, count)


@dataclass
class Case:
    id: str
    source: str            # example file the edit starts from
    target: str            # file name the edited text is saved as
    change: callable       # text -> edited text
    where: callable        # edited text -> (line, column)
    path: str
    message: str           # regex the message must match
    allowed: str | None    # substring of `allowed`, or None when none is expected


UC = "bank_transactions.use_case.yaml"
CASES = [
    Case("yaml_syntax", UC, "use_case.yaml",
         lambda t: edit(t, "task_type: classification", "task_type: classification: extra"),
         lambda t: position(t, "task_type: classification: extra", offset=len("task_type: classification")),
         "", r"YAML syntax error: mapping values are not allowed here", None),
    Case("tab_indentation", UC, "use_case.yaml",
         lambda t: edit(t, "  output_description:", "\toutput_description:"),
         lambda t: position(t, "\toutput_description:"),
         "", r"YAML syntax error: .*'\\t'", "spaces"),
    Case("wrong_type_number", UC, "use_case.yaml",
         lambda t: edit(t, "max_output_chars: 32", "max_output_chars: lots"),
         lambda t: position(t, "lots"),
         "contract.max_output_chars", r"valid integer", "whole number"),
    Case("wrong_type_list", UC, "use_case.yaml",
         lambda t: re.sub(r"  labels:\n(    - \w+\n)+", "  labels: groceries\n", t),
         lambda t: position(t, "labels: groceries", offset=len("labels: ")),
         "contract.labels", r"valid list", "a list of strings (at most 1000 items), or empty"),
    Case("unknown_key_typo", UC, "use_case.yaml",
         lambda t: edit(t, "constraints:", "constrains:"),
         lambda t: position(t, "constrains:"),
         "constrains", r"unknown key `constrains` \(did you mean `constraints`\?\)", "business_problem"),
    Case("missing_required", UC, "use_case.yaml",
         lambda t: re.sub(r"primary_users: .*\n", "", t),
         lambda t: position(t, "version: 1"),
         "primary_users", r"missing required field `primary_users`", "a string"),
    Case("enum_typo", UC, "use_case.yaml",
         lambda t: edit(t, "task_type: classification", "task_type: clasification"),
         lambda t: position(t, "clasification"),
         "task_type", r"`clasification` is not an allowed value \(did you mean `classification`\?\)", "extraction"),
    Case("duplicated_label", UC, "use_case.yaml",
         lambda t: edit(t, "    - travel\n", "    - groceries\n"),
         lambda t: position(t, "- groceries", occurrence=2, offset=2),
         "contract.labels[8]", r"`labels` must not repeat a label", None),
    Case("label_format_without_labels", UC, "use_case.yaml",
         lambda t: re.sub(r"  labels:\n(    - \w+\n)+", "  labels: []\n", t),
         lambda t: position(t, "labels: []"),
         "contract.labels", r"output_format `label` needs a non-empty `labels` list", None),
    Case("json_format_without_schema", UC, "use_case.yaml",
         lambda t: re.sub(r"  labels:\n(    - \w+\n)+", "", edit(t, "output_format: label", "output_format: json")),
         lambda t: position(t, "output_schema:"),
         "contract.output_schema", r"needs an `output_schema`", None),
    Case("code_tenet_without_metric", UC, "use_case.yaml",
         lambda t: edit(t, "    metric: label_match\n", ""),
         lambda t: position(t, "measured_by: code"),
         "success_tenets[0].measured_by", r"measured_by `code` needs a `metric`", None),
    Case("judge_tenet_without_rubric", UC, "use_case.yaml",
         lambda t: t[: t.index("    rubric: |")] + "base_model: embedded:SmolLM2-135M-Instruct\nstatus: approved\n",
         lambda t: position(t, "measured_by: judge"),
         "success_tenets[2].measured_by", r"measured_by `judge` needs a `rubric`", None),
    Case("duplicate_tenet_name", UC, "use_case.yaml",
         lambda t: edit(t, "- name: valid_label_only", "- name: correct_category"),
         lambda t: position(t, "- name: correct_category", occurrence=2, offset=2),
         "success_tenets[1]", r"same name", None),
    Case("duplicate_key", UC, "use_case.yaml",
         lambda t: t + "status: draft\n",
         lambda t: position(t, "status: draft"),
         "", r"duplicate key", "each key once"),
    Case("empty_string", UC, "use_case.yaml",
         lambda t: edit(t, "name: Transaction categorizer", 'name: ""'),
         lambda t: position(t, '""'),
         "name", r"at least 1 character", "at least 1 character"),
    Case("negative_count", "bank_transactions.data_generation.yaml", "data_generation.yaml",
         lambda t: edit(t, "train_count: 600", "train_count: -5"),
         lambda t: position(t, "-5"),
         "train_count", r"greater than or equal to 1", ">= 1"),
    Case("list_where_mapping_expected", "bank_transactions.reward.yaml", "reward.yaml",
         lambda t: edit(t, "    params:\n      max_chars: 32", "    params:\n      - max_chars"),
         lambda t: position(t, "params:\n      - max_chars", occurrence=1),
         "components[2].params", r"valid dictionary", "a mapping"),
    Case("weight_wrong_type_deep", "bank_transactions.data_generation.yaml", "data_generation.yaml",
         lambda t: edit(t, "weight: 3", "weight: heavy"),
         lambda t: position(t, "heavy"),
         "diversity_axes[1].values[1].weight", r"valid number", "a number (> 0, <= 1000000)"),
    Case("rl_without_reward", "bank_transactions_rlvr.training.yaml", "training.yaml",
         lambda t: edit(t, "reward: reward.yaml", "reward:"),
         lambda t: position(t, "reward:\n"),
         "reward", r"technique `rlvr` needs a `reward` file", None),
    Case("judge_prompt_without_output", "bank_transactions.evaluation.yaml", "evaluation.yaml",
         lambda t: edit(t, "        Model's answer: {output}\n", ""),
         lambda t: position(t, "    judge:", offset=4),
         "metrics[3].judge", r"placeholder \{output\}", None),
    Case("control_character", UC, "use_case.yaml",
         lambda t: edit(t, "primary_users: The", "primary_users: The\x07"),
         lambda t: position(t, "\x07"),
         "", r"character YAML does not allow \(U\+0007\)", "printable"),
    Case("empty_file", UC, "use_case.yaml",
         lambda t: "",
         lambda t: (1, 1),
         "", r"the file is empty", "required: name"),
    Case("comments_only", UC, "use_case.yaml",
         lambda t: "# nothing here yet\n",
         lambda t: (1, 1),
         "", r"the file is empty", "mapping"),
    Case("not_a_mapping", UC, "use_case.yaml",
         lambda t: "- groceries\n- dining\n",
         lambda t: (1, 1),
         "", r"must be a mapping of keys to values, but it is a list", "mapping"),
    Case("second_document", UC, "use_case.yaml",
         lambda t: t + "---\nname: again\n",
         lambda t: position(t, "---\nname: again"),
         "", r"YAML syntax error", "single YAML document"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_edit_is_located(case: Case, tmp_path: Path) -> None:
    text = case.change(example(case.source))
    target = tmp_path / case.target
    target.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec(target)
    problems = raised.value.problems
    matching = [p for p in problems if p.path == case.path and re.search(case.message, p.message)]
    assert matching, "\n".join(format_problem(p) for p in problems)
    problem = matching[0]
    assert problem.file == str(target)
    assert (problem.line, problem.column) == case.where(text), format_problem(problem)
    if case.allowed is None:
        assert problem.allowed is None or problem.allowed
    else:
        assert problem.allowed and case.allowed in problem.allowed, format_problem(problem)
    assert validate_file(target) == problems
    assert validate_text(text, str(target)) == problems   # the in-app editor gets the same answer


def test_format_problem_reads_like_a_compiler_message(tmp_path: Path) -> None:
    text = re.sub(r"  labels:\n(    - \w+\n)+", "  labels: groceries\n", example(UC))
    (tmp_path / "use_case.yaml").write_text(text, encoding="utf-8")
    [problem] = validate_file(tmp_path / "use_case.yaml")
    line, column = position(text, "groceries")
    assert format_problem(problem) == (
        f"{tmp_path / 'use_case.yaml'}:{line}:{column}: contract.labels: "
        "Input should be a valid list (allowed: a list of strings (at most 1000 items), or empty)"
    )


@pytest.mark.parametrize("kind", ["missing", "folder", "binary", "unknown_name", "not_utf8"])
def test_files_that_are_not_specs_give_problems_not_tracebacks(kind: str, tmp_path: Path) -> None:
    target = {
        "missing": tmp_path / "use_case.yaml",
        "folder": tmp_path,
        "binary": tmp_path / "training.yaml",
        "unknown_name": tmp_path / "notes.yaml",
        "not_utf8": tmp_path / "export.yaml",
    }[kind]
    if kind == "binary":
        target.write_bytes(b"\x7fELF\x00\x01\x02")
    if kind == "unknown_name":
        target.write_text("version: 1\n")
    if kind == "not_utf8":
        target.write_bytes(b"version: 1\nmodel_name: caf\xe9\n")
    problems = validate_file(target)
    assert len(problems) == 1 and problems[0].file == str(target)
    assert format_problem(problems[0]).startswith(str(target) + ":")


def test_validate_paths_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = EXAMPLES / "bank_transactions.export.yaml"
    bad = tmp_path / "export.yaml"
    bad.write_text("formats: [gguff]\n")
    assert validate_paths([str(good)]) == 0
    assert validate_paths([str(good), str(bad), str(tmp_path / "nope.yaml")]) == 1
    out = capsys.readouterr().out
    assert f"{good}: ok" in out
    assert f"{bad}:1:11: formats[0]: `gguff` is not an allowed value (did you mean `gguf`?)" in out
    assert "Traceback" not in out
