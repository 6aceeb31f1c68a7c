"""Engine test fixtures: makes ``import oplib`` (the single-op harness in this
folder) work from every test module under tests/engine."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
