"""Batch prediction over many audio files that keeps going past bad ones.

:func:`predict_files` streams files through a fitted model in batches, so
memory holds one batch of waveforms whatever the number of files. A file that
cannot be read, holds no samples or is shorter than ``min_duration`` gives a
row whose ``error`` says why (``on_error="skip"``) instead of ending the job;
recordings longer than ``max_duration`` get an emotion timeline
(:func:`skser.predict_timeline`).

:class:`PredictionWriter` writes rows as CSV or JSON lines as they are
computed, and :func:`resume_output` reads back what an interrupted run wrote,
so that ``skser predict --resume`` only predicts the files still missing.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from skser.audio import load_audio, open_audio_file
from skser.timeline import model_sample_rate, predict_timeline

__all__ = [
    "predict_files",
    "iter_file_rows",
    "PredictionWriter",
    "resume_output",
    "OUTPUT_FORMATS",
    "TIMELINE_WINDOW",
]

#: Window (seconds) of the timeline of recordings longer than ``max_duration``.
TIMELINE_WINDOW = 3.0
#: Output formats of :class:`PredictionWriter`: CSV, or JSON lines (one object per line).
OUTPUT_FORMATS = ("csv", "jsonl")
#: The columns of every prediction row, before the probability columns.
BASE_COLUMNS = ("file", "start", "end", "label", "error")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _plain(value):
    """NumPy scalars as Python ones (JSON and CSV cells)."""
    return value.item() if isinstance(value, np.generic) else value


def _probe(name: str, min_duration: float) -> float:
    """Duration of an audio file from its header; ``ValueError`` when it cannot be used."""
    info = open_audio_file(name, sf.info)
    if info.frames <= 0:
        raise ValueError(f"Audio file {name!r} contains no samples.")
    duration = info.frames / info.samplerate
    if duration < min_duration:
        raise ValueError(
            f"Audio file {name!r} is too short: {duration:.3f} s, under min_duration "
            f"{min_duration:g} s."
        )
    return duration


def _error_row(name: str, exc: BaseException, classes) -> dict:
    row = {"file": name, "start": None, "end": None, "label": None, "error": _one_line(exc)}
    if classes is not None:
        row["probabilities"] = None
    return row


def iter_file_rows(
    model,
    paths: Iterable,
    *,
    on_error: str = "raise",
    batch_size: int = 32,
    proba: bool = False,
    sr: int | None = None,
    window: float | None = None,
    hop: float = 1.0,
    max_duration: float | None = None,
    min_duration: float = 0.1,
    verbose: bool = False,
) -> Iterator[list[dict]]:
    """Like :func:`predict_files`, but yields the rows of one file at a time (a list).

    A timeline gives several rows per file; this is what lets a writer put a
    file's rows on disk together (``skser predict --resume`` relies on it).
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    for option, value in (("window", window), ("max_duration", max_duration)):
        if value is not None and not value > 0:
            raise ValueError(f"{option} must be a positive number of seconds, got {value!r}.")
    if not hop > 0 or min_duration < 0:
        raise ValueError(f"hop must be positive and min_duration >= 0; got {hop!r}, {min_duration!r}.")
    if proba and not hasattr(model, "predict_proba"):
        raise ValueError(
            f"proba=True needs a model with predict_proba; {type(model).__name__} has none."
        )
    sr = model_sample_rate(model) if sr is None else int(sr)
    classes = [str(_plain(c)) for c in model.classes_] if proba else None
    strict = on_error == "raise"
    # The label is the most probable class whenever there are probabilities (as in
    # predict_timeline), so that proba=True adds columns without changing labels.
    has_proba = hasattr(model, "predict_proba")

    def predict(waves) -> tuple[list, np.ndarray | None]:
        clips = np.empty(len(waves), dtype=object)
        clips[:] = waves
        if has_proba:
            probabilities = np.asarray(model.predict_proba(clips), dtype=float)
            labels = np.asarray(model.classes_)[np.argmax(probabilities, axis=1)].tolist()
            return labels, probabilities if proba else None
        return np.asarray(model.predict(clips)).tolist(), None

    def clip_row(name, duration, label, probabilities):
        row = {"file": name, "start": 0.0, "end": round(duration, 3), "label": _plain(label),
               "error": None}  # fmt: skip
        if classes is not None:
            row["probabilities"] = dict(zip(classes, map(float, probabilities), strict=True))
        return row

    def flush(pending):
        """Predict the waveforms of ``pending`` (a batch); yield every item's rows in order."""
        clips = [item for item in pending if not isinstance(item, list)]
        labels, probabilities = [], None
        if clips:
            try:
                labels, probabilities = predict([wave for _, _, wave in clips])
            except Exception:  # one clip breaks the model: find which, file by file
                labels = None
        k = 0
        for item in pending:
            if isinstance(item, list):  # rows already made (an error, or a timeline)
                yield item
                continue
            name, duration, wave = item
            if labels is not None:
                p = None if probabilities is None else probabilities[k]
                yield [clip_row(name, duration, labels[k], p)]
            else:
                try:
                    label, p = predict([wave])
                except Exception as exc:
                    if strict:
                        raise ValueError(f"Cannot predict {name!r}: {_one_line(exc)}") from exc
                    yield [_error_row(name, ValueError(f"prediction failed: {_one_line(exc)}"), classes)]
                    continue
                yield [clip_row(name, duration, label[0], None if p is None else p[0])]
            k += 1
        pending.clear()

    def timeline_rows(name):
        table = predict_timeline(model, name, sr=sr, window=window or TIMELINE_WINDOW, hop=hop,
                                 batch_size=batch_size)  # fmt: skip
        rows = []
        for record in table.to_dict(orient="records"):
            row = {"file": name, "start": round(float(record["start"]), 3),
                   "end": round(float(record["end"]), 3), "label": _plain(record["label"]),
                   "error": None}  # fmt: skip
            if classes is not None:
                row["probabilities"] = {c: float(record[c]) for c in classes}
            rows.append(row)
        return rows

    bar = None
    if verbose:
        from tqdm.auto import tqdm

        total = len(paths) if hasattr(paths, "__len__") else None
        bar = tqdm(total=total, desc="predicting", unit="file")
    pending: list = []
    try:
        for path in paths:
            name = os.fspath(path)
            try:
                duration = _probe(name, min_duration)
                if window is not None or (max_duration is not None and duration > max_duration):
                    pending.append(timeline_rows(name))
                else:
                    pending.append((name, duration, load_audio(name, sr=sr)[0]))
            except Exception as exc:  # whatever breaks one file must not end the job
                if not strict:
                    pending.append([_error_row(name, exc, classes)])
                else:
                    yield from flush(pending)  # what came before is kept
                    if isinstance(exc, ValueError | OSError):
                        raise
                    raise ValueError(f"Cannot predict {name!r}: {_one_line(exc)}") from exc
            if bar is not None:
                bar.update(1)
            if len(pending) >= batch_size:
                yield from flush(pending)
        yield from flush(pending)
    finally:
        if bar is not None:
            bar.close()


def predict_files(
    model,
    paths: Iterable,
    *,
    on_error: str = "raise",
    batch_size: int = 32,
    proba: bool = False,
    sr: int | None = None,
    window: float | None = None,
    hop: float = 1.0,
    max_duration: float | None = None,
    min_duration: float = 0.1,
    verbose: bool = False,
) -> Iterator[dict]:
    """Predict the emotion of many audio files, batch by batch; yields one row per file.

    Files are read (down-mixed, resampled to the model's rate) and predicted
    ``batch_size`` at a time, so memory holds one batch of waveforms. The
    rows come in the order of ``paths``, each as soon as its batch is done:
    iterate to stream them, or take ``pandas.DataFrame(predict_files(...))``.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        Takes a sequence of 1-D waveforms at its sample rate (every skser
        recipe does), e.g. from :func:`skser.load_model`.
    paths : iterable of str or PathLike
        Audio files (any format libsndfile reads). A generator is fine.
    on_error : {"raise", "skip"}, default="raise"
        What a file that cannot be used does: ``"raise"`` stops with a
        ``ValueError`` (or ``FileNotFoundError``) naming it, after yielding
        the rows of the files before it; ``"skip"`` yields a row whose
        ``error`` says what is wrong (label ``None``) and goes on.
    batch_size : int, default=32
        Files per model call (and windows per call for timelines).
    proba : bool, default=False
        Add ``probabilities``, a dict of class -> probability (the model
        needs ``predict_proba``). Whether or not, the label of a model with
        ``predict_proba`` is its most probable class (as in
        :func:`skser.predict_timeline`); without, it is ``predict``'s.
    sr : int, optional
        Sample rate the model expects; default: its ``sr`` parameters.
    window : float, optional
        Seconds: give every file an emotion timeline over windows of this
        length (one row per window) instead of one row.
    hop : float, default=1.0
        Seconds between timeline windows.
    max_duration : float, optional
        Seconds: longer files get a timeline over 3 s windows (read window by
        window) instead of being read whole. Default: every file is read whole.
    min_duration : float, default=0.1
        Seconds: shorter files are errors ("too short").
    verbose : bool, default=False
        Progress bar over the files.

    Yields
    ------
    dict
        ``file``, ``start`` and ``end`` (seconds; ``0`` and the duration for
        a whole file), ``label``, ``error`` (``None``, or the message for a
        file that failed, whose ``start``/``end``/``label`` are ``None``) and,
        with ``proba``, ``probabilities``.

    Raises
    ------
    ValueError, FileNotFoundError
        With ``on_error="raise"``, for the first file that cannot be read, is
        empty or too short, or that the model fails on; for bad options.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, soundfile as sf
    >>> import skser
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skser.features import MFCCTransformer
    >>> corpus = skser.make_synthetic_corpus(n_speakers=2, n_per_class=1, duration=1.0)
    >>> model = make_pipeline(MFCCTransformer(output="stats"), LogisticRegression())
    >>> model = model.fit(corpus.X, corpus.y)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(folder / "good.wav", corpus.X[0], 16000)
    >>> _ = (folder / "broken.wav").write_text("not audio")
    >>> rows = list(predict_files(model, [folder / "good.wav", folder / "broken.wav"],
    ...                           on_error="skip"))
    >>> rows[0]["error"] is None, rows[1]["label"] is None, "Cannot read" in rows[1]["error"]
    (True, True, True)
    """
    for rows in iter_file_rows(
        model, paths, on_error=on_error, batch_size=batch_size, proba=proba, sr=sr,
        window=window, hop=hop, max_duration=max_duration, min_duration=min_duration,
        verbose=verbose,
    ):  # fmt: skip
        yield from rows


class PredictionWriter:
    """Write prediction rows to a text stream as CSV or JSON lines, flushing each file's rows.

    Parameters
    ----------
    stream : text file
        Where to write (an open file or ``sys.stdout``).
    fmt : {"csv", "jsonl"}
        CSV: columns ``file,start,end,label,error`` and, with ``classes``,
        one ``p_<class>`` column per class. JSON lines: one object per row
        with the same keys (``probabilities`` as an object).
    classes : list of str, optional
        Class names of the probability columns.
    header : bool, default=True
        Write the CSV header first (not when appending to a file that has it).
    """

    def __init__(self, stream, fmt: str, classes=None, *, header: bool = True):
        if fmt not in OUTPUT_FORMATS:
            raise ValueError(f"fmt must be one of {OUTPUT_FORMATS}, got {fmt!r}.")
        self.stream, self.fmt, self.classes = stream, fmt, classes
        if fmt == "csv" and header:
            self._emit([self.columns])

    @property
    def columns(self) -> list[str]:
        """The CSV columns."""
        return [*BASE_COLUMNS, *(f"p_{c}" for c in self.classes or [])]

    def _emit(self, lines: list) -> None:
        buffer = io.StringIO()
        if self.fmt == "csv":
            csv.writer(buffer, lineterminator="\n").writerows(lines)
        else:
            buffer.writelines(line + "\n" for line in lines)
        # One write per file's rows, so an interrupted run leaves whole files behind.
        self.stream.write(buffer.getvalue())
        self.stream.flush()

    def write(self, rows: list[dict]) -> None:
        """Write rows (usually those of one file) and flush."""
        if self.fmt == "jsonl":
            self._emit([json.dumps(row, default=_plain) for row in rows])
            return
        lines = []
        for row in rows:
            probabilities = row.get("probabilities") or {}
            cells = [row[c] for c in BASE_COLUMNS]
            cells += [
                "" if c not in probabilities else round(probabilities[c], 6)
                for c in self.classes or []
            ]
            lines.append(["" if cell is None else cell for cell in cells])
        self._emit(lines)


def _first_field(line: str, fmt: str) -> str | None:
    """The ``file`` of one output line (``None`` when the line is cut too short to tell)."""
    if fmt == "jsonl":
        try:
            return json.loads(line)["file"]
        except (ValueError, KeyError, TypeError):
            return None
    try:
        return next(csv.reader([line]))[0]
    except (csv.Error, StopIteration, IndexError):
        return None


def resume_output(path: str | os.PathLike, fmt: str, columns: list[str]) -> tuple[dict, bool]:
    """Read what a previous run wrote to ``path`` and make it safe to append to.

    A run killed in the middle of a write can leave a cut last line; it is
    removed, together with the rows of its file, so that file is predicted
    again. Other rows are kept as they are.

    Parameters
    ----------
    path : str or PathLike
        The output of the earlier run (CSV or JSON lines).
    fmt : {"csv", "jsonl"}
        Its format.
    columns : list of str
        The CSV columns this run writes; a CSV with other columns (another
        model's classes, or with/without ``--proba``) cannot be continued.

    Returns
    -------
    done : dict
        File -> error message of its row (``None`` when it was predicted).
    has_header : bool
        Whether the file (still) starts with the CSV header.

    Raises
    ------
    ValueError
        If the file's CSV header differs from ``columns``, or a line is not a
        row of this format.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return {}, False
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1  # bytes of whole lines
    lines = data[:keep].decode("utf-8").splitlines()
    tail = data[keep:].decode("utf-8", errors="replace")
    start = 0
    if fmt == "csv":
        if not lines:
            path.write_bytes(b"")
            return {}, False
        header = next(csv.reader([lines[0]]))
        if header != columns:
            raise ValueError(
                f"cannot resume {str(path)!r}: it has the columns {header} but this run writes "
                f"{columns} (same model and --proba as the first run are needed)."
            )
        start = 1
    files = []
    for number, line in enumerate(lines[start:], start=start + 1):
        name = _first_field(line, fmt)
        if name is None:
            raise ValueError(
                f"cannot resume {str(path)!r}: line {number} is not a {fmt} prediction row."
            )
        files.append(name)
    if tail:
        cut = len(files)
        # The cut line may be the end of a file whose first rows were written whole.
        while cut > 0 and _line_starts_with_file(tail, files[cut - 1], fmt):
            cut -= 1
        drop = len(files) - cut
        lines = lines[: len(lines) - drop]
        files = files[:cut]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    done = {}
    errors = _errors_of(lines[start:], fmt)
    for name, error in zip(files, errors, strict=True):
        done[name] = error if done.get(name) is None else done[name]
    return done, fmt == "csv"


def _line_starts_with_file(line: str, name: str, fmt: str) -> bool:
    """Whether a cut line may be a row of file ``name`` (when in doubt yes: it is redone)."""
    if fmt == "jsonl":
        key = json.dumps({"file": name})[:-1] + ","
    else:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow([name, ""])
        key = buffer.getvalue()  # the file's cell and its comma
    return line.startswith(key) or key.startswith(line)


def _errors_of(lines: list[str], fmt: str) -> list[str | None]:
    if fmt == "jsonl":
        return [json.loads(line).get("error") for line in lines]
    index = BASE_COLUMNS.index("error")
    return [next(csv.reader([line]))[index] or None for line in lines]
