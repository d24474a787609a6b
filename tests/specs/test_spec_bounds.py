"""Validation with bounds, through the real `tunesmith validate`: numbers are finite and inside sane
ranges, paths stay inside the session, the format version is checked, tool arguments obey the same
limits, and a YAML error names where an unclosed `[`, `{` or quote opened as well as where parsing failed."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from assistant import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "specs" / "examples"

CASES = [
    # (id, example, target, old line, new line, field path, message regex)
    ("timeout_inf", "bank_transactions.data_generation.yaml", "data_generation.yaml", "  timeout_s: 60", "  timeout_s: .inf",
     "generator.timeout_s", r"finite number"),
    ("timeout_nan", "bank_transactions.reward.yaml", "reward.yaml", "timeout_s: 30", "timeout_s: .nan",
     "timeout_s", r"finite number"),
    ("timeout_huge", "bank_transactions.reward.yaml", "reward.yaml", "timeout_s: 30", "timeout_s: 1e9",
     "timeout_s", r"less than or equal to 3600"),
    ("memory_huge", "bank_transactions.data_generation.yaml", "data_generation.yaml", "  memory_mb: 1024", "  memory_mb: 1e14",
     "generator.memory_mb", r"less than or equal to 65536"),
    ("steps_huge", "bank_transactions.training.yaml", "training.yaml", "  max_steps: 150", "  max_steps: 1e23",
     "hyperparameters.max_steps", r"as an integer.*<= 1000000"),
    ("learning_rate_nan", "bank_transactions.training.yaml", "training.yaml", "  learning_rate: 0.0003", "  learning_rate: .nan",
     "hyperparameters.learning_rate", r"finite number"),
    ("version_99", "bank_transactions.use_case.yaml", "use_case.yaml", "version: 1", "version: 99",
     "version", r"version 99 is not a format this tunesmith reads \(it reads version 1\)"),
    ("version_0", "bank_transactions.export.yaml", "export.yaml", "version: 1", "version: 0",
     "version", r"version 0 is not a format"),
    ("output_dir_absolute", "bank_transactions.export.yaml", "export.yaml", "output_dir: export", "output_dir: /tmp/out",
     "output_dir", r"`/tmp/out` is an absolute path"),
    ("output_dir_climbs", "bank_transactions.export.yaml", "export.yaml", "output_dir: export", "output_dir: ../other-session",
     "output_dir", r"climbs out with `\.\.`"),
    ("output_dir_session_itself", "bank_transactions.export.yaml", "export.yaml", "output_dir: export", "output_dir: .",
     "output_dir", r"not the session folder itself"),
    ("code_path_climbs", "bank_transactions.reward.yaml", "reward.yaml", "code_path: reward.py", "code_path: ../../x/reward.py",
     "code_path", r"climbs out"),
    ("eval_path_absolute", "bank_transactions.evaluation.yaml", "evaluation.yaml", "eval_path: data/eval.jsonl",
     "eval_path: /etc/passwd", "eval_path", r"absolute path"),
    ("train_path_climbs", "bank_transactions.training.yaml", "training.yaml", "  train_path: data/train.jsonl",
     "  train_path: data/../../../x.jsonl", "data.train_path", r"climbs out"),
    ("generator_code_path_home", "bank_transactions.data_generation.yaml", "data_generation.yaml", "  code_path:",
     "  code_path: ~/gen.py", "generator.code_path", r"absolute path"),
]


def run_validate(path: Path, capsys) -> tuple[int, str]:
    code = cli.main(["validate", str(path)])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_out_of_range_values_and_paths_are_refused_with_their_place(case, tmp_path, capsys):
    _, example, target, old, new, path, message = case
    text = (EXAMPLES / example).read_text()
    assert old + "\n" in text, f"the example no longer has {old!r}"
    edited = text.replace(old + "\n", new + "\n", 1)
    file = tmp_path / target
    file.write_text(edited)
    code, out = run_validate(file, capsys)
    line = edited[: edited.index(new + "\n")].count("\n") + 1
    assert code == 1, out
    assert re.search(rf"{re.escape(str(file))}:{line}:\d+: {re.escape(path)}: .*({message})", out), out
    assert "Traceback" not in out


def test_the_shipped_examples_are_still_valid(capsys):
    files = sorted(EXAMPLES.glob("*.yaml"))
    code = cli.main(["validate", *map(str, files)])
    out = capsys.readouterr().out
    assert code == 0 and out.count(": ok") == len(files), out


@pytest.mark.parametrize("text, opened, failed", [
    ("name: x\nlabels: [groceries, dining\nprimary_users: y\nstatus: draft\n", (2, 9), "line 3, column 14"),
    ('name: x\nbusiness_problem: "sort the transactions\nprimary_users: y\n', (2, 19), "the file ends at line 4, column 1"),
    ("name: x\ncontract: {input_description: a\nstatus: draft\n", (2, 11), "line 3, column 7"),
])
def test_a_yaml_error_names_where_the_construct_opened_and_where_parsing_failed(text, opened, failed, tmp_path, capsys):
    file = tmp_path / "use_case.yaml"
    file.write_text(text)
    code, out = run_validate(file, capsys)
    assert code == 1
    assert f"{file}:{opened[0]}:{opened[1]}: YAML syntax error" in out, out
    assert f"opened at line {opened[0]}, column {opened[1]} is never closed" in out and failed in out, out


def test_tool_arguments_obey_the_same_limits():
    from pydantic import ValidationError

    from assistant.runtime import collect_tools

    tools = {t.name: t for t in collect_tools()}
    for name, arguments in [("write_training_plan", {"max_steps": 10**9}), ("write_training_plan", {"learning_rate": math.nan}),
                            ("write_training_plan", {"batch_size": 10**6}), ("write_evaluation_spec", {"max_examples": 10**12}),
                            ("wait_for_training", {"timeout_s": math.inf}), ("dry_run_reward", {"samples": 10**7}),
                            ("check_generator", {"count": 0})]:
        with pytest.raises(ValidationError):
            tools[name].validate(arguments)
    assert tools["write_training_plan"].validate({"max_steps": 200}).max_steps == 200
    plan = tools["write_training_plan"].schema()["function"]["parameters"]["properties"]["max_steps"]
    text = json.dumps(plan)
    assert '"maximum": 1000000' in text and '"minimum": 1' in text, text


def test_the_json_schemas_carry_the_bounds():
    schema = json.loads((EXAMPLES.parent / "schemas" / "export.schema.json").read_text())
    assert "pattern" in schema["properties"]["output_dir"]
    assert schema["properties"]["version"]["maximum"] == 1
    assert not re.match(schema["properties"]["output_dir"]["pattern"], "../x")
    assert re.match(schema["properties"]["output_dir"]["pattern"], "export/v1")
