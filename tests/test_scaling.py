"""Dask: features, evaluate folds and search folds on a real LocalCluster of worker processes.

One LocalCluster (2 worker processes, 1 thread each) serves the module; every
test compares the cluster run with the same call run locally. The last test
runs the cluster recipe of docs/guide/scaling.md as written (its ``dask
scheduler`` and ``dask worker`` commands, then its script), on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from joblib import parallel_config
from optuna.distributions import FloatDistribution
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skser.features._base as feature_base
from skser import evaluate
from skser.audio import AudioLoader
from skser.features import MelSpectrogramTransformer, MFCCTransformer
from skser.tuning import OptunaSearchCV

try:
    import distributed
except ImportError:  # the test extra has it: CI must run these tests
    if os.environ.get("CI"):
        raise
    pytest.skip(
        "dask.distributed is not installed (pip install 'skser[scale]')", allow_module_level=True
    )

SR = 16000


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: no clash with a running cluster
        silence_logs=logging.ERROR,
    )
    with distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def clips(small_corpus, tmp_path_factory):
    """The synthetic corpus as WAV files: absolute paths, labels, speakers."""
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for i, wave in enumerate(small_corpus.X):
        path = folder / f"clip{i:02d}.wav"
        sf.write(path, wave, SR, subtype="FLOAT")
        paths.append(str(path))
    return paths, np.asarray(small_corpus.y), np.asarray(small_corpus.groups)


@pytest.fixture
def no_reads_here(monkeypatch):
    """Make reading audio in this (the client) process fail: only workers may read."""

    def refuse(path, **kwargs):
        raise AssertionError(f"{path} was read in the client process, not in a worker")

    monkeypatch.setattr(feature_base, "load_audio", refuse)
    monkeypatch.setattr("skser.audio.load_audio", refuse)


def on_cluster(client, func):
    """``func()`` inside ``parallel_config(backend="dask")``; result and the workers used."""
    with distributed.get_task_stream(client) as tasks, parallel_config(backend="dask"):
        result = func()
    return result, {task["worker"] for task in tasks.data}


STEPS = {
    "mfcc-stats": lambda: MFCCTransformer(output="stats"),
    "mel": lambda: MelSpectrogramTransformer(n_mels=40, max_frames=80),
    "loader": lambda: AudioLoader(sr=SR),
}


@pytest.fixture(scope="module")
def local_features(clips):
    """Reference: every step of STEPS run in this process (module scope: before any patch)."""
    paths, _, _ = clips
    return {name: make().fit_transform(paths) for name, make in STEPS.items()}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_features_identical_and_paths_read_in_workers(
    client, clips, local_features, no_reads_here, name
):
    paths, _, _ = clips
    with pytest.raises(AssertionError, match="read in the client"):
        STEPS[name]().fit_transform(paths[:1])  # the guard works
    remote, workers = on_cluster(client, lambda: STEPS[name]().fit_transform(paths))
    # Ran on the cluster; how tasks spread over the two workers is the scheduler's
    # choice (on a loaded machine one worker may take them all).
    assert workers, f"{name} ran on no worker"
    local = local_features[name]
    if name == "loader":  # a list of waveforms
        assert len(remote) == len(local)
        for a, b in zip(local, remote, strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        assert remote.dtype == local.dtype == np.float32
        np.testing.assert_array_equal(remote, local)


def test_path_a_worker_cannot_see_names_it_and_the_rule(client, clips, tmp_path, monkeypatch):
    # The client sees "moved.wav" (relative to its working directory); the workers,
    # started in another directory, do not: the situation of a corpus that is not on
    # a shared file system.
    paths, _, _ = clips
    Path(tmp_path / "moved.wav").write_bytes(Path(paths[0]).read_bytes())
    monkeypatch.chdir(tmp_path)
    assert os.path.exists("moved.wav")
    assert str(tmp_path) not in set(client.run(os.getcwd).values())
    local = MFCCTransformer(output="stats").fit_transform(["moved.wav", paths[1]])
    assert local.shape[0] == 2  # fine in the client's own process

    with pytest.raises(FileNotFoundError) as error, parallel_config(backend="dask"):
        MFCCTransformer(output="stats").fit_transform(["moved.wav", paths[1]])
    message = str(error.value)
    assert "'moved.wav'" in message
    assert "on worker process" in message
    assert "every path must exist on every worker" in message


def _cache_entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("output.pkl"))


def test_cache_shared_by_two_workers(client, clips, local_features, tmp_path, monkeypatch):
    paths, _, _ = clips
    cache = tmp_path / "cache"
    # Six clips, each four times in a shuffled order: both workers compute and
    # store the same entries at the same time.
    X = list(np.random.default_rng(0).permutation(paths[:6] * 4))
    expected = local_features["mfcc-stats"][[paths.index(p) for p in X]]

    def run():
        return MFCCTransformer(output="stats", memory=str(cache)).fit_transform(X)

    first, workers = on_cluster(client, run)
    assert len(workers) == 2  # both workers wrote the cache concurrently
    np.testing.assert_array_equal(first, expected)
    assert len(_cache_entries(cache)) == 6  # one entry per distinct clip, none torn
    again, _ = on_cluster(client, run)
    np.testing.assert_array_equal(again, expected)
    assert len(_cache_entries(cache)) == 6

    # Every entry the workers wrote loads in another process: with reading audio
    # disabled here, a local run can only succeed from the cache.
    def refuse(path, **kwargs):
        raise AssertionError(f"cache miss: {path} was read")

    monkeypatch.setattr(feature_base, "load_audio", refuse)
    np.testing.assert_array_equal(run(), expected)


def _report_without_times(report):
    out = report.to_dict()
    out.pop("fit_time")
    out.pop("predict_time_per_clip")
    for fold in out["folds"]:
        fold.pop("fit_time")
        fold.pop("predict_time")
    return out


def test_evaluate_report_identical_on_cluster(client, clips):
    paths, y, groups = clips
    pipe = make_pipeline(
        MFCCTransformer(output="stats"), StandardScaler(), LogisticRegression(max_iter=500)
    )
    local = evaluate(pipe, paths, y, groups=groups)
    remote, workers = on_cluster(client, lambda: evaluate(pipe, paths, y, groups=groups))
    assert workers  # ran on the cluster (spread is the scheduler's choice)
    assert len(remote.folds) == 4  # leave-one-speaker-out over 4 speakers
    assert _report_without_times(remote) == _report_without_times(local)
    np.testing.assert_array_equal(remote.y_pred, local.y_pred)
    np.testing.assert_array_equal(remote.y_proba, local.y_proba)


@pytest.fixture(scope="module")
def stats(local_features, clips):
    _, y, groups = clips
    return local_features["mfcc-stats"], y, groups


def test_grid_search_folds_identical_on_cluster(client, stats):
    X, y, groups = stats
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))

    def search():
        grid = {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}
        return GridSearchCV(pipe, grid, cv=GroupKFold(4)).fit(X, y, groups=groups)

    local = search()
    remote, workers = on_cluster(client, search)
    assert workers  # ran on the cluster (spread is the scheduler's choice)
    assert remote.best_params_ == local.best_params_
    for i in range(4):
        key = f"split{i}_test_score"
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])


def test_optuna_search_folds_identical_on_cluster(client, stats):
    X, y, groups = stats
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))

    def search():
        space = {"logisticregression__C": FloatDistribution(1e-3, 1e2, log=True)}
        return OptunaSearchCV(pipe, space, n_trials=4, random_state=0).fit(X, y, groups=groups)

    local = search()
    remote, workers = on_cluster(client, search)
    assert workers  # ran on the cluster (spread is the scheduler's choice)
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    assert remote.best_params_ == local.best_params_
    for i in range(local.n_splits_):
        key = f"split{i}_test_score"
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])


# ----------------------------------------------------------------- the docs page, as written

PAGE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "scaling.md"
RAVDESS_CODES = {"neutral": "01", "happiness": "03", "sadness": "04", "anger": "05"}


def _fake_ravdess(folder: Path, corpus) -> dict[str, np.ndarray]:
    """The synthetic corpus laid out as RAVDESS (Actor_XX/03-01-EE-II-SS-RR-AA.wav).

    Returns each file's waveform by path.
    """
    waves = {}
    actors = {speaker: i + 1 for i, speaker in enumerate(sorted(set(corpus.groups)))}
    seen: dict = {}
    for wave, emotion, speaker in zip(corpus.X, corpus.y, corpus.groups, strict=True):
        k = seen[speaker, emotion] = seen.get((speaker, emotion), -1) + 1
        actor = actors[speaker]
        name = (
            f"03-01-{RAVDESS_CODES[emotion]}-01-{1 + k // 2:02d}-{1 + k % 2:02d}-{actor:02d}.wav"
        )
        (folder / f"Actor_{actor:02d}").mkdir(parents=True, exist_ok=True)
        path = folder / f"Actor_{actor:02d}" / name
        sf.write(path, wave, SR, subtype="FLOAT")
        waves[str(path)] = np.asarray(wave, dtype=np.float32)
    return waves


def _page_commands(port: int) -> list[list[str]]:
    """The page's ``dask scheduler`` / ``dask worker`` lines, on 127.0.0.1:<port>."""
    text = PAGE.read_text(encoding="utf-8")
    lines = [
        line.split("#")[0].strip()
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)
        for line in block.splitlines()
    ]
    commands = [line for line in lines if line.startswith("dask ")]
    assert [c.split()[1] for c in commands] == ["scheduler", "worker"], commands
    dask = Path(sys.executable).with_name("dask")
    out = []
    for command in commands:
        command = command.replace("scheduler-host:8786", f"127.0.0.1:{port}")
        command = command.replace("--port 8786", f"--port {port} --host 127.0.0.1")
        out.append([str(dask), *command.split()[1:], "--no-dashboard"])
    return out


@pytest.mark.slow
def test_scaling_page_recipe_runs(small_corpus, tmp_path, no_reads_here):
    data, cache = tmp_path / "ravdess", tmp_path / "cache"
    waves = _fake_ravdess(data, small_corpus)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    try:
        for i, command in enumerate(_page_commands(port)):  # the scheduler, then the workers
            with open(tmp_path / f"dask{i}.log", "w") as log:  # the child keeps its own copy
                procs.append(subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=log))
            if len(procs) == 1:
                time.sleep(1)
        with distributed.Client(address, timeout=120) as probe_client:
            probe_client.wait_for_workers(2, timeout=120)
            assert set(probe_client.nthreads().values()) == {1}

        blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)
        (recipe,) = [b for b in blocks if "Client(" in b]
        recipe = (
            recipe.replace("tcp://scheduler-host:8786", address)
            .replace("/mnt/corpora/ravdess", str(data))
            .replace("/mnt/cache/skser", str(cache))
        )
        namespace: dict = {"__name__": "__recipe__"}
        exec(compile(recipe, str(PAGE), "exec"), namespace)  # noqa: S102
        namespace["client"].close()
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # The client could not read audio (no_reads_here): the workers did.
    corpus, features = namespace["corpus"], namespace["features"]
    in_memory = [waves[str(path)] for path in corpus.X]  # the same clips, no file read
    np.testing.assert_array_equal(
        features, MFCCTransformer(output="stats").fit_transform(in_memory)
    )
    assert len(_cache_entries(cache)) == 48
    report = namespace["report"]
    assert report.speaker_independent and len(report.folds) == 4
    assert namespace["search"].best_params_["svc__C"] in (0.1, 1.0, 10.0)
    assert sorted(set(corpus.groups)) == ["01", "02", "03", "04"]
