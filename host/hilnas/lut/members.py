"""Converting whole members and measurement chains for the tables (torch side, cached).

Why a module of its own: the build (chains, flash anchors) and ``lut validate`` (random
members) both convert in spawned worker processes into the content-keyed cache
(:mod:`hilnas.lut.cache`) and size the lean copy the board runs; one place for it keeps
build -> anchors -> members and validate -> members one-way.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

from hilnas.lut.predict import Predictor


def spawn_context() -> Any:
    """Worker processes are spawned, never forked: torch and TensorFlow hold threads."""
    return multiprocessing.get_context("spawn")


def member_path(pred: Predictor, arch: Any, seed: int, work: Path | None = None) -> Path:
    """Where the member's conversion lives: the content-keyed cache (:mod:`hilnas.lut.cache`),
    so another board's validation of the same space converts nothing; ``work`` instead
    when given (tests)."""
    from hilnas.lut.cache import cached_path, conversion_key

    key = conversion_key("member", {"space": pred.space.name, "arch": arch.to_json()}, seed,
                         pred.table.route)
    return Path(work) / f"member_{key}.tflite" if work is not None else cached_path(key)


def convert_member(space_name: str, arch_json: dict[str, Any], route: str, seed: int,
                   out: str) -> float:
    """Worker: build (random weights, the chains' BN treatment) and convert one member.

    The weights come from ``seed`` (torch's global generator, which the space's layers
    draw from at construction): the cache key names the seed, so the bytes must follow
    from it, not from whatever the worker process converted before.
    """
    import torch

    from hilnas.lut.modelgen import convert_plain, randomize_bn
    from hilnas.space import get_space

    t = time.monotonic()
    space = get_space(space_name)
    arch = space.from_json(arch_json)
    torch.manual_seed(seed)
    model = randomize_bn(space.build(arch), seed)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    convert_plain(model, space.input_shape(arch), route, Path(out), seed)
    return time.monotonic() - t


def convert_members(pred: Predictor, members: list[Any], seed: int, work: Path | None,
                    jobs: int = 1) -> list[Path]:
    """Converted models of ``members`` (member i with weights seed ``seed + i``), from the
    cache or converted now in ``jobs`` processes."""
    from concurrent.futures import ProcessPoolExecutor

    paths = [member_path(pred, a, seed + i, work) for i, a in enumerate(members)]
    todo = [(i, p) for i, p in enumerate(paths) if not p.exists()]
    if not todo:
        return paths
    args = [(pred.space.name, members[i].to_json(), pred.table.route, seed + i, str(p))
            for i, p in todo]
    def note(k: int) -> None:
        print(f"lut: converted {k}/{len(todo)} members "
              f"({len(paths) - len(todo)} from the conversion cache)", file=sys.stderr, flush=True)

    if jobs <= 1:
        for k, a in enumerate(args):
            convert_member(*a)
            note(k + 1)
    else:
        from concurrent.futures import as_completed

        with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn_context()) as pool:
            for k, f in enumerate(as_completed([pool.submit(convert_member, *a) for a in args])):
                f.result()
                note(k + 1)
    return paths


def parse_chain_lean(path: Path, op_data_sizes: Any) -> Any:
    """Attribute the converted (named) model at ``path``; its ``lean_bytes`` are what the
    convert pipeline would write for it (:func:`hilnas.convert.lean.lean_flatbuffer`,
    which keeps tensor and op indices, so the attribution holds for the lean model too)."""
    from hilnas.lut.attribute import parse_chain
    from hilnas.lut.cache import lean_copy

    parsed = parse_chain(path.read_bytes(), op_data_sizes)
    parsed.lean_bytes = lean_copy(path).stat().st_size
    return parsed


def flash_sample(parsed: Any) -> list[float]:
    """One flash-fit sample of a converted model (a chain or a whole member) parsed by
    :func:`parse_chain_lean`: :func:`hilnas.lut.flash.sample` over its own tensors."""
    from hilnas.lut.flash import sample

    return sample(parsed.lean_bytes, [dataclasses.asdict(t) for t in parsed.blocks.values()],
                  parsed.n_ops, parsed.n_tensors)
