"""The Keras architectures: faithful default structure, tiny fits that beat chance on held-out speakers.

Base-class behaviour (tags, routing, splits, pickling, augmentation, meta-estimators)
is tested once in test_models_base.py on a tiny network.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from keras import layers
from sklearn.base import clone, is_classifier

import skser
from skser.models import (
    CNNRNN,
    AttentionCNN,
    FSERCNN,
    MFCCCNNLSTM,
    MFCCLSTM,
    MFCCConv1D,
    SpectrogramCNN1D,
    SpectrogramCNN2D,
)

ALL = [FSERCNN, SpectrogramCNN2D, SpectrogramCNN1D, MFCCConv1D, MFCCLSTM, MFCCCNNLSTM, CNNRNN]
CLASSES = ("anger", "neutral", "sadness")


def make_data(shape, *, n_speakers=5, per_class=6, seed=0, band_profile=False):
    """Noise around class-specific mean patterns, per-speaker offsets; speakers as groups.

    ``band_profile``: the class pattern is one value per last-axis bin (a
    spectral envelope) repeated over frames, which survives global pooling.
    """
    rng = np.random.default_rng(seed)
    pattern_shape = shape[-1:] if band_profile else shape
    patterns = {c: 1.5 * rng.normal(size=pattern_shape) for c in CLASSES}
    X, y, groups = [], [], []
    for s in range(n_speakers):
        offset = rng.normal(scale=0.3)
        for c in CLASSES:
            for _ in range(per_class):
                X.append(patterns[c] + offset + rng.normal(scale=1.0, size=shape))
                y.append(c)
                groups.append(s)
    return np.asarray(X, dtype=np.float32) * 10 - 40, np.asarray(y), np.asarray(groups)


def _layers(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_public_names():
    for cls in ALL:
        assert getattr(skser, cls.__name__) is cls


@pytest.mark.parametrize("cls", [*ALL, AttentionCNN])
def test_is_classifier_and_clone(cls):
    est = cls(random_state=0)
    assert is_classifier(est)
    assert clone(est).get_params() == est.get_params()
    assert est.get_metadata_routing().fit.requests["groups"] is True


def test_default_architectures_follow_the_papers():
    y = np.array(CLASSES * 3)
    fser = FSERCNN().initialize(np.zeros((9, 64, 64, 3), np.float32), y).model_
    assert len(_layers(fser, layers.Conv2D)) == 4
    assert len(_layers(fser, layers.MaxPooling2D)) == 4 == len(_layers(fser, layers.Dropout))
    assert len(_layers(fser, layers.Dense)) == 4  # three hidden + softmax
    assert type(fser.optimizer).__name__ == "SGD"
    assert np.isclose(float(fser.optimizer.learning_rate), 0.001)

    cnn2d = SpectrogramCNN2D().initialize(np.zeros((9, 150, 150), np.float32), y).model_
    assert len(_layers(cnn2d, layers.Conv2D)) == 5 == len(_layers(cnn2d, layers.MaxPooling2D))
    assert len(_layers(cnn2d, layers.Dropout)) == 1
    assert np.isclose(float(cnn2d.optimizer.learning_rate), 0.005)

    cnn1d = SpectrogramCNN1D().initialize(np.zeros((9, 193), np.float32), y).model_
    assert len(_layers(cnn1d, layers.Conv1D)) == 4
    assert len(_layers(cnn1d, layers.MaxPooling1D)) == 2
    assert type(cnn1d.optimizer).__name__ == "RMSprop"

    conv = MFCCConv1D().initialize(np.zeros((9, 60, 40), np.float32), y).model_
    dense = _layers(conv, layers.Dense)
    assert [d.units for d in dense] == [128, 64, 3]
    assert dense[0].kernel_regularizer.get_config() == {"l1": 1e-3, "l2": 1e-3}

    lstm = MFCCLSTM().initialize(np.zeros((9, 60, 40), np.float32), y).model_
    first, second = _layers(lstm, layers.LSTM)
    assert (first.units, first.dropout, first.recurrent_dropout, first.return_sequences) == (
        64, 0.1, 0.2, True)
    assert (second.units, second.return_sequences) == (32, False)

    cnnlstm = MFCCCNNLSTM().initialize(np.zeros((9, 60, 40), np.float32), y).model_
    assert len(_layers(cnnlstm, layers.BatchNormalization)) == 2
    assert _layers(cnnlstm, layers.LSTM)[0].units == 64

    crnn = CNNRNN().initialize(np.zeros((9, 4, 96, 64), np.float32), y).model_
    assert [layer.units for layer in _layers(crnn, layers.LSTM)] == [150, 150]
    assert crnn.input_shape == (None, None, 96, 64)  # any number of segments
    assert np.isclose(float(crnn.optimizer.learning_rate), 3e-4)


# Tiny configurations: few filters/units and a larger learning rate, so a few
# epochs on 2 shared CPU cores separate the classes.
TINY = [
    (FSERCNN, dict(filters=(4, 4), dense_units=(16, 8, 8), dropout=0.1, optimizer="adam",
                   learning_rate=0.01), (16, 16, 3)),
    (SpectrogramCNN2D, dict(filters=(8, 8), kernel_size=3, pool_size=2, dense_units=16,
                            learning_rate=0.005), (16, 16)),
    (SpectrogramCNN1D, dict(filters=(4, 4, 4, 4), dense_units=16, learning_rate=0.01), (20, 4)),
    (MFCCConv1D, dict(filters=(8, 8), dense_units=(16, 8), l1=1e-4, l2=1e-4,
                      learning_rate=0.01), (12, 8)),
    (MFCCLSTM, dict(lstm_units=(8, 8), dense_units=8, learning_rate=0.02), (6, 8)),
    (MFCCCNNLSTM, dict(filters=8, lstm_units=8, dense_units=8, learning_rate=0.02), (8, 8)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("cls", "params", "shape"), TINY, ids=[c.__name__ for c, _, _ in TINY])
def test_fits_and_beats_chance_on_held_out_speakers(cls, params, shape):
    X, y, groups = make_data(shape)
    test = groups == 4
    clf = cls(epochs=8, batch_size=16, random_state=0, **params)
    clf.fit(X[~test], y[~test], groups=groups[~test])
    assert set(clf.validation_groups_) <= {0, 1, 2, 3}
    assert clf.score(X[test], y[test]) > 0.6  # chance: 1/3


@pytest.fixture(scope="module")
def crnn_data():
    X, y, groups = make_data((3, 12, 8), band_profile=True)
    X[::3, 2] = 0.0  # every third clip is shorter: its last segment is padding
    return X, y, groups


@pytest.fixture(scope="module")
def crnn(crnn_data):
    X, y, groups = crnn_data
    test = groups == 4
    clf = CNNRNN(backbone_filters=(4, 8), lstm_units=(8, 8), learning_rate=0.01, epochs=8,
                 batch_size=16, random_state=0)
    return clf.fit(X[~test], y[~test], groups=groups[~test])


@pytest.mark.slow
def test_cnnrnn_beats_chance_and_masks_padding(crnn, crnn_data):
    X, y, groups = crnn_data
    test = groups == 4
    assert crnn.score(X[test], y[test]) > 0.6
    # normalization statistics from real segments only (padding excluded)
    proba = crnn.predict_proba(X[test])
    padded = np.concatenate([X[test], np.zeros_like(X[test][:, :2])], axis=1)
    np.testing.assert_allclose(crnn.predict_proba(padded), proba, atol=1e-5)
    assert crnn.predict(X[test][:, :2]).shape == (int(test.sum()),)  # fewer segments
    with pytest.raises(ValueError, match="fitted on"):
        crnn.predict(X[test][:, :, :6])  # the per-segment shape is fixed
    # the custom mask / segment layers survive pickling
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(crnn)).predict_proba(X[test]), proba)


def test_cnnrnn_rejects_unknown_backbone():
    X, y, _ = make_data((2, 8, 8))
    with pytest.raises(ValueError, match="backbone"):
        CNNRNN(backbone="resnet").fit(X, y)


def test_cnnrnn_custom_backbone_builder():
    import keras

    def builder(segment_shape):
        inputs = keras.Input(segment_shape)
        return keras.Model(inputs, layers.Dense(5)(layers.Flatten()(inputs)), name="mine")

    X, y, _ = make_data((2, 8, 8))
    model = CNNRNN(backbone=builder, lstm_units=(4,)).initialize(X, y).model_
    assert model.get_layer("segments").layer.name == "mine"


@pytest.mark.realdata
@pytest.mark.slow
def test_cnnrnn_yamnet_backbone(yamnet_tflite):
    X, y, _ = make_data((2, 96, 64), n_speakers=1, per_class=1)
    clf = CNNRNN(backbone="yamnet", backbone_weights=yamnet_tflite, lstm_units=(8, 8),
                 epochs=1, validation_split=0.0, random_state=0).fit(X, y)
    segments = clf.model_.get_layer("segments").layer
    assert segments.output_shape[-1] == 1024
    assert not any(w.trainable for w in segments.weights)  # frozen by default
    with pytest.raises(ValueError):
        clf.model_.get_layer("input_normalization")  # YAMNet keeps its own input scale
    assert clf.predict_proba(X).shape == (3, 3)
