"""Baseline vs deep: several recipes on the same corpus and the same speaker-independent folds.

A deep model is only worth its cost if it beats a classical baseline on
speakers it has never heard. This script evaluates each recipe with the same
splits and prints one comparison table (UAR first, then fit time).

Run ``python examples/baseline_vs_deep.py --small`` (offline; the deep models
train a couple of epochs, so their numbers there mean nothing).
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sklearn.model_selection import (  # noqa: E402
    GroupShuffleSplit,
    LeaveOneGroupOut,
    StratifiedGroupKFold,
)

import skser  # noqa: E402
from skser.datasets import make_synthetic_corpus  # noqa: E402
from skser.recipes import make_ser_pipeline  # noqa: E402

DEFAULT_RECIPES = ("svm-mfcc", "svm-gtcc", "mfcc-lstm", "crnn-small")
SMALL_RECIPES = ("svm-mfcc", "mfcc-lstm")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny corpus, 2 epochs")
    parser.add_argument("--data", help="a RAVDESS folder (default: synthetic corpus)")
    parser.add_argument("--recipes", default=None, help="comma-separated (default: "
                        f"{','.join(DEFAULT_RECIPES)}; with --small {','.join(SMALL_RECIPES)})")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the deep recipes")
    args = parser.parse_args(argv)

    if args.data:
        corpus = skser.load_ravdess(args.data)
    elif args.small:
        corpus = make_synthetic_corpus(
            n_speakers=3, n_per_class=2, emotions=["anger", "calm", "happiness", "sadness"],
            duration=1.0, random_state=0,
        )  # fmt: skip
    else:
        corpus = make_synthetic_corpus(random_state=0)
    n_speakers = len(set(corpus.groups))
    # The same folds for every recipe: a fixed, speaker-grouped splitter (--small: one
    # split holding out one speaker, so that the deep model trains only once).
    if args.small:
        cv = GroupShuffleSplit(n_splits=1, test_size=1, random_state=0)
    elif n_speakers <= 12:
        cv = LeaveOneGroupOut()
    else:
        cv = StratifiedGroupKFold(5, shuffle=True, random_state=0)
    epochs = args.epochs or (2 if args.small else 50)
    recipes = args.recipes.split(",") if args.recipes else (SMALL_RECIPES if args.small else DEFAULT_RECIPES)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices

    rows = []
    for name in [r.strip() for r in recipes if r.strip()]:
        pipe = make_ser_pipeline(name)
        if "model__epochs" in pipe.get_params():
            pipe.set_params(model__epochs=epochs)
        report = skser.evaluate(pipe, corpus.X, corpus.y, groups=corpus.groups, cv=cv)
        rows.append((name, report))
        print(f"{name}: UAR {report.uar:.3f} ± {report.uar_std:.3f}")

    print(f"\n{corpus.name}: {len(corpus.y)} clips, {n_speakers} speakers, {type(cv).__name__}")
    print(f"| recipe | UAR | pooled UAR | accuracy | fit s/fold | {'chance':>6} |")
    print("|---|---|---|---|---|---|")
    chance = 1 / len(set(corpus.y))
    for name, r in sorted(rows, key=lambda row: -row[1].uar):
        print(f"| {name} | {r.uar:.3f} ± {r.uar_std:.3f} | {r.uar_pooled:.3f} | "
              f"{r.accuracy:.3f} | {r.fit_time:.1f} | {chance:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
