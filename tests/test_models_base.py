"""SERKerasClassifier: the scikeras quirks fixed once, tested on a tiny dense network.

A 2-D dense model keeps each fit to a couple of seconds; the real
architectures are covered in test_models.py.
"""

from __future__ import annotations

import pickle

import joblib
import keras
import numpy as np
import pytest
import sklearn
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    StratifiedKFold,
    check_cv,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from skser.models import SERKerasClassifier, _base


class TinyDense(SERKerasClassifier):
    """Normalization -> Dense(units) -> softmax on (n, d) features."""

    _input_ndims = (2,)
    _input_description = "(n_clips, n_features)"

    _training_defaults = dict(epochs=6, batch_size=16, learning_rate=0.05, random_state=0)

    def __init__(self, *, units=8, **training):
        super().__init__(**training)
        self.units = units

    def _build_network(self, inputs, n_classes):
        x = self._normalize(inputs, axis=-1)
        x = keras.layers.Dense(self.units, activation="relu")(x)
        return self._softmax(x, n_classes)


def make_data(n_speakers=6, per_class=6, classes=("anger", "neutral", "sadness"), d=6, seed=0):
    """Separable class means plus per-speaker offsets; features on a large, shifted scale."""
    rng = np.random.default_rng(seed)
    y, groups, X = [], [], []
    centers = {c: rng.normal(scale=3.0, size=d) for c in classes}
    for s in range(n_speakers):
        offset = rng.normal(scale=0.5, size=d)
        for c in classes:
            for _ in range(per_class):
                X.append(centers[c] + offset + rng.normal(scale=0.7, size=d))
                y.append(c)
                groups.append(f"spk{s}")
    X = (np.asarray(X) * 50 + 300).astype(np.float32)  # unscaled on purpose
    return X, np.asarray(y), np.asarray(groups)


X, Y, G = make_data()
TRAIN = np.isin(G, ["spk0", "spk1", "spk2", "spk3"])


@pytest.fixture(scope="module")
def fitted():
    return TinyDense().fit(X[TRAIN], Y[TRAIN], groups=G[TRAIN])


class CountingAugmenter:
    """Spy: counts calls and rows, adds small noise."""

    def __init__(self):
        self.calls = 0
        self.rows = 0

    def augment(self, batch, *, random_state):
        self.calls += 1
        self.rows += len(batch)
        return batch + random_state.normal(scale=0.01, size=batch.shape).astype(np.float32)


def test_is_classifier_and_tags():
    est = TinyDense()
    assert is_classifier(est)
    tags = get_tags(est)
    assert tags.estimator_type == "classifier"
    assert tags.classifier_tags is not None and tags.target_tags.required
    # cv=5 must be stratified for a classifier
    assert isinstance(check_cv(5, Y, classifier=is_classifier(est)), StratifiedKFold)
    assert isinstance(est._more_tags(), dict)  # scikeras' version crashes on sklearn >= 1.7


def test_groups_requested_by_default():
    routing = TinyDense().get_metadata_routing()
    assert routing.fit.requests["groups"] is True


def test_not_fitted():
    est = TinyDense()
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError):
        est.predict(X)
    assert not hasattr(est, "partial_fit")


@pytest.mark.parametrize(
    ("params", "match"),
    [({"epochs": 0}, "epochs"), ({"validation_split": 1.0}, "validation_split"),
     ({"class_weight": "auto"}, "class_weight"), ({"optimizer": "nope"}, "nope"),
     ({"patience": -1}, "patience")],
)
def test_invalid_params(params, match):
    with pytest.raises(ValueError, match=match):
        TinyDense(**params).fit(X, Y)


def test_bad_input_shape_and_labels():
    with pytest.raises(ValueError, match="n_clips, n_features"):
        TinyDense().fit(X[:, :, None], Y)
    with pytest.raises(ValueError, match="class labels"):
        TinyDense().fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(TypeError, match="augment"):
        TinyDense(augmenter=object()).fit(X, Y)


def test_fit_predict_held_out_speakers(fitted):
    assert list(fitted.classes_) == ["anger", "neutral", "sadness"]
    proba = fitted.predict_proba(X[~TRAIN])
    assert proba.shape == (int((~TRAIN).sum()), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert fitted.score(X[~TRAIN], Y[~TRAIN]) > 0.8  # chance is 1/3
    assert fitted.device_ == "CPU" or fitted.device_.startswith("GPU")
    assert fitted.dtype_policy_ == "float32"
    assert 1 <= fitted.best_epoch_ <= fitted.n_epochs_ <= 6


def test_validation_split_holds_out_training_speakers(fitted):
    train_groups = G[TRAIN]
    val_groups = fitted.validation_groups_
    assert len(val_groups) == 1  # 20 % of 4 training speakers
    assert set(val_groups) <= set(train_groups)  # never a test speaker
    held = train_groups[fitted.validation_indices_]
    assert set(held) == set(val_groups)
    assert np.sum(np.isin(train_groups, val_groups)) == len(fitted.validation_indices_)
    assert "val_loss" in fitted.history_


def test_validation_split_without_groups_is_stratified():
    est = TinyDense(validation_split=0.25)
    train, val, val_groups = est._validation_split(Y, None, seed=0)
    assert val_groups is None
    assert len(val) == int(np.ceil(0.25 * len(Y)))
    _, counts = np.unique(Y[val], return_counts=True)
    assert counts.min() == counts.max()  # balanced classes in the validation part
    assert not set(train) & set(val)


def test_normalization_learnt_from_training_part(fitted):
    layer = fitted.model_.get_layer(_base.NORMALIZATION_LAYER)
    Xtr = X[TRAIN]
    keep = np.setdiff1d(np.arange(len(Xtr)), fitted.validation_indices_)
    np.testing.assert_allclose(np.ravel(layer.mean), Xtr[keep].mean(axis=0), rtol=1e-4)


def test_clone_and_pickle_round_trip(fitted, tmp_path):
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "model_")
    expected = fitted.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict_proba(X), expected)
    joblib.dump(fitted, tmp_path / "m.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "m.joblib").predict_proba(X), expected)


def test_pipeline_joblib_round_trip(tmp_path):
    pipe = make_pipeline(FunctionTransformer(np.negative), TinyDense(epochs=2))
    pipe.fit(X, Y, tinydense__groups=G)
    assert pipe[-1].validation_groups_ is not None
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    loaded = joblib.load(tmp_path / "pipe.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_same_random_state_same_predictions(fitted):
    again = TinyDense().fit(X[TRAIN], Y[TRAIN], groups=G[TRAIN])
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(again.validation_indices_, fitted.validation_indices_)


def test_augmentation_runs_on_training_batches_only():
    aug = CountingAugmenter()
    est = TinyDense(epochs=3, early_stopping=False, batch_size=16, augmenter=aug)
    est.fit(X, Y)
    n_train = len(X) - len(est.validation_indices_)
    # every training row each epoch (Keras peeks at up to two extra batches to
    # infer the data signature); augmenting the 22 validation rows too would add 66
    assert 3 * n_train <= aug.rows <= 3 * n_train + 2 * 16
    calls = aug.calls
    est.predict(X)
    est.predict_proba(X)
    est.score(X, Y)
    assert aug.calls == calls  # never at predict time


def test_augmenter_must_keep_shape():
    class Cropper:
        def augment(self, batch, *, random_state):
            return batch[:, :-1]

    with pytest.raises(ValueError, match="keep the shape"):
        TinyDense(epochs=1, augmenter=Cropper()).fit(X, Y)


def test_class_weight_balanced_reaches_keras(monkeypatch):
    seen = {}
    original = _base._data.training_dataset

    def spy(X, y, sample_weight, **kwargs):
        seen["sample_weight"] = sample_weight
        return original(X, y, sample_weight, **kwargs)

    monkeypatch.setattr(_base._data, "training_dataset", spy)
    keep = (Y != "sadness") | (np.arange(len(Y)) % 6 == 0)  # sadness is rare
    Xi, yi = X[keep], Y[keep]
    est = TinyDense(epochs=1, class_weight="balanced", validation_split=0.0).fit(Xi, yi)
    w = seen["sample_weight"]
    counts = {c: np.sum(yi == c) for c in est.classes_}
    for c in est.classes_:
        np.testing.assert_allclose(w[yi == c], len(yi) / (3 * counts[c]), rtol=1e-5)
    assert est.validation_indices_.size == 0 and "val_loss" not in est.history_


def test_mixed_precision_policy_on_gpu(monkeypatch):
    # Pretend a GPU is visible: the model is built under mixed_float16 with a float32 softmax.
    monkeypatch.setattr(_base, "_gpu_name", lambda: "GPU:0 (fake)")
    before = keras.config.dtype_policy().name
    est = TinyDense(epochs=1, mixed_precision=True).fit(X, Y)
    assert est.dtype_policy_ == "mixed_float16"
    assert est.model_.get_layer("emotion").dtype_policy.name == "float32"
    assert est.model_.layers[2].dtype_policy.name == "mixed_float16"
    assert est.predict_proba(X).dtype == np.float32
    assert keras.config.dtype_policy().name == before  # global policy restored


def test_mixed_precision_ignored_on_cpu(monkeypatch):
    monkeypatch.setattr(_base, "_gpu_name", lambda: None)
    est = TinyDense(epochs=1, mixed_precision=True).fit(X, Y)
    assert est.dtype_policy_ == "float32" and est.device_ == "CPU"


@pytest.mark.slow
def test_grid_search_with_group_kfold():
    search = GridSearchCV(TinyDense(epochs=4), {"units": [4, 8]}, cv=GroupKFold(n_splits=2),
                          refit=False)
    search.fit(X, Y, groups=G)
    assert search.cv_results_["mean_test_score"].min() > 0.6


@pytest.mark.slow
def test_cross_validate_routes_groups_to_fit():
    cv = GroupKFold(n_splits=2)
    with sklearn.config_context(enable_metadata_routing=True):
        res = cross_validate(TinyDense(epochs=4), X, Y, cv=cv, params={"groups": G},
                             return_estimator=True, return_indices=True)
    for est, train in zip(res["estimator"], res["indices"]["train"], strict=True):
        assert est.validation_groups_ is not None
        assert set(est.validation_groups_) <= set(G[train])  # training speakers only
    assert res["test_score"].min() > 0.6


@pytest.mark.slow
def test_calibrated_and_soft_voting():
    cal = CalibratedClassifierCV(TinyDense(epochs=4), cv=2).fit(X[TRAIN], Y[TRAIN])
    assert cal.predict_proba(X[~TRAIN]).shape == (int((~TRAIN).sum()), 3)
    vote = VotingClassifier([("a", TinyDense(epochs=4)), ("b", TinyDense(epochs=4, units=4))],
                            voting="soft").fit(X[TRAIN], Y[TRAIN])
    np.testing.assert_allclose(vote.predict_proba(X[~TRAIN]).sum(axis=1), 1, atol=1e-5)
    assert vote.score(X[~TRAIN], Y[~TRAIN]) > 0.6
