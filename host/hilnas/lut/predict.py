"""The predictor: architecture -> latency, arena, SRAM, flash, op/tensor counts, feasibility.

No torch, no conversion: every figure comes from the table's per-block entries.

* latency: sum of the block entries' per-op instruction counts (board units), and ms at
  the board clock;
* arena: exact — each block's buffers are compiled once into a segment
  (:mod:`hilnas.lut.segments`), a member's segments are stitched and placed like the
  engine's planner places them (:mod:`hilnas.lut.cplan`, C), plus persistent op data;
  :mod:`hilnas.lut.mirror` over :mod:`hilnas.lut.assemble` is the plain reference;
* flash: the lean model flatbuffer's bytes (:mod:`hilnas.lut.flash`: exact constant,
  scale, shape and zero-point bytes, shared as lean shares them, plus a linear fit over
  op, tensor and quantization-table counts); plus the firmware's flash;
* op/tensor counts: exact (constants the converter shares between blocks counted once).

``predict_many`` is the fast path for search: it splits a member into stages, learns
(by probing the space) which knobs decide each stage's input shape and blocks, and
compiles per-stage cost tables, so a batch is a few numpy gathers; with ``arena=True``
each stage also has a stitched segment and one C call plans the whole batch.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hilnas.errors import ConfigError
from hilnas.lut.assemble import dedup_key
from hilnas.lut.cplan import SegmentPool
from hilnas.lut.flash import entry_parts, is_lean, legacy_bytes, weighted_union
from hilnas.lut.flash import fit as flash_fit
from hilnas.lut.flash import model_bytes as lean_model_bytes
from hilnas.lut.keys import entry_keys
from hilnas.lut.segments import compile_block, stitch
from hilnas.lut.table import LutMissError, LutTable, StaleTableWarning

_STAGE = re.compile(r"^(s\d+)")


@dataclass(frozen=True)
class Budget:
    """The board limits a prediction is checked against (a BoardBudget's fields)."""

    arena_bytes: int
    model_flash_bytes: int
    max_ops: int
    max_tensors: int
    firmware_ram_bytes: int
    firmware_flash_bytes: int
    model_slot_bytes: int = 0

    @classmethod
    def of(cls, budget: Any) -> Budget:
        return cls(budget.arena_bytes, budget.model_flash_bytes, budget.max_ops,
                   budget.max_tensors, budget.firmware_ram_bytes, budget.firmware_flash_bytes,
                   getattr(budget, "model_slot_bytes", 0))


@dataclass(frozen=True)
class Prediction:
    """Predicted figures of one member on the table's board.

    ``arena_bytes`` is None when the member is beyond the engine's op/tensor tables (the
    engine cannot load it, so there is no arena); ``feasible`` is False then, and
    ``reasons`` says why.
    """

    latency: float
    latency_ms: float
    arena_bytes: int | None
    sram_bytes: int | None
    model_bytes: int
    flash_bytes: int
    n_ops: int
    n_tensors: int
    feasible: bool
    reasons: tuple[str, ...] = ()


def check_engine_hash(table: LutTable, strict: bool = False) -> None:
    """Warn (or raise with ``strict``) when the engine changed since the table was built."""
    from hilnas.lut.engine_facts import engine_source_hash

    now = engine_source_hash()
    built = table.meta.get("engine_source_hash")
    if built == now:
        return
    msg = (f"LUT {table.path}: measured with engine sources {built}, the current engine is "
           f"{now}; latencies may be stale (rebuild with `hilnas lut build`)")
    if strict:
        raise ConfigError(msg)
    warnings.warn(msg, StaleTableWarning, stacklevel=3)


def fit_flash(table: LutTable) -> dict[str, Any]:
    """The model-bytes fit over the measured chains (:mod:`hilnas.lut.flash`).

    A table built before lean flatbuffers keeps its unleaned fit: constant and name bytes
    with coefficient 1, intercept, per op and per tensor.
    """
    samples = np.asarray(table.fits.get("flash_samples", []), dtype=float)
    if is_lean(table.fits):
        anchors = [a["sample"] for a in table.fits.get("flash_anchors", [])]
        return flash_fit(np.vstack([samples.reshape(-1, 6),
                                    np.asarray(anchors, dtype=float).reshape(-1, 6)]))
    if len(samples) < 3:
        return {"intercept": 0.0, "per_op": 0.0, "per_tensor": 0.0, "max_rel_err": 0.0}
    y = samples[:, 0] - samples[:, 1] - samples[:, 2]
    a = np.column_stack([np.ones(len(samples)), samples[:, 3], samples[:, 4]])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    pred = a @ coef + samples[:, 1] + samples[:, 2]
    rel = np.abs(pred - samples[:, 0]) / samples[:, 0]
    return {"intercept": float(coef[0]), "per_op": float(coef[1]),
            "per_tensor": float(coef[2]), "max_rel_err": float(rel.max())}


class Predictor:
    """Predicts members of the table's space; ``budget`` adds feasibility."""

    def __init__(self, table: LutTable, budget: Any | None = None, strict: bool = False,
                 check_engine: bool = True) -> None:
        from hilnas.space import get_space

        if check_engine:
            check_engine_hash(table, strict)
        self.table = table
        self.space = get_space(table.space)
        self.budget = Budget.of(budget) if budget is not None else None
        # a build in progress has samples but no final fit yet: fit them here
        self.flash = table.fits.get("flash") or fit_flash(table)
        self.unit_ms = 1e3 / table.clock_hz
        self._fast: _FastPath | None = None
        self.pool = SegmentPool()
        self._tensor_info: dict[str, tuple[int, tuple[str, ...]]] = {}
        self._flash_info: dict[str, tuple[int, int, int, dict[str, int]]] = {}
        self._seg_ids: dict[tuple[str, bool, bool, int], int] = {}

    # ------------------------------------------------------------ one member
    def keyed_entries(self, arch: Any) -> list[tuple[Any, str, dict[str, Any]]]:
        """(block, key, entry) in execution order; a block may span several entries."""
        pairs = [(b, key) for b in self.space.blocks(arch) for key in entry_keys(b)]
        entries = self.table.entries
        missing = [key for _, key in pairs if key not in entries]
        if missing:
            raise LutMissError(str(self.table.path or self.table.space),
                               list(dict.fromkeys(missing)))
        return [(b, key, entries[key]) for b, key in pairs]

    def entries_for(self, arch: Any) -> list[tuple[Any, dict[str, Any]]]:
        """(block, entry) pairs in execution order; a block may span several entries."""
        return [(b, e) for b, _, e in self.keyed_entries(arch)]

    def predict(self, arch: Any, exact_arena: bool = True) -> Prediction:
        keyed = self.keyed_entries(arch)
        pairs = [(b, e) for b, _, e in keyed]
        latency = float(sum(e["latency"] for _, e in pairs))
        n_ops = sum(len(e["ops"]) for _, e in pairs)
        n_tensors, model_bytes = self._counts_and_bytes(pairs, [k for _, k, _ in keyed])
        arena: int | None = None
        if exact_arena and self._loadable(n_ops, n_tensors):
            ids = np.array([self.segment_ids(keyed, 0, len(keyed))], dtype=np.int32)
            arena = int(self.pool.planned(ids)[0] + self.pool.persistent(ids)[0])
        return self._finish(latency, arena, model_bytes, n_ops, n_tensors)

    def segment_keys(self, keyed: Sequence[tuple[Any, str, dict[str, Any]]], start: int,
                     stop: int) -> list[tuple[str, bool, bool, int]]:
        """Cache keys of the compiled segments of entries ``start:stop`` of a member.

        A segment depends on its entry, on whether it reads the graph input or writes the
        graph output, and on the bytes flowing in, so that is its key.
        """
        out = []
        for k in range(start, stop):
            b, key, _ = keyed[k]
            if k == 0:
                in_bytes = int(np.prod(b.input_hwc))
            else:
                prev = keyed[k - 1][2]
                in_bytes = int(prev["tensors"][prev["output"]]["bytes"])
            out.append((key, k == 0, k == len(keyed) - 1, in_bytes))
        return out

    def segment_ids(self, keyed: Sequence[tuple[Any, str, dict[str, Any]]], start: int,
                    stop: int) -> list[int]:
        """Pool ids of the compiled segments of entries ``start:stop`` of a member."""
        return [self.segment_id(ck) for ck in self.segment_keys(keyed, start, stop)]

    def segment_id(self, ck: tuple[str, bool, bool, int]) -> int:
        sid = self._seg_ids.get(ck)
        if sid is None:
            key, first, last, in_bytes = ck
            sid = self.pool.add(compile_block(self.table.entries[key], in_bytes, first, last))
            self._seg_ids[ck] = sid
        return sid

    def _tensors_of(self, key: str | None, e: dict[str, Any]) -> tuple[int, tuple[str, ...]]:
        """(own tensors, shared-constant keys) of an entry, computed once per key."""
        got = self._tensor_info.get(key) if key is not None else None
        if got is None:
            keys = [dedup_key(t) for t in e["tensors"]]
            got = (sum(k is None for k in keys), tuple(k for k in keys if k is not None))
            if key is not None:
                self._tensor_info[key] = got
        return got

    def _counts_and_bytes(self, pairs: Sequence[tuple[Any, dict[str, Any]]],
                          keys: Sequence[str | None] | None = None) -> tuple[int, int]:
        shared: set[str] = set()
        own = 0
        const = names = fixed = n_quant = n_zp1 = 0
        items: dict[str, int] = {}
        lean = is_lean(self.table.fits)
        for (b, e), k in zip(pairs, keys or [None] * len(pairs), strict=True):
            n_own, shared_keys = self._tensors_of(k, e)
            own += n_own
            shared.update(shared_keys)
            if lean:
                f_e, q_e, z_e, it = self._flash_parts(k, e)
                fixed += f_e
                n_quant += q_e
                n_zp1 += z_e
                items.update(it)
            else:
                const += e["const_bytes"] + e.get("quant_bytes", 0)
                names += e["name_bytes"] + e["name_tokens"] * len(b.name)
        n_tensors = 1 + own + len(shared)
        n_ops = sum(len(e["ops"]) for _, e in pairs)
        f = self.flash
        if lean:
            model = lean_model_bytes(f, fixed + sum(items.values()), n_ops, n_tensors, n_quant,
                                     n_zp1)
        else:
            model = legacy_bytes(f, const, names, n_ops, n_tensors)
        return n_tensors, round(float(model))

    def _flash_parts(self, key: str | None, e: dict[str, Any]
                     ) -> tuple[int, int, int, dict[str, int]]:
        """:func:`hilnas.lut.flash.entry_parts` of an entry, computed once per key."""
        got = self._flash_info.get(key) if key is not None else None
        if got is None:
            try:
                got = entry_parts(e)
            except KeyError as exc:
                raise ConfigError(
                    f"{self.table.path or self.table.space}: entry {key} lacks the lean "
                    f"flash facts ({exc}); rebuild the table with `hilnas lut build --fresh`"
                ) from exc
            if key is not None:
                self._flash_info[key] = got
        return got

    def _loadable(self, n_ops: int, n_tensors: int) -> bool:
        b = self.budget
        return b is None or (n_ops <= b.max_ops and n_tensors <= b.max_tensors)

    def _finish(self, latency: float, arena: int | None, model_bytes: int, n_ops: int,
                n_tensors: int) -> Prediction:
        b = self.budget
        fw_ram = b.firmware_ram_bytes if b else 0
        fw_flash = b.firmware_flash_bytes if b else 0
        reasons: list[str] = []
        if b is not None:
            if n_ops > b.max_ops:
                reasons.append(f"{n_ops} ops > engine limit {b.max_ops}")
            if n_tensors > b.max_tensors:
                reasons.append(f"{n_tensors} tensors > engine limit {b.max_tensors}")
            if arena is not None and arena > b.arena_bytes:
                reasons.append(f"arena {arena} B > {b.arena_bytes} B")
            if model_bytes > b.model_flash_bytes:
                reasons.append(f"model {model_bytes} B > flash for models {b.model_flash_bytes} B")
            if b.model_slot_bytes and model_bytes > b.model_slot_bytes:
                reasons.append(f"model {model_bytes} B > model slot {b.model_slot_bytes} B")
        return Prediction(
            latency=latency, latency_ms=latency * self.unit_ms, arena_bytes=arena,
            sram_bytes=None if arena is None else fw_ram + arena, model_bytes=model_bytes,
            flash_bytes=fw_flash + model_bytes, n_ops=n_ops, n_tensors=n_tensors,
            feasible=not reasons, reasons=tuple(reasons))

    # ------------------------------------------------------------ batches
    def predict_many(self, vectors: np.ndarray | Sequence[Sequence[int]],
                     arena: bool = False) -> dict[str, np.ndarray]:
        """Latency, latency_ms, model/flash bytes, op and tensor counts for integer vectors.

        Vectors are :meth:`SearchSpace.encode` rows. ``feasible_counts`` checks the
        op/tensor/flash limits when a budget is set. ``arena`` adds the exact arena
        (``arena_bytes``, ``sram_bytes``; -1 for members the engine cannot load) and
        ``feasible`` (every limit, the arena included), as :meth:`predict` gives them.
        """
        if self._fast is None:
            self._fast = _FastPath(self)
        return self._fast.run(np.asarray(vectors, dtype=np.int64), arena)


class _FastPath:
    """Per-stage cost tables compiled from the space by probing (see module docstring)."""

    def __init__(self, pred: Predictor, probes: int = 12, seed: int = 0) -> None:
        import random

        self.pred = pred
        space = pred.space
        self.knobs = space.knobs
        rng = random.Random(seed)
        base = [space.sample(rng) for _ in range(probes)]
        self.stages = list(dict.fromkeys(self._stage(b.name) for b in space.blocks(base[0])))
        self.deps: dict[str, list[int]] = {s: [] for s in self.stages}
        self.shape_deps: dict[str, list[int]] = {s: [] for s in self.stages}
        for k, knob in enumerate(self.knobs):
            for arch in base:
                sig0, in0 = self._stage_sigs(space, arch)
                for v in knob.choices:
                    alt = space.make({**arch.values, knob.name: v})
                    sig1, in1 = self._stage_sigs(space, alt)
                    for s in self.stages:
                        if sig0.get(s) != sig1.get(s) and k not in self.deps[s]:
                            self.deps[s].append(k)
                        if in0.get(s) != in1.get(s) and k not in self.shape_deps[s]:
                            self.shape_deps[s].append(k)
        # A stage is keyed by its input shape (few distinct values, from the knobs that
        # shape it) and its own knobs, so its cost table stays small however many
        # upstream knobs feed its input.
        self.own: dict[str, list[int]] = {
            s: sorted(k for k in self.deps[s] if k not in self.shape_deps[s])
            for s in self.stages}
        self.shape_ids: dict[tuple[int, ...], int] = {}
        self.shape_tables: dict[str, dict[int, int]] = {s: {} for s in self.stages}
        self.cards = [len(k.choices) for k in self.knobs]
        self.tables: dict[str, _StageTable] = {s: _StageTable() for s in self.stages}
        self.shared_bits: dict[str, int] = {}
        self.entry_info: dict[str, tuple[Any, ...]] = {}
        self.lean = is_lean(pred.table.fits)
        self.item_bits: dict[str, int] = {}  # shared flash items (hilnas.lut.flash)
        self.item_weights: list[int] = []
        self.rng = rng

    @staticmethod
    def _stage(name: str) -> str:
        m = _STAGE.match(name)
        return m.group(1) if m else name

    def _stage_sigs(self, space: Any, arch: Any
                    ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[int, ...]]]:
        out: dict[str, list[str]] = {}
        first: dict[str, tuple[int, ...]] = {}
        for b in space.blocks(arch):
            st = self._stage(b.name)
            out.setdefault(st, []).append(b.signature())
            first.setdefault(st, tuple(b.input_hwc))
        return {k: tuple(v) for k, v in out.items()}, first

    def _shape_id(self, stage: str, vecs: np.ndarray) -> np.ndarray:
        """Id of each row's input shape to ``stage`` (lazily tabulated per knob combo)."""
        cols = self.shape_deps[stage]
        n = len(vecs)
        if not cols:
            return np.zeros(n, dtype=np.int64)
        flat = np.ravel_multi_index(vecs[:, cols].T, [self.cards[c] for c in cols])
        table = self.shape_tables[stage]
        uniq, inv = np.unique(flat, return_inverse=True)
        ids = np.empty(len(uniq), dtype=np.int64)
        for j, u in enumerate(uniq):
            sid = table.get(int(u))
            if sid is None:
                row = vecs[int(np.argmax(flat == u))]
                arch = self.pred.space.decode([int(x) for x in row])
                _, first = self._stage_sigs(self.pred.space, arch)
                sid = self.shape_ids.setdefault(first[stage], len(self.shape_ids))
                table[int(u)] = sid
            ids[j] = sid
        return ids[inv]

    def _entry_info(self, key: str, e: dict[str, Any]) -> tuple[Any, ...]:
        """(latency, ops, own tensors, shared-constant bit mask, fixed bytes, name tokens,
        quantization tables, shared flash-item bit mask) of one table entry, computed once.

        Old (unleaned) tables: fixed = constant + name bytes, no tables, no items."""
        info = self.entry_info.get(key)
        if info is None:
            own = mask = imask = 0
            for t in e["tensors"]:
                sk = dedup_key(t)
                if sk is None:
                    own += 1
                else:
                    mask |= 1 << self.shared_bits.setdefault(sk, len(self.shared_bits))
            if self.lean:
                fixed, n_quant, n_zp1, items = self.pred._flash_parts(key, e)
                for ik, nbytes in items.items():
                    bit = self.item_bits.setdefault(ik, len(self.item_bits))
                    if bit == len(self.item_weights):
                        self.item_weights.append(nbytes)
                    imask |= 1 << bit
                tokens = 0
            else:
                fixed = e["const_bytes"] + e.get("quant_bytes", 0) + e["name_bytes"]
                n_quant, n_zp1, tokens = 0, 0, int(e["name_tokens"])
            info = (float(e["latency"]), len(e["ops"]), own, mask, float(fixed), tokens,
                    n_quant, imask, n_zp1)
            self.entry_info[key] = info
        return info

    def _compile(self, stage: str, keyed: list[tuple[Any, str, dict[str, Any]]]) -> int:
        """Add the stage's sums for this member's blocks; returns their dense index."""
        st = self.tables[stage]
        lat = fixed = 0.0
        n_ops = own = mask = n_quant = imask = n_zp1 = 0
        idx = []
        for i, (b, key, e) in enumerate(keyed):
            if self._stage(b.name) != stage:
                continue
            idx.append(i)
            i_lat, i_ops, i_own, i_mask, i_fixed, i_tok, i_q, i_imask, i_z = \
                self._entry_info(key, e)
            lat += i_lat
            n_ops += i_ops
            own += i_own
            mask |= i_mask
            fixed += i_fixed + i_tok * len(b.name)
            n_quant += i_q
            n_zp1 += i_z
            imask |= i_imask
        refs = self.pred.segment_keys(keyed, idx[0], idx[-1] + 1) if idx else []
        return st.add(lat, n_ops, own, fixed, mask, refs, n_quant, imask, n_zp1)

    def _keyed(self, memo: dict[int, Any], vecs: np.ndarray, row: int) -> Any:
        if row not in memo:
            arch = self.pred.space.decode([int(x) for x in vecs[row]])
            memo[row] = self.pred.keyed_entries(arch)
        return memo[row]

    def run(self, vecs: np.ndarray, arena: bool = False) -> dict[str, np.ndarray]:
        n = len(vecs)
        memo: dict[int, Any] = {}  # decoded members, shared by the stages compiled now
        picks: list[tuple[_StageTable, np.ndarray]] = []
        for stage in self.stages:
            cols = self.own[stage]
            flat = np.ravel_multi_index(vecs[:, cols].T, [self.cards[c] for c in cols]) \
                if cols else np.zeros(n, dtype=np.int64)
            width = int(np.prod([self.cards[c] for c in cols])) if cols else 1
            flat = self._shape_id(stage, vecs) * width + flat
            uniq, first, inv = np.unique(flat, return_index=True, return_inverse=True)
            st = self.tables[stage]
            dense = np.empty(len(uniq), dtype=np.int64)
            for j, u in enumerate(uniq.tolist()):
                d = st.index.get(u)
                if d is None:
                    row = int(first[j])
                    d = self._compile(stage, self._keyed(memo, vecs, row))
                    st.index[u] = d
                dense[j] = d
            picks.append((st, dense[inv]))
        words = max(1, -(-len(self.shared_bits) // 64))
        lat = np.zeros(n)
        ops = np.zeros(n, dtype=np.int64)
        own = np.zeros(n, dtype=np.int64)
        fixed = np.zeros(n)
        iwords = max(1, -(-len(self.item_bits) // 64))
        masks = np.zeros((n, words), dtype=np.uint64)
        imasks = np.zeros((n, iwords), dtype=np.uint64)
        n_quant = np.zeros(n, dtype=np.int64)
        n_zp1 = np.zeros(n, dtype=np.int64)
        for st, rows in picks:
            a = st.arrays(words, iwords)
            lat += a["lat"][rows]
            ops += a["ops"][rows]
            own += a["own"][rows]
            fixed += a["fixed"][rows]
            masks |= a["mask"][rows]
            n_quant += a["quant"][rows]
            n_zp1 += a["zp1"][rows]
            imasks |= a["imask"][rows]
        tensors = 1 + own + np.bitwise_count(masks).sum(axis=1, dtype=np.int64)
        f = self.pred.flash
        if self.lean:
            exact = fixed + weighted_union(imasks, np.asarray(self.item_weights, dtype=float))
            model = np.rint(lean_model_bytes(f, exact, ops, tensors, n_quant, n_zp1))
        else:
            model = np.rint(legacy_bytes(f, fixed, 0.0, ops, tensors))
        b = self.pred.budget
        out = {"latency": lat, "latency_ms": lat * self.pred.unit_ms, "n_ops": ops,
               "n_tensors": tensors, "model_bytes": model.astype(np.int64)}
        out["flash_bytes"] = out["model_bytes"] + (b.firmware_flash_bytes if b else 0)
        if b is not None:
            out["feasible_counts"] = ((ops <= b.max_ops) & (tensors <= b.max_tensors)
                                      & (out["model_bytes"] <= b.model_flash_bytes))
        if arena:
            self._arena(out, self._segments(picks))
        return out

    def _segments(self, picks: list[tuple[_StageTable, np.ndarray]]) -> np.ndarray:
        """members x stages matrix of stage segment ids (compiling the missing ones)."""
        cols = []
        pool = self.pred.pool
        for st, rows in picks:
            for d in np.unique(rows).tolist():
                if st.seg[d] < 0:  # no blocks in a stage: an empty segment passes through
                    parts = [pool.segs[self.pred.segment_id(ck)] for ck in st.refs[d]]
                    st.seg[d] = pool.add(stitch(parts))
            cols.append(np.asarray(st.seg, dtype=np.int32)[rows])
        return np.stack(cols, axis=1) if cols else np.zeros((0, 0), dtype=np.int32)

    def _arena(self, out: dict[str, np.ndarray], segs: np.ndarray) -> None:
        """Exact arena of every loadable row (C planner over the stages' segments)."""
        b = self.pred.budget
        n = len(segs)
        loadable = np.ones(n, dtype=bool) if b is None else (
            (out["n_ops"] <= b.max_ops) & (out["n_tensors"] <= b.max_tensors))
        arena = np.full(n, -1, dtype=np.int64)
        rows = segs[loadable]
        pool = self.pred.pool
        if len(rows):
            arena[loadable] = pool.planned(rows) + pool.persistent(rows)
        out["arena_bytes"] = arena
        out["sram_bytes"] = np.where(loadable, arena + (b.firmware_ram_bytes if b else 0), -1)
        if b is not None:
            ok = out["feasible_counts"] & loadable & (arena <= b.arena_bytes)
            if b.model_slot_bytes:
                ok &= out["model_bytes"] <= b.model_slot_bytes
            out["feasible"] = ok


class _StageTable:
    """One stage's compiled sums, densely indexed, with numpy views for gathers."""

    def __init__(self) -> None:
        self.index: dict[int, int] = {}  # stage key -> dense index
        self.rows: list[tuple[float, int, int, float, int, int, int, int]] = []
        self.refs: list[list[tuple[str, bool, bool, int]]] = []  # its blocks' segment keys
        self.seg: list[int] = []  # stage segment in the pool (-1: not compiled yet)
        self._arrays: dict[str, np.ndarray] | None = None
        self._words: tuple[int, int] = (0, 0)

    def add(self, lat: float, ops: int, own: int, fixed: float, mask: int,
            refs: list[tuple[str, bool, bool, int]], n_quant: int = 0, imask: int = 0,
            n_zp1: int = 0) -> int:
        self.rows.append((lat, ops, own, fixed, mask, n_quant, imask, n_zp1))
        self.refs.append(refs)
        self.seg.append(-1)
        self._arrays = None
        return len(self.rows) - 1

    def arrays(self, words: int, iwords: int = 1) -> dict[str, np.ndarray]:
        if self._arrays is None or self._words != (words, iwords):
            r = self.rows
            self._arrays = {"lat": np.array([x[0] for x in r], dtype=float),
                            "ops": np.array([x[1] for x in r], dtype=np.int64),
                            "own": np.array([x[2] for x in r], dtype=np.int64),
                            "fixed": np.array([x[3] for x in r], dtype=float),
                            "mask": _words([x[4] for x in r], words),
                            "quant": np.array([x[5] for x in r], dtype=np.int64),
                            "imask": _words([x[6] for x in r], iwords),
                            "zp1": np.array([x[7] for x in r], dtype=np.int64)}
            self._words = (words, iwords)
        return self._arrays


def _words(masks: list[int], words: int) -> np.ndarray:
    """Python-int bit masks as rows of ``words`` uint64 words (bit i in word i // 64)."""
    out = np.zeros((len(masks), words), dtype=np.uint64)
    for i, m in enumerate(masks):
        for w in range(words):
            out[i, w] = (m >> (64 * w)) & 0xFFFFFFFFFFFFFFFF
    return out
