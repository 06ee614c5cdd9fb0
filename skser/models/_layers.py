"""Keras layers shared by skser's networks: in-graph SpecAugment, per-utterance
normalization and attention pooling over time.

All three work clip by clip (nothing depends on other clips of the batch at
predict time), so a fitted model is deployment-safe on single clips, and
all are registered for Keras serialization, so models pickle with them.
"""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="skser")
class SpecAugment(layers.Layer):
    """SpecAugment frequency and time masks, active only in training.

    Each training clip gets ``freq_masks`` bands of up to ``freq_mask_width``
    consecutive frequency rows and ``time_masks`` spans of up to
    ``time_mask_width`` frames set to zero (the mean, as the layer sits after
    input standardization). At inference the layer is the identity.

    Parameters
    ----------
    freq_axis, time_axis : int
        Axes of the input (batch axis 0) holding frequency and time.
    freq_masks, time_masks : int
        Number of masks of each kind per clip.
    freq_mask_width, time_mask_width : int
        Largest width of a mask (each width is drawn uniformly in
        ``[0, width]``, clipped to the axis length).
    seed : int or None
        Seed of the layer's random generator (the model's seed by default).
    """

    def __init__(self, freq_axis, time_axis, freq_masks=2, freq_mask_width=8, time_masks=2,
                 time_mask_width=20, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.freq_axis, self.time_axis = int(freq_axis), int(time_axis)
        self.freq_masks, self.freq_mask_width = int(freq_masks), int(freq_mask_width)
        self.time_masks, self.time_mask_width = int(time_masks), int(time_mask_width)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _band_mask(self, x, axis, n_masks, max_width):
        """Boolean keep-mask broadcastable to ``x``: False inside the drawn bands."""
        shape = ops.shape(x)
        length = shape[axis]
        batch = shape[0]
        positions = ops.arange(length)
        keep = ops.ones((batch, length), dtype="bool")
        for _ in range(n_masks):
            width = ops.floor(keras.random.uniform((batch, 1), 0, max_width + 1,
                                                   seed=self.seed_generator))
            start = ops.floor(keras.random.uniform((batch, 1), 0, 1, seed=self.seed_generator)
                              * ops.maximum(ops.cast(length, "float32") - width, 1.0))
            pos = ops.cast(positions, "float32")[None, :]
            keep = ops.logical_and(keep, ops.logical_or(pos < start, pos >= start + width))
        return ops.reshape(keep, [-1 if i == 0 else (length if i == axis else 1)
                                  for i in range(len(x.shape))])

    def call(self, x, training=None):
        if not training:
            return x
        keep = None
        if self.freq_masks and self.freq_mask_width:
            keep = self._band_mask(x, self.freq_axis, self.freq_masks, self.freq_mask_width)
        if self.time_masks and self.time_mask_width:
            t = self._band_mask(x, self.time_axis, self.time_masks, self.time_mask_width)
            keep = t if keep is None else ops.logical_and(keep, t)
        if keep is None:
            return x
        return ops.where(keep, x, ops.zeros_like(x))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "freq_axis": self.freq_axis, "time_axis": self.time_axis,
                "freq_masks": self.freq_masks, "freq_mask_width": self.freq_mask_width,
                "time_masks": self.time_masks, "time_mask_width": self.time_mask_width,
                "seed": self.seed}


@keras.saving.register_keras_serializable(package="skser")
class UtteranceNormalization(layers.Layer):
    """Standardize each clip on its own: zero mean, unit variance per channel over time.

    Statistics are taken over every axis except the batch and ``channel_axes``
    (per mel band / coefficient), from the clip itself, so training and
    deployment see the same transform clip by clip (cepstral mean and
    variance normalization). Padding frames count like real ones.
    """

    def __init__(self, channel_axes, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        axes = (channel_axes,) if isinstance(channel_axes, int) else tuple(channel_axes)
        self.channel_axes = tuple(int(a) for a in axes)
        self.epsilon = float(epsilon)

    def call(self, x):
        rank = len(x.shape)
        channels = {a % rank for a in self.channel_axes}
        reduce = tuple(a for a in range(1, rank) if a not in channels)
        mean = ops.mean(x, axis=reduce, keepdims=True)
        var = ops.var(x, axis=reduce, keepdims=True)
        return (x - mean) / ops.sqrt(var + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "channel_axes": self.channel_axes,
                "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="skser")
class AttentionPooling(layers.Layer):
    """Attention-weighted mean and standard deviation over time: (batch, T, C) -> (batch, 2C).

    A small scorer ``v . tanh(W h_t)`` gives each frame a weight (softmax
    over time), so a clip of any length pools to one vector and the network
    learns which frames carry emotion.
    """

    def __init__(self, units=64, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        self.hidden = layers.Dense(self.units, activation="tanh", name="hidden")
        self.hidden.build(input_shape)
        self.score = layers.Dense(1, name="score")
        self.score.build((*input_shape[:-1], self.units))

    def call(self, h):
        weights = ops.softmax(self.score(self.hidden(h)), axis=1)  # (batch, T, 1)
        mean = ops.sum(weights * h, axis=1)
        var = ops.sum(weights * ops.square(h - mean[:, None, :]), axis=1)
        return ops.concatenate([mean, ops.sqrt(var + 1e-6)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}
