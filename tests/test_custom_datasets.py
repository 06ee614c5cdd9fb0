"""Users' own corpora: load_csv, from_dataframe, load_folders (synthetic file trees in tmp_path)."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import skser
from skser.datasets import Corpus, canonical_emotion, from_dataframe, load_csv, load_folders

SR = 16000


def _wav(path, seconds=0.1):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(SR * seconds), dtype=np.float32), SR)
    return path


@pytest.fixture
def tree(tmp_path):
    """root/<Emotion folder>/<speaker>_<take>.wav in several spellings, plus junk files."""
    root = tmp_path / "my_corpus"
    for folder in ("Angry", "happy", "SAD", "neutral", "Fearful"):
        for speaker in ("s01", "s02"):
            _wav(root / folder / f"{speaker}_take1.wav")
    _wav(root / "happy" / "deeper" / "s03_take2.flac")  # any depth below the emotion folder
    (root / "happy" / "notes.txt").write_text("not audio")
    _wav(root / "SAD" / "._s01_take1.wav")  # macOS resource fork: skipped
    return root


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("label", "emotion"),
    [("angry", "anger"), ("ANGER", "anger"), ("ang", "anger"), ("Happy", "happiness"),
     ("joy", "happiness"), ("happiness", "happiness"), ("sad", "sadness"), ("Neutral", "neutral"),
     ("fear", "fear"), ("fearful", "fear"), ("disgust", "disgust"), ("surprise", "surprise"),
     ("Surprised", "surprise"), ("calm", "calm"), ("boredom", "boredom"), (" bored ", "boredom"),
     ("frustrated", None)],
)  # fmt: skip
def test_canonical_emotion(label, emotion):
    assert canonical_emotion(label) == emotion


# --------------------------------------------------------------------------- load_folders


def test_load_folders_maps_names_and_speakers(tree):
    corpus = load_folders(tree, speaker=r"^(s\d+)_")
    assert isinstance(corpus, Corpus) and corpus.name == "my_corpus"
    assert (corpus.frame["corpus"] == "my_corpus").all()
    assert len(corpus.y) == 11
    assert sorted(set(corpus.y)) == ["anger", "fear", "happiness", "neutral", "sadness"]
    assert sorted(set(corpus.groups)) == ["s01", "s02", "s03"]
    flac = corpus.frame.loc[corpus.frame["path"].str.endswith(".flac")].iloc[0]
    assert flac["emotion"] == "happiness" and flac["emotion_original"] == "happy"
    assert flac["speaker"] == "s03"
    assert all(str(tree) in p for p in corpus.X)
    X, y, groups = load_folders(tree, speaker=r"^(s\d+)_", return_X_y=True)
    assert len(X) == len(y) == len(groups) == 11


def test_load_folders_speaker_named_group_callable_and_none(tree):
    named = load_folders(tree, speaker=r"take(?P<speaker>\d)")
    assert sorted(set(named.groups)) == ["1", "2"]
    by_folder = load_folders(tree, speaker=lambda p: p.stem.split("_")[0].upper())
    assert sorted(set(by_folder.groups)) == ["S01", "S02", "S03"]
    compiled = load_folders(tree, speaker=re.compile(r"S0\d", re.I))  # whole match
    assert sorted(set(compiled.groups)) == ["s01", "s02", "s03"]
    with pytest.warns(UserWarning, match="no speaker ids"):
        anonymous = load_folders(tree)
    assert set(anonymous.groups) == {"unknown"}


def test_load_folders_label_map_and_emotions(tree):
    _wav(tree / "frustrated" / "s01_take1.wav")
    _wav(tree / "frustrated" / "s02_take1.wav")
    with pytest.raises(ValueError, match=r"'frustrated'.*label_map=\{'frustrated': 'anger'\}"):
        load_folders(tree, speaker=r"^(s\d+)_")
    mapped = load_folders(tree, speaker=r"^(s\d+)_", label_map={"Frustrated": "angry"})
    assert (mapped.y == "anger").sum() == 4  # case-insensitive key, value normalized
    with pytest.warns(UserWarning, match=r"dropped 2 of 13 clips \(frustrated: 2\)"):
        dropped = load_folders(tree, speaker=r"^(s\d+)_", label_map={"frustrated": None})
    assert len(dropped.y) == 11
    custom = load_folders(tree, speaker=r"^(s\d+)_", label_map={"frustrated": "frustration"})
    assert (custom.y == "frustration").sum() == 2  # a class of one's own
    with pytest.warns(UserWarning, match="dropped 2"):
        only = load_folders(tree, speaker=r"^(s\d+)_", label_map={"frustrated": None},
                            emotions=["anger", "sadness"])  # fmt: skip
    assert sorted(set(only.y)) == ["anger", "sadness"]


def test_load_folders_builtin_label_map(tree):
    with pytest.warns(UserWarning, match=r"dropped 2 of 11 clips \(Fearful: 2\)"):
        four = load_folders(tree, speaker=r"^(s\d+)_", label_map="4class")
    assert sorted(set(four.y)) == ["anger", "happiness", "neutral", "sadness"]


def test_load_folders_errors(tmp_path, tree):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        load_folders(tmp_path / "nowhere")
    (tmp_path / "empty" / "angry").mkdir(parents=True)
    with pytest.raises(ValueError, match="No audio files"):
        load_folders(tmp_path / "empty")
    with pytest.raises(ValueError, match=r"matches no file name \(e\.g\. 's01_take1\.wav'"):
        load_folders(tree, speaker=r"^speaker(\d+)")
    _wav(tree / "angry" / "unnamed.wav")
    with pytest.raises(ValueError, match=r"does not match 1 of 12 file names: 'unnamed\.wav'"):
        load_folders(tree, speaker=r"^(s\d+)_")
    with pytest.raises(ValueError, match="returned no id for 1 of 12"):
        load_folders(tree, speaker=lambda p: "" if p.stem == "unnamed" else "x")
    with pytest.raises(TypeError, match="regular expression or a callable"):
        load_folders(tree, speaker=3)
    _wav(tree / "loose.wav")
    with pytest.raises(ValueError, match="outside an emotion folder: .*loose.wav"):
        load_folders(tree, speaker=r"^(s\d+)_")


def test_load_folders_all_dropped_is_an_error(tree):
    label_map = {name: None for name in ("Angry", "happy", "SAD", "neutral", "Fearful")}
    with pytest.raises(ValueError, match="drops every clip"):
        load_folders(tree, speaker=r"^(s\d+)_", label_map=label_map)


# --------------------------------------------------------------------------- load_csv, from_dataframe


@pytest.fixture
def listed(tmp_path):
    """Clips in tmp_path/audio and a CSV next to them with relative paths and extra columns."""
    rows = []
    for i, (emotion, speaker) in enumerate([("Angry", "007"), ("joy", "007"), ("sad", "008"),
                                            ("neutral", "008")]):  # fmt: skip
        _wav(tmp_path / "audio" / f"clip{i}.wav")
        rows.append({"path": f"audio/clip{i}.wav", "emotion": emotion, "speaker": speaker,
                     "gender": "female", "session": str(i)})  # fmt: skip
    frame = pd.DataFrame(rows)
    csv_path = tmp_path / "labels.csv"
    frame.to_csv(csv_path, index=False)
    return csv_path, frame


def test_load_csv_resolves_paths_and_keeps_columns(listed, tmp_path):
    csv_path, _ = listed
    corpus = load_csv(csv_path)
    assert corpus.name == "labels" and (corpus.frame["corpus"] == "labels").all()
    assert corpus.y.tolist() == ["anger", "happiness", "sadness", "neutral"]
    assert corpus.groups.tolist() == ["007", "007", "008", "008"]  # leading zeros kept
    assert corpus.X[0] == str(tmp_path / "audio" / "clip0.wav")
    assert corpus.frame["session"].tolist() == ["0", "1", "2", "3"]
    assert corpus.frame["gender"].tolist() == ["female"] * 4
    assert corpus.frame["emotion_original"].tolist() == ["Angry", "joy", "sad", "neutral"]
    assert load_csv(csv_path, name="mine", emotions=["anger"]).y.tolist() == ["anger"]


def test_load_csv_columns_separator_and_root(listed, tmp_path):
    _, frame = listed
    other = tmp_path / "elsewhere"
    other.mkdir()
    renamed = frame.rename(columns={"path": "file", "emotion": "mood", "speaker": "who"})
    renamed["file"] = [p.removeprefix("audio/") for p in renamed["file"]]
    semicolon = other / "meta.txt"
    renamed.to_csv(semicolon, index=False, sep=";")
    corpus = load_csv(semicolon, path_column="file", label_column="mood", speaker_column="who",
                      root=tmp_path / "audio")  # fmt: skip
    assert len(corpus.y) == 4 and corpus.X[3] == str(tmp_path / "audio" / "clip3.wav")
    tsv = other / "meta.tsv"
    renamed.to_csv(tsv, index=False, sep="\t")
    corpus = load_csv(tsv, path_column="file", label_column="mood", speaker_column="who",
                      root=tmp_path / "audio", sep="\t")  # fmt: skip
    assert corpus.groups.tolist() == ["007", "007", "008", "008"]
    absolute = frame.assign(path=[str(tmp_path / p) for p in frame["path"]])
    absolute.to_csv(other / "abs.csv", index=False)
    assert len(load_csv(other / "abs.csv").y) == 4  # absolute paths ignore root


def test_from_dataframe(listed, tmp_path, monkeypatch):
    _, frame = listed
    corpus = from_dataframe(frame, root=tmp_path)
    assert corpus.name == "custom" and corpus.y.tolist()[0] == "anger"
    monkeypatch.chdir(tmp_path)  # default root: the current directory
    assert len(from_dataframe(frame).y) == 4
    several = frame.assign(corpus=["a", "a", "b", "b"])  # the table's own corpus column is kept
    assert from_dataframe(several).frame["corpus"].tolist() == ["a", "a", "b", "b"]
    with pytest.warns(UserWarning, match="no speaker ids"):
        anonymous = from_dataframe(frame.drop(columns="speaker"), speaker_column=None)
    assert set(anonymous.groups) == {"unknown"}
    with pytest.raises(TypeError, match="DataFrame"):
        from_dataframe(frame.to_dict())
    with pytest.raises(ValueError, match="no rows"):
        from_dataframe(frame.iloc[:0])


def test_missing_files_listed_first_ten_with_count(tmp_path):
    frame = pd.DataFrame({"path": [f"gone{i}.wav" for i in range(13)], "emotion": "sad",
                          "speaker": "a"})  # fmt: skip
    with pytest.raises(FileNotFoundError) as info:
        from_dataframe(frame, root=tmp_path)
    message = str(info.value)
    assert "13 of 13 listed files do not exist" in message
    assert "gone9.wav' and 3 more" in message and "gone10" not in message
    assert f"resolved against {str(tmp_path)!r}" in message


def test_table_errors(listed, tmp_path):
    csv_path, frame = listed
    with pytest.raises(FileNotFoundError, match="CSV file not found"):
        load_csv(tmp_path / "none.csv")
    with pytest.raises(ValueError, match=r"no column 'label' \(label_column\); its columns are"):
        load_csv(csv_path, label_column="label")
    unknown = frame.assign(emotion=["Angry", "frustrated", "meh", "sad"])
    with pytest.raises(ValueError, match=r"2 label\(s\) are not emotions skser knows: 'frustrated', "
                       r"'meh' \(2 clips\).*label_map="):  # fmt: skip
        from_dataframe(unknown, root=tmp_path)
    with pytest.warns(UserWarning, match=r"dropped 2 of 4 clips \(frustrated: 1, meh: 1\)"):
        kept = from_dataframe(unknown, root=tmp_path, label_map={"frustrated": None, "meh": None})
    assert kept.y.tolist() == ["anger", "sadness"]
    holes = frame.assign(speaker=["007", "", "008", " "])
    holes.to_csv(tmp_path / "holes.csv", index=False)
    with pytest.raises(ValueError, match=r"column 'speaker' is empty in 2 lines: '3', '5'"):
        load_csv(tmp_path / "holes.csv")
    twice = pd.concat([frame, frame.iloc[:1]])
    with pytest.raises(ValueError, match="listed more than once"):
        from_dataframe(twice, root=tmp_path)
    clash = frame.rename(columns={"emotion": "mood"}).assign(emotion="x")
    with pytest.raises(ValueError, match="has a column 'emotion' but emotion values are read"):
        from_dataframe(clash, root=tmp_path, label_column="mood")
    (tmp_path / "header.csv").write_text("path,emotion,speaker\n")
    with pytest.raises(ValueError, match="lists no clips"):
        load_csv(tmp_path / "header.csv")


def test_top_level_exports():
    assert skser.load_csv is load_csv
    assert skser.load_folders is load_folders and skser.from_dataframe is from_dataframe


def test_loaded_corpus_evaluates(tmp_path):
    """End to end: a folder tree written from the synthetic corpus, loaded and evaluated."""
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from skser.features import MFCCTransformer

    source = skser.make_synthetic_corpus(n_speakers=3, n_per_class=1, duration=1.0,
                                         emotions=["anger", "sadness"], random_state=0)  # fmt: skip
    for i, (wave, label, spk) in enumerate(zip(source.X, source.y, source.groups, strict=True)):
        _wav(tmp_path / label / f"{spk}_{i}.wav")
        sf.write(tmp_path / label / f"{spk}_{i}.wav", wave, SR)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        corpus = load_folders(tmp_path, speaker=r"^(spk\d+)_")
    assert sorted(set(corpus.groups)) == sorted(set(source.groups))
    report = skser.evaluate(make_pipeline(MFCCTransformer(output="stats"), SVC()), corpus.X,
                            corpus.y, groups=corpus.groups)  # fmt: skip
    assert report.speaker_independent and report.n_clips == len(source.y)
