"""One scikeras base class for every skser Keras model.

Every wrapper-specific quirk lives here, so the wrapper could be swapped in one
place: scikit-learn >= 1.7 tags, metadata routing of speaker ``groups``, a
validation split drawn from the training data only (by speaker when groups are
known), early stopping, input normalization inside the network, on-the-fly
augmentation, class weights, seeding, device / mixed-precision handling, and
pickling. The architectures only implement ``_build_network``.
"""

from __future__ import annotations

import logging
import math
import numbers
from typing import Any

import keras
import numpy as np
from scikeras.utils.random_state import tensorflow_random_state
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import ClassifierTags
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, check_array, check_consistent_length

from skser._validation import check_positive

logger = logging.getLogger("skser")

#: Name of the adapted ``keras.layers.Normalization`` layer inside every model.
NORMALIZATION_LAYER = "input_normalization"


def _gpu_name() -> str | None:
    """Name of the first GPU TensorFlow sees, or None on a CPU-only machine."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"GPU:0 ({details.get('device_name', 'unknown')})"


class _OneHotLabelEncoder(TransformerMixin, BaseEstimator):
    """Labels <-> one-hot targets for a softmax output (binary included).

    scikeras' own encoder one-hot encodes only multiclass targets, so a
    two-class problem with a 2-unit softmax and categorical cross-entropy
    would fail; this one treats every class problem alike.
    """

    def fit(self, y):
        self.classes_ = np.unique(y)
        self.n_classes_ = len(self.classes_)
        return self

    def transform(self, y):
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, self.n_classes_ - 1)
        unknown = self.classes_[idx] != y
        if np.any(unknown):
            raise ValueError(
                f"y contains labels not seen during fit: {sorted(set(np.asarray(y)[unknown]))}."
            )
        return np.eye(self.n_classes_, dtype=np.float32)[idx]

    def inverse_transform(self, proba, return_proba=False):
        proba = np.asarray(proba, dtype=np.float32)
        if return_proba:
            return proba
        return self.classes_[np.argmax(proba, axis=1)]

    def get_metadata(self) -> dict[str, Any]:
        # scikeras copies these onto the wrapper (classes_, n_classes_, ...)
        return {
            "classes_": self.classes_,
            "n_classes_": self.n_classes_,
            "n_outputs_": 1,
            "n_outputs_expected_": 1,
        }


class _AugmentedBatches(keras.utils.PyDataset):
    """Training batches augmented on the fly: fresh perturbations every epoch.

    Each batch gets its own generator seeded from (seed, epoch, batch index),
    so the result does not depend on the order Keras asks for batches.
    Memory stays constant: only one batch is augmented at a time.
    """

    def __init__(self, X, y, sample_weight, *, batch_size, augmenter, seed):
        super().__init__()
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.batch_size = batch_size
        self.augmenter = augmenter
        self.seed = int(seed)
        self.epoch = 0
        self._shuffle()

    def _shuffle(self):
        self.order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.X))

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __getitem__(self, i):
        idx = self.order[i * self.batch_size : (i + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, self.epoch, i])
        batch = self.X[idx]
        out = np.asarray(self.augmenter.augment(batch, random_state=rng), dtype=np.float32)
        if out.shape != batch.shape:
            raise ValueError(
                f"augmenter.augment returned shape {out.shape} for a batch of shape "
                f"{batch.shape}; it must keep the shape (check its freq_axis/time_axis)."
            )
        if self.sample_weight is None:
            return out, self.y[idx]
        return out, self.y[idx], self.sample_weight[idx]

    def on_epoch_end(self):
        self.epoch += 1
        self._shuffle()


class SERKerasClassifier(KerasClassifier):
    """Base class of skser's Keras models: a scikit-learn classifier over scikeras.

    Subclasses implement ``_build_network(inputs, n_classes)`` and declare
    ``_input_ndims`` (accepted ``X.ndim`` values) and optionally
    ``_variable_axes`` (axes whose length may change between calls). Networks
    start with ``self._normalize`` (per-feature-channel standardization
    adapted on the training data) and end with ``self._softmax``.

    Common parameters
    -----------------
    epochs : int
        Maximum number of epochs (early stopping usually ends training sooner).
    batch_size : int
        Mini-batch size for training and prediction.
    optimizer : str, keras optimizer class or instance
        ``"adam"``, ``"sgd"``, ``"rmsprop"``...; a name or class is built with
        ``learning_rate``; an instance is copied (its own learning rate is kept).
    learning_rate : float
        Learning rate of the optimizer.
    early_stopping : bool, default=True
        Stop when the validation loss has not improved for ``patience`` epochs
        and restore the best weights. ``False`` trains all ``epochs``.
    patience : int, default=10
        Early-stopping patience in epochs.
    reduce_lr_patience : int or None
        When set, halve the learning rate after this many epochs without
        validation improvement (``ReduceLROnPlateau``).
    validation_split : float, default=0.2
        Fraction of the TRAINING data held out for early stopping and LR
        schedules. With speaker ``groups`` passed to ``fit`` this fraction of
        the training speakers is held out (GroupShuffleSplit), otherwise a
        stratified split. ``0`` disables validation (callbacks then monitor
        the training loss).
    class_weight : {"balanced"}, dict or None, default=None
        Weights classes in the loss; ``"balanced"`` is computed from the
        training labels.
    augmenter : object or None, default=None
        Object with ``augment(batch, *, random_state) -> array`` (e.g.
        :class:`skser.SpectrogramAugmenter`), applied to every training batch
        of every epoch; never to validation data or at predict time.
    mixed_precision : bool, default=False
        Train with the ``"mixed_float16"`` policy when a GPU is available
        (softmax stays float32); ignored with a warning on CPU.
    callbacks : list of keras callbacks or None, default=None
        Extra callbacks for ``fit``.
    random_state : int, RandomState or None, default=None
        Seeds weights, dropout, shuffling, the validation split and the
        augmentation, so the same seed gives the same model on CPU.
    verbose : int, default=0
        Keras verbosity.

    Fitted attributes
    -----------------
    classes_, n_classes_, model_, history_, n_epochs_, best_epoch_, device_,
    dtype_policy_, validation_indices_, validation_groups_.
    """

    # scikeras reads these attributes directly; fixed for every skser model
    # (class attributes, so they are not estimator parameters).
    model = None
    build_fn = None
    warm_start = False
    loss = "categorical_crossentropy"
    metrics = None
    run_eagerly = False
    shuffle = True
    validation_batch_size = None

    _input_ndims: tuple[int, ...] = ()
    _variable_axes: tuple[int, ...] = ()
    _input_description = "X"

    # Metadata routing: ``groups`` reaches ``fit`` by default (speaker-aware
    # validation split) when routing is enabled.
    __metadata_request__fit = {"groups": True}

    def __init__(
        self,
        *,
        epochs=50,
        batch_size=32,
        optimizer="adam",
        learning_rate=0.001,
        early_stopping=True,
        patience=10,
        reduce_lr_patience=None,
        validation_split=0.2,
        class_weight=None,
        augmenter=None,
        mixed_precision=False,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.patience = patience
        self.reduce_lr_patience = reduce_lr_patience
        self.validation_split = validation_split
        self.class_weight = class_weight
        self.augmenter = augmenter
        self.mixed_precision = mixed_precision
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ sklearn API
    def __sklearn_tags__(self):
        # scikeras predates the tags API and BaseEstimator.__sklearn_tags__ does
        # not reach ClassifierMixin in its MRO: without this, is_classifier() is
        # False and cv=5 silently becomes unstratified.
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(poor_score=True)
        tags.target_tags.required = True
        tags.input_tags.two_d_array = 2 in self._input_ndims
        tags.input_tags.three_d_array = True
        return tags

    def _more_tags(self):
        # scikeras' version calls super()._more_tags(), gone from scikit-learn.
        return dict(self._tags)

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "model_", None) is not None and hasattr(self, "classes_")

    @property
    def partial_fit(self):
        # Incremental fitting would bypass the validation split, normalization
        # and early stopping; hide it so meta-estimators do not rely on it.
        raise AttributeError(f"{type(self).__name__} does not support partial_fit; use fit.")

    @property
    def target_encoder(self):
        return _OneHotLabelEncoder()

    def fit(self, X, y, groups=None, sample_weight=None):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...)
            Feature arrays; see the class docstring for the expected layout.
        y : array-like of shape (n_clips,)
            Emotion labels.
        groups : array-like of shape (n_clips,), default=None
            Speaker ids. When given, the validation split for early stopping
            holds out whole training speakers. Delivered automatically by
            meta-estimators when metadata routing is enabled.
        sample_weight : array-like of shape (n_clips,), default=None
            Per-clip weights (multiplied by ``class_weight`` weights).

        Returns
        -------
        self
        """
        self._check_params()
        seed = self._seed_from(self.random_state)
        gpu = _gpu_name()
        self.device_ = gpu or "CPU"
        if self.mixed_precision and gpu is None:
            logger.warning("%s: mixed_precision needs a GPU; training in float32 on CPU.",
                           type(self).__name__)
        self.dtype_policy_ = "mixed_float16" if (self.mixed_precision and gpu) else "float32"
        if seed is None:
            self._fit_seeded(X, y, groups, sample_weight, None)
        else:
            with tensorflow_random_state(seed):
                self._fit_seeded(X, y, groups, sample_weight, seed)
        return self

    # ------------------------------------------------------------------ fitting
    def _fit_seeded(self, X, y, groups, sample_weight, seed):
        self.classes_ = None
        X, y = self._initialize(X, y)  # validates, fits the label encoder, builds the model
        n = len(y)
        if groups is not None:
            groups = np.asarray(groups)
            check_consistent_length(X, groups)
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, X, dtype=np.float32).copy()
        if self.class_weight is not None:
            cw = compute_sample_weight(self.class_weight, y).astype(np.float32)
            weights = cw if weights is None else weights * cw
        y_enc = self.target_encoder_.transform(y)

        train, val, val_groups = self._validation_split(y, groups, seed)
        self.validation_indices_ = val
        self.validation_groups_ = val_groups
        self._adapt_normalization(X[train])

        callbacks, monitor = self._training_callbacks(has_validation=len(val) > 0)
        fit_kwargs: dict[str, Any] = {
            "epochs": self.epochs, "callbacks": callbacks, "verbose": self.verbose,
        }
        if len(val):
            fit_kwargs["validation_data"] = (
                (X[val], y_enc[val]) if weights is None else (X[val], y_enc[val], weights[val])
            )
        w_train = None if weights is None else weights[train]
        if self.augmenter is not None:
            data_seed = seed if seed is not None else int(np.random.default_rng().integers(2**31 - 1))
            batches = _AugmentedBatches(
                X[train], y_enc[train], w_train,
                batch_size=self.batch_size, augmenter=self.augmenter, seed=data_seed,
            )
            hist = self.model_.fit(batches, **fit_kwargs)
        else:
            hist = self.model_.fit(
                X[train], y_enc[train], sample_weight=w_train,
                batch_size=self.batch_size, shuffle=True, **fit_kwargs,
            )
        self.history_ = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
        self.n_epochs_ = len(self.history_.get("loss", []))
        stopper = next((c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)),
                       None)
        self.best_epoch_ = (stopper.best_epoch + 1) if stopper is not None and \
            stopper.best_weights is not None else self.n_epochs_
        logger.info(
            "%s trained on %s (%s): %d clips, %d held out for validation%s, %d epochs "
            "(best %d, monitor %s).",
            type(self).__name__, self.device_, self.dtype_policy_, n, len(val),
            "" if val_groups is None else f" ({len(val_groups)} speakers)",
            self.n_epochs_, self.best_epoch_, monitor,
        )

    def _validation_split(self, y, groups, seed):
        """Indices (train, validation, held-out groups) within the training data."""
        n = len(y)
        if not self.validation_split:
            return np.arange(n), np.array([], dtype=int), None
        frac = self.validation_split
        if groups is not None:
            if len(np.unique(groups)) >= 2:
                splitter = GroupShuffleSplit(n_splits=1, test_size=frac, random_state=seed)
                train, val = next(splitter.split(np.zeros(n), y, groups))
                return train, val, np.unique(groups[val])
            logger.warning("%s: only one speaker in groups; using a stratified validation "
                           "split instead.", type(self).__name__)
        try:
            splitter = StratifiedShuffleSplit(n_splits=1, test_size=frac, random_state=seed)
            train, val = next(splitter.split(np.zeros(n), y))
        except ValueError:  # a class with a single clip, or fewer val clips than classes
            splitter = ShuffleSplit(n_splits=1, test_size=frac, random_state=seed)
            train, val = next(splitter.split(np.zeros(n)))
        return train, val, None

    def _adapt_normalization(self, X_train):
        try:
            layer = self.model_.get_layer(NORMALIZATION_LAYER)
        except ValueError:  # e.g. a pretrained backbone that needs its own input scale
            return
        layer.adapt(self._normalization_data(X_train))

    def _normalization_data(self, X_train):
        """Data the normalization statistics are computed on (hook for padded inputs)."""
        return X_train

    def _training_callbacks(self, *, has_validation):
        monitor = "val_loss" if has_validation else "loss"
        callbacks = list(self.callbacks or [])
        if self.early_stopping:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=monitor, patience=self.patience, restore_best_weights=True))
        if self.reduce_lr_patience is not None:
            callbacks.append(keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, factor=0.5, patience=self.reduce_lr_patience, min_lr=1e-6))
        return callbacks, monitor

    @staticmethod
    def _seed_from(random_state):
        if random_state is None:
            return None
        if isinstance(random_state, np.random.RandomState):
            # a copy, so the caller's generator is not advanced
            state = np.random.RandomState()
            state.set_state(random_state.get_state())
            return int(state.randint(2**31 - 1))
        return int(random_state)

    def _check_params(self):
        check_positive(self.epochs, "epochs", integer=True)
        check_positive(self.batch_size, "batch_size", integer=True)
        check_positive(self.learning_rate, "learning_rate")
        if not isinstance(self.patience, numbers.Integral) or self.patience < 0:
            raise ValueError(f"patience must be a non-negative integer, got {self.patience!r}.")
        check_positive(self.reduce_lr_patience, "reduce_lr_patience", integer=True,
                       allow_none=True)
        if not (isinstance(self.validation_split, numbers.Real)
                and 0 <= self.validation_split < 1):
            raise ValueError(
                f"validation_split must be in [0, 1), got {self.validation_split!r}.")
        if not (self.class_weight is None or self.class_weight == "balanced"
                or isinstance(self.class_weight, dict)):
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}.")
        if self.augmenter is not None and not callable(getattr(self.augmenter, "augment", None)):
            raise TypeError("augmenter must have an augment(batch, *, random_state) method, "
                            f"got {type(self.augmenter).__name__}.")
        if not (self.random_state is None or isinstance(
                self.random_state, (numbers.Integral, np.random.RandomState))):
            raise ValueError(f"random_state must be None, an int or a RandomState, "
                             f"got {self.random_state!r}.")

    # ------------------------------------------------------------------ scikeras hooks
    def _initialize_callbacks(self) -> None:
        # Callbacks are built per fit (not stored: they hold the model and
        # would bloat or break pickles); nothing runs at predict time.
        self._fit_callbacks = []
        self._predict_callbacks = []

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        name = type(self).__name__
        if y is not None:
            y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
            if y.ndim == 2 and y.shape[1] == 1:
                y = y.ravel()
            if y.ndim != 1:
                raise ValueError(f"{name} expects y as 1-D class labels, got shape {y.shape}.")
            if reset:
                target_type = type_of_target(y, input_name="y")
                if target_type not in ("binary", "multiclass"):
                    raise ValueError(f"{name} expects class labels for y, got a "
                                     f"{target_type!r} target.")
                self.target_type_ = target_type
                self.y_dtype_ = y.dtype
                self.y_ndim_ = 1
        if X is not None:
            X = check_array(X, allow_nd=True, ensure_2d=False,
                            dtype=[np.float32, np.float64], input_name="X")
            if X.ndim not in self._input_ndims:
                raise ValueError(
                    f"{name} expects X of shape {self._input_description}, got an array of "
                    f"shape {X.shape}.")
            if reset:
                self.X_dtype_ = X.dtype
                self.X_shape_ = X.shape
                self.n_features_in_ = X.shape[1]
            else:
                expected = tuple(None if ax in self._variable_axes else d
                                 for ax, d in enumerate(self.X_shape_))[1:]
                got = tuple(None if ax in self._variable_axes else d
                            for ax, d in enumerate(X.shape))[1:]
                if X.ndim != len(self.X_shape_) or got != expected:
                    raise ValueError(
                        f"X has shape {X.shape[1:]} per clip, but {name} was fitted on "
                        f"{self.X_shape_[1:]}" + (" (None: any length)" if
                                                  self._variable_axes else "") + ".")
        if X is not None and y is not None:
            check_consistent_length(X, y)
        return X, y

    def _build_keras_model(self):
        # Layers capture the global dtype policy when created: set it just for the build.
        # scikeras turns any RandomState into seed 0; use our own derivation.
        self._random_state = self._seed_from(self.random_state)
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(getattr(self, "dtype_policy_", "float32"))
        try:
            return super()._build_keras_model()
        finally:
            keras.config.set_dtype_policy(previous)

    def _keras_build_fn(self, meta):
        shape = [None if ax in self._variable_axes else d
                 for ax, d in enumerate(meta["X_shape_"])][1:]
        inputs = keras.Input(shape=tuple(shape), name="features")
        outputs = self._build_network(inputs, meta["n_classes_"])
        model = keras.Model(inputs, outputs, name=type(self).__name__)
        model.compile(optimizer=self._make_optimizer(), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    # ------------------------------------------------------------------ building blocks
    def _make_optimizer(self):
        opt = self.optimizer
        if isinstance(opt, keras.optimizers.Optimizer):
            return type(opt).from_config(opt.get_config())  # fresh state per fit
        if isinstance(opt, str):
            opt = type(keras.optimizers.get(opt))
        if isinstance(opt, type) and issubclass(opt, keras.optimizers.Optimizer):
            return opt(learning_rate=self.learning_rate)
        raise ValueError(f"optimizer must be a Keras optimizer name, class or instance, "
                         f"got {self.optimizer!r}.")

    @staticmethod
    def _normalize(x, axis):
        """Per-feature-channel standardization (statistics per index along ``axis``).

        Adapted on the training part of the data in ``fit``, so no scaler is
        needed in front of the model and the test data never contributes.
        """
        return keras.layers.Normalization(axis=axis, name=NORMALIZATION_LAYER,
                                          dtype="float32")(x)

    @staticmethod
    def _softmax(x, n_classes):
        # float32 softmax keeps probabilities exact under mixed precision
        return keras.layers.Dense(n_classes, activation="softmax", dtype="float32",
                                  name="emotion")(x)

    def _build_network(self, inputs, n_classes):  # pragma: no cover - abstract
        raise NotImplementedError
