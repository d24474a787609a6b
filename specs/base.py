"""The base every spec model shares: unknown keys refused, field docstrings become descriptions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Spec(BaseModel):
    """Base for every artifact a person can read and edit."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        validate_assignment=True,
        populate_by_name=True,
    )


class SpecFile(Spec):
    """A spec that lives in its own YAML file and carries a format version."""

    version: int = 1
    """Format version of this file. Leave it as written; tunesmith raises it when the format changes."""
