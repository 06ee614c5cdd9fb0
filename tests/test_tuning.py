"""OptunaSearchCV: search, refit, groups routing, nested-CV isolation, shared storage, pruning."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn import config_context
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    TransformerMixin,
    is_classifier,
    is_regressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skser.metrics import unweighted_average_recall
from skser.model_selection import SpeakerLeakageWarning
from skser.tuning import OptunaSearchCV

# Module-level records: estimators and splitters are cloned (deep-copied) by the
# search and by cross_validate, so spies write here instead of on themselves.
SEEN_FIT_GROUPS: list[np.ndarray] = []
SEEN_SPLIT_GROUPS: list[np.ndarray] = []
SPLITS: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
FIT_CALLS: list[int] = []


@pytest.fixture(autouse=True)
def _clear_spies():
    for record in (SEEN_FIT_GROUPS, SEEN_SPLIT_GROUPS, SPLITS, FIT_CALLS):
        record.clear()
    yield


def make_data(n_speakers=6, per_speaker=10, n_features=4, seed=0):
    """Two classes separated along every feature, plus a per-speaker offset."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n_speakers * per_speaker // 2)
    groups = np.repeat(np.arange(n_speakers), per_speaker)
    offsets = rng.normal(scale=0.3, size=(n_speakers, n_features))
    X = rng.normal(size=(len(y), n_features)) + 1.5 * y[:, None] + offsets[groups]
    return X, y, groups


class GroupSpy(TransformerMixin, BaseEstimator):
    """Identity transformer recording the groups its fit receives."""

    def fit(self, X, y=None, groups=None):
        SEEN_FIT_GROUPS.append(None if groups is None else np.asarray(groups).copy())
        return self

    def transform(self, X):
        return X


class SpyGroupKFold(GroupKFold):
    """GroupKFold recording the groups and the splits it produces."""

    def split(self, X, y=None, groups=None):
        SEEN_SPLIT_GROUPS.append(np.asarray(groups).copy())
        for train, test in super().split(X, y, groups):
            SPLITS.append((train, test, np.asarray(groups)))
            yield train, test


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """Majority-class classifier counting its fits."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        FIT_CALLS.append(1)
        self.classes_, counts = np.unique(y, return_counts=True)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


class FailingClassifier(CountingClassifier):
    def fit(self, X, y):
        raise RuntimeError("boom in fit")


def svc_pipeline():
    return Pipeline([("scale", StandardScaler()), ("svc", SVC())])


GAMMA = {"svc__gamma": FloatDistribution(1e-3, 1e3, log=True)}


def test_finds_good_params_and_refits_on_all_data():
    X, y, groups = make_data()
    search = OptunaSearchCV(svc_pipeline(), GAMMA, n_trials=12, random_state=0).fit(
        X, y, groups=groups
    )

    res = search.cv_results_
    assert search.n_trials_ == 12 and len(res["params"]) == 12
    assert search.n_splits_ == 6  # <= 12 speakers: leave-one-speaker-out
    assert search.best_index_ == int(np.argmax(res["mean_test_score"]))
    assert res["rank_test_score"][search.best_index_] == 1
    assert search.best_params_ == res["params"][search.best_index_]
    assert search.best_score_ == pytest.approx(res["mean_test_score"].max())
    # A huge RBF gamma memorizes the training speakers (chance UAR): the best is small.
    assert search.best_params_["svc__gamma"] < 10
    assert search.best_score_ > 0.8
    assert res["mean_test_score"].min() < 0.7
    np.testing.assert_allclose(
        res["mean_test_score"],
        np.mean([res[f"split{i}_test_score"] for i in range(6)], axis=0),
    )
    assert set(res["state"]) == {"COMPLETE"}
    assert np.ma.isMaskedArray(res["param_svc__gamma"])

    best = search.best_estimator_
    assert best.get_params()["svc__gamma"] == search.best_params_["svc__gamma"]
    assert best.named_steps["svc"].shape_fit_ == X.shape  # refit on all of X
    np.testing.assert_array_equal(search.predict(X), best.predict(X))
    np.testing.assert_array_equal(search.classes_, [0, 1])
    assert search.decision_function(X).shape == (len(X),)
    # score is UAR by default
    assert search.score(X, y) == pytest.approx(unweighted_average_recall(y, search.predict(X)))
    assert not hasattr(search, "predict_proba")  # SVC(probability=False)


def test_is_classifier_and_delegated_methods():
    assert is_classifier(OptunaSearchCV(svc_pipeline(), GAMMA))
    assert not is_classifier(OptunaSearchCV(Ridge(), {"alpha": FloatDistribution(0.1, 1)}))
    assert is_regressor(OptunaSearchCV(Ridge(), {"alpha": FloatDistribution(0.1, 1)}))

    X, y, groups = make_data()
    search = OptunaSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": FloatDistribution(1e-2, 1e2, log=True)},
        n_trials=2,
        random_state=0,
        scoring="accuracy",
    ).fit(X, y, groups=groups)
    proba = search.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert search.score(X, y) == pytest.approx(np.mean(search.predict(X) == y))
    assert pickle.loads(pickle.dumps(search)).predict(X[:5]).shape == (5,)

    unrefit = OptunaSearchCV(
        LogisticRegression(), {"C": FloatDistribution(0.1, 1)}, n_trials=2, refit=False
    )
    unrefit.fit(X, y, groups=groups)
    assert not hasattr(unrefit, "best_estimator_") and "C" in unrefit.best_params_


def test_groups_reach_the_inner_cv_speaker_independently():
    X, y, groups = make_data()
    search = OptunaSearchCV(
        LogisticRegression(), {"C": FloatDistribution(0.1, 10)}, cv=SpyGroupKFold(3), n_trials=2
    ).fit(X, y, groups=groups)
    assert len(SEEN_SPLIT_GROUPS) == 1  # splits drawn once, shared by all trials
    np.testing.assert_array_equal(SEEN_SPLIT_GROUPS[0], groups)
    assert len(SPLITS) == 3 and search.n_splits_ == 3
    for train, test, g in SPLITS:
        assert not set(g[train]) & set(g[test])

    # int cv with groups -> StratifiedGroupKFold: every inner split speaker-disjoint
    with config_context(enable_metadata_routing=True):
        spy = GroupSpy().set_fit_request(groups=True)
        pipe = make_pipeline(spy, LogisticRegression())
        OptunaSearchCV(
            pipe, {"logisticregression__C": FloatDistribution(0.1, 10)}, cv=3, n_trials=1
        ).fit(X, y, groups=groups)
    inner, refit = SEEN_FIT_GROUPS[:-1], SEEN_FIT_GROUPS[-1]
    assert len(inner) == 3
    # the 3 inner training sets partition the speakers' held-out folds
    held_out = [set(groups) - set(g) for g in inner]
    assert all(held_out) and set().union(*held_out) == set(groups)
    assert sum(len(h) for h in held_out) == len(set(groups))
    np.testing.assert_array_equal(refit, groups)


def test_routed_groups_reach_a_requesting_step_with_default_loso():
    X, y, groups = make_data()
    with config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [("spy", GroupSpy().set_fit_request(groups=True)), ("clf", LogisticRegression())]
        )
        search = OptunaSearchCV(
            pipe, {"clf__C": FloatDistribution(0.1, 10)}, n_trials=2, random_state=0
        )
        search.fit(X, y, groups=groups)
    assert search.n_splits_ == 6
    assert len(SEEN_FIT_GROUPS) == 2 * 6 + 1  # trials x folds + refit
    for seen in SEEN_FIT_GROUPS[:-1]:  # each inner fit: all speakers but the held-out one
        assert len(set(seen)) == 5 and len(seen) == 50
    np.testing.assert_array_equal(SEEN_FIT_GROUPS[-1], groups)

    # Without routing, groups only split; the step gets none (and a plain fit works).
    SEEN_FIT_GROUPS.clear()
    pipe = Pipeline([("spy", GroupSpy()), ("clf", LogisticRegression())])
    OptunaSearchCV(pipe, {"clf__C": FloatDistribution(0.1, 10)}, n_trials=1).fit(
        X, y, groups=groups
    )
    assert all(g is None for g in SEEN_FIT_GROUPS)


def test_nested_cross_validate_fresh_study_and_no_leakage():
    X, y, groups = make_data(n_speakers=6)
    n_trials = 3
    with config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [("spy", GroupSpy().set_fit_request(groups=True)), ("clf", LogisticRegression())]
        )
        search = OptunaSearchCV(
            pipe,
            {"clf__C": FloatDistribution(0.01, 10, log=True)},
            cv=SpyGroupKFold(2),
            n_trials=n_trials,
            random_state=0,
        )
        out = cross_validate(
            search, X, y, cv=GroupKFold(3), params={"groups": groups}, return_estimator=True
        )

    fitted = out["estimator"]
    assert len(fitted) == 3
    studies = [est.study_ for est in fitted]
    assert len({id(s) for s in studies}) == 3
    assert [est.n_trials_ for est in fitted] == [n_trials] * 3  # not 3, 6, 9
    assert [len(s.trials) for s in studies] == [n_trials] * 3
    assert search.__dict__.get("study_") is None  # the template itself is never fitted

    outer = list(GroupKFold(3).split(X, y, groups))
    assert len(SEEN_SPLIT_GROUPS) == 3  # one inner split per outer fit
    for (train, test), seen in zip(outer, SEEN_SPLIT_GROUPS, strict=True):
        np.testing.assert_array_equal(seen, groups[train])
        assert not set(seen) & set(groups[test])
    # no step of any inner or refit fit ever saw an outer test speaker
    outer_train_sets = [set(groups[train]) for train, _ in outer]
    for seen in SEEN_FIT_GROUPS:
        assert any(set(seen) <= s for s in outer_train_sets)
    assert len(SEEN_FIT_GROUPS) == 3 * (n_trials * 2 + 1)
    assert np.all(out["test_score"] > 0.6)


def test_same_random_state_same_result():
    X, y, groups = make_data()

    def run(seed):
        return OptunaSearchCV(svc_pipeline(), GAMMA, n_trials=5, random_state=seed, cv=3).fit(
            X, y, groups=groups
        )

    a, b, c = run(7), run(7), run(8)
    assert a.best_params_ == b.best_params_
    assert a.cv_results_["params"] == b.cv_results_["params"]
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )
    assert a.cv_results_["params"] != c.cv_results_["params"]


WORKER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from optuna.distributions import FloatDistribution
    from sklearn.linear_model import LogisticRegression
    from skser.tuning import OptunaSearchCV

    url, name, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 20)
    X = rng.normal(size=(40, 3)) + y[:, None]
    groups = np.repeat(np.arange(4), 10)
    search = OptunaSearchCV(
        LogisticRegression(), {"C": FloatDistribution(1e-3, 1e3, log=True)},
        storage=url, study_name=name, n_trials=3, random_state=seed, cv=2,
    ).fit(X, y, groups=groups)
    print(search.n_trials_, len(search.best_params_))
    """
)


@pytest.mark.slow
def test_two_worker_processes_share_one_sqlite_study(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), url, "shared", str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_stdout, stderr) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, stderr

    study = optuna.load_study(study_name="shared", storage=url)
    assert len(study.trials) == 6
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    pids = [int(t.user_attrs["worker"].rsplit(":", 1)[1]) for t in study.trials]
    assert sorted(set(pids)) == sorted(p.pid for p in procs)
    assert all(pids.count(p.pid) == 3 for p in procs)
    assert len(study.trials[0].user_attrs["split_test_scores"]) == 2


def test_callable_conditional_space():
    X, y, groups = make_data()

    def space(trial):
        kind = trial.suggest_categorical("kind", ["svc", "logreg"])
        if kind == "svc":
            return {"clf": SVC(gamma=trial.suggest_float("gamma", 1e-3, 1e3, log=True))}
        return {"clf": LogisticRegression(C=trial.suggest_float("C", 1e-2, 1e2, log=True))}

    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    search = OptunaSearchCV(pipe, space, n_trials=8, random_state=0, cv=3).fit(X, y, groups=groups)

    raw = [t.params for t in search.study_.trials]
    assert {p["kind"] for p in raw} == {"svc", "logreg"}
    assert all(("gamma" in p) != ("C" in p) for p in raw)  # conditional parameters
    for p, est_params in zip(raw, search.cv_results_["params"], strict=True):
        clf = est_params["clf"]
        if p["kind"] == "svc":
            assert isinstance(clf, SVC) and clf.gamma == p["gamma"]
        else:
            assert isinstance(clf, LogisticRegression) and clf.C == p["C"]
    best_raw = search.study_.best_trial.params
    best_clf = search.best_estimator_.named_steps["clf"]
    assert type(best_clf) is type(search.best_params_["clf"])
    assert isinstance(best_clf, SVC if best_raw["kind"] == "svc" else LogisticRegression)
    assert search.best_params_["clf"] is not best_clf  # refit on a clone


def test_fold_level_pruning_records_pruned_trials():
    X, y, groups = make_data()
    space = {"svc__gamma": CategoricalDistribution([0.1, 1000.0])}
    search = OptunaSearchCV(
        svc_pipeline(),
        space,
        n_trials=8,
        random_state=0,
        pruner=optuna.pruners.ThresholdPruner(lower=0.75),
    ).fit(X, y, groups=groups)

    states = {t.number: t.state for t in search.study_.trials}
    by_gamma = {0.1: set(), 1000.0: set()}
    for t in search.study_.trials:
        by_gamma[t.params["svc__gamma"]].add(t.state)
    assert by_gamma[1000.0] == {optuna.trial.TrialState.PRUNED}
    assert by_gamma[0.1] == {optuna.trial.TrialState.COMPLETE}
    assert search.best_params_ == {"svc__gamma": 0.1}

    res = search.cv_results_
    pruned = res["state"] == "PRUNED"
    assert pruned.any() and list(res["state"]).count("PRUNED") == sum(
        s == optuna.trial.TrialState.PRUNED for s in states.values()
    )
    # a pruned trial ran only its first inner fold; its rank comes after all complete trials
    assert np.all(~np.isnan(res["split0_test_score"][pruned]))
    assert np.all(np.isnan(res["split1_test_score"][pruned]))
    assert res["rank_test_score"][pruned].min() > res["rank_test_score"][~pruned].max()
    for t in search.study_.trials:
        if t.state == optuna.trial.TrialState.PRUNED:
            assert list(t.intermediate_values) == [0]

    # Without a pruner nothing is pruned, whatever the scores.
    plain = OptunaSearchCV(svc_pipeline(), space, n_trials=4, random_state=0).fit(
        X, y, groups=groups
    )
    assert set(plain.cv_results_["state"]) == {"COMPLETE"}


def test_parallel_folds_match_sequential():
    from joblib import parallel_config

    X, y, groups = make_data()
    seq = OptunaSearchCV(svc_pipeline(), GAMMA, n_trials=3, random_state=0).fit(
        X, y, groups=groups
    )
    with parallel_config(backend="threading"):
        par = OptunaSearchCV(svc_pipeline(), GAMMA, n_trials=3, random_state=0, n_jobs=2).fit(
            X, y, groups=groups
        )
    for i in range(6):
        np.testing.assert_array_equal(
            seq.cv_results_[f"split{i}_test_score"], par.cv_results_[f"split{i}_test_score"]
        )


def test_user_study_accumulates_and_storage_study_conflict():
    X, y, groups = make_data()
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0)
    )
    search = OptunaSearchCV(
        LogisticRegression(), {"C": FloatDistribution(0.1, 10)}, study=study, n_trials=2, cv=3
    )
    search.fit(X, y, groups=groups)
    search.fit(X, y, groups=groups)
    assert search.study_ is study and search.n_trials_ == 4
    # the default: a fresh study each fit
    fresh = OptunaSearchCV(
        LogisticRegression(), {"C": FloatDistribution(0.1, 10)}, n_trials=2, cv=3
    )
    first = fresh.fit(X, y, groups=groups).study_
    assert fresh.fit(X, y, groups=groups).study_ is not first and fresh.n_trials_ == 2
    with pytest.raises(ValueError, match="either study"):
        OptunaSearchCV(
            LogisticRegression(),
            {"C": FloatDistribution(0.1, 10)},
            study=study,
            storage="sqlite://",
        ).fit(X, y, groups=groups)


@pytest.mark.filterwarnings("ignore:The groups parameter is ignored:UserWarning")
def test_no_groups_and_leaky_cv_warning():
    X, y, groups = make_data()
    search = OptunaSearchCV(
        LogisticRegression(), {"C": FloatDistribution(0.1, 10)}, n_trials=1
    ).fit(X, y)
    assert search.n_splits_ == 5  # StratifiedKFold(5) without speakers
    with pytest.warns(SpeakerLeakageWarning, match="speaker"):
        OptunaSearchCV(
            LogisticRegression(), {"C": FloatDistribution(0.1, 10)}, n_trials=1, cv=KFold(4)
        ).fit(X, y, groups=groups)
    search = OptunaSearchCV(
        LogisticRegression(), {"C": IntDistribution(1, 3)}, n_trials=2, cv=LeaveOneGroupOut()
    ).fit(X, y, groups=groups)
    assert search.n_splits_ == 6 and isinstance(search.best_params_["C"], int)


def test_timeout_without_n_trials_and_verbose(caplog):
    import logging

    X, y, groups = make_data()
    before = optuna.logging.get_verbosity()
    caplog.set_level(logging.INFO, logger="optuna")
    # Optuna's logger does not propagate to the root logger, where caplog listens.
    optuna.logging.enable_propagation()
    try:
        search = OptunaSearchCV(
            LogisticRegression(),
            {"C": FloatDistribution(0.1, 10)},
            n_trials=None,
            timeout=0.5,
            cv=2,
            verbose=True,
        ).fit(X, y, groups=groups)
        assert search.n_trials_ >= 1
        assert "Trial 0 finished" in caplog.text
        assert optuna.logging.get_verbosity() == before  # restored
        caplog.clear()
        OptunaSearchCV(
            LogisticRegression(), {"C": FloatDistribution(0.1, 10)}, n_trials=2, cv=2
        ).fit(X, y, groups=groups)
        assert "Trial 0 finished" not in caplog.text  # quiet unless verbose
    finally:
        optuna.logging.disable_propagation()


def test_errors_are_clear_and_early():
    X, y, groups = make_data()
    est = CountingClassifier()
    with pytest.raises(ValueError, match=r"does not have: \['beta', 'gamma'\]"):
        OptunaSearchCV(
            est,
            {
                "alpha": FloatDistribution(0, 1),
                "gamma": FloatDistribution(0, 1),
                "beta": FloatDistribution(0, 1),
            },
        ).fit(X, y)
    assert FIT_CALLS == []  # before any trial
    with pytest.raises(ValueError, match="n_trials"):
        OptunaSearchCV(est, {"alpha": FloatDistribution(0, 1)}, n_trials=0).fit(X, y)
    with pytest.raises(ValueError, match="n_trials"):
        OptunaSearchCV(est, {"alpha": FloatDistribution(0, 1)}, n_trials=None).fit(X, y)
    with pytest.raises(ValueError, match="empty"):
        OptunaSearchCV(est, {}).fit(X, y)
    with pytest.raises(TypeError, match="alpha"):
        OptunaSearchCV(est, {"alpha": [0.1, 1.0]}).fit(X, y)
    with pytest.raises(ValueError, match="direction"):
        OptunaSearchCV(est, {"alpha": FloatDistribution(0, 1)}, direction="up").fit(X, y)
    with pytest.raises(ValueError, match="error_score"):
        OptunaSearchCV(est, {"alpha": FloatDistribution(0, 1)}, error_score="ignore").fit(X, y)
    assert FIT_CALLS == []
    with pytest.raises(ValueError, match="bogus"):
        OptunaSearchCV(
            est, lambda trial: {"bogus": trial.suggest_float("b", 0, 1)}, n_trials=1
        ).fit(X, y)
    with pytest.raises(TypeError, match="must return a dict"):
        OptunaSearchCV(est, lambda trial: trial.suggest_float("b", 0, 1), n_trials=1).fit(X, y)
    with pytest.raises(RuntimeError, match="boom in fit"):
        OptunaSearchCV(
            FailingClassifier(),
            {"alpha": FloatDistribution(0, 1)},
            n_trials=1,
            error_score="raise",
        ).fit(X, y)
    # Every trial failed: the estimator's own error, noted, as a plain fit would raise.
    with pytest.warns(Warning), pytest.raises(RuntimeError, match="boom in fit") as info:
        OptunaSearchCV(FailingClassifier(), {"alpha": FloatDistribution(0, 1)}, n_trials=2).fit(
            X, y, groups=groups
        )
    assert any("No trial completed" in note for note in info.value.__notes__)
    with pytest.raises(ValueError, match="groups has 3 entries"):
        OptunaSearchCV(est, {"alpha": FloatDistribution(0, 1)}).fit(X, y, groups=[0, 1, 2])


def test_failed_folds_mark_trial_failed_but_search_goes_on():
    X, y, groups = make_data()

    class SometimesFails(CountingClassifier):
        def fit(self, X, y):
            if self.alpha > 0.5:
                raise RuntimeError("too big")
            return super().fit(X, y)

    space = {"alpha": CategoricalDistribution([0.1, 0.9])}
    with pytest.warns(Warning):
        search = OptunaSearchCV(SometimesFails(), space, n_trials=6, random_state=0, cv=3).fit(
            X, y, groups=groups
        )
    res = search.cv_results_
    states = dict(zip([p["alpha"] for p in res["params"]], res["state"], strict=False))
    assert set(res["state"]) == {"COMPLETE", "FAIL"}
    assert states[0.9] == "FAIL" and search.best_params_ == {"alpha": 0.1}


def test_passes_scikit_learn_check_estimator():
    # Bad input (NaN, sparse, one class, unknown targets...) fails every trial:
    # the wrapped estimator's own error must come out, as with GridSearchCV.
    from sklearn.linear_model import LogisticRegression
    from sklearn.utils.estimator_checks import check_estimator

    search = OptunaSearchCV(
        LogisticRegression(), {"C": FloatDistribution(0.1, 1.0)}, n_trials=2, cv=2,
        random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(search, on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == []


def test_adaptation_speaker_needs_groups_and_routing():
    X, y, groups = make_data()
    search = OptunaSearchCV(
        LogisticRegression(), {"C": FloatDistribution(0.1, 1.0)}, n_trials=1,
        adaptation="speaker",
    )  # fmt: skip
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        search.fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="adaptation"):
        OptunaSearchCV(LogisticRegression(), {}, adaptation="enroll:3").fit(X, y)
