"""MkDocs hooks: benchmark results into ``benchmarks.md``, the recipe table into the models guide.

The result files are written by the scripts in ``benchmarks/``; reading them
at build time keeps the page in step with the latest run, with no copy in
``docs/`` to forget. Their headings are demoted one level to nest under the page.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mkdocs.structure.files import File

# Build from a checkout without installing skser: the repository root holds the package.
_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

MARKER = "<!-- benchmark results -->"
RECIPES = "<!-- recipe table -->"


def _demote(text: str) -> str:
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        lines.append("#" + line if not fenced and line.startswith("#") else line)
    return "\n".join(lines)


def _results(config) -> Path:
    return Path(config.config_file_path).parent / "benchmarks" / "results"


def _relink(text: str, results: Path) -> str:
    """Point relative links of a result file (``![cm](x.png)``) at its copy in the site."""

    def fix(match):
        target = match.group(2)
        if "://" in target or target.startswith(("#", "/")) or not (results / target).is_file():
            return match.group(0)
        return f"{match.group(1)}(benchmarks/results/{target})"

    return re.sub(r"(!?\[[^\]]*\])\(([^)\s]+)\)", fix, text)


def on_files(files, config):
    """Publish the files next to the results (plots) so the results can link to them."""
    for path in sorted(_results(config).glob("*")):
        if path.suffix.lower() in {".png", ".svg"}:
            files.append(File.generated(config, f"benchmarks/results/{path.name}", abs_src_path=str(path)))
    return files


def _recipe_table() -> str:
    from skser.recipes import list_recipes

    table = list_recipes()
    rows = ["| name | family | input | cost | needs_yamnet | description |", "|---|---|---|---|---|---|"]
    for r in table.itertuples():
        cells = [f"`{r.name}`", r.family, r.input, r.cost, "yes" if r.needs_yamnet else "", r.description]
        rows.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


def on_page_markdown(markdown, page, config, files):
    if RECIPES in markdown:
        markdown = markdown.replace(RECIPES, _recipe_table())
    if page.file.src_uri != "benchmarks.md" or MARKER not in markdown:
        return markdown
    results = _results(config)
    sections = [
        f"{_relink(_demote(path.read_text(encoding='utf-8')), results).strip()}\n\n"
        f"*Source: `benchmarks/results/{path.name}` (JSON next to it).*"
        for path in sorted(results.glob("*.md"))
    ]
    body = "\n\n".join(sections) if sections else "*No results yet: run the scripts in `benchmarks/`.*"
    return markdown.replace(MARKER, body)
