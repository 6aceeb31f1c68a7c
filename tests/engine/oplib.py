"""Single-op test harness: build an int8 model with TensorFlow, run it in the
engine and in TFLite Micro, assert the outputs are identical byte for byte.

Usage (from any tests/engine test)::

    from tests.engine.oplib import convert, assert_bit_exact   # or import oplib

    model = convert(lambda x: tf.nn.relu(x), [(1, 8, 8, 3)])   # tf.function body
    assert_bit_exact(model)                                     # random int8 inputs

* ``convert(fn, input_shapes, ...)`` traces ``fn`` with float32 inputs of the
  given shapes, quantizes with a representative dataset (uniform in
  ``calib_range``, seeded), int8 inputs/outputs, TFLITE_BUILTINS_INT8 only,
  and returns the ``.tflite`` bytes. Constants created inside ``fn`` (with
  ``tf.constant``) become int8 weights / int32 biases.
* ``run_tflm(model, inputs)`` -> (outputs, arena_bytes) using the real TFLM
  interpreter via the one oracle, :mod:`hilnas.tflm`; the arena figure is the
  exact smallest arena TFLM allocates with.
* ``run_engine(model, inputs)`` -> (outputs, arena_bytes) with hilnas.engine.
* ``assert_bit_exact(model, inputs=None, seed=0, check_arena=True)`` runs both,
  compares every output byte, checks engine arena <= TFLM arena, and returns
  ``(engine_arena, tflm_arena)``.
* ``ops_in(model)`` lists the builtin op names in a model, so a test can check
  the converter really emitted the op under test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
from hilnas import tflm

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

def convert(fn: Callable, input_shapes: Sequence[Sequence[int]],
            calib_range: float | Sequence[float] = 1.0, seed: int = 0, n_calib: int = 16,
            per_channel: bool = True, float_io: bool = False) -> bytes:
    """Trace ``fn`` over float32 inputs and return a full-int8 .tflite.

    ``calib_range`` may be one value or one per input (gives the inputs
    different scales); ``float_io=True`` keeps float32 model inputs/outputs,
    so the converter adds QUANTIZE/DEQUANTIZE ops.
    """
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    specs = [tf.TensorSpec(list(s), tf.float32) for s in input_shapes]
    concrete = tf.function(fn, input_signature=specs).get_concrete_function()
    rng = np.random.default_rng(seed)
    ranges = (list(calib_range) if isinstance(calib_range, Sequence)
              else [calib_range] * len(input_shapes))

    def representative():
        for _ in range(n_calib):
            yield [rng.uniform(-r, r, s).astype(np.float32)
                   for r, s in zip(ranges, input_shapes, strict=True)]

    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    if not per_channel:
        conv._experimental_disable_per_channel = True
    return bytes(conv.convert())


def ops_in(model: bytes) -> list[str]:
    """Builtin op names used by a model, in graph order."""
    from tensorflow.lite.python import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in m.operatorCodes]
    return [names[codes[op.opcodeIndex]] for op in m.subgraphs[0].operators]


def set_opcode(model: bytes, op_name: str) -> bytes:
    """Re-label every operator code as builtin ``op_name`` (options dropped).

    Lets a test build a model the converter will not emit on its own, e.g. an
    int8->int8 QUANTIZE (requantize) from a RELU model with different scales.
    """
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    code = getattr(schema.BuiltinOperator, op_name)
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    for oc in m.operatorCodes:
        oc.builtinCode = code
        oc.deprecatedBuiltinCode = min(code, 127)
    for op in m.subgraphs[0].operators:
        op.builtinOptionsType = 0
        op.builtinOptions = None
    b = flatbuffers.Builder(len(model) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def set_filter_zero_point(model: bytes, zero_point: int) -> bytes:
    """Give every FULLY_CONNECTED filter (per-tensor) the zero point ``zero_point``.

    TFLite writes int8 constant filters with zero point 0, but an FC whose filter is an
    activation (litert's attention probabilities x V) carries a calibrated one; TFLM
    supports it (filter offset), so the engine must match it bit for bit.
    """
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(model, 0)
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in m.operatorCodes]
    g = m.subgraphs[0]
    for op in g.operators:
        if codes[op.opcodeIndex] == schema.BuiltinOperator.FULLY_CONNECTED:
            q = g.tensors[op.inputs[1]].quantization
            q.zeroPoint = [zero_point] * len(q.scale)
    b = flatbuffers.Builder(len(model) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def io_counts(model: bytes) -> tuple[int, int]:
    """Number of graph inputs and outputs (subgraph 0)."""
    from tensorflow.lite.python import schema_py_generated as schema

    sg = schema.Model.GetRootAs(model, 0).Subgraphs(0)
    return sg.InputsLength(), sg.OutputsLength()


def random_inputs(model: bytes, seed: int = 0) -> list[np.ndarray]:
    """Uniform random inputs (full int8 range) of the model's input shapes."""
    rng = np.random.default_rng(seed)
    out = []
    for det in tflm.input_details(model):
        dtype = det["dtype"]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            out.append(rng.integers(info.min, info.max + 1, det["shape"], dtype=dtype))
        else:
            out.append(rng.standard_normal(det["shape"]).astype(dtype))
    return out


def run_tflm(model: bytes, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """Outputs of the real TFLM interpreter (the oracle) and its exact arena in bytes."""
    return tflm.tflm_run(model, inputs), tflm.tflm_arena_bytes(model)


def run_engine(model: bytes, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """Outputs of the hilnas engine (host build) and its arena requirement."""
    from hilnas.engine import Engine

    eng = Engine(model)
    for i, x in enumerate(inputs):
        eng.set_input(x, i)
    eng.invoke()
    return [eng.get_output(i) for i in range(eng.num_outputs)], eng.arena_required


def assert_bit_exact(model: bytes, inputs: Sequence[np.ndarray] | None = None, seed: int = 0,
                     check_arena: bool = True) -> tuple[int, int]:
    """Engine output == TFLM output byte for byte; engine arena <= TFLM arena."""
    if inputs is None:
        inputs = random_inputs(model, seed)
    want, tflm_arena = run_tflm(model, inputs)
    got, eng_arena = run_engine(model, inputs)
    assert len(got) == len(want), f"{len(got)} outputs vs TFLM {len(want)}"
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g.shape == w.shape and g.dtype == w.dtype, (
            f"output {k}: engine {g.dtype}{g.shape} vs TFLM {w.dtype}{w.shape}")
        if g.tobytes() != w.tobytes():
            diff = np.flatnonzero(g.reshape(-1).view(np.uint8) != w.reshape(-1).view(np.uint8))
            gi, wi = g.reshape(-1), w.reshape(-1)
            j = int(diff[0]) // g.itemsize
            raise AssertionError(
                f"output {k} ({ops_in(model)}): {diff.size} bytes differ; first at element {j}: "
                f"engine {gi[j]} vs TFLM {wi[j]}; max |diff| "
                f"{np.max(np.abs(gi.astype(np.int64) - wi.astype(np.int64)))}")
    if check_arena:
        assert eng_arena <= tflm_arena, f"engine arena {eng_arena} > TFLM arena {tflm_arena}"
    return eng_arena, tflm_arena
