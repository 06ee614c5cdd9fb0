"""The ``skser`` command line: ``skser demo``, ``skser info``.

Each sub-command is a small function taking parsed arguments; errors a user
can fix end with a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time


def _cmd_demo(args: argparse.Namespace) -> int:
    """Speaker-independent evaluation of a baseline on the built-in synthetic corpus."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from skser.datasets import make_synthetic_corpus
    from skser.features import MFCCTransformer
    from skser.model_selection import evaluate

    started = time.perf_counter()
    corpus = make_synthetic_corpus(
        n_speakers=args.speakers, n_per_class=args.per_class, random_state=args.seed
    )
    print(
        f"Synthetic corpus: {len(corpus.y)} clips, {len(set(corpus.groups))} speakers, "
        f"emotions {sorted(set(corpus.y))}"
    )
    print("Pipeline: MFCC mean/std statistics -> StandardScaler -> SVC (RBF)")
    pipe = make_pipeline(
        MFCCTransformer(output="stats", sr=corpus.sr),
        StandardScaler(),
        SVC(class_weight="balanced"),
    )
    report = evaluate(pipe, corpus.X, corpus.y, groups=corpus.groups, n_jobs=args.n_jobs)
    print(report)
    print(f"Done in {time.perf_counter() - started:.1f} s.")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    """Print versions and whether TensorFlow sees a GPU."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import skser

    print(f"skser {skser.__version__} on Python {platform.python_version()} ({platform.platform()})")
    for package in ("numpy", "scikit-learn", "librosa", "tensorflow", "keras", "scikeras", "optuna"):
        try:
            print(f"  {package:<13} {version(package)}")
        except PackageNotFoundError:
            print(f"  {package:<13} not installed")
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    print(f"  GPU visible to TensorFlow: {', '.join(g.name for g in gpus) if gpus else 'none'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skser`` command."""
    parser = argparse.ArgumentParser(
        prog="skser", description="Speech emotion recognition with scikit-learn pipelines."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="evaluate a baseline speaker-independently on the built-in synthetic corpus",
        description=_cmd_demo.__doc__,
    )
    demo.add_argument("--speakers", type=int, default=8, help="number of speakers (default 8)")
    demo.add_argument("--per-class", type=int, default=10, help="clips per speaker and emotion")
    demo.add_argument("--seed", type=int, default=0, help="random seed of the corpus")
    demo.add_argument("--n-jobs", type=int, default=None, help="parallel folds (joblib)")
    demo.set_defaults(func=_cmd_demo)

    info = commands.add_parser("info", help="versions and GPU visibility", description=_cmd_info.__doc__)
    info.set_defaults(func=_cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skser`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"skser {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
