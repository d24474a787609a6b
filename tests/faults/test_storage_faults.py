"""Each storage fault of tests/faults/storage_faults.py, through the real `tunesmith` command."""

from __future__ import annotations

import pytest

from tests.faults.storage_faults import CASES, Skip


@pytest.mark.parametrize("title", list(CASES))
def test_storage_fault(title, tmp_path):
    try:
        CASES[title](tmp_path)
    except Skip as why:
        pytest.skip(str(why))
