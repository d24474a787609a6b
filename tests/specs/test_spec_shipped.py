"""Shipped data is tested like code: committed schemas are current, every example validates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from specs.registry import ALL_MODELS, SPEC_FILES, model_for, schema_name
from specs.schema import SCHEMA_DIR, check_all, generate, write_all
from specs.yamlio import MODELINE_PREFIX, load_spec, loads_spec, parse_yaml, render_spec, to_plain

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "specs" / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_committed_schemas_match_the_models() -> None:
    stale = check_all()
    assert stale == [], f"committed JSON Schemas are stale for {stale}: run `make schemas` and commit specs/schemas/"


def test_write_all_then_check_all(tmp_path: Path) -> None:
    written = write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{name}.schema.json" for name in ALL_MODELS)
    assert check_all(tmp_path) == []
    (tmp_path / "export.schema.json").write_text("{}\n")
    assert check_all(tmp_path) == ["export"]


def test_schema_check_command() -> None:
    done = subprocess.run([sys.executable, "-m", "specs.schema", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _properties(schema: dict):
    for owner, definition in [("", schema), *schema.get("$defs", {}).items()]:
        for name, prop in definition.get("properties", {}).items():
            yield f"{owner or schema['title']}.{name}", prop


@pytest.mark.parametrize("name", sorted(ALL_MODELS))
def test_every_field_has_a_description_and_unknown_keys_are_refused(name: str) -> None:
    schema = generate(name)
    jsonschema.Draft7Validator.check_schema(schema)
    undocumented = [field for field, prop in _properties(schema) if not prop.get("description")]
    assert undocumented == [], f"fields without a docstring: {undocumented}"
    assert schema["additionalProperties"] is False
    assert all(d.get("additionalProperties") is False for d in schema.get("$defs", {}).values() if "properties" in d)
    assert "version" in schema["properties"]


def test_the_expected_examples_are_shipped() -> None:
    names = {p.name for p in EXAMPLE_FILES}
    for kind in SPEC_FILES:
        assert f"bank_transactions.{kind}" in names
    assert any(n.startswith("invoice_fields.") for n in names)
    use_case = load_spec(EXAMPLES / "bank_transactions.use_case.yaml")
    assert len(use_case.contract.labels) == 12 and len(use_case.success_tenets) == 3
    rlvr = load_spec(EXAMPLES / "bank_transactions_rlvr.training.yaml")
    assert rlvr.technique == "rlvr" and rlvr.reward == "reward.yaml"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_example_validates(path: Path) -> None:
    spec = load_spec(path)
    model = model_for(path)
    assert type(spec) is model
    # the editor's view (the JSON Schema) agrees with the app's
    schema = json.loads((SCHEMA_DIR / f"{schema_name(model)}.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(to_plain(parse_yaml(path.read_text())))
    # the modeline is the first line and resolves, relative to the file, to the committed schema
    first = path.read_text().splitlines()[0]
    assert first == MODELINE_PREFIX + f"../schemas/{schema_name(model)}.schema.json"
    # a full render loads back to the same spec
    assert loads_spec(render_spec(spec), model) == spec
