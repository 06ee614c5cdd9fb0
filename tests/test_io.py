import os
import warnings

import joblib
import numpy as np
import pytest
import soundfile as sf
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skser
from skser import io as skser_io
from skser.features import MFCCTransformer
from skser.io import MODEL_FORMAT, ModelFileError, load_model, save_model


@pytest.fixture(scope="module")
def fitted(small_corpus):
    pipe = make_pipeline(
        MFCCTransformer(output="stats", sr=small_corpus.sr), StandardScaler(), LogisticRegression()
    )
    return pipe.fit(small_corpus.X, small_corpus.y), small_corpus


def _listing(folder):
    return sorted(os.listdir(folder))


def test_round_trip_identical_predictions_and_metadata(tmp_path, fitted):
    pipe, corpus = fitted
    path = save_model(pipe, tmp_path / "model.joblib", metadata={"recipe": "mfcc-logreg", "n": 3})
    assert path == tmp_path / "model.joblib"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same versions: no warning at all
        loaded, info = load_model(path, return_metadata=True)
    np.testing.assert_array_equal(loaded.predict(corpus.X), pipe.predict(corpus.X))
    np.testing.assert_array_equal(loaded.predict_proba(corpus.X), pipe.predict_proba(corpus.X))
    assert info["metadata"] == {"recipe": "mfcc-logreg", "n": 3}
    assert info["classes"] == ["anger", "happiness", "neutral", "sadness"]
    assert info["skser_version"] == skser.__version__
    assert info["format"] == MODEL_FORMAT
    assert {"sklearn_version", "tensorflow_version", "python", "created"} <= set(info)
    assert "model" not in info
    assert _listing(tmp_path) == ["model.joblib"]  # no temporary file left


def test_public_names():
    assert skser.save_model is save_model and skser.load_model is load_model


def test_save_overwrites_atomically(tmp_path):
    path = tmp_path / "m.joblib"
    save_model(DummyClassifier(strategy="constant", constant="a").fit([[0], [1]], ["a", "b"]), path)
    save_model(DummyClassifier(strategy="constant", constant="b").fit([[0], [1]], ["a", "b"]), path)
    assert load_model(path).predict([[0]])[0] == "b"
    assert _listing(tmp_path) == ["m.joblib"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_save_keeps_existing_file_and_leaves_no_temp(tmp_path, monkeypatch, error):
    path = tmp_path / "model.joblib"
    old = DummyClassifier(strategy="constant", constant="old").fit([[0], [1]], ["old", "new"])
    save_model(old, path)
    before = path.read_bytes()
    real_dump = joblib.dump

    def dump_then_fail(value, handle, *args, **kwargs):
        real_dump(value, handle, *args, **kwargs)  # half the work is done ...
        handle.write(b"partial")
        raise error  # ... then the save is interrupted

    monkeypatch.setattr(skser_io.joblib, "dump", dump_then_fail)
    new = DummyClassifier(strategy="constant", constant="new").fit([[0], [1]], ["old", "new"])
    with pytest.raises(type(error)):
        save_model(new, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_model(path).predict([[0]])[0] == "old"
    assert _listing(tmp_path) == ["model.joblib"]


def test_interrupted_first_save_creates_nothing(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(skser_io.os, "fsync", fail)
    with pytest.raises(RuntimeError, match="boom"):
        save_model(DummyClassifier(), tmp_path / "model.joblib")
    assert _listing(tmp_path) == []


def test_save_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_model(DummyClassifier(), tmp_path / "missing" / "m.joblib")
    with pytest.raises(TypeError, match="metadata"):
        save_model(DummyClassifier(), tmp_path / "m.joblib", metadata=["not", "a", "dict"])
    with pytest.raises(IsADirectoryError):
        save_model(DummyClassifier(), tmp_path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="Model file not found"):
        load_model(tmp_path / "nope.joblib")


def test_load_directory(tmp_path):
    with pytest.raises(ModelFileError, match="directory"):
        load_model(tmp_path)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "empty file"),
        (b'{"model": 1}', "JSON"),
        (b"\x89HDF\r\n\x1a\n" + bytes(64), "HDF5"),
        (b"PK\x03\x04" + bytes(64), "ZIP"),
        (b"hello, I am a text file", "not a joblib/pickle file"),
    ],
)
def test_load_foreign_file_says_what_it_is(tmp_path, content, what):
    path = tmp_path / "model.joblib"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=what):
        load_model(path)
    assert isinstance(ModelFileError("x"), ValueError)  # the CLI reports ValueErrors cleanly


def test_load_audio_file_as_model(tmp_path):
    path = tmp_path / "clip.wav"
    sf.write(path, np.zeros(1600, dtype=np.float32), 16000)
    with pytest.raises(ModelFileError, match="WAV"):
        load_model(path)


def test_load_joblib_without_envelope_names_its_content(tmp_path):
    path = tmp_path / "plain.joblib"
    joblib.dump(DummyClassifier(), path)
    with pytest.raises(ModelFileError, match="sklearn.dummy.DummyClassifier"):
        load_model(path)
    joblib.dump({"model": DummyClassifier(), "format": "other/9"}, path)
    with pytest.raises(ModelFileError, match="unknown format"):
        load_model(path)


def test_load_truncated_file_is_corrupt(tmp_path, fitted):
    path = tmp_path / "model.joblib"
    save_model(fitted[0], path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt or truncated"):
        load_model(path)


def test_version_mismatch_warns(tmp_path):
    path = tmp_path / "model.joblib"
    save_model(DummyClassifier().fit([[0], [1]], [0, 1]), path)
    envelope = joblib.load(path)
    envelope["skser_version"] = "0.0.1"
    envelope["sklearn_version"] = "1.0"
    joblib.dump(envelope, path)
    with pytest.warns(UserWarning, match=r"skser 0\.0\.1 \(running .*scikit-learn 1\.0") as record:
        model = load_model(path)
    assert record[0].filename == __file__  # points at the caller of load_model
    assert model.predict([[0]]).shape == (1,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(path, check_versions=False)


def test_missing_tensorflow_version_is_not_a_mismatch(tmp_path):
    path = tmp_path / "model.joblib"
    save_model(DummyClassifier().fit([[0], [1]], [0, 1]), path)
    envelope = joblib.load(path)
    envelope["tensorflow_version"] = None  # saved where TensorFlow was not installed
    joblib.dump(envelope, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(path)


@pytest.mark.slow
def test_round_trip_keras_model(tmp_path, small_corpus):
    from skser.features import MFCCTransformer as MFCC
    from skser.models import MFCCLSTM

    pipe = make_pipeline(
        MFCC(sr=small_corpus.sr, output="sequence"),
        MFCCLSTM(epochs=1, batch_size=16, random_state=0, verbose=0),
    )
    pipe.fit(small_corpus.X, small_corpus.y)
    path = save_model(pipe, tmp_path / "lstm.joblib")
    loaded, info = load_model(path, return_metadata=True)
    assert info["tensorflow_version"] is not None
    np.testing.assert_allclose(
        loaded.predict_proba(small_corpus.X), pipe.predict_proba(small_corpus.X), rtol=1e-5, atol=1e-6
    )
