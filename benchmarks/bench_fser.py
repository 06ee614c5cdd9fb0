"""FSER (Dossou & Gbenou 2021): 8-class mel-image CNN on the corpora union, reproduced.

Task: FSER's 8 classes (``label_map="fser8"``: fear -> anxiety, boredom ->
calm) on the union of the corpora present under ``--data`` (RAVDESS and EMOVO
here; EmoDB and SAVEE are added when their folders ``emodb/`` and ``savee/``
exist), speaker ids kept unique per corpus.

Model: recipe ``"fser-cnn2d"`` (mel spectrogram, 512-point FFT and hop, 128
bands, dB, "coolwarm" colours, 64 x 64 RGB -> FSERCNN, batch 64, the paper's
shift / zoom / flip augmentation applied on the fly to every training batch).
The paper trained 400 epochs on 20 stored augmented copies per image with SGD
(lr 0.001; 8 days on a K80), about 400 times the gradient steps this CPU can
afford. Plain SGD at lr 0.001 does not move off chance within such a budget,
so the main runs use Adam (lr 0.001, ``--optimizer``; a stated deviation) and
``--sgd-probe-epochs`` records what the unchanged recipe (SGD) reaches in a
few epochs on the same split. At most ``--epochs`` epochs, early stopping on
20 % of the training data (never on test clips).

Protocols:

1. the paper's random 80/20 split, stratified by class: **speaker-dependent**;
2. speaker-independent 80/20: 20 % of each corpus's speakers held out
   (GroupShuffleSplit per corpus, so every corpus is in the test part).

Both on the combined corpus (with a per-corpus breakdown of the same test
predictions), and, with ``--per-corpus-epochs`` > 0, a model trained on each
corpus alone. Reported: the classification report with one-vs-rest ROC-AUC
per class from ``predict_proba`` (the paper's Table 2), beside the paper.

Usage::

    python benchmarks/bench_fser.py               # full
    python benchmarks/bench_fser.py --quick       # smoke run

Writes ``results/fser.{json,md}`` and confusion-matrix PNGs.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
from _common import DATA, RESULTS, markdown_table, require, write_results
from _paper_runs import (
    EpochLog,
    add_run_arguments,
    compute_features,
    pct,
    per_class_report,
    random_split,
    run,
    saved_run,
)

NAME = "fser"
PAPER = ("Dossou & Gbenou, 'FSER: Deep Convolutional Neural Networks for Speech Emotion "
         "Recognition' (ICCV Workshops 2021)")  # fmt: skip
#: Table 2 (union of EmoDB, EMOVO, SAVEE, RAVDESS; random 80/20 split, 609 test clips):
#: precision, recall, F1, support, AUC (percent).
PAPER_TABLE2 = {
    "anger": (96, 96, 96, 91, 99.84), "anxiety": (94, 97, 95, 80, 99.85),
    "calm": (93, 97, 95, 54, 99.92), "disgust": (97, 92, 94, 77, 99.72),
    "happiness": (95, 93, 94, 83, 99.75), "neutral": (94, 94, 94, 77, 99.74),
    "sadness": (95, 94, 94, 78, 99.76), "surprise": (94, 95, 94, 69, 99.82),
}  # fmt: skip
PAPER_ACCURACY = {"combined": 0.95, "ravdess": 0.9867, "emodb": 0.9774, "savee": 0.9910,
                  "emovo": None}  # fmt: skip
PAPER_MACRO_AUC = 0.9979
LOADERS = {"ravdess": "load_ravdess", "emovo": "load_emovo", "emodb": "load_emodb",
           "savee": "load_savee"}  # fmt: skip


def speaker_split_per_corpus(corpus_col, groups, *, test_size, seed):
    """Hold out ``test_size`` of the speakers of EACH corpus (speaker-independent)."""
    from sklearn.model_selection import GroupShuffleSplit

    test = []
    for name in np.unique(corpus_col):
        idx = np.flatnonzero(corpus_col == name)
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        _, t = next(splitter.split(idx, groups=groups[idx]))
        test.extend(idx[t])
    test = np.sort(np.asarray(test))
    return [(np.setdiff1d(np.arange(len(groups)), test), test)]


def breakdown(report, test_idx, corpus_col) -> dict:
    """Accuracy and UAR of each corpus's share of the test predictions."""
    from skser.metrics import unweighted_average_recall

    corpus_of = corpus_col[np.sort(test_idx)]  # report rows are the tested clips in input order
    out = {}
    for name in np.unique(corpus_of):
        m = corpus_of == name
        yt, yp = np.asarray(report.y_true)[m], np.asarray(report.y_pred)[m]
        out[str(name)] = {"n_test": int(m.sum()), "accuracy": float(np.mean(yt == yp)),
                          "uar": float(unweighted_average_recall(yt, yp))}  # fmt: skip
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=str,
        default=str(DATA),
        help="folder holding ravdess/, emovo/ (and emodb/, savee/ if present)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small subset, 2 epochs")
    parser.add_argument("--epochs", type=int, default=20, help="max epochs, combined corpus")
    parser.add_argument(
        "--optimizer", default="adam", help="optimizer of the main runs (recipe/paper: sgd)"
    )
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument(
        "--sgd-probe-epochs",
        type=int,
        default=4,
        help="epochs of the unchanged recipe (SGD) on the combined random split (0: skip)",
    )
    parser.add_argument(
        "--per-corpus-epochs",
        type=int,
        default=0,
        help="max epochs of the per-corpus models (0: skip them)",
    )
    parser.add_argument("--patience", type=int, default=6, help="early-stopping patience")
    parser.add_argument("--test-size", type=float, default=0.2, help="paper: 609 of 3043")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    if args.render_only:
        return rerender(NAME + ("_quick" if args.quick else ""))
    started = time.perf_counter()

    from sklearn.base import clone

    import skser.datasets as ds
    from skser.recipes import make_ser_pipeline

    data = Path(args.data)
    loaded = []
    for name, loader in LOADERS.items():
        if (data / name).exists():
            loaded.append(getattr(ds, loader)(data / name, label_map="fser8"))
    if not loaded:
        require(data / "ravdess", "RAVDESS")
    combined = ds.combine(loaded)
    X, y, groups = combined.X, combined.y, combined.groups
    corpus_col = combined.frame["corpus"].to_numpy(dtype=object)
    if args.quick:
        rng = np.random.default_rng(args.seed)
        keep = np.sort(np.concatenate([
            rng.choice(np.flatnonzero(corpus_col == c), size=min(80, (corpus_col == c).sum()),
                       replace=False) for c in np.unique(corpus_col)]))  # fmt: skip
        X, y, groups, corpus_col = X[keep], y[keep], groups[keep], corpus_col[keep]
        args.epochs = 2
        args.sgd_probe_epochs = min(args.sgd_probe_epochs, 1)
        args.per_corpus_epochs = min(args.per_corpus_epochs, 1)
    names = sorted(np.unique(corpus_col).tolist())
    print(
        f"FSER 8-class union of {names}: {len(y)} clips, {len(np.unique(groups))} speakers",
        flush=True,
    )

    suffix = "_quick" if args.quick else ""
    pipe = make_ser_pipeline("fser-cnn2d", n_jobs=args.n_jobs, random_state=args.seed,
                             model__callbacks=[EpochLog()])  # fmt: skip
    F, recipe_model, feature_s = compute_features(pipe, X, cache="fser", label="fser-cnn2d")
    model = clone(recipe_model).set_params(
        epochs=args.epochs, patience=args.patience, optimizer=args.optimizer,
        learning_rate=args.learning_rate,
    )  # fmt: skip

    sgd_probe = None
    if args.sgd_probe_epochs:
        probe = clone(recipe_model).set_params(epochs=args.sgd_probe_epochs, early_stopping=False)
        report, sgd_probe = run(
            f"fser-cnn2d unchanged (SGD lr {probe.learning_rate}), {args.sgd_probe_epochs} epochs",
            probe, F, y, cv=random_split(y, test_size=args.test_size, seed=args.seed),
            protocol=f"combined: random stratified split (seed {args.seed}), "
                     f"{args.sgd_probe_epochs} epochs, no early stopping",
        )  # fmt: skip

    runs = []  # (scope, protocol key, report, entry)

    def protocols(sel, label):
        yy, gg, cc = y[sel], groups[sel], corpus_col[sel]
        return [
            ("random", random_split(yy, test_size=args.test_size, seed=args.seed), None,
             f"{label}: random stratified {1 - args.test_size:.0%}/{args.test_size:.0%} split "
             f"(seed {args.seed})"),
            ("speaker_independent",
             speaker_split_per_corpus(cc, gg, test_size=args.test_size, seed=args.seed), gg,
             f"{label}: {args.test_size:.0%} of each corpus's speakers held out (seed {args.seed})"),
        ]  # fmt: skip

    scopes = [("combined", np.ones(len(y), dtype=bool), model)]
    if args.per_corpus_epochs > 0 and len(names) > 1:
        per_corpus = clone(model).set_params(epochs=args.per_corpus_epochs)
        scopes += [(n, corpus_col == n, per_corpus) for n in names]
    for scope, sel, estimator in scopes:
        for key, cv, gg, protocol in protocols(sel, scope):
            held = (
                ""
                if gg is None
                else f" [test speakers: {', '.join(sorted(np.unique(gg[cv[0][1]]).tolist()))}]"
            )
            report, entry = run(f"fser-cnn2d on {scope}", clone(estimator), F[sel], y[sel], cv=cv,
                                protocol=protocol + held, groups=gg,
                                png=f"{NAME}{suffix}_{scope}_{key}",
                                title=f"fser-cnn2d ({estimator.optimizer}), {scope}, {key}")  # fmt: skip
            entry.update(scope=scope, protocol_key=key, max_epochs=estimator.epochs,
                         per_class=per_class_report(report))  # fmt: skip
            if scope == "combined":
                entry["per_corpus_breakdown"] = breakdown(report, cv[0][1], corpus_col[sel])
            runs.append((scope, key, report, entry))

    wall = time.perf_counter() - started
    markdown = render(runs, args, names, len(y), len(np.unique(groups)), wall, sgd_probe)
    payload = {
        "paper": PAPER,
        "corpora": names,
        "missing_corpora": sorted(set(LOADERS) - set(names)),
        "label_map": "fser8",
        "n_clips": int(len(y)),
        "n_speakers": int(len(np.unique(groups))),
        "class_counts": {c: int((y == c).sum()) for c in np.unique(y)},
        "feature_seconds": round(feature_s, 1),
        "model_settings": {
            "optimizer": model.optimizer,
            "learning_rate": model.learning_rate,
            "batch_size": model.batch_size,
            "max_epochs": model.epochs,
            "early_stopping_patience": model.patience,
            "deviation": "Adam instead of the paper's SGD (CPU budget)"
            if model.optimizer != recipe_model.optimizer
            else None,
        },
        "sgd_probe": sgd_probe,
        "paper_numbers": {
            "table2": PAPER_TABLE2,
            "accuracy": PAPER_ACCURACY,
            "macro_auc": PAPER_MACRO_AUC,
        },  # fmt: skip
        "seeds": {"random_state": args.seed, "split_seed": args.seed},
        "settings": vars(args),
        "rows": [entry for *_, entry in runs],
        "wall_time_s": round(wall, 1),
    }
    write_results(NAME + suffix, payload, markdown)
    print(f"done in {wall / 60:.1f} min")


def rerender(name: str) -> None:
    """Rebuild ``results/<name>.md`` from ``results/<name>.json``."""
    payload, reports = saved_run(name)
    runs = [(e["scope"], e["protocol_key"], r, e)
            for e, r in zip(payload["rows"], reports, strict=True)]  # fmt: skip
    args = argparse.Namespace(**payload["settings"])
    n_speakers = payload.get("n_speakers") or max(
        (row["report"]["n_speakers"] or 0) for row in payload["rows"]
    )
    markdown = render(runs, args, payload["corpora"], payload["n_clips"], n_speakers,
                      payload["wall_time_s"], payload["sgd_probe"])  # fmt: skip
    (RESULTS / f"{name}.md").write_text(markdown)
    print(f"rewrote {RESULTS / name}.md from its JSON")


def render(runs, args, names, n_clips, n_speakers, wall, sgd_probe) -> str:
    lines = [
        "# FSER (8 classes, corpora union) — reproduction",
        "",
        f"Paper: {PAPER}: 95 % accuracy, macro AUC 99.79 % on a random 80/20 split of "
        "EmoDB + EMOVO + SAVEE + RAVDESS (3043 clips), 400 epochs on 20x augmented data.",
        "",
        f"Here: union of {', '.join(names)} ({n_clips} clips, {n_speakers} speakers; EmoDB and "
        "SAVEE are not in the shared data), recipe `fser-cnn2d` with optimizer "
        f"**{args.optimizer}** (lr {args.learning_rate}; the paper and the recipe: SGD, lr "
        f"0.001), at most {args.epochs} epochs (early stopping, patience {args.patience}, on 20 % "
        "of the training data). Percentages."
        + (
            ""
            if args.per_corpus_epochs
            else " Per-corpus models were not trained (`--per-corpus-epochs 0`, CPU budget): the "
            "per-corpus column breaks the combined model's test predictions down by corpus."
        ),
        "",
        "## Summary",
        "",
    ]
    header = ["trained on", "protocol", "evaluation", "accuracy (paper)", "UAR", "macro AUC",
              "per-corpus accuracy of the test part", "epochs run"]  # fmt: skip
    rows = []
    for scope, key, report, entry in runs:
        paper = PAPER_ACCURACY.get(scope) if key == "random" else None
        parts = entry.get("per_corpus_breakdown", {})
        per = ", ".join(f"{n} {pct(v['accuracy'])}" for n, v in parts.items()) or "-"
        epochs = ", ".join(str(f["epochs_run"]) for f in entry["keras_fits"]) or "-"
        rows.append([scope, key.replace("_", "-"), report.evaluation,
                     f"**{pct(report.accuracy)}** ({pct(paper)})", pct(report.uar_pooled),
                     pct(report.roc_auc), per, epochs])  # fmt: skip
    lines += [markdown_table(header, rows)]
    for scope, key, report, entry in runs:
        if scope != "combined":
            continue
        lines += [f"## Classification report: combined, {key.replace('_', '-')} "
                  f"({report.evaluation})", "", entry["protocol"], ""]  # fmt: skip
        header = ["class", "precision", "recall", "F1", "support", "AUC",
                  "paper P / R / F1 / AUC"]  # fmt: skip
        table = []
        for label, m in entry["per_class"].items():
            p = PAPER_TABLE2.get(label)
            paper = "-" if p is None else f"{p[0]} / {p[1]} / {p[2]} / {p[4]}"
            table.append([label, pct(m["precision"]), pct(m["recall"]), pct(m["f1"]),
                          m["support"], pct(m["auc"]), paper])  # fmt: skip
        table.append(["accuracy", "", "", pct(report.accuracy), report.n_clips, "", "95 (609)"])
        table.append(["macro AUC", "", "", "", "", pct(report.roc_auc), "99.79"])
        lines += [markdown_table(header, table)]
    if sgd_probe is not None:
        rep = sgd_probe["report"]
        steps = args.epochs * math.ceil((1 - args.test_size) * 0.8 * n_clips / 64)
        lines += [
            "## The unchanged recipe (SGD) within this budget",
            "",
            f"{sgd_probe['protocol']}: test accuracy {pct(rep['accuracy'])}, UAR "
            f"{pct(rep['uar_pooled'])} (chance {pct(1 / len(rep['labels']))}). The paper ran "
            "~255k SGD steps (400 epochs x 40,887 images / 64); "
            f"{args.epochs} epochs here are ~{steps} steps, hence {args.optimizer} for the main "
            "runs.",
            "",
        ]
    lines += [
        "## Reading the numbers",
        "",
        "The random split is **speaker-dependent**: the same actors (and the same sentences) "
        "are in train and test, which is the paper's protocol and flatters every model. "
        "The paper's 95 % also comes from 400 epochs over 20 stored augmented copies of each "
        "training image on a GPU, with EmoDB and SAVEE (the two corpora it scores highest on) "
        f"in the union; here at most {args.epochs} epochs on a shared 2-core CPU, without "
        "them (the random-split run's best epoch was its last). The gap is not explained: "
        "epochs alone barely move it (combined random split: 41.1 % after 20 epochs, "
        "41.6 % after 30, in two runs of this script), so the stored augmented copies, the "
        "missing corpora and image-rendering details the paper leaves open are the next "
        "suspects. The speaker-independent rows show what transfers to unseen speakers.",
        "",
        f"Wall time of this script: {wall / 60:.1f} min. Confusion matrices: "
        "`fser_<scope>_<protocol>.png`. Per-class AUC: one-vs-rest ROC-AUC of `predict_proba`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
