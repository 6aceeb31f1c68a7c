"""Model flash: the bytes of the *lean* flatbuffer the convert pipeline writes (torch-free).

:func:`hilnas.convert.lean.lean_flatbuffer` drops every tensor name but the graph's I/O,
the calibration min/max and the metadata, and writes identical constant buffers,
quantization tables, zero-point vectors and shape vectors once. Names therefore no longer
cost anything, while sharing makes a member's size depend on which vectors its blocks have
*in common*. Measured over 167 hybrid chains, a fit that counts every quantization table
and shape vector per tensor misses by up to 1.6 %; counting them the way lean shares them
stays within 0.35 %. So a model's bytes are split into

* ``fixed`` (exact, per entry): its unshared constant data, each buffer padded to 16
  bytes, plus its distinct quantization tables' scale vectors (4 B length + 4 B a scale);
  a table is shared between tensors of one block (a RESHAPE's output keeps its input's);
* ``items`` (exact, shared across the whole model): shape vectors (4 B + 4 B a dim),
  per-channel zero-point vectors (8 B length/padding + 8 B a value; all-zero vectors of
  one length are one item for the whole model) and constants stored once per network;
* one-value zero points (per-tensor activations, 16 B each distinct value): which values
  repeat depends on the data, so a member's count is modelled, not looked up, as the
  expected number of distinct values among ``n`` draws from ``ZP_POOL`` equally likely
  ones (``ZP_POOL`` = 96: on 41 hybrid chains and the smallest member it leaves -0.66 %
  on the member where a per-table term leaves -1.3 %);
* a least-squares part: intercept (header, I/O names, operator codes) + per op + per
  tensor + per quantization table (their flatbuffer tables).

Tables built before lean flatbuffers (no ``flash_model`` in their fits) keep the old
unleaned fit (:func:`legacy_bytes`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from hilnas.lut.assemble import buffer_key

#: ``fits["flash_model"]`` of a table whose flash figures are lean flatbuffer bytes.
LEAN_MODEL = "lean-2"
#: Effective number of distinct one-value zero points (see the module docstring).
ZP_POOL = 96.0
_ALIGN = 16


def align(n: int) -> int:
    """Constant data as lean stores it: each buffer starts on a 16-byte boundary."""
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def tensor_fields(shape: Sequence[int], scale: Any, zero_point: Any) -> dict[str, Any]:
    """Per-tensor facts the flash model needs, recorded at attribution time.

    ``qt`` keys the whole quantization table (scales + zero points), ``zp`` the zero-point
    vector alone (lean shares either wherever the content repeats).
    """
    out: dict[str, Any] = {"dims": [int(d) for d in shape]}
    sc = np.asarray(scale if scale is not None else [], dtype="<f4")
    if sc.size:
        zp = np.asarray(zero_point if zero_point is not None else [], dtype="<i8")
        zraw = zp.tobytes()
        out["qt"] = hashlib.sha1(sc.tobytes() + b"|" + zraw).hexdigest()[:16]
        out["scale_len"] = int(sc.size)
        out["zp"] = hashlib.sha1(zraw).hexdigest()[:16]
        out["zp_len"] = int(zp.size)
    return out


def entry_parts(e: Mapping[str, Any]) -> tuple[int, int, int, dict[str, int]]:
    """(fixed bytes, quantization tables, one-value zero points, shared items {key: bytes})
    of one entry."""
    fixed = n_zp1 = 0
    tables: set[str] = set()
    items: dict[str, int] = {}
    for t in e["tensors"]:
        if "dims" not in t:
            raise KeyError("dims")
        dims = t["dims"]
        items["s:" + ",".join(map(str, dims))] = 4 + 4 * len(dims)
        if t.get("zp") is not None and int(t["zp_len"]) > 1:
            items["z:" + t["zp"]] = 8 + 8 * int(t["zp_len"])
        elif t.get("zp") is not None:
            n_zp1 += 1
        if t.get("qt") is not None and t["qt"] not in tables:
            tables.add(t["qt"])
            fixed += 4 + 4 * int(t["scale_len"])
        if t.get("const"):
            data = align(int(t.get("data_bytes", 0)))
            key = buffer_key(t)
            if key is None:
                fixed += data
            else:
                items["c:" + key] = data
    return fixed, len(tables), n_zp1, items


def zp1_bytes(n_zp1: Any) -> Any:
    """Expected bytes of the distinct one-value zero points among ``n_zp1`` tensors."""
    return 16.0 * ZP_POOL * (1.0 - np.exp(-np.asarray(n_zp1, dtype=float) / ZP_POOL))


def exact_part(entries: Iterable[Mapping[str, Any]]) -> tuple[int, int, int]:
    """(exact bytes, quantization tables, one-value zero points) of a model of ``entries``."""
    fixed = n_quant = n_zp1 = 0
    items: dict[str, int] = {}
    for e in entries:
        f, q, z, it = entry_parts(e)
        fixed += f
        n_quant += q
        n_zp1 += z
        items.update(it)
    return fixed + sum(items.values()), n_quant, n_zp1


def sample(lean_bytes: int, templates: Iterable[Mapping[str, Any]], n_ops: int,
           n_tensors: int) -> list[float]:
    """One flash sample: (lean bytes, exact bytes, ops, tensors, quantization tables,
    one-value zero points)."""
    exact, n_quant, n_zp1 = exact_part(templates)
    return [lean_bytes, exact, n_ops, n_tensors, n_quant, n_zp1]


def fit(samples: np.ndarray) -> dict[str, Any]:
    """Least squares over samples of :func:`sample` (the exact part has coefficient 1)."""
    if len(samples) < 5:
        return {"model": LEAN_MODEL, "intercept": 0.0, "per_op": 0.0, "per_tensor": 0.0,
                "per_quant": 0.0, "max_rel_err": 0.0}
    y = samples[:, 0] - samples[:, 1] - zp1_bytes(samples[:, 5])
    a = np.column_stack([np.ones(len(samples)), samples[:, 2], samples[:, 3], samples[:, 4]])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    rel = np.abs(a @ coef - y) / samples[:, 0]
    return {"model": LEAN_MODEL, "intercept": float(coef[0]), "per_op": float(coef[1]),
            "per_tensor": float(coef[2]), "per_quant": float(coef[3]),
            "max_rel_err": float(rel.max())}


def model_bytes(f: Mapping[str, float], exact: float, n_ops: Any, n_tensors: Any,
                n_quant: Any, n_zp1: Any) -> Any:
    """Predicted lean model bytes (scalars or numpy arrays)."""
    return (exact + zp1_bytes(n_zp1) + f["intercept"] + f["per_op"] * n_ops
            + f["per_tensor"] * n_tensors + f["per_quant"] * n_quant)


def legacy_bytes(f: Mapping[str, float], const: float, names: float, n_ops: Any,
                 n_tensors: Any) -> Any:
    """An old table's unleaned figure: constants + names + per op + per tensor."""
    return const + names + f["intercept"] + f["per_op"] * n_ops + f["per_tensor"] * n_tensors


def is_lean(fits: Mapping[str, Any]) -> bool:
    return fits.get("flash_model") == LEAN_MODEL


def weighted_union(masks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum of ``weights`` over the set bits of each row of ``masks`` (uint64 words).

    Per byte of the masks a 256-entry lookup table holds the weight sum of its 8 bits, so
    a batch costs one gather per mask byte instead of one per bit.
    """
    n, words = masks.shape
    w = np.zeros(words * 64)
    w[:len(weights)] = weights
    bits = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little")
    luts = bits @ w.reshape(-1, 8).T  # (256, words*8): weight of byte value v at position j
    as_bytes = np.ascontiguousarray(masks).view(np.uint8).reshape(n, words * 8)
    total = np.zeros(n)
    for j in range(words * 8):
        total += luts[as_bytes[:, j], j]
    return total
