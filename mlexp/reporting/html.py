"""report.html beside comparison.md: one self-contained page (figures embedded, no network) with a
sortable table, the doctor's findings per run, the seed-group verdict and links to every run."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from mlexp import runs
from mlexp.reporting.collect import text, with_interval
from mlexp.tasks import lower_is_better

REPORT = "report.html"
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
th { background: #f0f0f0; cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " \\25B2"; } th[aria-sort=descending]::after { content: " \\25BC"; }
tr.best { background: #cfe6ff; font-weight: bold; } tr.tied { background: #eef6ff; }
.error { color: #b00; } .warning { color: #a60; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
"""
# Click a header to sort by it (numbers as numbers); click again to reverse.
SCRIPT = """
document.querySelectorAll("table.sortable th").forEach((th, col) => th.addEventListener("click", () => {
  const body = th.closest("table").tBodies[0];
  const up = th.getAttribute("aria-sort") !== "ascending";
  th.closest("tr").querySelectorAll("th").forEach(h => h.removeAttribute("aria-sort"));
  th.setAttribute("aria-sort", up ? "ascending" : "descending");
  const key = row => { const t = row.cells[col].dataset.value ?? row.cells[col].textContent.trim();
                       const n = parseFloat(t); return isNaN(n) ? t : n; };
  [...body.rows].sort((a, b) => { const x = key(a), y = key(b);
      const c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
      return up ? c : -c; }).forEach(row => body.appendChild(row));
}));
"""


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img alt="{escape(path.stem)}" src="data:image/png;base64,{data}"></figure>'


def write(comparison, ranked, figures: list[Path], out: Path) -> Path:
    from mlexp.reporting.names import header

    scores = [comparison.objective, comparison.test_metric]
    plain = ["test_loss", "epochs_run", "fit_seconds", "status"]
    columns = ["verdict", "name", *comparison.varied, *scores, *plain]
    head = "".join(f"<th>{escape(header(c))}</th>" for c in columns) + "<th>doctor</th><th>run</th>"
    rows = []
    for index, row in ranked.iterrows():
        cells = ""
        for c in columns:
            shown = with_interval(row[c], row[f"{c}_low"], row[f"{c}_high"]) if c in scores else text(row[c])
            cells += f'<td data-value="{escape(text(row[c]))}">{escape(shown)}</td>'
        doctor = (
            "; ".join(
                f'<span class="{escape(f["severity"])}">{escape(f["code"])}</span>'
                for f in comparison.records[index].findings
            )
            or "healthy"
        )
        link = escape(_link(row["run"], out))
        run = f'<a href="{link}">{escape(Path(row["run"]).name)}</a> (<a href="{link}/{runs.CONFIG}">config</a>)'
        css = f" class={row['verdict']}" if row["verdict"] in ("best", "tied") else ""
        rows.append(f"<tr{css}>{cells}<td>{doctor}</td><td>{run}</td></tr>")
    order = "lower" if lower_is_better(comparison.objective) else "higher"
    title = f"{len(ranked)} runs: " + (", ".join(comparison.varied) or "one config")
    confidence = f"{comparison.settings.confidence:.0%}"
    parts = [
        "<!DOCTYPE html>", f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>',
        f"<style>{STYLE}</style></head><body>", f"<h1>{escape(title)}</h1>", _context(comparison, out),
        f"<p>{len(ranked)} runs, sorted by {escape(comparison.objective)} ({order} is better), {confidence} "
        "intervals in brackets. A config is highlighted as best only when its lead is supported; configs tied "
        "for best are shaded. Click a column to sort.</p>",
        f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>',
    ]  # fmt: skip
    parts += _verdicts(comparison) + _race(comparison, out)
    failed = ranked[ranked["status"] == "failed"]
    if len(failed):
        items = "".join(f"<li>{escape(r['name'])}: {escape(r['reason'])}</li>" for _, r in failed.iterrows())
        parts.append(f"<h2>Failed runs</h2><ul>{items}</ul>")
    if figures:
        parts.append("<h2>Figures</h2>" + "".join(_image(out / f) for f in figures))
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    path = out / REPORT
    runs.write_text(path, "\n".join(parts) + "\n")
    return path


def _table(heads: list[str], rows: list[list[str]], css: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{f' class={css}' if css else ''}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _verdicts(comparison) -> list[str]:
    """How sure is this comparison? The summary, a row per config, the method (none for a single config)."""
    from mlexp.reporting.verdicts import verdict_rows

    if len(comparison.verdicts) < 2:
        return []
    return [
        f'<h2>How sure is this comparison?</h2><p id="summary">{escape(comparison.summary)}</p>'
        f"{_table(*verdict_rows(comparison), css='verdicts')}<p>{escape(comparison.method)}</p>"
    ]


def _race(comparison, out: Path) -> list[str]:
    """The race of a hydra/sweeper=race sweep (its race.json), if it was one."""
    from mlexp.reporting import race_report

    race = race_report.read(out)
    if not race:
        return []
    sentence, rows = race_report.table(race, comparison, out)
    heads = ["config", "seeds run", "left after seed", "why"]
    return [f"<h2>The race</h2><p>{escape(sentence)}</p>{_table(heads, rows)}"]


SHARED = ("dataset.name", "model.name", "optimizer.name", "optimizer.learning_rate", "trainer.epochs", "seed")


def _context(comparison, out: Path) -> str:
    """The command that made the sweep (its multirun.yaml), the date, and the settings every run shares."""
    import time

    import yaml

    lines = [f"Written {time.strftime('%Y-%m-%d %H:%M')}."]
    try:
        saved = yaml.safe_load((out / "multirun.yaml").read_text(encoding="utf-8"))
        words = [str(w) for w in saved["hydra"]["overrides"]["task"]]
        lines.insert(0, f"<code>mlexp train -m {escape(' '.join(words))}</code>")
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        pass  # a comparison of single runs has no sweep command
    configs = [r.config for r in comparison.records if r.config]
    shared = [
        f"{key} {escape(text(configs[0][key]))}"
        for key in SHARED
        if configs
        and key not in comparison.varied
        and len({str(c.get(key)) for c in configs}) == 1
        and key in configs[0]
    ]
    if shared:
        lines.append("Every run: " + ", ".join(shared) + ".")
    return "<p>" + " ".join(lines) + "</p>"


def _link(run: str, out: Path) -> str:
    try:
        return Path(run).resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return Path(run).resolve().as_uri()
