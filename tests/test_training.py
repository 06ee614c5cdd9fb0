"""The training recipe of SERKerasClassifier: declared once, and only active during fit.

Tiny synthetic spectrograms and 1-2 epochs keep every fit to seconds.
"""

from __future__ import annotations

import inspect
import pickle

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skser.models import (
    CNNRNN,
    FSERCNN,
    MFCCCNNLSTM,
    MFCCLSTM,
    AttentionCNN,
    MFCCConv1D,
    SERKerasClassifier,
    SpectrogramCNN1D,
    SpectrogramCNN2D,
    _base,
)
from skser.models._data import training_dataset
from skser.models._layers import SpecAugment
from skser.recipes import make_ser_pipeline

ARCHITECTURES = [FSERCNN, SpectrogramCNN2D, SpectrogramCNN1D, MFCCConv1D, MFCCLSTM, MFCCCNNLSTM,
                 CNNRNN, AttentionCNN]
TINY = dict(filters=(4, 8), attention_units=4, random_state=0)


def spectrograms(n_per_class=8, n_mels=8, n_frames=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(["anger", "sadness"], n_per_class)
    X = rng.normal(size=(len(y), n_mels, n_frames)).astype(np.float32)
    X[y == "anger", : n_mels // 2] += 1.5
    groups = np.tile(np.arange(4), len(y) // 4)
    return X, y, groups


X, Y, G = spectrograms()


@pytest.mark.parametrize("cls", ARCHITECTURES)
def test_training_parameters_written_once(cls):
    params = inspect.signature(cls).parameters
    assert list(params)[-len(_base.TRAINING_DEFAULTS):] == list(_base.TRAINING_DEFAULTS)
    est = cls()
    assert set(_base.TRAINING_DEFAULTS) <= set(est.get_params())
    for name, default in cls.training_defaults().items():
        assert params[name].default == default == getattr(est, name)
    assert clone(est.set_params(epochs=3)).epochs == 3
    with pytest.raises(TypeError, match="unknown parameter"):
        cls(epoch=3)


@pytest.mark.parametrize("cls", ARCHITECTURES)
def test_modern_training_applies_to_every_architecture(cls):
    # The seed papers' networks can be retrained the modern way with one call.
    params = cls.modern_training()
    model = cls(**params)
    model._check_params()  # a valid combination for this class (no reduce-on-plateau + cosine)
    assert model.lr_schedule == "cosine" and model.optimizer == "adamw"
    assert not model.early_stopping and model.validation_split == 0.0
    # Untouched: what depends on the data.
    assert model.epochs == cls.training_defaults()["epochs"]
    assert model.crop_frames == cls.training_defaults()["crop_frames"]


def test_attention_cnn_defaults_are_the_modern_recipe():
    assert _base.MODERN_TRAINING.items() <= AttentionCNN.training_defaults().items()


def test_seed_network_trains_with_the_modern_recipe():
    rng = np.random.default_rng(0)
    y = np.repeat(["anger", "sadness"], 12)
    X = rng.normal(size=(len(y), 40, 13)).astype(np.float32)
    X[y == "anger", :, :4] += 1.5
    model = MFCCConv1D(**MFCCConv1D.modern_training(), epochs=2, random_state=0)
    proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (24, 2) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    # The paper's CNN-1D takes per-clip vectors: no SpecAugment there.
    vectors = SpectrogramCNN1D(**SpectrogramCNN1D.modern_training(), filters=(4, 4, 4, 4),
                               dense_units=8, epochs=1, random_state=0)
    assert vectors.fit(X[:, :, 0], y).predict(X[:2, :, 0]).shape == (2,)


def test_architecture_defaults_stay_per_class():
    assert FSERCNN().optimizer == "sgd" and FSERCNN().epochs == 150
    assert MFCCConv1D().reduce_lr_patience == 3 and MFCCLSTM().reduce_lr_patience is None
    assert SERKerasClassifier.training_defaults() == _base.TRAINING_DEFAULTS


def test_subclass_without_init_gets_its_own_defaults():
    class Longer(AttentionCNN):
        _training_defaults = dict(epochs=7)

    assert Longer().epochs == 7 and AttentionCNN().epochs == 60
    assert inspect.signature(Longer).parameters["epochs"].default == 7
    assert inspect.signature(AttentionCNN).parameters["epochs"].default == 60
    assert Longer().filters == AttentionCNN().filters


def test_set_params_and_grid_search_through_a_pipeline():
    pipe = make_pipeline(FunctionTransformer(), AttentionCNN(epochs=1, **TINY))
    pipe.set_params(attentioncnn__mixup_alpha=0.0, attentioncnn__crop_frames=None)
    assert pipe[-1].mixup_alpha == 0.0 and pipe[-1].crop_frames is None
    search = GridSearchCV(pipe, {"attentioncnn__label_smoothing": [0.0, 0.2]},
                          cv=GroupKFold(2), scoring="balanced_accuracy")
    search.fit(X, Y, groups=G)
    assert set(search.cv_results_["param_attentioncnn__label_smoothing"]) == {0.0, 0.2}


def test_spec_augment_is_identity_at_inference():
    layer = SpecAugment(1, 2, freq_masks=2, freq_mask_width=3, time_masks=2, time_mask_width=5,
                        seed=0)
    x = np.ones((4, 8, 20), np.float32)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    masked = np.asarray(layer(x, training=True))
    assert masked.shape == x.shape and (masked == 0).any() and (masked == 1).any()
    zero_rows = (masked == 0).all(axis=2)  # frequency masks cover whole rows
    assert zero_rows.any()
    assert (zero_rows.sum(axis=1) <= 6).all()


def test_crops_and_mixup_only_in_training_batches():
    y_enc = np.eye(2, dtype=np.float32)[(Y == "anger").astype(int)]
    ds, steps = training_dataset(X, y_enc, None, batch_size=8, seed=0, crop_frames=16,
                                 time_axis=2, mixup_alpha=0.4)
    assert steps == 2
    xb, yb = next(iter(ds))
    assert xb.shape == (8, 8, 16)  # random 16-frame windows
    np.testing.assert_allclose(np.asarray(yb).sum(axis=1), 1.0, rtol=1e-5)
    assert ((np.asarray(yb) > 0.01) & (np.asarray(yb) < 0.99)).any()  # mixed targets
    # clips shorter than the crop stay whole
    short, _ = training_dataset(X[:, :, :10], y_enc, None, batch_size=8, seed=0,
                                crop_frames=16, time_axis=2)
    assert next(iter(short))[0].shape == (8, 8, 10)


def test_fit_crops_predict_whole_clips_deterministically():
    est = AttentionCNN(epochs=2, crop_frames=16, **TINY).fit(X, Y, groups=G)
    again = AttentionCNN(epochs=2, crop_frames=16, **TINY).fit(X, Y, groups=G)
    proba = est.predict_proba(X)  # 40 frames: longer than the training crops
    np.testing.assert_array_equal(proba, again.predict_proba(X))
    np.testing.assert_array_equal(est.predict_proba(X), proba)  # no augmentation at predict
    assert est.model_.get_layer("spec_augment") is not None
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).predict_proba(X), proba)


def test_utterance_normalization_is_per_clip():
    est = AttentionCNN(epochs=1, crop_frames=None, utterance_normalization=True,
                       **TINY).fit(X, Y)
    shifted = X * 3.0 + 5.0  # a louder clip on another channel: same after per-clip CMVN
    np.testing.assert_allclose(est.predict_proba(shifted), est.predict_proba(X), atol=1e-4)
    one_by_one = np.concatenate([est.predict_proba(X[i : i + 1]) for i in range(3)])
    np.testing.assert_allclose(one_by_one, est.predict_proba(X[:3]), atol=1e-6)


def test_cosine_schedule_with_warmup_and_adamw():
    est = AttentionCNN(epochs=4, warmup_epochs=1, batch_size=8, **TINY).fit(X, Y)
    opt = est.model_.optimizer
    assert type(opt).__name__ == "AdamW" and np.isclose(opt.weight_decay, 0.05)
    schedule = opt._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    steps = 2  # 16 clips, batch 8
    assert float(schedule(0)) == 0.0
    assert np.isclose(float(schedule(steps)), est.learning_rate)  # end of warm-up
    assert float(schedule(4 * steps)) < 1e-6  # decayed to zero at the last epoch


@pytest.mark.parametrize(("params", "match"), [
    ({"lr_schedule": "step"}, "lr_schedule"),
    ({"warmup_epochs": 2, "lr_schedule": "constant"}, "warmup_epochs"),
    ({"label_smoothing": 1.0}, "label_smoothing"),
    ({"mixup_alpha": -1.0}, "mixup_alpha"),
    ({"lr_schedule": "cosine", "reduce_lr_patience": 2}, "reduce_lr_patience"),
])
def test_invalid_training_options(params, match):
    with pytest.raises(ValueError, match=match):
        AttentionCNN(**{**TINY, "epochs": 1, **params}).fit(X, Y)


def test_crops_need_a_variable_length_network():
    with pytest.raises(ValueError, match="crop_frames"):
        SpectrogramCNN2D(crop_frames=8, epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match="freq_masks"):
        SpectrogramCNN1D(freq_masks=1, epochs=1).fit(X[:, :, 0], Y)


def test_recommended_deep_recipe_clones_and_pickles():
    pipe = make_ser_pipeline("recommended-deep", random_state=0, model__epochs=5)
    assert pipe.named_steps["model"].epochs == 5
    assert isinstance(pipe.named_steps["model"], AttentionCNN)
    copy = pickle.loads(pickle.dumps(clone(pipe)))
    assert copy.get_params()["model__crop_frames"] == 150


def test_compiled_batch_inference_matches_model_predict():
    est = AttentionCNN(epochs=1, batch_size=4, **TINY).fit(X, Y)
    expected = est.model_.predict(X, verbose=0)
    np.testing.assert_allclose(est.predict_proba(X[:1]), expected[:1], atol=1e-6)
    # Several batches, the last one short, give the rows of one predict call.
    np.testing.assert_allclose(est.predict_proba(X[:10]), expected[:10], atol=1e-6)
    # Clips of another length reuse the compiled step (shapes relaxed, no error).
    shorter = X[:3, :, : X.shape[2] // 2]
    np.testing.assert_allclose(est.predict_proba(shorter),
                               est.model_.predict(shorter, verbose=0), atol=1e-6)
    # Keyword arguments still reach Model.predict.
    np.testing.assert_allclose(est.predict_proba(X[:2], batch_size=1), expected[:2], atol=1e-6)


def test_recommended_deep_runs_from_audio_clip_by_clip():
    from skser.datasets import make_synthetic_corpus

    corpus = make_synthetic_corpus(n_speakers=2, n_per_class=2, duration=1.0)
    pipe = make_ser_pipeline("recommended-deep", random_state=0, model__epochs=1,
                             model__filters=(4, 4), model__attention_units=4)
    pipe.fit(corpus.X, corpus.y)
    one = pipe.predict_proba(corpus.X[:1])  # a single clip, no speaker id
    assert one.shape == (1, len(np.unique(corpus.y)))
    np.testing.assert_allclose(pipe.predict_proba(corpus.X[:3])[:1], one, atol=1e-5)
