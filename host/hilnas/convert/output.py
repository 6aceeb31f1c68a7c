"""Fail before converting if the output cannot be written (writes go through hilnas.fileio)."""

from __future__ import annotations

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
