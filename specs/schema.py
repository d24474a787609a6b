"""JSON Schemas of the spec files, generated from the pydantic models and committed under specs/schemas/.

Editors read them through each file's `yaml-language-server` modeline; the LLM reads the same
descriptions. `python -m specs.schema --write` (or `make schemas`) regenerates them; `--check`
exits 1 when a committed schema differs from the generated one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from specs.io import atomic_write_text
from specs.registry import ALL_MODELS

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
DIALECT = "http://json-schema.org/draft-07/schema#"
"""Draft-07: what yaml-language-server (and VS Code) fully support. pydantic's output uses only
keywords draft-07 knows; its `$defs` are reached through plain JSON-pointer `$ref`s."""


def generate(name: str) -> dict:
    """The JSON Schema of the spec named ``name`` (a key of specs.registry.ALL_MODELS)."""
    model = ALL_MODELS[name]
    schema = model.model_json_schema(mode="validation")
    return {"$schema": DIALECT, **schema}


def render(name: str) -> str:
    """The committed text of a schema: stable key order, two-space indent, final newline."""
    return json.dumps(generate(name), indent=2, ensure_ascii=False) + "\n"


def schema_path(name: str, folder: Path = SCHEMA_DIR) -> Path:
    return folder / f"{name}.schema.json"


def write_all(folder: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema (atomically); returns the files written."""
    return [atomic_write_text(schema_path(name, folder), render(name)) for name in ALL_MODELS]


def check_all(folder: Path = SCHEMA_DIR) -> list[str]:
    """Names of the schemas whose committed file is missing or differs from the generated one."""
    stale = []
    for name in ALL_MODELS:
        path = schema_path(name, folder)
        try:
            committed = path.read_text(encoding="utf-8")
        except OSError:
            committed = None
        if committed != render(name):
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m specs.schema", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate specs/schemas/*.schema.json")
    group.add_argument("--check", action="store_true", help="exit 1 when a committed schema is stale")
    args = parser.parse_args(argv)
    if args.write:
        for path in write_all():
            print(f"wrote {path}")
        return 0
    stale = check_all()
    for name in stale:
        print(f"stale: {schema_path(name)} (run `make schemas`)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
