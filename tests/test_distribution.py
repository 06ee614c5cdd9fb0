"""Training on several devices: ``distribution=None | "mirrored" | tf.distribute.Strategy``.

The two-replica runs split the CPU into two logical devices, which must
happen before TensorFlow initializes its devices: they run in a fresh Python
process so the rest of the test session keeps its one CPU device.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone

from skser.models import MFCCConv1D

# Fits MFCCConv1D on MFCC sequences of synthetic clips on one device and on
# two logical CPUs, and prints what the test checks as one JSON line.
TWO_CPUS = r"""
import json, pickle
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])

import skser
from sklearn.base import clone
from skser.features import MFCCTransformer
from skser.models import MFCCConv1D

corpus = skser.make_synthetic_corpus(n_speakers=4, n_per_class=6,
                                     emotions=["anger", "neutral", "sadness"],
                                     duration=1.0, random_state=0)
X = MFCCTransformer(output="sequence").fit_transform(corpus.X)
y = np.asarray(corpus.y)
test = np.random.default_rng(0).random(len(y)) < 0.3
params = dict(filters=(8, 8), dense_units=(16, 8), learning_rate=0.01, epochs=10,
              batch_size=16, early_stopping=False, validation_split=0.0, random_state=0)

single = MFCCConv1D(**params).fit(X[~test], y[~test])
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
multi = MFCCConv1D(distribution=strategy, **params).fit(X[~test], y[~test])
proba = multi.predict_proba(X[test])
back = pickle.loads(pickle.dumps(multi))
# uneven splits: 15 clips a batch, 5 validation clips, on 2 replicas
named = MFCCConv1D(distribution="mirrored", **dict(
    params, epochs=2, batch_size=15, validation_split=0.1, early_stopping=True)).fit(
    X[~test], y[~test])
print(json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "n_replicas": [single.n_replicas_, multi.n_replicas_, named.n_replicas_],
    "device": [single.device_, multi.device_, named.device_],
    "accuracy": [single.score(X[test], y[test]), multi.score(X[test], y[test])],
    "n_test": int(test.sum()),
    "named_validation": len(named.validation_indices_),
    "pickled_max_diff": float(np.abs(back.predict_proba(X[test]) - proba).max()),
    "pickled_same_labels": bool((back.predict(X[test]) == multi.predict(X[test])).all()),
    "pickled_distribution": repr(back.distribution),
    "clone_shares_strategy": clone(multi).distribution is strategy,
    "fitted_keeps_no_strategy": not any(
        isinstance(v, tf.distribute.Strategy) for k, v in vars(multi).items()
        if k != "distribution"),
}))
"""


def _sequences(n=12):
    rng = np.random.default_rng(0)
    y = np.array(["anger", "sadness"] * (n // 2))
    return rng.normal(size=(n, 10, 3)).astype(np.float32) + (y == "anger")[:, None, None], y


@pytest.mark.slow
def test_two_cpu_replicas_train_like_one_device_and_pickle():
    done = subprocess.run([sys.executable, "-c", TWO_CPUS], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["n_replicas"] == [1, 2, 2]  # "mirrored" takes both logical CPUs
    assert result["named_validation"] % 2 == 1  # an uneven validation batch trained fine
    assert result["device"][0] == "CPU"
    assert result["device"][1] == "MirroredStrategy, 2 replicas (CPU:0, CPU:1)"
    single, multi = result["accuracy"]
    assert min(single, multi) > 0.55  # chance: 1/3
    assert abs(single - multi) <= 0.25  # ~5 of the held-out clips
    # the distributed model pickles (without its strategy) and predicts the same
    assert result["pickled_max_diff"] < 1e-5 and result["pickled_same_labels"]
    assert result["pickled_distribution"] == "None"
    assert result["clone_shares_strategy"] and result["fitted_keeps_no_strategy"]


def test_distribution_is_a_training_parameter():
    import tensorflow as tf

    assert MFCCConv1D().get_params()["distribution"] is None
    assert "distribution" in MFCCConv1D.training_defaults()
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    est = MFCCConv1D(distribution=strategy)
    assert est.get_params()["distribution"] is strategy
    assert clone(est).distribution is strategy  # shared, not deep-copied
    assert clone(est.set_params(distribution="mirrored")).distribution == "mirrored"
    # a strategy does not pickle: a pickled copy has none; a name survives
    est.set_params(distribution=strategy)
    assert pickle.loads(pickle.dumps(est)).distribution is None
    assert est.distribution is strategy  # pickling did not change the original
    assert pickle.loads(pickle.dumps(clone(est).set_params(
        distribution="mirrored"))).distribution == "mirrored"


@pytest.mark.parametrize("bad", ["tpu", "Mirrored", 2, ["/cpu:0"]])
def test_bad_distribution_is_rejected_before_training(bad):
    X, y = _sequences()
    with pytest.raises(ValueError, match="distribution must be None, 'mirrored' or a "
                                         "tf.distribute.Strategy"):
        MFCCConv1D(distribution=bad, epochs=1).fit(X, y)


def test_one_device_strategy_trains_and_predicts_like_none():
    import tensorflow as tf

    X, y = _sequences()
    params = dict(filters=(4,), dense_units=(4,), epochs=2, batch_size=4, early_stopping=False,
                  validation_split=0.0, random_state=0)
    plain = MFCCConv1D(**params).fit(X, y)
    one = MFCCConv1D(distribution=tf.distribute.OneDeviceStrategy("/cpu:0"), **params).fit(X, y)
    assert plain.n_replicas_ == one.n_replicas_ == 1
    assert one.device_.startswith("OneDeviceStrategy, 1 replica (")
    assert not hasattr(one, "_strategy")
    # the same initial weights and batches; the distributed step's arithmetic
    # differs slightly (gradients reduced across replicas)
    np.testing.assert_allclose(one.predict_proba(X), plain.predict_proba(X), atol=0.05)
