"""The ``hilnas`` command line: one subcommand group per pipeline stage.

Each stage lives in its own module exposing ``register(subparsers)``; this file
only wires them together and turns :class:`~hilnas.errors.HilnasError` into a
clean message and a non-zero exit. Heavy imports (torch, TensorFlow) happen
inside the command handlers so that ``hilnas --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from hilnas import __version__
from hilnas.errors import HilnasError

# Order here is the order in `hilnas --help`; it follows the data flow.
GROUP_MODULES = (
    "hilnas.cli.space_cmds",
    "hilnas.cli.convert_cmds",
    "hilnas.cli.engine_cmds",
    "hilnas.cli.board_cmds",
    "hilnas.cli.lut_cmds",
    "hilnas.cli.search_cmds",
    "hilnas.cli.deploy_cmds",
    "hilnas.cli.demo_cmds",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hilnas",
        description="Hardware-in-the-loop NAS for hybrid vision transformers on Cortex-M.",
    )
    parser.add_argument("--version", action="version", version=f"hilnas {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in GROUP_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # stage not built yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # TensorFlow's C++ INFO lines would bury the figures the commands print.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except HilnasError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
