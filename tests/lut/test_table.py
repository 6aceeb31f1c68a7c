"""Table files: atomic round trip, clear errors for missing/corrupt/foreign files."""

from __future__ import annotations

import json

import pytest
from hilnas.errors import ConfigError
from hilnas.lut.table import SCHEMA_VERSION, LutMissError, LutTable, load_table, route_for


def test_round_trip(tmp_path) -> None:
    t = LutTable({"board": "b", "space": "s", "route": "litert", "clock_hz": 1, "unit": "x"},
                 {"k": {"latency": 3}})
    path = t.save(tmp_path / "t.json")
    back = load_table(path)
    assert back.entries == {"k": {"latency": 3}} and route_for(back) == "litert"
    assert not list(tmp_path.glob(".*tmp*"))  # no temp file left behind


def test_missing_corrupt_and_foreign_files_name_the_path(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_table(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 1, "meta": {')
    with pytest.raises(ConfigError, match="not a valid LUT"):
        load_table(bad)
    bad.write_text(json.dumps({"schema": SCHEMA_VERSION + 1, "meta": {}, "entries": {}}))
    with pytest.raises(ConfigError, match="schema"):
        load_table(bad)


def test_miss_lists_every_key() -> None:
    t = LutTable({"space": "s"}, {})
    with pytest.raises(LutMissError) as err:
        t.entry("mbconv-input:8x8x8")
    assert err.value.keys == ["mbconv-input:8x8x8"]
