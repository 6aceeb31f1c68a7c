"""Search spaces, looked up by name: ``get_space("hybrid")``.

The registry is a flat name → factory dict (timm/pymoo habit); tests parametrise over
:func:`list_spaces`, so a new entry is tested for free. Each name fixes every knob range,
so an arch JSON (``{"space": name, "values": {...}}``) is enough to rebuild its network.

* ``hybrid`` / ``vit-resnas`` / ``cnn``: small-input variants (32-48 px), the embedded
  default (digits, CI);
* ``hybrid-vww`` / ``cnn-vww``: 64/80/96 px inputs for Visual Wake Words-like data;
* ``hybrid-unfold``: ``hybrid`` with MobileViT's unfold as the patch knob instead of
  key/value pooling (same knobs and weights; see :mod:`hilnas.space.hybrid`).
"""

from __future__ import annotations

from collections.abc import Callable

from hilnas.errors import SpaceError
from hilnas.space.base import Arch, BlockSpec, Knob, SearchSpace, read_arch_json, save_arch
from hilnas.space.cnn import CnnSpace
from hilnas.space.hybrid import HybridSpace
from hilnas.space.vit_resnas import VitResNASSpace


def _named(space: SearchSpace, name: str) -> SearchSpace:
    space.name = name
    return space


SPACES: dict[str, Callable[[], SearchSpace]] = {
    "hybrid": HybridSpace,
    "vit-resnas": VitResNASSpace,
    "cnn": CnnSpace,
    "hybrid-vww": lambda: _named(
        HybridSpace(resolutions=(64, 80, 96), num_classes=2), "hybrid-vww"
    ),
    "hybrid-unfold": lambda: _named(HybridSpace(patch_op="unfold"), "hybrid-unfold"),
    "cnn-vww": lambda: _named(CnnSpace(resolutions=(64, 80, 96), num_classes=2), "cnn-vww"),
}


def list_spaces() -> list[str]:
    return sorted(SPACES)


def get_space(name: str) -> SearchSpace:
    """The space registered under ``name`` (fresh instance; spaces are cheap and stateless)."""
    try:
        return SPACES[name]()
    except KeyError:
        raise SpaceError(
            f"unknown search space {name!r}; known: {', '.join(list_spaces())}"
        ) from None


def load_arch(path) -> tuple[SearchSpace, Arch]:  # type: ignore[no-untyped-def]
    """Read an arch JSON file and validate it against its own space."""
    data = read_arch_json(path)
    space = get_space(str(data["space"]))
    return space, space.from_json(data)


__all__ = [
    "SPACES",
    "Arch",
    "BlockSpec",
    "Knob",
    "SearchSpace",
    "get_space",
    "list_spaces",
    "load_arch",
    "save_arch",
]
