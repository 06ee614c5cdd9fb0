"""The documentation: it builds with ``mkdocs build --strict``, its code runs, its lists are real."""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"

# Code blocks that need what tests do not have: real corpora, a cluster, a second worker.
SKIP_BLOCK = re.compile(r"path/to|dask|ray\.|worker_id")


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


def _nav_pages() -> set[str]:
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    return set(re.findall(r":\s*([\w/-]+\.md)\s*$", text, flags=re.M))


def test_mkdocs_build_strict(tmp_path):
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(module)
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"),
         "-d", str(site)],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert "WARNING" not in log, log
    for page in _nav_pages():  # directory URLs: guide/data.md -> guide/data/index.html
        stem = page.removesuffix(".md")
        built = site / "index.html" if stem == "index" else site / stem / "index.html"
        assert built.exists(), page
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("MFCCTransformer", "evaluate", "OptunaSearchCV", "save_model", "load_model",
                 "predict_timeline", "make_ser_pipeline", "CNNRNN", "SpeakerStandardScaler"):  # fmt: skip
        assert name in api, name
    # The hooks filled in the recipe table and every benchmark result.
    models = (site / "guide" / "models" / "index.html").read_text(encoding="utf-8")
    assert "crnn-small" in models and "<!-- recipe table -->" not in models
    benchmarks = (site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    for result in (REPO / "benchmarks" / "results").glob("*.md"):
        title = result.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
        assert title in benchmarks, result.name


def test_every_page_is_in_the_nav():
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages == _nav_pages()


def test_troubleshooting_lists_real_messages():
    """Each entry is a message skser really emits (found verbatim in the sources)."""
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    entries = re.findall(r"^### `([^`]+)`", text, flags=re.M)
    assert len(entries) >= 20
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "skser").rglob("*.py"))
    missing = [entry for entry in entries if entry not in sources]
    assert not missing


def test_architecture_links_the_guide():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for page in ("guide/evaluation.md", "guide/saving.md", "api.md"):
        assert f"({page})" in text


FAST_PAGES = ["index.md", "guide/data.md", "guide/evaluation.md", "guide/features.md",
              "guide/saving.md"]  # fmt: skip
# (guide/scaling.md needs Dask or Ray and a cluster: not run.)
SLOW_PAGES = ["guide/augmentation.md", "guide/models.md", "guide/tuning.md"]


def _run_page(page: str, tmp_path, monkeypatch):
    blocks = [b for b in _python_blocks(DOCS / page) if not SKIP_BLOCK.search(b)]
    assert blocks, page
    monkeypatch.chdir(tmp_path)  # pages save files (model.joblib ...) in the working directory
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__docs__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for block in blocks:
            exec(compile(block, f"{page} block", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize("page", FAST_PAGES)
def test_page_code_runs(page, tmp_path, monkeypatch, capsys):
    _run_page(page, tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW_PAGES)
def test_slow_page_code_runs(page, tmp_path, monkeypatch, capsys):
    _run_page(page, tmp_path, monkeypatch)


def test_hooks_demote_headings_and_relink_result_files(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "_hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    assert hooks._demote("# Title\n```\n# comment\n```\n## Sub") == "## Title\n```\n# comment\n```\n### Sub"
    (tmp_path / "cm.png").write_bytes(b"\x89PNG")
    text = "![cm](cm.png) [gone](missing.png) [web](https://x.org/a.png)"
    assert hooks._relink(text, tmp_path) == (
        "![cm](benchmarks/results/cm.png) [gone](missing.png) [web](https://x.org/a.png)"
    )
