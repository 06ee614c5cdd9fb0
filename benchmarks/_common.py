"""What every benchmark script shares: provenance, result files, feature caching.

Each script writes ``benchmarks/results/<name>.json`` (protocol, corpus, folds,
seeds, versions, hardware, wall time, numbers) and ``<name>.md`` (a table with
the papers' numbers beside ours), plus confusion-matrix PNGs.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"
CACHE = REPO / "benchmarks" / "cache"
SHARED = Path(os.environ.get("SKSER_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
YAMNET = SHARED / "models" / "yamnet.tflite"

PACKAGES = ("skser", "numpy", "scikit-learn", "librosa", "tensorflow", "keras", "scikeras")


def provenance() -> dict:
    """Package versions, hardware and the git commit, for every result file."""
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    commit = _git("rev-parse", "--short", "HEAD")
    # Tracked files edited since that commit: the numbers may not be the commit's.
    # Result files do not count: a benchmark rewrites its own after every row.
    changed = _git("status", "--porcelain", "--untracked-files=no", "--", ".",
                   ":(exclude)benchmarks/results")
    dirty = None if changed is None else bool(changed)
    return {
        "versions": versions,
        "python": platform.python_version(),
        "hardware": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "device": _device(),
        },
        "commit": commit,
        "uncommitted_changes": dirty,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def _git(*args: str) -> str | None:
    """Output of a git command in the repository, or None without git."""
    try:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _device() -> str:
    """'CPU' or the GPU TensorFlow sees (only checked when TensorFlow is already imported)."""
    if "tensorflow" not in sys.modules:
        return "CPU"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return ", ".join(g.name for g in gpus) if gpus else "CPU"


def write_results(name: str, payload: dict, markdown: str) -> None:
    """Write ``<name>.json`` (payload + provenance) and ``<name>.md`` under results/."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, **payload, "provenance": provenance()}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, default=_plain) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(f"wrote {RESULTS / name}.json and .md")


def save_confusion_png(report, path_stem: str, title: str) -> str:
    """Save the report's confusion matrix as ``results/<path_stem>.png``; returns the file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = report.plot_confusion_matrix(title=title)
    name = f"{path_stem}.png"
    ax.figure.savefig(RESULTS / name, dpi=110)
    plt.close(ax.figure)
    return name


def enable_feature_cache(pipeline, subdir: str = "features"):
    """Give every skser feature step of ``pipeline`` a per-clip joblib cache.

    Recipes share feature settings, so after the first recipe most features
    come from the cache. Returns the pipeline.
    """
    from joblib import Memory

    memory = Memory(CACHE / subdir, verbose=0)
    params = pipeline.get_params()
    updates = {
        key: memory
        for key, value in params.items()
        if key.endswith("memory") and value is None and _is_skser_step(params, key)
    }
    return pipeline.set_params(**updates)


def _is_skser_step(params: dict, key: str) -> bool:
    owner = key.rsplit("__", 1)[0] if "__" in key else None
    return owner is not None and type(params.get(owner)).__module__.startswith("skser")


def _plain(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def preimport_tensorflow(enabled: bool) -> float:
    """Import TensorFlow now if ``enabled`` (to separate its cost); seconds it took, else 0."""
    if not enabled:
        return 0.0
    started = time.perf_counter()
    import tensorflow  # noqa: F401

    return time.perf_counter() - started


def first_and_warm_call(estimator, X) -> tuple[float, float]:
    """Seconds of a process's first ``fit_transform(X)`` and of the next, warm one."""
    times = []
    for _ in range(2):
        started = time.perf_counter()
        estimator.fit_transform(X)
        times.append(time.perf_counter() - started)
    return times[0], times[1]


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def require(path: Path, what: str) -> Path:
    """Exit with a clear message when a corpus or model is absent."""
    if not path.exists():
        raise SystemExit(f"{what} not found at {path}; see ../shared/data/README.md")
    return path


def format_uar(row: dict) -> str:
    """A result row's UAR as ``mean ± std`` over folds; a one-fold row has no spread.

    Tables show the number of folds next to it.
    """
    if row.get("folds_run") == 1:
        return f"{row['uar']:.3f}"
    return f"{row['uar']:.3f} ± {row['uar_std']:.3f}"


def format_deployment(row: dict) -> str:
    """Deployment UAR (no speaker ids at prediction) of a row; '—' for rows measured before."""
    if "uar_deployment" not in row:
        return "—"
    return format_uar({"uar": row["uar_deployment"], "uar_std": row["uar_deployment_std"],
                       "folds_run": row.get("folds_run")})  # fmt: skip


def format_ci(row: dict, key: str = "uar_pooled_ci95") -> str:
    """95 % speaker-bootstrap interval of the pooled UAR; '—' for rows measured before."""
    if key not in row:
        return "—"
    low, high = row[key]
    return f"{low:.2f}–{high:.2f}"
