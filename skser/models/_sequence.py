"""Sequence models on (n_frames, n_features) inputs: MFCC Conv1D / LSTM / CNN-LSTM and the CNN-1D.

MFCC models follow Wasowska & Kapitan (TESS); the CNN-1D is the comparison
model of the RAVDESS spectrogram CNN-2D paper. Input ``X`` is
``(n_clips, n_frames, n_coefficients)``; features are standardized per
coefficient inside the model (statistics from the training data).
"""

from __future__ import annotations

from keras import layers, regularizers

from skser.models._base import SERKerasClassifier


class _SequenceModel(SERKerasClassifier):
    _input_ndims = (3,)
    _input_description = "(n_clips, n_frames, n_coefficients)"
    _time_axis, _freq_axis = 1, 2

    def _sequence_input(self, inputs):
        if len(inputs.shape) == 2:  # (batch, d): a pooled feature vector as a 1-channel sequence
            x = self._normalize(inputs, axis=-1)
            return layers.Reshape((inputs.shape[1], 1))(x)
        return self._normalize(inputs, axis=-1)


class MFCCConv1D(_SequenceModel):
    """Conv1D network on MFCC sequences (Wasowska & Kapitan).

    Conv1D(32, 3, same, ReLU) -> MaxPool1D(2) -> BN -> Conv1D(32, 3) ->
    MaxPool1D(2) -> BN -> Flatten -> Dropout(0.3) -> Dense(128, ReLU, L1L2) ->
    Dense(64, ReLU, L1L2) -> softmax; Adam; ReduceLROnPlateau; 30 epochs.

    Parameters
    ----------
    filters : tuple of int, default=(32, 32)
        Filters of the Conv1D + MaxPool1D + BatchNorm blocks.
    kernel_size : int, default=3
    dropout : float, default=0.3
        Drop rate after flattening.
    dense_units : tuple of int, default=(128, 64)
    l1, l2 : float, default=1e-3
        L1/L2 kernel regularization of the dense layers.
    **training
        Training parameters of :class:`SERKerasClassifier`, with this
        model's paper defaults ``epochs=30, reduce_lr_patience=3``.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import MFCCConv1D
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["anger", "sadness"], 20)
    >>> X = rng.normal(size=(40, 16, 13)).astype("float32") + (y == "anger")[:, None, None]
    >>> MFCCConv1D(epochs=2, random_state=0).fit(X, y).predict(X[:2]).shape
    (2,)
    """

    _training_defaults = dict(epochs=30, reduce_lr_patience=3)

    def __init__(
        self,
        *,
        filters=(32, 32),
        kernel_size=3,
        dropout=0.3,
        dense_units=(128, 64),
        l1=1e-3,
        l2=1e-3,
        **training,
    ):
        super().__init__(**training)
        self.filters = filters
        self.kernel_size = kernel_size
        self.dropout = dropout
        self.dense_units = dense_units
        self.l1 = l1
        self.l2 = l2

    def _build_network(self, inputs, n_classes):
        x = self._sequence_input(inputs)
        for n_filters in self.filters:
            x = layers.Conv1D(n_filters, self.kernel_size, padding="same", activation="relu")(x)
            x = layers.MaxPooling1D(2, padding="same")(x)
            x = layers.BatchNormalization()(x)
        x = layers.Flatten()(x)
        x = layers.Dropout(self.dropout)(x)
        for units in self.dense_units:
            x = layers.Dense(units, activation="relu",
                             kernel_regularizer=regularizers.L1L2(l1=self.l1, l2=self.l2))(x)
        return self._softmax(x, n_classes)


class MFCCLSTM(_SequenceModel):
    """Two-layer LSTM on MFCC sequences (Wasowska & Kapitan).

    LSTM(64, dropout 0.1, recurrent_dropout 0.2, return_sequences) ->
    LSTM(32) -> Dense(20, ReLU) -> softmax; Adam; 30 epochs.

    Parameters
    ----------
    lstm_units : tuple of int, default=(64, 32)
        Units of the stacked LSTM layers (all but the last return sequences).
    dropout : float, default=0.1
        Input dropout of the first LSTM.
    recurrent_dropout : float, default=0.2
        Recurrent dropout of the first LSTM (disables the cuDNN kernel).
    dense_units : int, default=20
    **training
        Training parameters of :class:`SERKerasClassifier`, with this
        model's paper defaults ``epochs=30``.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import MFCCLSTM
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["anger", "sadness"], 20)
    >>> X = rng.normal(size=(40, 10, 13)).astype("float32") + (y == "anger")[:, None, None]
    >>> MFCCLSTM(lstm_units=(8, 4), epochs=2, random_state=0).fit(X, y).predict(X[:2]).shape
    (2,)
    """

    _training_defaults = dict(epochs=30)

    def __init__(
        self,
        *,
        lstm_units=(64, 32),
        dropout=0.1,
        recurrent_dropout=0.2,
        dense_units=20,
        **training,
    ):
        super().__init__(**training)
        self.lstm_units = lstm_units
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.dense_units = dense_units

    def _build_network(self, inputs, n_classes):
        x = self._sequence_input(inputs)
        units = tuple(self.lstm_units)
        for i, n_units in enumerate(units):
            first = i == 0  # the paper regularizes only the first LSTM
            x = layers.LSTM(n_units, return_sequences=i < len(units) - 1,
                            dropout=self.dropout if first else 0.0,
                            recurrent_dropout=self.recurrent_dropout if first else 0.0)(x)
        x = layers.Dense(self.dense_units, activation="relu")(x)
        return self._softmax(x, n_classes)


class MFCCCNNLSTM(_SequenceModel):
    """Conv1D front end + LSTM on MFCC sequences (Wasowska & Kapitan's best model).

    Conv1D(32, 3, same, ReLU) -> MaxPool1D(2) -> BN -> LSTM(64, dropout 0.1,
    recurrent_dropout 0.2) -> BN -> Dropout(0.3) -> Dense(64, ReLU, L1L2
    5e-3/1e-3) -> softmax; Adam; 30 epochs.

    Parameters
    ----------
    filters : int, default=32
    kernel_size : int, default=3
    lstm_units : int, default=64
    lstm_dropout : float, default=0.1
    recurrent_dropout : float, default=0.2
    dropout : float, default=0.3
        Drop rate before the dense layer.
    dense_units : int, default=64
    l1 : float, default=5e-3
    l2 : float, default=1e-3
    **training
        Training parameters of :class:`SERKerasClassifier`, with this
        model's paper defaults ``epochs=30``.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import MFCCCNNLSTM
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["anger", "sadness"], 20)
    >>> X = rng.normal(size=(40, 10, 13)).astype("float32") + (y == "anger")[:, None, None]
    >>> MFCCCNNLSTM(lstm_units=8, epochs=2, random_state=0).fit(X, y).predict(X[:2]).shape
    (2,)
    """

    _training_defaults = dict(epochs=30)

    def __init__(
        self,
        *,
        filters=32,
        kernel_size=3,
        lstm_units=64,
        lstm_dropout=0.1,
        recurrent_dropout=0.2,
        dropout=0.3,
        dense_units=64,
        l1=5e-3,
        l2=1e-3,
        **training,
    ):
        super().__init__(**training)
        self.filters = filters
        self.kernel_size = kernel_size
        self.lstm_units = lstm_units
        self.lstm_dropout = lstm_dropout
        self.recurrent_dropout = recurrent_dropout
        self.dropout = dropout
        self.dense_units = dense_units
        self.l1 = l1
        self.l2 = l2

    def _build_network(self, inputs, n_classes):
        x = self._sequence_input(inputs)
        x = layers.Conv1D(self.filters, self.kernel_size, padding="same", activation="relu")(x)
        x = layers.MaxPooling1D(2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.LSTM(self.lstm_units, dropout=self.lstm_dropout,
                        recurrent_dropout=self.recurrent_dropout)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(self.dropout)(x)
        x = layers.Dense(self.dense_units, activation="relu",
                         kernel_regularizer=regularizers.L1L2(l1=self.l1, l2=self.l2))(x)
        return self._softmax(x, n_classes)


class SpectrogramCNN1D(_SequenceModel):
    """CNN-1D comparison model of the RAVDESS spectrogram paper.

    Four Conv1D (ReLU) layers, the first two followed by max pooling,
    flatten, a dense ReLU layer with dropout, softmax; RMSprop (lr 5e-5),
    batch 20, 500 epochs in the paper (its table also lists dropout 0.1).
    The filter counts, kernel and dense width are not given; ours below.

    Parameters
    ----------
    filters : tuple of int, default=(64, 128, 128, 128)
        Filters of the four Conv1D layers.
    kernel_size : int, default=5
    pool_size : int, default=2
        Max pooling after the first two convolutions.
    dense_units : int, default=128
    dropout : float, default=0.1
    **training
        Training parameters of :class:`SERKerasClassifier`, with this
        model's paper defaults ``epochs=200, batch_size=20,
        optimizer="rmsprop", learning_rate=5e-5, patience=20`` (the paper
        trains 500 epochs; early stopping usually ends sooner).

    Notes
    -----
    Input ``X``: ``(n_clips, n_steps, n_features)``, or a 2-D ``(n_clips, d)``
    feature vector (as in the paper: concatenated MFCC, mel, tonnetz and
    contrast means), treated as a one-channel sequence of length ``d``.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.models import SpectrogramCNN1D
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["anger", "sadness"], 20)
    >>> X = rng.normal(size=(40, 24)).astype("float32") + (y == "anger")[:, None]
    >>> SpectrogramCNN1D(filters=(4, 4, 4, 4), dense_units=8, epochs=2,
    ...                  random_state=0).fit(X, y).predict(X[:2]).shape
    (2,)
    """

    _training_defaults = dict(epochs=200, batch_size=20, optimizer="rmsprop", learning_rate=5e-5,
                              patience=20)

    _input_ndims = (2, 3)
    _input_description = "(n_clips, n_steps, n_features) or (n_clips, d)"

    def __init__(
        self,
        *,
        filters=(64, 128, 128, 128),
        kernel_size=5,
        pool_size=2,
        dense_units=128,
        dropout=0.1,
        **training,
    ):
        super().__init__(**training)
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dense_units = dense_units
        self.dropout = dropout

    def _build_network(self, inputs, n_classes):
        x = self._sequence_input(inputs)
        for i, n_filters in enumerate(self.filters):
            x = layers.Conv1D(n_filters, self.kernel_size, padding="same", activation="relu")(x)
            if i < 2:
                x = layers.MaxPooling1D(self.pool_size, padding="same")(x)
        x = layers.Flatten()(x)
        x = layers.Dense(self.dense_units, activation="relu")(x)
        x = layers.Dropout(self.dropout)(x)
        return self._softmax(x, n_classes)
