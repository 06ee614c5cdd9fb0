"""The YAMNet TFLite export: opening an interpreter, finding its tensors, reading its weights.

``tf.lite.Interpreter`` still works in TensorFlow 2.21 but is deprecated in
favour of the ``ai_edge_litert`` package (same API). skser depends on the
latter (except on Windows, which it has no wheels for) and uses it when
installed: it spares the seconds of importing TensorFlow on a process's first
YAMNet call, and keeps skser working once ``tf.lite`` is removed.
"""

from __future__ import annotations

import importlib
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from skser._yamnet._frontend import EMBEDDING_SIZE, N_CLASSES, PATCH_BANDS, PATCH_FRAMES

EMBEDDING_TENSOR = "global_average_pooling2d/Mean"


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            import tensorflow as tf
        except ImportError as exc:  # pragma: no cover - tensorflow is a dependency
            raise ImportError(
                "Running yamnet.tflite needs TensorFlow (tf.lite) or the ai-edge-litert package."
            ) from exc
        return tf.lite.Interpreter
    return Interpreter


def make_interpreter(
    path: str | os.PathLike,
    *,
    num_threads: int = 1,
    preserve: bool = True,
    delegates: bool = True,
    model_content: bytes | None = None,
):
    """Open ``path`` with TFLite and allocate its tensors.

    Parameters
    ----------
    num_threads : int
        CPU threads of the interpreter.
    preserve : bool
        Keep intermediate tensors readable after ``invoke`` (the embedding is
        one). It costs speed: XNNPACK then runs every operator as its own
        partition (57 instead of 4 for YAMNet); :func:`embedding_output_model`
        makes the embedding an output instead.
    delegates : bool
        Use the default XNNPACK delegate (fast); without it the builtin kernels run.
    model_content : bytes, optional
        The model to run, derived from ``path`` (e.g. by
        :func:`embedding_output_model`); ``path`` is still verified and named in errors.

    Raises
    ------
    ValueError
        Naming the file when TFLite cannot load it.
    """
    cls = _interpreter_class()
    verify_tflite_file(path)
    if model_content is None:
        kwargs = {"model_path": os.fspath(path), "num_threads": int(num_threads)}
    else:
        kwargs = {"model_content": model_content, "num_threads": int(num_threads)}
    if preserve:
        kwargs["experimental_preserve_all_tensors"] = True
    if not delegates:
        kwargs["experimental_op_resolver_type"] = _resolver_without_delegates(cls)
    with warnings.catch_warnings():
        # The tf.lite deprecation notice and the "preserve tensors is for debugging" note.
        warnings.filterwarnings("ignore", message=r"(?s).*(deprecated|preserve_all_tensors)")
        try:
            interpreter = cls(**kwargs)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ValueError(f"Cannot load {os.fspath(path)!r} as a TFLite model: {exc}") from exc
    return interpreter


def embedding_output_model(path: str | os.PathLike) -> bytes | None:
    """The YAMNet export with its 1024-d embedding tensor added to the graph outputs.

    An output stays readable after ``invoke`` without
    ``experimental_preserve_all_tensors``, which splits XNNPACK's graph into
    one partition per operator (slower: ``benchmarks/results/yamnet_backends.md``).
    Only the subgraph's output list changes (a new vector appended to the
    file, a few milliseconds); the operators, tensors and weights are the
    file's, so the outputs are bitwise those of the preserved-tensors
    interpreter (tested).

    Returns
    -------
    bytes or None
        ``None`` when the TFLite schema bindings are unavailable or no tensor
        is named like the embedding; callers then fall back to ``preserve=True``.

    Raises
    ------
    ValueError
        For a damaged or truncated file (:func:`verify_tflite_file`).
    """
    verify_tflite_file(path)
    stat = os.stat(path)
    return _embedding_output_model(os.path.abspath(os.fspath(path)), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=2)
def _embedding_output_model(path: str, size: int, mtime_ns: int) -> bytes | None:
    schema = _schema_module()
    if schema is None:  # pragma: no cover - tensorflow ships the bindings
        return None
    data = Path(path).read_bytes()
    try:
        graph = schema.Model.GetRootAsModel(data, 0).Subgraphs(0)
        suffix = EMBEDDING_TENSOR.encode()
        named = [
            t
            for t in range(graph.TensorsLength())
            if (graph.Tensors(t).Name() or b"").endswith(suffix)
        ]
        embedding = [
            t for t in named if list(graph.Tensors(t).ShapeAsNumpy()) == [1, EMBEDDING_SIZE]
        ]
        if len(embedding) != 1:
            return None
        return _with_output(data, graph, embedding[0])
    except Exception:  # pragma: no cover - an unusual file: the caller falls back
        return None


_SUBGRAPH_OUTPUTS_SLOT = 8  # vtable slot of SubGraph.outputs (field 2: tensors, inputs, outputs)


def _with_output(data: bytes, graph, tensor: int) -> bytes:
    """``data`` with ``tensor`` appended to the subgraph's outputs.

    Flatbuffer vectors cannot grow in place, so the new outputs vector is
    appended at the end of the buffer and the subgraph's (forward, unsigned)
    offset to it is rewritten; every other byte is unchanged.
    """
    outputs = [int(i) for i in graph.OutputsAsNumpy()]
    if tensor in outputs:
        return data
    field = graph._tab.Offset(_SUBGRAPH_OUTPUTS_SLOT)
    if not field:
        raise ValueError("subgraph without outputs")
    field_pos = graph._tab.Pos + field
    buf = bytearray(data)
    buf += bytes(-len(buf) % 4)  # 4-byte alignment of the vector's length
    vector_pos = len(buf)
    values = [*outputs, tensor]
    buf += np.asarray([len(values), *values], dtype="<i4").tobytes()
    buf[field_pos : field_pos + 4] = np.asarray([vector_pos - field_pos], "<u4").tobytes()
    return bytes(buf)


def verify_tflite_file(path: str | os.PathLike) -> None:
    """Walk the whole flatbuffer so a damaged file raises here instead of crashing TFLite.

    The TFLite C++ loader does not verify the file and segfaults on a
    truncated one; reading every table with the Python schema bindings fails
    cleanly (``struct.error``/``IndexError``) on out-of-range offsets.

    Raises
    ------
    ValueError
        Naming the file when it is truncated or inconsistent.
    """
    stat = os.stat(path)
    _verify_once(os.path.abspath(os.fspath(path)), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8)
def _verify_once(path: str, size: int, mtime_ns: int) -> None:
    """The walk of :func:`verify_tflite_file`, once per file version (size, time stamp)."""
    schema = _schema_module()
    if schema is None:  # pragma: no cover - tensorflow ships the bindings
        return
    data = Path(path).read_bytes()
    try:
        _walk_model(schema.Model.GetRootAsModel(data, 0), len(data))
    except Exception as exc:  # any out-of-range read means a damaged file
        raise ValueError(f"{path!r} is a damaged or truncated TFLite file ({exc}).") from exc


def _schema_module():
    # ai_edge_litert's bindings first: importing TensorFlow's costs seconds.
    for name in (
        "ai_edge_litert.schema_py_generated",
        "tensorflow.lite.python.schema_py_generated",
    ):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _check_indices(values, low: int, high: int, what: str) -> None:
    values = np.atleast_1d(np.asarray(values))
    if values.size and (values.min() < low or values.max() >= high):
        raise ValueError(f"{what} index out of range")


def _walk_model(model, size: int) -> None:
    n_codes, n_buffers = model.OperatorCodesLength(), model.BuffersLength()
    for i in range(n_codes):
        code = model.OperatorCodes(i)
        code.BuiltinCode(), code.DeprecatedBuiltinCode(), code.CustomCode(), code.Version()
    for i in range(n_buffers):
        buffer = model.Buffers(i)
        if buffer.DataLength():
            buffer.DataAsNumpy()
        if buffer.Offset() and buffer.Offset() + buffer.Size() > size:
            raise ValueError(f"buffer {i} lies past the end of the file")
    if model.SubgraphsLength() < 1:
        raise ValueError("no subgraph")
    for g in range(model.SubgraphsLength()):
        graph = model.Subgraphs(g)
        n_tensors = graph.TensorsLength()
        for t in range(n_tensors):
            tensor = graph.Tensors(t)
            tensor.Name(), tensor.Type(), tensor.ShapeAsNumpy()
            _check_indices(tensor.Buffer(), 0, n_buffers, "buffer")
            quant = tensor.Quantization()
            if quant is not None:
                quant.ScaleAsNumpy(), quant.ZeroPointAsNumpy(), quant.QuantizedDimension()
        _check_indices(graph.InputsAsNumpy(), 0, n_tensors, "input tensor")
        _check_indices(graph.OutputsAsNumpy(), 0, n_tensors, "output tensor")
        for o in range(graph.OperatorsLength()):
            op = graph.Operators(o)
            _check_indices(op.OpcodeIndex(), 0, n_codes, "operator code")
            _check_indices(op.InputsAsNumpy(), -1, n_tensors, "operator input")
            _check_indices(op.OutputsAsNumpy(), -1, n_tensors, "operator output")
            op.BuiltinOptionsType()


def _resolver_without_delegates(cls):
    module = __import__(cls.__module__, fromlist=["OpResolverType"])
    resolver = getattr(module, "OpResolverType", None)
    if resolver is None:
        import tensorflow as tf

        resolver = tf.lite.experimental.OpResolverType
    return resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES


@dataclass(frozen=True)
class YAMNetTensors:
    """Tensor indices of a YAMNet TFLite export."""

    waveform: int
    scores: int
    patch: int | None
    embedding: int


def find_tensors(interpreter, path: str | os.PathLike = "<model>") -> YAMNetTensors:
    """Locate the waveform input, the score and patch outputs and the embedding tensor.

    Raises
    ------
    ValueError
        If the model does not look like YAMNet (input [1, 15600], 521 scores, a
        1024-d pooled embedding).
    """
    where = os.fspath(path)
    inputs = interpreter.get_input_details()
    if len(inputs) != 1 or list(inputs[0]["shape"]) != [1, 15600]:
        shapes = [list(d["shape"]) for d in inputs]
        raise ValueError(
            f"{where!r} is not the YAMNet TFLite export: input shapes {shapes}, expected [[1, 15600]]."
        )
    outputs = {tuple(d["shape"]): d["index"] for d in interpreter.get_output_details()}
    scores = outputs.get((1, N_CLASSES))
    if scores is None:
        raise ValueError(
            f"{where!r} is not the YAMNet TFLite export: no [1, {N_CLASSES}] score output."
        )
    embedding = None
    for detail in interpreter.get_tensor_details():
        if detail["name"].endswith(EMBEDDING_TENSOR) and list(detail["shape"]) == [
            1,
            EMBEDDING_SIZE,
        ]:
            embedding = detail["index"]
    if embedding is None:
        embedding = _embedding_from_graph(interpreter, scores)
    if embedding is None:
        raise ValueError(
            f"{where!r}: no 1024-d embedding tensor ({EMBEDDING_TENSOR}) in the TFLite graph."
        )
    return YAMNetTensors(
        waveform=inputs[0]["index"],
        scores=scores,
        patch=outputs.get((PATCH_FRAMES, PATCH_BANDS)),
        embedding=embedding,
    )


def _embedding_from_graph(interpreter, scores: int) -> int | None:
    """The input of the classifier (FULLY_CONNECTED -> LOGISTIC -> scores), if renamed."""
    ops = _ops(interpreter)
    producer = {int(o): op for op in ops for o in op["outputs"]}
    op = producer.get(scores)
    if op is not None and op["op_name"] == "LOGISTIC":
        op = producer.get(int(op["inputs"][0]))
    if op is not None and op["op_name"] == "FULLY_CONNECTED":
        return int(op["inputs"][0])
    return None


def _ops(interpreter) -> list[dict]:
    get = getattr(interpreter, "_get_ops_details", None)
    if get is None:  # pragma: no cover - present in tf.lite and ai_edge_litert
        raise RuntimeError("This TFLite interpreter cannot list its operators (_get_ops_details).")
    # Delegate nodes repeat the graph; keep the original operators.
    return [op for op in get() if op["op_name"] != "DELEGATE"]


def _dequantized(interpreter, detail: dict) -> np.ndarray:
    """A constant tensor as float32; int8 weights times their (per-channel) scales."""
    index = detail["index"]
    value = np.asarray(interpreter.get_tensor(index))
    if value.dtype == np.float32:
        return value.copy()
    if value.dtype == np.float16:
        return value.astype(np.float32)
    q = detail["quantization_parameters"]
    scales, zeros = np.asarray(q["scales"], np.float64), np.asarray(q["zero_points"], np.float64)
    if scales.size == 0:
        raise ValueError(
            f"Tensor {detail['name']!r} is {value.dtype} without quantization scales."
        )
    shape = [1] * value.ndim
    if scales.size > 1:
        shape[q["quantized_dimension"]] = scales.size
    return ((value - zeros.reshape(shape)) * scales.reshape(shape)).astype(np.float32)


def read_tflite_layers(path: str | os.PathLike) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The convolution and classifier weights of a YAMNet TFLite export, as float32.

    Batch norm is already folded into the convolutions of the export (each
    convolution has a bias), so these are used directly.

    Returns
    -------
    list of (kind, kernel, bias)
        ``kind`` is ``"conv"``, ``"depthwise"`` or ``"dense"``, in graph order.
        Kernels keep the TFLite layouts: conv ``[out, kh, kw, in]``, depthwise
        ``[1, kh, kw, channels]``, dense ``[units, inputs]``.
    """
    interpreter = make_interpreter(path, preserve=False, delegates=False)
    find_tensors(interpreter, path)
    ops = _ops(interpreter)
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    dequantize = {
        int(op["outputs"][0]): int(op["inputs"][0]) for op in ops if op["op_name"] == "DEQUANTIZE"
    }
    layers = []
    seen_conv = False
    for op in ops:
        name = op["op_name"]
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            seen_conv = True
        elif not (name == "FULLY_CONNECTED" and seen_conv):
            continue  # the frontend's DFT and mel products are FULLY_CONNECTED too
        weight, bias = int(op["inputs"][1]), int(op["inputs"][2])
        weight = dequantize.get(weight, weight)
        kind = {"CONV_2D": "conv", "DEPTHWISE_CONV_2D": "depthwise"}.get(name, "dense")
        bias_value = _dequantized(interpreter, details[bias]) if bias >= 0 else None
        layers.append((kind, _dequantized(interpreter, details[weight]), bias_value))
    return layers
