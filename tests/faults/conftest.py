"""Fixtures of the fault tests: the shipped bank-transaction specs in a temp session folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "specs" / "examples"


@pytest.fixture
def bank_session(tmp_path):
    session = tmp_path / "session"
    session.mkdir()
    shutil.copy(EXAMPLES / "bank_transactions.use_case.yaml", session / "use_case.yaml")
    shutil.copy(EXAMPLES / "bank_transactions.data_generation.yaml", session / "data_generation.yaml")
    return session


@pytest.fixture
def bank_specs(bank_session):
    from specs.data_generation import DataGenerationSpec
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    return load_spec(bank_session / "use_case.yaml", UseCaseSpec), load_spec(bank_session / "data_generation.yaml", DataGenerationSpec)
