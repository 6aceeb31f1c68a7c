"""The one writer (hilnas.fileio): whole files, and sets of files that appear all or none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hilnas.errors import OutputError
from hilnas.fileio import OutputSet, atomic_write_json, atomic_write_with


def test_output_set_places_every_file_with_the_usual_mode(tmp_path: Path) -> None:
    with OutputSet() as out:
        out.add_bytes(tmp_path / "a.bin", b"\x00\x01")
        out.add_json(tmp_path / "sub" / "a.json", {"k": [1, 2]})
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "sub" / "a.json").read_text() == '{\n  "k": [\n    1,\n    2\n  ]\n}\n'
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_failed_rename_removes_the_files_already_placed(tmp_path: Path) -> None:
    (tmp_path / "b.json").mkdir()  # the last output's name is taken by a folder
    with pytest.raises(OutputError, match=r"cannot write .*b.json"), OutputSet() as out:
        out.add_bytes(tmp_path / "a.tflite", b"model")
        out.add_text(tmp_path / "a.c", "int x;")
        out.add_json(tmp_path / "b.json", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]


def test_an_error_in_the_block_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="caller failed"), OutputSet() as out:
        out.add_bytes(tmp_path / "a.tflite", b"model")
        raise RuntimeError("caller failed")
    assert list(tmp_path.iterdir()) == []


def test_the_same_output_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="named twice"), OutputSet() as out:
        out.add_bytes(tmp_path / "a", b"1")
        out.add_bytes(tmp_path / "a", b"2")
    assert list(tmp_path.iterdir()) == []


def test_a_failing_writer_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.pt"
    atomic_write_json(path, {"epoch": 1})

    def broken(f) -> None:  # type: ignore[no-untyped-def]
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match=r"ckpt.pt: No space left on device"):
        atomic_write_with(path, broken)
    assert path.read_text() == '{\n  "epoch": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]
