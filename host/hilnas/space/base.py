"""What every search space shares: knobs, encodings, sampling and signatures.

A space is *declarative*: a subclass lists its knobs (name + ordered choices) in
one place, ``_knobs()``, and says how an architecture unrolls into blocks,
``_blocks(arch)``. Everything else — the integer-vector and JSON encodings,
uniform sampling, mutation, crossover, the smallest/largest members, the exact
size of the space, the latency-table signatures and the static PyTorch model —
is derived here, so a new space cannot get any of those subtly wrong.

Why blocks are the unit: the latency tables (OFA-style) key their entries on a
stable per-block string, and the supernet shares weights per block name. Both
come from the same :class:`BlockSpec` list, so they cannot drift apart.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hilnas.errors import ConfigError, SpaceError
from hilnas.fileio import atomic_write_json, read_json_object
from hilnas.space import geometry

if TYPE_CHECKING:
    from torch import nn

Value = int | float
_N_PARAMS = attrgetter("n_params")


@dataclass(frozen=True)
class Knob:
    """One searchable hyper-parameter and its ordered choices (small → large).

    ``active_if`` names a depth knob and the depth from which this knob takes
    effect; per-block knobs of blocks beyond the active depth do not change the
    network, which :meth:`SearchSpace.size` accounts for.
    """

    name: str
    choices: tuple[Value, ...]
    active_if: tuple[str, int] | None = None

    def index(self, value: Value) -> int:
        for i, choice in enumerate(self.choices):
            if choice == value:
                return i
        raise SpaceError(f"knob {self.name!r}: {value!r} is not one of {list(self.choices)}")


@dataclass(frozen=True)
class Arch:
    """A member of a space: the space name and one value per knob."""

    space: str
    values: Mapping[str, Value]

    def __getitem__(self, name: str) -> Value:
        return self.values[name]

    def to_json(self) -> dict[str, Any]:
        return {"space": self.space, "values": dict(self.values)}


@dataclass(frozen=True)
class BlockSpec:
    """One block of a concrete network, with the shapes it sees.

    ``name`` is the module path shared by the static model and the supernet
    (weights are inherited by name); ``params`` are the block's own settings
    (``kernel``, ``expand`` ...), all ints, in a fixed order for signatures.
    Shapes are (height, width, channels) as a board sees them (NHWC).
    """

    kind: str
    name: str
    input_hwc: tuple[int, int, int]
    output_hwc: tuple[int, int, int]
    params: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    def param(self, key: str) -> int:
        return dict(self.params)[key]

    def signature(self) -> str:
        """OFA-style latency-table key.

        Example: ``mbconv-input:16x16x16-output:8x8x24-expand:64-kernel:3-stride:2``.
        """
        h, w, c = self.input_hwc
        ho, wo, co = self.output_hwc
        parts = [self.kind, f"input:{h}x{w}x{c}", f"output:{ho}x{wo}x{co}"]
        parts += [f"{k}:{v}" for k, v in self.params]
        return "-".join(parts)

    @cached_property
    def n_params(self) -> int:
        """Trainable parameters of this block's module (analytic, torch-free; cached: the
        spaces reuse BlockSpec objects, so a search counts each distinct block once)."""
        return geometry.block_param_count(self)


class SearchSpace:
    """Base class: subclasses fill ``name``, ``_knobs`` and ``_blocks``; the rest is shared."""

    name: str = ""
    num_classes: int = 10
    in_channels: int = 3

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        self.num_classes = num_classes
        self.in_channels = in_channels
        self._knob_list = tuple(self._knobs())
        self._by_name = {k.name: k for k in self._knob_list}
        if len(self._by_name) != len(self._knob_list):
            raise SpaceError(f"space {self.name!r} declares a knob twice")
        self._names = frozenset(self._by_name)
        self._name_order = tuple(k.name for k in self._knob_list)
        self._choice_sets = tuple(frozenset(k.choices) for k in self._knob_list)

    # ------------------------------------------------------------ TO BE OVERWRITTEN
    def _knobs(self) -> Sequence[Knob]:
        raise NotImplementedError

    def _blocks(self, arch: Arch) -> list[BlockSpec]:
        """The blocks of ``arch`` in execution order (stem and head included)."""
        raise NotImplementedError

    # ------------------------------------------------------------ knobs and values
    @property
    def knobs(self) -> tuple[Knob, ...]:
        return self._knob_list

    def knob(self, name: str) -> Knob:
        return self._by_name[name]

    def make(self, values: Mapping[str, Value]) -> Arch:
        """Validate ``values`` (every knob present, every value a legal choice) into an Arch."""
        if self._all_legal(values):  # the fast path: a search validates every candidate
            names = self._name_order
            return Arch(self.name, dict(zip(names, map(values.__getitem__, names), strict=True)))
        missing = [k.name for k in self._knob_list if k.name not in values]
        extra = [n for n in values if n not in self._by_name]
        if missing or extra:
            raise SpaceError(f"space {self.name!r}: missing knobs {missing}, unknown knobs {extra}")
        for knob in self._knob_list:
            knob.index(values[knob.name])
        return Arch(self.name, {k.name: values[k.name] for k in self._knob_list})

    def _all_legal(self, values: Mapping[str, Value]) -> bool:
        try:
            return values.keys() == self._names and all(map(
                frozenset.__contains__, self._choice_sets,
                map(values.__getitem__, self._name_order)))
        except TypeError:  # an unhashable value: the slow path names it
            return False

    def validate(self, arch: Arch) -> Arch:
        if arch.space != self.name:
            raise SpaceError(f"architecture belongs to space {arch.space!r}, not {self.name!r}")
        return self.make(arch.values)

    # ------------------------------------------------------------ encodings
    def encode(self, arch: Arch) -> list[int]:
        """Integer vector: the choice index of every knob, in declaration order."""
        arch = self.validate(arch)
        return [k.index(arch.values[k.name]) for k in self._knob_list]

    def decode(self, vector: Sequence[int]) -> Arch:
        if len(vector) != len(self._knob_list):
            raise SpaceError(
                f"space {self.name!r} has {len(self._knob_list)} knobs, "
                f"got a vector of {len(vector)}"
            )
        values: dict[str, Value] = {}
        for knob, idx in zip(self._knob_list, vector, strict=True):
            if not 0 <= int(idx) < len(knob.choices):
                raise SpaceError(
                    f"knob {knob.name!r}: index {idx} out of 0..{len(knob.choices) - 1}"
                )
            values[knob.name] = knob.choices[int(idx)]
        return Arch(self.name, values)

    def bounds(self) -> list[int]:
        """Number of choices per position of the integer vector (for samplers/optimisers)."""
        return [len(k.choices) for k in self._knob_list]

    def from_json(self, data: Mapping[str, Any]) -> Arch:
        if data.get("space") != self.name:
            raise SpaceError(f"arch JSON is for space {data.get('space')!r}, not {self.name!r}")
        values = data.get("values")
        if not isinstance(values, Mapping):
            raise SpaceError("arch JSON has no 'values' object")
        return self.make(values)

    # ------------------------------------------------------------ members
    def smallest(self) -> Arch:
        return self.decode([0] * len(self._knob_list))

    def largest(self) -> Arch:
        return self.decode([len(k.choices) - 1 for k in self._knob_list])

    def sample(self, rng: random.Random) -> Arch:
        """Uniform over the integer vector (each knob independently)."""
        return self.decode([rng.randrange(len(k.choices)) for k in self._knob_list])

    def mutate(self, arch: Arch, rng: random.Random, prob: float = 0.1) -> Arch:
        """Resample each knob with probability ``prob``; at least one knob always changes."""
        vec = self.encode(arch)
        changed = False
        for i, knob in enumerate(self._knob_list):
            if len(knob.choices) > 1 and rng.random() < prob:
                vec[i] = self._other_choice(vec[i], len(knob.choices), rng)
                changed = True
        if not changed:
            movable = [i for i, k in enumerate(self._knob_list) if len(k.choices) > 1]
            i = rng.choice(movable)
            vec[i] = self._other_choice(vec[i], len(self._knob_list[i].choices), rng)
        return self.decode(vec)

    @staticmethod
    def _other_choice(current: int, n: int, rng: random.Random) -> int:
        pick = rng.randrange(n - 1)
        return pick if pick < current else pick + 1

    def crossover(self, a: Arch, b: Arch, rng: random.Random) -> Arch:
        """Uniform crossover: each knob from either parent with probability 1/2."""
        va, vb = self.encode(a), self.encode(b)
        return self.decode([x if rng.random() < 0.5 else y for x, y in zip(va, vb, strict=True)])

    def size(self) -> int:
        """Number of distinct networks (knobs of inactive blocks do not count)."""
        free = [k for k in self._knob_list if k.active_if is None]
        total = math.prod(len(k.choices) for k in free if not self._is_depth(k))
        for depth_knob in (k for k in free if self._is_depth(k)):
            total *= sum(self._depth_combos(depth_knob, d) for d in depth_knob.choices)
        return total

    def _is_depth(self, knob: Knob) -> bool:
        return any(k.active_if is not None and k.active_if[0] == knob.name for k in self._knob_list)

    def _depth_combos(self, depth_knob: Knob, depth: Value) -> int:
        gated = [k for k in self._knob_list if k.active_if and k.active_if[0] == depth_knob.name]
        return math.prod(len(k.choices) for k in gated if k.active_if[1] <= int(depth))  # type: ignore[index]

    # ------------------------------------------------------------ networks
    def blocks(self, arch: Arch) -> list[BlockSpec]:
        """The blocks of ``arch`` in execution order (validated first).

        Torch-free and fast (a search unrolls every candidate): a legal arch is used as
        it is; only an illegal one takes :meth:`validate`'s path, which names the knob.
        """
        if arch.space != self.name or not self._all_legal(arch.values):
            arch = self.validate(arch)
        return self._blocks(arch)

    def block_signatures(self, arch: Arch) -> list[str]:
        """Stable per-block keys (with NHWC input/output shapes) for latency tables."""
        return [b.signature() for b in self.blocks(arch)]

    def resolution(self, arch: Arch) -> int:
        return int(arch["resolution"])

    def input_shape(self, arch: Arch) -> tuple[int, int, int, int]:
        """NCHW input shape of ``arch`` with batch 1."""
        r = self.resolution(arch)
        return (1, self.in_channels, r, r)

    def build(self, arch: Arch) -> nn.Module:
        """A static PyTorch model for ``arch`` (plain nn layers, freshly initialised)."""
        from hilnas.space.blocks import build_network

        return build_network(self.blocks(arch))

    def param_count(self, arch: Arch) -> int:
        """Trainable parameters of ``arch`` (~ its int8 flash bytes), counted analytically
        from its blocks (no torch; equal to the built model's ``numel`` sum, tested)."""
        return sum(map(_N_PARAMS, self.blocks(arch)))


# ---------------------------------------------------------------- arch files
def save_arch(arch: Arch, path: Path) -> None:
    """Write an arch JSON atomically (hilnas.fileio), never half a file."""
    atomic_write_json(Path(path), arch.to_json())


def read_arch_json(path: Path) -> dict[str, Any]:
    data = read_json_object(path, "arch file")
    if "space" not in data:
        raise ConfigError(f"{path}: arch JSON needs a 'space' and a 'values' object")
    return data
