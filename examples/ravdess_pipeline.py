"""RAVDESS: a GTCC baseline with per-speaker normalisation, evaluated speaker-independently.

Usage::

    python examples/ravdess_pipeline.py --data path/to/RAVDESS [--label-map 4class]
    python examples/ravdess_pipeline.py --data path/to/RAVDESS --small   # 4 actors
    python examples/ravdess_pipeline.py --small                          # synthetic stand-in

RAVDESS cannot be redistributed: download ``Audio_Speech_Actors_01-24.zip``
from https://zenodo.org/records/1188976 and unpack it.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

import skser
from skser.datasets import make_synthetic_corpus
from skser.features import GTCCTransformer, SpeakerStandardScaler


def load(args):
    if args.data:
        corpus = skser.load_ravdess(args.data, label_map=args.label_map)
        if args.small:  # the first four actors only, for a quick look
            actors = sorted(set(corpus.groups))[:4]
            keep = np.isin(corpus.groups, actors)
            corpus.X, corpus.y, corpus.groups = corpus.X[keep], corpus.y[keep], corpus.groups[keep]
        return corpus
    if not args.small:
        sys.exit("Pass --data path/to/RAVDESS, or --small to use the synthetic corpus.")
    print("No --data: using the synthetic corpus (RAVDESS's eight emotions).")
    return make_synthetic_corpus(n_speakers=4, n_per_class=3, duration=1.0, random_state=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the RAVDESS folder (holding Actor_01 ...)")
    parser.add_argument("--small", action="store_true", help="4 actors (or synthetic data)")
    parser.add_argument("--label-map", choices=["fser8", "4class"], default=None)
    parser.add_argument("--n-jobs", type=int, default=None, help="clips in parallel")
    parser.add_argument("--markdown", help="write the report as Markdown to this file")
    args = parser.parse_args(argv)

    corpus = load(args)
    print(f"{len(corpus.y)} clips, {len(set(corpus.groups))} speakers, {sorted(set(corpus.y))}")
    pipe = Pipeline([
        # 13 GTCCs + deltas, mean and std per clip: 78 features. Paths are read in the workers.
        ("features", GTCCTransformer(deltas=True, output="stats", n_jobs=args.n_jobs)),
        # Each speaker standardised with its own statistics (evaluate routes the speaker ids).
        ("scaler", SpeakerStandardScaler()),
        ("svc", SVC(C=3.0, class_weight="balanced")),
    ])  # fmt: skip
    # Leave-one-speaker-out up to 12 speakers, StratifiedGroupKFold(5) above (24 actors).
    report = skser.evaluate(pipe, corpus.X, corpus.y, groups=corpus.groups, verbose=not args.small)
    print(report)
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(report.to_markdown(title="GTCC + speaker normalisation + SVM on RAVDESS"))


if __name__ == "__main__":
    main()
