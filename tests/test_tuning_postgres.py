"""Many OptunaSearchCV processes on one study, in PostgreSQL and in SQLite.

The PostgreSQL cases need a server: ``.ci/run`` starts one and sets
``SKSER_TEST_POSTGRES_URL``; without it they skip locally (and fail in CI,
which must run them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid

import optuna
import pytest
from optuna.trial import TrialState
from sqlalchemy.exc import SQLAlchemyError

from skser.scaling import optuna_storage

# Heartbeats and their retry callback are marked experimental in Optuna.
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

POSTGRES_URL = "SKSER_TEST_POSTGRES_URL"
# Renamed in Optuna 4.9 (the old name is a deprecated alias).
Retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or (
    optuna.storages.RetryFailedTrialCallback
)

WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import numpy as np
    import optuna
    from optuna.distributions import FloatDistribution
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from skser.scaling import optuna_storage
    from skser.tuning import OptunaSearchCV

    mode, url, name = sys.argv[1:4]
    seed, n_trials, total = map(int, sys.argv[4:7])

    class Hang(LogisticRegression):
        def fit(self, X, y):  # a training this worker never finishes: it gets killed
            time.sleep(600)

    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 20)
    X = rng.normal(size=(40, 3)) + y[:, None]
    groups = np.repeat(np.arange(4), 10)
    storage = url if mode == "plain" else optuna_storage(
        url, heartbeat_interval=1, grace_period=2, max_retry=1
    )
    search = OptunaSearchCV(
        Hang() if mode == "hang" else LogisticRegression(),
        {"C": FloatDistribution(1e-3, 1e3, log=True)},
        storage=storage, study_name=name, n_trials=n_trials, random_state=seed, cv=2,
    ).fit(X, y, groups=groups)

    # Wait for every worker's trials, then read the whole study without running one.
    deadline = time.monotonic() + 180
    while True:
        trials = optuna.load_study(study_name=name, storage=url).trials
        if sum(t.state.is_finished() for t in trials) >= total:
            break
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {total} finished trials")
        time.sleep(0.2)
    final = clone(search).set_params(n_trials=0).fit(X, y, groups=groups)
    print(json.dumps({
        "pid": os.getpid(), "own_trials": search.n_trials_, "n_trials": final.n_trials_,
        "best_params": final.best_params_, "best_score": final.best_score_,
    }))
    """
)


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request, tmp_path):
    """A database URL: a fresh SQLite file, or the PostgreSQL server of .ci/run."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'study.db'}"
    url = os.environ.get(POSTGRES_URL)
    if not url:
        reason = (
            f"no PostgreSQL server: {POSTGRES_URL} is not set (.ci/run starts one; locally "
            f"point it at a database, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/skser_test)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests, but {reason}")
        pytest.skip(reason)
    pytest.importorskip("psycopg", reason="the PostgreSQL driver: pip install 'skser[scale]'")
    return url


@pytest.fixture
def worker(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)

    started = []

    def start(mode, url, name, *, seed, n_trials, total):
        """Run WORKER: mode "plain" (URL string), "heartbeat" (optuna_storage) or "hang"."""
        args = [sys.executable, str(script), mode, url, name, str(seed), str(n_trials), str(total)]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:  # a failed test leaves no worker behind
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def finish(proc, timeout=240):
    stdout, stderr = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_workers_one_study(storage_url, worker):
    name = f"shared-{uuid.uuid4().hex}"
    procs = [worker("plain", storage_url, name, seed=seed, n_trials=4, total=8) for seed in (1, 2)]
    results = [finish(p) for p in procs]

    study = optuna.load_study(study_name=name, storage=storage_url)
    assert sorted(t.number for t in study.trials) == list(range(8))
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    pids = [int(t.user_attrs["worker"].rsplit(":", 1)[1]) for t in study.trials]
    assert sorted(pids) == sorted([p.pid for p in procs] * 4)  # four trials each
    assert all(r["own_trials"] >= 4 for r in results)
    # Read from either worker, the study is the same, and so is its best.
    assert [r["n_trials"] for r in results] == [8, 8]
    assert results[0]["best_params"] == results[1]["best_params"] == study.best_params
    assert results[0]["best_score"] == results[1]["best_score"] == study.best_value


@pytest.mark.slow
def test_killed_worker_trial_fails_and_is_retried(storage_url, worker):
    name = f"killed-{uuid.uuid4().hex}"
    hanging = worker("hang", storage_url, name, seed=1, n_trials=1, total=1)
    deadline = time.monotonic() + 120
    running = []
    while not running:  # wait until the hanging worker is inside its trial
        assert hanging.poll() is None, hanging.communicate()[1]
        assert time.monotonic() < deadline, "the hanging worker never started its trial"
        time.sleep(0.2)
        try:
            study = optuna.load_study(study_name=name, storage=storage_url)
        except (KeyError, SQLAlchemyError):  # the worker is still creating the schema or study
            continue
        # RUNNING with its parameters drawn: inside the (hanging) fit of a fold.
        running = [t for t in study.trials if t.state == TrialState.RUNNING and t.params]
    hanging.kill()  # as a machine that goes away: no chance to clean up
    hanging.communicate()
    killed = running[0]
    trials = optuna.load_study(study_name=name, storage=storage_url).trials
    assert [t.state for t in trials] == [TrialState.RUNNING]  # nobody has noticed yet

    time.sleep(3)  # past the grace period (2 s) of the dead trial's last heartbeat
    result = finish(worker("heartbeat", storage_url, name, seed=2, n_trials=3, total=4))

    study = optuna.load_study(study_name=name, storage=storage_url)
    dead = next(t for t in study.trials if t.number == killed.number)
    assert dead.state == TrialState.FAIL and dead.params == killed.params
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 3 and len(study.trials) == 4  # the study went on
    retries = [t for t in complete if Retry.retried_trial_number(t) is not None]
    assert [Retry.retried_trial_number(t) for t in retries] == [killed.number]
    assert retries[0].params == killed.params  # the same point, run by a live worker
    assert result["n_trials"] == 4
    assert result["best_params"] == study.best_params


def test_optuna_storage_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = optuna_storage(url, heartbeat_interval=5, grace_period=20, max_retry=2)
    assert (storage.heartbeat_interval, storage.grace_period) == (5, 20)
    assert storage.engine_kwargs["pool_pre_ping"] is True
    assert storage.get_heartbeat_stale_trial_callback() is not None
    assert optuna_storage(url, max_retry=0).get_heartbeat_stale_trial_callback() is None
    with pytest.raises(ValueError, match="max_retry"):
        optuna_storage(url, max_retry=-1)
