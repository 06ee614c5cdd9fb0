"""Optuna hyper-parameter search as a scikit-learn meta-estimator.

:class:`OptunaSearchCV` runs an Optuna study whose objective is the mean
cross-validated score of ``estimator`` with the sampled parameters. Unlike
Optuna's own (deprecated) search class it creates a fresh study per ``fit``,
so it can itself be cross-validated without trials leaking across outer
folds; it splits speaker-independently by default and routes ``groups``
like scikit-learn's ``GridSearchCV``; and with ``storage`` several worker
processes can share one study.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import socket
import time
import warnings
from collections.abc import Mapping
from copy import deepcopy

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FixedTrial, TrialState
from scipy.stats import rankdata
from sklearn import get_config
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
)
from sklearn.utils import _safe_indexing, check_random_state, get_tags, indexable
from sklearn.utils._available_if import available_if
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from skser._validation import check_option, check_positive
from skser.features._normalization import speaker_scorer
from skser.metrics import uar_scorer
from skser.model_selection import SpeakerLeakageWarning, check_speaker_independent, default_cv

__all__ = ["OptunaSearchCV"]

#: User attributes every trial of this search carries.
_SPLIT_SCORES = "split_test_scores"
_FIT_TIMES = "split_fit_times"
_WORKER = "worker"
_FOLD_ERRORS = "fold_errors"


def _search_estimator_has(attr):
    """``available_if`` check: the refit best estimator (else the template) has ``attr``."""

    def check(self):
        if hasattr(self, "best_estimator_"):
            getattr(self.best_estimator_, attr)
            return True
        getattr(self.estimator, attr)
        return True

    return check


class OptunaSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Hyper-parameter search with Optuna, speaker-independent and leak-free.

    Each trial samples parameters, sets them on a clone of ``estimator`` and
    scores it by cross-validation on the training data only; the study
    maximizes (or minimizes) the mean fold score. Every ``fit`` creates a new
    study, so wrapping the search in ``cross_validate`` gives each outer fold
    its own trials (nested CV), unless you pass ``study`` or a shared
    ``storage`` + ``study_name`` on purpose.

    Parameters
    ----------
    estimator : estimator object
        The estimator (usually a :class:`~sklearn.pipeline.Pipeline`) to tune.
    param_distributions : dict or callable
        The search space, in one of two forms:

        * a dict mapping parameter names (``"svc__C"``) to Optuna
          distributions: ``IntDistribution(1, 64)``,
          ``FloatDistribution(1e-3, 1e3, log=True)``,
          ``CategoricalDistribution(["rbf", "linear"])``. Names are checked
          against ``estimator.get_params()`` before any trial runs.
        * a callable ``space(trial) -> dict`` that calls ``trial.suggest_*``
          and returns the parameters to set; use it for conditional spaces,
          derived values or whole estimators as values::

              def space(trial):
                  kind = trial.suggest_categorical("kind", ["svc", "logreg"])
                  if kind == "svc":
                      return {"clf": SVC(C=trial.suggest_float("C", 1e-2, 1e2, log=True))}
                  return {"clf": LogisticRegression(C=trial.suggest_float("lr_C", 1e-2, 1e2))}

          It must be deterministic given the suggested values: the search
          replays it with :class:`optuna.trial.FixedTrial` to rebuild each
          trial's parameters (``best_params_``, ``cv_results_["params"]``).
    cv : int, cross-validation generator, iterable or None, default=None
        Inner splitting. ``None``: speaker-independent by
        :func:`skser.model_selection.default_cv` when ``groups`` are given
        (leave-one-speaker-out for at most 12 speakers, else
        ``StratifiedGroupKFold(5)``), else ``StratifiedKFold(5)``. An int:
        ``StratifiedGroupKFold(cv)`` with groups, ``StratifiedKFold(cv)``
        without (group/plain ``KFold`` for regressors). The splits are drawn
        once per ``fit`` and shared by all trials.
    scoring : str, callable or None, default=None
        Scorer (greater is better unless ``direction="minimize"``). ``None``:
        unweighted average recall, :func:`skser.metrics.uar_scorer`.
    adaptation : {"none", "speaker"}, default="none"
        The protocol of the inner validation scores, as in
        :func:`skser.evaluate`: ``"none"`` scores every validation clip
        without speaker ids (deployment); ``"speaker"`` hands the validation
        speakers' ids to ``predict`` (per-speaker statistics from their
        unlabeled clips; needs ``groups`` and
        ``sklearn.set_config(enable_metadata_routing=True)``). ``best_score_``
        is then comparable with ``evaluate(..., adaptation=...)``.
    n_trials : int or None, default=10
        Trials to run in this ``fit`` (per worker when sharing ``storage``).
        ``None`` runs until ``timeout``. ``0`` runs none and only reads a
        shared study (``storage`` + ``study_name``, or ``study``): once all
        workers are done, its ``best_params_`` is the best of all their trials.
    timeout : float or None, default=None
        Stop starting new trials after this many seconds.
    random_state : int, RandomState instance or None, default=None
        Seed of the ``TPESampler`` of a study created here. Give each worker
        sharing a study a different seed, or they sample the same points.
    study : optuna.study.Study or None, default=None
        Use this study (its sampler, pruner and direction) instead of a fresh
        one. Its earlier trials count: trials accumulate across fits.
    storage : str or optuna.storages.BaseStorage or None, default=None
        Optuna storage such as ``"sqlite:///tuning.db"``. With ``study_name``
        the study is created or joined (``load_if_exists=True``): start the
        same script in several processes or machines and they share one study,
        each running ``n_trials``. The best trial of the shared study is refit.
    study_name : str or None, default=None
        Name of the study (needed to join one in ``storage``).
    direction : {"maximize", "minimize"}, default="maximize"
        Direction of a study created here.
    refit : bool, default=True
        Refit ``best_estimator_`` on all of ``X`` with ``best_params_``.
    n_jobs : int or None, default=None
        Cross-validation folds of a trial fitted in parallel (joblib).
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit or scoring raises. ``"raise"`` re-raises.
        A trial with a NaN fold is recorded as FAIL and never selected.
    verbose : bool or int, default=False
        Show Optuna's per-trial log and a progress bar.
    pruner : optuna.pruners.BasePruner or None, default=None
        Pruner of a study created here; ``None`` never prunes. See Notes.

    Attributes
    ----------
    best_params_ : dict
        Parameters of the best trial, as set on the estimator.
    best_score_ : float
        Mean cross-validated score of the best trial.
    best_index_ : int
        Index of the best trial in ``cv_results_``.
    best_estimator_ : estimator
        ``estimator`` with ``best_params_``, fitted on all of ``X`` (``refit=True``).
    study_ : optuna.study.Study
        The study of this fit (all its trials, other workers' included).
    n_trials_ : int
        Number of trials in ``study_``, whatever their state.
    cv_results_ : dict of ndarray
        One entry per trial of ``study_``: ``number``, ``state`` (COMPLETE,
        PRUNED, FAIL, ...), ``params``, ``param_<name>`` (masked where a
        trial has no such parameter), ``split{i}_test_score`` (NaN for folds
        a pruned trial never ran), ``mean_test_score``, ``std_test_score``,
        ``rank_test_score`` (complete trials first), ``mean_fit_time``,
        ``std_fit_time``. ``pandas.DataFrame(cv_results_)`` works.
    scorer_ : callable
        The scorer used.
    n_splits_ : int
        Number of inner cross-validation splits.
    refit_time_ : float
        Seconds spent refitting ``best_estimator_``.
    classes_ : ndarray of shape (n_classes,)
        Classes of ``best_estimator_`` (classifiers).

    See Also
    --------
    skser.model_selection.evaluate : Speaker-independent outer evaluation.
    sklearn.model_selection.RandomizedSearchCV : The exhaustive-free sklearn analogue.

    Notes
    -----
    **Groups.** ``fit(X, y, groups=...)`` splits by speaker. With
    ``sklearn.set_config(enable_metadata_routing=True)`` ``groups`` (and other
    metadata) is also routed to the pipeline steps that request it, e.g.
    ``SpeakerStandardScaler().set_fit_request(groups=True)``, and the search
    can be nested in ``cross_validate(search, X, y, cv=GroupKFold(3),
    params={"groups": g})``: the outer training groups reach the inner cv and
    the steps. Without routing, ``groups`` only drives the inner cv and the
    other ``fit`` parameters go to ``estimator.fit``.

    **Pruning** works at the fold level, which is generic (any estimator) and
    only ever uses inner validation folds, never an outer test fold: after
    each inner fold the trial reports the running mean score with
    ``trial.report(score, step=fold_index)`` and stops as PRUNED when
    ``pruner`` says so. For costly models (Keras networks) this skips the
    remaining folds of a hopeless configuration, e.g. with
    ``optuna.pruners.MedianPruner(n_startup_trials=5)``. Epochs inside one fold
    are not reported to the trial (the fold index is the step); a Keras model
    stops its own training with ``EarlyStopping`` on a validation split taken
    from that fold's training speakers.

    Examples
    --------
    >>> import numpy as np
    >>> from optuna.distributions import FloatDistribution
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skser.tuning import OptunaSearchCV
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([0, 1], 30)
    >>> X = rng.normal(size=(60, 4)) + y[:, None]
    >>> groups = np.repeat(np.arange(6), 10)  # six speakers
    >>> search = OptunaSearchCV(
    ...     make_pipeline(StandardScaler(), LogisticRegression()),
    ...     {"logisticregression__C": FloatDistribution(1e-3, 1e2, log=True)},
    ...     n_trials=5, random_state=0,
    ... ).fit(X, y, groups=groups)
    >>> search.n_trials_, search.n_splits_  # leave-one-speaker-out inner cv
    (5, 6)
    >>> sorted(search.best_params_)
    ['logisticregression__C']
    >>> search.predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        cv=None,
        scoring=None,
        adaptation="none",
        n_trials=10,
        timeout=None,
        random_state=None,
        study=None,
        storage=None,
        study_name=None,
        direction="maximize",
        refit=True,
        n_jobs=None,
        error_score=np.nan,
        verbose=False,
        pruner=None,
    ):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.cv = cv
        self.scoring = scoring
        self.adaptation = adaptation
        self.n_trials = n_trials
        self.timeout = timeout
        self.random_state = random_state
        self.study = study
        self.storage = storage
        self.study_name = study_name
        self.direction = direction
        self.refit = refit
        self.n_jobs = n_jobs
        self.error_score = error_score
        self.verbose = verbose
        self.pruner = pruner

    # ------------------------------------------------------------------ tags / routing

    def __sklearn_tags__(self):
        # As BaseSearchCV: the search is whatever kind of estimator it wraps.
        tags = super().__sklearn_tags__()
        sub = get_tags(self.estimator)
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = deepcopy(sub.classifier_tags)
        tags.regressor_tags = deepcopy(sub.regressor_tags)
        tags.input_tags.pairwise = sub.input_tags.pairwise
        tags.input_tags.sparse = sub.input_tags.sparse
        return tags

    def _get_scorer(self):
        scoring = uar_scorer() if self.scoring is None else self.scoring
        if self.adaptation == "speaker":
            # Hands the validation fold's speaker ids to predict (lab protocol).
            return speaker_scorer(scoring)
        return check_scoring(self.estimator, scoring)

    def _routing_splitter(self):
        # None/int become group splitters when groups are given; both consume
        # ``groups``, so the router must say so for the metadata to reach fit.
        if self.cv is None or isinstance(self.cv, numbers.Integral):
            return StratifiedGroupKFold()
        return self.cv

    def get_metadata_routing(self):
        """Metadata routing of this search: ``fit`` routes to the estimator, cv and scorer.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        router = MetadataRouter(owner=self)
        router.add(
            estimator=self.estimator,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        router.add(
            scorer=self._get_scorer(),
            method_mapping=MethodMapping()
            .add(caller="score", callee="score")
            .add(caller="fit", callee="score"),
        )
        router.add(
            splitter=self._routing_splitter(),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )
        return router

    # ------------------------------------------------------------------ validation

    def _check_params(self):
        if self.n_trials is None:
            if self.timeout is None:
                raise ValueError("n_trials=None needs a timeout, else the search never ends.")
        elif (
            isinstance(self.n_trials, bool)
            or not isinstance(self.n_trials, numbers.Integral)
            or self.n_trials < 0
        ):
            raise ValueError(
                f"n_trials must be an integer >= 1 (or None with a timeout), got {self.n_trials!r}."
            )
        elif self.n_trials == 0 and self.study is None and self.storage is None:
            raise ValueError(
                "n_trials=0 runs no trial: it only reads a shared study (storage= and "
                "study_name=, or study=)."
            )
        check_positive(self.timeout, "timeout", allow_none=True)
        check_option(self.direction, "direction", ["maximize", "minimize"])
        check_option(self.adaptation, "adaptation", ["none", "speaker"])
        if not (self.error_score == "raise" or isinstance(self.error_score, numbers.Real)):
            raise ValueError(f"error_score must be 'raise' or a number, got {self.error_score!r}.")
        if self.study is not None and (self.storage is not None or self.study_name is not None):
            raise ValueError("Pass either study= or storage=/study_name=, not both.")
        space = self.param_distributions
        if callable(space):
            return
        if not isinstance(space, Mapping):
            raise TypeError(
                "param_distributions must be a dict of name -> optuna distribution or a "
                f"callable space(trial) -> dict, got {type(space).__name__}."
            )
        if not space:
            raise ValueError("param_distributions is empty: there is nothing to search.")
        bad = [k for k, v in space.items() if not isinstance(v, BaseDistribution)]
        if bad:
            raise TypeError(
                f"param_distributions values must be optuna distributions "
                f"(IntDistribution, FloatDistribution, CategoricalDistribution); not so for {bad}."
            )
        self._check_names(space)

    def _check_names(self, params):
        valid = self.estimator.get_params(deep=True)
        unknown = sorted(k for k in params if k not in valid)
        if unknown:
            raise ValueError(
                f"param_distributions names parameters {type(self.estimator).__name__} does not "
                f"have: {unknown}. Valid names include: {sorted(valid)[:20]}."
            )

    # ------------------------------------------------------------------ the study

    def _make_study(self):
        if self.study is not None:
            return self.study
        seed = self.random_state
        if seed is not None and not isinstance(seed, numbers.Integral):
            seed = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
        return optuna.create_study(
            storage=_open_storage(self.storage),
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=self.pruner if self.pruner is not None else optuna.pruners.NopPruner(),
            study_name=self.study_name,
            direction=self.direction,
            load_if_exists=self.storage is not None and self.study_name is not None,
        )

    def _sample(self, trial):
        """The estimator parameters of ``trial`` (suggested now, or replayed by a FixedTrial)."""
        space = self.param_distributions
        if not callable(space):
            return {name: _suggest(trial, name, dist) for name, dist in space.items()}
        params = space(trial)
        if not isinstance(params, Mapping):
            raise TypeError(
                f"param_distributions(trial) must return a dict of parameters, got {type(params).__name__}."
            )
        return dict(params)

    def _trial_params(self, trial):
        if not callable(self.param_distributions):
            return dict(trial.params)
        try:
            return self._sample(FixedTrial(trial.params, trial.number))
        except Exception:  # a trial of another space (user study): its raw values
            return dict(trial.params)

    def _objective(self, X, y, splits, fit_params, score_params, fold_errors):
        """The study's objective; exceptions of failed folds are appended to ``fold_errors``."""
        base = clone(self.estimator)
        worker = f"{socket.gethostname()}:{os.getpid()}"

        def objective(trial):
            params = self._sample(trial)
            if callable(self.param_distributions):
                try:
                    clone(base).set_params(**params)
                except ValueError as exc:
                    raise ValueError(
                        f"param_distributions(trial) returned {sorted(params)}: {exc}"
                    ) from exc
            trial.set_user_attr(_WORKER, worker)
            jobs = (
                delayed(_fit_and_score)(
                    clone(base),
                    params,
                    X,
                    y,
                    train,
                    test,
                    fit_params,
                    score_params,
                    self.scorer_,
                    self.error_score,
                )
                for train, test in splits
            )
            scores, fit_times = [], []
            results = Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)
            try:
                for step, (score, fit_time, error) in enumerate(results):
                    if error is not None:
                        fold_errors.append(error)
                        trial.set_user_attr(_FOLD_ERRORS, [f"{type(error).__name__}: {error}"])
                    scores.append(score)
                    fit_times.append(fit_time)
                    running = float(np.mean(scores))
                    if np.isnan(running):
                        continue  # a failed fold: the trial ends as FAIL, not PRUNED
                    trial.report(running, step=step)
                    if trial.should_prune():
                        self._record(trial, scores, fit_times)
                        raise optuna.TrialPruned(
                            f"pruned after inner fold {step} at mean score {running:.4g}"
                        )
            finally:
                with contextlib.suppress(Exception):
                    results.close()
            self._record(trial, scores, fit_times)
            return float(np.mean(scores))

        return objective

    @staticmethod
    def _record(trial, scores, fit_times):
        trial.set_user_attr(_SPLIT_SCORES, [float(s) for s in scores])
        trial.set_user_attr(_FIT_TIMES, [float(t) for t in fit_times])

    # ------------------------------------------------------------------ fit

    def fit(self, X, y=None, groups=None, **params):
        """Run the study on ``X, y`` and refit the best parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or list of clips
            Training data (features or clips: whatever ``estimator`` takes).
        y : array-like of shape (n_samples,)
            Targets.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample: the inner cv never puts a speaker in both
            train and validation. Routed to steps requesting it when metadata
            routing is enabled.
        **params : dict
            Further fit parameters: routed (metadata routing on) or passed to
            ``estimator.fit`` (off); sample-aligned arrays are split per fold.

        Returns
        -------
        self : OptunaSearchCV
        """
        self._check_params()
        X, y = indexable(X, y)
        n_samples = len(y) if y is not None else len(X)
        if groups is not None:
            groups = np.asarray(groups)
            if len(groups) != n_samples:
                raise ValueError(
                    f"groups has {len(groups)} entries but X has {n_samples} samples."
                )
        self.scorer_ = self._get_scorer()
        if self.adaptation == "speaker" and (
            groups is None or not get_config()["enable_metadata_routing"]
        ):
            raise ValueError(
                "adaptation='speaker' hands the validation speakers' ids to predict: pass "
                "groups= to fit and call sklearn.set_config(enable_metadata_routing=True) "
                "first (or use adaptation='none')."
            )

        if get_config()["enable_metadata_routing"]:
            metadata = dict(params, groups=groups) if groups is not None else dict(params)
            routed = process_routing(self, "fit", **metadata)
            fit_params = dict(routed.estimator.fit)
            split_params = dict(routed.splitter.split)
            score_params = dict(routed.scorer.score)
        else:
            fit_params, score_params = dict(params), {}
            split_params = {"groups": groups} if groups is not None else {}

        cv = self._resolve_cv(y, groups)
        splits = list(cv.split(X, y, **split_params))
        self.n_splits_ = len(splits)
        if groups is not None and (leaking := check_speaker_independent(splits, groups)):
            warnings.warn(
                f"Inner cv splits {leaking} put a speaker (group) in both train and validation: "
                "tuning scores are speaker-dependent. Use a group-aware cv.",
                SpeakerLeakageWarning,
                stacklevel=2,
            )

        fold_errors: list[Exception] = []
        objective = self._objective(X, y, splits, fit_params, score_params, fold_errors)
        with _optuna_verbosity(self.verbose):
            study = self._make_study()
            if len(study.directions) != 1:
                raise ValueError("study must have a single objective (one direction).")
            study.optimize(
                objective,
                n_trials=self.n_trials,
                timeout=self.timeout,
                show_progress_bar=bool(self.verbose),
            )
        self.study_ = study
        trials = study.trials
        self.n_trials_ = len(trials)
        self.cv_results_ = self._cv_results(trials)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if not complete:
            states = sorted({t.state.name for t in trials})
            message = (
                f"No trial completed ({len(trials)} trials, states {states}); the fold errors "
                "were replaced by error_score."
            )
            if fold_errors:
                # Every fit failed here: raise the estimator's own error, as a plain
                # fit would (bad input must say what is wrong with it).
                fold_errors[0].add_note(f"OptunaSearchCV: {message}")
                raise fold_errors[0]
            errors = sorted({e for t in trials for e in t.user_attrs.get(_FOLD_ERRORS, [])})
            detail = (" The fold errors were:\n" + "\n".join(errors)) if errors else ""
            raise ValueError(f"{message} Set error_score='raise' to see them.{detail}")
        best = study.best_trial
        self.best_index_ = next(i for i, t in enumerate(trials) if t.number == best.number)
        self.best_params_ = self._trial_params(best)
        self.best_score_ = float(best.value)

        if self.refit:
            started = time.perf_counter()
            estimator = clone(self.estimator).set_params(**clone(self.best_params_, safe=False))
            self.best_estimator_ = estimator.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - started
            if hasattr(self.best_estimator_, "n_features_in_"):
                self.n_features_in_ = self.best_estimator_.n_features_in_
        return self

    def _resolve_cv(self, y, groups):
        # As check_cv: stratify only class targets, so a target of another type
        # reaches the estimator, whose own error then says what is wrong.
        classifier = is_classifier(self.estimator) and (
            y is not None and type_of_target(y) in ("binary", "multiclass")
        )
        if self.cv is None:
            if groups is None and not classifier:
                return KFold(5, shuffle=True, random_state=0)
            return default_cv(groups)
        if isinstance(self.cv, numbers.Integral):
            n = check_positive(int(self.cv), "cv", integer=True)
            if groups is not None:
                return (
                    StratifiedGroupKFold(n, shuffle=True, random_state=0)
                    if classifier
                    else GroupKFold(n)
                )
            return (StratifiedKFold if classifier else KFold)(n, shuffle=True, random_state=0)
        return check_cv(self.cv, y, classifier=classifier)

    def _cv_results(self, trials):
        n = len(trials)
        params = [self._trial_params(t) for t in trials]
        split_scores = np.full((n, self.n_splits_), np.nan)
        fit_times = np.full((n, self.n_splits_), np.nan)
        for i, t in enumerate(trials):
            s = t.user_attrs.get(_SPLIT_SCORES, [])[: self.n_splits_]
            split_scores[i, : len(s)] = s
            f = t.user_attrs.get(_FIT_TIMES, [])[: self.n_splits_]
            fit_times[i, : len(f)] = f
        complete = np.array([t.state == TrialState.COMPLETE for t in trials], dtype=bool)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows of unrun trials
            mean = np.nanmean(split_scores, axis=1) if n else np.zeros(0)
            std = np.nanstd(split_scores, axis=1) if n else np.zeros(0)
            mean_fit = np.nanmean(fit_times, axis=1) if n else np.zeros(0)
            std_fit = np.nanstd(fit_times, axis=1) if n else np.zeros(0)
        values = np.array(
            [t.value if c else np.nan for t, c in zip(trials, complete, strict=True)], dtype=float
        )
        mean[complete] = values[complete]  # the objective itself (user studies may lack splits)
        # Rank complete trials by their value (1 = best); the rest after them.
        sign = -1.0 if (self.study_.direction == optuna.study.StudyDirection.MAXIMIZE) else 1.0
        keyed = np.where(complete, sign * np.nan_to_num(values), np.inf)
        rank = rankdata(keyed, method="min").astype(np.int32) if n else np.zeros(0, np.int32)
        results = {
            "number": np.array([t.number for t in trials], dtype=int),
            "state": np.array([t.state.name for t in trials], dtype=object),
            "params": params,
        }
        names = sorted({k for p in params for k in p})
        for name in names:
            column = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
            for i, p in enumerate(params):
                if name in p:
                    column[i] = p[name]
            results[f"param_{name}"] = column
        for i in range(self.n_splits_):
            results[f"split{i}_test_score"] = split_scores[:, i]
        results.update(
            mean_test_score=mean,
            std_test_score=std,
            rank_test_score=rank,
            mean_fit_time=mean_fit,
            std_fit_time=std_fit,
        )
        return results

    # ------------------------------------------------------------------ delegation

    @property
    def classes_(self):
        """Class labels of ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.classes_

    @available_if(_search_estimator_has("predict"))
    def predict(self, X):
        """Predict with ``best_estimator_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_search_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of ``best_estimator_``, shape (n_samples, n_classes)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    @available_if(_search_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities of ``best_estimator_``, shape (n_samples, n_classes)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_search_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of ``best_estimator_``, shape (n_samples,) or (n_samples, n_classes)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.decision_function(X)

    @available_if(_search_estimator_has("transform"))
    def transform(self, X):
        """Transform with ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.transform(X)

    @available_if(_search_estimator_has("score"))
    def score(self, X, y=None, **params):
        """Score ``best_estimator_`` on ``X, y`` with ``scorer_`` (UAR by default).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        **params : dict
            Metadata for the scorer (routed when metadata routing is enabled).

        Returns
        -------
        score : float
        """
        check_is_fitted(self, "best_estimator_")
        if get_config()["enable_metadata_routing"]:
            params = process_routing(self, "score", **params).scorer.score
        return float(self.scorer_(self.best_estimator_, X, y, **params))


def _suggest(trial, name, dist):
    """``trial.suggest_*`` for one distribution (public API, no private ``_suggest``)."""
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    raise TypeError(f"Unsupported distribution for {name!r}: {dist!r}.")


def _index_params(params, n_samples, indices):
    """Sample-aligned fit parameters restricted to ``indices``; the rest as is."""
    out = {}
    for key, value in params.items():
        if (
            hasattr(value, "__len__")
            and not isinstance(value, str | bytes | Mapping)
            and len(value) == n_samples
        ):
            out[key] = _safe_indexing(value, indices)
        else:
            out[key] = value
    return out


def _fit_and_score(
    estimator, params, X, y, train, test, fit_params, score_params, scorer, error_score
):
    """Fit on ``train``, score on ``test``; ``(score, fit_seconds, error or None)``."""
    n = len(y) if y is not None else len(X)
    started = time.perf_counter()
    try:
        estimator.set_params(**clone(params, safe=False))
        y_train = None if y is None else _safe_indexing(y, train)
        estimator.fit(_safe_indexing(X, train), y_train, **_index_params(fit_params, n, train))
        fit_time = time.perf_counter() - started
        y_test = None if y is None else _safe_indexing(y, test)
        score = scorer(
            estimator, _safe_indexing(X, test), y_test, **_index_params(score_params, n, test)
        )
        score = float(score)
    except Exception as exc:
        if error_score == "raise":
            raise
        warnings.warn(
            f"Fitting or scoring failed with parameters {params}; score set to {error_score}. "
            f"{type(exc).__name__}: {exc}",
            FitFailedWarning,
            stacklevel=2,
        )
        return float(error_score), time.perf_counter() - started, exc
    return score, fit_time, None


def _open_storage(storage, attempts=8, **options):
    """An RDB storage for a URL, retrying the race of workers creating its schema at once.

    Two processes opening a new SQLite/MySQL database together both try to
    create the tables and stamp the schema version; the loser gets an
    IntegrityError/OperationalError. The winner's schema is then there, so a
    short, jittered retry joins it. ``options`` go to ``RDBStorage``
    (heartbeats: see :func:`skser.scaling.optuna_storage`).
    """
    if not isinstance(storage, str):
        return storage
    from sqlalchemy.exc import IntegrityError, OperationalError

    rng = np.random.default_rng()
    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(storage, **options)
        except (IntegrityError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1) + 0.1 * rng.random())
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _optuna_verbosity(verbose):
    """Optuna's INFO log per trial only when verbose; restored afterwards."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)
