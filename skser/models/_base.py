"""One scikeras base class for every skser Keras model.

Every wrapper-specific quirk lives here, so the wrapper could be swapped in one
place: scikit-learn >= 1.7 tags, metadata routing of speaker ``groups``, a
validation split drawn from the training data only (by speaker when groups are
known), early stopping, input normalization inside the network, on-the-fly
augmentation, class weights, seeding, device / mixed-precision handling,
training on several devices (a ``tf.distribute`` strategy) and pickling --
and the training recipe (optimizer, schedule, label smoothing, mixup, crops,
SpecAugment, per-utterance normalization), declared ONCE here
as :data:`TRAINING_DEFAULTS`. An architecture class implements
``_build_network`` and declares only its network's parameters in
``__init__`` (plus ``**training``) and, optionally, its own training
defaults in ``_training_defaults``; the full signature (network and
training parameters, with that class's defaults) is generated for it, so
``get_params``/``set_params``/``clone``/``GridSearchCV`` see flat names
such as ``model__epochs`` for every model.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
import math
import numbers
from typing import Any

import keras
import numpy as np
from scikeras.utils.random_state import tensorflow_random_state
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import ClassifierTags
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, check_array, check_consistent_length

from skser._validation import check_option, check_positive
from skser.models import _data
from skser.models._layers import SpecAugment, UtteranceNormalization

logger = logging.getLogger("skser")

#: The modern training recipe, chosen for :class:`~skser.models.AttentionCNN`
#: on RAVDESS-8 training actors (``benchmarks/results/deep.md``): AdamW with
#: weight decay, linear warm-up then cosine decay, label smoothing,
#: SpecAugment, every epoch trained (no early stopping, so no training clips
#: held out). ``SERKerasClassifier.modern_training()`` gives it per class.
MODERN_TRAINING: dict[str, Any] = {
    "optimizer": "adamw", "learning_rate": 3e-3, "weight_decay": 0.05,
    "lr_schedule": "cosine", "warmup_epochs": 2, "reduce_lr_patience": None,
    "label_smoothing": 0.1,
    "freq_masks": 2, "freq_mask_width": 8, "time_masks": 2, "time_mask_width": 15,
    "early_stopping": False, "validation_split": 0.0,
}  # fmt: skip

#: Name of the adapted ``keras.layers.Normalization`` layer inside every model.
NORMALIZATION_LAYER = "input_normalization"

#: Every training parameter of every skser network and its default, in
#: signature order (documented in :class:`SERKerasClassifier`). Architectures
#: override defaults with a ``_training_defaults`` dict, never re-list them.
TRAINING_DEFAULTS: dict[str, Any] = {
    "epochs": 50,
    "batch_size": 32,
    "optimizer": "adam",
    "learning_rate": 0.001,
    "weight_decay": None,
    "lr_schedule": "constant",
    "warmup_epochs": 0,
    "label_smoothing": 0.0,
    "mixup_alpha": 0.0,
    "crop_frames": None,
    "freq_masks": 0,
    "freq_mask_width": 8,
    "time_masks": 0,
    "time_mask_width": 20,
    "utterance_normalization": False,
    "early_stopping": True,
    "patience": 10,
    "reduce_lr_patience": None,
    "validation_split": 0.2,
    "class_weight": None,
    "augmenter": None,
    "mixed_precision": False,
    "jit_compile": False,
    "distribution": None,
    "callbacks": None,
    "random_state": None,
    "verbose": 0,
}


def _gpu_name() -> str | None:
    """Name of the first GPU TensorFlow sees, or None on a CPU-only machine."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"GPU:0 ({details.get('device_name', 'unknown')})"


def _is_strategy(value) -> bool:
    import tensorflow as tf

    return isinstance(value, tf.distribute.Strategy)


def _check_distribution(distribution) -> None:
    if not (distribution is None or _is_strategy(distribution)
            or (isinstance(distribution, str) and distribution == "mirrored")):
        raise ValueError(f"distribution must be None, 'mirrored' or a tf.distribute.Strategy, "
                         f"got {distribution!r}.")


def _resolve_distribution(distribution):
    """The ``tf.distribute.Strategy`` a valid ``distribution`` value names, or None."""
    if isinstance(distribution, str):  # "mirrored": every visible GPU, else the CPU
        import tensorflow as tf

        return tf.distribute.MirroredStrategy()
    return distribution


def _average_replica_state(model, strategy) -> None:
    """Give every replica the mean of the variables each replica updated on its own.

    Keras' BatchNormalization moving statistics are updated per replica from
    its share of each batch, so the replicas end training with different
    values (tensorflow/tensorflow#46488): predictions would depend on the
    replica a clip lands on, and a saved model keeps the first replica's.
    """
    for variable in model.non_trainable_variables:
        values = strategy.experimental_local_results(variable.value)
        if len(values) > 1:
            variable.assign(np.mean([np.asarray(v) for v in values], axis=0))


@contextlib.contextmanager
def _symbolic_build_from_one_replica(model, strategy):
    """Let ``fit``/``evaluate`` build a distributed model from batches of any size.

    Keras 3 (TF backend) builds the loss and metrics from the element-wise
    MEAN over replicas of the first batch, which fails ("Inputs to operation
    AddN ... must have the same size and shape") whenever a batch does not
    split evenly: a ``batch_size`` that is not a multiple of the replicas, or
    a small validation set of odd size. Only its shapes and dtypes are used,
    so the first replica's share does the same job.
    """
    import tensorflow as tf

    def first_replica(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def build(iterator=None, data_batch=None):
        if iterator is not None:  # Keras resets the iterator afterwards
            for _, _, batches in iterator:
                data_batch = next(batches)
                break
        with strategy.scope():
            model._symbolic_build(data_batch=keras.tree.map_structure(first_replica, data_batch))

    model._maybe_symbolic_build = build  # this model only, this fit only
    try:
        yield
    finally:
        del model._maybe_symbolic_build


def _strategy_description(strategy) -> str:
    """E.g. ``"MirroredStrategy, 2 replicas (GPU:0, GPU:1)"``."""
    devices = [d.rsplit("device:", 1)[-1] for d in strategy.extended.worker_devices]
    n = strategy.num_replicas_in_sync
    return (f"{type(strategy).__name__}, {n} replica{'s' if n != 1 else ''} "
            f"({', '.join(devices)})")


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

    Subclasses implement ``_build_network(inputs, n_classes)``, declare
    ``_input_ndims`` (accepted ``X.ndim`` values), optionally
    ``_variable_axes`` (axes whose length may change between calls),
    ``_freq_axis``/``_time_axis`` (for SpecAugment and crops) and
    ``_training_defaults`` (their paper's training settings). Their
    ``__init__`` lists only the network's parameters and passes
    ``**training`` on; the training parameters below are added to its
    signature automatically. Networks start with ``self._normalize`` (input
    standardization, then SpecAugment when enabled) and end with
    ``self._softmax``.

    Training parameters (every model; defaults differ per architecture)
    --------------------------------------------------------------------
    epochs : int
        Maximum number of epochs (early stopping usually ends training sooner).
    batch_size : int
        Mini-batch size for training and prediction.
    optimizer : str, keras optimizer class or instance
        ``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``...; a name or class
        is built with ``learning_rate`` (and ``weight_decay``); an instance is
        copied (its own learning rate is kept).
    learning_rate : float
        Peak learning rate of the optimizer.
    weight_decay : float or None, default=None
        Decoupled weight decay given to the optimizer (``"adamw"``: AdamW);
        None keeps the optimizer's own default (AdamW: 0.004, others: none).
    lr_schedule : {"constant", "cosine"}, default="constant"
        ``"cosine"``: cosine decay to zero over all ``epochs``, after the
        warm-up (needs a name or class ``optimizer``).
    warmup_epochs : int, default=0
        Epochs of linear warm-up from 0 to ``learning_rate`` (cosine schedule;
        at most ``epochs``, so a short run is all warm-up).
    label_smoothing : float, default=0.0
        Label smoothing of the categorical cross-entropy.
    mixup_alpha : float, default=0.0
        ``> 0``: mixup of training clips and targets within each batch,
        ``Beta(alpha, alpha)`` weights. Training only.
    crop_frames : int or None, default=None
        Train on a random window of this many frames of each clip (fresh
        each epoch); validation and prediction use whole clips, so the
        network must accept any length along its time axis.
    freq_masks, time_masks : int, default=0
        SpecAugment masks per training clip, applied inside the network
        after standardization (a Keras layer, identity at inference).
    freq_mask_width, time_mask_width : int, default=8, 20
        Largest mask widths in frequency rows and frames.
    utterance_normalization : bool, default=False
        Standardize each clip by its own statistics (per channel over time)
        inside the network instead of the training-set statistics: works
        clip by clip, removes channel/loudness offsets. Speaker
        normalization belongs in a pipeline step before the model.
    early_stopping : bool, default=True
        Stop when the validation loss has not improved for ``patience`` epochs
        and restore the best weights. ``False`` trains all ``epochs``.
    patience : int, default=10
        Early-stopping patience in epochs.
    reduce_lr_patience : int or None
        When set, halve the learning rate after this many epochs without
        validation improvement (``ReduceLROnPlateau``; constant schedule only).
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
        :class:`skser.SpectrogramAugmenter`), applied in NumPy to every
        training batch of every epoch; never to validation data or at predict
        time. Not combinable with ``crop_frames``/``mixup_alpha``.
    mixed_precision : bool, default=False
        Train with the ``"mixed_float16"`` policy when a GPU is available
        (softmax stays float32); ignored with a warning on CPU.
    jit_compile : bool, default=False
        Compile the training step with XLA.
    distribution : {None, "mirrored"} or tf.distribute.Strategy, default=None
        Train on several devices with data parallelism. ``None``: one device
        (the first GPU TensorFlow sees, else the CPU), no strategy.
        ``"mirrored"``: ``tf.distribute.MirroredStrategy()`` over all visible
        GPUs (the CPU when there is none). A ``tf.distribute.Strategy``
        instance is used as given. The model is built, compiled and trained
        inside the strategy's ``scope()``. ``batch_size`` stays the GLOBAL
        batch: each step's batch is split across the replicas, so each
        replica sees ``batch_size / num_replicas_in_sync`` clips and the
        steps per epoch, learning rate and schedule are those of a
        one-device run; to keep the per-replica batch of a one-device run,
        multiply ``batch_size`` by the number of replicas. A Strategy
        instance is not pickled (TensorFlow strategies cannot be): an
        unpickled or joblib-shipped copy has ``distribution=None``; use
        ``"mirrored"`` to keep the setting across processes.
    callbacks : list of keras callbacks or None, default=None
        Extra callbacks for ``fit``.
    random_state : int, RandomState or None, default=None
        Seeds weights, dropout, shuffling, the validation split, crops,
        mixup and masks, so the same seed gives the same model on CPU.
    verbose : int, default=0
        Keras verbosity.

    Fitted attributes
    -----------------
    classes_, n_classes_, model_, history_, n_epochs_, best_epoch_, device_,
    n_replicas_ (devices trained on in sync; 1 without ``distribution``),
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
    _freq_axis: int | None = None
    _time_axis: int | None = None
    _input_description = "X"
    _training_defaults: dict[str, Any] = {}

    # Metadata routing: ``groups`` reaches ``fit`` by default (speaker-aware
    # validation split) when routing is enabled.
    __metadata_request__fit = {"groups": True}

    def __init__(self, **training):
        unknown = sorted(set(training) - set(TRAINING_DEFAULTS))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown parameter(s) {unknown}; "
                            f"its parameters are {sorted(self._get_param_names())}.")
        for name, default in self.training_defaults().items():
            setattr(self, name, training.get(name, default))

    @classmethod
    def training_defaults(cls) -> dict[str, Any]:
        """This class's training parameters and defaults (base defaults + ``_training_defaults``)."""
        defaults = dict(TRAINING_DEFAULTS)
        for klass in reversed(cls.__mro__):
            defaults.update(vars(klass).get("_training_defaults", {}))
        return defaults

    @classmethod
    def modern_training(cls) -> dict[str, Any]:
        """:data:`MODERN_TRAINING` as parameters of this class.

        Retrains any architecture the modern way, keeping its network:
        ``model.set_params(**type(model).modern_training())``. Epochs, batch
        size and crops stay the class's own (they depend on the data). No
        SpecAugment for a class whose input may lack a time or a frequency
        axis (``SpectrogramCNN1D`` on per-clip feature vectors).

        Examples
        --------
        >>> from skser.models import MFCCConv1D
        >>> MFCCConv1D(**MFCCConv1D.modern_training()).lr_schedule
        'cosine'
        """
        params = dict(MODERN_TRAINING)
        axes = (cls._freq_axis, cls._time_axis)
        if None in axes or min(cls._input_ndims) <= max(axes):  # inputs without both axes
            params.update(freq_masks=0, time_masks=0)
        return params

    def __init_subclass__(cls, **kwargs):
        # Give every architecture the full, explicit signature (network +
        # training parameters with its defaults): what sklearn's get_params,
        # clone and repr read, and what help() shows.
        super().__init_subclass__(**kwargs)
        init = cls.__init__
        own = [p for name, p in inspect.signature(init).parameters.items()
               if name != "self" and p.kind is inspect.Parameter.KEYWORD_ONLY
               and name not in TRAINING_DEFAULTS]
        if "__init__" not in vars(cls):  # inherited: wrap, so the parent keeps its signature
            parent_init = init

            def init(self, **params):
                parent_init(self, **params)

            cls.__init__ = init
        training = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
                    for name, default in cls.training_defaults().items()]
        self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        cls.__init__.__signature__ = inspect.Signature([self_param, *own, *training])

    # scikeras lists every public attribute as a parameter; use the signature.
    _get_param_names = classmethod(BaseEstimator._get_param_names.__func__)

    def __sklearn_clone__(self):
        # clone deep-copies parameters; a Strategy is a handle on devices, so
        # the clone shares it (like a client) instead of copying it.
        if not _is_strategy(self.distribution):
            return super().__sklearn_clone__()
        proxy = copy.copy(self)  # shallow: nothing is copied but the attribute dict
        proxy.distribution = None
        twin = super(SERKerasClassifier, proxy).__sklearn_clone__()
        twin.distribution = self.distribution
        return twin

    def __getstate__(self):
        # A tf.distribute.Strategy cannot be pickled; it only matters during
        # fit, so a pickled copy (saved model, joblib worker) has none.
        state = super().__getstate__()  # may be self.__dict__ itself: never mutate it
        if _is_strategy(state.get("distribution")):
            state = {**state, "distribution": None}
        return state

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
        strategy = _resolve_distribution(self.distribution)
        seed = self._seed_from(self.random_state)
        gpu = _gpu_name()
        self.device_ = (gpu or "CPU") if strategy is None else _strategy_description(strategy)
        self.n_replicas_ = 1 if strategy is None else int(strategy.num_replicas_in_sync)
        if self.mixed_precision and gpu is None:
            logger.warning("%s: mixed_precision needs a GPU; training in float32 on CPU.",
                           type(self).__name__)
        self.dtype_policy_ = "mixed_float16" if (self.mixed_precision and gpu) else "float32"
        self._strategy = strategy  # for this fit only: never a fitted attribute
        try:
            if seed is None:
                self._fit_seeded(X, y, groups, sample_weight, None)
            else:
                with tensorflow_random_state(seed):
                    self._fit_seeded(X, y, groups, sample_weight, seed)
        finally:
            del self._strategy
        return self

    def _strategy_scope(self):
        """The distribution strategy's scope during ``fit``, else a no-op context."""
        strategy = getattr(self, "_strategy", None)
        return contextlib.nullcontext() if strategy is None else strategy.scope()

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
        steps = math.ceil(len(train) / self.batch_size)
        with self._strategy_scope():  # optimizer variables live on every replica
            self._compile(self.model_, steps_per_epoch=steps)
        data_seed = seed if seed is not None else _data.random_seed()
        strategy = getattr(self, "_strategy", None)
        with (contextlib.nullcontext() if strategy is None
              else _symbolic_build_from_one_replica(self.model_, strategy)):
            if self.augmenter is not None:
                batches = _AugmentedBatches(
                    X[train], y_enc[train], w_train,
                    batch_size=self.batch_size, augmenter=self.augmenter, seed=data_seed,
                )
                hist = self.model_.fit(batches, **fit_kwargs)
            else:
                dataset, steps = _data.training_dataset(
                    X[train].astype(np.float32, copy=False), y_enc[train], w_train,
                    batch_size=self.batch_size, seed=data_seed, crop_frames=self.crop_frames,
                    time_axis=self._time_axis, mixup_alpha=self.mixup_alpha,
                )
                hist = self.model_.fit(dataset, steps_per_epoch=steps, shuffle=False,
                                       **fit_kwargs)
        if strategy is not None:
            _average_replica_state(self.model_, strategy)
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
        if self.weight_decay is not None and not (
                isinstance(self.weight_decay, numbers.Real) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be None or >= 0, got {self.weight_decay!r}.")
        check_option(self.lr_schedule, "lr_schedule", ("constant", "cosine"))
        for name in ("warmup_epochs", "patience", "freq_masks", "time_masks",
                     "freq_mask_width", "time_mask_width"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
        if self.lr_schedule == "constant" and self.warmup_epochs:
            raise ValueError("warmup_epochs needs lr_schedule='cosine'.")
        if self.lr_schedule == "cosine" and self.reduce_lr_patience is not None:
            raise ValueError("reduce_lr_patience needs lr_schedule='constant' (the cosine "
                             "schedule sets the learning rate itself).")
        if not (isinstance(self.label_smoothing, numbers.Real)
                and 0 <= self.label_smoothing < 1):
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}.")
        if not (isinstance(self.mixup_alpha, numbers.Real) and self.mixup_alpha >= 0):
            raise ValueError(f"mixup_alpha must be >= 0, got {self.mixup_alpha!r}.")
        check_positive(self.crop_frames, "crop_frames", integer=True, allow_none=True)
        if self.crop_frames is not None and self._time_axis not in self._variable_axes:
            raise ValueError(f"crop_frames needs a network that takes clips of any length; "
                             f"{type(self).__name__} has a fixed input length.")
        if (self.freq_masks or self.time_masks) and None in (self._freq_axis, self._time_axis):
            raise ValueError(f"freq_masks/time_masks need a time-frequency input; "
                             f"{type(self).__name__} does not declare one.")
        if self.augmenter is not None and (self.crop_frames or self.mixup_alpha):
            raise ValueError("augmenter (NumPy batches) cannot be combined with crop_frames or "
                             "mixup_alpha (tf.data batches); use freq_masks/time_masks.")
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
        _check_distribution(self.distribution)
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

    def _predict_raw(self, X, **kwargs):
        """Class probabilities through Keras' compiled predict step, batch by batch.

        ``Model.predict_on_batch`` runs the cached ``tf.function`` predict step
        (traced once, shapes relaxed when clip lengths vary), without the data
        adapter and callbacks that ``Model.predict`` builds on every call and
        without the layer-by-layer eager execution of ``model(X)``: here about
        5 ms instead of 40 ms for one clip through ``recommended-deep``'s
        network, and half the time of ``predict`` for 32 clips (file-to-label
        latencies in ``benchmarks/results/latency.md``). Keyword arguments (scikeras'
        ``predict_proba(X, **kwargs)``) and models trained on several replicas
        go to ``Model.predict``: under a ``MirroredStrategy``,
        ``predict_on_batch`` returns every replica's rows (Keras 3.15).
        """
        if not self.initialized_:
            raise NotFittedError(f"{type(self).__name__} needs to be fitted before predicting.")
        X, _ = self._validate_data(X=X, y=None)
        X = self.feature_encoder_.transform(X)
        if kwargs or self.n_replicas_ > 1:
            kwargs.setdefault("batch_size", self.batch_size)
            kwargs.setdefault("verbose", self.verbose)
            return self.model_.predict(X, **kwargs)
        X = np.asarray(X, dtype=np.float32)
        return np.concatenate([
            np.asarray(self.model_.predict_on_batch(X[start:start + self.batch_size]))
            for start in range(0, len(X), self.batch_size)
        ])

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
        # Under a distribution strategy, variables are created (and the model
        # compiled) inside its scope, so Keras trains it on every replica.
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(getattr(self, "dtype_policy_", "float32"))
        try:
            with self._strategy_scope():
                return super()._build_keras_model()
        finally:
            keras.config.set_dtype_policy(previous)

    def _keras_build_fn(self, meta):
        shape = [None if ax in self._variable_axes else d
                 for ax, d in enumerate(meta["X_shape_"])][1:]
        inputs = keras.Input(shape=tuple(shape), name="features")
        outputs = self._build_network(inputs, meta["n_classes_"])
        model = keras.Model(inputs, outputs, name=type(self).__name__)
        self._compile(model, steps_per_epoch=1)
        return model

    def _compile(self, model, *, steps_per_epoch):
        """(Re)compile ``model`` with a fresh optimizer whose schedule spans ``epochs``."""
        model.compile(
            optimizer=self._make_optimizer(steps_per_epoch),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing),
            metrics=["accuracy"], jit_compile=bool(self.jit_compile),
        )

    # ------------------------------------------------------------------ building blocks
    def _learning_rate(self, steps_per_epoch):
        if self.lr_schedule == "constant":
            return self.learning_rate
        warmup = min(self.warmup_epochs, self.epochs) * steps_per_epoch
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else self.learning_rate,
            decay_steps=max(1, self.epochs * steps_per_epoch - warmup),
            warmup_target=self.learning_rate if warmup else None, warmup_steps=warmup,
        )

    def _make_optimizer(self, steps_per_epoch=1):
        opt = self.optimizer
        if isinstance(opt, keras.optimizers.Optimizer):
            if self.lr_schedule != "constant":
                raise ValueError("lr_schedule needs optimizer as a name or class, not an "
                                 "instance (an instance keeps its own learning rate).")
            return type(opt).from_config(opt.get_config())  # fresh state per fit
        if isinstance(opt, str):
            opt = type(keras.optimizers.get(opt))
        if isinstance(opt, type) and issubclass(opt, keras.optimizers.Optimizer):
            extra = {} if self.weight_decay is None else {"weight_decay": self.weight_decay}
            return opt(learning_rate=self._learning_rate(steps_per_epoch), **extra)
        raise ValueError(f"optimizer must be a Keras optimizer name, class or instance, "
                         f"got {self.optimizer!r}.")

    def _normalize(self, x, axis):
        """Input standardization per feature channel (``axis``), then SpecAugment if enabled.

        By default the statistics are adapted on the training part of the data
        in ``fit`` (no scaler needed in front of the model, the test data never
        contributes); with ``utterance_normalization`` each clip is
        standardized by its own statistics instead. SpecAugment masks follow
        (training only), so a masked value is the mean.
        """
        if self.utterance_normalization:
            x = UtteranceNormalization(axis, name="utterance_normalization", dtype="float32")(x)
        else:
            x = keras.layers.Normalization(axis=axis, name=NORMALIZATION_LAYER,
                                           dtype="float32")(x)
        if self.freq_masks or self.time_masks:
            if len(x.shape) <= max(self._freq_axis, self._time_axis):
                raise ValueError(f"freq_masks/time_masks need a time-frequency input; "
                                 f"{type(self).__name__} got clips of shape {x.shape[1:]}.")
            x = SpecAugment(self._freq_axis, self._time_axis,
                            freq_masks=self.freq_masks, freq_mask_width=self.freq_mask_width,
                            time_masks=self.time_masks, time_mask_width=self.time_mask_width,
                            seed=self._seed_from(self.random_state), name="spec_augment")(x)
        return x

    @staticmethod
    def _softmax(x, n_classes):
        # float32 softmax keeps probabilities exact under mixed precision
        return keras.layers.Dense(n_classes, activation="softmax", dtype="float32",
                                  name="emotion")(x)

    def _build_network(self, inputs, n_classes):  # pragma: no cover - abstract
        raise NotImplementedError
