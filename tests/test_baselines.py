"""Tests of skser.baselines: the Table II pipelines of the CNN-RNN paper."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skser import evaluate
from skser.baselines import make_baseline
from skser.features import (
    EmbeddingTransformer,
    GTCCTransformer,
    MFCCTransformer,
    SpeakerStandardScaler,
)

CHANCE = 0.25  # small_corpus has 4 balanced emotions


@pytest.mark.parametrize(
    "features, blocks",
    [
        ("mfcc", {"mfcc": MFCCTransformer}),
        ("gtcc", {"gtcc": GTCCTransformer}),
        ("mfcc+dl", {"mfcc": MFCCTransformer, "dl": EmbeddingTransformer}),
        ("dl+gtcc", {"gtcc": GTCCTransformer, "dl": EmbeddingTransformer}),
        (
            "mfcc+gtcc+dl",
            {"mfcc": MFCCTransformer, "gtcc": GTCCTransformer, "dl": EmbeddingTransformer},
        ),
    ],
)
def test_feature_blocks(features, blocks):
    pipe = make_baseline(features, "svm", sr=22050, yamnet_weights="w.tflite", n_jobs=2)
    union = pipe.named_steps["features"]
    assert isinstance(union, FeatureUnion)
    assert [name for name, _ in union.transformer_list] == list(blocks)  # canonical order
    for name, step in union.transformer_list:
        assert type(step) is blocks[name]
        assert step.sr == 22050 and step.n_jobs == 2
        if name == "dl":
            assert step.weights == "w.tflite" and step.output == "pooled"
        else:
            assert step.output == "stats" and step.deltas


@pytest.mark.parametrize(
    "classifier, step, cls",
    [("svm", "svc", SVC), ("rf", "rf", RandomForestClassifier), ("mlp", "mlp", MLPClassifier)],
)
def test_steps_and_classifier(classifier, step, cls):
    pipe = make_baseline("mfcc", classifier, random_state=3, n_jobs=2)
    assert isinstance(pipe, Pipeline)
    assert [name for name, _ in pipe.steps] == ["features", "scaler", step]
    assert isinstance(pipe.named_steps["scaler"], StandardScaler)
    clf = pipe.named_steps[step]
    assert type(clf) is cls
    if classifier != "svm":
        assert clf.random_state == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(features="mfcc+mel"), "features must be one of"),
        (dict(features="mfcc+mfcc"), "twice"),
        (dict(features=["mfcc"]), "features must be a string"),
        (dict(classifier="knn"), "classifier must be one of"),
        (dict(sr=0), "sr"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_baseline(**{"features": "mfcc", "classifier": "svm", **kwargs})


def test_cepstral_feature_width(small_corpus):
    # 13 coefficients + deltas + delta-deltas, mean and std: 78 per block
    pipe = make_baseline("mfcc+gtcc", "svm")
    Xt = pipe.named_steps["features"].fit_transform(small_corpus.X[:3])
    assert Xt.shape == (3, 156) and Xt.dtype == np.float32 and np.isfinite(Xt).all()
    names = pipe.named_steps["features"].get_feature_names_out()
    assert names[0] == "mfcc__mfcc0_mean" and names[-1] == "gtcc__gtcc12_delta2_std"


@pytest.mark.parametrize(
    "features, classifier, params",
    [
        ("mfcc", "svm", {}),
        ("gtcc", "svm", {}),
        ("mfcc", "rf", {"rf__n_estimators": 100}),
        pytest.param("gtcc", "mlp", {}, marks=pytest.mark.slow),
    ],
)
def test_above_chance_speaker_independent(small_corpus, features, classifier, params):
    pipe = make_baseline(features, classifier).set_params(**params)
    c = small_corpus
    report = evaluate(pipe, c.X, c.y, groups=c.groups)  # leave-one-speaker-out
    assert report.speaker_independent
    assert report.uar > CHANCE + 0.15, report.uar


def test_speaker_normalization_receives_groups(small_corpus):
    c = small_corpus
    pipe = make_baseline("mfcc", "svm", speaker_normalization=True)
    assert isinstance(pipe.named_steps["scaler"], SpeakerStandardScaler)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(c.X, c.y, groups=c.groups)
    np.testing.assert_array_equal(
        np.sort(pipe.named_steps["scaler"].speakers_), np.unique(c.groups)
    )
    report = evaluate(
        make_baseline("mfcc", "svm", speaker_normalization=True), c.X, c.y, groups=c.groups
    )
    assert report.uar > CHANCE + 0.15, report.uar


def test_svm_probability(small_corpus):
    c = small_corpus
    plain = make_baseline("mfcc", "svm")
    assert not hasattr(plain.fit(c.X, c.y), "predict_proba")
    pipe = make_baseline("mfcc", "svm", probability=True)
    svc = pipe.named_steps["svc"]
    assert isinstance(svc, CalibratedClassifierCV) and not svc.ensemble
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # SVC(probability=True) is deprecated
        proba = pipe.fit(c.X, c.y).predict_proba(c.X[:5])
    assert proba.shape == (5, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(pipe.classes_, np.unique(c.y))


def test_clone_pickle_and_determinism(small_corpus):
    c = small_corpus
    pipe = make_baseline("gtcc", "rf", random_state=0).set_params(rf__n_estimators=20)
    twin = clone(pipe)
    assert twin.get_params()["rf__n_estimators"] == 20
    pred = pipe.fit(c.X, c.y).predict(c.X)
    np.testing.assert_array_equal(twin.fit(c.X, c.y).predict(c.X), pred)  # same seed
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict(c.X), pred)


def test_missing_yamnet_weights_raise_at_fit(small_corpus, tmp_path):
    pipe = make_baseline("mfcc+dl", "svm", yamnet_weights=tmp_path / "absent.tflite")
    with pytest.raises(FileNotFoundError, match="YAMNet weights not found"):
        pipe.fit(small_corpus.X[:4], small_corpus.y[:4])


@pytest.fixture(scope="module")
def embedding_cache(tmp_path_factory):
    """One joblib cache of YAMNet outputs shared by the "+dl" tests (folds and classifiers)."""
    return str(tmp_path_factory.mktemp("yamnet_cache"))


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("classifier", ["svm", "rf", "mlp"])
def test_dl_baselines_with_yamnet(small_corpus, yamnet_tflite, embedding_cache, classifier):
    c = small_corpus
    pipe = make_baseline("gtcc+dl", classifier, yamnet_weights=yamnet_tflite)
    pipe.set_params(features__dl__memory=embedding_cache)
    if classifier == "rf":
        pipe.set_params(rf__n_estimators=50)
    Xt = clone(pipe.named_steps["features"]).fit_transform(c.X[:2])
    assert Xt.shape == (2, 78 + 1024) and np.isfinite(Xt).all()
    report = evaluate(pipe, c.X, c.y, groups=c.groups)
    assert report.speaker_independent
    assert report.uar > CHANCE + 0.1, report.uar
