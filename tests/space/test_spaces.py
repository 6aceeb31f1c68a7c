"""Every registered space: encodings round-trip, sampling/mutation/crossover stay inside
the space, sizes are exact, signatures are stable and match the real tensor shapes, and
every layer is int8-TFLM-friendly by construction."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys

import pytest
import torch
from hilnas.errors import ConfigError, SpaceError
from hilnas.space import Arch, Knob, SearchSpace, get_space, list_spaces, load_arch, save_arch
from hilnas.space.base import BlockSpec
from torch import nn

SPACES = list_spaces()


def members(space: SearchSpace, n: int = 8, seed: int = 0) -> list[Arch]:
    rng = random.Random(seed)
    return [space.smallest(), space.largest()] + [space.sample(rng) for _ in range(n)]


@pytest.mark.parametrize("name", SPACES)
def test_vector_and_json_round_trip(name: str, tmp_path) -> None:
    space = get_space(name)
    for i, arch in enumerate(members(space)):
        assert space.decode(space.encode(arch)) == arch
        path = tmp_path / f"a{i}.json"
        save_arch(arch, path)
        loaded_space, loaded = load_arch(path)
        assert loaded_space.name == name and loaded == arch
        assert json.loads(path.read_text())["space"] == name


@pytest.mark.parametrize("name", SPACES)
def test_sample_mutate_crossover_stay_in_space(name: str) -> None:
    space = get_space(name)
    rng = random.Random(1)
    bounds = space.bounds()
    for _ in range(30):
        a, b = space.sample(rng), space.sample(rng)
        m = space.mutate(a, rng, prob=0.05)
        assert m != a  # at least one knob always changes
        c = space.crossover(a, b, rng)
        for va, vb, vc, n in zip(
            space.encode(a), space.encode(b), space.encode(c), bounds, strict=True
        ):
            assert 0 <= vc < n and vc in (va, vb)


def test_sampling_covers_every_choice() -> None:
    space = get_space("hybrid")
    rng = random.Random(0)
    seen = [set() for _ in space.knobs]
    for _ in range(300):
        for i, idx in enumerate(space.encode(space.sample(rng))):
            seen[i].add(idx)
    assert [len(s) for s in seen] == space.bounds()


def test_invalid_values_name_the_knob() -> None:
    space = get_space("hybrid")
    values = dict(space.largest().values)
    values["s3.heads"] = 3
    with pytest.raises(SpaceError, match=r"s3\.heads"):
        space.make(values)
    with pytest.raises(SpaceError, match="missing knobs"):
        space.make({"resolution": 32})
    with pytest.raises(SpaceError, match="index 7"):
        space.decode([7] * len(space.knobs))
    with pytest.raises(SpaceError, match="not 'hybrid'"):
        space.validate(get_space("cnn").largest())


def test_bad_arch_files_are_reported_by_path(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_arch(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=str(bad)):
        load_arch(bad)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"space": "nope", "values": {}}))
    with pytest.raises(SpaceError, match="unknown search space 'nope'"):
        load_arch(unknown)


class _TinyGated(SearchSpace):
    name = "tiny"

    def _knobs(self) -> list[Knob]:
        return [
            Knob("resolution", (8,)),
            Knob("depth", (1, 2)),
            Knob("b0", (3, 5), active_if=("depth", 1)),
            Knob("b1", (3, 5, 7), active_if=("depth", 2)),
            Knob("w", (1, 2)),
        ]

    def _blocks(self, arch: Arch) -> list[BlockSpec]:
        return []


def test_size_counts_distinct_networks_only() -> None:
    space = _TinyGated()
    # depth 1: b0 (2) x w (2) = 4; depth 2: b0 (2) x b1 (3) x w (2) = 12
    distinct = set()
    for vec in itertools.product(*(range(n) for n in space.bounds())):
        a = space.decode(vec)
        active = tuple(
            a[k.name] for k in space.knobs if not k.active_if or k.active_if[1] <= a["depth"]
        )
        distinct.add(active)
    assert space.size() == len(distinct) == 16


@pytest.mark.parametrize("name", SPACES)
def test_signatures_are_stable_and_match_tensor_shapes(name: str) -> None:
    space = get_space(name)
    for arch in members(space, n=4):
        specs = space.blocks(arch)
        assert space.block_signatures(arch) == get_space(name).block_signatures(arch)
        assert len({s.name for s in specs}) == len(specs)
        model = space.build(arch).eval()
        x = torch.zeros(space.input_shape(arch))
        for spec in specs[:-1]:
            assert tuple(x.shape[1:]) == (spec.input_hwc[2], *spec.input_hwc[:2]), spec.name
            x = model.get_submodule(spec.name)(x)
            assert tuple(x.shape[1:]) == (spec.output_hwc[2], *spec.output_hwc[:2]), spec.name
        assert model(torch.zeros(space.input_shape(arch))).shape == (1, space.num_classes)


def test_signature_format_is_ofa_like() -> None:
    space = get_space("cnn")
    sigs = space.block_signatures(space.largest())
    assert sigs[0] == "conv-input:48x48x3-output:24x24x16-kernel:3-stride:2"
    assert sigs[1] == "mbconv-input:24x24x16-output:24x24x16-expand:96-kernel:7-stride:1"
    assert sigs[-1] == "head-input:6x6x64-output:1x1x10-classes:10"


FORBIDDEN = (nn.GELU, nn.LayerNorm, nn.GroupNorm, nn.SiLU, nn.Sigmoid)


@pytest.mark.parametrize("name", SPACES)
def test_layers_are_int8_tflm_friendly(name: str) -> None:
    space = get_space(name)
    for arch in members(space, n=4):
        model = space.build(arch)
        bad = [n for n, m in model.named_modules() if isinstance(m, FORBIDDEN)]
        assert not bad, f"float-only layers in {name}: {bad}"
        for spec in space.blocks(arch):
            if spec.kind == "attention":
                assert spec.input_hwc[2] % spec.param("heads") == 0
                pooled = spec.input_hwc[0] // spec.param("patch")
                assert pooled >= 2 or spec.input_hwc[0] < 2  # no single-key softmax


@pytest.mark.parametrize("name", SPACES)
def test_analytic_param_count_equals_the_built_models(name: str) -> None:
    """30 seeded members plus the smallest and largest of every space: the torch-free count
    is exactly sum(p.numel()) of the built model, block by block."""
    space = get_space(name)
    archs = members(space, n=30, seed=11)
    for arch in archs:
        model = space.build(arch)
        for spec in space.blocks(arch):
            want = sum(p.numel() for p in model.get_submodule(spec.name).parameters())
            assert spec.n_params == want, (name, spec.signature())
        assert space.param_count(arch) == sum(p.numel() for p in model.parameters())
    assert 0 < space.param_count(archs[0]) < space.param_count(archs[1])


def test_the_space_and_its_geometry_import_without_torch() -> None:
    code = ("import random, sys, hilnas.space as s\n"
            "for name in s.list_spaces():\n"
            "    sp = s.get_space(name); a = sp.sample(random.Random(0))\n"
            "    sp.param_count(a); [b.signature() for b in sp.blocks(a)]\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
