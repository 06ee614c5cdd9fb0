"""``recommended-deep`` on RAVDESS-8: inner-validation design choices, then GroupKFold(5).

Two modes, both writing ``benchmarks/results/deep.{json,md}`` after every fold
(the file keeps every row measured so far):

``--inner``
    Design choices on TRAINING speakers only: the training actors of outer
    fold 0 of ``GroupKFold(5)`` are split again (``GroupKFold(4)``: ~15
    actors train, ~4-5 validate; ``--folds`` picks the inner splits, default
    the first); each ``--variant`` is trained on the inner-train actors and
    scored on the inner-validation actors. The outer test actors are never
    touched.
``--outer`` (default)
    The chosen variant on all five outer folds (test actors never seen in
    training), per-fold UAR, s/fold and s/epoch.

Variants are recipe overrides, ``name=key=value,key=value`` (values are Python
literals), e.g. ``--variant base= --variant nomix=model__mixup_alpha=0.0``.

Run (about 3 minutes per fold and variant on 2 CPU cores)::

    python benchmarks/bench_deep.py --inner --variant base= --variant trainnorm=model__utterance_normalization=False
    python benchmarks/bench_deep.py --outer --variant base=
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import time

import numpy as np
from _common import DATA, RESULTS, enable_feature_cache, markdown_table, require, write_results

NAME = "deep"
RECIPE = "recommended-deep"
OUTER_FOLDS = 5


def parse_variant(text: str) -> tuple[str, dict]:
    name, _, spec = text.partition("=")
    overrides = {}
    # split at the commas that start a new key=, not inside values such as (12,24)
    for item in filter(None, re.split(r",(?=\w+=)", spec)):
        key, _, value = item.partition("=")
        overrides[key] = ast.literal_eval(value)
    return name, overrides


def load_rows() -> list[dict]:
    path = RESULTS / f"{NAME}.json"
    return json.loads(path.read_text())["rows"] if path.exists() else []


def render(rows: list[dict]) -> str:
    table = [[r["mode"], r["variant"], r["overrides"] or "-", r["fold"], r["n_train"],
              r["n_test"], f"{r['uar']:.3f}", f"{r['fit_s']:.0f}", f"{r['s_per_epoch']:.2f}"]
             for r in rows]
    text = [f"# {RECIPE} on RAVDESS-8\n",
            "Speaker-independent. `inner`: design choice on the training actors of outer "
            "fold 0 only (GroupKFold(4) splits of them; `fold` = inner split); `outer`: "
            "GroupKFold(5) by actor, test actors never seen in training. 2 CPU cores, "
            "usually shared with another benchmark process, so times are upper bounds. "
            "`fit s`: wall time of "
            "the fold (features, fit, predict); `s/epoch`: pipeline fit time / epochs "
            "(feature extraction included on the first fold, cached after).\n",
            markdown_table(["mode", "variant", "overrides", "fold", "n_train", "n_test", "UAR",
                            "fit s", "s/epoch"], table)]
    for (mode, variant), summary in summarize(rows).items():
        text.append(f"- {mode} `{variant}`: UAR {summary['uar']:.3f} ± {summary['uar_std']:.3f} "
                    f"over {summary['folds']} fold(s), {summary['fit_s']:.0f} s/fold "
                    "(fit + predict)\n")
    return "\n".join(text)


def summarize(rows: list[dict]) -> dict:
    """Per (mode, variant): mean and std of the fold UARs, folds run, mean s/fold, overrides."""
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["mode"], r["variant"]), []).append(r)
    return {key: {"uar": float(np.mean([r["uar"] for r in group])),
                  "uar_std": float(np.std([r["uar"] for r in group])),
                  "folds": len(group), "fit_s": float(np.mean([r["fit_s"] for r in group])),
                  "overrides": group[0]["overrides"]}
            for key, group in groups.items()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--inner", action="store_true", help="design choice on training actors")
    mode.add_argument("--outer", action="store_true", help="GroupKFold(5) (default)")
    parser.add_argument("--variant", action="append", default=None,
                        help="name=key=value,... recipe overrides (repeatable)")
    parser.add_argument("--folds", type=int, nargs="*", default=None,
                        help="folds to run (outer: default all five; inner: the "
                             "GroupKFold(4) splits of fold 0's training actors, default 0)")
    args = parser.parse_args()

    import skser
    from sklearn.model_selection import GroupKFold
    from skser.recipes import make_ser_pipeline

    corpus = skser.load_ravdess(require(DATA / "ravdess", "RAVDESS"))
    X, y, groups = np.asarray(corpus.X, dtype=object), np.asarray(corpus.y), np.asarray(
        corpus.groups)
    outer = list(GroupKFold(OUTER_FOLDS).split(X, y, groups))
    mode_name = "inner" if args.inner else "outer"
    if args.inner:
        train0 = outer[0][0]
        inner = GroupKFold(4).split(train0, y[train0], groups[train0])
        splits = [(i, train0[tr], train0[val]) for i, (tr, val) in enumerate(inner)
                  if i in (args.folds if args.folds is not None else [0])]
    else:
        splits = [(i, tr, te) for i, (tr, te) in enumerate(outer)
                  if args.folds is None or i in args.folds]

    rows = load_rows()
    variants = [parse_variant(v) for v in args.variant or ["base="]]  # bad specs fail first
    for vname, overrides in variants:
        for fold, train, test in splits:
            pipe = enable_feature_cache(make_ser_pipeline(RECIPE, random_state=0, **overrides),
                                        "deep")
            start = time.perf_counter()
            # one (train, test) split per call, so results are written after every fold
            idx = np.concatenate([train, test])
            cv = [(np.arange(len(train)), np.arange(len(train), len(idx)))]
            report = skser.evaluate(pipe, X[idx], y[idx], groups=groups[idx], cv=cv)
            wall = time.perf_counter() - start
            epochs = pipe.get_params()["model__epochs"]
            fold_info = report.folds[0]
            rows = [r for r in rows if not (r["mode"] == mode_name and r["variant"] == vname
                                            and r["fold"] == fold)]
            rows.append({
                "mode": mode_name, "variant": vname, "overrides": overrides, "fold": fold,
                "n_train": len(train), "n_test": len(test), "uar": report.uar,
                "accuracy": fold_info["accuracy"], "fit_s": wall,
                "model_fit_s": fold_info["fit_time"],
                "s_per_epoch": fold_info["fit_time"] / epochs,
                "test_speakers": sorted(map(str, np.unique(groups[test]))),
            })
            print(f"{mode_name} {vname} fold {fold}: UAR {report.uar:.3f}, {wall:.0f} s",
                  flush=True)
            write_results(NAME, {
                "corpus": "RAVDESS (8 emotions, 24 actors)", "recipe": RECIPE,
                "protocol": "GroupKFold(5) by actor; inner = GroupKFold(4) on fold-0 "
                            "training actors", "seed": 0, "rows": rows,
            }, render(rows))


if __name__ == "__main__":
    main()
