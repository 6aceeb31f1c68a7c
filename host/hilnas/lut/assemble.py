"""Rebuild a whole network's ops and tensors from per-block templates (torch-free).

The converted member is the concatenation of its blocks' converted subgraphs: block k's
input activation (local id -1) is block k-1's output, the first block reads the graph
input and the last block's output is the graph output. Constants shared between blocks
(converter-deduplicated, keyed by content) are counted once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hilnas.lut.mirror import plan_arena


def dedup_key(t: Mapping[str, Any]) -> str | None:
    """Content key of a constant the converter stores once per network, else None.

    The converter keeps one tensor per distinct constant (value, shape and quantization:
    MLIR folds identical constants), so repeats anywhere in a member are one tensor:

    * unquantized constants (reshape shapes, transpose permutations) by content;
    * one-element quantized constants, such as attention's ``1/sqrt(d)`` scale, by
      content *and* quantization: blocks of one head width share it, while the same int8
      byte under another scale is another tensor;
    * constants marked shared between blocks of a chain.

    Weights and biases are per-layer data that never repeat; keying them would only turn
    every weight into a shared item (one more mask bit each in the batched predictor).
    """
    key = t.get("key") if t.get("const") else None
    if key and t.get("qt") is not None and _elements(t) <= 1:
        return f"{key}|q{t['qt']}"
    if t.get("shared") is not None:
        return str(t["shared"])
    if key and not t.get("quant_bytes"):
        return str(key)
    return None


def buffer_key(t: Mapping[str, Any]) -> str | None:
    """Content key of the buffer of a constant :func:`dedup_key` shares, else None: lean
    flatbuffers store identical constant bytes once, whatever their quantization."""
    return None if dedup_key(t) is None else str(t.get("key") or t["shared"])


def _elements(t: Mapping[str, Any]) -> int:
    """Elements of a tensor record; entries of tables older than lean flatbuffers have no
    ``dims`` and count as many-element, which keeps the rule they were validated with."""
    dims = t.get("dims")
    return 2 if dims is None else math.prod(int(d) for d in dims)


@dataclass
class Network:
    op_names: list[str]
    op_inputs: list[list[int]]
    op_outputs: list[list[int]]
    tensor_bytes: list[int]
    tensor_const: list[bool]
    scratch: list[int]
    persistent: int
    graph_input: int
    graph_output: int

    @property
    def n_ops(self) -> int:
        return len(self.op_names)

    @property
    def n_tensors(self) -> int:
        return len(self.tensor_bytes)

    def planned_bytes(self) -> int:
        return plan_arena(self.n_ops, self.op_names, self.op_inputs, self.op_outputs,
                          self.tensor_bytes, self.tensor_const, [self.graph_input],
                          [self.graph_output], self.scratch)


def assemble(templates: Sequence[Mapping[str, Any]], input_bytes: int) -> Network:
    """Concatenate block templates (``ops``, ``tensors``, ``output``) into one network."""
    net = Network([], [], [], [input_bytes], [False], [], 0, 0, 0)
    shared: dict[str, int] = {}
    current = 0  # global id of the activation flowing into the next block
    for tpl in templates:
        gid: list[int] = []
        for t in tpl["tensors"]:
            key = dedup_key(t)
            if key is not None and key in shared:
                gid.append(shared[key])
                continue
            gid.append(len(net.tensor_bytes))
            net.tensor_bytes.append(int(t["bytes"]))
            net.tensor_const.append(bool(t["const"]))
            if key is not None:
                shared[key] = gid[-1]

        def glob(local: int, gid: list[int] = gid, cur: int = current) -> int:
            return cur if local == -1 else (-1 if local == -2 else gid[local])

        for op in tpl["ops"]:
            net.op_names.append(op["op"])
            net.op_inputs.append([glob(x) for x in op["in"]])
            net.op_outputs.append([glob(x) for x in op["out"]])
            net.scratch.append(int(op["scratch"]))
            net.persistent += int(op["persistent"])
        current = gid[tpl["output"]]
    net.graph_output = current
    return net
