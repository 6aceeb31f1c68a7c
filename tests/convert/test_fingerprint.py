"""The converter fingerprint that conversion caches key on (deploy, LUT)."""

from __future__ import annotations

import shutil
from pathlib import Path

import hilnas.convert.fingerprint as fp


def test_fingerprint_changes_with_the_converters_sources(tmp_path: Path, monkeypatch) -> None:
    """A copy of hilnas.convert gives the same fingerprint; one changed byte gives another."""
    copy = tmp_path / "convert"
    shutil.copytree(fp.CONVERT_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fp, "CONVERT_DIR", copy)
    fp.converter_fingerprint.cache_clear()
    same = fp.converter_fingerprint()
    (copy / "lean.py").write_text((copy / "lean.py").read_text() + "\n# changed\n")
    fp.converter_fingerprint.cache_clear()
    changed = fp.converter_fingerprint()
    fp.converter_fingerprint.cache_clear()
    monkeypatch.undo()
    assert same == fp.converter_fingerprint()
    assert changed != same


def test_fingerprint_covers_the_pinned_converter_packages() -> None:
    versions = fp.package_versions()
    assert set(versions) == set(fp.CONVERTER_PACKAGES)
    assert versions["tensorflow-cpu"] != "absent" and versions["litert-torch"] != "absent"
