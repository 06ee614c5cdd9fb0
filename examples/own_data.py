"""Your own recordings: load a folder tree or a CSV, evaluate, compare, train, predict.

Most users have a folder of their own recordings and a spreadsheet of labels,
not RAVDESS. This script writes such data from the synthetic corpus into a
temporary folder (``Angry/spk00_003.wav``, ``happy/...``, and ``labels.csv``
listing the same clips), then runs what you would run on yours:

1. load it (``skser.load_folders`` and ``skser.load_csv``: the same clips);
2. evaluate two recipes speaker-independently on the same folds, with the
   speaker-level 95 % interval of UAR, the per-speaker table, and
   ``skser.compare`` for the difference between the two;
3. train and save a model with the ``skser`` command;
4. predict a folder of new recordings in which two files are broken, with the
   command (rows for every file, exit status 1) and with ``skser.predict_files``.

Run ``python examples/own_data.py --small`` (offline, about a minute).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from sklearn.model_selection import LeaveOneGroupOut  # noqa: E402

import skser  # noqa: E402
from skser.cli import main as skser_command  # noqa: E402

# Folder names as people write them: the loaders map them to canonical emotions.
FOLDERS = {"anger": "Angry", "happiness": "happy", "sadness": "Sad", "neutral": "neutral"}
SR = 16000


def write_own_data(root: Path, corpus) -> tuple[Path, Path]:
    """The corpus as one folder per emotion, and as a CSV (relative paths, extra column)."""
    tree = root / "recordings"
    lines = ["file,label,speaker,take"]
    for i, (wave, label, speaker) in enumerate(zip(corpus.X, corpus.y, corpus.groups, strict=True)):
        relative = Path(FOLDERS[label]) / f"{speaker}_{i:03d}.wav"
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        sf.write(tree / relative, wave, SR)
        lines.append(f"{relative.as_posix()},{FOLDERS[label]},{speaker},{i}")
    table = tree / "labels.csv"
    table.write_text("\n".join(lines) + "\n")
    return tree, table


def write_new_recordings(root: Path, n: int) -> Path:
    """Recordings to predict: ``n`` good clips, a corrupt file and a 20 ms one."""
    new = root / "new"
    new.mkdir()
    fresh = skser.make_synthetic_corpus(n_speakers=1, n_per_class=1, emotions=list(FOLDERS),
                                        duration=1.0, random_state=99)  # fmt: skip
    for i, wave in enumerate(fresh.X[:n]):
        sf.write(new / f"call_{i}.wav", wave, SR)
    (new / "call_corrupt.wav").write_bytes(b"RIFF....not really a wav file")
    sf.write(new / "call_click.wav", np.zeros(SR // 50, dtype=np.float32), SR)
    return new


def run_command(*argv: str) -> int:
    print("$ skser " + " ".join(argv))
    status = skser_command(list(argv))
    print(f"(skser {argv[0]} exit status {status})")
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="4 speakers, 2 clips per emotion")
    args = parser.parse_args(argv)
    n_speakers, n_per_class = (4, 2) if args.small else (8, 6)
    source = skser.make_synthetic_corpus(n_speakers=n_speakers, n_per_class=n_per_class,
                                         emotions=list(FOLDERS), duration=1.0, random_state=0)  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tree, table = write_own_data(tmp, source)

        # 1. Load: a folder per emotion (speaker = the file name up to "_"), or the CSV.
        speaker = r"^(spk\d+)_"
        corpus = skser.load_folders(tree, speaker=speaker)
        listed = skser.load_csv(table, path_column="file", label_column="label")
        print(f"loaded folders: {len(corpus.y)} clips, {len(set(corpus.groups))} speakers, "
              f"emotions {sorted(set(corpus.y))}")  # fmt: skip
        print(f"loaded CSV: {len(listed.y)} clips, the same labels: "
              f"{sorted(zip(listed.X, listed.y)) == sorted(zip(corpus.X, corpus.y))}; "
              f"extra column kept: {'take' in listed.frame}")  # fmt: skip

        # 2. Evaluate two recipes on the same folds, with intervals and a paired comparison.
        cv = LeaveOneGroupOut()
        reports = {}
        for recipe in ("svm-mfcc", "svm-gtcc"):
            pipe = skser.make_ser_pipeline(recipe)
            reports[recipe] = skser.evaluate(pipe, corpus.X, corpus.y, groups=corpus.groups, cv=cv)
            ci = reports[recipe].uar_ci()
            print(f"{recipe}: pooled UAR {ci.estimate:.3f} [95 % CI {ci.low:.3f}-{ci.high:.3f}] "
                  f"over {len(set(corpus.groups))} speakers")  # fmt: skip
        print(reports["svm-mfcc"])
        print("per speaker (svm-mfcc):")
        print(reports["svm-mfcc"].per_speaker()[["n_clips", "accuracy", "uar"]].round(3))
        result = skser.compare(reports["svm-mfcc"], reports["svm-gtcc"])
        print(f"compare svm-mfcc - svm-gtcc: {result}")
        if result.n_speakers < 10:
            print(f"(with {result.n_speakers} speakers the interval is rough; more speakers, "
                  "not more clips, narrow it)")  # fmt: skip

        # 3. Train with the command line, on the folder tree.
        model = tmp / "model.joblib"
        run_command("train", "--corpus", f"folders:{tree}:speaker={speaker}", "--recipe",
                    "svm-mfcc", "--out", str(model), "--no-progress")  # fmt: skip

        # 4. Predict new recordings: two are broken, every file still gets a row.
        new = write_new_recordings(tmp, n=3)
        out = tmp / "predictions.csv"
        run_command("predict", str(model), str(new), "--output", str(out), "--no-progress")
        print(out.read_text().rstrip())
        loaded = skser.load_model(model)
        rows = list(skser.predict_files(loaded, sorted(new.iterdir()), on_error="skip"))
        failed = [Path(r["file"]).name for r in rows if r["error"]]
        print(f"predict_files: {len(rows) - len(failed)} predicted, {len(failed)} failed "
              f"({', '.join(failed)})")  # fmt: skip


if __name__ == "__main__":
    main()
