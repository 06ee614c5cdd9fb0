"""Every script in examples/ runs offline with --small and prints what it promises."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# script -> patterns its --small output must contain.
EXPECTED = {
    "quickstart.py": [r"SPEAKER-INDEPENDENT evaluation: LeaveOneGroupOut, 4 folds", r"saved to .*svm-mfcc\.joblib",
                      r"true anger +predicted \w+"],
    "ravdess_pipeline.py": [r"using the synthetic corpus", r"SPEAKER-INDEPENDENT evaluation"],
    "grid_search.py": [r"4 candidates x 3 speaker-grouped folds", r"best parameters: \{'features__mfcc__n_mfcc'"],
    "optuna_search.py": [r"single process: best inner UAR", r"shared study: 4 trials \(\{'[^']+': 2, '[^']+': 2\}"],
    "emotion_timeline.py": [r"24\.0 s at 16000 Hz", r"windows whose label matches the emotion at their centre: \d+%"],
    "cnn_rnn.py": [r"segment stack of two clips: \(2, 4, 96, 64\)", r"SPEAKER-INDEPENDENT evaluation: GroupShuffleSplit"],
    "baseline_vs_deep.py": [r"\| svm-mfcc \| \d\.\d{3} ± ", r"\| mfcc-lstm \| \d\.\d{3} ± "],
    "own_data.py": [r"loaded folders: 32 clips, 4 speakers", r"the same labels: True; extra column kept: True",
                    r"svm-mfcc: pooled UAR \d\.\d{3} \[95 % CI \d\.\d{3}-\d\.\d{3}\]",
                    r"compare svm-mfcc - svm-gtcc: UAR .* difference [+-]\d\.\d{3} \(95 % CI",
                    r"\(skser predict exit status 1\)",
                    r"predict_files: 3 predicted, 2 failed \(call_click\.wav, call_corrupt\.wav\)"],
}  # fmt: skip
# Keras training or three processes: tens of seconds each on a shared CPU.
SLOW = {"cnn_rnn.py", "baseline_vs_deep.py", "optuna_search.py"}
# Extra arguments: the timeline example also writes its CSV and plot.
EXTRA = {"emotion_timeline.py": ["--csv", "t.csv", "--plot", "t.png"]}


def _run(script, *args, cwd):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=600,
    )  # fmt: skip


def test_every_example_is_tested():
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(EXPECTED)


@pytest.mark.parametrize(
    "script",
    [pytest.param(s, marks=pytest.mark.slow) if s in SLOW else s for s in sorted(EXPECTED)],
)
def test_example_runs_small(script, tmp_path):
    done = _run(script, "--small", *EXTRA.get(script, []), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    for pattern in EXPECTED[script]:
        assert re.search(pattern, done.stdout), (pattern, done.stdout[-3000:])
    # Only the files asked for are written into the working directory.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(EXTRA.get(script, [])[1::2])
    if script == "emotion_timeline.py":
        rows = (tmp_path / "t.csv").read_text().splitlines()
        assert rows[0] == "start,end,label,anger,calm,happiness,sadness"
        assert len(rows) - 1 == 1 + (24 - 2) // 1  # 2 s windows every 1 s over 24 s
        assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.realdata
@pytest.mark.slow
def test_ravdess_example_on_real_data(ravdess_dir, tmp_path):
    done = _run("ravdess_pipeline.py", "--data", str(ravdess_dir), "--small", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "240 clips, 4 speakers" in done.stdout
    assert "SPEAKER-INDEPENDENT evaluation: LeaveOneGroupOut, 4 folds" in done.stdout
