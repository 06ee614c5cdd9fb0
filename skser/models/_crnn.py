"""CNN-RNN on stacks of mel segments (Sharan, Mascolo & Schuller): per-segment CNN + 2 LSTMs."""

from __future__ import annotations

import math

import keras
from keras import layers

from skser.models._base import SERKerasClassifier


@keras.saving.register_keras_serializable(package="skser")
class SegmentMask(layers.Layer):
    """True for real segments, False for padding (segments that are exactly all-zero).

    Computed on the raw input, before normalization turns padding into non-zeros.
    """

    def call(self, x):
        return keras.ops.any(keras.ops.not_equal(x, 0), axis=(2, 3))


@keras.saving.register_keras_serializable(package="skser")
class SegmentWise(layers.TimeDistributed):
    """Apply a per-segment network to every segment and flatten its output.

    Unlike ``TimeDistributed`` (a vectorized map over a dynamic time axis,
    slow and fragile when the number of segments changes between calls),
    this folds the segments into the batch axis: one call of the backbone.
    """

    def call(self, inputs, training=None, mask=None):
        shape = keras.ops.shape(inputs)
        flat = keras.ops.reshape(inputs, (-1, *inputs.shape[2:]))
        out = self.layer(flat, training=training)
        return keras.ops.reshape(out, (shape[0], shape[1], math.prod(out.shape[1:])))

    def compute_output_shape(self, input_shape):
        out = self.layer.compute_output_shape((None, *input_shape[2:]))
        return (input_shape[0], input_shape[1], math.prod(out[1:]))

    def compute_mask(self, inputs, mask=None):
        return None


def small_backbone(input_shape, *, filters=(16, 32, 64)):
    """A compact per-segment CNN trained from scratch: (frames, bands) -> filters[-1] embedding."""
    inputs = keras.Input(shape=tuple(input_shape), name="segment")
    x = layers.Reshape((*input_shape, 1))(inputs)
    for n_filters in filters:
        x = layers.Conv2D(n_filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, x, name="small_backbone")


class CNNRNN(SERKerasClassifier):
    """CNN-RNN: a CNN embeds each mel segment, two LSTMs read the sequence of segments.

    Sharan et al. split each clip into 0.975 s segments (50 % overlap), turn
    each into a (96, 64) log-mel patch, embed every patch with YAMNet,
    flatten, and run two LSTM layers of 150 units before the softmax; Adam
    (lr 3e-4), batch 24, 50 epochs, 20 % of the training speakers for
    validation. Padded segments (exactly all-zero) are masked in the LSTMs,
    so clips of different lengths can share a batch, and the number of
    segments may differ between calls.

    Parameters
    ----------
    backbone : {"small", "yamnet"} or callable, default="small"
        ``"small"``: a compact CNN trained from scratch (fast). ``"yamnet"``:
        the AudioSet-pretrained YAMNet (1024-d embedding per segment; input
        must be (96, 64) patches). A callable ``f(segment_shape) -> keras.Model``
        builds any other per-segment embedding network.
    backbone_weights : str, path-like or None, default=None
        YAMNet weights (``yamnet.tflite`` or ``yamnet.h5``); ``None`` looks in
        the default location (``$SKSER_YAMNET`` or
        ``~/skser_data/models/yamnet.tflite``). Only for ``backbone="yamnet"``.
    backbone_trainable : bool, default=False
        Fine-tune YAMNet (``True``) or keep it frozen as a feature extractor.
    backbone_filters : tuple of int, default=(16, 32, 64)
        Conv2D filters of the small backbone (each followed by 2x2 pooling).
    lstm_units : tuple of int, default=(150, 150)
        Units of the stacked LSTM layers.
    **training
        Training parameters of :class:`SERKerasClassifier`, with this
        model's paper defaults ``batch_size=24, learning_rate=3e-4``. An
        ``augmenter`` must leave padded (all-zero) segments at zero (e.g.
        ``time_axis=2, freq_axis=3`` masks); in-graph ``freq_masks`` /
        ``time_masks`` act within each segment.

    Notes
    -----
    Input ``X``: ``(n_clips, n_segments, n_frames, n_mels)`` (paper:
    ``(n, n_segments, 96, 64)``), padded segments all-zero. With the small
    backbone the input is standardized per mel band (statistics from the
    real training segments only); YAMNet gets the log-mel values unchanged,
    as it was pretrained on them.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import CNNRNN
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["anger", "sadness"], 20)
    >>> X = rng.normal(size=(40, 3, 16, 8)).astype("float32") + (y == "anger")[:, None, None, None]
    >>> X[::2, 2] = 0  # shorter clips: last segment is padding
    >>> clf = CNNRNN(backbone_filters=(4,), lstm_units=(8, 8), epochs=2, random_state=0).fit(X, y)
    >>> clf.predict(X[:2, :2]).shape  # fewer segments at predict time
    (2,)
    """

    _training_defaults = dict(batch_size=24, learning_rate=3e-4)

    _input_ndims = (4,)
    _variable_axes = (1,)
    _time_axis, _freq_axis = 2, 3  # frames and mel bands within each segment
    _input_description = "(n_clips, n_segments, n_frames, n_mels)"

    def __init__(
        self,
        *,
        backbone="small",
        backbone_weights=None,
        backbone_trainable=False,
        backbone_filters=(16, 32, 64),
        lstm_units=(150, 150),
        **training,
    ):
        super().__init__(**training)
        self.backbone = backbone
        self.backbone_weights = backbone_weights
        self.backbone_trainable = backbone_trainable
        self.backbone_filters = backbone_filters
        self.lstm_units = lstm_units

    def _check_params(self):
        super()._check_params()
        if not (callable(self.backbone) or self.backbone in ("small", "yamnet")):
            raise ValueError(f"backbone must be 'small', 'yamnet' or a callable, "
                             f"got {self.backbone!r}.")
        if len(tuple(self.lstm_units)) == 0:
            raise ValueError("lstm_units must hold at least one LSTM size.")

    def _segment_network(self, segment_shape):
        if self.backbone == "small":
            return small_backbone(segment_shape, filters=tuple(self.backbone_filters))
        if self.backbone == "yamnet":
            from skser._yamnet import build_yamnet_backbone

            return build_yamnet_backbone(
                weights="yamnet" if self.backbone_weights is None else self.backbone_weights,
                trainable=self.backbone_trainable,
                input_shape=tuple(segment_shape),
            )
        return self.backbone(tuple(segment_shape))

    def _build_network(self, inputs, n_classes):
        mask = SegmentMask(name="segment_mask")(inputs)  # before normalization
        x = inputs
        if self.backbone != "yamnet":  # YAMNet expects its own log-mel scale
            x = self._normalize(x, axis=-1)  # per mel band
        x = SegmentWise(self._segment_network(inputs.shape[2:]), name="segments")(x)
        units = tuple(self.lstm_units)
        for i, n_units in enumerate(units):
            x = layers.LSTM(n_units, return_sequences=i < len(units) - 1)(x, mask=mask)
        return self._softmax(x, n_classes)

    def _normalization_data(self, X_train):
        # statistics from the real segments only: padding would bias the mean
        segments = X_train.reshape(-1, *X_train.shape[2:])
        real = segments[(segments != 0).any(axis=(1, 2))]
        return real[:, None] if len(real) else segments[:, None]
