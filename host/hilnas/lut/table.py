"""A versioned latency/memory lookup table: header (how it was built) + entries by signature.

The file is JSON, written atomically (temp file + rename), so a build killed at any
moment leaves either the previous complete table or the new one, never half of one.
Entries are keyed by :meth:`BlockSpec.signature` and hold the block's converted ops
(instruction counts per op, scratch/persistent bytes) and tensors, which is everything the
predictor needs to rebuild a member without converting it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hilnas.errors import ConfigError, HilnasError
from hilnas.fileio import atomic_write_text

SCHEMA_VERSION = 1


class LutMissError(HilnasError):
    """An architecture needs entries the table does not have; ``keys`` lists them."""

    def __init__(self, table: str, keys: list[str]) -> None:
        shown = ", ".join(keys[:8]) + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")
        super().__init__(f"table {table} has no entry for {len(keys)} block(s): {shown};"
                         " rebuild it with `hilnas lut build` (it resumes and adds them)")
        self.keys = keys


class StaleTableWarning(UserWarning):
    """The table was measured on an engine whose sources differ from the current ones."""


@dataclass
class LutTable:
    meta: dict[str, Any]
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    fits: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    # ------------------------------------------------------------ header shortcuts
    @property
    def board(self) -> str:
        return str(self.meta["board"])

    @property
    def space(self) -> str:
        return str(self.meta["space"])

    @property
    def route(self) -> str:
        return str(self.meta["route"])

    @property
    def clock_hz(self) -> float:
        return float(self.meta["clock_hz"])

    @property
    def unit(self) -> str:
        return str(self.meta["unit"])

    def entry(self, key: str) -> dict[str, Any]:
        try:
            return self.entries[key]
        except KeyError:
            raise LutMissError(str(self.path or self.space), [key]) from None

    # ------------------------------------------------------------ I/O
    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "meta": self.meta, "fits": self.fits,
                "entries": dict(sorted(self.entries.items()))}

    def save(self, path: Path | None = None) -> Path:
        path = Path(path or self.path or "")
        if not str(path):
            raise ConfigError("table has no path to save to")
        atomic_write_text(path, json.dumps(self.to_json(), separators=(",", ":")) + "\n")
        self.path = path
        return path


def load_table(path: Path) -> LutTable:
    """Read a table; a missing, corrupt or foreign-schema file is a ConfigError naming it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: LUT file does not exist (build it with `hilnas lut build`)")\
            from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not a valid LUT ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"{path}: LUT schema {found!r}, this hilnas reads {SCHEMA_VERSION}")
    for key in ("meta", "entries"):
        if not isinstance(data.get(key), dict):
            raise ConfigError(f"{path}: LUT has no {key!r} object")
    return LutTable(data["meta"], data["entries"], data.get("fits", {}), path)


def route_for(table: LutTable) -> str:
    """The conversion route members must use for the table's predictions to hold."""
    return table.route
