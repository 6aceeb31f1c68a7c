"""Board-measured latency/memory lookup tables and the predictor the search calls.

``load_table(path)`` reads a table (lut/<board>/<space>.json); ``Predictor(table,
budget)`` predicts a member (``predict``: every figure incl. the exact arena) or a batch
(``predict_many``: latency, flash, op/tensor counts at >100k/s; with ``arena=True`` also
the exact arena and full feasibility at >5k/s, see bench/lut.py); ``route_for(table)``
names the converter route members must be converted with for the figures to hold.
``hilnas lut build|validate|show`` are the command-line faces. Importing this package
pulls in neither torch nor a converter.
"""

from hilnas.lut.predict import Budget, Prediction, Predictor, check_engine_hash
from hilnas.lut.table import LutMissError, LutTable, StaleTableWarning, load_table, route_for

__all__ = [
    "Budget",
    "LutMissError",
    "LutTable",
    "Prediction",
    "Predictor",
    "StaleTableWarning",
    "check_engine_hash",
    "load_table",
    "route_for",
]
