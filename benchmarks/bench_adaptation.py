"""Choose ``recommended``'s speaker adaptation on training speakers only.

The numbers this script prints are the ones design choices for
``SpeakerAdaptiveClassifier`` and ``recommended`` are made on; the headline
(``bench_headline.py``) reports the chosen design untouched.

Selection data (never a test speaker of the headline):

- ``inner``: RAVDESS, 8 emotions. For each of the 5 outer ``GroupKFold``
  folds of the headline, the outer training actors are split once more by
  ``GroupKFold(4)`` (first split): about 13 actors train, 5 validate. Only
  outer-training actors are used, so the outer test actors stay untouched.
- ``fixture``: the RAVDESS unbalanced-speakers fixture (each speaker keeps
  1-2 emotions, ``unbalance_speakers(seed 0)``), 5-fold ``GroupKFold``. It is
  also a headline task, so its headline number carries selection optimism.

Each candidate is fitted once per split and scored lab (``groups`` at
prediction: the validation speakers' unlabeled statistics) and deployment
(no ids). Features are ``recommended``'s union, computed once per clip
through the benchmarks' feature cache (shared with ``bench_headline.py``).

Usage::

    python benchmarks/bench_adaptation.py                       # every candidate
    python benchmarks/bench_adaptation.py --candidates current scale

Writes ``benchmarks/results/adaptation.{json,md}`` after every candidate.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import sklearn
from _common import DATA, RESULTS, YAMNET, enable_feature_cache, markdown_table, require, write_results
from sklearn.model_selection import GroupKFold

import skser
from skser.adaptation import SpeakerAdaptiveClassifier
from skser.datasets import unbalance_speakers
from skser.features import SpeakerStandardScaler
from skser.metrics import unweighted_average_recall
from skser.recipes import _recommended_vote

SEED = 0


def _adaptive(**params):
    return lambda: SpeakerAdaptiveClassifier(_recommended_vote(SEED), **params)


def _per_speaker_standardization():
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("speaker_norm", SpeakerStandardScaler()), ("clf", _recommended_vote(SEED))])
    return pipe.set_output(transform="pandas")


# name: (description, factory of an unfitted classifier on the feature DataFrame)
CANDIDATES = {
    "none": ("the vote alone, no speaker step", lambda: _recommended_vote(SEED)),
    "per-speaker-std": ("old design: SpeakerStandardScaler before the vote",
                        _per_speaker_standardization),
    "location": ("class-aware offsets (location only), (0.75, 1.25), shrinkage 10",
                 _adaptive(scale=False)),
    "scale": ("class-aware offsets and scales, (0.75, 1.25), shrinkage 10",
              _adaptive(scale=True)),
    "scale-adapted-only": ("class-aware offsets and scales, the adapted copy alone (weight 1)",
                           _adaptive(scale=True, diversity_range=(-2.0, -1.0), shrinkage=0.0)),
    "location-adapted-only": ("class-aware offsets, the adapted copy alone (weight 1)",
                              _adaptive(scale=False, diversity_range=(-2.0, -1.0), shrinkage=0.0)),
    "scale-low": ("class-aware offsets and scales, (0.5, 0.9), shrinkage 3",
                  _adaptive(scale=True, diversity_range=(0.5, 0.9), shrinkage=3.0)),
    "scale-low-s0": ("class-aware offsets and scales, (0.5, 0.9), shrinkage 0",
                     _adaptive(scale=True, diversity_range=(0.5, 0.9), shrinkage=0.0)),
    "location-low-s0": ("class-aware offsets, (0.5, 0.9), shrinkage 0",
                        _adaptive(scale=False, diversity_range=(0.5, 0.9), shrinkage=0.0)),
    "location-low-s3": ("class-aware offsets, (0.5, 0.9), shrinkage 3",
                        _adaptive(scale=False, diversity_range=(0.5, 0.9), shrinkage=3.0)),
    "location-low": ("class-aware offsets, (0.5, 0.9), shrinkage 10",
                     _adaptive(scale=False, diversity_range=(0.5, 0.9))),
    "scale-s0": ("class-aware offsets and scales, (0.75, 1.25), shrinkage 0",
                 _adaptive(scale=True, shrinkage=0.0)),
    "scale-mid-s3": ("class-aware offsets and scales, (0.6, 1.0), shrinkage 3",
                     _adaptive(scale=True, diversity_range=(0.6, 1.0), shrinkage=3.0)),
    "scale-safe": ("class-aware offsets and scales, (1.0, 1.5), shrinkage 10",
                   _adaptive(scale=True, diversity_range=(1.0, 1.5))),
}  # fmt: skip


def features(corpus):
    """``recommended-classical``'s feature DataFrame for every clip of ``corpus`` (cached per clip)."""
    pipe = skser.make_ser_pipeline("recommended-classical", yamnet_weights=str(YAMNET), n_jobs=2)
    pipe = enable_feature_cache(pipe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return pipe.named_steps["features"].fit_transform(corpus.X)


def inner_splits(groups):
    """One inner split of the training actors of each outer GroupKFold(5) fold."""
    for outer_train, _ in GroupKFold(5).split(groups, groups=groups):
        inner_train, validate = next(
            GroupKFold(4).split(outer_train, groups=groups[outer_train])
        )
        yield outer_train[inner_train], outer_train[validate]


def fixture_splits(groups):
    yield from GroupKFold(5).split(groups, groups=groups)


def score(make, X, y, groups, splits) -> dict:
    """Mean UAR over the splits, lab and deployment, from one fit per split."""
    lab, deployment = [], []
    for train, validate in splits:
        model = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if _takes_groups(model):
                model.fit(X.iloc[train], y[train], groups=groups[train])
                lab_pred = model.predict(X.iloc[validate], groups=groups[validate])
            else:
                model.fit(X.iloc[train], y[train])
                lab_pred = model.predict(X.iloc[validate])
            deploy_pred = model.predict(X.iloc[validate])
        lab.append(unweighted_average_recall(y[validate], lab_pred))
        deployment.append(unweighted_average_recall(y[validate], deploy_pred))
    return {"lab": float(np.mean(lab)), "deployment": float(np.mean(deployment)),
            "lab_folds": lab, "deployment_folds": deployment}  # fmt: skip


def _takes_groups(model) -> bool:
    return isinstance(model, SpeakerAdaptiveClassifier) or hasattr(model, "named_steps")


def to_markdown(results: dict) -> str:
    rows = [
        [name, r["description"], f"{r['inner']['lab']:.3f}", f"{r['inner']['deployment']:.3f}",
         f"{r['fixture']['lab']:.3f}", f"{r['fixture']['deployment']:.3f}"]
        for name, r in results.items()
    ]  # fmt: skip
    return "\n".join([
        "# Choosing recommended's speaker adaptation (training speakers only)",
        "",
        "UAR, mean over splits. **inner**: RAVDESS-8, one GroupKFold(4) split of the "
        "training actors of each of the headline's 5 outer folds (outer test actors never "
        "used). **fixture**: RAVDESS with 1-2 emotions per speaker (seed 0), GroupKFold(5). "
        "lab: the validation speakers' unlabeled statistics reach the model; deployment: "
        "every clip alone. `python benchmarks/bench_adaptation.py`.",
        "",
        markdown_table(["candidate", "what", "inner lab", "inner deployment", "fixture lab",
                        "fixture deployment"], rows),
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES),
                        choices=list(CANDIDATES))  # fmt: skip
    args = parser.parse_args()
    sklearn.set_config(enable_metadata_routing=True)  # groups reach SpeakerStandardScaler
    require(YAMNET, "YAMNet weights")
    ravdess = skser.load_ravdess(require(DATA / "ravdess", "ravdess"))
    fixture = unbalance_speakers(ravdess)
    started = time.perf_counter()
    X_all = features(ravdess)
    print(f"features: {X_all.shape} in {time.perf_counter() - started:.0f} s", flush=True)
    by_path = {str(p): i for i, p in enumerate(ravdess.X)}
    X_fix = X_all.iloc[[by_path[str(p)] for p in fixture.X]].reset_index(drop=True)
    y, g = np.asarray(ravdess.y), np.asarray(ravdess.groups, dtype=object)
    y_fix, g_fix = np.asarray(fixture.y), np.asarray(fixture.groups, dtype=object)
    results = {}
    for name in args.candidates:
        description, make = CANDIDATES[name]
        t0 = time.perf_counter()
        results[name] = {
            "description": description,
            "inner": score(make, X_all, y, g, inner_splits(g)),
            "fixture": score(make, X_fix, y_fix, g_fix, fixture_splits(g_fix)),
            "wall_time_s": time.perf_counter() - t0,
        }
        r = results[name]
        print(f"{name:18s} inner lab {r['inner']['lab']:.3f} dep {r['inner']['deployment']:.3f} | "
              f"fixture lab {r['fixture']['lab']:.3f} dep {r['fixture']['deployment']:.3f} "
              f"({r['wall_time_s']:.0f} s)", flush=True)  # fmt: skip
        previous = RESULTS / "adaptation.json"
        merged = json.loads(previous.read_text())["candidates"] if previous.exists() else {}
        merged.update(results)
        write_results("adaptation", {"seed": SEED, "candidates": merged}, to_markdown(merged))


if __name__ == "__main__":
    main()
