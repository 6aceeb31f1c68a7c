"""Deploy a searched member to a board, from flash, and prove it there.

Public API:

``deploy(arch_path, ckpt, board, out_dir, options=DeployOptions(), log=print) -> DeployReport``
    Extract (optionally fine-tune), convert with every check, refuse what does not fit
    the board's budget (before building), build the firmware with the model linked into
    flash, flash it, verify on the device (bit-exact with TFLM on a test subset,
    accuracy, latency, arena, stack, flash and SRAM against budgets and predictions) and
    write ``out_dir`` (ELF/HEX/BIN, .tflite, C array, LUT used, report.md + report.json).
    ``options.predicted`` takes a prediction (keys in :data:`PREDICTION_KEYS`: latency in
    the board's unit, arena_bytes, sram_bytes, flash_bytes, model_bytes, n_ops, n_tensors).

``read_report(path) -> DeployReport``
    A report.json back as the typed record (checks ``schema_version``).

``model_figures(budget, model_bytes, arena_bytes, n_ops, n_tensors, stream)`` /
``refuse_if_over(board, figures)``
    The budget check on its own (what the search's constraints mean on the board).

Errors: :class:`BudgetExceededError`, :class:`DeviceMismatchError`,
:class:`MissingMeasurementError` (all :class:`~hilnas.errors.HilnasError`).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "deploy": "hilnas.deploy.pipeline",
    "DeployOptions": "hilnas.deploy.pipeline",
    "PREDICTION_KEYS": "hilnas.deploy.pipeline",
    "DeployReport": "hilnas.deploy.report",
    "SCHEMA_VERSION": "hilnas.deploy.report",
    "read_report": "hilnas.deploy.report",
    "BudgetExceededError": "hilnas.deploy.budget",
    "Figure": "hilnas.deploy.budget",
    "model_figures": "hilnas.deploy.budget",
    "refuse_if_over": "hilnas.deploy.budget",
    "DeviceMismatchError": "hilnas.deploy.verify",
    "MissingMeasurementError": "hilnas.deploy.verify",
    "verify_on_board": "hilnas.deploy.verify",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hilnas.deploy' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
