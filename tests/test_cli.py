"""The ``skser`` command on the synthetic corpus: every command, outputs and clean errors."""

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import soundfile as sf
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skser.cli import main
from skser.datasets import make_synthetic_corpus
from skser.features import MFCCTransformer
from skser.io import load_model, save_model

# A tiny corpus: 3 speakers x 8 emotions x 2 clips of 1 s (48 clips, seconds to train).
TINY = "synthetic:n_speakers=3,n_per_class=2,duration=1.0"
SR = 16000


def run(capsys, *argv):
    """Run ``skser argv`` in-process; returns (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def svm_model(workdir):
    path = workdir / "svm.joblib"
    status = main(["train", "--corpus", TINY, "--recipe", "svm-mfcc", "--set", "C=3",
                   "--out", str(path), "--no-progress"])  # fmt: skip
    assert status == 0
    return path


@pytest.fixture(scope="module")
def proba_model(workdir):
    """A model with predict_proba (MFCC statistics + logistic regression)."""
    corpus = make_synthetic_corpus(
        n_speakers=2, n_per_class=2, emotions=["anger", "sadness"], duration=1.0, random_state=0
    )
    pipe = make_pipeline(MFCCTransformer(output="stats", sr=SR), LogisticRegression())
    return save_model(pipe.fit(corpus.X, corpus.y), workdir / "proba.joblib")


@pytest.fixture(scope="module")
def clips(workdir):
    """Held-out clips as audio files: a folder with a sub-folder and a non-audio file."""
    corpus = make_synthetic_corpus(
        n_speakers=1, n_per_class=1, emotions=["anger", "sadness", "calm"], duration=1.0,
        random_state=11,
    )  # fmt: skip
    folder = workdir / "clips"
    (folder / "more").mkdir(parents=True)
    paths = []
    for i, (wave, label) in enumerate(zip(corpus.X, corpus.y, strict=True)):
        path = (folder / "more" if i == 2 else folder) / f"{i}_{label}.{'flac' if i else 'wav'}"
        sf.write(path, wave, SR)
        paths.append(path)
    (folder / "notes.txt").write_text("not audio: skipped when expanding the folder")
    long = workdir / "long.wav"  # 10 s: ten clips in a row
    sf.write(long, np.concatenate([corpus.X[i % 3] for i in range(10)]), SR)
    return folder, sorted(paths), long


def _csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def _jsonl(text):
    return [json.loads(line) for line in text.splitlines()]


# --------------------------------------------------------------------------- help, recipes


@pytest.mark.parametrize("command", ["demo", "recipes", "train", "evaluate", "predict", "info"])
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: skser {command}")


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("demo", "recipes", "train", "evaluate", "predict", "info"):
        assert command in out


def test_recipes_table_and_formats(capsys):
    status, out, _ = run(capsys, "recipes")
    assert status == 0
    header, *lines = out.splitlines()
    assert header.split()[:5] == ["NAME", "FAMILY", "INPUT", "SOURCE", "COST"]
    names = [line.split()[0] for line in lines]
    assert {"svm-mfcc", "svm-gtcc-dl", "fser-cnn2d", "mfcc-lstm", "crnn-small"} <= set(names)
    status, out, _ = run(capsys, "recipes", "--format", "json")
    rows = json.loads(out)
    assert [row["name"] for row in rows] == names
    assert {"family", "input", "source", "cost", "description"} <= set(rows[0])
    status, out, _ = run(capsys, "recipes", "--format", "markdown")
    assert out.splitlines()[0].startswith("| name | family | input | source | cost |")
    assert len(out.splitlines()) == len(names) + 2
    status, out, _ = run(capsys, "recipes", "--format", "csv")
    assert [row["name"] for row in _csv(out)] == names


# --------------------------------------------------------------------------- train, predict


def test_train_saves_model_with_metadata(svm_model):
    model, info = load_model(svm_model, return_metadata=True)
    assert info["metadata"]["recipe"] == "svm-mfcc"
    assert info["metadata"]["settings"] == {"C": 3}
    assert info["metadata"]["n_clips"] == 48 and info["metadata"]["n_speakers"] == 3
    assert model.get_params()["svc__C"] == 3  # --set C=3 reached svc__C
    assert len(info["classes"]) == 8


def test_predict_files_and_folders_csv(capsys, svm_model, clips):
    folder, paths, _ = clips
    status, out, err = run(capsys, "predict", str(svm_model), str(folder), str(paths[0]))
    assert status == 0, err
    rows = _csv(out)
    # The folder gives its three audio files (recursively, the .txt skipped), then paths[0] again.
    assert [row["file"] for row in rows] == [str(p) for p in paths] + [str(paths[0])]
    classes = load_model(svm_model).classes_
    assert all(row["label"] in classes for row in rows)
    assert all(float(row["start"]) == 0.0 and float(row["end"]) == 1.0 for row in rows)
    assert rows[0]["label"] == rows[-1]["label"]


def test_predict_probabilities_json(capsys, proba_model, clips, workdir):
    _, paths, _ = clips
    out_file = workdir / "predictions.json"
    status, out, err = run(
        capsys, "predict", str(proba_model), *map(str, paths[:2]), "--format", "json",
        "--output", str(out_file), "--proba",
    )  # fmt: skip
    assert status == 0 and out == ""
    rows = _jsonl(out_file.read_text())
    assert len(rows) == 2
    for row in rows:
        assert set(row["probabilities"]) == {"anger", "sadness"}
        assert sum(row["probabilities"].values()) == pytest.approx(1.0)
        assert row["label"] == max(row["probabilities"], key=row["probabilities"].get)
    assert rows[0]["label"] == "anger"  # held-out anger clip (0_anger.wav)


def test_predict_csv_probability_columns(capsys, proba_model, clips):
    _, paths, _ = clips
    status, out, _ = run(capsys, "predict", str(proba_model), str(paths[0]), "--proba")
    (row,) = _csv(out)
    assert list(row) == ["file", "start", "end", "label", "error", "p_anger", "p_sadness"]
    assert float(row["p_anger"]) + float(row["p_sadness"]) == pytest.approx(1.0, abs=1e-5)
    status, out, _ = run(capsys, "predict", str(proba_model), str(paths[0]))
    assert list(_csv(out)[0]) == ["file", "start", "end", "label", "error"]  # labels only


def test_predict_timeline_with_window(capsys, proba_model, clips):
    _, _, long = clips
    status, out, err = run(capsys, "predict", str(proba_model), str(long), "--window", "3", "--hop", "1")
    assert status == 0, err
    rows = _csv(out)
    assert len(rows) == 8  # 1 + ceil((10 - 3) / 1)
    assert [float(r["start"]) for r in rows] == list(range(8))
    assert [float(r["end"]) for r in rows] == [3.0 + k for k in range(8)]
    assert {r["file"] for r in rows} == {str(long)}


def test_predict_long_recording_becomes_timeline(capsys, proba_model, clips):
    _, paths, long = clips
    status, out, err = run(
        capsys, "predict", str(proba_model), str(paths[0]), str(long), "--max-duration", "5",
        "--hop", "2.5", "--format", "jsonl",
    )  # fmt: skip
    assert status == 0
    rows = _jsonl(out)
    assert rows[0]["file"] == str(paths[0]) and rows[0]["end"] == 1.0  # short: one row
    timeline = [r for r in rows if r["file"] == str(long)]
    assert [(r["start"], r["end"]) for r in timeline] == [(0.0, 3.0), (2.5, 5.5), (5.0, 8.0), (7.5, 10.0)]
    assert "timeline" in err


# --------------------------------------------------------------------------- predict: bad files, resume


@pytest.fixture
def mixed(tmp_path, clips):
    """A folder of 3 good clips, a corrupt file, an empty WAV and a 50 ms WAV (sorted names)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    for i, path in enumerate(clips[1]):
        shutil.copy(path, folder / f"{i}_good{path.suffix}")
    (folder / "3_broken.wav").write_text("not audio at all")
    sf.write(folder / "4_empty.wav", np.zeros(0, dtype=np.float32), SR)
    sf.write(folder / "5_short.wav", np.zeros(SR // 20, dtype=np.float32), SR)
    return folder, sorted(str(p) for p in folder.iterdir())


def test_predict_mixed_folder_keeps_going(capsys, proba_model, mixed):
    folder, files = mixed
    status, out, err = run(capsys, "predict", str(proba_model), str(folder), "--proba")
    assert status == 1  # some files failed
    rows = _csv(out)
    assert [r["file"] for r in rows] == files  # every file has a row, in order
    good, bad = rows[:3], rows[3:]
    assert all(r["label"] in ("anger", "sadness") and r["error"] == "" for r in good)
    assert all(float(r["p_anger"]) + float(r["p_sadness"]) == pytest.approx(1, abs=1e-5) for r in good)
    assert all(r["label"] == "" and r["p_anger"] == "" and r["start"] == "" for r in bad)
    assert "Cannot read audio file" in bad[0]["error"]
    assert "contains no samples" in bad[1]["error"]
    assert "too short: 0.050 s" in bad[2]["error"]
    assert "predicted 3 of 6 files, 3 failed; wrote 6 rows" in err
    assert err.count("failed: ") == 3 and "Traceback" not in err


def test_predict_all_good_exits_0_and_strict_stops(capsys, proba_model, mixed, tmp_path):
    folder, files = mixed
    status, _, err = run(capsys, "predict", str(proba_model), *files[:3])
    assert status == 0 and "predicted 3 of 3 files, 0 failed" in err
    out_file = tmp_path / "strict.jsonl"
    status, out, err = run(capsys, "predict", str(proba_model), str(folder), "--strict",
                           "-o", str(out_file), "--batch-size", "2")  # fmt: skip
    assert status == 2
    assert err.strip().splitlines()[-1].startswith("skser predict: error: Cannot read audio file")
    rows = _jsonl(out_file.read_text())  # format from the suffix; the rows before the error kept
    assert [r["file"] for r in rows] == files[:3] and all(r["error"] is None for r in rows)


def test_predict_resume_after_interrupted_run(capsys, proba_model, mixed, tmp_path, monkeypatch):
    import skser.prediction

    folder, files = mixed
    out_file = tmp_path / "out.csv"
    real_load = skser.prediction.load_audio

    def interrupt_on_third(path, **kwargs):
        if path == files[2]:
            raise KeyboardInterrupt  # Ctrl-C (or a killed job) in the middle of the run
        return real_load(path, **kwargs)

    monkeypatch.setattr(skser.prediction, "load_audio", interrupt_on_third)
    status, _, err = run(capsys, "predict", str(proba_model), str(folder), "-o", str(out_file),
                         "--batch-size", "1")  # fmt: skip
    assert status == 130 and "interrupted after 2 rows" in err and "--resume" in err
    assert [r["file"] for r in _csv(out_file.read_text())] == files[:2]  # written as computed
    monkeypatch.setattr(skser.prediction, "load_audio", real_load)
    status, out, err = run(capsys, "predict", str(proba_model), str(folder), "-o", str(out_file),
                           "--resume")  # fmt: skip
    assert status == 1 and out == ""
    assert "--resume: 2 of 6 files are already in" in err and "predicting the other 4" in err
    rows = _csv(out_file.read_text())
    assert [r["file"] for r in rows] == files  # each file once, header once
    # Resuming a finished output predicts nothing; its failed files still give status 1.
    status, _, err = run(capsys, "predict", str(proba_model), str(folder), "-o", str(out_file),
                         "--resume")  # fmt: skip
    assert status == 1 and "predicting the other 0" in err and "3 file(s) already in" in err
    assert len(_csv(out_file.read_text())) == 6
    # Another column set (here --proba) cannot continue that file.
    status, _, err = run(capsys, "predict", str(proba_model), str(folder), "-o", str(out_file),
                         "--resume", "--proba")  # fmt: skip
    assert status == 2 and "cannot resume" in err


def test_predict_resume_drops_a_cut_last_line(capsys, proba_model, mixed, tmp_path):
    _, files = mixed
    out_file = tmp_path / "cut.jsonl"
    status, _, _ = run(capsys, "predict", str(proba_model), *files[:3], "-o", str(out_file))
    assert status == 0
    text = out_file.read_text()
    out_file.write_text(text[: len(text) - 25])  # killed in the middle of the last row
    status, _, err = run(capsys, "predict", str(proba_model), *files[:3], "-o", str(out_file),
                         "--resume")  # fmt: skip
    assert status == 0 and "2 of 3 files are already in" in err
    assert [r["file"] for r in _jsonl(out_file.read_text())] == files[:3]


# --------------------------------------------------------------------------- evaluate


def test_evaluate_loso_writes_reports(capsys, workdir):
    json_file, md_file, png = workdir / "r.json", workdir / "r.md", workdir / "cm.png"
    status, out, err = run(
        capsys, "evaluate", "--corpus", TINY, "--recipe", "svm-mfcc", "--cv", "loso",
        "--json", str(json_file), "--markdown", str(md_file), "--plot", str(png), "--no-progress",
    )  # fmt: skip
    assert status == 0, err
    assert "SPEAKER-INDEPENDENT evaluation: LeaveOneGroupOut, 3 folds" in out
    report = json.loads(json_file.read_text())
    assert report["evaluation"] == "speaker-independent"
    assert report["recipe"] == "svm-mfcc" and report["cv"] == "loso"
    assert report["n_clips"] == 48 and len(report["folds"]) == 3
    assert 0.0 <= report["uar"] <= 1.0
    assert "**speaker-independent**" in md_file.read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_random_is_labelled_speaker_dependent(capsys, workdir):
    json_file = workdir / "random.json"
    status, out, err = run(
        capsys, "evaluate", "--corpus", TINY, "--recipe", "svm-mfcc", "--cv", "random",
        "--json", str(json_file),
    )  # fmt: skip
    assert status == 0
    assert "SPEAKER-DEPENDENT" in out and "SPEAKER-DEPENDENT" in err
    assert json.loads(json_file.read_text())["evaluation"] == "speaker-dependent"


OTHER = "synthetic:n_speakers=2,n_per_class=2,duration=1.0,random_state=5"


def test_evaluate_adaptation_protocol_is_stated(capsys, workdir):
    json_file = workdir / "none.json"
    status, out, err = run(
        capsys, "evaluate", "--corpus", TINY, "--recipe", "svm-mfcc", "--cv", "loso",
        "--adaptation", "none", "--json", str(json_file), "--no-progress",
    )  # fmt: skip
    assert status == 0, err
    assert "adaptation none: every test clip predicted alone" in out
    assert json.loads(json_file.read_text())["adaptation"] == "none"
    status, _, err = run(
        capsys, "evaluate", "--corpus", TINY, "--recipe", "svm-mfcc", "--adaptation", "enroll:x"
    )
    assert status == 2 and "--adaptation must be" in err


def test_evaluate_across_corpora(capsys, workdir):
    json_file = workdir / "loco.json"
    status, out, err = run(
        capsys, "evaluate", "--corpus", TINY, "--corpus", OTHER, "--recipe", "svm-mfcc",
        "--cv", "leave-one-corpus-out", "--json", str(json_file), "--no-progress",
    )  # fmt: skip
    assert status == 0, err
    assert "LeaveOneCorpusOut, 2 folds" in out
    assert len(json.loads(json_file.read_text())["folds"]) == 2
    status, out, err = run(
        capsys, "evaluate", "--corpus", TINY, "--test-corpus", OTHER, "--recipe", "svm-mfcc",
        "--adaptation", "none",
    )  # fmt: skip
    assert status == 0, err
    assert "cross-corpus: train synthetic, test synthetic" in out
    assert "clips 32" in out  # the test corpus only
    status, _, err = run(
        capsys, "evaluate", "--corpus", TINY, "--recipe", "svm-mfcc", "--cv", "leave-one-corpus-out"
    )
    assert status == 2 and "needs at least two corpora" in err
    status, _, err = run(
        capsys, "evaluate", "--corpus", TINY, "--test-corpus", OTHER, "--recipe", "svm-mfcc",
        "--cv", "loso",
    )  # fmt: skip
    assert status == 2 and "leave --cv out" in err


def test_label_map_and_emotion_filter(capsys, workdir):
    path = workdir / "four.joblib"
    status, _, err = run(
        capsys, "train", "--corpus", TINY, "--recipe", "svm-mfcc", "--label-map", "4class",
        "--out", str(path),
    )  # fmt: skip
    assert status == 0, err
    assert load_model(path).classes_.tolist() == ["anger", "happiness", "neutral", "sadness"]
    status, _, _ = run(
        capsys, "train", "--corpus", TINY, "--corpus", "synthetic:n_speakers=2,n_per_class=1,"
        "duration=1.0,random_state=3", "--recipe", "svm-mfcc", "--emotions", "anger,calm",
        "--out", str(path),
    )  # fmt: skip
    model, info = load_model(path, return_metadata=True)
    assert model.classes_.tolist() == ["anger", "calm"]
    assert info["metadata"]["n_speakers"] == 5  # two corpora combined, speakers kept apart
    assert info["metadata"]["n_clips"] == 3 * 2 * 2 + 2 * 2


# --------------------------------------------------------------------------- users' own corpora


@pytest.fixture(scope="module")
def own_data(workdir):
    """The same clips as a folder per emotion (Angry/, sad/) and as a CSV with other column names."""
    corpus = make_synthetic_corpus(n_speakers=3, n_per_class=2, emotions=["anger", "sadness"],
                                   duration=1.0, random_state=2)  # fmt: skip
    root = workdir / "own"
    lines = ["clip;mood;who"]
    for i, (wave, label, speaker) in enumerate(zip(corpus.X, corpus.y, corpus.groups, strict=True)):
        folder = root / {"anger": "Angry", "sadness": "sad"}[label]
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{speaker}_{i:02d}.wav", wave, SR)
        lines.append(f"{folder.name}/{speaker}_{i:02d}.wav;{folder.name};{speaker}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


def test_train_and_evaluate_on_folders_and_csv(capsys, own_data, workdir):
    model = workdir / "own.joblib"
    status, out, err = run(capsys, "train", "--corpus", f"folders:{own_data}:speaker=^(spk\\d+)_",
                           "--recipe", "svm-mfcc", "--out", str(model), "--no-progress")  # fmt: skip
    assert status == 0, err
    _, info = load_model(model, return_metadata=True)
    assert info["classes"] == ["anger", "sadness"] and info["metadata"]["n_speakers"] == 3
    assert info["metadata"]["n_clips"] == 12
    spec = f"csv:{own_data / 'labels.csv'}:path_column=clip,label_column=mood,speaker_column=who"
    status, out, err = run(capsys, "evaluate", "--corpus", spec, "--recipe", "svm-mfcc",
                           "--no-progress")  # fmt: skip
    assert status == 0, err
    assert "SPEAKER-INDEPENDENT evaluation: LeaveOneGroupOut, 3 folds" in out
    assert "12 clips, 3 speakers" in err
    # Both at once: combined, speaker ids kept apart by corpus name.
    status, _, err = run(capsys, "train", "--corpus", spec, "--corpus",
                         f"folders:{own_data}:speaker=^(spk\\d+)_", "--recipe", "svm-mfcc",
                         "--out", str(model), "--no-progress")  # fmt: skip
    assert status == 0 and "24 clips, 6 speakers" in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [("csv", "needs a file"), ("csv:{root}/none.csv", "CSV file not found"),
     ("csv:{root}/labels.csv:colour=red", "bad csv corpus option 'colour=red'"),
     ("csv:{root}/labels.csv", "no column 'path'"),
     ("folders:{root}/nowhere", "corpus folder not found"),
     ("folders:{root}:speaker=^nobody", "matches no file name")],
)  # fmt: skip
def test_own_corpus_errors(capsys, own_data, spec, message):
    status, _, err = run(capsys, "train", "--corpus", spec.format(root=own_data), "--recipe",
                         "svm-mfcc", "--out", str(own_data / "m.joblib"))  # fmt: skip
    assert status == 2
    assert err.strip().splitlines()[-1].startswith("skser train: error: ") and message in err


# --------------------------------------------------------------------------- errors


def _errors(tmp, svm_model):
    bad_audio = tmp / "bad.wav"
    bad_audio.write_text("this is not audio")
    empty = tmp / "empty"
    empty.mkdir(exist_ok=True)
    wav = tmp / "ok.wav"
    sf.write(wav, np.zeros(SR, dtype=np.float32), SR)
    train = ["train", "--recipe", "svm-mfcc", "--out", str(tmp / "m.joblib")]
    # (a later --recipe overrides the first one, as argparse does)
    return [
        (["predict", str(tmp / "missing.joblib"), str(wav)], "model file not found"),
        (["predict", str(svm_model), str(tmp / "missing.wav")], "audio file not found"),
        (["predict", str(svm_model), str(bad_audio), "--strict"], "Cannot read audio file"),
        (["predict", str(svm_model), str(wav), "--resume"], "--resume needs --output"),
        (["predict", str(svm_model), str(wav), "--proba"], "has no predict_proba"),
        (["predict", str(svm_model), str(wav), "-o", str(tmp / "no" / "p.csv")], "output folder"),
        (["predict", str(svm_model), str(empty)], "holds no audio files"),
        (["predict", str(wav), str(wav)], "not a skser model file: it looks like a WAV"),
        (["predict", str(svm_model), str(wav), "--window", "-1"], "must be positive"),
        ([*train, "--corpus", TINY, "--recipe", "no-such-recipe"], "unknown recipe 'no-such-recipe'"),
        ([*train, "--corpus", TINY, "--set", "C"], "bad --set 'C': expected key=value"),
        ([*train, "--corpus", TINY, "--set", "epochs=3"], "has no parameter 'epochs'"),
        ([*train, "--corpus", TINY, "--recipe", "test-two-mfcc", "--set", "n_mfcc=5"], "is ambiguous"),
        ([*train, "--corpus", f"ravdess:{tmp / 'nowhere'}"], "corpus folder not found"),
        ([*train, "--corpus", "ravdess"], "needs a folder"),
        ([*train, "--corpus", "timit:/data"], "unknown corpus 'timit'"),
        ([*train, "--corpus", "synthetic:speakers=2"], "bad synthetic corpus option"),
        (["train", "--corpus", TINY, "--recipe", "svm-mfcc", "--out", str(tmp / "no" / "m.joblib")],
         "output folder"),
        (["evaluate", "--corpus", TINY, "--recipe", "svm-mfcc", "--emotions", "joy"], "joy"),
    ]  # fmt: skip


@pytest.fixture
def two_mfcc_recipe():
    """A registered recipe with two MFCC blocks, so that ``n_mfcc`` is ambiguous."""
    from sklearn.pipeline import FeatureUnion, Pipeline

    from skser.recipes import register_recipe, unregister_recipe

    def build(*, sr, random_state, n_jobs, yamnet_weights):
        union = FeatureUnion([("a", MFCCTransformer(sr=sr, output="stats")),
                              ("b", MFCCTransformer(sr=sr, output="stats"))])  # fmt: skip
        return Pipeline([("features", union), ("clf", LogisticRegression())])

    register_recipe("test-two-mfcc", build, family="test", input="MFCC", source="test",
                    cost="seconds", description="two MFCC blocks")  # fmt: skip
    yield "test-two-mfcc"
    unregister_recipe("test-two-mfcc")


def test_bad_input_gives_one_line_error_and_status_2(capsys, tmp_path, svm_model, two_mfcc_recipe):
    for argv, message in _errors(tmp_path, svm_model):
        status, out, err = run(capsys, *argv)
        assert status == 2, argv
        lines = err.strip().splitlines()
        assert lines[-1].startswith(f"skser {argv[0]}: error: "), (argv, err)
        assert message in lines[-1], (argv, err)
        assert "Traceback" not in err


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--corpus", TINY, "--recipe", "svm-mfcc", "--cv", "kfold"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'kfold'" in capsys.readouterr().err


def test_version_mismatch_is_a_one_line_warning(capsys, tmp_path, proba_model, clips):
    envelope = joblib.load(proba_model)
    envelope["skser_version"] = "0.0.1"
    old = tmp_path / "old.joblib"
    joblib.dump(envelope, old)
    status, out, err = run(capsys, "predict", str(old), str(clips[1][0]))
    assert status == 0 and len(_csv(out)) == 1
    assert "skser predict: warning: Model" in err and "skser 0.0.1" in err


# --------------------------------------------------------------------------- console script


def _console_script():
    script = shutil.which("skser", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the skser console script is not installed next to this Python")
    return script


def test_console_script(tmp_path):
    script = _console_script()
    done = subprocess.run([script, "recipes", "--format", "csv"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "svm-mfcc" in done.stdout
    done = subprocess.run(
        [script, "predict", str(tmp_path / "missing.joblib"), str(tmp_path / "a.wav")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == f"skser predict: error: model file not found: '{tmp_path / 'missing.joblib'}'"
    done = subprocess.run([script, "nonsense"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "invalid choice" in done.stderr


@pytest.mark.slow
def test_console_script_train_and_predict(tmp_path, clips):
    script = _console_script()
    model = tmp_path / "m.joblib"
    done = subprocess.run(
        [script, "train", "--corpus", TINY, "--recipe", "svm-mfcc", "--out", str(model)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [script, "predict", str(model), str(clips[0]), "--format", "jsonl"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(_jsonl(done.stdout)) == 3


@pytest.mark.slow
def test_deep_recipe_train_and_timeline(capsys, tmp_path, clips):
    """A Keras recipe end to end: train (1 epoch), save, load, timeline with probabilities."""
    model = tmp_path / "lstm.joblib"
    status, _, err = run(
        capsys, "train", "--corpus", "synthetic:n_speakers=3,n_per_class=1,duration=1.0",
        "--recipe", "mfcc-lstm", "--set", "epochs=1", "--set", "batch_size=8", "--out", str(model),
    )  # fmt: skip
    assert status == 0, err
    status, out, err = run(
        capsys, "predict", str(model), str(clips[2]), "--window", "2", "--hop", "2", "--proba"
    )
    assert status == 0, err
    rows = _csv(out)
    assert len(rows) == 5
    probabilities = np.array([[float(v) for k, v in r.items() if k.startswith("p_")] for r in rows])
    assert probabilities.shape == (5, 8)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_demo(capsys):
    status, out, _ = run(capsys, "demo", "--speakers", "3", "--per-class", "1")
    assert status == 0
    assert "Synthetic corpus: 24 clips, 3 speakers" in out
    assert "SPEAKER-INDEPENDENT evaluation: LeaveOneGroupOut, 3 folds" in out


@pytest.mark.slow
def test_info(capsys):
    status, out, _ = run(capsys, "info")
    assert status == 0
    assert out.startswith("skser 0.")
    assert "scikit-learn" in out and "GPU visible to TensorFlow:" in out
