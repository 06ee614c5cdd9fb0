"""Optuna search with OptunaSearchCV, then two worker processes sharing one SQLite study.

Part 1 tunes a pipeline in this process. Part 2 starts this script twice more
as workers (``--worker 0`` and ``--worker 1``) that join the same study in an
SQLite file, each with its own seed; on a cluster you would start the same
command on several machines with a shared database.

Run ``python examples/optuna_search.py --small`` (offline, seconds).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import Counter

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from skser.datasets import make_synthetic_corpus
from skser.recipes import make_ser_pipeline
from skser.tuning import OptunaSearchCV

STUDY = "svm-mfcc-synthetic"
SPACE = {
    "features__mfcc__n_mfcc": IntDistribution(10, 30),
    "features__mfcc__deltas": CategoricalDistribution([False, True]),
    "svc__C": FloatDistribution(1e-2, 1e2, log=True),
}


def corpus_for(small):
    if small:
        return make_synthetic_corpus(n_speakers=4, n_per_class=1, duration=1.0, random_state=0)
    return make_synthetic_corpus(random_state=0)


def search(small, **kwargs):
    return OptunaSearchCV(make_ser_pipeline("svm-mfcc"), SPACE, cv=3 if small else None, **kwargs)


def worker(args):
    """One worker: join the shared study and run its own trials."""
    corpus = corpus_for(args.small)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    found = search(
        args.small, n_trials=args.trials, storage=args.storage, study_name=STUDY,
        random_state=args.worker, refit=False,
    ).fit(corpus.X, corpus.y, groups=corpus.groups)  # fmt: skip
    print(f"worker {args.worker}: study has {found.n_trials_} trials, best {found.best_score_:.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny corpus, few trials")
    parser.add_argument("--trials", type=int, default=None, help="trials per worker")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--storage", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.trials = args.trials or (2 if args.small else 20)
    if args.worker is not None:
        return worker(args)

    # Part 1: one process, a fresh in-memory study per fit.
    corpus = corpus_for(args.small)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    single = search(args.small, n_trials=args.trials, random_state=0)
    single.fit(corpus.X, corpus.y, groups=corpus.groups)
    print(f"single process: best inner UAR {single.best_score_:.3f} with {single.best_params_}")

    # Part 2: two workers share one study through an SQLite file.
    folder = tempfile.mkdtemp(prefix="skser-optuna-")
    storage = f"sqlite:///{os.path.join(folder, 'tuning.db')}"
    command = [sys.executable, os.path.abspath(__file__), "--trials", str(args.trials),
               "--storage", storage] + (["--small"] if args.small else [])  # fmt: skip
    workers = [subprocess.Popen([*command, "--worker", str(i)]) for i in range(2)]
    if any(p.wait() != 0 for p in workers):
        sys.exit("a worker failed")
    study = optuna.load_study(study_name=STUDY, storage=storage)
    per_worker = Counter(t.user_attrs.get("worker", "?") for t in study.trials)
    print(f"shared study: {len(study.trials)} trials ({dict(per_worker)} per worker)")
    print(f"best: UAR {study.best_value:.3f} with {study.best_params}")


if __name__ == "__main__":
    main()
