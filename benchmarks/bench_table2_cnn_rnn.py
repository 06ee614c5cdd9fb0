"""Table II of the CNN-RNN paper (Sharan, Mascolo & Schuller 2023) on RAVDESS, reproduced.

Protocol (the paper's): RAVDESS speech, 4 classes (anger, happiness, sadness,
neutral; other emotions dropped, ``label_map="4class"``: 672 clips, 24 actors),
leave-one-subject-out (24 folds, speaker-independent). Reported: class accuracy
(recall of each class, pooled over the folds' predictions) and their average
(= UAR), beside the paper's numbers.

Rows:

* MFCC+DL and GTCC+DL x RF / SVM / MLP: recipes ``"rf-mfcc-dl"`` ...
  ``"mlp-gtcc-dl"`` (cepstral statistics + mean YAMNet embedding). Features
  are computed once per clip (per-clip cache), then the scaler + classifier
  are cross-validated.
* YAMNet-LSTM (CNN-RNN): recipe ``"crnn-yamnet-lstm"`` (YAMNet frozen, its
  default; 2 x 150 LSTM, Adam 3e-4, batch 24, <= ``--epochs`` with early
  stopping on 20 % of the training speakers). Training it end to end runs
  the frozen YAMNet over every segment in every epoch, which this shared
  2-core CPU cannot afford for 24 folds (the script measures it first: see
  ``crnn.end_to_end_probe`` in the JSON). A frozen backbone is a fixed
  function, so the script runs the same network in two stages instead: the
  recipe's own segments go once through the recipe's own YAMNet backbone
  (:func:`skser._yamnet.build_yamnet_backbone`, the layers CNNRNN uses), and
  the recipe's CNNRNN is trained on the per-segment embeddings with the
  backbone replaced by a pass-through (same LSTM head, optimizer, batch,
  epochs, early stopping, masking of padded segments). The one difference:
  CNNRNN standardizes a non-YAMNet input; on this 1-channel input that is a
  single scalar shift/scale of the embeddings.

Usage::

    python benchmarks/bench_table2_cnn_rnn.py                 # baselines LOSO, CNN-RNN SGKF(6)
    python benchmarks/bench_table2_cnn_rnn.py --crnn-folds 0  # CNN-RNN LOSO too (~30 min more)
    python benchmarks/bench_table2_cnn_rnn.py --quick         # smoke run (4 actors)

Writes ``results/table2_cnn_rnn.{json,md}`` and confusion-matrix PNGs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import (
    CACHE,
    DATA,
    RESULTS,
    YAMNET,
    markdown_table,
    require,
    save_confusion_png,
    write_results,
)
from _paper_runs import (
    EpochLog,
    add_run_arguments,
    compute_features,
    f3,
    figure_title,
    run,
    saved_run,
)
from threadpoolctl import threadpool_limits

NAME = "table2_cnn_rnn"
CLASSES = ["anger", "happiness", "sadness", "neutral"]  # the paper's column order
PAPER = "Sharan, Mascolo & Schuller, 'Emotion Recognition from Speech Signals by Mel-Spectrogram and a CNN-RNN' (2023), Table II (RAVDESS)"
#: Table II, RAVDESS: angry, happy, sad, neutral, average.
PAPER_TABLE2 = {
    ("MFCC+DL", "RF"): (0.766, 0.609, 0.557, 0.156, 0.522),
    ("MFCC+DL", "SVM"): (0.729, 0.573, 0.547, 0.292, 0.535),
    ("MFCC+DL", "MLP"): (0.714, 0.521, 0.510, 0.406, 0.538),
    ("GTCC+DL", "RF"): (0.693, 0.557, 0.526, 0.198, 0.493),
    ("GTCC+DL", "SVM"): (0.760, 0.594, 0.599, 0.302, 0.564),
    ("GTCC+DL", "MLP"): (0.693, 0.536, 0.563, 0.396, 0.547),
    ("Mel-spectrogram", "YAMNet-LSTM"): (0.854, 0.729, 0.729, 0.531, 0.711),
}
BASELINES = [("MFCC+DL", "RF"), ("MFCC+DL", "SVM"), ("MFCC+DL", "MLP"),
             ("GTCC+DL", "RF"), ("GTCC+DL", "SVM"), ("GTCC+DL", "MLP")]  # fmt: skip


def recipe_name(features: str, classifier: str) -> str:
    return f"{classifier.lower()}-{features.lower().replace('+', '-')}"


def embedding_passthrough(segment_shape):
    """Per-segment 'backbone' for precomputed YAMNet embeddings: flatten (1024, 1) -> 1024."""
    import keras

    inputs = keras.Input(shape=tuple(segment_shape))
    return keras.Model(inputs, keras.layers.Flatten()(inputs), name="precomputed_yamnet")


def yamnet_segment_embeddings(segments: np.ndarray, weights: str) -> np.ndarray:
    """``(n, n_seg, 96, 64)`` log-mel segments -> ``(n, n_seg, 1024, 1)`` frozen-YAMNet embeddings.

    Padded (all-zero) segments stay all-zero, so CNNRNN's segment mask still
    finds them.
    """
    from skser._yamnet import build_yamnet_backbone

    backbone = build_yamnet_backbone(weights=weights, trainable=False,
                                     input_shape=tuple(segments.shape[2:]))  # fmt: skip
    real = (segments != 0).any(axis=(2, 3))
    flat = segments[real]
    emb = backbone.predict(flat, batch_size=128, verbose=0)
    out = np.zeros((*segments.shape[:2], emb.shape[-1], 1), dtype=np.float32)
    out[real] = emb[..., None]
    return out


def end_to_end_probe(model, segments, y, groups, n_clips: int, seed: int) -> dict:
    """Seconds per epoch of the recipe's CNNRNN trained end to end (YAMNet inside) on a subset."""
    from sklearn.base import clone

    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(y), size=min(n_clips, len(y)), replace=False))
    EpochLog.fits.clear()
    probe = clone(model).set_params(epochs=2, early_stopping=False, callbacks=[EpochLog()])
    started = time.perf_counter()
    probe.fit(segments[idx], y[idx], groups=groups[idx])
    wall = time.perf_counter() - started
    fit = EpochLog.fits[0]
    n_train = len(idx) - len(probe.validation_indices_)
    return {
        "clips": int(len(idx)),
        "training_clips": int(n_train),
        "epochs": 2,
        "wall_s": round(wall, 1),
        "first_epoch_s": fit["first_epoch_s"],
        "second_epoch_s": fit["median_epoch_s"],
        "seconds_per_epoch_per_100_training_clips": round(
            100 * fit["median_epoch_s"] / n_train, 2
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=str, default=str(DATA), help="folder holding ravdess/")
    parser.add_argument("--yamnet", type=str, default=str(YAMNET), help="yamnet.tflite")
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 actors, 2 epochs")
    parser.add_argument(
        "--folds",
        type=int,
        default=0,
        help="baselines: 0 = leave-one-subject-out, k = StratifiedGroupKFold(k)",
    )
    parser.add_argument(
        "--crnn-folds",
        type=int,
        default=6,
        help="CNN-RNN: 0 = leave-one-subject-out, k = StratifiedGroupKFold(k) "
        "(default 6: LOSO costs ~30 min on a 2-core CPU)",
    )
    parser.add_argument("--epochs", type=int, default=50, help="CNN-RNN max epochs (paper: 50)")
    parser.add_argument("--patience", type=int, default=10, help="CNN-RNN early-stopping patience")
    parser.add_argument(
        "--probe-clips",
        type=int,
        default=96,
        help="clips of the end-to-end CNN-RNN timing probe (0: skip)",
    )
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--skip-crnn", action="store_true")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    if args.render_only:
        return rerender(NAME + ("_quick" if args.quick else ""))
    started = time.perf_counter()

    from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold

    from skser.datasets import load_ravdess
    from skser.recipes import make_ser_pipeline

    root = require(Path(args.data) / "ravdess", "RAVDESS")
    weights = str(require(Path(args.yamnet), "YAMNet weights"))
    corpus = load_ravdess(root, label_map="4class")
    X, y, groups = corpus.X, corpus.y, corpus.groups
    if args.quick:
        keep = np.isin(groups, np.unique(groups)[:4])
        X, y, groups = X[keep], y[keep], groups[keep]
        args.epochs, args.probe_clips = 2, min(args.probe_clips, 24)
    n_speakers = len(np.unique(groups))
    print(f"RAVDESS 4-class: {len(y)} clips, {n_speakers} actors", flush=True)

    def splitter(k):
        if k and k < n_speakers:
            return StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=args.seed), \
                f"StratifiedGroupKFold({k}) over the {n_speakers} actors"  # fmt: skip
        return LeaveOneGroupOut(), f"leave-one-subject-out ({n_speakers} folds)"

    rows, entries, feature_seconds = [], [], {}
    suffix = "_quick" if args.quick else ""
    if not args.skip_baselines:
        cv, protocol = splitter(args.folds)
        for feats, clf in BASELINES[:2] if args.quick else BASELINES:
            recipe = recipe_name(feats, clf)
            pipe = make_ser_pipeline(recipe, yamnet_weights=weights, n_jobs=args.n_jobs,
                                     random_state=args.seed)  # fmt: skip
            F, rest, seconds = compute_features(pipe, X, cache="table2", label=recipe)
            feature_seconds[recipe] = round(seconds, 1)
            # One BLAS thread: on a busy 2-core machine multi-threaded BLAS only spin-waits
            # (the MLP fits twice as fast); the forest still uses n_jobs threads.
            with threadpool_limits(limits=1, user_api="blas"):
                report, entry = run(f"{feats} {clf} ({recipe})", rest, F, y, groups=groups,
                                    cv=cv, protocol=protocol,
                                    png=f"{NAME}{suffix}_{recipe}")  # fmt: skip
            entry["recipe"] = recipe
            entries.append(entry)
            rows.append((feats, clf, report, protocol))

    crnn = {}
    if not args.skip_crnn:
        from sklearn.base import clone

        cv, protocol = splitter(args.crnn_folds)
        pipe = make_ser_pipeline(
            "crnn-yamnet-lstm", yamnet_weights=weights, n_jobs=args.n_jobs,
            random_state=args.seed, model__epochs=args.epochs, model__patience=args.patience,
        )  # fmt: skip
        segments, model, seconds = compute_features(pipe, X, cache="table2_segments",
                                                    label="crnn-yamnet-lstm")  # fmt: skip
        crnn["segments_shape"] = list(segments.shape)
        crnn["segment_features_s"] = round(seconds, 1)
        if args.probe_clips:
            print(f"  end-to-end timing probe on {args.probe_clips} clips (2 epochs)", flush=True)
            crnn["end_to_end_probe"] = probe = end_to_end_probe(
                model, segments, y, groups, args.probe_clips, args.seed
            )
            per_fold = len(y) * (n_speakers - 1) / n_speakers * 0.8  # training clips per fold
            probe["extrapolated_s_per_epoch_per_fold"] = round(
                probe["seconds_per_epoch_per_100_training_clips"] * per_fold / 100, 1
            )
            probe["extrapolated_hours_loso_at_max_epochs"] = round(
                probe["extrapolated_s_per_epoch_per_fold"] * args.epochs * n_speakers / 3600, 1
            )
            print(f"   {probe}", flush=True)
        t0 = time.perf_counter()
        memory = __import__("joblib").Memory(CACHE / "table2_embeddings", verbose=0)
        embed = memory.cache(yamnet_segment_embeddings)
        crnn["embeddings_from_cache"] = bool(embed.check_call_in_cache(segments, weights))
        embeddings = embed(segments, weights)
        crnn["embedding_s"] = round(time.perf_counter() - t0, 1)
        print(
            f"  frozen-YAMNet embeddings {embeddings.shape} in {crnn['embedding_s']} s", flush=True
        )
        head = clone(model).set_params(backbone=embedding_passthrough, backbone_weights=None,
                                       callbacks=[EpochLog()])  # fmt: skip
        report, entry = run("YAMNet-LSTM (crnn-yamnet-lstm, frozen YAMNet)", head, embeddings, y,
                            groups=groups, cv=cv, protocol=protocol,
                            png=f"{NAME}{suffix}_crnn-yamnet-lstm",
                            title="crnn-yamnet-lstm (frozen YAMNet)")  # fmt: skip
        entry["recipe"] = "crnn-yamnet-lstm"
        entry["settings"] = {
            "backbone": "YAMNet (AudioSet), frozen; embeddings computed once per segment",
            "lstm_units": list(head.lstm_units), "optimizer": head.optimizer,
            "learning_rate": head.learning_rate, "batch_size": head.batch_size,
            "max_epochs": head.epochs, "early_stopping_patience": head.patience,
            "validation": f"{head.validation_split:.0%} of the training actors (GroupShuffleSplit)",
        }  # fmt: skip
        crnn["run"] = entry
        entries.append(entry)
        rows.append(("Mel-spectrogram", "YAMNet-LSTM", report, protocol))

    wall = time.perf_counter() - started
    markdown = render(rows, entries, crnn, args, len(y), n_speakers, wall)
    payload = {
        "paper": PAPER,
        "corpus": {
            "name": "ravdess",
            "label_map": "4class",
            "n_clips": int(len(y)),
            "n_speakers": n_speakers,
            "class_counts": {c: int((y == c).sum()) for c in CLASSES},
        },  # fmt: skip
        "evaluation": "speaker-independent",
        "metric_note": "class accuracy = recall of the class over the pooled out-of-fold "
        "predictions; average = their mean (UAR), as in the paper",
        "seeds": {"random_state": args.seed},
        "settings": vars(args),
        "feature_seconds": feature_seconds,
        "paper_table2": {
            f"{k[0]} {k[1]}": dict(zip(CLASSES + ["average"], v, strict=True))
            for k, v in PAPER_TABLE2.items()
        },  # fmt: skip
        "rows": entries,
        "crnn": {k: v for k, v in crnn.items() if k != "run"},
        "wall_time_s": round(wall, 1),
    }
    write_results(NAME + suffix, payload, markdown)
    print(f"done in {wall / 60:.1f} min")


def rerender(name: str) -> None:
    """Rebuild ``results/<name>.md`` from ``results/<name>.json``."""
    payload, reports = saved_run(name)
    names = {recipe_name(f, c): (f, c) for f, c in BASELINES}
    names["crnn-yamnet-lstm"] = ("Mel-spectrogram", "YAMNet-LSTM")
    rows = [(*names[e["recipe"]], r, e["protocol"])
            for e, r in zip(payload["rows"], reports, strict=True)]  # fmt: skip
    crnn = dict(payload["crnn"])
    if rows and rows[-1][1] == "YAMNet-LSTM":
        crnn["run"] = payload["rows"][-1]
    args = argparse.Namespace(**payload["settings"])
    corpus = payload["corpus"]
    markdown = render(rows, payload["rows"], crnn, args, corpus["n_clips"],
                      corpus["n_speakers"], payload["wall_time_s"])  # fmt: skip
    (RESULTS / f"{name}.md").write_text(markdown)
    for entry, report in zip(payload["rows"], reports, strict=True):
        label = "crnn-yamnet-lstm (frozen YAMNet)" if entry["recipe"] == "crnn-yamnet-lstm" \
            else entry["name"]  # fmt: skip
        save_confusion_png(report, Path(entry["confusion_png"]).stem, figure_title(report, label))
    print(f"rewrote {RESULTS / name}.md and its PNGs from its JSON")


def render(rows, entries, crnn, args, n_clips, n_speakers, wall) -> str:
    header = ["Feature/Input", "Classifier", "Angry", "Happy", "Sad", "Neutral", "Average (UAR)",
              "paper Average", "UAR mean ± std over folds", "accuracy", "protocol"]  # fmt: skip
    table = []
    for feats, clf, report, protocol in rows:
        paper = PAPER_TABLE2[(feats, clf)]
        cells = [f"{f3(report.class_recall[c])} ({paper[i]:.3f})" for i, c in enumerate(CLASSES)]
        table.append([feats, clf, *cells, f"**{f3(report.uar_pooled)}**", f"{paper[4]:.3f}",
                      f"{f3(report.uar)} ± {f3(report.uar_std)}", f3(report.accuracy),
                      protocol])  # fmt: skip
    lines = [
        "# CNN-RNN paper, Table II (RAVDESS, 4 classes) — reproduction",
        "",
        f"Paper: {PAPER}.",
        "",
        "**Speaker-independent** (the paper: leave-one-subject-out; protocol per row). RAVDESS "
        f"speech, anger / happiness / sadness / neutral ({n_clips} clips, {n_speakers} actors). "
        "Cells: ours (paper). Class "
        "accuracy = recall of that class over the pooled out-of-fold predictions; Average = "
        "their mean (UAR), the paper's 'average accuracy'.",
        "",
        markdown_table(header, table),
    ]
    if crnn:
        run_entry = crnn.get("run", {})
        fits = run_entry.get("keras_fits", [])
        epochs = [f["epochs_run"] for f in fits]
        lines += [
            "## YAMNet-LSTM (CNN-RNN): what was run",
            "",
            "Recipe `crnn-yamnet-lstm` with its frozen YAMNet backbone (the recipe's default), "
            f"LSTM 2 x 150, Adam 3e-4, batch 24, at most {args.epochs} epochs with early stopping "
            f"(patience {args.patience}) on 20 % of the training actors — never on the test actor. "
            "Because the backbone is frozen it is a fixed function: each segment went once "
            "through the recipe's YAMNet layers and the recipe's CNNRNN head was trained on the "
            "embeddings (backbone replaced by a pass-through; padded segments masked as before). "
            "The only change is a single scalar standardization of the embeddings, which CNNRNN "
            "applies to non-YAMNet input. The paper does not say whether YAMNet was frozen (MATLAB "
            "transfer learning usually trains every layer); fine-tuning YAMNet "
            "(`model__backbone_trainable=True`) is out of this CPU's budget.",
            "",
        ]
        if epochs:
            lines.append(
                f"Epochs run per fold: {min(epochs)}-{max(epochs)} "
                f"(median {int(np.median(epochs))})."
            )
            lines.append("")
        probe = crnn.get("end_to_end_probe")
        if probe:
            lines += [
                f"End-to-end timing probe (YAMNet inside the model, frozen, this CPU): "
                f"{probe['seconds_per_epoch_per_100_training_clips']} s per epoch per 100 "
                f"training clips, i.e. about {probe['extrapolated_s_per_epoch_per_fold']} s per "
                f"epoch per LOSO fold and {probe['extrapolated_hours_loso_at_max_epochs']} h for "
                f"24 folds x {args.epochs} epochs — hence the two-stage run.",
                "",
            ]
    lines += [
        "## Reading the numbers",
        "",
        "The paper gives the baselines' details only by reference (Sharan, ICMLANT 2023); our "
        "baseline settings (13 coefficients + deltas, mean/std; mean YAMNet embedding; RBF SVM "
        "C=1; RF 500 trees; MLP 256) are stated in `skser.baselines.make_baseline`. Both tables "
        "use the same speaker-independent protocol, so differences come from features, "
        "classifier settings and (for the CNN-RNN) frozen vs fine-tuned YAMNet, not from leakage.",
        "",
        f"Wall time of this script: {wall / 60:.1f} min (shared 2-core CPU, no GPU). Confusion "
        "matrices: `table2_cnn_rnn_<recipe>.png`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
