"""Feature extraction of RAVDESS on a Dask LocalCluster against plain ``n_jobs``.

For MFCC statistics (26 numbers per clip back from a worker) and full mel
spectrograms (128 x ~480 float32 per clip back) this times
``transformer.fit_transform(paths)`` on a subset of RAVDESS in four set-ups:

* ``n_jobs=1``: one loop in this process;
* ``n_jobs=2``: skser's default parallel path (two joblib threads);
* ``dask, 1 worker`` and ``dask, 2 workers``: a ``LocalCluster`` of worker
  processes with one thread each, through ``joblib.parallel_config(backend="dask")``;
  the files are read inside the workers.

Every set-up is warmed up first (workers import skser, the cluster starts:
paid once per session, reported apart), then all set-ups are timed in turn,
``--repeat`` rounds (both clusters stay up, so load from other jobs on a
shared machine hits every set-up alike); the best round is kept. The Dask overhead per clip is
``(wall of dask 1 worker - wall of n_jobs=1) / n_clips``: scheduling,
pickling the clip and its features, and the round trip through the scheduler,
with the same single core doing the work. Outputs are checked to be
identical across set-ups.

Usage::

    python benchmarks/bench_scaling.py --data ../shared/data/ravdess --limit 300

Writes ``benchmarks/results/scaling.json`` and ``scaling.md`` after every row.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import time
from functools import partial
from pathlib import Path

import numpy as np
from _common import DATA, markdown_table, require, write_results


def pick_clips(data: Path, limit: int) -> list[str]:
    """``limit`` RAVDESS clips evenly spread over the corpus (every actor), or all."""
    import skser

    paths = sorted(map(str, skser.load_ravdess(data).X))
    if limit and limit < len(paths):
        paths = [paths[i] for i in np.linspace(0, len(paths) - 1, limit).round().astype(int)]
    return paths


def make_step(feature: str):
    from skser.features import MelSpectrogramTransformer, MFCCTransformer

    if feature == "mfcc_stats":
        return MFCCTransformer(output="stats")
    return MelSpectrogramTransformer(n_mels=128)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "ravdess")
    parser.add_argument("--limit", type=int, default=300, help="clips (0: the whole corpus)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved timed rounds")
    parser.add_argument("--features", nargs="+", default=["mfcc_stats", "mel_spectrogram"])
    args = parser.parse_args()

    from distributed import Client, LocalCluster
    from joblib import parallel_config

    paths = pick_clips(require(args.data, "RAVDESS"), args.limit)
    n = len(paths)
    started_all = time.perf_counter()
    rows, startups = [], {}
    payload = {
        "protocol": (
            "fit_transform(paths) on RAVDESS (all clips, or --limit clips evenly spread over "
            "the 24 actors); "
            "n_jobs=1 (one loop), n_jobs=2 (joblib threads, skser's default), and a Dask "
            "LocalCluster of 1 or 2 worker processes x 1 thread via "
            "parallel_config(backend='dask') (files read in the workers); warm-up first, then "
            f"{args.repeat} rounds timing every set-up in turn, best kept (median in the JSON); "
            "overhead per clip = (dask 1 worker - n_jobs=1) / clips"
        ),
        "corpus": str(args.data),
        "n_clips": n,
        "subset": bool(args.limit) and args.limit < 1440,
        "rows": rows,
        "cluster_startup_s": startups,
    }

    def save():
        payload["wall_time_s"] = round(time.perf_counter() - started_all, 1)
        payload["load_average"] = list(os.getloadavg())
        write_results("scaling", payload, render(payload))

    # Both clusters run side by side (idle workers cost no CPU) so that the
    # set-ups are timed in interleaved rounds: load from other jobs on a shared
    # machine then hits them alike.
    clusters = []
    for workers in (1, 2):
        begun = time.perf_counter()
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: no clash with a running cluster
            silence_logs=logging.ERROR,
        )
        client = Client(cluster, set_as_default=False)
        client.wait_for_workers(workers)
        startups[str(workers)] = round(time.perf_counter() - begun, 2)
        clusters.append((cluster, client))
    setups = {"n_jobs=1": contextlib.nullcontext, "n_jobs=2 (threads)": contextlib.nullcontext}
    for (_, client), workers in zip(clusters, (1, 2), strict=True):
        label = f"dask, {workers} worker{'s' if workers > 1 else ''}"
        setups[label] = partial(parallel_config, backend="dask", client=client)
    n_jobs = {"n_jobs=1": 1, "n_jobs=2 (threads)": 2}
    try:
        for feature in args.features:
            walls = {label: [] for label in setups}
            outputs = {}
            for label, context in setups.items():  # warm-up: workers import skser
                with context():
                    make_step(feature).set_params(n_jobs=n_jobs.get(label)).fit_transform(
                        paths[:8]
                    )
            for _ in range(args.repeat):
                for label, context in setups.items():
                    step = make_step(feature).set_params(n_jobs=n_jobs.get(label))
                    with context():
                        started = time.perf_counter()
                        outputs[label] = step.fit_transform(paths)
                        walls[label].append(time.perf_counter() - started)
            reference = outputs["n_jobs=1"]
            for label in setups:
                same = np.array_equal(outputs[label], reference)
                rows.append(row(feature, label, n, walls[label], same))
            save()
    finally:
        for cluster, client in clusters:
            client.close()
            cluster.close()
    save()


def row(feature, setup, n, walls, identical):
    """Best and median of the timed rounds."""
    wall = min(walls)
    return {
        "feature": feature,
        "setup": setup,
        "wall_s": round(wall, 3),
        "median_wall_s": round(float(np.median(walls)), 3),
        "ms_per_clip": round(1000 * wall / n, 2),
        "identical_to_n_jobs_1": bool(identical),
    }


def render(payload) -> str:
    rows = payload["rows"]
    base = {r["feature"]: r["wall_s"] for r in rows if r["setup"] == "n_jobs=1"}
    table = []
    for r in rows:
        speedup = base[r["feature"]] / r["wall_s"] if r["feature"] in base else None
        table.append(
            [
                r["feature"],
                r["setup"],
                r["wall_s"],
                r["ms_per_clip"],
                "-" if speedup is None else f"{speedup:.2f}",
                "yes" if r["identical_to_n_jobs_1"] else "NO",
            ]
        )
    overhead = []
    for feature, seq in base.items():
        dask1 = next(
            (
                r["wall_s"]
                for r in rows
                if r["feature"] == feature and r["setup"] == "dask, 1 worker"
            ),
            None,
        )
        if dask1 is not None:
            per_clip = 1000 * (dask1 - seq) / payload["n_clips"]
            overhead.append(f"- {feature}: {per_clip:+.2f} ms per clip")
    corpus = (
        "a subset of RAVDESS, evenly spread over the actors"
        if payload["subset"]
        else "RAVDESS, all clips"
    )
    load = ", ".join(f"{x:.1f}" for x in payload.get("load_average", []))
    lines = [
        "# Scaling: feature extraction on a Dask cluster",
        "",
        f"{payload['n_clips']} clips ({corpus}), "
        f"2 CPUs shared with other jobs (load average at the end: {load}).",
        "",
        f"Protocol: {payload['protocol']}.",
        "",
        markdown_table(
            ["feature", "set-up", "wall (s)", "ms / clip", "speed-up vs n_jobs=1", "identical"],
            table,
        ),
        "Dask overhead per clip (1 worker process vs the same work in one loop):",
        "",
        *overhead,
        "",
        "Cluster start-up (once per session, not in the walls above): "
        + ", ".join(f"{k} worker(s) {v} s" for k, v in payload["cluster_startup_s"].items()),
        "",
        f"Wall time of the whole run: {payload.get('wall_time_s')} s.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
