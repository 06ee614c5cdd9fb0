"""MFCC Conv1D / LSTM / CNN-LSTM (Wasowska & Kapitan 2024) on TESS and RAVDESS, reproduced.

Models: recipes ``"mfcc-cnn1d"``, ``"mfcc-lstm"``, ``"mfcc-cnn-lstm"`` (13
MFCCs per 10 ms frame, padded / cut to 3 s = 301 frames, standardized per
coefficient inside the model; at most ``--epochs`` epochs, paper: 30, with
early stopping on a validation part of the TRAINING data) and ``"svm-mfcc"``
(MFCC + deltas mean/std, RBF SVM) as a classical reference row.

Protocols:

1. TESS, the paper's random split: 10 % test (the paper: "280 samples from
   test data" of 2800), stratified by emotion. Both actresses are in train and
   test, so this is **speaker-dependent**; the models' validation split is a
   random 20 % of the training part (as the paper's train/val split).
2. TESS across speakers: train on one actress, test on the other (both
   directions; speaker-independent). With one training speaker the models'
   validation split is a stratified 20 % of her clips.
3. RAVDESS (8 emotions, 1440 clips, 24 actors), speaker-independent:
   ``StratifiedGroupKFold(--folds)``; early stopping on 20 % of the training
   actors.

Usage::

    python benchmarks/bench_mfcc_tess.py             # full
    python benchmarks/bench_mfcc_tess.py --quick     # smoke run

Writes ``results/mfcc_tess.{json,md}`` and confusion-matrix PNGs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import DATA, RESULTS, markdown_table, require, write_results
from _paper_runs import (
    EpochLog,
    add_run_arguments,
    compute_features,
    pct,
    random_split,
    run,
    saved_run,
)

NAME = "mfcc_tess"
PAPER = "Wasowska & Kapitan, 'Emotion recognition from audio' (2024)"
#: Test accuracy on TESS (random split, 7 emotions), from the paper's text.
PAPER_TESS = {"mfcc-cnn1d": 0.97, "mfcc-lstm": 0.94, "mfcc-cnn-lstm": 0.9821, "svm-mfcc": None}
MODELS = ["mfcc-cnn1d", "mfcc-lstm", "mfcc-cnn-lstm", "svm-mfcc"]
PROTOCOLS = ["tess_random", "tess_cross_speaker", "ravdess_si"]


def subsample(corpus, per_group_class: int, seed: int):
    """At most ``per_group_class`` clips per (speaker, emotion): a small, balanced smoke set."""
    rng = np.random.default_rng(seed)
    keep = []
    for g in np.unique(corpus.groups):
        for c in np.unique(corpus.y):
            idx = np.flatnonzero((corpus.groups == g) & (corpus.y == c))
            keep.extend(rng.choice(idx, size=min(per_group_class, len(idx)), replace=False))
    keep = np.sort(np.asarray(keep, dtype=int))
    return corpus.X[keep], corpus.y[keep], corpus.groups[keep]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=str, default=str(DATA), help="folder holding tess/, ravdess/"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small subsets, 2 epochs")
    parser.add_argument("--epochs", type=int, default=30, help="mfcc-cnn1d max epochs (paper: 30)")
    parser.add_argument(
        "--epochs-cnn-lstm",
        type=int,
        default=8,
        help="mfcc-cnn-lstm max epochs (paper: 30; ~0.6 s per 100 clips here)",
    )
    parser.add_argument(
        "--epochs-lstm",
        type=int,
        default=6,
        help="mfcc-lstm max epochs (paper: 30; ~1.6 s per 100 clips here)",
    )
    parser.add_argument(
        "--lstm-ravdess",
        action="store_true",
        help="also run mfcc-lstm on RAVDESS (skipped by default: CPU budget)",
    )
    parser.add_argument("--patience", type=int, default=5, help="early-stopping patience")
    parser.add_argument("--folds", type=int, default=3, help="RAVDESS StratifiedGroupKFold folds")
    parser.add_argument("--test-size", type=float, default=0.1, help="TESS random split test part")
    parser.add_argument("--models", nargs="*", default=MODELS, choices=MODELS)
    parser.add_argument("--skip-ravdess", action="store_true")
    parser.add_argument("--protocols", nargs="*", default=PROTOCOLS, choices=PROTOCOLS)
    parser.add_argument(
        "--out-name",
        default=NAME,
        help="results file stem (e.g. for a run of one model with more epochs)",
    )
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    if args.render_only:
        return rerender(args.out_name + ("_quick" if args.quick else ""))
    started = time.perf_counter()

    from sklearn.base import clone
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold

    from skser.datasets import load_ravdess, load_tess
    from skser.recipes import make_ser_pipeline

    tess = load_tess(require(Path(args.data) / "tess", "TESS"))
    corpora = {"tess": (tess.X, tess.y, tess.groups)}
    if not args.skip_ravdess and "ravdess_si" in args.protocols:
        ravdess = load_ravdess(require(Path(args.data) / "ravdess", "RAVDESS"))
        corpora["ravdess"] = (ravdess.X, ravdess.y, ravdess.groups)
    if args.quick:
        corpora["tess"] = subsample(tess, 10, args.seed)
        if "ravdess" in corpora:
            keep = np.isin(ravdess.groups, np.unique(ravdess.groups)[:4])
            corpora["ravdess"] = (ravdess.X[keep], ravdess.y[keep], ravdess.groups[keep])
        args.epochs = args.epochs_cnn_lstm = args.epochs_lstm = 2
        args.folds = 2
    for name, (_, y, g) in corpora.items():
        print(
            f"{name}: {len(y)} clips, {len(np.unique(g))} speakers, {len(np.unique(y))} emotions"
        )

    protocols = [
        ("tess_random", "tess", random_split(corpora["tess"][1], test_size=args.test_size,
                                             seed=args.seed), False,
         f"TESS random stratified split, {args.test_size:.0%} test (seed {args.seed})"),
        ("tess_cross_speaker", "tess", LeaveOneGroupOut(), True,
         "TESS train on one actress, test on the other (2 folds)"),
    ]  # fmt: skip
    if "ravdess" in corpora:
        protocols.append((
            "ravdess_si", "ravdess",
            StratifiedGroupKFold(n_splits=args.folds, shuffle=True, random_state=args.seed), True,
            f"RAVDESS 8 emotions, StratifiedGroupKFold({args.folds}) over actors",
        ))  # fmt: skip
    protocols = [p for p in protocols if p[0] in args.protocols]

    results, entries = {}, []
    suffix = "_quick" if args.quick else ""
    max_epochs = {"mfcc-cnn1d": args.epochs, "mfcc-cnn-lstm": args.epochs_cnn_lstm,
                  "mfcc-lstm": args.epochs_lstm}  # fmt: skip
    for model_name in args.models:
        overrides = {} if model_name == "svm-mfcc" else {
            "model__epochs": max_epochs[model_name], "model__patience": args.patience,
            "model__callbacks": [EpochLog()],
        }  # fmt: skip
        for key, corpus, cv, use_groups, protocol in protocols:
            if model_name == "mfcc-lstm" and corpus == "ravdess" and not args.lstm_ravdess:
                continue
            X, y, groups = corpora[corpus]
            pipe = make_ser_pipeline(model_name, n_jobs=args.n_jobs, random_state=args.seed,
                                     **overrides)  # fmt: skip
            F, rest, _ = compute_features(
                pipe, X, cache="mfcc_tess", label=f"{model_name}/{corpus}"
            )
            report, entry = run(
                model_name, clone(rest), F, y, cv=cv, protocol=protocol,
                groups=groups if use_groups else None,
                png=f"{args.out_name}{suffix}_{key}_{model_name}",
                title=f"{model_name}, {key}",
            )  # fmt: skip
            entry.update(
                recipe=model_name,
                protocol_key=key,
                corpus=corpus,
                max_epochs=max_epochs.get(model_name),
            )
            entries.append(entry)
            results[(model_name, key)] = report

    wall = time.perf_counter() - started
    markdown = render(results, args, corpora, wall)
    payload = {
        "paper": PAPER,
        "corpora": {
            name: {
                "n_clips": int(len(y)),
                "n_speakers": int(len(np.unique(g))),
                "classes": sorted(np.unique(y).tolist()),
            }
            for name, (_, y, g) in corpora.items()
        },  # fmt: skip
        "protocols": {
            key: {
                "corpus": corpus,
                "description": protocol,
                "evaluation": "speaker-independent" if use_groups else "speaker-dependent",
            }
            for key, corpus, _, use_groups, protocol in protocols
        },  # fmt: skip
        "paper_numbers": {"tess_random_test_accuracy": PAPER_TESS},
        "seeds": {"random_state": args.seed, "split_seed": args.seed},
        "settings": vars(args),
        "rows": entries,
        "wall_time_s": round(wall, 1),
    }
    write_results(args.out_name + suffix, payload, markdown)
    print(f"done in {wall / 60:.1f} min")


def rerender(name: str) -> None:
    """Rebuild ``results/<name>.md`` from ``results/<name>.json``."""
    payload, reports = saved_run(name)
    results = {(e["recipe"], e["protocol_key"]): r
               for e, r in zip(payload["rows"], reports, strict=True)}  # fmt: skip
    args = argparse.Namespace(**{"out_name": NAME, **payload["settings"]})
    # render() needs the TESS labels (class count, clip count) only
    tess = payload["corpora"]["tess"]
    labels = np.resize(np.asarray(tess["classes"], dtype=object), tess["n_clips"])
    corpora = {name: (None, labels if name == "tess" else None, None)
               for name in payload["corpora"]}  # fmt: skip
    (RESULTS / f"{name}.md").write_text(render(results, args, corpora, payload["wall_time_s"]))
    print(f"rewrote {RESULTS / name}.md from its JSON")


def render(results, args, corpora, wall) -> str:
    # columns only for protocols run (results saved before --protocols existed ran all)
    cross_run = "tess_cross_speaker" in getattr(args, "protocols", PROTOCOLS)
    header = ["model", "TESS random: accuracy (paper)", "TESS random: UAR"]
    if cross_run:
        header += ["TESS train YAF -> test OAF", "TESS train OAF -> test YAF"]
    if "ravdess" in corpora:
        header += [f"RAVDESS SGKF({args.folds}): UAR", "RAVDESS accuracy"]
    rows = []
    for model in args.models:
        rnd = results.get((model, "tess_random"))
        cross = results.get((model, "tess_cross_speaker"))
        by_test = {} if cross is None else {f["test_speakers"][0]: f for f in cross.folds}
        paper = PAPER_TESS[model]
        row = [f"`{model}`"]
        row += (["not run", ""] if rnd is None
                else [f"**{pct(rnd.accuracy)}** ({pct(paper)})", pct(rnd.uar_pooled)])  # fmt: skip
        for spk in ("OAF", "YAF") if cross_run else ():
            f = by_test.get(spk)
            row.append("-" if f is None else f"acc {pct(f['accuracy'])} / UAR {pct(f['uar'])}")
        if "ravdess" in corpora:
            rav = results.get((model, "ravdess_si"))
            row += (
                ["not run (budget)", ""]
                if rav is None
                else [f"{pct(rav.uar)} ± {pct(rav.uar_std)}", pct(rav.accuracy)]
            )
        rows.append(row)
    n_tess = len(corpora["tess"][1])
    lines = [
        "# MFCC Conv1D / LSTM / CNN-LSTM (TESS paper) — reproduction",
        "",
        f"Paper: {PAPER} (accuracy on a random TESS test split; numbers from its text).",
        "",
        "Percentages. **TESS random = speaker-dependent** (both actresses in train and test, "
        f"{args.test_size:.0%} test of {n_tess} clips, as the paper's 280 of 2800); every other "
        "column is speaker-independent. Cross-speaker cells: accuracy / UAR on the held-out "
        "actress. RAVDESS: 8 emotions, mean ± std over folds.",
        "",
        markdown_table(header, rows),
        "## Settings",
        "",
        f"MFCC sequence: 13 coefficients, 25 ms / 10 ms, zero-padded or cut to 3 s (301 frames). "
        f"Deep models: at most {args.epochs} (`mfcc-cnn1d`), {args.epochs_cnn_lstm} "
        f"(`mfcc-cnn-lstm`) and {args.epochs_lstm} (`mfcc-lstm`) epochs (paper: 30 each; "
        "the recurrent models cost 0.6 and 1.6 s per 100 clips and epoch on this CPU), early "
        "stopping (patience "
        f"{args.patience}) on 20 % of the training data (by actor for RAVDESS), best weights "
        f"restored; architecture and optimizer as in `skser.models` (the paper's). `svm-mfcc`: "
        "MFCC + deltas mean/std (78), RBF SVM. Seed "
        f"{args.seed} for splits, weights and shuffling.",
        "",
        "## Reading the numbers",
        "",
        "TESS has two speakers saying the same 200 words in 7 emotions; a random split puts "
        "the same speaker (and the same word) in train and test, so near-perfect accuracy is "
        "expected and says little about new speakers. The cross-speaker columns (one actress "
        "for training, the other for testing) show what transfers to an unseen speaker, and "
        "RAVDESS with held-out actors is the realistic speaker-independent estimate.",
        "",
    ]
    epochs = {"mfcc-cnn1d": args.epochs, "mfcc-cnn-lstm": args.epochs_cnn_lstm,
              "mfcc-lstm": args.epochs_lstm}  # fmt: skip
    chance = 1 / len(np.unique(corpora["tess"][1]))
    for model in args.models:
        rnd = results.get((model, "tess_random"))
        if model in epochs and rnd is not None and rnd.accuracy < 2 * chance:
            lines += [
                f"`{model}` did not learn within its budget of {epochs[model]} epochs "
                f"(TESS random accuracy {pct(rnd.accuracy)} %, chance {pct(chance)} %; the "
                "paper trained 30): this row measures the CPU budget, not the model.",
                "",
            ]
    lines += [
        f"Wall time of this script: {wall / 60:.1f} min (shared 2-core CPU, no GPU). Confusion "
        f"matrices: `{args.out_name}_<protocol>_<model>.png`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
