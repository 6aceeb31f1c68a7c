"""Where a model to convert comes from: pluggable *model sources* for ``hilnas convert``.

A :class:`ModelSource` adds its own CLI options and turns parsed arguments into a
:class:`LoadedModel` (module, static input shape, calibration and held-out sets), or
returns None when its options were not given. ``--model`` is one source,
and ``--arch ARCH.json --ckpt C`` (a supernet member, :func:`from_subnet`) the second;
a new source is one more entry of :data:`MODEL_SOURCES`, and neither the convert handler
nor the parser changes.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hilnas.errors import ConfigError

if TYPE_CHECKING:  # numpy is imported by the handler, not by `hilnas --help`
    import numpy as np

#: Synthetic samples for built-in models when no --calib is given.
SYNTHETIC_CALIB_COUNT = 32
SYNTHETIC_HELDOUT_COUNT = 16


@dataclass
class LoadedModel:
    """Everything :func:`hilnas.convert.convert` needs, plus where it came from."""

    module: object  # torch.nn.Module (kept untyped so this module imports without torch)
    input_shape: tuple[int, ...]
    calib: np.ndarray | None
    heldout: np.ndarray | None
    label: str
    calib_source: str


def parse_shape(text: str) -> tuple[int, ...]:
    """``1x3x96x96`` -> (1, 3, 96, 96); anything non-static is a ConfigError."""
    parts = text.lower().replace(",", "x").split("x")
    dims = []
    for i, part in enumerate(parts):
        try:
            value = int(part)
        except ValueError:
            raise ConfigError(f"dynamic or invalid --input-shape {text!r}: dimension {i} is"
                              f" {part!r}; TFLM needs static sizes like 1x3x96x96") from None
        if value <= 0:
            raise ConfigError(f"dynamic or invalid --input-shape {text!r}: dimension {i} is"
                              f" {value}; TFLM needs positive static sizes like 1x3x96x96")
        dims.append(value)
    return tuple(dims)


def _import_target(spec: str) -> object:
    """Resolve ``pkg.module:attr`` or ``path/to/file.py:attr``."""
    if ":" not in spec:
        raise ConfigError(f"--model {spec!r}: expected pkg.module:factory, file.py:factory or"
                          " a built-in name (mbv2, mobilevit)")
    target, attr = spec.rsplit(":", 1)
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise ConfigError(f"--model {spec!r}: file {path} does not exist")
        name = f"hilnas_user_model_{abs(hash(path.resolve()))}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise ConfigError(f"--model {spec!r}: cannot load {path} as Python")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise ConfigError(f"--model {spec!r}: importing {path} failed:"
                              f" {type(exc).__name__}: {exc}") from exc
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ConfigError(f"--model {spec!r}: cannot import {target}: {exc}") from exc
    if not hasattr(module, attr):
        raise ConfigError(f"--model {spec!r}: {target} has no attribute {attr!r}")
    return getattr(module, attr)


def _build(spec: str, factory: Callable[[], object]) -> object:
    from torch import nn

    try:
        model = factory() if callable(factory) and not isinstance(factory, nn.Module) else factory
    except Exception as exc:
        raise ConfigError(f"--model {spec!r}: the factory raised {type(exc).__name__}: {exc}") \
            from exc
    if not isinstance(model, nn.Module):
        raise ConfigError(f"--model {spec!r} gave {type(model).__name__}, not a torch.nn.Module")
    return model


def add_model_spec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="pkg.module:factory, file.py:factory, or built-in"
                        " mbv2 / mobilevit")


def from_model_spec(args: argparse.Namespace) -> LoadedModel | None:
    """The ``--model`` source: a built-in name or an importable factory."""
    spec = getattr(args, "model", None)
    if spec is None:
        return None
    from hilnas.models import INPUT_SHAPE, REFERENCE_MODELS

    builtin = spec in REFERENCE_MODELS or spec.startswith("hilnas.models")
    factory = REFERENCE_MODELS[spec] if spec in REFERENCE_MODELS else _import_target(spec)
    module = _build(spec, factory)  # type: ignore[arg-type]
    if args.input_shape:
        shape = parse_shape(args.input_shape)
    elif builtin:
        shape = INPUT_SHAPE
    else:
        raise ConfigError(f"--model {spec}: --input-shape is required for user models")
    return attach_data(args, module, shape, spec, builtin)


def attach_data(args: argparse.Namespace, module: object, shape: tuple[int, ...], label: str,
                builtin: bool) -> LoadedModel:
    """Add --calib/--heldout (or, for built-in models only, synthetic sets) to a model."""
    from hilnas.convert.calib import CALIB_SEED, HELDOUT_SEED, load_npy, synthetic_images

    heldout = load_npy(args.heldout, "held-out") if args.heldout else None
    if args.calib:
        return LoadedModel(module, shape, load_npy(args.calib), heldout, label, str(args.calib))
    if not builtin:  # convert() raises the specific 'missing calibration set' error
        return LoadedModel(module, shape, None, heldout, label, "none")
    calib = synthetic_images(SYNTHETIC_CALIB_COUNT, shape, CALIB_SEED)
    if heldout is None:
        heldout = synthetic_images(SYNTHETIC_HELDOUT_COUNT, shape, HELDOUT_SEED)
    return LoadedModel(module, shape, calib, heldout, label,
                       f"synthetic (built-in model, seed {CALIB_SEED}; no --calib given)")


def add_subnet_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", type=Path, help="ARCH.json of a search-space member"
                        " (with --ckpt: weights inherited from that supernet)")
    parser.add_argument("--ckpt", type=Path, help="supernet checkpoint (supernet.pt) for --arch")


def from_subnet(args: argparse.Namespace) -> LoadedModel | None:
    """The ``--arch A --ckpt C`` source: a member extracted from a trained supernet.

    Calibration and held-out sets default to the checkpoint's own dataset (training and
    validation splits at the member's resolution); --calib/--heldout override them.
    """
    arch, ckpt = getattr(args, "arch", None), getattr(args, "ckpt", None)
    if arch is None and ckpt is None:
        return None
    if arch is None or ckpt is None:
        missing = "--ckpt" if ckpt is None else "--arch"
        raise ConfigError(f"--arch and --ckpt go together: {missing} is missing")
    if getattr(args, "model", None) is not None:
        raise ConfigError("give either --model or --arch/--ckpt, not both")
    from hilnas.convert.calib import load_npy
    from hilnas.supernet import load_subnet

    sub = load_subnet(arch, ckpt)
    if args.input_shape and parse_shape(args.input_shape) != sub.input_shape:
        raise ConfigError(f"--input-shape {args.input_shape} contradicts {arch}, whose input is"
                          f" {'x'.join(map(str, sub.input_shape))}; leave --input-shape out")
    calib, calib_source = sub.calib, f"{sub.dataset} training split ({len(sub.calib)} images)"
    if args.calib:
        calib, calib_source = load_npy(args.calib), str(args.calib)
    heldout = load_npy(args.heldout, "held-out") if args.heldout else sub.heldout
    return LoadedModel(sub.module, sub.input_shape, calib, heldout, f"{arch} @ {ckpt.name}",
                       calib_source)


@dataclass(frozen=True)
class ModelSource:
    """One way to name a model on the command line (options + loader)."""

    name: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    load: Callable[[argparse.Namespace], LoadedModel | None]


#: Tried in order; the first whose options were given provides the model.
MODEL_SOURCES: list[ModelSource] = [
    ModelSource("subnet", add_subnet_arguments, from_subnet),
    ModelSource("model", add_model_spec_arguments, from_model_spec),
]


def load_model(args: argparse.Namespace) -> LoadedModel:
    for source in MODEL_SOURCES:
        loaded = source.load(args)
        if loaded is not None:
            return loaded
    raise ConfigError("no model given: use --model pkg.module:factory (or mbv2 / mobilevit),"
                      " or --arch ARCH.json --ckpt supernet.pt")
