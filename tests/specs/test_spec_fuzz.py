"""Property: whatever text or data is fed in, load_spec either returns a spec or raises SpecError."""

from __future__ import annotations

import io
import re
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from specs.errors import Problem, SpecError
from specs.registry import SPEC_FILES
from specs.validate import format_problem, validate_file
from specs.yamlio import load_spec, loads_spec, parse_yaml, to_plain

EXAMPLES = Path(__file__).resolve().parents[2] / "specs" / "examples"
MODELS = sorted(SPEC_FILES.items())
# TUNESMITH_FUZZ_EXAMPLES raises the count for a long hunt; the default keeps the suite quick.
FUZZ = settings(max_examples=int(os.environ.get("TUNESMITH_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

YAML_PIECES = [
    ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "#", "&a", "*a", "!", "!!str", "!!python/object:os.system",
    "|", ">", "'", '"', "%YAML 1.2", "---", "...", "? ", "<<: ", "<<: *a", "\t", "\n", "  ", "\\", "@", "`",
    "version", "name", "contract", "labels", "success_tenets", "task_type", "1", "-1", "1e999", ".nan",
    "null", "~", "true", "2001-13-45", "0x1F", "\u00e9", "\ufeff", "\x00", "\x85", "\u2028",
]
yaml_text = st.lists(st.sampled_from(YAML_PIECES) | st.text(string.printable, max_size=5), max_size=40).map("".join)
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.sampled_from(["label", "code", "judge", "sft", "rlvr", "lora", "classification"])
)
data = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=4),
    max_leaves=25,
)
spec_keys = st.sampled_from([
    "version", "name", "business_problem", "primary_users", "task_type", "contract", "success_tenets",
    "labels", "output_format", "measured_by", "metric", "components", "metrics", "technique", "reward",
    "train_count", "diversity_axes", "values", "formats", "hyperparameters", "judge", "prompt",
])
spec_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(spec_keys, children, max_size=5),
    max_leaves=30,
)


def assert_only_spec_error(text: str, model, file: str = "use_case.yaml") -> None:
    try:
        loads_spec(text, model, file)
    except SpecError as error:
        assert error.problems and all(isinstance(p, Problem) for p in error.problems)
        lines = len(re.split("\r\n|[\r\n\x85\u2028\u2029]", text)) + 1  # YAML's line breaks
        for problem in error.problems:
            assert problem.line is None or 1 <= problem.line <= lines, problem
            assert problem.column is None or problem.column >= 1, problem
            assert format_problem(problem).startswith(file)


def dump(value) -> str:
    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(value, stream)
    return stream.getvalue()


@FUZZ
@given(text=yaml_text, index=st.integers(0, len(MODELS) - 1))
def test_random_yaml_text_only_raises_spec_error(text: str, index: int) -> None:
    assert_only_spec_error(text, MODELS[index][1], MODELS[index][0])


@FUZZ
@given(value=data | spec_like, index=st.integers(0, len(MODELS) - 1), flow=st.booleans())
def test_random_data_only_raises_spec_error(value, index: int, flow: bool) -> None:
    stream = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    yaml.dump(value, stream)
    assert_only_spec_error(stream.getvalue(), MODELS[index][1], MODELS[index][0])


EXAMPLE_TEXTS = {p.name: p.read_text() for p in sorted(EXAMPLES.glob("*.yaml"))}


@FUZZ
@given(name=st.sampled_from(sorted(EXAMPLE_TEXTS)), steps=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=4), value=spec_like)
def test_random_value_anywhere_in_a_valid_spec_only_raises_spec_error(name: str, steps, value) -> None:
    document = to_plain(parse_yaml(EXAMPLE_TEXTS[name]))
    node = document
    for pick_key, pick_index in steps:  # walk to a random place, then replace what is there
        if isinstance(node, dict) and node:
            key = sorted(node, key=str)[pick_key % len(node)]
        elif isinstance(node, list) and node:
            key = pick_index % len(node)
        else:
            break
        if not isinstance(node[key], (dict, list)) or pick_key % 3 == 0:
            node[key] = value
            break
        node = node[key]
    from specs.registry import model_for

    assert_only_spec_error(dump(document), model_for(name), name)


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=200), name=st.sampled_from([*SPEC_FILES, "quality.json", "notes.txt"]))
def test_random_bytes_on_disk_only_raise_spec_error(tmp_path_factory, raw: bytes, name: str) -> None:
    target = tmp_path_factory.mktemp("fuzz") / name
    target.write_bytes(raw)
    try:
        load_spec(target)
    except SpecError:
        pass
    assert isinstance(validate_file(target), list)


def test_alias_bomb_and_cycles_are_refused(monkeypatch) -> None:
    import specs.yamlio

    monkeypatch.setattr(specs.yamlio, "MAX_NODES", 20_000)  # the bomb below expands to ten million
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
    )
    assert_only_spec_error(bomb, SPEC_FILES["use_case.yaml"])
    assert_only_spec_error("name: &n [*n]\n", SPEC_FILES["use_case.yaml"])
    assert_only_spec_error("&r\nname: *r\n", SPEC_FILES["use_case.yaml"])
    assert_only_spec_error("[" * 600 + "]" * 600, SPEC_FILES["use_case.yaml"])
    with pytest.raises(SpecError, match="expands to more than"):
        loads_spec(bomb, SPEC_FILES["use_case.yaml"])
