"""Shared fixtures of the search tests: the shipped hybrid table and a recording evaluator."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def hybrid_table() -> Path:
    return DATA / "hybrid_table.csv"
