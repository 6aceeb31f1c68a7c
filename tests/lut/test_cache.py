"""Conversion cache keys: what changes a converted model's bytes changes the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hilnas.convert import fingerprint
from hilnas.lut import cache
from hilnas.lut.cache import cached_path, conversion_key, source_hash

PKG = Path(cache.__file__).resolve().parents[1]
SPEC = [{"kind": "conv", "name": "stem", "input_hwc": [32, 32, 3]}]


def test_key_is_stable_and_covers_spec_seed_route() -> None:
    k = conversion_key("chain", SPEC, 0, "litert")
    assert k == conversion_key("chain", [dict(d) for d in SPEC], 0, "litert")
    others = {conversion_key("chain", SPEC, 1, "litert"),
              conversion_key("chain", SPEC, 0, "onnx2tf"),
              conversion_key("member", SPEC, 0, "litert"),
              conversion_key("chain", [{**SPEC[0], "name": "s1b0"}], 0, "litert")}
    assert k not in others and len(others) == 4
    assert cached_path(k).name == f"{k}.tflite" and cached_path(k).parent.name == k[:2]


def test_a_converter_change_changes_every_key(monkeypatch) -> None:
    """A leaner flatbuffer writer in hilnas/convert must not reuse old conversions."""
    before = conversion_key("chain", SPEC, 0, "litert")
    monkeypatch.setattr(fingerprint, "converter_fingerprint", lambda: "another converter")
    cache.converter_fingerprint.cache_clear()
    try:
        assert conversion_key("chain", SPEC, 0, "litert") != before
    finally:
        monkeypatch.undo()
        cache.converter_fingerprint.cache_clear()
    assert conversion_key("chain", SPEC, 0, "litert") == before


def test_model_building_source_change_changes_the_hash(tmp_path) -> None:
    for part in cache.SOURCE_PARTS:
        src, dst = PKG / part, tmp_path / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dst)
    before = source_hash(tmp_path)
    assert before == source_hash(PKG)
    with (tmp_path / "lut" / "modelgen.py").open("a") as f:
        f.write("\n# changed\n")
    assert source_hash(tmp_path) != before


@pytest.mark.slow
def test_a_member_conversion_follows_from_its_key(tmp_path) -> None:
    """The same member and seed convert to the same bytes in one process, after other
    conversions have drawn from torch's generator (a cached file must be what its key says)."""
    import hashlib
    import warnings

    from hilnas.lut import Predictor, StaleTableWarning, load_table
    from hilnas.lut.members import convert_member

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleTableWarning)
        pred = Predictor(load_table(PKG.parents[1] / "lut" / "mps2-an386" / "cnn.json"))
    arch = pred.space.smallest()
    digests = []
    for k in range(2):
        out = tmp_path / f"m{k}.tflite"
        convert_member("cnn", arch.to_json(), pred.table.route, 3, str(out))
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
