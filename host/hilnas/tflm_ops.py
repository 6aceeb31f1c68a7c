"""The one list of TFLite builtin ops that hilnas accepts for int8 TFLite Micro.

Everything in hilnas reads this: the converter's op check, the search spaces
(which only build layers that lower to these ops), the firmware engine's
coverage test. FACTS §2: these ops have int8 kernels in TFLM; GELU, EXP,
SQRT, LOG and DIV do not, so a model containing them cannot run int8 on a board.
"""

from __future__ import annotations

#: Builtin op names (as in the TFLite schema's BuiltinOperator enum) with int8
#: kernels in TFLM that our firmware engine also implements. SLICE: litert-torch emits it
#: for tensor slicing; TFLM's slice kernel takes int8 (the converter's TFLM check runs it).
TFLM_INT8_OPS: frozenset[str] = frozenset(
    {
        "ADD",
        "AVERAGE_POOL_2D",
        "BATCH_MATMUL",
        "CONCATENATION",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "DEQUANTIZE",
        "FULLY_CONNECTED",
        "HARD_SWISH",
        "LOGISTIC",
        "MAX_POOL_2D",
        "MEAN",
        "MUL",
        "PAD",
        "QUANTIZE",
        "RESHAPE",
        "RSQRT",
        "SLICE",
        "SOFTMAX",
        "SQUARED_DIFFERENCE",
        "STRIDED_SLICE",
        "SUB",
        "TANH",
        "TRANSPOSE",
    }
)

#: Ops that are known to have no int8 kernel in TFLM, with the reason a user
#: should read when the converter meets one.
KNOWN_UNSUPPORTED: dict[str, str] = {
    # Reached only for a .tflite converted elsewhere: hilnas convert decomposes a GELU
    # builtin (whatever GELU the model used) before this check, so the advice is the route.
    "GELU": ("TFLM has no int8 GELU kernel and this model carries a GELU builtin; convert"
             " the PyTorch model with `hilnas convert`, which lowers tanh-approximate GELU"
             " to TANH/MUL/ADD (exact GELU with `--gelu tanh`)"),
    "EXP": "EXP is float-only in TFLM",
    "SQRT": "SQRT is float-only in TFLM (LayerNorm lowered with SQRT/DIV is not int8)",
    "LOG": "LOG is float-only in TFLM",
    "DIV": "DIV is float-only in TFLM (LayerNorm lowered with SQRT/DIV is not int8)",
    "FLEX": "Flex (TensorFlow) ops never run on TFLM",
}
