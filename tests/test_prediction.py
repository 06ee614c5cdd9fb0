"""predict_files: batches, bad files as error rows or errors, timelines, writers and resume."""

import io
import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import skser
from skser.datasets import make_synthetic_corpus
from skser.features import MFCCTransformer
from skser.prediction import PredictionWriter, iter_file_rows, predict_files, resume_output

SR = 16000


class CountingModel:
    """Wraps a fitted pipeline and records the size of every batch it is given."""

    def __init__(self, model, fail_on_length=None):
        self.model, self.batches, self.fail_on_length = model, [], fail_on_length
        self.classes_ = model.classes_

    def _check(self, X):
        self.batches.append(len(X))
        if self.fail_on_length is not None and any(len(x) == self.fail_on_length for x in X):
            raise RuntimeError("the model cannot take this clip")

    def predict(self, X):
        self._check(X)
        return self.model.predict(X)

    def predict_proba(self, X):
        self._check(X)
        return self.model.predict_proba(X)


@pytest.fixture(scope="module")
def model():
    corpus = make_synthetic_corpus(n_speakers=2, n_per_class=2, emotions=["anger", "sadness"],
                                   duration=1.0, random_state=0)  # fmt: skip
    return make_pipeline(MFCCTransformer(output="stats", sr=SR), LogisticRegression()).fit(
        corpus.X, corpus.y
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Five good clips (one at 8 kHz, one stereo) and a corrupt, an empty and a short file."""
    folder = tmp_path_factory.mktemp("predict")
    corpus = make_synthetic_corpus(n_speakers=1, n_per_class=3, emotions=["anger", "sadness"],
                                   duration=1.0, random_state=5)  # fmt: skip
    good = []
    for i, wave in enumerate(corpus.X[:5]):
        path = folder / f"good{i}.wav"
        if i == 3:
            sf.write(path, wave[::2], 8000)
        elif i == 4:
            sf.write(path, np.stack([wave, wave], axis=1), SR)
        else:
            sf.write(path, wave, SR)
        good.append(str(path))
    broken = folder / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00junk")
    empty = folder / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), SR)
    short = folder / "short.wav"
    sf.write(short, np.zeros(800, dtype=np.float32), SR)
    long = folder / "long.wav"
    sf.write(long, np.concatenate(list(corpus.X[:5])), SR)
    return {"good": good, "broken": str(broken), "empty": str(empty), "short": str(short),
            "long": str(long), "labels": corpus.y[:5].tolist()}  # fmt: skip


def test_rows_in_order_and_batches_bounded(model, files):
    counting = CountingModel(model)
    rows = list(predict_files(counting, files["good"], batch_size=2))
    assert [r["file"] for r in rows] == files["good"]
    assert counting.batches == [2, 2, 1]  # never more than batch_size clips at once
    assert all(r["error"] is None and r["start"] == 0.0 and r["end"] == 1.0 for r in rows)
    assert [r["label"] for r in rows] == model.predict(files["good"]).tolist()  # same as paths
    assert "probabilities" not in rows[0]


def test_proba_rows(model, files):
    rows = list(predict_files(model, files["good"][:2], proba=True))
    for row in rows:
        assert set(row["probabilities"]) == {"anger", "sadness"}
        assert sum(row["probabilities"].values()) == pytest.approx(1.0)
        assert row["label"] == max(row["probabilities"], key=row["probabilities"].get)
    frame = pd.DataFrame(predict_files(model, files["good"]))
    assert frame.columns.tolist() == ["file", "start", "end", "label", "error"]


def test_skip_gives_error_rows_and_keeps_going(model, files):
    paths = [files["good"][0], files["broken"], files["empty"], files["short"],
             files["good"][1], str(files["good"][0]) + ".missing"]  # fmt: skip
    rows = list(predict_files(model, paths, on_error="skip", proba=True, batch_size=4))
    assert [r["file"] for r in rows] == paths
    errors = [r["error"] for r in rows]
    assert errors[0] is None and errors[4] is None
    assert "Cannot read audio file" in errors[1]
    assert "contains no samples" in errors[2]
    assert "too short: 0.050 s, under min_duration 0.1 s" in errors[3]
    assert "Audio file not found" in errors[5]
    for row in (rows[1], rows[2], rows[3], rows[5]):
        assert row["label"] is None and row["start"] is None and row["probabilities"] is None
    lenient = list(predict_files(model, [files["short"]], min_duration=0.0))
    assert lenient[0]["error"] is None


def test_raise_stops_after_the_rows_before(model, files):
    got = []
    with pytest.raises(ValueError, match="Cannot read audio file .*broken.wav"):
        for row in predict_files(model, [*files["good"][:3], files["broken"], files["good"][3]]):
            got.append(row["file"])
    assert got == files["good"][:3]
    with pytest.raises(FileNotFoundError, match="not found"):
        list(predict_files(model, ["/nowhere/x.wav"]))


def test_a_clip_that_breaks_the_model_is_isolated(model, files):
    # The 50 ms clip (800 samples) breaks this model: its batch is redone clip by clip.
    paths = [files["good"][0], files["short"], files["good"][1]]
    counting = CountingModel(model, fail_on_length=800)
    rows = list(predict_files(counting, paths, on_error="skip", min_duration=0, batch_size=8))
    assert [r["error"] is None for r in rows] == [True, False, True]
    assert rows[1]["error"] == "prediction failed: the model cannot take this clip"
    assert rows[0]["label"] == model.predict([files["good"][0]])[0]
    assert counting.batches == [3, 1, 1, 1]
    with pytest.raises(ValueError, match="Cannot predict .*short.wav.*cannot take this clip"):
        list(predict_files(CountingModel(model, fail_on_length=800), paths, min_duration=0))


def test_timelines_for_long_files(model, files):
    rows = list(predict_files(model, [files["good"][0], files["long"]], max_duration=2.0,
                              hop=1.0, proba=True))  # fmt: skip
    assert rows[0]["file"] == files["good"][0] and rows[0]["end"] == 1.0
    timeline = rows[1:]
    assert [(r["start"], r["end"]) for r in timeline] == [(0, 3), (1, 4), (2, 5)]
    assert all(set(r["probabilities"]) == {"anger", "sadness"} for r in timeline)
    windows = list(iter_file_rows(model, files["good"][:2], window=0.5, hop=0.5))
    assert [len(group) for group in windows] == [2, 2]  # rows grouped by file


def test_bad_options(model, files):
    from sklearn.svm import SVC

    with pytest.raises(ValueError, match="on_error must be"):
        list(predict_files(model, files["good"], on_error="ignore"))
    with pytest.raises(ValueError, match="batch_size"):
        list(predict_files(model, files["good"], batch_size=0))
    with pytest.raises(ValueError, match="max_duration must be a positive"):
        list(predict_files(model, files["good"], max_duration=0))
    labels_only = make_pipeline(MFCCTransformer(output="stats", sr=SR), SVC())
    labels_only.fit(files["good"], files["labels"])
    with pytest.raises(ValueError, match="needs a model with predict_proba"):
        list(predict_files(labels_only, files["good"], proba=True))
    assert skser.predict_files is predict_files


def test_writer_and_resume(model, files, tmp_path):
    rows = list(predict_files(model, [files["good"][0], files["broken"]], on_error="skip",
                              proba=True))  # fmt: skip
    stream = io.StringIO()
    writer = PredictionWriter(stream, "csv", ["anger", "sadness"])
    writer.write(rows)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "file,start,end,label,error,p_anger,p_sadness"
    assert lines[2].startswith(f"{files['broken']},,,,") and lines[2].endswith(",,")
    path = tmp_path / "p.csv"
    path.write_text(stream.getvalue())
    done, has_header = resume_output(path, "csv", writer.columns)
    assert has_header and done[files["good"][0]] is None and "Cannot read" in done[files["broken"]]
    with pytest.raises(ValueError, match="cannot resume"):
        resume_output(path, "csv", ["file", "label"])
    jsonl = tmp_path / "p.jsonl"
    stream = io.StringIO()
    PredictionWriter(stream, "jsonl").write([{"file": "a,b.wav", "label": "x", "error": None}] * 2
                                            + [{"file": "c.wav", "label": "y", "error": None}])  # fmt: skip
    text = stream.getvalue()
    assert json.loads(text.splitlines()[0])["file"] == "a,b.wav"
    jsonl.write_text(text[:-10])  # cut inside the last row
    done, _ = resume_output(jsonl, "jsonl", [])
    assert list(done) == ["a,b.wav"] and jsonl.read_text().count("\n") == 2
    jsonl.write_text(text.splitlines()[0] + "\n" + text.splitlines()[1][:20])  # cut within a file
    done, _ = resume_output(jsonl, "jsonl", [])
    assert done == {} and jsonl.read_text() == ""  # that file's rows all go: it is redone
    (tmp_path / "junk.jsonl").write_text("hello\n")
    with pytest.raises(ValueError, match="line 1 is not a jsonl prediction row"):
        resume_output(tmp_path / "junk.jsonl", "jsonl", [])
    assert resume_output(tmp_path / "absent.csv", "csv", writer.columns) == ({}, False)
    # CSV: a timeline cut inside its rows is dropped whole; a longer name is another file.
    stream = io.StringIO()
    timeline = PredictionWriter(stream, "csv")
    timeline.write([{"file": "a.wav", "start": 0, "end": 1, "label": "x", "error": None}])
    timeline.write([{"file": "a.wav2", "start": s, "end": s + 1, "label": "y", "error": None}
                    for s in range(3)])  # fmt: skip
    cut = tmp_path / "cut.csv"
    cut.write_text(stream.getvalue()[:-8])
    done, has_header = resume_output(cut, "csv", timeline.columns)
    assert done == {"a.wav": None} and has_header
    assert cut.read_text() == "file,start,end,label,error\na.wav,0,1,x,\n"
