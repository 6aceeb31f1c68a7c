"""Output files are written whole or not at all (temp file in the same folder + rename)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hilnas.errors import ConvertError


def ensure_writable_dir(path: Path) -> None:
    """Fail before any work is done if ``path``'s folder cannot take a new file.

    We actually create and remove a probe file: permission bits lie (root, ACLs, read-only
    mounts), an attempted write does not.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConvertError(f"output path {path} is a directory; give a file name such as"
                           f" {path / 'model.tflite'}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".hilnas-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConvertError(f"output path {path} is not writable: {exc.strerror or exc}") from exc


def atomic_write_bytes(path: Path, data: bytes) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ConvertError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConvertError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_json(path: Path, obj: object) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())
