"""Speaker-level bootstrap intervals, per-speaker tables and paired comparisons of reports."""

import dataclasses
import warnings

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

import skser
from skser.model_selection import evaluate
from skser.stats import compare, per_speaker_table, uar_confidence_interval


def _simulate(rng, n_speakers, n_clips=10, low=0.3, high=0.9):
    """Two classes; speaker s recognizes each clip with probability p_s ~ U(low, high).

    With the same number of clips per speaker and class, the pooled UAR of the
    population of speakers is E[p_s] = (low + high) / 2.
    """
    skill = rng.uniform(low, high, size=n_speakers)
    y_true, y_pred, groups = [], [], []
    for s, p in enumerate(skill):
        truth = np.array(["a", "b"] * n_clips)
        right = rng.random(truth.size) < p
        y_true += truth.tolist()
        y_pred += np.where(right, truth, np.where(truth == "a", "b", "a")).tolist()
        groups += [f"s{s}"] * truth.size
    return np.array(y_true), np.array(y_pred), np.array(groups)


def test_interval_covers_the_known_population_uar():
    """Coverage of the 95 % interval over 300 simulated evaluations of 30 speakers."""
    rng = np.random.default_rng(0)
    truth = 0.6
    hits = 0
    for seed in range(300):
        y_true, y_pred, groups = _simulate(rng, n_speakers=30)
        ci = uar_confidence_interval(y_true, y_pred, groups, n_boot=1000, random_state=seed)
        hits += ci.low <= truth <= ci.high
    assert 0.88 <= hits / 300 <= 0.99, hits / 300


def test_interval_resamples_speakers_not_clips():
    """Half the speakers are always right, half always wrong: clips are not independent."""
    n_speakers, n_clips = 20, 50
    y_true = np.array(["a", "b"] * (n_speakers * n_clips // 2))
    groups = np.repeat([f"s{i}" for i in range(n_speakers)], n_clips)
    good = np.isin(groups, [f"s{i}" for i in range(0, n_speakers, 2)])
    y_pred = np.where(good, y_true, np.where(y_true == "a", "b", "a"))
    ci = uar_confidence_interval(y_true, y_pred, groups)
    assert ci.estimate == pytest.approx(0.5)
    # Speakers: sd of a mean of 20 coin flips is 0.11, a 95 % interval about ±0.22.
    # Clips (wrongly independent): sd sqrt(.25 / 1000) = 0.016, about ±0.03.
    assert ci.high - ci.low > 0.3
    assert ci.low < 0.5 < ci.high and ci.confidence == 0.95


def test_interval_edge_cases_and_errors():
    y = np.array(["a", "b", "a", "b"])
    groups = np.array(["x", "x", "y", "y"])
    assert tuple(uar_confidence_interval(y, y, groups)) == (1.0, 1.0, 1.0, 0.95)
    once = uar_confidence_interval(*_simulate(np.random.default_rng(1), 12), random_state=3)
    again = uar_confidence_interval(*_simulate(np.random.default_rng(1), 12), random_state=3)
    assert once == again  # reproducible
    narrow = uar_confidence_interval(*_simulate(np.random.default_rng(1), 12), confidence=0.5)
    assert narrow.high - narrow.low < once.high - once.low
    with pytest.raises(ValueError, match="speaker id of every clip"):
        uar_confidence_interval(y, y, None)
    with pytest.raises(ValueError, match="same length"):
        uar_confidence_interval(y, y[:3], groups)
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        uar_confidence_interval(y, y, groups, confidence=95)
    with pytest.raises(ValueError, match="n_boot"):
        uar_confidence_interval(y, y, groups, n_boot=10)


def test_per_speaker_table():
    table = per_speaker_table(
        ["a", "a", "b", "b", "a", "b"], ["a", "b", "b", "b", "a", "a"], [2, 2, 2, 2, 10, 10]
    )
    assert table.index.tolist() == ["10", "2"] and table.index.name == "speaker"
    assert table.loc["2", "n_clips"] == 4
    assert table.loc["2", "accuracy"] == pytest.approx(0.75)
    assert table.loc["2", "uar"] == pytest.approx(0.75)  # (1/2 + 2/2) / 2
    assert table.loc["2", "recall_a"] == 0.5 and table.loc["10", "recall_b"] == 0.0
    only_a = per_speaker_table(["a", "a", "b"], ["a", "a", "b"], ["x", "x", "y"])
    assert np.isnan(only_a.loc["x", "recall_b"])  # x has no clip of b: not applicable


# --------------------------------------------------------------------------- reports and compare


@pytest.fixture(scope="module")
def features():
    """Precomputed 2-D features of 16 speakers x 3 classes x 4 clips, a weak class signal."""
    rng = np.random.default_rng(0)
    y = np.tile(np.repeat(["anger", "calm", "sadness"], 4), 16)
    groups = np.repeat([f"spk{i:02d}" for i in range(16)], 12)
    centers = {"anger": [1, 0], "calm": [0, 1], "sadness": [-1, -1]}
    X = np.array([centers[label] for label in y], dtype=float)
    X = X + rng.normal(scale=1.2, size=X.shape) + rng.normal(size=(16, 2)).repeat(12, axis=0)
    return X, y, groups


@pytest.fixture(scope="module")
def reports(features):
    X, y, groups = features
    cv = LeaveOneGroupOut()
    logistic = evaluate(LogisticRegression(), X, y, groups=groups, cv=cv)
    dummy = evaluate(DummyClassifier(strategy="stratified", random_state=0), X, y,
                     groups=groups, cv=cv)  # fmt: skip
    return logistic, dummy


def test_report_carries_groups_and_shows_the_interval(reports, features):
    logistic, _ = reports
    _, _, groups = features
    assert logistic.groups.tolist() == groups.tolist()
    ci = logistic.uar_ci()
    assert ci.estimate == pytest.approx(logistic.uar_pooled)
    assert ci.low < logistic.uar_pooled < ci.high
    assert f"95 % CI {ci.low:.3f}-{ci.high:.3f}" in str(logistic)
    assert f"95 % CI {ci.low:.3f}–{ci.high:.3f}" in logistic.to_markdown()
    summary = logistic.to_dict()
    assert "groups" not in summary and summary["uar_pooled_ci95"] == [round(ci.low, 6), round(ci.high, 6)]
    table = logistic.per_speaker()
    assert len(table) == 16 and table["n_clips"].sum() == logistic.n_clips
    # LOSO: a speaker's row is its fold.
    assert table["accuracy"].tolist() == pytest.approx([f["accuracy"] for f in logistic.folds])


def test_report_without_groups_has_no_interval(features):
    X, y, _ = features
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = evaluate(LogisticRegression(), X, y, cv=StratifiedKFold(3))
    assert report.groups is None and report.to_dict()["uar_pooled_ci95"] is None
    assert "CI" not in str(report)
    with pytest.raises(ValueError, match="speaker id of every clip"):
        report.uar_ci()


def test_compare_finds_a_real_difference(reports):
    logistic, dummy = reports
    result = skser.compare(logistic, dummy)
    assert result.difference == pytest.approx(logistic.uar_pooled - dummy.uar_pooled)
    assert result.difference > 0.2 and result.low > 0 and result.p_value < 0.01
    assert result.n_speakers == 16 and result.n_clips == 192 and result.n_boot == 10000
    assert "difference +" in str(result) and "16 speakers" in str(result)
    assert compare(dummy, logistic).difference == pytest.approx(-result.difference)
    assert set(result.to_dict()) >= {"difference", "low", "high", "p_value"}


def test_compare_same_predictions_is_no_difference(reports):
    logistic, _ = reports
    result = compare(logistic, dataclasses.replace(logistic))
    assert (result.difference, result.low, result.high, result.p_value) == (0, 0, 0, 1)


def test_compare_false_positive_rate_under_no_difference(reports):
    """Two recipes of equal skill: p < 0.05 in about 5 % of 200 simulated comparisons."""
    logistic, _ = reports
    rng = np.random.default_rng(0)
    y = np.asarray(logistic.y_true)
    groups = np.asarray(logistic.groups)
    speaker = np.unique(groups, return_inverse=True)[1]
    wrong = {"anger": "calm", "calm": "sadness", "sadness": "anger"}
    rejections = 0
    for seed in range(200):
        skill = rng.uniform(0.3, 0.9, size=16)[speaker]  # shared: hard speakers are hard for both
        a, b = (np.where(rng.random(len(y)) < skill, y, [wrong[v] for v in y]) for _ in range(2))
        result = compare(dataclasses.replace(logistic, y_pred=a),
                         dataclasses.replace(logistic, y_pred=b), n_boot=1000, random_state=seed)  # fmt: skip
        rejections += result.p_value < 0.05
    assert 0.01 <= rejections / 200 <= 0.12, rejections / 200


def test_compare_refuses_reports_on_other_clips(reports, features):
    logistic, dummy = reports
    X, y, groups = features
    half = evaluate(LogisticRegression(), X[:96], y[:96], groups=groups[:96], cv=LeaveOneGroupOut())
    with pytest.raises(ValueError, match="not on the same clips: report_a tested 192 clips, report_b 96"):
        compare(logistic, half)
    shuffled = dataclasses.replace(dummy, y_true=np.roll(dummy.y_true, 1))
    with pytest.raises(ValueError, match="their labels differ"):
        compare(logistic, shuffled)
    renamed = dataclasses.replace(dummy, groups=np.array([g.upper() for g in dummy.groups]))
    with pytest.raises(ValueError, match="their speaker ids differ"):
        compare(logistic, renamed)
    from sklearn.model_selection import GroupKFold

    other_folds = evaluate(LogisticRegression(), X, y, groups=groups, cv=GroupKFold(4))
    with pytest.raises(ValueError, match="not on the same folds: report_a has 16 folds, report_b 4"):
        compare(logistic, other_folds)
    with pytest.raises(ValueError, match="needs the speaker id"):
        compare(logistic, dataclasses.replace(dummy, groups=None))
