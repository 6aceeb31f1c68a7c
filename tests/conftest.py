"""Suite-wide test settings.

Subfolders mirror the package (tests/convert, tests/engine, tests/board, ...);
each may add its own conftest.py with fixtures for its area.
"""

from __future__ import annotations

import os

# TensorFlow's C++ logging drowns pytest's output; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
