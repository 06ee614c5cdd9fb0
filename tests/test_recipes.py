"""Tests of skser.recipes: registry, overrides, and that every recipe builds, fits and predicts."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skser import evaluate, list_recipes, make_ser_pipeline
from skser.datasets import make_synthetic_corpus
from skser.recipes import _RECIPES, register_recipe, unregister_recipe

BASELINES = ["svm-mfcc", "svm-gtcc", "svm-mfcc-dl", "svm-gtcc-dl",
             "rf-mfcc-dl", "rf-gtcc-dl", "mlp-mfcc-dl", "mlp-gtcc-dl"]  # fmt: skip
DEEP = ["fser-cnn2d", "spectrogram-cnn2d", "spectrogram-cnn1d", "mfcc-cnn1d", "mfcc-lstm",
        "mfcc-cnn-lstm", "crnn-small", "crnn-yamnet-lstm"]  # fmt: skip

#: Tiny networks, one epoch: enough to check that each recipe runs end to end.
TINY = {
    "fser-cnn2d": dict(model__filters=(4, 4, 4, 4), model__dense_units=(8, 8, 8)),
    "spectrogram-cnn2d": dict(model__filters=(4,) * 5, model__dense_units=8),
    "spectrogram-cnn1d": dict(model__filters=(4, 4, 4, 4), model__dense_units=8),
    "mfcc-cnn1d": dict(model__filters=(4, 4), model__dense_units=(8, 8)),
    "mfcc-lstm": dict(model__lstm_units=(4, 4), model__dense_units=4, features__max_frames=40),
    "mfcc-cnn-lstm": dict(
        model__filters=4, model__lstm_units=4, model__dense_units=4, features__max_frames=40
    ),
    "crnn-small": dict(model__backbone_filters=(4,), model__lstm_units=(4, 4)),
    "crnn-yamnet-lstm": dict(model__lstm_units=(4, 4)),
}


@pytest.fixture(scope="module")
def tiny_corpus():
    """16 one-second clips: 2 speakers x 4 emotions x 2."""
    return make_synthetic_corpus(
        n_speakers=2, n_per_class=2, emotions=["anger", "happiness", "neutral", "sadness"],
        duration=1.0, random_state=1,
    )  # fmt: skip


def test_list_recipes_lists_every_recipe_with_a_source():
    table = list_recipes()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["name", "family", "input", "source", "cost", "needs_yamnet",
                                   "description"]  # fmt: skip
    assert set(BASELINES + DEEP) <= set(table["name"])
    assert table["name"].is_unique
    for col in ["family", "input", "source", "cost", "description"]:
        assert table[col].map(lambda v: isinstance(v, str) and len(v) >= 3).all(), col
    assert table["source"].str.contains(r"\d{4}\)|RAVDESS").all()  # a citation with its year
    needs = dict(zip(table["name"], table["needs_yamnet"], strict=True))
    assert {n for n, v in needs.items() if v} == {n for n in BASELINES if "dl" in n} | {
        "crnn-yamnet-lstm",
        "recommended",
        "recommended-classical",
        "recommended-lab",
        "recommended-no-adaptation",
    }


@pytest.mark.parametrize("name", BASELINES + DEEP)
def test_builder_docstring_cites_its_paper(name):
    doc = _RECIPES[name].builder.__doc__
    assert doc and any(a in doc for a in ("Sharan", "Dossou", "Wasowska", "spectrogram CNN-2D"))


@pytest.mark.parametrize("name", BASELINES + DEEP)
def test_every_recipe_builds_clones_and_pickles(name):
    pipe = make_ser_pipeline(name, random_state=7)
    assert isinstance(pipe, Pipeline)
    assert pipe.steps[0][0] == "features"
    params = pipe.get_params()
    twin = clone(pipe)
    assert set(twin.get_params()) == set(params)
    restored = pickle.loads(pickle.dumps(pipe))
    assert set(restored.get_params()) == set(params)
    # the seed reaches every step that has one
    seeded = {k: v for k, v in params.items() if k.endswith("random_state")}
    assert all(v == 7 for v in seeded.values()), seeded


def test_unknown_recipe_lists_recipes():
    with pytest.raises(ValueError, match="Unknown recipe 'svm-mfc'.*'svm-mfcc'"):
        make_ser_pipeline("svm-mfc")


def test_overrides():
    pipe = make_ser_pipeline("svm-mfcc", svc__C=3, features__mfcc__n_mfcc=20)
    assert pipe.named_steps["svc"].C == 3
    assert pipe.named_steps["features"].transformer_list[0][1].n_mfcc == 20
    assert make_ser_pipeline("svm-mfcc").named_steps["svc"].C == 1.0  # builds fresh each time
    replaced = make_ser_pipeline("svm-gtcc", svc=SVC(kernel="linear"))
    assert replaced.named_steps["svc"].kernel == "linear"
    deep = make_ser_pipeline("fser-cnn2d", model__epochs=3, model__augmenter__zoom=0.2)
    assert deep.named_steps["model"].epochs == 3
    assert deep.named_steps["model"].augmenter.zoom == 0.2


def test_bad_override_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown parameter\(s\) \['svc__gama'\].*svc__gamma"):
        make_ser_pipeline("svm-mfcc", svc__gama=1.0)
    with pytest.raises(ValueError, match="model__epochs"):
        make_ser_pipeline("mfcc-lstm", epochs=1)


def test_register_and_unregister():
    def build(*, sr, random_state, n_jobs, yamnet_weights):
        return make_ser_pipeline("svm-mfcc", sr=sr, random_state=random_state)

    register_recipe("test-recipe", build, family="baseline", input="MFCC stats",
                    source="papers/x.txt", cost="seconds", description="A copy.")  # fmt: skip
    try:
        assert "test-recipe" in set(list_recipes()["name"])
        with pytest.raises(ValueError, match="exists"):
            register_recipe("test-recipe", build, family="", input="", source="", cost="",
                            description="")  # fmt: skip
        assert isinstance(make_ser_pipeline("test-recipe", svc__C=2), Pipeline)
    finally:
        unregister_recipe("test-recipe")
    assert "test-recipe" not in set(list_recipes()["name"])
    with pytest.raises(TypeError, match="yamnet_weights"):
        register_recipe("bad", lambda *, sr, random_state, n_jobs: None, family="", input="",
                        source="", cost="", description="")  # fmt: skip


def test_yamnet_weights_reach_the_steps_that_need_them(tmp_path):
    w = tmp_path / "yamnet.tflite"
    pipe = make_ser_pipeline("svm-gtcc-dl", yamnet_weights=w)
    assert pipe.get_params()["features__dl__weights"] == w
    assert make_ser_pipeline("crnn-yamnet-lstm", yamnet_weights=w).named_steps[
        "model"].backbone_weights == w  # fmt: skip
    make_ser_pipeline("svm-mfcc", yamnet_weights=w)  # ignored by recipes without YAMNet


@pytest.mark.parametrize("name", ["svm-mfcc", "svm-gtcc"])
def test_classical_recipes_above_chance(small_corpus, name):
    c = small_corpus
    report = evaluate(make_ser_pipeline(name), c.X, c.y, groups=c.groups)
    assert report.speaker_independent
    assert report.uar > 0.25 + 0.15, report.uar


def test_paths_and_waveforms_give_the_same_predictions(tmp_path, tiny_corpus):
    c = tiny_corpus
    paths = []
    for i, wave in enumerate(c.X):
        paths.append(str(tmp_path / f"clip{i}.wav"))
        sf.write(paths[-1], wave, 16000, subtype="FLOAT")
    from_waves = make_ser_pipeline("svm-mfcc").fit(c.X, c.y).predict(c.X)
    from_paths = make_ser_pipeline("svm-mfcc").fit(paths, c.y).predict(paths)
    np.testing.assert_array_equal(from_paths, from_waves)


def test_other_sample_rate():
    c = make_synthetic_corpus(n_speakers=2, n_per_class=2, emotions=["anger", "sadness"],
                              sr=8000, duration=1.0)  # fmt: skip
    waves = list(c.X)
    pipe = make_ser_pipeline("svm-gtcc", sr=8000).fit(waves, c.y)
    assert pipe.predict(waves).shape == (len(waves),)
    yamnet = make_ser_pipeline("crnn-yamnet-lstm", sr=8000)
    with pytest.raises(ValueError, match="sr=16000"):
        yamnet.named_steps["features"].fit(waves)


def _fit_tiny(name, corpus, **extra):
    pipe = make_ser_pipeline(
        name,
        model__epochs=1,
        model__batch_size=8,
        model__validation_split=0,
        **TINY[name],
        **extra,
    )
    pipe.fit(corpus.X, corpus.y)
    return pipe


def _check_predictions(pipe, corpus):
    pred = pipe.predict(corpus.X[:5])
    assert pred.shape == (5,) and set(pred) <= set(corpus.y)
    proba = pipe.predict_proba(corpus.X[:5])
    assert proba.shape == (5, 4) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    return pred


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in DEEP if n != "crnn-yamnet-lstm"])
def test_deep_recipe_fits_one_epoch(tiny_corpus, name):
    pipe = _fit_tiny(name, tiny_corpus)
    assert pipe.named_steps["model"].n_epochs_ == 1
    pred = _check_predictions(pipe, tiny_corpus)
    if name in ("spectrogram-cnn2d", "crnn-small"):  # a fitted deep pipeline pickles whole
        restored = pickle.loads(pickle.dumps(pipe))
        np.testing.assert_array_equal(restored.predict(tiny_corpus.X[:5]), pred)


@pytest.mark.slow
@pytest.mark.realdata
def test_crnn_yamnet_lstm_fits_one_epoch(tiny_corpus, yamnet_tflite):
    pipe = _fit_tiny("crnn-yamnet-lstm", tiny_corpus, yamnet_weights=yamnet_tflite)
    segments = pipe.named_steps["features"].transform(tiny_corpus.X[:2])
    assert segments.shape[2:] == (96, 64)
    _check_predictions(pipe, tiny_corpus)


def test_deep_recipe_input_shapes(tiny_corpus):
    """What each deep recipe's feature step hands to its model (no network involved)."""
    X = tiny_corpus.X[:3]
    shapes = {
        "fser-cnn2d": (3, 64, 64, 3),
        "spectrogram-cnn1d": (3, 40 + 128),
        "mfcc-cnn1d": (3, 301, 13),  # 3 s of 10 ms frames, whatever the clip length
        "crnn-small": (3, 2, 96, 64),  # 1 s clips: 2 segments of 0.975 s with 50 % overlap
        "crnn-yamnet-lstm": (3, 2, 96, 64),
    }
    for name, shape in shapes.items():
        features = make_ser_pipeline(name).named_steps["features"]
        assert features.fit_transform(X).shape == shape, name
    grey = make_ser_pipeline("spectrogram-cnn2d")[:-1].fit_transform(X)
    assert grey.shape == (3, 150, 150, 1) and 0 <= grey.min() and grey.max() <= 1


def test_yamnet_frontend_segments_match_yamnet_patches(tiny_corpus):
    from skser._yamnet import waveform_patch
    from skser.audio import segment_waveform
    from skser.features import MelSpectrogramTransformer

    wave = tiny_corpus.X[0]
    yamnet = MelSpectrogramTransformer(output="segments", frontend="yamnet").fit_transform([wave])
    expected = waveform_patch(segment_waveform(wave, 15600, 7800))
    np.testing.assert_allclose(yamnet[0], expected, rtol=1e-6, atol=1e-6)
    librosa_like = MelSpectrogramTransformer(output="segments").fit_transform([wave])
    assert librosa_like.shape == yamnet.shape and not np.allclose(librosa_like, yamnet)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(output="image"), "output='segments'"),
        (dict(n_mels=40), r"\['n_mels'\]"),
        (dict(log_offset=0.01, fmin=0.0), r"\['log_offset', 'fmin'\]|\['fmin', 'log_offset'\]"),
        (dict(segment_duration=0.5), "segment_duration=0.975"),
        (dict(frontend="tf"), "frontend must be one of"),
    ],
)
def test_yamnet_frontend_rejects_conflicting_settings(params, match):
    from skser.features import MelSpectrogramTransformer

    mel = MelSpectrogramTransformer(**{"output": "segments", "frontend": "yamnet", **params})
    with pytest.raises(ValueError, match=match):
        mel.fit([np.zeros(16000, dtype=np.float32)])


@pytest.mark.realdata
@pytest.mark.slow
def test_recommended_fits_and_beats_chance_speaker_independently(small_corpus, yamnet_tflite):
    from skser import evaluate

    pipe = make_ser_pipeline("recommended", yamnet_weights=str(yamnet_tflite), random_state=0,
                             deep__model__epochs=10)
    assert list(pipe.named_estimators) == ["classical", "deep"]
    report = evaluate(pipe, small_corpus.X, small_corpus.y, groups=small_corpus.groups)
    assert report.speaker_independent
    assert report.uar > 0.25 + 0.15  # 4 classes
    assert report.roc_auc is not None  # the fusion gives probabilities
    # the fused probabilities are the weighted mean of the members' (deployment: no ids)
    fitted = clone(pipe).fit(small_corpus.X, small_corpus.y)
    clips = small_corpus.X[:3]
    members = fitted.named_estimators_
    expected = (0.7 * members["classical"].predict_proba(clips)
                + 0.3 * members["deep"].predict_proba(clips))
    np.testing.assert_allclose(fitted.predict_proba(clips), expected, rtol=1e-6)


def test_recommended_column_blocks_equal_column_transformer():
    """The vote members' block selection gives what ColumnTransformer gives, and checks names."""
    from sklearn.compose import ColumnTransformer, make_column_selector

    from skser.recipes import _ColumnBlock

    rng = np.random.default_rng(0)
    names = [f"prosody__f{i}" for i in range(3)] + [f"yamnet__e{i}" for i in range(4)]
    X = pd.DataFrame(rng.normal(size=(5, 7)).astype(np.float32), columns=names)
    reference = ColumnTransformer(
        [("block", "passthrough", make_column_selector(pattern="^yamnet__"))]
    ).fit_transform(X)
    block = _ColumnBlock("^yamnet__").fit(X)
    np.testing.assert_array_equal(block.transform(X), reference)
    assert block.transform(X).dtype == reference.dtype
    assert list(block.get_feature_names_out()) == names[3:]
    with pytest.raises(ValueError, match="differ"):
        block.transform(X[names[::-1]])
    with pytest.raises(ValueError, match="No feature name matches"):
        _ColumnBlock("^mfcc__").fit(X)
    with pytest.raises(ValueError, match="DataFrame"):
        _ColumnBlock("^yamnet__").fit(X.to_numpy())
