"""Parser/engine fuzzing under ASan+UBSan, bounded in time.

* every file in firmware/fuzz/corpus (valid models, truncated ones and
  past crashers) replays without a sanitizer report;
* a time-bounded fuzzing run (libFuzzer when clang is installed, else the
  naive mutation driver) finds no crash, hang or sanitizer report.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hilnas.engine import fuzz

pytestmark = pytest.mark.slow

FUZZ_SECONDS = int(os.environ.get("HILNAS_FUZZ_SECONDS", "45"))


def test_corpus_is_present() -> None:
    files = fuzz.corpus_files()
    assert len(files) >= 10
    assert any(p.name.startswith("trunc") for p in files)


def test_corpus_replays_clean() -> None:
    proc = fuzz.replay(fuzz.corpus_files())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "runtime error" not in proc.stderr
    assert f"replayed {len(fuzz.corpus_files())} inputs" in proc.stdout


def test_fuzzing_finds_nothing(tmp_path: Path) -> None:
    driver, proc = fuzz.fuzz(FUZZ_SECONDS, tmp_path)
    tail = (proc.stderr + proc.stdout)[-3000:]
    assert proc.returncode == 0, f"{driver} found a problem:\n{tail}"
    assert "ERROR:" not in proc.stderr and "runtime error" not in proc.stderr, tail
    crashes = [p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-"))]
    assert not crashes, crashes
