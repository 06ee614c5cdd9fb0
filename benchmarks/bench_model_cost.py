"""Cost of each deep recipe on this machine: time per epoch, per fold, and latency.

For every Keras recipe: features for ``--clips`` RAVDESS training clips
(cached), then ``--epochs`` epochs without early stopping; the time of the
epochs after the first (which includes graph tracing) gives seconds per epoch,
scaled linearly to a RAVDESS fold (1152 training clips = 4/5 of 1440) and to
the recipe's epoch budget. Latency: one 3-s clip from file to probabilities
with the fitted pipeline (median of 5 calls after a warm-up).

Each rerun recipe keeps its row of the result file being replaced as
``before`` (with that run's commit), so the table shows s/epoch and latency
before and after a change of the training or inference code.

Usage::

    python benchmarks/bench_model_cost.py --clips 256 --epochs 3

Writes ``benchmarks/results/model_cost.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from _common import (DATA, RESULTS, YAMNET, enable_feature_cache, markdown_table, require,
                     write_results)
from keras.callbacks import Callback

import skser
from skser.recipes import list_recipes

FOLD_CLIPS = 1152  # training part of one RAVDESS 5-fold split


class _EpochTimer(Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def _previous_rows() -> dict:
    """The rows of the result file this run replaces, each with that run's commit."""
    path = RESULTS / "model_cost.json"
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    commit = old.get("provenance", {}).get("commit")
    return {name: {"epoch_s_measured": row["epoch_s_measured"],
                   "latency_3s_clip_ms": row["latency_3s_clip_ms"], "commit": commit}
            for name, row in old.get("recipes", {}).items()}  # fmt: skip


def _before(row: dict, key: str, fmt: str) -> str:
    before = row.get("before")
    return "-" if before is None else f"{before[key]:{fmt}} ({before['commit']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--recipes", nargs="+", default=None)
    args = parser.parse_args()
    corpus = skser.load_ravdess(require(DATA / "ravdess", "RAVDESS"))
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(corpus.y), size=args.clips, replace=False))
    X, y = corpus.X[pick], corpus.y[pick]
    clip = next(p for p in corpus.X if 2.9 < skser.load_audio(p)[0].size / 16000 < 3.6)
    table = list_recipes().set_index("name")
    deep = [n for n in table.index if table.loc[n, "family"] not in ("baseline", "fusion")]
    previous, rows = _previous_rows(), {}
    for name in args.recipes or deep:
        pipe = enable_feature_cache(skser.make_ser_pipeline(name, yamnet_weights=str(YAMNET)))
        budget = pipe.get_params()["model__epochs"]
        timer = _EpochTimer()
        pipe.set_params(model__epochs=args.epochs, model__early_stopping=False,
                        model__callbacks=[timer])  # fmt: skip
        print(f"{name} ...", flush=True)
        started = time.perf_counter()
        pipe.fit(X, y)
        fit_wall = time.perf_counter() - started
        per_epoch = statistics.mean(timer.times[1:] or timer.times)
        per_epoch_fold = per_epoch * FOLD_CLIPS / args.clips
        pipe.predict_proba([clip])  # warm-up
        latency = []
        for _ in range(5):
            t0 = time.perf_counter()
            pipe.predict_proba([clip])
            latency.append(time.perf_counter() - t0)
        rows[name] = {
            "epoch_s_measured": per_epoch,
            "first_epoch_s": timer.times[0],
            "epoch_s_per_ravdess_fold": per_epoch_fold,
            "epoch_budget": budget,
            "fold_minutes_at_budget": per_epoch_fold * budget / 60,
            "latency_3s_clip_ms": 1000 * statistics.median(latency),
            "fit_wall_s": fit_wall,
            "parameters": int(pipe[-1].model_.count_params()),
            "before": previous.get(name),
        }
        print(f"    {per_epoch:.2f} s/epoch on {args.clips} clips; "
              f"{1000 * statistics.median(latency):.0f} ms per 3-s clip", flush=True)  # fmt: skip
    md = [
        "# Cost of the deep recipes on this machine",
        "",
        f"Measured on {args.clips} RAVDESS clips, {args.epochs} epochs without early stopping; "
        f"seconds per epoch scaled linearly to one RAVDESS fold ({FOLD_CLIPS} training clips). "
        "'fold at budget' multiplies by the recipe's default maximum epochs (early stopping "
        "usually ends sooner). Latency: one ~3-s clip from file to probabilities. 'before': "
        "the same measurement in the previous run of this benchmark (its commit in brackets).",
        "",
        markdown_table(
            ["recipe", "s/epoch (measured)", "s/epoch before", "s/epoch per fold", "max epochs",
             "fold at budget (min)", "latency (ms)", "latency before (ms)", "parameters"],
            [[n, f"{r['epoch_s_measured']:.2f}", _before(r, "epoch_s_measured", ".2f"),
              f"{r['epoch_s_per_ravdess_fold']:.1f}", r["epoch_budget"],
              f"{r['fold_minutes_at_budget']:.1f}", f"{r['latency_3s_clip_ms']:.0f}",
              _before(r, "latency_3s_clip_ms", ".0f"), r["parameters"]]
             for n, r in rows.items()],
        ),  # fmt: skip
    ]
    write_results(
        "model_cost",
        {"clips": args.clips, "epochs": args.epochs, "fold_clips": FOLD_CLIPS, "recipes": rows},
        "\n".join(md),
    )


if __name__ == "__main__":
    main()
