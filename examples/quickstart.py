"""Quick start: evaluate a recipe speaker-independently, train it, save, load and predict.

Run ``python examples/quickstart.py --small`` (offline, seconds). Without
``--small`` the synthetic corpus is the library's default size (640 clips).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import skser
from skser.datasets import make_synthetic_corpus
from skser.recipes import make_ser_pipeline


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny corpus, runs in seconds")
    parser.add_argument("--recipe", default="svm-mfcc", help="recipe name (see `skser recipes`)")
    parser.add_argument("--out", help="where to save the model (default: a temporary folder)")
    args = parser.parse_args(argv)

    if args.small:
        corpus = make_synthetic_corpus(n_speakers=4, n_per_class=3, duration=1.0, random_state=0)
    else:
        corpus = make_synthetic_corpus(random_state=0)
    print(corpus)

    # 1. How well does the recipe do on speakers it has never heard?
    pipe = make_ser_pipeline(args.recipe)
    report = skser.evaluate(pipe, corpus.X, corpus.y, groups=corpus.groups)
    print(report)

    # 2. Train on everything and save (atomic write, versions recorded).
    pipe.fit(corpus.X, corpus.y)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / f"{args.recipe}.joblib"
    skser.save_model(pipe, out, metadata={"recipe": args.recipe, "corpus": corpus.name})
    print(f"saved to {out}")

    # 3. Load (only ever load model files you trust: they are pickles) and predict.
    model, info = skser.load_model(out, return_metadata=True)
    print("classes:", info["classes"])
    new = make_synthetic_corpus(n_speakers=1, n_per_class=1, duration=1.0, random_state=99)
    for label, predicted in zip(new.y, model.predict(new.X), strict=True):
        print(f"  true {label:<10} predicted {predicted}")


if __name__ == "__main__":
    main()
