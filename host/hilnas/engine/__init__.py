"""Python binding of the hilnas C inference engine (host-native build).

``Engine(model_bytes)`` loads a ``.tflite``, ``set_input`` / ``invoke`` /
``get_output`` run it, ``op_records()`` gives per-op times, and
``arena_required`` is the arena the engine planned. The native library is
compiled from firmware/engine automatically on first use (see build.py).
"""

from __future__ import annotations

from hilnas.engine.binding import Engine, OpRecord, TensorInfo, builtin_name, load_library
from hilnas.engine.build import build_library

__all__ = ["Engine", "OpRecord", "TensorInfo", "build_library", "builtin_name", "load_library"]
