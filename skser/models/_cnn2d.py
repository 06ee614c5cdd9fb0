"""2-D CNNs on spectrogram images: FSER (Dossou & Gbenou) and the spectrogram CNN-2D (RAVDESS)."""

from __future__ import annotations

from keras import layers

from skser.models._base import SERKerasClassifier


def _image_input(model, inputs):
    """Normalize per mel band (and channel), then make sure there is a channel axis.

    Images are ``(n_mels, n_frames)`` or ``(n_mels, n_frames, channels)`` per clip.
    """
    if len(inputs.shape) == 3:  # (batch, H, W): grayscale without channel axis
        x = model._normalize(inputs, axis=1)
        return layers.Reshape((*inputs.shape[1:], 1))(x)
    return model._normalize(inputs, axis=(1, 3))


class FSERCNN(SERKerasClassifier):
    """FSER: a four-block CNN on mel-spectrogram images (Dossou & Gbenou, 2021).

    Four blocks of Conv2D + ReLU -> MaxPooling2D -> Dropout, flatten, three
    dense ReLU layers and a softmax; SGD (lr 0.001), batch 64, categorical
    cross-entropy. The paper gives the block structure but not the filter
    counts, kernel size, dropout rate or dense widths; the defaults below are
    ours. The paper trained 400 epochs: pass ``epochs=400,
    early_stopping=False`` to reproduce that; the default stops early.

    Parameters
    ----------
    filters : tuple of int, default=(32, 64, 128, 256)
        Filters of the four convolution blocks (one block per entry).
    kernel_size : int, default=3
        Square convolution kernel size ("same" padding).
    pool_size : int, default=2
        Max-pooling size (and stride) after each convolution.
    dropout : float, default=0.25
        Dropout rate after each pooling layer.
    dense_units : tuple of int, default=(256, 128, 64)
        Widths of the dense ReLU layers before the softmax.
    **training
        Training parameters of :class:`SERKerasClassifier`, with this
        model's paper defaults ``epochs=150, batch_size=64, optimizer="sgd",
        patience=20``.

    Notes
    -----
    Input ``X``: ``(n_clips, n_mels, n_frames, channels)`` images, e.g. the
    paper's ``(64, 64, 3)``, or ``(n_clips, n_mels, n_frames)``. Any size
    that survives ``len(filters)`` poolings works; normalization is per mel
    band and channel, learnt from the training data.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import FSERCNN
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["anger", "sadness"], 20)
    >>> X = rng.normal(size=(40, 16, 16, 3)).astype("float32") + (y == "anger")[:, None, None, None]
    >>> clf = FSERCNN(filters=(4, 4, 4, 4), dense_units=(8, 8, 8), epochs=2, random_state=0)
    >>> clf.fit(X, y).predict_proba(X[:3]).shape
    (3, 2)
    """

    _training_defaults = dict(epochs=150, batch_size=64, optimizer="sgd", patience=20)

    _input_ndims = (3, 4)
    _freq_axis, _time_axis = 1, 2
    _input_description = "(n_clips, n_mels, n_frames[, channels])"

    def __init__(
        self,
        *,
        filters=(32, 64, 128, 256),
        kernel_size=3,
        pool_size=2,
        dropout=0.25,
        dense_units=(256, 128, 64),
        **training,
    ):
        super().__init__(**training)
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.dense_units = dense_units

    def _build_network(self, inputs, n_classes):
        x = _image_input(self, inputs)
        for n_filters in self.filters:
            x = layers.Conv2D(n_filters, self.kernel_size, padding="same", activation="relu")(x)
            x = layers.MaxPooling2D(self.pool_size, padding="same")(x)
            x = layers.Dropout(self.dropout)(x)
        x = layers.Flatten()(x)
        for units in self.dense_units:
            x = layers.Dense(units, activation="relu")(x)
        return self._softmax(x, n_classes)


class SpectrogramCNN2D(SERKerasClassifier):
    """CNN-2D on grayscale spectrogram images (RAVDESS spectrogram paper).

    Five Conv2D + MaxPooling2D pairs without dropout, a dense ReLU layer with
    dropout, a softmax; Adam (lr 0.005), categorical cross-entropy, 50
    epochs, 150x150 grayscale input. The paper's description ("five
    convolution and pooling layers ... fully connected layer with a drop of
    0.8 followed by a fully connected layer with regression") is the TFLearn
    recipe ``conv_2d(k=5)/max_pool_2d(5)`` x5, ``fully_connected(1024)``,
    ``dropout(0.8)``, ``regression``; TFLearn's ``dropout`` argument is the
    KEEP probability, so the faithful Keras drop rate is 0.2 (the default).
    Filter counts follow that recipe (32, 64, 128, 64, 32).

    Parameters
    ----------
    filters : tuple of int, default=(32, 64, 128, 64, 32)
        Filters of the convolution + pooling pairs.
    kernel_size : int, default=5
        Square convolution kernel ("same" padding).
    pool_size : int, default=5
        Max-pooling size and stride ("same" padding: 150 -> 30 -> 6 -> 2 -> 1 -> 1).
    dense_units : int, default=1024
        Width of the dense ReLU layer.
    dropout : float, default=0.2
        Drop rate after the dense layer (the paper's keep probability 0.8).
    **training
        Training parameters of :class:`SERKerasClassifier`, with this
        model's paper defaults ``learning_rate=0.005``.

    Notes
    -----
    Input ``X``: ``(n_clips, height, width)`` or ``(n_clips, height, width, 1)``
    spectrograms (paper: 150 x 150; rows are frequency bins). Normalization is
    per frequency row, learnt from the training data.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import SpectrogramCNN2D
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["anger", "sadness"], 20)
    >>> X = rng.normal(size=(40, 20, 20)).astype("float32") + (y == "anger")[:, None, None]
    >>> clf = SpectrogramCNN2D(filters=(4, 4, 4, 4, 4), dense_units=8, epochs=2, random_state=0)
    >>> clf.fit(X, y).predict(X[:2]).shape
    (2,)
    """

    _training_defaults = dict(learning_rate=0.005)

    _input_ndims = (3, 4)
    _freq_axis, _time_axis = 1, 2
    _input_description = "(n_clips, height, width[, 1])"

    def __init__(
        self,
        *,
        filters=(32, 64, 128, 64, 32),
        kernel_size=5,
        pool_size=5,
        dense_units=1024,
        dropout=0.2,
        **training,
    ):
        super().__init__(**training)
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dense_units = dense_units
        self.dropout = dropout

    def _build_network(self, inputs, n_classes):
        x = _image_input(self, inputs)
        for n_filters in self.filters:
            x = layers.Conv2D(n_filters, self.kernel_size, padding="same", activation="relu")(x)
            x = layers.MaxPooling2D(self.pool_size, padding="same")(x)
        x = layers.Flatten()(x)
        x = layers.Dense(self.dense_units, activation="relu")(x)
        x = layers.Dropout(self.dropout)(x)
        return self._softmax(x, n_classes)

