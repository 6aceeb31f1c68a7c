"""Property test: members spread over each space extract, convert, pass every converter check
and run on the real TFLM interpreter.

Per space: the smallest, the largest and seeded random members (20 for ``hybrid-unfold``,
issue #10's acceptance: >= 20 members of the unfold variant; 5 for ``hybrid``, whose
blocks other than the pooling are the unfold variant's too and whose members the LUT,
demo and deploy tests also convert; 4 for the others: CI's 45-minute budget;
``bench/supernet.py --convert-each`` sweeps more), each converted on its own by
:func:`hilnas.convert.convert` (float agreement with torch, TFLM op coverage, int8
tensors, static shapes, a TFLM run measuring the arena, int8-vs-float quality on held-out
digits). Members run at the space's smallest input resolution to keep CI affordable (the
layers and ops are the same at every resolution), except every fourth ``hybrid-unfold``
member, which runs at 48 px: the unfold's patch is clamped per map size, and only 48 px
maps (6x6) unfold 3x3 patches (32 px ones unfold 2x2; 40 px ones are full attention).
Weights come from a supernet trained for one epoch: untrained members give near-constant
logits, against which any quantization error looks huge. ``hybrid-unfold`` members run on
the ``hybrid`` supernet's weights (same parameter names and shapes; see
:mod:`hilnas.space.hybrid`), which saves CI a second training; tests/supernet/test_supernet.py
checks the unfold variant's own elastic forward against its extracted subnets.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hilnas.convert.lean import repeated_constants
from hilnas.convert.report import ConversionReport
from hilnas.convert.tflite_reader import read_model, read_model_file
from hilnas.data import calibration_set, heldout_set
from hilnas.space import Arch, SearchSpace, get_space, save_arch
from hilnas.supernet import TrainConfig, TrainedSupernet, load_supernet, train_supernet
from hilnas.supernet.supernet import Supernet
from hilnas.tflm_ops import TFLM_INT8_OPS

#: Members converted per space in CI (each conversion costs ~15-30 s on 2 cores).
N_MEMBERS = {"hybrid": 5, "hybrid-unfold": 20, "vit-resnas": 4, "cnn": 4}
#: Input resolutions member i cycles through (default: the space's smallest).
RESOLUTIONS = {"hybrid-unfold": (32, 32, 32, 48)}
#: Spaces whose members run on another space's supernet weights (same names and shapes).
WEIGHTS_FROM = {"hybrid-unfold": "hybrid"}
CASES = [(space, i) for space, n in N_MEMBERS.items() for i in range(n)]


def spread_members(space: SearchSpace, n: int, seed: int = 0) -> list[Arch]:
    """Smallest, largest and distinct random members, at the smallest resolution (or, for
    spaces in :data:`RESOLUTIONS`, cycling through the listed ones)."""
    rng = random.Random(seed)
    resolutions = RESOLUTIONS.get(space.name, (min(space.knob("resolution").choices),))
    archs: list[Arch] = []
    for arch in [space.smallest(), space.largest()] + [space.sample(rng) for _ in range(4 * n)]:
        res = resolutions[len(archs) % len(resolutions)]
        member = space.make({**arch.values, "resolution": res})
        if member not in archs:
            archs.append(member)
        if len(archs) == n:
            return archs
    raise AssertionError(f"{space.name}: fewer than {n} distinct members")


#: Spaces whose converted members also run on the host engine, every op's output compared
#: with TFLM's (the unfold's rank-7 transposes are lowered by the converter's rewrites into
#: rank <= 5 TRANSPOSE chains the engine must reproduce bit for bit).
ENGINE_CHECKED = {"hybrid-unfold"}


def _assert_engine_bit_exact(model: bytes, seed: int) -> None:
    from hilnas import tflm
    from hilnas.engine.check import compare_with_tflm

    detail = tflm.input_details(model)[0]
    x = np.random.default_rng(seed).integers(-128, 128, size=detail["shape"], dtype=np.int8)
    check = compare_with_tflm(model, [x], all_ops=True)
    assert check.outputs_equal and check.mismatch is None, check.mismatch
    assert check.ops_compared == len(read_model(model).ops) > 0


_CKPTS: dict[str, Path] = {}
_TRAINED: dict[str, TrainedSupernet] = {}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One briefly trained supernet checkpoint per space, made on first use."""

    def get(space_name: str) -> Path:
        if space_name not in _CKPTS:
            run = tmp_path_factory.mktemp(f"supernet-{space_name}")
            cfg = TrainConfig(space=space_name, epochs=1, lr=1e-2)
            _CKPTS[space_name] = train_supernet(cfg, run, show_progress=False).ckpt_path
        return _CKPTS[space_name]

    return get


@pytest.fixture(scope="module")
def trained(checkpoint):  # type: ignore[no-untyped-def]
    def get(space_name: str) -> TrainedSupernet:
        if space_name not in _TRAINED:
            donor = load_supernet(checkpoint(WEIGHTS_FROM.get(space_name, space_name)))
            if space_name in WEIGHTS_FROM:
                supernet = Supernet(get_space(space_name))
                supernet.load_state_dict(donor.supernet.state_dict())  # strict: same names
                donor = TrainedSupernet(supernet.eval(), donor.data, donor.config)
            _TRAINED[space_name] = donor
        return _TRAINED[space_name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize(("space_name", "index"), CASES,
                         ids=[f"{s}-member{i:02d}" for s, i in CASES])
def test_member_converts_and_runs_on_tflm(trained, space_name: str, index: int,
                                          tmp_path: Path) -> None:
    from hilnas.convert import convert

    supernet = trained(space_name)
    space = supernet.space
    arch = spread_members(space, N_MEMBERS[space_name])[index]
    res = space.resolution(arch)
    result = convert(
        supernet.extract(arch),
        space.input_shape(arch),
        calibration_set(supernet.data, res, 32),
        tmp_path / "member.tflite",
        heldout=heldout_set(supernet.data, res, 32),
    )
    report = result.report
    assert all(check["passed"] for check in report.checks.values()), report
    info = read_model_file(result.tflite_path)
    ops = set(info.op_histogram())
    assert ops <= TFLM_INT8_OPS, f"{arch.values}: ops outside TFLM int8: {ops - TFLM_INT8_OPS}"
    assert report.arena_bytes > 0 and report.model_bytes == result.tflite_path.stat().st_size
    assert report.heldout.samples == 32
    out = report.int8_quality[0]
    assert np.isfinite(out.max_abs_err) and out.float_range > 0
    if space_name in ENGINE_CHECKED:
        _assert_engine_bit_exact(result.tflite_path.read_bytes(), index)
        # the unfold's lowered transposes share their shape/permutation constants, as
        # litert's own do and as the LUT predictor counts them (lut/assemble.py)
        assert repeated_constants(result.tflite_path.read_bytes()) == 0


@pytest.mark.slow
def test_cli_converts_a_member_from_arch_json_and_checkpoint(checkpoint, tmp_path: Path,
                                                             capsys) -> None:
    from hilnas.cli import main

    space = get_space("hybrid")
    arch_path = tmp_path / "member.arch.json"
    save_arch(spread_members(space, 3)[2], arch_path)
    out = tmp_path / "member.tflite"
    ckpt = checkpoint("hybrid")
    assert main(["convert", "--arch", str(arch_path), "--ckpt", str(ckpt), "-o", str(out)]) == 0
    report = ConversionReport.read(out.with_suffix(".json"))
    assert report.route in ("onnx2tf", "litert") and report.arena_bytes > 0
    assert report.calibration.source.startswith("digits training split")
    assert read_model_file(out).model_bytes == out.stat().st_size
    # The two options go together, and contradicting the member's input shape is refused.
    assert main(["convert", "--arch", str(arch_path), "-o", str(tmp_path / "x.tflite")]) == 2
    assert "--ckpt is missing" in capsys.readouterr().err
    assert main(["convert", "--arch", str(arch_path), "--ckpt", str(ckpt), "--input-shape",
                 "1x3x96x96", "-o", str(tmp_path / "x.tflite")]) == 2
    assert "contradicts" in capsys.readouterr().err
    assert not (tmp_path / "x.tflite").exists()
