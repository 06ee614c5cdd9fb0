"""Single-clip latency, file to label, in a warm process; and the CLI's wall time for one file.

What is measured is speed, not accuracy: every recipe is fitted on a small
RAVDESS training set (``--train`` clips spread over the corpus, no speaker
grouping, deep recipes for ``--epochs`` epochs without early stopping), so
the fitted models are poor classifiers but run exactly the inference path of
a fully trained one (same features, same network, same weights shapes).

Latency: after three warm-up calls, ``pipe.predict([path])`` for each of
``--clips`` other RAVDESS files (about 3-4 s each), one file per call, the
decode cache emptied before each call so that every call reads and decodes
its file; p50 and p95 over the calls.

CLI: ``skser predict model.joblib one.wav`` in a fresh process (start-up,
imports, model load, decode, features, prediction, CSV out), for a saved
``svm-mfcc`` (and ``recommended-classical``) model; best and median of ``--cli-runs``.
For ``svm-mfcc`` also one ``skser predict`` over ``--memory-files`` files
(default 100 and 1,000): wall time and the process's peak RSS, which must
not grow with the number of files (they are streamed in batches).
Beside it, the floor no command can go under: a fresh ``python -c`` that
only loads the same model file with joblib (Python start-up and the imports
unpickling needs: scikit-learn, NumPy, SciPy, and for a Keras model
TensorFlow), measured in the same runs, alternating with the command.

Running a subset of recipes (``--recipes``) keeps the rows of the others from
the existing result file; every row carries the commit, date and load average
it was measured at.

Usage::

    python benchmarks/bench_latency.py --train 48 --clips 50 --epochs 1

Writes ``benchmarks/results/latency.{json,md}`` after every recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _common import DATA, RESULTS, YAMNET, markdown_table, provenance, require, write_results

TARGET_MS = 20.0
TARGET_MS_YAMNET_CRNN = 40.0
TARGET_CLI_S = 1.5


def _pick(corpus, train: int, clips: int):
    """``train`` training clips and ``clips`` other clips, both spread over the corpus."""
    order = np.random.default_rng(0).permutation(len(corpus.y))
    return corpus.X[np.sort(order[:train])], corpus.y[np.sort(order[:train])], [
        str(p) for p in corpus.X[np.sort(order[train : train + clips])]
    ]


def _short_fit(pipe, epochs: int):
    params = pipe.get_params()
    updates = {k: epochs for k in params if k.endswith("__epochs")}
    updates.update({k: False for k in params if k.endswith("__early_stopping")})
    return pipe.set_params(**updates), bool(updates)


def _latencies(pipe, paths: list[str]) -> list[float]:
    from skser.audio import clear_decode_cache

    for path in paths[:3]:
        pipe.predict([path])
    out = []
    for path in paths:
        clear_decode_cache()
        start = time.perf_counter()
        pipe.predict([path])
        out.append(time.perf_counter() - start)
    return out


def _cli_times(model: Path, clip: str, runs: int) -> tuple[list[float], list[float]]:
    """Wall times of ``skser predict`` and of a process that only loads the model, alternated."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [*_cli_command(model), clip]
    floor_cmd = [sys.executable, "-c", f"import joblib; joblib.load({str(model)!r})"]
    times, floor = [], []
    for _ in range(runs):
        for command, out in ((cmd, times), (floor_cmd, floor)):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            out.append(time.perf_counter() - start)
    return times, floor


def _cli_memory(model: Path, files: list[str]) -> dict:
    """Wall time and peak RSS of one ``skser predict`` over ``files`` (a fresh process)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    proc = subprocess.Popen([*_cli_command(model), *files], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)  # the rusage of this child alone
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"skser predict failed: {proc.stderr.read().decode()[-2000:]}")
    proc.stderr.close()
    return {"files": len(files), "wall_s": round(wall, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}  # Linux: ru_maxrss in KiB


def _cli_command(model: Path) -> list[str]:
    exe = Path(sys.executable).with_name("skser")
    return [str(exe), "predict", str(model)] if exe.exists() else [
        sys.executable, "-m", "skser.cli", "predict", str(model)]  # fmt: skip


def _measured() -> dict:
    """When and where a row was measured (rows of earlier runs keep theirs)."""
    info = provenance()
    return {"commit": info["commit"], "uncommitted_changes": info["uncommitted_changes"],
            "date": info["date"], "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip


def _earlier(key: str, names: list[str]) -> dict:
    """Rows of ``key`` ("recipes" or "cli") in the existing result file, for recipes not rerun."""
    path = RESULTS / "latency.json"
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    fallback = {"commit": old.get("provenance", {}).get("commit"),
                "date": old.get("provenance", {}).get("date"),
                "load_average_1_5_15": old.get("load_average_1_5_15")}  # fmt: skip
    return {n: {**row, "measured": row.get("measured", fallback)}
            for n, row in old.get(key, {}).items() if n not in names}  # fmt: skip


def _when(row: dict) -> str:
    measured = row.get("measured") or {}
    load = measured.get("load_average_1_5_15") or ["?"]
    dirty = "+" if measured.get("uncommitted_changes") else ""
    return f"{measured.get('commit')}{dirty}, {load[0]:.1f}" if load[0] != "?" else "-"


def _target(name: str) -> float:
    return TARGET_MS_YAMNET_CRNN if name == "crnn-yamnet-lstm" else TARGET_MS


def render(p: dict) -> str:
    """The Markdown of a result payload (rows and CLI runs)."""
    rows, cli = p["recipes"], p["cli"]
    lines = [
        "# Single-clip latency and CLI start-up",
        "",
        f"Warm process, file to label, one clip per call, {p['timed_clips']} RAVDESS clips "
        f"(mean {p['mean_clip_s']} s); models fitted on {p['train_clips']} clips "
        f"({p['epochs']} epoch(s) for deep recipes): latency, not accuracy, is measured. "
        "Shared 2-core machine (other jobs running): each row says when it was measured "
        "and the load average (1 min) then; timings on a busy machine are upper bounds.",
        "",
        markdown_table(
            ["recipe", "p50 (ms)", "p95 (ms)", "min (ms)", "target p50 (ms)", "met",
             "fit (s)", "measured (commit, load)"],
            [[n, r["p50_ms"], r["p95_ms"], r["min_ms"], r["target_ms"],
              "yes" if r["p50_ms"] <= r["target_ms"] else "no", r["fit_s"], _when(r)]
             for n, r in rows.items()],
        ),  # fmt: skip
    ]
    if cli:
        lines += [
            "`skser predict model.joblib one.wav`, fresh process, wall time including "
            f"start-up (target {TARGET_CLI_S} s for a classical model):",
            "",
            markdown_table(
                ["model", "best (s)", "median (s)", "floor: load only, best (s)", "runs",
                 "met", "measured (commit, load)"],
                [[n, c["best_s"], c["median_s"], c.get("floor_best_s", "-"), c["runs"],
                  "yes" if c["best_s"] <= TARGET_CLI_S else "no", _when(c)]
                 for n, c in cli.items()],
            ),  # fmt: skip
            "",
            "The floor is a fresh `python -c \"import joblib; joblib.load(model)\"`: Python "
            "start-up and the imports unpickling the model needs (scikit-learn imports SciPy "
            "and pandas itself), which no command can avoid.",
        ]
        memory = [(n, m) for n, c in cli.items() for m in c.get("memory", [])]
        if memory:
            lines += [
                "",
                "Peak memory of one `skser predict model.joblib FILE...` over many RAVDESS "
                "files (fresh process; peak RSS of that process; files streamed in batches "
                "of 32):",
                "",
                markdown_table(["model", "files", "wall (s)", "peak RSS (MB)",
                                "measured (commit, load)"],
                               [[n, m["files"], m["wall_s"], m["peak_rss_mb"], _when(m)]
                                for n, m in memory]),  # fmt: skip
            ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=48, help="training clips (small on purpose)")
    parser.add_argument("--clips", type=int, default=50, help="clips timed, one per call")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the deep recipes")
    parser.add_argument("--cli-runs", type=int, default=3)
    parser.add_argument("--recipes", nargs="+", default=None)
    parser.add_argument("--memory-files", type=int, nargs="+", default=[100, 1000],
                        help="file counts of the CLI peak-memory runs (svm-mfcc)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # no-groups and tiny-training-set warnings: speed only

    import skser
    from skser.recipes import list_recipes

    corpus = skser.load_ravdess(require(DATA / "ravdess", "RAVDESS"))
    X, y, paths = _pick(corpus, args.train, args.clips)
    table = list_recipes().set_index("name")
    deep = [n for n in table.index if table.loc[n, "family"] not in ("baseline", "fusion")]
    names = args.recipes or ["svm-mfcc", "recommended", "recommended-classical", *deep]
    rows, cli = _earlier("recipes", names), _earlier("cli", names)
    tmp = Path(tempfile.mkdtemp(prefix="skser-latency-"))
    started_all = time.perf_counter()

    def save():
        order = ["svm-mfcc", "recommended", "recommended-classical", *deep]  # whatever was rerun
        for table_rows in (rows, cli):
            kept = dict(table_rows)
            table_rows.clear()
            table_rows.update(sorted(kept.items(), key=lambda kv: order.index(kv[0])
                                     if kv[0] in order else len(order)))  # fmt: skip
        write_results("latency", payload(), render(payload()))

    def payload():
        return {
            "protocol": __doc__.split("Usage::")[0].strip(),
            "train_clips": args.train, "timed_clips": args.clips, "epochs": args.epochs,
            "mean_clip_s": round(float(np.mean([skser.load_audio(p)[0].size for p in paths]))
                                 / 16000, 2),
            "recipes": rows, "cli": cli,
            "load_average_1_5_15": list(os.getloadavg()),
            "wall_s": round(time.perf_counter() - started_all, 1),
        }  # fmt: skip


    for name in names:
        if table.loc[name, "needs_yamnet"] and not YAMNET.exists():
            print(f"skip {name}: no YAMNet weights at {YAMNET}", flush=True)
            continue
        pipe = skser.make_ser_pipeline(name, yamnet_weights=str(YAMNET))
        pipe, is_deep = _short_fit(pipe, args.epochs)
        print(f"{name}: fitting on {len(y)} clips ...", flush=True)
        start = time.perf_counter()
        pipe.fit(X, y)
        fit_s = time.perf_counter() - start
        lat = np.asarray(_latencies(pipe, paths)) * 1000
        rows[name] = {
            "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p95_ms": round(float(np.percentile(lat, 95)), 1),
            "min_ms": round(float(lat.min()), 1),
            "target_ms": _target(name),
            "fit_s": round(fit_s, 1),
            "short_fit": is_deep,
            "measured": _measured(),
        }
        print(f"    {rows[name]}", flush=True)
        if name in ("svm-mfcc", "recommended-classical"):
            model = tmp / f"{name}.joblib"
            skser.save_model(pipe, model)
            times, floor = _cli_times(model, paths[0], args.cli_runs)
            cli[name] = {"best_s": round(min(times), 2),
                         "median_s": round(statistics.median(times), 2), "runs": len(times),
                         "floor_best_s": round(min(floor), 2),
                         "floor_median_s": round(statistics.median(floor), 2),
                         "measured": _measured()}  # fmt: skip
            if name == "svm-mfcc":  # memory over many files: streamed in batches
                cli[name]["memory"] = [
                    {**_cli_memory(model, [str(p) for p in corpus.X[:n]]), "measured": _measured()}
                    for n in args.memory_files
                ]
            print(f"    CLI {cli[name]}", flush=True)
        save()


if __name__ == "__main__":
    main()
