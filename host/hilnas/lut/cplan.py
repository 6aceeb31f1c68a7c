"""Batched exact arena planning: compiled segments in a pool, stitched and placed in C.

The greedy placement is quadratic in a member's ~200 buffers, which pure Python does
at a few hundred members a second; ``plan.c`` (next to this file) does the same work
for a whole batch in one call. It is built with the system C compiler on first use
into ``.hilnas-cache/lutplan/<source hash>/`` (like the host engine library); without
a compiler the pool falls back to :func:`hilnas.lut.segments.place` (same bytes, slower).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from hilnas.lut.segments import Segment, place, stitch

SOURCE = Path(__file__).with_name("plan.c")
FLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared")


def _cache_dir() -> Path:
    repo = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("HILNAS_CACHE", repo / ".hilnas-cache")) / "lutplan"


@lru_cache(maxsize=1)
def load() -> ctypes.CDLL | None:
    """The compiled planner, building it if needed; None when no C compiler is found."""
    cc = os.environ.get("CC", "gcc")
    if shutil.which(cc) is None:
        return None
    src = SOURCE.read_bytes()
    digest = hashlib.sha256(src + " ".join(FLAGS).encode()).hexdigest()[:16]
    lib = _cache_dir() / digest / "libhnlutplan.so"
    if not lib.exists():
        lib.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=lib.parent, suffix=".so")
        os.close(fd)
        try:
            subprocess.run([cc, *FLAGS, "-o", tmp, str(SOURCE)], check=True,
                           capture_output=True, text=True)
            os.replace(tmp, lib)
        except subprocess.CalledProcessError:
            Path(tmp).unlink(missing_ok=True)
            return None
    dll = ctypes.CDLL(str(lib))
    dll.hn_lut_plan_many.restype = ctypes.c_int
    return dll


def _ptr(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


class SegmentPool:
    """Segments by id, flattened into arrays the C planner reads."""

    def __init__(self) -> None:
        self.segs: list[Segment] = []
        self._arrays: dict[str, np.ndarray] | None = None
        self._ptrs: tuple[ctypes.c_void_p, ...] = ()

    def add(self, seg: Segment) -> int:
        self.segs.append(seg)
        self._arrays = None
        return len(self.segs) - 1

    def _flat(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            i32 = np.int32
            tens = [t for s in self.segs for t in s.tensors] or [(0, 0, 0)]
            scr = [x for s in self.segs for x in s.scratch] or [(0, 0)]
            tn = np.array([len(s.tensors) for s in self.segs], dtype=i32)
            sn = np.array([len(s.scratch) for s in self.segs], dtype=i32)
            t = np.array(tens, dtype=i32)
            sc = np.array(scr, dtype=i32)
            self._arrays = {
                "nops": np.array([s.n_ops for s in self.segs], dtype=i32),
                "open": np.array([s.open for s in self.segs], dtype=i32),
                "inlast": np.array([s.in_last for s in self.segs], dtype=i32),
                "t0": (np.cumsum(tn) - tn).astype(i32), "tn": tn,
                "s0": (np.cumsum(sn) - sn).astype(i32), "sn": sn,
                "t_size": np.ascontiguousarray(t[:, 0]), "t_first": np.ascontiguousarray(t[:, 1]),
                "t_last": np.ascontiguousarray(t[:, 2]),
                "s_size": np.ascontiguousarray(sc[:, 0]), "s_op": np.ascontiguousarray(sc[:, 1]),
                "persistent": np.array([s.persistent for s in self.segs], dtype=np.int64),
                "nbuf": (tn + sn).astype(np.int64),
            }
            self._ptrs = tuple(_ptr(self._arrays[k]) for k in (
                "nops", "open", "inlast", "t0", "tn", "s0", "sn", "t_size", "t_first", "t_last",
                "s_size", "s_op"))
        return self._arrays

    def planned(self, ids: np.ndarray) -> np.ndarray:
        """Planned bytes (no persistent) of each row of segment ids (members x segments)."""
        ids = np.ascontiguousarray(ids, dtype=np.int32)
        n, width = ids.shape
        dll = load()
        if dll is None or n == 0:
            return np.array([place(stitch([self.segs[j] for j in row])) for row in ids],
                            dtype=np.int64)
        a = self._flat()
        cap = int(a["nbuf"][ids].sum(axis=1).max())
        starts = (np.arange(n, dtype=np.int32) * width).astype(np.int32)
        counts = np.full(n, width, dtype=np.int32)
        w64 = [np.empty(cap, dtype=np.int64) for _ in range(2)]
        w32 = [np.empty(cap, dtype=np.int32), np.empty(cap, dtype=np.int32),
               np.empty(2 * cap, dtype=np.int32)]  # order + the alive list
        out = np.empty(n, dtype=np.int64)
        rc = dll.hn_lut_plan_many(
            ctypes.c_int32(n), _ptr(starts), _ptr(counts), _ptr(ids),
            *self._ptrs,
            ctypes.c_int32(cap), _ptr(w64[0]), _ptr(w32[0]), _ptr(w32[1]), _ptr(w32[2]),
            _ptr(w64[1]), _ptr(out))
        if rc != 0:
            raise RuntimeError("arena planner: work arrays too small (a bug)")
        return out

    def persistent(self, ids: np.ndarray) -> np.ndarray:
        return self._flat()["persistent"][ids].sum(axis=1)
