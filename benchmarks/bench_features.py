"""Throughput of the skser feature transformers against a plain per-file librosa loop.

For each feature (mel spectrogram, FSER mel image, YAMNet-style mel segments,
MFCC statistics, GTCC statistics, and YAMNet embeddings when
``skser.features.EmbeddingTransformer`` is available) this times
``transformer.fit_transform(paths)`` with ``--n-jobs`` workers, reading the
files inside the workers, and a plain single-process loop
``librosa.load`` + ``librosa.feature.*`` computing the same features. Both
include reading and decoding the audio. Throughput is audio seconds per wall
second ("x real time"); ``ratio`` is plain-loop wall time / skser wall time.

The plain loop is timed twice, with the default BLAS threads and with BLAS
limited to one thread, and the faster is kept, so the ratio never flatters
skser. Worker start-up (joblib spawning processes and importing skser) is
excluded by a warm-up call: it is paid once per session, not per call.

Usage::

    python benchmarks/bench_features.py --data ../shared/data/ravdess --limit 300

Writes ``benchmarks/results/features.json`` and ``features.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import soundfile as sf
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SR = 16000
TARGETS = {  # minimum x real time, minimum ratio vs the plain loop
    "mel_spectrogram": (300, 1.5),
    "mfcc_stats": (300, 1.5),
    "gtcc_stats": (100, None),
}


def list_clips(data: Path, limit: int) -> list[str]:
    files = sorted(str(p) for p in data.rglob("*") if p.suffix.lower() in (".wav", ".flac"))
    if not files:
        raise SystemExit(f"no .wav/.flac files under {data}")
    if limit and limit < len(files):  # evenly spread over the corpus (all speakers)
        files = [files[i] for i in np.linspace(0, len(files) - 1, limit).round().astype(int)]
    return files


def audio_seconds(files: list[str]) -> float:
    return float(sum(sf.info(f).frames / sf.info(f).samplerate for f in files))


# ----------------------------------------------------------------- plain librosa loops


def plain_mel(files):
    import librosa

    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=160, win_length=400)
        out.append(librosa.power_to_db(S))
    return out


def plain_image(files):
    # FSER: melspectrogram(n_fft=512, hop=512), dB, min-max, resize; the resize here is a
    # cheap nearest-neighbour index, which only favours the loop.
    import librosa

    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        db = librosa.power_to_db(
            librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=512)
        )
        db = (db - db.min()) / max(db.max() - db.min(), 1e-12)
        rows = np.linspace(0, db.shape[0] - 1, 64).astype(int)
        cols = np.linspace(0, db.shape[1] - 1, 64).astype(int)
        out.append(np.repeat(db[rows][:, cols][..., None], 3, axis=-1))
    return out


def plain_segments(files):
    # 0.975 s windows, 50 % overlap, log(mel + 0.001) of each (librosa frames 95, not 96,
    # per window with center=False: same work to within 1 %).
    import librosa

    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        n = 1 + max(0, int(np.ceil((len(y) - 15600) / 7800)))
        y = np.pad(y, (0, (n - 1) * 7800 + 15600 - len(y)))
        segs = []
        for i in range(n):
            S = librosa.feature.melspectrogram(
                y=y[i * 7800 : i * 7800 + 15600], sr=SR, n_fft=512, hop_length=160, win_length=400,
                center=False, n_mels=64, fmin=125, fmax=7500, htk=True, norm=None, power=1.0,
            )  # fmt: skip
            segs.append(np.log(S + 0.001).T)
        out.append(np.stack(segs))
    return out


def plain_mfcc(files):
    import librosa

    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        m = librosa.feature.mfcc(
            y=y, sr=SR, n_mfcc=13, n_fft=512, hop_length=160, win_length=400, n_mels=40
        )
        out.append(np.concatenate([m.mean(axis=1), m.std(axis=1)]))
    return out


def plain_gtcc(files):
    # librosa has no GTCC: librosa.stft + the same gammatone weights + DCT, per file.
    import librosa
    import scipy.fft

    from skser.features import gammatone_filterbank

    weights = gammatone_filterbank(SR, 512)[0].astype(np.float32) ** 2
    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        power = np.abs(librosa.stft(y, n_fft=512, hop_length=160, win_length=400)) ** 2
        log_e = librosa.power_to_db(weights @ power)
        g = scipy.fft.dct(log_e, type=2, norm="ortho", axis=0)[:13]
        out.append(np.concatenate([g.mean(axis=1), g.std(axis=1)]))
    return out


# ----------------------------------------------------------------- timing


def timed(func, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def plain_time(func, files, repeat: int) -> tuple[float, str]:
    default = timed(lambda: func(files), repeat)
    with threadpool_limits(limits=1, user_api="blas"):
        single = timed(lambda: func(files), repeat)
    return (default, "default BLAS threads") if default <= single else (single, "BLAS 1 thread")


def cases(n_jobs: int):
    from skser.features import GTCCTransformer, MelSpectrogramTransformer, MFCCTransformer

    yield "mel_spectrogram", MelSpectrogramTransformer(n_jobs=n_jobs), plain_mel
    yield "mel_image", MelSpectrogramTransformer(output="image", n_jobs=n_jobs), plain_image
    yield (
        "mel_segments",
        MelSpectrogramTransformer(output="segments", n_jobs=n_jobs),
        plain_segments,
    )
    yield "mfcc_stats", MFCCTransformer(output="stats", n_jobs=n_jobs), plain_mfcc
    yield "gtcc_stats", GTCCTransformer(output="stats", n_jobs=n_jobs), plain_gtcc


def embedding_case(n_jobs: int, weights: Path):
    try:
        from skser.features import EmbeddingTransformer
    except (ImportError, AttributeError) as exc:
        return None, f"EmbeddingTransformer not importable: {exc}"
    if not weights.exists():
        return None, f"YAMNet weights absent: {weights}"
    return EmbeddingTransformer(weights=str(weights), pooling=("mean", "std"), n_jobs=n_jobs), None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "ravdess")
    parser.add_argument("--limit", type=int, default=300, help="number of clips (0: all)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="timings per case; the best is kept")
    parser.add_argument(
        "--yamnet", type=Path, default=REPO.parent / "shared" / "models" / "yamnet.tflite"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)

    files = list_clips(args.data, args.limit)
    seconds = audio_seconds(files)
    warm = files[: 2 * max(1, args.n_jobs)]
    print(f"{len(files)} clips, {seconds:.1f} s of audio, n_jobs={args.n_jobs}", flush=True)

    results = []
    for name, transformer, plain in cases(args.n_jobs):
        transformer.fit_transform(warm)  # start the workers, import skser in them
        plain(warm[:1])
        out_shape = None

        def run(transformer=transformer):
            nonlocal out_shape
            out_shape = transformer.fit_transform(files).shape

        wall = timed(run, args.repeat)
        plain_wall, plain_mode = plain_time(plain, files, args.repeat)
        row = dict(
            feature=name, output_shape=list(out_shape), skser_wall_s=round(wall, 3),
            skser_x_realtime=round(seconds / wall, 1), plain_wall_s=round(plain_wall, 3),
            plain_x_realtime=round(seconds / plain_wall, 1), plain_mode=plain_mode,
            ratio_vs_plain=round(plain_wall / wall, 2),
        )  # fmt: skip
        target = TARGETS.get(name)
        if target:
            min_rt, min_ratio = target
            row["target"] = f">= {min_rt}x real time" + (
                f", >= {min_ratio}x plain" if min_ratio else ""
            )
            row["meets_target"] = bool(
                row["skser_x_realtime"] >= min_rt
                and (min_ratio is None or row["ratio_vs_plain"] >= min_ratio)
            )
        results.append(row)
        print(json.dumps(row), flush=True)

    emb, reason = embedding_case(args.n_jobs, args.yamnet)
    if emb is None:
        skipped = {"yamnet_embedding": reason}
        print(f"skipped yamnet_embedding: {reason}", flush=True)
    else:
        skipped = {}
        emb.fit_transform(warm)
        holder = {}
        wall = timed(lambda: holder.update(shape=emb.fit_transform(files).shape), args.repeat)
        row = dict(
            feature="yamnet_embedding", output_shape=list(holder["shape"]), skser_wall_s=round(wall, 3),
            skser_x_realtime=round(seconds / wall, 1), plain_wall_s=None, plain_x_realtime=None,
            plain_mode="no plain equivalent", ratio_vs_plain=None,
        )  # fmt: skip
        results.append(row)
        print(json.dumps(row), flush=True)

    report = {
        "benchmark": "feature extraction throughput",
        "protocol": (
            "fit_transform(paths) with n_jobs workers (files read in the workers) vs a single-process "
            "librosa.load + librosa.feature loop; best of --repeat timings; workers warmed up first; "
            "plain loop: faster of default BLAS threads and 1 BLAS thread"
        ),
        "corpus": str(args.data),
        "n_clips": len(files),
        "audio_seconds": round(seconds, 2),
        "n_jobs": args.n_jobs,
        "repeat": args.repeat,
        "results": results,
        "skipped": skipped,
        "versions": {
            p: version(p) for p in ("skser", "numpy", "scipy", "librosa", "scikit-learn", "joblib")
        },
        "hardware": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "note": "shared machine: other jobs ran at the same time, so absolute numbers are pessimistic",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "features.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "features.md").write_text(markdown(report))
    print(f"wrote {args.out / 'features.json'} and features.md")
    return 0


def markdown(report: dict) -> str:
    hw = report["hardware"]
    lines = [
        "# Feature extraction throughput",
        "",
        f"{report['n_clips']} clips ({report['audio_seconds']} s of audio) from `{report['corpus']}`, "
        f"n_jobs={report['n_jobs']}, {hw['cpu_count']} CPUs, {hw['platform']}, "
        f"load average {hw['load_average_1_5_15']}.",
        "",
        f"Protocol: {report['protocol']}.",
        "",
        "| feature | output shape | skser wall (s) | skser x real time | plain loop wall (s) | plain x real time | skser / plain speed-up | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['feature']} | {tuple(r['output_shape'])} | {r['skser_wall_s']} | {r['skser_x_realtime']} | "
            f"{r['plain_wall_s'] if r['plain_wall_s'] is not None else '-'} | "
            f"{r['plain_x_realtime'] if r['plain_x_realtime'] is not None else '-'} | "
            f"{r['ratio_vs_plain'] if r['ratio_vs_plain'] is not None else '-'} | "
            f"{r.get('target', '-')} | {'yes' if r.get('meets_target') else ('no' if 'meets_target' in r else '-')} |"
        )
    for name, reason in report["skipped"].items():
        lines.append(f"\nSkipped {name}: {reason}")
    lines += [
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".",
        "",
        f"Note: {report['note']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
