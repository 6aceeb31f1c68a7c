"""``hilnas lut build``: measure every block of a space on a board, resumably.

How (and why this way):

1. :func:`~hilnas.lut.keys.enumerate_blocks` lists every signature of the space;
   entries already in the table are skipped (a rerun after ``kill -9`` continues).
2. The pending blocks are packed into measurement *chains* per input resolution: the
   resolution's stem, blocks in decreasing spatial size (1x1 strided adapters where
   shapes do not connect), a head at the end — a chain looks like a member, so the
   converter treats every block as it would inside one. A chain stays under the
   engine's op limit. Hybrid: ~1,560 blocks in ~100 chains.
3. Chains are converted (``--jobs`` converter processes) with the table's single
   route into a content-keyed cache (:mod:`hilnas.lut.cache`: another board, or a
   rebuild after an engine change, converts nothing) and profiled on ``--jobs``
   boards at once (an emulator is shut down while it has nothing queued, so it never
   competes with the converters): QEMU's instruction counts are exact and
   repeatable, so one run without warm-up is enough.
4. Each op's count goes to the block that produced it (:mod:`hilnas.lut.attribute`);
   the entry stores the block's ops, tensors and memory needs. After every chain the
   table is saved atomically, and the board's arena for the chain is checked against
   the predictor's planner mirror (a mismatch is recorded in the table's header).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hilnas.errors import ConfigError
from hilnas.lut.members import flash_sample, parse_chain_lean, spawn_context
from hilnas.lut.table import SCHEMA_VERSION, LutTable, load_table
from hilnas.space.base import BlockSpec

#: Conversion route per space: litert is the only route that converts attention members
#: correctly (onnx2tf mis-converts them at small maps); one route for entries and members.
DEFAULT_ROUTE = "litert"
#: Converted ops per block kind, the most any entry of the shipped tables has (packing
#: only: a converted chain over the engine's op limit is split in two and converted again).
#: Fewer, fuller chains mean fewer conversions, most of a build's time.
OPS_ESTIMATE = {"conv": 4, "mbconv": 6, "attention": 29, "head": 3, "posconv": 3,
                "reduce": 5}
#: Extra ops of an attention block that unfolds p > 1 patches (``hybrid-unfold``): the
#: rank-7 permutes of q, k, v and the fold back are lowered to TRANSPOSE/RESHAPE chains
#: (largest member: 429 ops against 315 pooled, 9 attention blocks).
UNFOLD_EXTRA_OPS = 20
ADAPTER_OPS = 2
OP_HEADROOM = 0.9  # fill chains to 90% of the engine's op limit (was 80%: 93 -> 69 hybrid chains)
CHAIN_SEED = 0  # weights/BN seed of every measurement chain (part of the cache key)


@dataclass(frozen=True)
class Chain:
    """One measurement model: blocks in order (adapters are inserted when converted)."""

    resolution: int
    blocks: tuple[BlockSpec, ...]

    @property
    def key(self) -> str:
        text = "|".join(b.signature() for b in self.blocks)
        return hashlib.sha1(text.encode()).hexdigest()[:16]


def default_lut_path(board: str, space: str) -> Path:
    return Path(__file__).resolve().parents[3] / "lut" / board / f"{space}.json"


# ---------------------------------------------------------------- planning
def plan_chains(pending: Sequence[BlockSpec], all_blocks: Sequence[BlockSpec],
                max_ops: int) -> list[Chain]:
    """Pack ``pending`` blocks into chains that start with a stem and end with a head."""
    budget = int(max_ops * OP_HEADROOM)
    stems = _by_res([b for b in all_blocks if b.kind in ("conv",) and b.name == "stem"])
    levels = _stem_levels(stems)
    heads = {r: [b for b in all_blocks if b.kind == "head" and b.input_hwc[0] in levels[r]]
             for r in stems}
    pend_stems = _by_res([b for b in pending if b.kind == "conv" and b.name == "stem"])
    pend_heads = _by_res_head([b for b in pending if b.kind == "head"], stems)
    body = [b for b in pending if b.kind not in ("head",) and b.name != "stem"]
    chains: list[Chain] = []
    for res in sorted(set(stems)):
        items = sorted((b for b in body if _resolution_of(b, stems) == res),
                       key=lambda b: (-b.input_hwc[0], b.kind, b.signature()))
        groups = _pack(items, budget - 10)
        n = max(len(groups), len(pend_stems.get(res, [])), len(pend_heads.get(res, [])))
        for i in range(n):
            group = groups[i] if i < len(groups) else []
            stem = _pick(pend_stems.get(res, []), stems[res], i)
            tail = group[-1].output_hwc if group else stem.output_hwc
            head = _pick_head(pend_heads.get(res, []), heads.get(res, []), i, tail)
            chains.append(Chain(res, (stem, *group, head)))
    return chains


def _by_res(stems: list[BlockSpec]) -> dict[int, list[BlockSpec]]:
    out: dict[int, list[BlockSpec]] = {}
    for b in stems:
        out.setdefault(b.input_hwc[0], []).append(b)
    return out


def _stem_levels(stems: dict[int, list[BlockSpec]]) -> dict[int, set[int]]:
    """Spatial sizes reachable from each resolution by halving (ceil)."""
    levels: dict[int, set[int]] = {}
    for res in stems:
        h, seen = res, set()
        while h >= 1 and h not in seen:
            seen.add(h)
            h = math.ceil(h / 2) if h > 1 else 0
        levels[res] = seen
    return levels


def _resolution_of(b: BlockSpec, stems: dict[int, list[BlockSpec]]) -> int:
    """The smallest resolution whose halvings reach the block's input size (chains are
    built smallest resolution first, so members at it are covered early in a build)."""
    levels = _stem_levels(stems)
    options = [r for r in sorted(stems) if b.input_hwc[0] in levels[r]]
    if not options:
        raise ConfigError(f"block {b.signature()} fits no resolution of the space")
    return options[0]


def _by_res_head(heads: list[BlockSpec], stems: dict[int, list[BlockSpec]]
                 ) -> dict[int, list[BlockSpec]]:
    out: dict[int, list[BlockSpec]] = {}
    for b in heads:
        if b.kind == "head":
            out.setdefault(_resolution_of(b, stems), []).append(b)
    return out


def split_chain(chain: Chain) -> list[Chain]:
    """Two chains (same stem and head) with half of ``chain``'s body each."""
    stem, *body, head = chain.blocks
    if len(body) < 2:
        raise ConfigError(f"chain {chain.key} is over the op limit with a single block "
                          f"({body[0].signature() if body else 'no body'})")
    mid = len(body) // 2
    return [Chain(chain.resolution, (stem, *body[:mid], head)),
            Chain(chain.resolution, (stem, *body[mid:], head))]


def ops_estimate(b: BlockSpec) -> int:
    """Converted ops a block is expected to add to a chain (packing only)."""
    params = dict(b.params)
    unfolds = b.kind == "attention" and params.get("unfold") and params.get("patch", 1) > 1
    return OPS_ESTIMATE.get(b.kind, 10) + (UNFOLD_EXTRA_OPS if unfolds else 0)


def _pack(items: list[BlockSpec], budget: int) -> list[list[BlockSpec]]:
    groups: list[list[BlockSpec]] = []
    cur: list[BlockSpec] = []
    used = 0
    for b in items:
        cost = ops_estimate(b) + ADAPTER_OPS
        if cur and used + cost > budget:
            groups.append(cur)
            cur, used = [], 0
        cur.append(b)
        used += cost
    if cur:
        groups.append(cur)
    return groups


def _pick(pending: list[BlockSpec], every: list[BlockSpec], i: int) -> BlockSpec:
    if i < len(pending):
        return pending[i]
    return sorted(every, key=lambda b: b.signature())[0]


def _pick_head(pending: list[BlockSpec], every: list[BlockSpec], i: int,
               tail: tuple[int, int, int]) -> BlockSpec:
    if i < len(pending):
        return pending[i]
    fits = [h for h in every if h.input_hwc[0] <= tail[0]]
    return sorted(fits or every, key=lambda b: b.signature())[0]


# ---------------------------------------------------------------- converting
def chain_spec(chain: Chain) -> list[dict[str, Any]]:
    """The chain as plain data: what the conversion cache key and the worker see."""
    return [dataclasses.asdict(b) for b in chain.blocks]


def chain_path(chain: Chain, route: str) -> Path:
    """The chain's converted model in the content-keyed conversion cache."""
    from hilnas.lut.cache import cached_path, conversion_key

    return cached_path(conversion_key("chain", chain_spec(chain), CHAIN_SEED, route))


def convert_chain(chain_json: str, route: str, out: str) -> tuple[float, float]:
    """Worker: build and convert one chain (runs in a converter process).

    Returns (wall, CPU) seconds: on a shared machine the CPU seconds say what the
    conversion costs, the wall seconds what it cost this time."""
    from hilnas.lut.modelgen import chain_model, convert_plain
    from hilnas.space.base import BlockSpec as Spec

    t, cpu = time.monotonic(), time.process_time()
    specs = [Spec(d["kind"], d["name"], tuple(d["input_hwc"]), tuple(d["output_hwc"]),
                  tuple(tuple(p) for p in d["params"])) for d in json.loads(chain_json)]
    model, _ = chain_model(specs, seed=CHAIN_SEED)
    h, w, c = specs[0].input_hwc
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    convert_plain(model, (1, c, h, w), route, Path(out))
    return time.monotonic() - t, time.process_time() - cpu


def _chain_json(chain: Chain) -> str:
    return json.dumps(chain_spec(chain))


# ---------------------------------------------------------------- the build
@dataclass
class BuildReport:
    table: Path
    entries_total: int
    entries_new: int
    chains: int
    seconds: float
    arena_checks: int
    arena_mismatches: int
    failed_chains: dict[str, str] = dataclasses.field(default_factory=dict)
    split: dict[str, float] = dataclasses.field(default_factory=dict)


def new_table(board: str, space: str, route: str, path: Path) -> LutTable:
    """An empty table whose header says how it will be built."""
    from hilnas.board.build import build_firmware, cmake_flags
    from hilnas.board.profiles import load_profile
    from hilnas.lut.cache import converter_fingerprint, converter_versions, source_hash
    from hilnas.lut.engine_facts import compiler_version, engine_source_hash, op_data_sizes

    profile = load_profile(board)
    image = build_firmware(profile)
    yaml_path = Path(__file__).resolve().parents[3] / "device_profiles" / f"{board}.yaml"
    meta = {
        "schema": SCHEMA_VERSION,
        "board": board,
        "board_profile_sha256": hashlib.sha256(yaml_path.read_bytes()).hexdigest()[:16],
        "space": space,
        "route": route,
        "converter_versions": converter_versions(),
        "converter_source_hash": source_hash(),
        "converter_fingerprint": converter_fingerprint(route),
        "engine_source_hash": engine_source_hash(),
        "firmware_source_hash": image.source_hash[:16],
        "build_flags": cmake_flags(profile),
        "compiler": compiler_version(),
        "unit": profile.timing_unit if hasattr(profile, "timing_unit") else "instructions",
        "clock_hz": profile.clock_hz,
        "runs": 1,
        "warmup": 0,
        "statistic": "single run: QEMU -icount instruction counts are exact and repeatable",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "op_data_sizes": op_data_sizes(image.elf),
        "arena_checks": 0,
        "arena_mismatches": [],
        "build_seconds": 0.0,
    }
    from hilnas.lut.flash import LEAN_MODEL

    return LutTable(meta, {}, {"flash_samples": [], "flash_model": LEAN_MODEL}, path)


def build_table(
    board: str,
    space_name: str,
    out: Path,
    jobs: int = 1,
    route: str = DEFAULT_ROUTE,
    limit: int | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    port: str | None = None,
    fresh: bool = False,
) -> BuildReport:
    """Build (or continue) the table at ``out``; see the module docstring.

    ``fresh`` starts over (the old table is replaced at the first save): after an engine
    or converter change every entry must be measured again, which with the conversion
    cache is board time only when only the engine changed.

    ``jobs`` converter processes and ``jobs`` boards (emulated boards are started as
    needed; ``port`` may name several real boards of one kind, comma-separated: one
    board per port then).
    """
    from hilnas.board.profiles import load_profile
    from hilnas.lut.keys import blocks_to_measure, enumerate_blocks
    from hilnas.space import get_space

    t0 = time.monotonic()
    out = Path(out)
    if out.exists() and not fresh:
        table = load_table(out)
        if table.board != board or table.space != space_name:
            raise ConfigError(f"{out} is the table of {table.board}/{table.space}, "
                              f"not {board}/{space_name}; choose another -o")
        _check_resumable(table, out)
    else:
        table = new_table(board, space_name, route, out)
        table.save(out)
    profile = load_profile(board)
    space = get_space(space_name)
    blocks = enumerate_blocks(space)
    pending = blocks_to_measure(blocks, set(table.entries))
    if limit is not None:
        pending = pending[:limit]
    before = len(table.entries)
    chains = plan_chains(pending, list(blocks.values()), profile.max_ops) if pending else []
    named: list[str | None] = [p for p in (port or "").split(",") if p]
    ports = named or [None] * max(1, jobs)  # one board per named port, else ``jobs`` emulators
    boards = len(ports)
    split: dict[str, float] = {"plan_s": round(time.monotonic() - t0, 1)}
    checks = mismatches = 0
    if chains:
        checks, mismatches = _measure(chains, table, profile, max(1, jobs), ports, t0,
                                      progress, split)
    if not blocks_to_measure(blocks, set(table.entries)) and not table.meta.get("failed_chains"):
        t = time.monotonic()
        _add_flash_anchors(table, max(1, jobs))
        split["anchor_s"] = round(time.monotonic() - t, 1)
    table.meta["build_seconds"] = round(table.meta.get("build_seconds", 0.0)
                                        + time.monotonic() - t0, 1)
    from hilnas.lut.predict import fit_flash

    table.fits["flash"] = fit_flash(table)
    table.meta["entries"] = len(table.entries)
    split["total_s"] = round(time.monotonic() - t0, 1)
    table.meta["last_build"] = {"jobs": jobs, "boards": boards, "chains": len(chains),
                                "entries_new": len(table.entries) - before, **split}
    table.save(out)
    return BuildReport(out, len(table.entries), len(table.entries) - before, len(chains),
                       time.monotonic() - t0, checks, mismatches,
                       dict(table.meta.get("failed_chains", {})), split)


def _add_flash_anchors(table: LutTable, jobs: int) -> None:
    """Whole small members into the flash fit (:mod:`hilnas.lut.anchors`); conversions
    come from the cache after the first build."""
    import warnings

    from hilnas.lut.anchors import anchor_samples
    from hilnas.lut.predict import Predictor, StaleTableWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleTableWarning)  # it is being built right now
        pred = Predictor(table, check_engine=False)
    table.fits["flash_anchors"] = anchor_samples(pred, jobs)


def _check_resumable(table: LutTable, out: Path) -> None:
    """Refuse to add entries measured with another engine or converter to a table."""
    from hilnas.lut.cache import converter_fingerprint
    from hilnas.lut.engine_facts import engine_source_hash

    now = {"engine_source_hash": engine_source_hash(),
           "converter_fingerprint": converter_fingerprint(table.route)}
    for key, value in now.items():
        built = table.meta.get(key)
        if built is not None and built != value and table.entries:
            raise ConfigError(f"{out}: its {len(table.entries)} entries were measured with "
                              f"{key} {built}, the current one is {value}; resuming would mix "
                              f"them: rebuild it with --fresh (cached conversions are reused)")


@dataclass
class _Item:
    """A converted chain on its way to a board and back."""

    chain: Chain
    path: Path
    parsed: Any
    result: Any = None
    error: str | None = None
    board_s: float = 0.0


def _measure(chains: list[Chain], table: LutTable, profile: Any, jobs: int,
             ports: list[str | None], t0: float,
             progress: Callable[[int, int, float], None] | None,
             split: dict[str, float]) -> tuple[int, int]:
    """Convert uncached chains in ``jobs`` processes; profile on ``len(ports)`` boards.

    Chains whose conversion is cached go straight to the boards. Each board runs in a
    thread (the emulator is a separate process; the thread only waits on its UART) and
    is shut down while it has nothing queued, so an idle emulator never takes a core
    from the converters (booting again costs about a second). Results are recorded and
    the table saved by this thread, one chain at a time.
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    from hilnas.lut.cache import lean_copy
    from hilnas.lut.predict import fit_flash

    done = checks = mismatches = 0
    failed: dict[str, str] = {}
    route = table.route
    todo: list[tuple[Chain, Path, Future[tuple[float, float]] | None]] = []
    pool: ProcessPoolExecutor | None = None
    hits = 0
    for chain in chains:
        path = chain_path(chain, route)
        fut = None
        if path.exists():
            hits += 1
        else:
            pool = pool or ProcessPoolExecutor(max_workers=jobs, mp_context=spawn_context())
            fut = pool.submit(convert_chain, _chain_json(chain), route, str(path))
        todo.append((chain, path, fut))
    split.update(cache_hits=hits, converted=len(chains) - hits, convert_s=0.0,
                 convert_cpu_s=0.0, board_s=0.0, record_s=0.0)
    # Import the board side (and tflite_micro under it) here, before any board thread:
    # tflite_micro's package import is not safe to run from two threads at once
    # (seen as KeyError: 'tflite_micro' in a board thread and in chain parsing).
    import hilnas.board.measure  # noqa: F401

    to_board: queue.Queue[_Item | None] = queue.Queue()
    back: queue.Queue[_Item] = queue.Queue()
    threads = [threading.Thread(target=_board_worker, args=(profile, p, to_board, back),
                                daemon=True) for p in ports]
    for th in threads:
        th.start()
    in_flight = 0
    total = len(chains)
    try:
        while todo or in_flight:
            ready = [x for x in todo if x[2] is None or x[2].done()]
            todo = [x for x in todo if x not in ready]
            for chain, path, fut in ready:
                try:
                    if fut is not None:
                        wall, cpu = fut.result()
                        split["convert_s"] += wall
                        split["convert_cpu_s"] += cpu
                    parsed = parse_chain_lean(path, table.meta["op_data_sizes"])
                except Exception as exc:  # one chain's converter failure must not stop the rest
                    failed[chain.key] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
                    print(f"lut build: chain {chain.key} failed to convert: {failed[chain.key]}",
                          file=sys.stderr, flush=True)
                    continue
                slot = profile.model_slot_bytes
                if parsed.n_ops > profile.max_ops or (slot and parsed.lean_bytes > slot):
                    halves = split_chain(chain)
                    print(f"lut build: chain {chain.key} has {parsed.n_ops} ops and "
                          f"{parsed.lean_bytes} B, over the board's {profile.max_ops} ops or "
                          f"{slot} B model slot: measuring it as {len(halves)} chains",
                          file=sys.stderr, flush=True)
                    pool = pool or ProcessPoolExecutor(max_workers=jobs, mp_context=spawn_context())
                    for half in halves:
                        hp = chain_path(half, route)
                        cached = hp.exists()
                        split["cache_hits" if cached else "converted"] += 1
                        todo.append((half, hp, None if cached else pool.submit(
                            convert_chain, _chain_json(half), route, str(hp))))
                    total += len(halves) - 1
                    continue
                # the board runs the lean copy (what users deploy; the named file can
                # exceed the model slot), same ops and tensors as the attributed file
                to_board.put(_Item(chain, lean_copy(path), parsed))
                in_flight += 1
            got = _drain(back, block=not ready and (in_flight > 0 and not todo))
            for item in got:
                in_flight -= 1
                split["board_s"] += item.board_s
                if item.error is not None:
                    failed[item.chain.key] = item.error
                    print(f"lut build: chain {item.chain.key} failed on the board: {item.error}",
                          file=sys.stderr, flush=True)
                    continue
                t = time.monotonic()
                ok = _record_chain(item.chain, item.parsed, item.result, table)
                checks += 1
                mismatches += 0 if ok else 1
                table.fits["flash"] = fit_flash(table)
                table.save()
                split["record_s"] += time.monotonic() - t
                done += 1
                if progress is not None:
                    progress(done, total, time.monotonic() - t0)
            if not ready and not got and todo:
                waiting = [f for _, _, f in todo if f is not None]
                wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
    finally:
        for _ in threads:
            to_board.put(None)
        for th in threads:
            th.join(timeout=30)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        table.meta["failed_chains"] = failed
        for key in ("convert_s", "convert_cpu_s", "board_s", "record_s"):
            split[key] = round(split[key], 1)
    return checks, mismatches


def _drain(back: queue.Queue[_Item], block: bool) -> list[_Item]:
    """Every result the boards have sent back (waiting up to 0.2 s for one if ``block``)."""
    got: list[_Item] = []
    try:
        got.append(back.get(timeout=0.2) if block else back.get_nowait())
        while True:
            got.append(back.get_nowait())
    except queue.Empty:
        pass
    return got


def _board_worker(profile: Any, port: str | None, inbox: queue.Queue[_Item | None],
                  outbox: queue.Queue[_Item]) -> None:
    """One board: profile whatever arrives; shut the board down while nothing is queued."""
    import contextlib

    from hilnas.board.measure import run_on_session
    from hilnas.board.session import open_board

    stack: contextlib.ExitStack | None = None
    session = None
    try:
        while True:
            try:
                item = inbox.get(timeout=1.0) if session is not None else inbox.get()
            except queue.Empty:
                assert stack is not None
                stack.close()
                stack, session = None, None
                continue
            if item is None:
                return
            t = time.monotonic()
            try:
                if session is None:
                    stack = contextlib.ExitStack()
                    session = stack.enter_context(open_board(profile, port=port))
                item.result = run_on_session(session, item.path, runs=1, warmup=0, bulk=True)
            except Exception as exc:  # reported per chain; the board is restarted
                item.error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
                if stack is not None:
                    with contextlib.suppress(Exception):
                        stack.close()
                stack, session = None, None
            item.board_s = time.monotonic() - t
            outbox.put(item)
    finally:
        if stack is not None:
            stack.close()


def _record_chain(chain: Chain, parsed: Any, result: Any, table: LutTable) -> bool:
    """Store a profiled chain's blocks; True when the board's arena matched the mirror."""
    from hilnas.lut.assemble import assemble
    from hilnas.lut.attribute import split_template
    from hilnas.lut.keys import entry_keys

    if len(result.ops) != parsed.n_ops:
        raise ConfigError(f"chain {chain.key}: board ran {len(result.ops)} ops, "
                          f"the model has {parsed.n_ops}")
    per_block_ops: dict[str, int] = {}
    for i, block in enumerate(parsed.op_block):
        k = per_block_ops.get(block, 0)
        parsed.blocks[block].ops[k]["ticks"] = result.ops[i].value
        per_block_ops[block] = k + 1
    templates = [dataclasses.asdict(t) for t in parsed.blocks.values()]
    h, w, c = chain.blocks[0].input_hwc
    net = assemble(templates, h * w * c)
    predicted = net.planned_bytes() + net.persistent
    ok = predicted == result.arena_bytes
    table.meta["arena_checks"] = table.meta.get("arena_checks", 0) + 1
    if not ok:
        table.meta.setdefault("arena_mismatches", []).append(
            {"chain": chain.key, "board": result.arena_bytes, "mirror": predicted})
    table.fits.setdefault("flash_samples", []).append(flash_sample(parsed))
    for k, spec in enumerate(chain.blocks):
        tpl = parsed.blocks.get(f"e{k}")
        if tpl is None:
            raise ConfigError(f"chain {chain.key}: block e{k} ({spec.signature()}) has no ops")
        whole = dataclasses.asdict(tpl)
        whole.pop("block")
        keys = entry_keys(spec)
        parts = [whole]
        if len(keys) == 2:
            at = next((i for i, op in enumerate(whole["ops"]) if op.get("marks")), None)
            if at is None:
                raise ConfigError(f"chain {chain.key}: {spec.signature()} has no FFN ops")
            parts = list(split_template(whole, at))
        for key, entry in zip(keys, parts, strict=True):
            if key in table.entries:
                continue  # a filler stem/head (every chain needs one): keep the first figure
            entry["kind"] = key.split("-")[0]
            entry["latency"] = sum(op["ticks"] for op in entry["ops"])
            entry["chain"] = chain.key
            table.entries[key] = entry
    return ok


def print_progress(done: int, total: int, elapsed: float) -> None:
    """Plain progress line (for logs); the CLI shows a rich bar on a terminal."""
    eta = elapsed / done * (total - done) if done else float("nan")
    print(f"lut build: chain {done}/{total}, {elapsed:.0f} s elapsed, ETA {eta:.0f} s",
          file=sys.stderr, flush=True)
