"""``hilnas deploy``: a searched member onto a board, from flash, verified there."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hilnas.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "deploy",
        help="deploy a member to a board (model in flash) and verify it on the device",
        description="Extract ARCH from the supernet (optionally fine-tune), convert it to "
        "int8 with every check, refuse it if it does not fit the board, build the firmware "
        "with the model linked into flash, flash it, and verify on the device: outputs "
        "bit-exact with TFLM on test images, accuracy, latency, SRAM and flash. Writes "
        "ELF/HEX/BIN, the .tflite, its C array and report.md/report.json to -o.",
    )
    p.add_argument("arch", type=Path, metavar="ARCH.json", help="the member to deploy")
    p.add_argument("--board", required=True,
                   help="device profile name (hilnas boards), or a profile file *.yaml "
                   "(budgets are checked against it; firmware builds need the shipped one)")
    p.add_argument("--supernet", required=True, type=Path, metavar="CKPT",
                   help="supernet checkpoint (supernet.pt) the member inherits weights from")
    p.add_argument("-o", "--out", required=True, type=Path, metavar="OUT",
                   help="output folder (replaced as a whole when the deploy succeeds)")
    p.add_argument("--finetune-epochs", type=int, default=0, metavar="N",
                   help="fine-tune the extracted member for N epochs (supernet's recipe)")
    p.add_argument("--stream", action="store_true",
                   help="keep the streaming firmware: upload the model into the RAM slot")
    p.add_argument("--route", default=None,
                   help="conversion route (onnx2tf, litert or auto; default: the --lut "
                   "table's route, so its prediction holds, else auto: the converter's "
                   "per-model order)")
    p.add_argument("--test-images", type=int, default=50, metavar="K",
                   help="test images checked bit-exact on the device (default 50)")
    p.add_argument("--runs", type=int, default=5, help="timed runs for the latency figure")
    p.add_argument("--lut", type=Path, default=None,
                   help="latency LUT: copied into OUT, and used for a prediction when "
                   "hilnas.lut is installed")
    p.add_argument("--predicted", default=None, metavar="JSON",
                   help="prediction to compare with: a JSON file or inline JSON with keys "
                   "latency, arena_bytes, sram_bytes, flash_bytes, model_bytes, n_ops, n_tensors")
    p.add_argument("--port", default=None, help="serial port of a real board")
    p.add_argument("--probe", default=None, help="debug probe serial number (flashing)")
    p.add_argument("--tool", choices=("pyocd", "openocd", "st-flash"), default=None,
                   help="flasher for a real board (default: the board profile's)")
    p.set_defaults(handler=_run)


def parse_predicted(text: str | None) -> dict[str, Any] | None:
    """``--predicted``: a JSON file or inline JSON object; anything else is a ConfigError."""
    if text is None:
        return None
    source = text
    if not text.lstrip().startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise ConfigError(f"--predicted {text!r}: neither a file nor inline JSON")
        source = path.read_text()
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--predicted: not valid JSON ({exc.msg} at line {exc.lineno})") \
            from None
    if not isinstance(data, dict):
        raise ConfigError("--predicted: expected a JSON object of figure -> number")
    return data


def _run(args: argparse.Namespace) -> int:
    from hilnas.deploy import DeployOptions, deploy

    options = DeployOptions(
        finetune_epochs=args.finetune_epochs, stream=args.stream, route=args.route,
        test_images=args.test_images, runs=args.runs, predicted=parse_predicted(args.predicted),
        lut=args.lut, port=args.port, probe=args.probe, flash_tool=args.tool,
    )
    if args.lut is not None and not args.lut.is_file():
        raise ConfigError(f"--lut {args.lut}: file does not exist")
    report = deploy(args.arch, args.supernet, args.board, args.out, options)
    acc = report.accuracy
    print(f"{report.status}: {report.device['bit_exact_images']}/{report.test_images} test "
          f"images bit-exact with TFLM; top-1 device {acc['device']:.2%}, TFLM {acc['tflm']:.2%};"
          f" report {args.out / 'report.md'}")
    return 0
