"""The measurement record (hilnas.board.measure.Measurement) is what the LUT stage reads:
it must survive JSON exactly, and refuse a record of another kind or version."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hilnas.board.measure import Measurement, OpFigure
from hilnas.errors import ConfigError


def _sample() -> Measurement:
    values: dict[str, object] = {}
    for i, f in enumerate(dataclasses.fields(Measurement)):
        if f.name in ("ops", "output", "identity"):
            continue
        kind = str(f.type)
        values[f.name] = (f"v{i}" if "str" in kind else i % 2 == 0 if kind == "bool"
                          else i + 0.5 if "float" in kind else i)  # fmt: skip
    return Measurement(**values, ops=[OpFigure(0, "CONV_2D", 3, 120, 4800.0, 1.0)],
                       output=[1, -2, 3], identity={"board": "mps2-an386", "max_ops": 256})


def test_measurement_round_trips_through_json() -> None:
    m = _sample()
    data = json.loads(json.dumps(m.to_json()))
    assert data["kind"] == "hilnas.measurement" and data["version"] == 1
    back = Measurement.from_json(data)
    assert back == m and isinstance(back.ops[0], OpFigure)


def test_measurement_of_another_version_or_with_a_missing_field_is_refused() -> None:
    data = _sample().to_json()
    with pytest.raises(ConfigError, match=r"version 1, got 'hilnas\.measurement' version 2"):
        Measurement.from_json({**data, "version": 2}, source="p.json")
    del data["arena_bytes"]
    with pytest.raises(ConfigError, match=r"p\.json: missing field 'arena_bytes'"):
        Measurement.from_json(data, source="p.json")
