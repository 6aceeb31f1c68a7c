"""Content-keyed cache of converted models (measurement chains and validation members).

Why: converting is most of a table build (torch export + int8 quantization, seconds per
model), while the board run is a second or two. A converted model depends only on what
the model is and on the converter, never on the board or the engine, so

* building the same space's table for another board (mps2-an385) reuses every
  conversion and only runs the board;
* rebuilding a table after an engine change re-measures on QEMU only;
* validating the same space on another board costs board time only.

The key is a sha256 over: what is converted (the chain's block specs or the member's
architecture, as canonical JSON), the weights seed, the converter route, the converter's
own fingerprint (:func:`hilnas.convert.fingerprint.converter_fingerprint`: its sources and
the converter package versions) and the sources that build the torch model
(``hilnas/space/``, ``hilnas/lut/modelgen.py`` for chains, ``hilnas/lut/members.py`` for
whole members). A converter change that makes
flatbuffers leaner therefore invalidates the cache, and the flash part of a table comes
from fresh conversions. Files live under ``.hilnas-cache/lut-conv/`` (or
``$HILNAS_CACHE/lut-conv``), two-level fan-out, written atomically (a conversion killed
with ``kill -9`` leaves no half file behind).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
PKG_ROOT = Path(__file__).resolve().parents[1]
#: Sources that build the torch model a conversion starts from (the converter's own
#: sources are in its fingerprint).
SOURCE_PARTS = ("space", "lut/modelgen.py", "lut/members.py")


def cache_root() -> Path:
    base = Path(os.environ.get("HILNAS_CACHE", REPO_ROOT / ".hilnas-cache"))
    return base / "lut-conv"


def converter_versions() -> dict[str, str]:
    """Installed versions of the converter packages (recorded in a table's header)."""
    from hilnas.convert.fingerprint import package_versions

    return package_versions()


def source_hash(root: Path = PKG_ROOT, parts: tuple[str, ...] = SOURCE_PARTS) -> str:
    """sha256 over the model-deciding sources (relative path + bytes, sorted)."""
    h = hashlib.sha256()
    for part in parts:
        p = root / part
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def converter_fingerprint(route: str) -> str:
    """What a conversion's bytes depend on apart from the model: route, the converter's
    fingerprint (sources + package versions), the model-building sources."""
    from hilnas.convert.fingerprint import converter_fingerprint as convert_fp

    text = json.dumps({"route": route, "converter": convert_fp(), "sources": source_hash()},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def conversion_key(what: str, spec: Any, seed: int, route: str) -> str:
    """Content key of one conversion (``what``: 'chain' or 'member')."""
    text = json.dumps({"what": what, "spec": spec, "seed": seed,
                       "converter": converter_fingerprint(route)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_path(key: str, root: Path | None = None) -> Path:
    """Where the conversion with ``key`` lives (it may not exist yet)."""
    root = root or cache_root()
    return root / key[:2] / f"{key}.tflite"


def lean_copy(path: Path) -> Path:
    """The lean flatbuffer of the converted model at ``path``, written beside it once.

    Boards run it (the bytes the convert pipeline writes and a user deploys: the model
    slot holds it where the named conversion may not fit); attribution reads the named
    file, whose op and tensor indices it shares (:func:`hilnas.convert.lean.lean_flatbuffer`).
    """
    from hilnas.convert.lean import lean_flatbuffer
    from hilnas.fileio import atomic_write_bytes

    out = path.with_name(path.stem + ".lean.tflite")
    if not out.exists():
        atomic_write_bytes(out, lean_flatbuffer(path.read_bytes(), str(path)))
    return out
