"""CNN-RNN: a CNN embeds each 0.975 s log-mel segment, two LSTMs read the segment sequence.

Sharan, Mascolo & Schuller's model: each clip is cut into 0.975 s segments
with 50 % overlap, each segment becomes a 96 x 64 log-mel patch, a CNN embeds
it and two LSTM layers of 150 units classify the sequence. ``--yamnet PATH``
uses the pretrained YAMNet as the CNN (as the paper did); by default a small
CNN is trained from scratch. Padding segments are masked, so clips of any
length share a batch.

Run ``python examples/cnn_rnn.py --small`` (offline, a few epochs on a tiny
corpus: the numbers only show that everything runs).
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sklearn.model_selection import GroupShuffleSplit  # noqa: E402

import skser  # noqa: E402
from skser.datasets import make_synthetic_corpus  # noqa: E402
from skser.recipes import make_ser_pipeline  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny corpus, 2 epochs")
    parser.add_argument("--data", help="a RAVDESS folder (default: synthetic corpus)")
    parser.add_argument("--yamnet", help="YAMNet weights (yamnet.tflite / yamnet.h5): pretrained CNN")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)

    if args.data:
        corpus = skser.load_ravdess(args.data, label_map="4class")
    elif args.small:
        corpus = make_synthetic_corpus(
            n_speakers=3, n_per_class=3, emotions=["anger", "happiness", "neutral", "sadness"],
            duration=2.0, random_state=0,
        )  # fmt: skip
    else:
        corpus = make_synthetic_corpus(
            emotions=["anger", "happiness", "neutral", "sadness"], random_state=0
        )
    epochs = args.epochs or (2 if args.small else 50)
    if args.yamnet:
        pipe = make_ser_pipeline("crnn-yamnet-lstm", yamnet_weights=args.yamnet, model__epochs=epochs)
    else:
        pipe = make_ser_pipeline("crnn-small", model__epochs=epochs)
    if args.small:  # a smaller network, so the example runs in seconds on a CPU
        pipe.set_params(model__lstm_units=(16, 16), model__batch_size=8)
        if not args.yamnet:
            pipe.set_params(model__backbone_filters=(8, 16))
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices

    segments = pipe.named_steps["features"].fit_transform(corpus.X[:2])
    print(f"segment stack of two clips: {segments.shape} (clips, segments, frames, mel bands)")
    # --small: one split holding out one whole speaker; else the default protocol
    # (leave-one-speaker-out up to 12 speakers, else StratifiedGroupKFold(5)).
    cv = GroupShuffleSplit(n_splits=1, test_size=1, random_state=0) if args.small else None
    report = skser.evaluate(pipe, corpus.X, corpus.y, groups=corpus.groups, cv=cv)
    print(report)


if __name__ == "__main__":
    main()
