"""YAMNet's network in Keras, with pretrained weights from ``yamnet.h5`` or ``yamnet.tflite``.

The architecture is the model garden's (MobileNet-v1 style): a 3x3/2 convolution
with 32 filters, 13 depthwise-separable blocks, 'same' padding, ReLU, global
average pooling to the 1024-d embedding, a 521-way sigmoid classifier. Batch
norm (``center=True, scale=False, epsilon=1e-4``) is folded into each
convolution's kernel and bias, which is how the TFLite export stores it and
exact for inference: ``conv(x) * s + (beta - mean * s)`` with
``s = 1 / sqrt(var + eps)``. A model built here has convolutions with biases
and no batch-norm layers, so both weight files load into the same graph.
"""

from __future__ import annotations

import os

import numpy as np

from skser._yamnet._files import resolve_yamnet_weights, sniff_weights_format
from skser._yamnet._frontend import EMBEDDING_SIZE, N_CLASSES, PATCH_BANDS, PATCH_FRAMES

BATCHNORM_EPSILON = 1e-4
# (kind, stride, filters) of layer1 .. layer14, as in the model garden's yamnet.py.
LAYER_DEFS = [
    ("conv", 2, 32),
    ("separable", 1, 64),
    ("separable", 2, 128),
    ("separable", 1, 128),
    ("separable", 2, 256),
    ("separable", 1, 256),
    ("separable", 2, 512),
    ("separable", 1, 512),
    ("separable", 1, 512),
    ("separable", 1, 512),
    ("separable", 1, 512),
    ("separable", 1, 512),
    ("separable", 2, 1024),
    ("separable", 1, 1024),
]
CLASSIFIER = "yamnet_classifier"


def _layer_names() -> list[tuple[str, str]]:
    """(keras layer name, kind) of every weighted layer, in graph order."""
    names = []
    for i, (kind, _, _) in enumerate(LAYER_DEFS, start=1):
        if kind == "conv":
            names.append((f"yamnet_layer{i}_conv", "conv"))
        else:
            names.append((f"yamnet_layer{i}_depthwise", "depthwise"))
            names.append((f"yamnet_layer{i}_pointwise", "conv"))
    return names


def _build(input_shape, *, include_top: bool, both: bool = False, name: str = "yamnet"):
    import keras
    from keras import layers

    shape = tuple(input_shape)
    if shape not in ((PATCH_FRAMES, PATCH_BANDS), (PATCH_FRAMES, PATCH_BANDS, 1)):
        raise ValueError(
            f"input_shape must be ({PATCH_FRAMES}, {PATCH_BANDS}) or "
            f"({PATCH_FRAMES}, {PATCH_BANDS}, 1), got {input_shape!r}."
        )
    inputs = keras.Input(shape=shape, name=f"{name}_log_mel")
    net = inputs
    if len(shape) == 2:
        net = layers.Reshape((PATCH_FRAMES, PATCH_BANDS, 1), name=f"{name}_reshape")(net)
    for i, (kind, stride, filters) in enumerate(LAYER_DEFS, start=1):
        if kind == "conv":
            net = layers.Conv2D(
                filters, 3, strides=stride, padding="same", name=f"yamnet_layer{i}_conv"
            )(net)
            net = layers.ReLU(name=f"yamnet_layer{i}_relu")(net)
            continue
        net = layers.DepthwiseConv2D(
            3, strides=stride, padding="same", name=f"yamnet_layer{i}_depthwise"
        )(net)
        net = layers.ReLU(name=f"yamnet_layer{i}_depthwise_relu")(net)
        net = layers.Conv2D(filters, 1, padding="same", name=f"yamnet_layer{i}_pointwise")(net)
        net = layers.ReLU(name=f"yamnet_layer{i}_pointwise_relu")(net)
    embedding = layers.GlobalAveragePooling2D(name=f"{name}_embedding")(net)
    if not (include_top or both):
        return keras.Model(inputs, embedding, name=name)
    scores = layers.Dense(N_CLASSES, activation="sigmoid", name=CLASSIFIER)(embedding)
    return keras.Model(inputs, [embedding, scores] if both else scores, name=name)


def build_yamnet_backbone(
    weights: str | os.PathLike | None = None,
    *,
    trainable: bool = False,
    input_shape: tuple[int, ...] = (PATCH_FRAMES, PATCH_BANDS),
    include_top: bool = False,
    name: str = "yamnet",
):
    """YAMNet in Keras: a (96, 64) log-mel patch to its 1024-d embedding.

    Parameters
    ----------
    weights : str, path-like, "yamnet" or None, default=None
        ``None``: random initialization (architecture only). A path to the
        official ``yamnet.h5`` or to ``yamnet.tflite``: the pretrained weights
        (int8 TFLite weights are dequantized). ``"yamnet"``: the default
        location (``$SKSER_YAMNET`` or ``~/skser_data/models/yamnet.tflite``).
    trainable : bool, default=False
        Whether the layers are trainable (False: a frozen feature extractor).
    input_shape : (96, 64) or (96, 64, 1), default=(96, 64)
        Shape of one input patch (frames x mel bands), as made by
        :func:`skser._yamnet.waveform_patch`.
    include_top : bool, default=False
        Output the 521 AudioSet class scores (sigmoid) instead of the embedding.
    name : str, default="yamnet"
        Model name (prefix of the input, reshape and pooling layer names).

    Returns
    -------
    keras.Model
        ``(batch, *input_shape) -> (batch, 1024)`` (or ``(batch, 521)``).

    Raises
    ------
    FileNotFoundError
        If the weights file is absent (with the download addresses).
    ValueError
        If the file is not YAMNet weights.

    Examples
    --------
    >>> import numpy as np
    >>> model = build_yamnet_backbone()
    >>> tuple(model(np.zeros((2, 96, 64), dtype="float32")).shape)
    (2, 1024)
    """
    if weights is not None and not (isinstance(weights, (str, os.PathLike))):
        raise TypeError(f"weights must be None, 'yamnet' or a path, got {type(weights).__name__}.")
    model = _build(input_shape, include_top=include_top, name=name)
    if weights is not None:
        path = resolve_yamnet_weights(None if os.fspath(weights) == "yamnet" else weights)
        set_yamnet_weights(model, load_yamnet_keras_weights(path))
    model.trainable = bool(trainable)
    return model


def set_yamnet_weights(model, weights: dict[str, list[np.ndarray]]) -> None:
    """Copy converted weights into a model built by :func:`build_yamnet_backbone`."""
    for layer_name, values in weights.items():
        try:
            layer = model.get_layer(layer_name)
        except ValueError:
            if layer_name == CLASSIFIER:
                continue  # a backbone without the classifier
            raise
        expected = [tuple(w.shape) for w in layer.get_weights()]
        got = [tuple(v.shape) for v in values]
        if expected != got:
            raise ValueError(
                f"YAMNet weights for {layer_name}: shapes {got}, expected {expected}."
            )
        layer.set_weights(values)


def load_yamnet_keras_weights(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Read ``yamnet.h5`` or ``yamnet.tflite`` into ``{layer name: [kernel, bias]}`` (Keras layouts)."""
    fmt = sniff_weights_format(path)
    return yamnet_weights_from_tflite(path) if fmt == "tflite" else yamnet_weights_from_h5(path)


def yamnet_weights_from_tflite(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Convert the TFLite export's weights (BN already folded, int8 dequantized) to Keras layouts.

    Raises
    ------
    ValueError
        If the graph's convolutions are not YAMNet's 27 + classifier.
    """
    from skser._yamnet._tflite import read_tflite_layers

    found = read_tflite_layers(path)
    expected = [*_layer_names(), (CLASSIFIER, "dense")]
    kinds = [kind for kind, _, _ in found]
    if kinds != [kind for _, kind in expected]:
        raise ValueError(
            f"{os.fspath(path)!r}: the TFLite graph's layers {kinds} are not YAMNet's "
            f"({len(expected)} layers: conv, 13 x (depthwise, conv), dense)."
        )
    out = {}
    for (layer_name, kind), (_, kernel, bias) in zip(expected, found, strict=True):
        if kind == "conv":
            kernel = kernel.transpose(1, 2, 3, 0)  # [out, kh, kw, in] -> [kh, kw, in, out]
        elif kind == "depthwise":
            kernel = kernel[0][..., None]  # [1, kh, kw, c] -> [kh, kw, c, 1]
        else:
            kernel = kernel.T  # [units, in] -> [in, units]
        out[layer_name] = [np.ascontiguousarray(kernel, np.float32), np.asarray(bias, np.float32)]
    return out


def _h5_layers(path) -> dict[str, dict[str, np.ndarray]]:
    """``{layer: {variable: array}}`` of a Keras (legacy HDF5) weights file."""
    import h5py

    def text(value):
        return value.decode("utf8") if isinstance(value, bytes) else str(value)

    with h5py.File(path, "r") as fh:
        root = fh["model_weights"] if "model_weights" in fh else fh
        if "layer_names" not in root.attrs:
            raise ValueError(
                f"{os.fspath(path)!r} is HDF5 but not Keras weights (no 'layer_names'); "
                "expected the model garden's yamnet.h5."
            )
        layers = {}
        for layer in map(text, root.attrs["layer_names"]):
            group = root[layer]
            variables = {}
            for var in map(text, group.attrs.get("weight_names", [])):
                short = var.rsplit("/", 1)[-1].split(":")[0]  # 'layer1/conv/kernel:0' -> 'kernel'
                variables[short] = np.asarray(group[var], dtype=np.float32)
            if variables:
                layers[layer] = variables
    return layers


def _fold(kernel: np.ndarray, bn: dict[str, np.ndarray], *, depthwise: bool):
    scale = bn.get("gamma", 1.0) / np.sqrt(bn["moving_variance"] + BATCHNORM_EPSILON)
    bias = bn.get("beta", 0.0) - bn["moving_mean"] * scale
    kernel = kernel * (scale[:, None] if depthwise else scale)
    return [kernel.astype(np.float32), np.asarray(bias, np.float32)]


def yamnet_weights_from_h5(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Convert the model garden's ``yamnet.h5`` (layer names ``layer1/conv``, ``layer1/conv/bn``...).

    Batch norm (``scale=False``, ``epsilon=1e-4``) is folded into the kernels and biases.

    Raises
    ------
    ValueError
        Naming the missing layer or variable when the file is not YAMNet's.
    """
    layers = _h5_layers(path)
    where = os.fspath(path)

    def get(layer, var):
        try:
            return layers[layer][var]
        except KeyError:
            raise ValueError(
                f"{where!r} is not yamnet.h5: no variable {var!r} in layer {layer!r}."
            ) from None

    def bn(layer):
        get(layer, "moving_mean")
        return layers[layer]

    out = {}
    for i, (kind, _, _) in enumerate(LAYER_DEFS, start=1):
        if kind == "conv":
            out[f"yamnet_layer{i}_conv"] = _fold(
                get(f"layer{i}/conv", "kernel"), bn(f"layer{i}/conv/bn"), depthwise=False
            )
            continue
        dw = get(f"layer{i}/depthwise_conv", "depthwise_kernel")
        out[f"yamnet_layer{i}_depthwise"] = _fold(
            dw, bn(f"layer{i}/depthwise_conv/bn"), depthwise=True
        )
        pw = get(f"layer{i}/pointwise_conv", "kernel")
        out[f"yamnet_layer{i}_pointwise"] = _fold(
            pw, bn(f"layer{i}/pointwise_conv/bn"), depthwise=False
        )
    dense = [
        v
        for v in layers.values()
        if "kernel" in v and v["kernel"].shape == (EMBEDDING_SIZE, N_CLASSES)
    ]
    if len(dense) != 1 or "bias" not in dense[0]:
        raise ValueError(f"{where!r} is not yamnet.h5: no single 1024 x 521 classifier layer.")
    out[CLASSIFIER] = [dense[0]["kernel"], dense[0]["bias"]]
    return out
