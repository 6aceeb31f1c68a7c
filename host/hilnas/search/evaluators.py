"""Black-box evaluators of the expensive objectives.

:class:`SupernetAccuracy` reads an architecture's inherited validation accuracy off a
trained supernet (extraction + BatchNorm recalibration + scoring, see
:mod:`hilnas.supernet`), caches it per architecture and keeps the evaluations/s figure the
run reports. :class:`~hilnas.search.tabular.TableEvaluator` looks values up in a table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hilnas.search.tabular import TableEvaluator


class SupernetAccuracy:
    """``accuracy`` of architectures, inherited from a supernet checkpoint (lazy load)."""

    def __init__(self, ckpt: Path, split: str = "val") -> None:
        self.ckpt = Path(ckpt)
        self.split = split
        self._trained: Any = None
        self.cache: dict[str, float] = {}
        self.seconds = 0.0
        self.count = 0

    @property
    def trained(self) -> Any:
        if self._trained is None:
            from hilnas.supernet import load_supernet

            self._trained = load_supernet(self.ckpt)
        return self._trained

    def __call__(self, archs: Sequence[Any]) -> list[dict[str, float]]:
        out = []
        for arch in archs:
            key = json.dumps(arch.to_json(), sort_keys=True)
            if key not in self.cache:
                t0 = time.perf_counter()
                self.cache[key] = float(self.trained.evaluate(arch, self.split))
                self.seconds += time.perf_counter() - t0
                self.count += 1
            out.append({"accuracy": self.cache[key]})
        return out

    @property
    def evaluations_per_s(self) -> float | None:
        return self.count / self.seconds if self.seconds > 0 else None


__all__ = ["SupernetAccuracy", "TableEvaluator"]
