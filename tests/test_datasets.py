"""Corpus loaders: real RAVDESS/EMOVO/TESS, synthetic trees with each official naming scheme."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from skser.datasets import (
    Corpus,
    combine,
    load_cremad,
    load_emodb,
    load_emovo,
    load_ravdess,
    load_savee,
    load_tess,
)
from skser.datasets._files import list_audio_files

FSER8 = ["anger", "anxiety", "calm", "disgust", "happiness", "neutral", "sadness", "surprise"]


def write_wav(path: Path, sr: int = 16000) -> Path:
    """A tiny real audio file (a 20 ms tone) at ``path``; the format follows the extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(0.02 * sr)) / sr
    fmt = "FLAC" if path.suffix.lower() == ".flac" else "WAV"
    sf.write(path, 0.1 * np.sin(2 * np.pi * 220 * t), sr, format=fmt)
    return path


def make_tree(root: Path, names) -> Path:
    for name in names:
        write_wav(root / name)
    return root


def rows(corpus: Corpus, columns) -> list[tuple]:
    return [tuple(r) for r in corpus.frame[columns].itertuples(index=False)]


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_ravdess_real(ravdess_dir):
    corpus = load_ravdess(ravdess_dir)
    frame = corpus.frame
    assert len(corpus.X) == len(corpus.y) == len(corpus.groups) == 1440
    assert sorted(set(corpus.groups)) == [f"{i:02d}" for i in range(1, 25)]
    assert set(Counter(corpus.groups).values()) == {60}
    assert sorted(set(corpus.y)) == sorted(
        ["anger", "calm", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
    )
    counts = Counter(corpus.y)
    assert counts["neutral"] == 96 and all(counts[e] == 192 for e in counts if e != "neutral")
    # Neutral has no strong intensity in RAVDESS.
    assert set(frame.loc[frame.emotion == "neutral", "intensity"]) == {"normal"}
    assert Counter(frame["intensity"]) == {"normal": 768, "strong": 672}
    assert Counter(frame["statement"]) == {"01": 720, "02": 720}
    assert set(frame.loc[frame.statement == "02", "text"]) == {"Dogs are sitting by the door"}
    odd = frame["speaker"].astype(int) % 2 == 1
    assert set(frame.loc[odd, "gender"]) == {"male"} and set(frame.loc[~odd, "gender"]) == {
        "female"
    }
    assert list(corpus.X) == list(frame["path"]) and list(corpus.groups) == list(frame["speaker"])
    assert all(Path(p).is_file() and p.endswith(".flac") for p in corpus.X[:20])
    # Parsed from the file's own name, not its position.
    name = Path(corpus.X[100]).stem.split("-")
    assert frame.loc[100, "speaker"] == name[6] and frame.loc[100, "statement"] == name[4]


@pytest.mark.realdata
def test_emovo_real(emovo_dir):
    corpus = load_emovo(emovo_dir)
    assert len(corpus.y) == 588
    assert sorted(set(corpus.groups)) == ["f1", "f2", "f3", "m1", "m2", "m3"]
    assert set(Counter(corpus.groups).values()) == {98}
    assert sorted(set(corpus.y)) == sorted(
        ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
    )
    assert set(Counter(corpus.y).values()) == {84}
    assert corpus.frame["statement"].nunique() == 14
    assert set(corpus.frame["language"]) == {"Italian"}
    assert Counter(corpus.frame["gender"]) == {"female": 294, "male": 294}


@pytest.mark.realdata
def test_tess_real(tess_dir):
    corpus = load_tess(tess_dir)
    frame = corpus.frame
    assert len(corpus.y) == 2798
    assert sorted(set(corpus.groups)) == ["OAF", "YAF"]
    assert sorted(set(corpus.y)) == sorted(
        ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
    )
    assert Counter(corpus.y)["surprise"] == 400  # the "ps" files
    assert frame["statement"].nunique() == 200
    # The corpus's misnamed "OA_bite_neutral" file is OAF's, from its folder.
    row = frame[frame.path.str.endswith("OA_bite_neutral.flac")].iloc[0]
    assert (row.speaker, row.emotion, row.age, row.text) == (
        "OAF",
        "neutral",
        64,
        "Say the word bite",
    )
    assert set(frame.loc[frame.speaker == "YAF", "age"]) == {26}


@pytest.mark.realdata
def test_combine_real_fser8(ravdess_dir, emovo_dir):
    ravdess, emovo = load_ravdess(ravdess_dir), load_emovo(emovo_dir)
    both = combine([ravdess, emovo], label_map="fser8")
    assert len(both.y) == 1440 + 588
    assert len(set(both.groups)) == 24 + 6
    assert sorted(set(both.y)) == FSER8
    counts = Counter(both.y)
    assert counts["anxiety"] == 192 + 84  # fear of both corpora
    assert counts["calm"] == 192  # RAVDESS calm; EMOVO has no boredom
    assert Counter(both.frame["corpus"]) == {"ravdess": 1440, "emovo": 588}
    assert set(both.frame.loc[both.y == "anxiety", "emotion_original"]) == {"fear"}


@pytest.mark.realdata
def test_ravdess_real_4class_and_subset(ravdess_dir):
    X, y, groups = load_ravdess(ravdess_dir, label_map="4class", return_X_y=True)
    assert Counter(y) == {"anger": 192, "happiness": 192, "sadness": 192, "neutral": 96}
    assert len(X) == len(groups) == 672
    sub = load_ravdess(ravdess_dir, emotions=["calm", "anger"])
    assert Counter(sub.y) == {"calm": 192, "anger": 192}


# --------------------------------------------------------------------------- RAVDESS synthetic


def test_ravdess_fields_and_song(tmp_path):
    make_tree(
        tmp_path,
        [
            "Actor_01/03-01-05-02-01-01-01.wav",
            "Actor_02/03-01-06-01-02-02-02.FLAC",
            "Actor_02/03-02-03-01-01-01-02.wav",  # song
            "Actor_02/notes.txt",
        ],
    )
    with pytest.warns(UserWarning, match="1 song"):
        corpus = load_ravdess(tmp_path)
    assert rows(
        corpus, ["speaker", "gender", "emotion", "intensity", "statement", "repetition"]
    ) == [
        ("01", "male", "anger", "strong", "01", 1),
        ("02", "female", "fear", "normal", "02", 2),
    ]
    assert corpus.frame.loc[1, "text"] == "Dogs are sitting by the door"


def test_ravdess_only_song_is_an_error(tmp_path):
    make_tree(tmp_path, ["Actor_02/03-02-03-01-01-01-02.wav"])
    with pytest.raises(ValueError, match="only song"):
        load_ravdess(tmp_path)


@pytest.mark.parametrize(
    "name, why",
    [
        ("Actor_01/03-01-09-01-01-01-01.wav", "emotion code '09'"),
        ("Actor_01/01-01-05-01-01-01-01.wav", "modality"),
        ("Actor_01/03-01-05-01-01-01.wav", "seven"),
        ("Actor_01/03-01-05-01-01-01-03.wav", "folder"),
        ("Actor_25/03-01-05-01-01-01-25.wav", "01..24"),
    ],
)
def test_ravdess_misnamed_file(tmp_path, name, why):
    make_tree(tmp_path, ["Actor_01/03-01-05-02-01-01-01.wav", name])
    with pytest.raises(ValueError, match=why) as err:
        load_ravdess(tmp_path)
    assert Path(name).name in str(err.value)


# --------------------------------------------------------------------------- EmoDB


EMODB_FILES = [
    "03a01Fa.wav",
    "03a01Wa.wav",
    "08b10Lc.wav",
    "09a05Ab.wav",
    "16b01Tb.wav",
    "13a07Nc.wav",
    "14b09Ea.wav",
]


@pytest.fixture
def emodb_dir(tmp_path):
    root = make_tree(tmp_path / "emodb", [f"wav/{n}" for n in EMODB_FILES])
    (root / "lablaut").mkdir()
    (root / "lablaut" / "03a01Fa.lablaut").write_text("labels")
    (root / "erkennung.txt").write_text("Satz erkannt")
    return root


def test_emodb_parses_official_names(emodb_dir):
    corpus = load_emodb(emodb_dir)
    by_file = {
        Path(p).stem: r for p, r in zip(corpus.frame.path, corpus.frame.itertuples(), strict=True)
    }
    assert len(corpus.y) == len(EMODB_FILES)
    r = by_file["03a01Fa"]
    assert (r.speaker, r.gender, r.age, r.emotion, r.statement, r.version, r.language) == (
        "03",
        "male",
        31,
        "happiness",
        "a01",
        "a",
        "German",
    )
    assert r.text == "Der Lappen liegt auf dem Eisschrank."
    assert by_file["09a05Ab"].emotion == "fear" and by_file["09a05Ab"].gender == "female"
    assert by_file["08b10Lc"].emotion == "boredom" and by_file["08b10Lc"].version == "c"
    assert by_file["14b09Ea"].emotion == "disgust" and by_file["16b01Tb"].emotion == "sadness"
    assert by_file["13a07Nc"].emotion == "neutral" and by_file["03a01Wa"].emotion == "anger"
    # The wav folder itself gives the same corpus.
    same = load_emodb(emodb_dir / "wav")
    assert list(same.X) == list(corpus.X) and list(same.y) == list(corpus.y)


def test_emodb_label_maps(emodb_dir):
    fser = load_emodb(emodb_dir, label_map="fser8")
    assert Counter(fser.y)["anxiety"] == 1 and Counter(fser.y)["calm"] == 1
    assert "fear" not in set(fser.y) and "boredom" not in set(fser.y)
    assert set(fser.frame.loc[fser.y == "calm", "emotion_original"]) == {"boredom"}
    four = load_emodb(emodb_dir, label_map="4class")
    assert sorted(four.y) == ["anger", "happiness", "neutral", "sadness"]
    mapping = {
        "anger": "neg",
        "sadness": "neg",
        "fear": "neg",
        "disgust": "neg",
        "happiness": "pos",
        "boredom": None,
        "neutral": None,
    }
    custom = load_emodb(emodb_dir, label_map=mapping)
    assert Counter(custom.y) == {"neg": 4, "pos": 1}
    del mapping["boredom"]
    with pytest.raises(ValueError, match="boredom"):
        load_emodb(emodb_dir, label_map=mapping)


def test_emodb_emotions_subset_and_return_X_y(emodb_dir):
    X, y, groups = load_emodb(emodb_dir, emotions=["anger", "fear"], return_X_y=True)
    assert sorted(y) == ["anger", "fear"] and len(X) == len(groups) == 2
    assert {Path(x).name for x in X} == {"03a01Wa.wav", "09a05Ab.wav"}
    assert sorted(groups) == ["03", "09"]
    with pytest.raises(ValueError, match="surprise"):
        load_emodb(emodb_dir, emotions=["surprise"])


@pytest.mark.parametrize("bad", ["03a01Xa.wav", "05a01Fa.wav", "03c01Fa.wav", "3a01Fa.wav"])
def test_emodb_misnamed_file(emodb_dir, bad):
    write_wav(emodb_dir / "wav" / bad)
    with pytest.raises(ValueError, match=bad):
        load_emodb(emodb_dir)


# --------------------------------------------------------------------------- SAVEE


def test_savee_official_layout(tmp_path):
    root = make_tree(
        tmp_path / "savee",
        [
            "AudioData/DC/sa01.wav",
            "AudioData/DC/su02.wav",
            "AudioData/DC/a03.wav",
            "AudioData/DC/n30.wav",
            "AudioData/JE/d01.wav",
            "AudioData/KL/f15.wav",
            "AudioData/JK/h07.wav",
        ],
    )
    (root / "AudioData" / "Info.txt").write_text("SAVEE")
    corpus = load_savee(root)
    assert rows(corpus, ["speaker", "emotion", "statement"]) == [
        ("DC", "anger", "a03"),
        ("DC", "neutral", "n30"),
        ("DC", "sadness", "sa01"),
        ("DC", "surprise", "su02"),
        ("JE", "disgust", "d01"),
        ("JK", "happiness", "h07"),
        ("KL", "fear", "f15"),
    ]
    assert set(corpus.frame.gender) == {"male"}
    assert list(load_savee(root / "AudioData").X) == list(corpus.X)


def test_savee_flat_layout(tmp_path):
    make_tree(tmp_path, ["DC_sa01.wav", "JK_su05.wav", "KL_a01.wav", "JE_n12.flac", "dc_h02.WAV"])
    corpus = load_savee(tmp_path)
    assert rows(corpus, ["speaker", "emotion", "statement"]) == [
        ("DC", "sadness", "sa01"),
        ("JE", "neutral", "n12"),
        ("JK", "surprise", "su05"),
        ("KL", "anger", "a01"),
        ("DC", "happiness", "h02"),
    ]


def test_savee_same_clip_in_both_layouts_is_an_error(tmp_path):
    make_tree(tmp_path, ["DC/sa01.wav", "DC_sa01.wav"])
    with pytest.raises(ValueError, match="more than once"):
        load_savee(tmp_path)


@pytest.mark.parametrize(
    "bad",
    [
        "AudioData/DC/s01.wav",
        "AudioData/DC/x01.wav",
        "AudioData/misc/a01.wav",
        "AudioData/AB_a01.wav",
        "AudioData/JE/DC_a01.wav",
    ],
)
def test_savee_misnamed_file(tmp_path, bad):
    make_tree(tmp_path, ["AudioData/DC/a01.wav", bad])
    with pytest.raises(ValueError, match=Path(bad).name):
        load_savee(tmp_path)


# --------------------------------------------------------------------------- TESS


def test_tess_quirks(tmp_path):
    make_tree(
        tmp_path,
        [
            "OAF_Pleasant_surprise/OAF_back_ps.wav",
            "YAF_pleasant_surprised/YAF_dog_ps.WAV",
            "OAF_Fear/OAF_beg_fear.wav",
            "YAF_neutral/YAF_bite_neutral.flac",
            "OAF_neutral/OA_bite_neutral.wav",
            "YAF_happy/YAF_germ_Happy.wav",
            "YAF_kite_sad.wav",  # flat copy: speaker and emotion from the name
        ],
    )
    corpus = load_tess(tmp_path)
    assert rows(corpus, ["speaker", "emotion", "statement", "age"]) == [
        ("OAF", "fear", "beg", 64),
        ("OAF", "surprise", "back", 64),
        ("OAF", "neutral", "bite", 64),
        ("YAF", "happiness", "germ", 26),
        ("YAF", "sadness", "kite", 26),
        ("YAF", "neutral", "bite", 26),
        ("YAF", "surprise", "dog", 26),
    ]  # sorted by relative path
    assert corpus.frame.loc[0, "text"] == "Say the word beg"
    assert set(corpus.frame.gender) == {"female"} and set(corpus.frame.language) == {"English"}


@pytest.mark.parametrize(
    "bad, why",
    [
        ("OAF_angry/OAF_back_sad.wav", "folder"),
        ("OAF_angry/YAF_back_angry.wav", "speaker YAF"),
        ("OAF_back.wav", "expected"),
        ("MAF_back_angry.wav", "OAF or YAF"),
        ("YAF_back_bored.wav", "emotion 'bored'"),
    ],
)
def test_tess_misnamed_file(tmp_path, bad, why):
    make_tree(tmp_path, ["OAF_angry/OAF_bar_angry.wav", bad])
    with pytest.raises(ValueError, match=why) as err:
        load_tess(tmp_path)
    assert Path(bad).name in str(err.value)


# --------------------------------------------------------------------------- CREMA-D


CREMAD_FILES = [
    "1001_DFA_ANG_XX.wav",
    "1002_IEO_HAP_HI.wav",
    "1091_WSI_SAD_LO.wav",
    "1003_TIE_NEU_XX.wav",
    "1002_ITS_FEA_MD.wav",
    "1001_MTI_DIS_XX.wav",
]


def test_cremad_without_demographics(tmp_path):
    root = make_tree(tmp_path / "CREMA-D", [f"AudioWAV/{n}" for n in CREMAD_FILES])
    corpus = load_cremad(root)
    assert rows(corpus, ["speaker", "emotion", "intensity", "statement"]) == [
        ("1001", "anger", "unspecified", "DFA"),
        ("1001", "disgust", "unspecified", "MTI"),
        ("1002", "happiness", "high", "IEO"),
        ("1002", "fear", "medium", "ITS"),
        ("1003", "neutral", "unspecified", "TIE"),
        ("1091", "sadness", "low", "WSI"),
    ]
    assert corpus.frame.gender.isna().all()
    assert corpus.frame.loc[0, "text"] == "Don't forget a jacket"


def test_cremad_with_demographics(tmp_path):
    root = make_tree(tmp_path / "CREMA-D", [f"AudioWAV/{n}" for n in CREMAD_FILES])
    (root / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
        "1002,21,Female,Caucasian,Not Hispanic\n1003,21,Female,Caucasian,Not Hispanic\n"
        "1091,29,Female,Asian,Not Hispanic\n"
    )
    for path in (root, root / "AudioWAV"):  # either folder finds the csv
        corpus = load_cremad(path)
        genders = dict(zip(corpus.frame.speaker, corpus.frame.gender, strict=True))
        assert genders == {"1001": "male", "1002": "female", "1003": "female", "1091": "female"}
        assert dict(zip(corpus.frame.speaker, corpus.frame.age, strict=True))["1001"] == 51


@pytest.mark.parametrize(
    "bad",
    [
        "1001_DFA_XYZ_XX.wav",
        "1092_DFA_ANG_XX.wav",
        "1001_ABC_ANG_XX.wav",
        "1001_DFA_ANG_ZZ.wav",
        "1001_DFA_ANG.wav",
    ],
)
def test_cremad_misnamed_file(tmp_path, bad):
    make_tree(tmp_path, ["AudioWAV/1001_DFA_ANG_XX.wav", f"AudioWAV/{bad}"])
    with pytest.raises(ValueError, match=bad):
        load_cremad(tmp_path)


# --------------------------------------------------------------------------- shared behaviour


LOADERS = {
    load_ravdess: "zenodo.org/records/1188976",
    load_emodb: "emodb.bilderbar.info",
    load_emovo: "voice.fub.it",
    load_savee: "kahlan.eps.surrey.ac.uk/savee",
    load_tess: "10.5683/SP2/E8H2MF",
    load_cremad: "github.com/CheyneyComputerScience/CREMA-D",
}


@pytest.mark.parametrize("loader", list(LOADERS), ids=lambda f: f.__name__)
def test_missing_folder_says_where_to_download(tmp_path, loader):
    with pytest.raises(FileNotFoundError) as err:
        loader(tmp_path / "absent")
    assert LOADERS[loader] in str(err.value) and "absent" in str(err.value)
    assert f"{loader.__name__}()" in str(err.value)


@pytest.mark.parametrize("loader", list(LOADERS), ids=lambda f: f.__name__)
def test_folder_without_audio(tmp_path, loader):
    (tmp_path / "readme.txt").write_text("no audio here")
    with pytest.raises(ValueError, match="No audio files"):
        loader(tmp_path)


def test_junk_files_ignored_and_order_deterministic(tmp_path):
    names = ["m1/tri-m1-n5.wav", "f2/neu-f2-d2.flac", "f1/dis-f1-b1.WAV", "f1/rab-f1-l4.Flac"]
    make_tree(tmp_path, names)
    (tmp_path / "f1" / "._dis-f1-b1.wav").write_bytes(b"\x00\x05\x16\x07")  # macOS resource fork
    make_tree(tmp_path, ["__MACOSX/f1/dis-f1-b1.wav", ".cache/junk.wav"])
    (tmp_path / "f1" / "dis-f1-b1.mp4").write_bytes(b"")
    corpus = load_emovo(tmp_path)
    assert [str(Path(p).relative_to(tmp_path)) for p in corpus.X] == [
        "f1/dis-f1-b1.WAV",
        "f1/rab-f1-l4.Flac",
        "f2/neu-f2-d2.flac",
        "m1/tri-m1-n5.wav",
    ]
    assert [str(p) for p in list_audio_files(tmp_path)] == [
        "f1/dis-f1-b1.WAV",
        "f1/rab-f1-l4.Flac",
        "f2/neu-f2-d2.flac",
        "m1/tri-m1-n5.wav",
    ]
    assert list(corpus.y) == ["disgust", "anger", "neutral", "sadness"]


def test_same_clip_as_wav_and_flac_is_an_error(tmp_path):
    make_tree(tmp_path, ["f1/dis-f1-b1.wav", "f1/dis-f1-b1.flac"])
    with pytest.raises(ValueError, match="more than once"):
        load_emovo(tmp_path)


def test_emovo_misnamed_and_wrong_folder(tmp_path):
    make_tree(tmp_path, ["f1/dis-f1-b1.wav", "f1/dis-f2-b1.wav"])
    with pytest.raises(ValueError, match=r"dis-f2-b1\.wav.*folder"):
        load_emovo(tmp_path)


def test_combine_synthetic_trees(tmp_path, emodb_dir):
    make_tree(tmp_path / "savee", ["DC_sa01.wav", "DC_su01.wav", "JE_f01.wav"])
    emodb, savee = load_emodb(emodb_dir), load_savee(tmp_path / "savee")
    both = combine([emodb, savee], label_map="fser8")
    assert len(both.y) == len(emodb.y) + len(savee.y)
    assert len(set(both.groups)) == len(set(emodb.groups)) + len(set(savee.groups))
    assert Counter(both.y)["anxiety"] == 2 and Counter(both.y)["calm"] == 1
    assert set(both.y) <= set(FSER8)
    X, y, groups = load_savee(tmp_path / "savee", return_X_y=True)
    assert isinstance(X, np.ndarray) and X.dtype == object and len(set(groups)) == 2
