"""Output files are written whole or not at all — the one writer of every hilnas file.

Every file hilnas produces (models, reports, checkpoints, arch JSON, profiles) goes
through here: a temp file in the destination folder, then an atomic rename. A kill or a
full disk therefore never leaves half a file where a later stage (or a resumed run)
would trust it. A command that writes several files that belong together (a .tflite,
its report, its C pair) uses :class:`OutputSet`: all of them appear, or none.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from hilnas.errors import ConfigError, OutputError

Writer = Callable[[IO[bytes]], None]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _failed(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")


def _write_temp(path: Path, write: Writer) -> Path:
    """``write`` into a new temp file next to ``path``; returns the temp path.

    The temp file lives in the destination folder so that the final rename never crosses
    a file system (which would make it a non-atomic copy).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _failed(path, exc) from exc
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _failed(path, exc) from exc
        raise
    return tmp


def _place(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _failed(path, exc) from exc


def atomic_write_with(path: Path, write: Writer) -> None:
    """Atomically create ``path`` from what ``write`` puts into a binary file object
    (for writers that want a file, e.g. ``torch.save``)."""
    path = Path(path)
    _place(_write_temp(path, write), path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write_with(path, lambda f: f.write(data))


def json_text(obj: object, indent: int = 2) -> str:
    """The one JSON layout of every file hilnas writes (indented, trailing newline)."""
    return json.dumps(obj, indent=indent) + "\n"


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, obj: object, indent: int = 2) -> None:
    atomic_write_text(path, json_text(obj, indent))


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """Read a JSON object that hilnas (or a user) wrote; a missing file, broken JSON or a
    non-object is a :class:`ConfigError` that names the file and ``what`` it should be."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: {what} must be a JSON object, not {type(data).__name__}")
    return data


class OutputSet:
    """Several files that belong together: all of them are written, or none.

    ``add_*`` writes each file whole under a temp name in its destination folder; leaving
    the ``with`` block normally renames them all into place. Any failure — a write, a
    rename, or an exception in the caller's own code inside the block — removes every
    temp file and every file already renamed, so no later stage finds a .tflite without
    its report. (A file that an earlier run left under one of the names is replaced or,
    on failure, removed: never left half-updated next to new siblings.)
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temp, final)
        self._placed: list[Path] = []

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

    def add_bytes(self, path: Path, data: bytes) -> Path:
        path = Path(path)
        if any(final == path for _, final in self._staged):
            raise OutputError(f"cannot write {path}: the same output is named twice")
        try:
            self._staged.append((_write_temp(path, lambda f: f.write(data)), path))
        except BaseException:
            self.discard()
            raise
        return path

    def add_text(self, path: Path, text: str) -> Path:
        return self.add_bytes(path, text.encode())

    def add_json(self, path: Path, obj: object, indent: int = 2) -> Path:
        return self.add_text(path, json_text(obj, indent))

    def commit(self) -> tuple[Path, ...]:
        """Rename every staged file into place; on any failure, undo all of them."""
        try:
            while self._staged:
                tmp, path = self._staged[0]
                _place(tmp, path)
                self._staged.pop(0)
                self._placed.append(path)
        except BaseException:
            self.discard()
            raise
        placed, self._placed = tuple(self._placed), []
        return placed

    def discard(self) -> None:
        """Remove every temp file and every file this set already put in place."""
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        for path in self._placed:
            path.unlink(missing_ok=True)
        self._staged, self._placed = [], []
