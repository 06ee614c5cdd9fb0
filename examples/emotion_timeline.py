"""Emotion timeline of a long recording: sliding windows, one prediction each.

``skser.predict_timeline`` reads the file window by window (bounded memory,
even for an hour of audio) and returns start, end, label and class
probabilities per window. With ``--small`` (or no ``--audio``) the script
trains a baseline on the synthetic corpus and synthesizes a long recording by
concatenating clips of an unseen speaker in blocks of known emotions, so the
timeline can be checked against the truth.

Usage::

    python examples/emotion_timeline.py --small
    python examples/emotion_timeline.py --model model.joblib --audio meeting.wav --window 3 --hop 1
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

import skser
from skser.baselines import make_baseline
from skser.datasets import make_synthetic_corpus

EMOTIONS = ["anger", "calm", "happiness", "sadness"]


def synthetic_recording(folder: Path, clips_per_block: int, duration: float):
    """A WAV file of blocks of one emotion each, and the emotion at every second."""
    corpus = make_synthetic_corpus(
        n_speakers=1, n_per_class=clips_per_block, emotions=EMOTIONS, duration=duration,
        random_state=123,  # a speaker the model has never heard
    )  # fmt: skip
    order = np.argsort([EMOTIONS.index(label) for label in corpus.y], kind="stable")
    wave = np.concatenate([corpus.X[i] for i in order])
    path = folder / "long_recording.wav"
    sf.write(path, wave, corpus.sr)
    truth = np.repeat(corpus.y[order], int(duration))  # label of each second
    return path, truth


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="small synthetic run (seconds)")
    parser.add_argument("--model", help="a model saved by skser.save_model / `skser train`")
    parser.add_argument("--audio", help="the recording (default: a synthetic one)")
    parser.add_argument("--window", type=float, default=2.0, help="window length, seconds")
    parser.add_argument("--hop", type=float, default=1.0, help="seconds between windows")
    parser.add_argument("--csv", help="write the timeline to this CSV file")
    parser.add_argument("--plot", help="save a plot of the probabilities over time (PNG)")
    args = parser.parse_args(argv)

    truth = None
    if args.model:
        model = skser.load_model(args.model)  # only load model files you trust
    else:
        n = 3 if args.small else 10
        train = make_synthetic_corpus(
            n_speakers=4 if args.small else 8, n_per_class=n, emotions=EMOTIONS,
            duration=2.0, random_state=0,
        )  # fmt: skip
        # The calibrated SVM has predict_proba: the timeline gets one probability per class.
        model = make_baseline("mfcc", "svm", probability=True).fit(train.X, train.y)
    if args.audio:
        path = Path(args.audio)
    else:
        path, truth = synthetic_recording(Path(tempfile.mkdtemp()), 3 if args.small else 15, 2.0)
    info = sf.info(str(path))
    print(f"{path}: {info.frames / info.samplerate:.1f} s at {info.samplerate} Hz")

    timeline = skser.predict_timeline(model, path, window=args.window, hop=args.hop)
    print(timeline.round(2).to_string(index=False))
    if truth is not None:
        centre = ((timeline["start"] + timeline["end"]) / 2).astype(int).clip(0, len(truth) - 1)
        agree = np.mean(timeline["label"].to_numpy() == truth[centre])
        print(f"windows whose label matches the emotion at their centre: {agree:.0%}")
    if args.csv:
        timeline.to_csv(args.csv, index=False)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        classes = [c for c in timeline.columns if c not in ("start", "end", "label")]
        fig, ax = plt.subplots(figsize=(10, 3))
        centres = (timeline["start"] + timeline["end"]) / 2
        ax.stackplot(centres, *(timeline[c] for c in classes), labels=classes)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("probability")
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
