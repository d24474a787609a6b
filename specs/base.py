"""The base every spec model shares: unknown keys refused, field docstrings become descriptions,
numbers finite and bounded, paths inside the session, a known format version.

The bounded types here (``SessionPath``, ``Seed``, ``WaitSeconds``) are also the types of the tool
arguments that set the same values, so a planner's call is held to the same limits as a file."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

FORMAT_VERSION = 1
"""The spec file format this tunesmith reads and writes."""

_DRIVE = re.compile(r"^[A-Za-z]:")


def session_relative(value: str) -> str:
    """``value`` when it is a relative path that stays inside the session folder, else ValueError."""
    text = value.strip()
    if not text:
        raise ValueError("the path is empty; give a path inside the session folder, e.g. `data/train.jsonl`")
    if "\0" in text:
        raise ValueError("the path contains a NUL character")
    if text.startswith(("/", "\\", "~")) or _DRIVE.match(text):
        raise ValueError(f"`{value}` is an absolute path; give a path relative to the session folder, e.g. `data/train.jsonl`")
    if ".." in re.split(r"[/\\]", text):
        raise ValueError(f"`{value}` climbs out with `..`; give a path inside the session folder")
    return value


def _subfolder(value: str) -> str:
    session_relative(value)
    if value.strip().strip("/") in ("", "."):
        raise ValueError("give a folder inside the session folder (e.g. `export`), not the session folder itself")
    return value


_PATH_PATTERN = r"^(?![/\\~])(?![A-Za-z]:)(?!(.*[/\\])?\.\.([/\\]|$)).+$"
"""The same rule for editors (JSON Schema): relative, no `..` step."""

SessionPath = Annotated[str, AfterValidator(session_relative),
                        Field(min_length=1, max_length=500, json_schema_extra={"pattern": _PATH_PATTERN})]
"""A path relative to the session folder that stays inside it."""

SessionFolder = Annotated[str, AfterValidator(_subfolder),
                          Field(min_length=1, max_length=500, json_schema_extra={"pattern": _PATH_PATTERN})]
"""A folder inside the session folder (not the session folder itself)."""

Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
"""A random seed (0 to 2^32 - 1)."""

WaitSeconds = Annotated[float, Field(gt=0, le=7 * 86_400)]
"""How long to wait, in seconds (at most a week)."""

MAX_TEXT = 20_000
"""Longest free text a spec field holds (a prompt, a rubric, a description), in characters."""


class Spec(BaseModel):
    """Base for every artifact a person can read and edit."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        validate_assignment=True,
        populate_by_name=True,
        allow_inf_nan=False,
    )


class SpecFile(Spec):
    """A spec that lives in its own YAML file and carries a format version."""

    version: int = Field(default=FORMAT_VERSION, json_schema_extra={"minimum": 1, "maximum": FORMAT_VERSION})
    """Format version of this file. Leave it as written; tunesmith raises it when the format changes."""

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != FORMAT_VERSION:
            raise ValueError(f"version {value} is not a format this tunesmith reads (it reads version {FORMAT_VERSION}); "
                             "a newer tunesmith wrote it, or the number was edited")
        return value
