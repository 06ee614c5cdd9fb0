"""The ``skser`` command line.

Sub-commands: ``demo``, ``recipes``, ``train``, ``evaluate``, ``predict``,
``info``. Each is a small function taking parsed arguments; errors a user
can fix (missing file, unreadable audio, unknown recipe, bad ``--set``)
end with a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import sys
import time
import warnings
from pathlib import Path

#: Corpus names accepted by ``--corpus`` (each maps to ``skser.datasets.load_<name>``).
CORPORA = ("ravdess", "emodb", "emovo", "savee", "tess", "cremad", "synthetic")
#: Users' own corpora: ``csv:FILE[:key=value,...]`` and ``folders:ROOT[:speaker=REGEX]``.
CUSTOM_CORPORA = ("csv", "folders")
#: Options of ``--corpus csv:FILE:key=value,...`` (``skser.datasets.load_csv`` parameters).
CSV_OPTIONS = ("path_column", "label_column", "speaker_column", "sep")
#: Options of ``--corpus synthetic:key=value,...`` (``make_synthetic_corpus`` parameters).
SYNTHETIC_OPTIONS = ("n_speakers", "n_per_class", "duration", "random_state")
#: Cross-validation schemes of ``skser evaluate --cv``.
CV_CHOICES = ("auto", "loso", "gkf5", "random", "leave-one-corpus-out")


class CLIError(ValueError):
    """Bad input that the user can fix; printed as one line, exit status 2."""


# --------------------------------------------------------------------------- helpers


def _progress_enabled(args: argparse.Namespace) -> bool:
    """Progress bars: ``--progress``/``--no-progress``, by default when stderr is a terminal."""
    if getattr(args, "progress", None) is not None:
        return bool(args.progress)
    return sys.stderr.isatty()


def _parse_value(text: str):
    """A ``--set`` value: a Python literal (``10``, ``0.5``, ``None``, ``(64, 64)``) or a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_settings(items: list[str] | None) -> dict:
    """``["key=value", ...]`` from ``--set`` into a dict of parsed values."""
    settings = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("__", "_").replace("_", "a").isalnum():
            raise CLIError(f"bad --set {item!r}: expected key=value, e.g. --set epochs=5")
        settings[key] = _parse_value(value.strip())
    return settings


def _recipe_rows() -> list[dict]:
    """``skser.recipes.list_recipes()`` as a list of dicts, one per recipe."""
    from skser.recipes import list_recipes

    return list_recipes().to_dict(orient="records")


def build_pipeline(recipe: str, settings: dict):
    """``make_ser_pipeline(recipe)`` with the ``--set`` overrides applied.

    A key is a builder option (``sr``, ``random_state``, ``n_jobs``,
    ``yamnet_weights``), a pipeline parameter (``svc__C``, ``model__epochs``),
    or the last part of exactly one pipeline parameter (``epochs`` for
    ``model__epochs``).
    """
    from difflib import get_close_matches

    from skser.recipes import BUILDER_OPTIONS, make_ser_pipeline

    names = [row["name"] for row in _recipe_rows()]
    if recipe not in names:
        raise CLIError(
            f"unknown recipe {recipe!r}; choose one of: {', '.join(names)} (see `skser recipes`)"
        )
    options = {k: v for k, v in settings.items() if k in BUILDER_OPTIONS}
    try:
        pipe = make_ser_pipeline(recipe, **options)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"bad --set for recipe {recipe!r}: {exc}") from exc
    valid = pipe.get_params(deep=True)
    params = {}
    for key, value in settings.items():
        if key in options:
            continue
        if key in valid:
            params[key] = value
            continue
        matches = [name for name in valid if name.endswith(f"__{key}")]
        if len(matches) == 1:
            params[matches[0]] = value
            continue
        if matches:
            raise CLIError(
                f"--set {key} is ambiguous for recipe {recipe!r}: use one of {', '.join(sorted(matches))}"
            )
        close = get_close_matches(key, [*valid, *BUILDER_OPTIONS], n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise CLIError(f"--set {key}: recipe {recipe!r} has no parameter {key!r}{hint}")
    try:
        pipe.set_params(**params)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"bad --set for recipe {recipe!r}: {exc}") from exc
    return pipe


def _set_progress(pipe, enabled: bool) -> None:
    """Turn on the progress bars of the per-clip feature steps (``verbose`` of skser transformers)."""
    if not enabled or not hasattr(pipe, "get_params"):
        return
    params = pipe.get_params(deep=True)
    updates = {}
    for key, value in params.items():
        if not key.endswith("__verbose") or value not in (False, 0):
            continue
        owner = params.get(key[: -len("__verbose")])
        # Keras models print per-epoch logs with verbose; only feature steps get bars.
        if owner is not None and type(owner).__module__.startswith(
            ("skser.features", "skser.audio")
        ):
            updates[key] = True
    if updates:
        pipe.set_params(**updates)


def parse_corpus_spec(spec: str) -> tuple[str, str | None]:
    """``"NAME:PATH"`` or ``"synthetic[:key=value,...]"`` -> ``(name, rest)``."""
    name, sep, rest = spec.partition(":")
    name = name.strip().lower().replace("-", "")
    if name not in (*CORPORA, *CUSTOM_CORPORA):
        raise CLIError(
            f"unknown corpus {name!r} in --corpus {spec!r}; choose one of "
            f"{', '.join((*CORPORA, *CUSTOM_CORPORA))}"
        )
    if name == "csv" and not rest:
        raise CLIError(f"--corpus {spec!r} needs a file: --corpus csv:/path/to/labels.csv")
    if name != "synthetic" and not rest:
        raise CLIError(f"--corpus {spec!r} needs a folder: --corpus {name}:/path/to/{name}")
    return name, (rest or None)


def _custom_corpus(name: str, rest: str, **kwargs):
    """Load ``csv:FILE[:key=value,...]`` or ``folders:ROOT[:speaker=REGEX]``."""
    from skser import datasets

    if name == "folders":
        root, _, regex = rest.partition(":speaker=")
        if not os.path.isdir(root):
            raise CLIError(
                f"corpus folder not found for --corpus folders:{root} ({root!r} is not a folder)"
            )
        return datasets.load_folders(root, speaker=regex or None, **kwargs)
    path, options = rest, {}
    head, _, tail = rest.rpartition(":")
    if head and "=" in tail and not os.path.isfile(rest):
        path = head
        for item in tail.split(","):
            key, sep, value = item.partition("=")
            if not sep or key.strip() not in CSV_OPTIONS:
                raise CLIError(
                    f"bad csv corpus option {item!r}; use csv:FILE:key=value,... with keys "
                    f"{', '.join(CSV_OPTIONS)}"
                )
            options[key.strip()] = value.strip() or None
    if not os.path.isfile(path):
        raise CLIError(f"CSV file not found for --corpus csv:{path} ({path!r} is not a file)")
    return datasets.load_csv(path, **options, **kwargs)


def _synthetic_options(rest: str | None) -> dict:
    options = {"n_speakers": 8, "n_per_class": 10, "duration": 2.0, "random_state": 0}
    if not rest:
        return options
    for item in rest.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in SYNTHETIC_OPTIONS:
            raise CLIError(
                f"bad synthetic corpus option {item!r}; use synthetic:key=value,... with keys "
                f"{', '.join(SYNTHETIC_OPTIONS)}"
            )
        options[key] = _parse_value(value.strip())
    return options


def load_corpora(specs: list[str], *, label_map=None, emotions=None, sr: int = 16000):
    """Load every ``--corpus`` and combine them (speaker ids stay unique across corpora)."""
    from skser import datasets
    from skser.datasets._base import make_corpus

    parsed = [parse_corpus_spec(spec) for spec in specs]
    single = len(parsed) == 1
    corpora = []
    for name, rest in parsed:
        if name == "synthetic":
            corpus = datasets.make_synthetic_corpus(**_synthetic_options(rest), sr=sr)
            if single and (label_map is not None or emotions is not None):
                corpus = make_corpus(
                    corpus.frame,
                    name=corpus.name,
                    X=corpus.X,
                    sr=corpus.sr,
                    label_map=label_map,
                    emotions=emotions,
                    description=corpus.description,
                )
        elif name in CUSTOM_CORPORA:
            kwargs = {"label_map": label_map, "emotions": emotions} if single else {}
            corpus = _custom_corpus(name, rest, **kwargs)
        elif not os.path.isdir(rest):
            raise CLIError(
                f"corpus folder not found for --corpus {name}:{rest} ({rest!r} is not a folder)"
            )
        else:
            # One corpus: label map and emotion filter apply while loading; several: after combining.
            kwargs = {"label_map": label_map, "emotions": emotions} if single else {}
            corpus = getattr(datasets, f"load_{name}")(rest, **kwargs)
        corpora.append(corpus)
    if single:
        return corpora[0]
    return datasets.combine(corpora, label_map=label_map, emotions=emotions)


def _split_list(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _corpus_and_pipeline(args):
    """The pipeline of ``--recipe``/``--set`` and the corpora at its sample rate."""
    from skser.timeline import model_sample_rate

    pipe = build_pipeline(args.recipe, parse_settings(args.set))
    corpus = load_corpora(
        args.corpus,
        label_map=args.label_map,
        emotions=_split_list(args.emotions),
        sr=model_sample_rate(pipe),
    )
    return corpus, pipe


def _describe_corpus(corpus) -> str:
    import numpy as np

    return (
        f"{len(corpus.y)} clips, {len(np.unique(corpus.groups))} speakers, "
        f"emotions {sorted(set(corpus.y))}"
    )


# --------------------------------------------------------------------------- commands


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


def _cmd_recipes(args: argparse.Namespace) -> int:
    """List the ready-made pipelines (recipes) for --recipe."""
    rows = _recipe_rows()
    columns = ["name", "family", "input", "source", "cost"]
    columns += [c for c in (rows[0] if rows else {}) if c not in (*columns, "description")]
    columns.append("description")
    if args.format == "json":
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if args.format == "csv":
        import pandas as pd

        sys.stdout.write(pd.DataFrame(rows, columns=columns).to_csv(index=False))
        return 0
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    if args.format == "table" and not args.wide:  # fit a terminal: shorten all but the description
        cells = [[_shorten(cell, 36) for cell in line[:-1]] + line[-1:] for line in cells]
    if args.format == "markdown":
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for line in cells:
            print("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |")
        return 0
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    widths[-1] = len(columns[-1])  # the description is not padded
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for line in cells:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    return 0


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _cmd_train(args: argparse.Namespace) -> int:
    """Fit a recipe on one or more corpora (all clips) and save it with its metadata."""
    from sklearn import config_context

    from skser.io import save_model
    from skser.model_selection import _groups_routing

    out = Path(args.out)
    if not out.parent.is_dir() and str(out.parent):
        raise CLIError(f"output folder {str(out.parent)!r} does not exist")
    started = time.perf_counter()
    corpus, pipe = _corpus_and_pipeline(args)
    progress = _progress_enabled(args)
    _set_progress(pipe, progress)
    print(f"Training {args.recipe} on {_describe_corpus(corpus)}", file=sys.stderr)
    routing = _groups_routing(pipe)
    if routing.get("fit"):  # speaker-aware steps (validation split, per-speaker scaling)
        with config_context(enable_metadata_routing=True):
            pipe.fit(corpus.X, corpus.y, groups=corpus.groups)
    else:
        pipe.fit(corpus.X, corpus.y)
    metadata = {
        "recipe": args.recipe,
        "settings": parse_settings(args.set),
        "corpora": list(args.corpus),
        "label_map": args.label_map,
        "emotions": _split_list(args.emotions),
        "n_clips": int(len(corpus.y)),
        "n_speakers": int(len(set(corpus.groups))),
        "fit_seconds": round(time.perf_counter() - started, 3),
    }
    save_model(pipe, out, metadata=metadata)
    print(
        f"Saved {args.recipe} trained on {metadata['n_clips']} clips "
        f"(classes {list(map(str, pipe.classes_)) if hasattr(pipe, 'classes_') else '?'}) "
        f"to {out} in {time.perf_counter() - started:.1f} s."
    )
    return 0


def _cv_for(name: str, seed: int, corpus):
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

    if name == "leave-one-corpus-out":
        from skser.model_selection import LeaveOneCorpusOut

        names = corpus.frame["corpus"].unique()
        if len(names) < 2:
            raise CLIError(
                "--cv leave-one-corpus-out needs at least two corpora: give --corpus twice or "
                "more (e.g. --corpus ravdess:A --corpus emovo:B)"
            )
        return LeaveOneCorpusOut(corpus.frame["corpus"])
    return {
        "auto": None,
        "loso": LeaveOneGroupOut(),
        "gkf5": StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed),
        "random": StratifiedKFold(n_splits=5, shuffle=True, random_state=seed),
    }[name]


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """Cross-validate a recipe on a corpus; speaker-independent unless --cv random."""
    from skser.model_selection import (
        SpeakerLeakageWarning,
        evaluate,
        evaluate_cross_corpus,
        parse_adaptation,
    )

    try:
        parse_adaptation(args.adaptation)
    except ValueError as exc:
        raise CLIError(str(exc).replace("adaptation must", "--adaptation must")) from None
    if args.test_corpus and args.cv != "auto":
        raise CLIError("--test-corpus tests on other corpora: leave --cv out")
    for target in (args.json, args.markdown, args.plot):
        if target and not Path(target).parent.is_dir() and str(Path(target).parent):
            raise CLIError(f"output folder of {target!r} does not exist")
    corpus, pipe = _corpus_and_pipeline(args)
    progress = _progress_enabled(args)  # one bar over the folds (per-clip bars would nest)
    print(
        f"Evaluating {args.recipe} on {_describe_corpus(corpus)} (--cv {args.cv})", file=sys.stderr
    )
    if args.cv == "random":
        print(
            "note: --cv random mixes every speaker into train and test: the result is "
            "SPEAKER-DEPENDENT (only for comparison with published random-split numbers).",
            file=sys.stderr,
        )
    with warnings.catch_warnings():
        if args.cv == "random":  # already said above, in plain words
            warnings.simplefilter("ignore", SpeakerLeakageWarning)
            warnings.filterwarnings("ignore", message="The groups parameter is ignored")
        if args.test_corpus:
            from skser.timeline import model_sample_rate

            test = load_corpora(
                args.test_corpus,
                label_map=args.label_map,
                emotions=_split_list(args.emotions),
                sr=model_sample_rate(pipe),
            )
            print(f"Testing on {_describe_corpus(test)}", file=sys.stderr)
            report = evaluate_cross_corpus(pipe, corpus, test, adaptation=args.adaptation)
        else:
            report = evaluate(
                pipe,
                corpus.X,
                corpus.y,
                groups=corpus.groups,
                cv=_cv_for(args.cv, args.seed, corpus),
                adaptation=args.adaptation,
                n_jobs=args.n_jobs,
                verbose=progress,
            )
    scheme = f"tested on {', '.join(args.test_corpus)}" if args.test_corpus else f"--cv {args.cv}"
    title = (
        f"{args.recipe} on {', '.join(args.corpus)} ({report.evaluation}, {scheme}, "
        f"--adaptation {args.adaptation})"
    )
    print(title)
    print(report)
    if args.json:
        summary = {
            "recipe": args.recipe,
            "settings": parse_settings(args.set),
            "corpora": list(args.corpus),
            "test_corpora": list(args.test_corpus or []),
            "label_map": args.label_map,
            "cv": None if args.test_corpus else args.cv,
            **report.to_dict(),
        }
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
        print(f"Wrote {args.json}", file=sys.stderr)
    if args.markdown:
        Path(args.markdown).write_text(report.to_markdown(title=title))
        print(f"Wrote {args.markdown}", file=sys.stderr)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ax = report.plot_confusion_matrix(
            title=f"{args.recipe}: UAR {report.uar:.3f} ({report.evaluation})"
        )
        ax.figure.savefig(args.plot, dpi=120)
        plt.close(ax.figure)
        print(f"Wrote {args.plot}", file=sys.stderr)
    return 0


def audio_files(inputs: list[str]) -> list[Path]:
    """Files named on the command line, with folders expanded to their audio files (sorted)."""
    import soundfile as sf

    extensions = {f".{ext.lower()}" for ext in sf.available_formats()} | {".aif", ".oga", ".opus"}
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in extensions
            )
            if not found:
                raise CLIError(
                    f"folder {item!r} holds no audio files ({', '.join(sorted(extensions))})"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise CLIError(f"audio file not found: {item!r}")
    return files


def _output_format(args: argparse.Namespace) -> str:
    """``--format``, else from the ``--output`` suffix (``.jsonl``/``.json``: JSON lines), else CSV."""
    fmt = args.format
    if fmt is None:
        suffix = Path(args.output).suffix.lower() if args.output else ""
        fmt = "jsonl" if suffix in (".jsonl", ".json", ".ndjson") else "csv"
    return "jsonl" if fmt == "json" else fmt


def _cmd_predict(args: argparse.Namespace) -> int:
    """Predict the emotion of audio files; long recordings give a timeline over sliding windows."""
    from skser.io import load_model
    from skser.prediction import TIMELINE_WINDOW, PredictionWriter, iter_file_rows, resume_output

    if (args.window is not None and args.window <= 0) or args.hop <= 0:
        raise CLIError("--window and --hop must be positive numbers of seconds")
    if args.min_duration < 0:
        raise CLIError("--min-duration must be zero or a positive number of seconds")
    if not Path(args.model).is_file():
        raise CLIError(f"model file not found: {args.model!r}")
    if args.resume and not args.output:
        raise CLIError("--resume needs --output FILE: the file an earlier run wrote")
    if args.output and not Path(args.output).parent.is_dir() and str(Path(args.output).parent):
        raise CLIError(f"output folder of {args.output!r} does not exist")
    fmt = _output_format(args)
    files = [str(path) for path in audio_files(args.inputs)]
    model = load_model(args.model)
    if args.proba and not hasattr(model, "predict_proba"):
        raise CLIError("--proba: this model has no predict_proba (it gives labels only)")
    classes = [str(c) for c in model.classes_] if args.proba else None
    done, has_header = {}, False
    if args.resume:
        columns = PredictionWriter(io.StringIO(), fmt, classes, header=False).columns
        done, has_header = resume_output(args.output, fmt, columns)
        print(
            f"--resume: {sum(f in done for f in files)} of {len(files)} files are already in "
            f"{args.output}; predicting the other {sum(f not in done for f in files)}",
            file=sys.stderr,
        )
    todo = [f for f in files if f not in done]
    stream = (
        open(args.output, "a" if args.resume else "w", encoding="utf-8", newline="")
        if args.output
        else sys.stdout
    )
    failed, n_rows, timelines = [], 0, 0
    try:
        writer = PredictionWriter(stream, fmt, classes, header=not has_header)
        for rows in iter_file_rows(
            model, todo, on_error="raise" if args.strict else "skip", batch_size=args.batch_size,
            proba=args.proba, window=args.window, hop=args.hop, max_duration=args.max_duration,
            min_duration=args.min_duration, verbose=_progress_enabled(args),
        ):  # fmt: skip
            writer.write(rows)
            n_rows += len(rows)
            if rows[0]["error"] is not None:
                failed.append((rows[0]["file"], rows[0]["error"]))
            elif args.window is None and (len(rows) > 1 or rows[0]["end"] > args.max_duration):
                timelines += 1
    except KeyboardInterrupt:  # Ctrl-C: what is written stays; say how to finish
        where = args.output or "the output"
        print(
            f"interrupted after {n_rows} rows; they are in {where}"
            + (" (run again with --resume to predict the rest)" if args.output else ""),
            file=sys.stderr,
        )
        return 130
    finally:
        if stream is not sys.stdout:
            stream.close()
    if timelines:
        print(
            f"{timelines} recording(s) longer than --max-duration {args.max_duration:g} s: "
            f"predicted a timeline over {TIMELINE_WINDOW:g} s windows every {args.hop:g} s",
            file=sys.stderr,
        )
    earlier = sorted({f for f in files if done.get(f)})
    where = f" to {args.output}" if args.output else ""
    print(
        f"predicted {len(todo) - len(failed)} of {len(todo)} files, {len(failed)} failed; "
        f"wrote {n_rows} rows{where}",
        file=sys.stderr,
    )
    for name, error in failed[:10]:
        print(f"  failed: {error}" if name in error else f"  failed: {name}: {error}", file=sys.stderr)
    if len(failed) > 10:
        print(f"  ... and {len(failed) - 10} more (see the error column)", file=sys.stderr)
    if earlier:
        print(
            f"{len(earlier)} file(s) already in {args.output} failed in an earlier run (remove "
            "their rows to retry them)",
            file=sys.stderr,
        )
    return 1 if failed or earlier else 0


def _cmd_info(args: argparse.Namespace) -> int:
    """Print versions and whether TensorFlow sees a GPU."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import skser

    print(
        f"skser {skser.__version__} on Python {platform.python_version()} ({platform.platform()})"
    )
    for package in (
        "numpy",
        "scikit-learn",
        "librosa",
        "tensorflow",
        "keras",
        "scikeras",
        "optuna",
    ):
        try:
            print(f"  {package:<13} {version(package)}")
        except PackageNotFoundError:
            print(f"  {package:<13} not installed")
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    print(f"  GPU visible to TensorFlow: {', '.join(g.name for g in gpus) if gpus else 'none'}")
    return 0


# --------------------------------------------------------------------------- parser


def _add_recipe_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        action="append",
        required=True,
        metavar="NAME:PATH",
        help="corpus to use, repeatable (combined): "
        + ", ".join(f"{c}:PATH" for c in CORPORA if c != "synthetic")
        + "; your own data: csv:FILE[:label_column=mood,speaker_column=who,...] (columns path, "
        "emotion, speaker by default) or folders:ROOT[:speaker=REGEX] (one folder per emotion; "
        "the regex's first group in each file name is the speaker)"
        + "; or synthetic[:n_speakers=4,n_per_class=3,duration=1.0,random_state=0] (offline)",
    )
    parser.add_argument(
        "--recipe", required=True, help="pipeline recipe name (see `skser recipes`)"
    )
    parser.add_argument(
        "--label-map",
        choices=["fser8", "4class"],
        default=None,
        help="relabel emotions: FSER's 8 classes, or the 4-class task (others dropped)",
    )
    parser.add_argument(
        "--emotions", default=None, help="keep only these emotions, comma-separated"
    )
    parser.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a recipe parameter, repeatable (e.g. --set epochs=5); values are Python literals",
    )
    _add_progress_option(parser)


def _add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on stderr (default: when stderr is a terminal)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skser`` command."""
    parser = argparse.ArgumentParser(
        prog="skser",
        description="Speech emotion recognition with scikit-learn pipelines.",
        epilog="Run `skser COMMAND --help` for the options of a command.",
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

    recipes = commands.add_parser(
        "recipes", help="list the ready-made pipelines", description=_cmd_recipes.__doc__
    )
    recipes.add_argument(
        "--format",
        choices=["table", "markdown", "csv", "json"],
        default="table",
        help="output format",
    )
    recipes.add_argument("--wide", action="store_true", help="table: do not shorten long cells")
    recipes.set_defaults(func=_cmd_recipes)

    train = commands.add_parser(
        "train",
        help="fit a recipe on corpora and save the model",
        description=_cmd_train.__doc__,
        epilog="Example: skser train --corpus ravdess:data/RAVDESS --recipe svm-mfcc --out svm.joblib",
    )
    _add_recipe_options(train)
    train.add_argument("--out", required=True, help="model file to write (.joblib)")
    train.set_defaults(func=_cmd_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="cross-validate a recipe (speaker-independent by default)",
        description=_cmd_evaluate.__doc__,
        epilog="--cv: auto = leave-one-speaker-out up to 12 speakers, else 5 speaker-grouped folds; "
        "loso = leave-one-speaker-out; gkf5 = 5 speaker-grouped stratified folds; random = 5 "
        "stratified folds ignoring speakers (SPEAKER-DEPENDENT, for comparison only); "
        "leave-one-corpus-out = test each --corpus with a model trained on the others. "
        "--adaptation: speaker = the test speakers' unlabeled clips give per-speaker statistics "
        "(lab); none = every clip predicted alone, no speaker ids (deployment, as skser predict); "
        "enroll:K = K clips per test speaker enroll it, the others are scored.",
    )
    _add_recipe_options(evaluate)
    evaluate.add_argument(
        "--cv", choices=CV_CHOICES, default="auto", help="cross-validation scheme"
    )
    evaluate.add_argument(
        "--adaptation", default="speaker", metavar="{speaker,none,enroll:K}",
        help="what a test speaker contributes at prediction time (default speaker)",
    )  # fmt: skip
    evaluate.add_argument(
        "--test-corpus", action="append", metavar="NAME:PATH",
        help="train on every --corpus, test on this corpus (repeatable; shared emotions only)",
    )  # fmt: skip
    evaluate.add_argument("--seed", type=int, default=0, help="seed of shuffled splits")
    evaluate.add_argument("--n-jobs", type=int, default=None, help="folds in parallel (joblib)")
    evaluate.add_argument("--json", metavar="FILE", help="write the report as JSON")
    evaluate.add_argument("--markdown", metavar="FILE", help="write the report as Markdown")
    evaluate.add_argument(
        "--plot", metavar="FILE", help="save the confusion matrix (PNG, SVG, PDF)"
    )
    evaluate.set_defaults(func=_cmd_evaluate)

    predict = commands.add_parser(
        "predict",
        help="predict emotions of audio files or folders with a saved model",
        description=_cmd_predict.__doc__,
        epilog="Rows are written as they are computed. A file that cannot be read, is empty or "
        "is shorter than --min-duration gets a row with an error instead of a label, and the "
        "others are still predicted. Exit status: 0 when every file was predicted, 1 when some "
        "failed (counted on stderr), 2 for bad usage or, with --strict, at the first error, 130 "
        "when interrupted (the rows so far are kept: finish with --resume). "
        "Only load model files you trust: they are pickles and run code when loaded.",
    )
    predict.add_argument("model", help="model file written by `skser train` / skser.save_model")
    predict.add_argument(
        "inputs", nargs="+", metavar="AUDIO", help="audio files or folders (searched recursively)"
    )
    predict.add_argument(
        "--format",
        choices=["csv", "jsonl", "json"],
        default=None,
        help="csv, or jsonl (JSON lines: one object per row; json is the same); default: from "
        "the --output suffix (.jsonl/.json), else csv",
    )
    predict.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    predict.add_argument(
        "--proba", action="store_true", help="add one probability column per class (p_<class>)"
    )
    predict.add_argument(
        "--strict", action="store_true", help="stop at the first file that fails (exit status 2)"
    )
    predict.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run: skip the files already in --output and append",
    )
    predict.add_argument(
        "--min-duration",
        type=float,
        default=0.1,
        metavar="SECONDS",
        help="shorter files are errors (default 0.1)",
    )
    predict.add_argument(
        "--window",
        type=float,
        default=None,
        metavar="SECONDS",
        help="emotion timeline over windows of this length for every file",
    )
    predict.add_argument(
        "--hop",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="seconds between windows (default 1)",
    )
    predict.add_argument(
        "--max-duration",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="files longer than this get a timeline (3 s windows) instead of one label (default 60)",
    )
    predict.add_argument(
        "--batch-size", type=int, default=32, help="files (or windows) per model call"
    )
    _add_progress_option(predict)
    predict.set_defaults(func=_cmd_predict)

    info = commands.add_parser(
        "info", help="versions and GPU visibility", description=_cmd_info.__doc__
    )
    info.set_defaults(func=_cmd_info)
    return parser


@contextlib.contextmanager
def _one_line_warnings(command: str):
    """Show warnings as ``skser CMD: warning: ...`` lines instead of Python's source excerpts."""
    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"skser {command}: warning: {message}", file=sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skser`` console script; returns the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ logs quiet
    args = build_parser().parse_args(argv)
    if getattr(args, "batch_size", 1) < 1:
        print(f"skser {args.command}: error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    try:
        with _one_line_warnings(args.command):
            return args.func(args)
    except BrokenPipeError:  # output piped into `head` & co.: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (ValueError, OSError) as exc:  # CLIError, ModelFileError, FileNotFoundError, ...
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"skser {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
