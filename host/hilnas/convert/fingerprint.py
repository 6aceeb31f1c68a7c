"""What a conversion's output depends on besides its input: the converter itself.

Caches of converted models (deploy, LUT measurement models) key on this, so a
change to the converter's own code (e.g. a new post-conversion step) or to a
pinned converter package is a cache miss, never a stale model reused silently.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

CONVERT_DIR = Path(__file__).resolve().parent
#: Packages whose versions change what a conversion writes.
CONVERTER_PACKAGES = ("torch", "litert-torch", "ai-edge-quantizer", "onnx2tf", "tensorflow-cpu",
                      "onnx", "tflite-micro")


def package_versions() -> dict[str, str]:
    """Installed versions of the converter packages ("absent" for a missing one)."""
    out = {}
    for name in CONVERTER_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


@cache
def converter_fingerprint() -> str:
    """sha256 over hilnas.convert's sources (path + content) and the package versions."""
    h = hashlib.sha256()
    for path in sorted(CONVERT_DIR.rglob("*.py")):
        h.update(str(path.relative_to(CONVERT_DIR)).encode())
        h.update(path.read_bytes())
    for name, version in sorted(package_versions().items()):
        h.update(f"{name}={version}".encode())
    return h.hexdigest()[:16]
