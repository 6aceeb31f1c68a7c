"""Deploy end to end on the emulated board: a real tiny supernet, a real conversion, real
firmware with the model in flash, real QEMU, real TFLM as the oracle.

One deploy (module fixture) carries the success path; refusals and a mismatch reuse its
conversion (cached by member + checkpoint) and firmware build (cached by model bytes), so
each costs seconds, not a conversion.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hilnas.board.profiles import PROFILE_DIR
from hilnas.cli import main
from hilnas.deploy import (
    SCHEMA_VERSION,
    DeployOptions,
    DeviceMismatchError,
    deploy,
    read_report,
)
from hilnas.space import get_space, save_arch
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

pytestmark = [pytest.mark.slow, pytest.mark.qemu]

BOARD = "mps2-an386"
IMAGES = 4


@pytest.fixture(scope="module")
def arch_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("arch") / "smallest.json"
    save_arch(get_space("cnn").smallest(), path)
    return path


@pytest.fixture(scope="module")
def deployed(tiny_supernet: Path, arch_path: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, dict[str, Any], list[str]]:
    out = tmp_path_factory.mktemp("deploy") / "out"
    lines: list[str] = []
    deploy(arch_path, tiny_supernet, BOARD, out,
           DeployOptions(test_images=IMAGES, runs=2,
                         predicted={"latency": 1_000_000, "model_bytes": 30_000}),
           log=lines.append)
    return out, json.loads((out / "report.json").read_text()), lines


def test_member_runs_from_flash_bit_exact_with_tflm(deployed) -> None:
    out, report, lines = deployed
    model = (out / "model.tflite").read_bytes()
    dev = report["device"]
    assert report["schema_version"] == SCHEMA_VERSION and report["status"] == "verified on device"
    assert report["load_path"] == "flash" and dev["load_path"] == "flash"
    # the board said it links exactly this model and loaded it with this CRC
    assert dev["identity"]["builtin_model_bytes"] == len(model)
    assert dev["model_crc32"] == zlib.crc32(model)
    assert dev["images"] == dev["bit_exact_images"] == report["test_images"] == IMAGES
    assert 0.0 <= report["accuracy"]["device"] == report["accuracy"]["tflm"] <= 1.0
    assert dev["latency_median"] > 0 and dev["arena_bytes"] > 0 and len(dev["ops"]) == dev["n_ops"]
    # flash image from the ELF holds the model; the budget table covers every figure
    assert report["memory"]["flash_image_bytes"] > len(model)
    names = {f["name"] for f in report["budget"] + report["memory_checks"]}
    assert {"model flash", "arena", "ops", "tensors", "SRAM used", "flash image"} <= names
    by_figure = {c["figure"]: c for c in report["comparisons"]}
    assert by_figure["model"]["measured"] == len(model)
    assert by_figure["latency (board unit)"]["measured"] == dev["latency_median"]
    for name in ("firmware.elf", "firmware.hex", "firmware.bin", "model.tflite", "model.c",
                 "model.h", "arch.json", "plot_latency.png", "plot_budgets.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "firmware.bin").read_bytes().find(model) >= 0  # linked into the image
    md = (out / "report.md").read_text()
    assert md.count("](data:image/png;base64,") == 2 and f"{IMAGES} of {IMAGES}" in md
    assert any(line.startswith("[6/7] verify") for line in lines)
    again = read_report(out / "report.json")
    assert again.to_json() == report and again.comparisons[0].error is not None


def _tight_profile(tmp_path: Path, edit: dict[str, Any]) -> Path:
    data = yaml.safe_load((PROFILE_DIR / f"{BOARD}.yaml").read_text())
    for dotted, value in edit.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    path = tmp_path / f"{BOARD}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("figure", ["flash", "arena", "ops"])
def test_model_that_does_not_fit_is_refused_before_building(
    deployed, tiny_supernet: Path, arch_path: Path, tmp_path: Path, capsys, figure: str
) -> None:
    _, report, _ = deployed
    need = {f["name"]: f["needed"] for f in report["budget"]}
    fw_flash = yaml.safe_load((PROFILE_DIR / f"{BOARD}.yaml").read_text())["firmware"]
    edit, expected = {
        "flash": ({"flash_bytes": fw_flash["flash_bytes"] + need["model flash"] - 1000},
                  f"model needs {need['model flash']:,} B of flash, the board has "
                  f"{need['model flash'] - 1000:,} B for a model: 1,000 B over"),
        "arena": ({"engine.arena_bytes": need["arena"] - 512},
                  f"model needs {need['arena']:,} B of tensor arena (SRAM), the board has "
                  f"{need['arena'] - 512:,} B for a model: 512 B over"),
        "ops": ({"engine.max_ops": need["ops"] - 3},
                f"model needs {need['ops']:,} ops in its graph, the board has "
                f"{need['ops'] - 3:,} ops for a model: 3 ops over"),
    }[figure]
    out = tmp_path / "out"
    code = main(["deploy", str(arch_path), "--board", str(_tight_profile(tmp_path, edit)),
                 "--supernet", str(tiny_supernet), "-o", str(out), "--test-images", "2"])
    captured = capsys.readouterr()
    assert code == 2
    assert expected in " ".join(captured.err.split()), captured.err
    assert "refused before building" in captured.err
    assert "[4/7]" not in captured.out  # no firmware build started
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def _negate_largest_weights(model: bytes) -> bytes:
    """The same graph with its largest constant tensor negated: a different oracle."""
    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    data = max((np.asarray(b.data, np.uint8).tobytes() for b in m.buffers if b.data is not None),
               key=len)
    at = model.find(data)
    assert at > 0 and model.find(data, at + 1) < 0, "weights not found once in the flatbuffer"
    flipped = (-np.frombuffer(data, np.int8).astype(np.int16)).clip(-128, 127).astype(np.int8)
    return model[:at] + flipped.tobytes() + model[at + len(data):]


def test_output_that_differs_from_tflm_fails_the_deploy(
    deployed, tiny_supernet: Path, arch_path: Path, tmp_path: Path
) -> None:
    out, _, _ = deployed
    wrong = tmp_path / "wrong.tflite"
    wrong.write_bytes(_negate_largest_weights((out / "model.tflite").read_bytes()))
    target = tmp_path / "out"
    with pytest.raises(DeviceMismatchError) as err:
        deploy(arch_path, tiny_supernet, BOARD, target,
               DeployOptions(test_images=2, runs=1, reference=wrong), log=lambda _: None)
    e = err.value
    assert e.image == 0 and e.byte >= 0 and e.board_value != e.tflm_value
    assert (f"first at image 0, byte {e.byte}: board {e.board_value}, TFLM {e.tflm_value}"
            in str(e))
    assert not target.exists() and not list(tmp_path.glob(".out.*"))


def test_real_board_firmware_links_the_model_into_its_flash(deployed, tmp_path: Path) -> None:
    """Real boards are compile-tested only: the deploy image for one builds and fits."""
    from hilnas.board.build import build_firmware
    from hilnas.board.profiles import load_profile
    from hilnas.deploy.firmware import export_images, image_memory

    out, _, _ = deployed
    model = (out / "model.tflite").read_bytes()
    profile = load_profile("nucleo-l4r5zi")
    images = export_images(build_firmware(profile, builtin_model=out / "model.tflite").elf,
                           tmp_path)
    mem = image_memory(images["elf"])
    assert len(model) < mem.flash_bytes <= profile.flash_bytes
    assert mem.flash_bytes - len(model) <= profile.firmware_flash_bytes
    binary = images["bin"].read_bytes()
    assert mem.flash_bytes <= len(binary) < mem.flash_bytes + 1024  # alignment gaps only
    assert binary.find(model) > 0  # the model is in the flash image
    assert images["hex"].read_text().startswith(":")


def test_stream_keeps_the_streaming_firmware_and_checks_the_ram_slot(
    deployed, tiny_supernet: Path, arch_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    report = deploy(arch_path, tiny_supernet, BOARD, out,
                    DeployOptions(test_images=2, runs=1, stream=True), log=lambda _: None)
    assert report.load_path == "uart" and report.device["bit_exact_images"] == 2
    assert report.budget[0]["name"] == "model slot"
    assert report.device["identity"]["builtin_model_bytes"] == 0  # nothing linked into flash
    assert "model slot" in report.memory_checks[-1]["source"]
