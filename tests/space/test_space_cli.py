"""``hilnas space show|sample``: real command-line runs through the dispatcher."""

from __future__ import annotations

import json

from hilnas.cli import main
from hilnas.space import get_space, load_arch


def test_space_show_lists_knobs_and_signatures(capsys) -> None:
    assert main(["space", "show", "--space", "cnn"]) == 0
    out = capsys.readouterr().out
    assert "s1b0.kernel" in out and "mbconv-input:" in out
    assert f"{get_space('cnn').size():,}" in out.replace("\n", "")


def test_space_sample_is_seeded_and_writes_valid_arch_files(tmp_path, capsys) -> None:
    assert main(["space", "sample", "--space", "hybrid", "--n", "3", "--seed", "7"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert main(["space", "sample", "--space", "hybrid", "--n", "3", "--seed", "7"]) == 0
    assert capsys.readouterr().out.splitlines() == first
    assert len({json.dumps(json.loads(line), sort_keys=True) for line in first}) == 3
    assert main(["space", "sample", "--space", "hybrid", "--n", "2", "-o", str(tmp_path)]) == 0
    space, arch = load_arch(tmp_path / "arch_1.json")
    assert space.name == "hybrid" and space.validate(arch) == arch


def test_unknown_space_is_a_clean_error(capsys) -> None:
    assert main(["space", "show", "--space", "transformer-xl"]) == 2
    assert "unknown search space" in capsys.readouterr().err
