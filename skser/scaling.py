"""Helpers for running skser on many processes and machines.

Features, ``evaluate`` folds and search folds need no helper: they follow
``joblib.parallel_config`` (``backend="dask"`` for a Dask cluster). Tuning
with many :class:`~skser.tuning.OptunaSearchCV` processes on one study needs
a database storage whose trials survive a worker that dies:
:func:`optuna_storage` builds it.
"""

from __future__ import annotations

import warnings

__all__ = ["optuna_storage"]


def optuna_storage(
    url: str,
    *,
    heartbeat_interval: int = 60,
    grace_period: int | None = None,
    max_retry: int | None = 3,
    engine_kwargs: dict | None = None,
):
    """An Optuna database storage for many workers, with heartbeats and retries.

    Every running trial records a heartbeat every ``heartbeat_interval``
    seconds. A trial whose worker died (killed, preempted, lost its machine)
    stops beating; after ``grace_period`` seconds the next worker that starts
    a trial marks it ``FAIL`` and queues a copy with the same parameters,
    which a live worker then runs. The study goes on; the failed trial stays
    in it, never selected.

    Pass the result as ``storage=`` of :class:`~skser.tuning.OptunaSearchCV`
    in every worker, with the same ``study_name``.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of the database: ``"postgresql+psycopg://user:password@host:5432/db"``
        for a cluster (PostgreSQL, driver from ``pip install "skser[scale]"``),
        ``"sqlite:///tuning.db"`` for processes of one machine.
    heartbeat_interval : int, default=60
        Seconds between two heartbeats of a running trial.
    grace_period : int or None, default=None
        Seconds without a heartbeat after which a running trial counts as
        dead. ``None``: twice ``heartbeat_interval``. Keep it well above the
        interval (a busy machine can delay a beat).
    max_retry : int or None, default=3
        How many times a dead trial is queued again (``None``: always, ``0``:
        never; it is only marked ``FAIL``).
    engine_kwargs : dict or None, default=None
        Passed to ``sqlalchemy.create_engine``; ``pool_pre_ping=True`` is the
        default, so connections dropped while a long trial ran are renewed.

    Returns
    -------
    optuna.storages.RDBStorage

    Notes
    -----
    Dead trials are detected only when a live worker starts a trial, so at
    least one worker must keep running. The schema of a new database is
    created by the first worker; workers starting together retry that race.

    Examples
    --------
    >>> import os, tempfile
    >>> from skser.scaling import optuna_storage
    >>> url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "tuning.db")
    >>> storage = optuna_storage(url, heartbeat_interval=30, max_retry=1)
    >>> storage.heartbeat_interval, storage.grace_period
    (30, None)
    """
    import optuna
    from optuna.exceptions import ExperimentalWarning

    from skser.tuning import _open_storage

    if max_retry is not None and (isinstance(max_retry, bool) or max_retry < 0):
        raise ValueError(f"max_retry must be None or an integer >= 0, got {max_retry!r}.")
    options = {"pool_pre_ping": True, **(engine_kwargs or {})}
    with warnings.catch_warnings():  # heartbeats are marked experimental in Optuna
        warnings.simplefilter("ignore", ExperimentalWarning)
        callback = {}
        if max_retry != 0:
            callback = _retry_callback(optuna, max_retry)
        return _open_storage(
            url,
            engine_kwargs=options,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            **callback,
        )


def _retry_callback(optuna, max_retry):
    """The RDBStorage keyword that queues dead trials again (renamed in Optuna 4.9)."""
    storages = optuna.storages
    if hasattr(storages, "RetryHeartbeatStaleTrialCallback"):
        retry = storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
        return {"heartbeat_stale_trial_callback": retry}
    return {"failed_trial_callback": storages.RetryFailedTrialCallback(max_retry=max_retry)}
