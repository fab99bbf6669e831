"""The race in a sweep's report: when and why each config left, the compute used against the full grid,
and each config's interval round by round (race.json, written by hydra/sweeper=race)."""

from __future__ import annotations

import json
from pathlib import Path

from mlexp.reporting.collect import text

RACE_LOG = "race.json"  # written by mlexp.race beside the sweep's runs


def read(out: Path) -> dict | None:
    try:
        return json.loads((Path(out) / RACE_LOG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def final_stage(records: list, race: dict | None) -> list:
    """A budget race's runs at its last stage's epochs: the earlier stages' shorter runs are the race's means,
    not configs of the comparison (race.json keeps them)."""
    epochs = ((race or {}).get("settings") or {}).get("epochs")
    if not epochs:
        return records
    return [r for r in records if r.config.get("trainer.epochs") == epochs[-1]]


def names_by_job(comparison, out: Path) -> dict[str, str]:
    """Run folder (relative to the sweep) -> the report's config name, so the race speaks the report's names."""
    found = {}
    for _, row in comparison.table.iterrows():
        try:
            found[str(Path(row["run"]).resolve().relative_to(Path(out).resolve()))] = row["config"]
        except ValueError:
            continue
    return found


def summary(race: dict, comparison) -> dict:
    """Jobs and epochs run against the full grid (every config with race.max_seeds seeds)."""
    if race.get("full_grid_epochs"):  # budget stages: a continued job's earlier epochs are its earlier run's
        epochs_run, full_epochs = race["epochs_trained"], race["full_grid_epochs"]
    else:
        epochs_run = int(comparison.table["epochs_run"].fillna(0).sum())
        planned = [r.config.get("trainer.epochs") for r in comparison.records if r.config.get("trainer.epochs")]
        per_job = max(planned) if planned else None
        full_epochs = race["full_grid_jobs"] * per_job if per_job else None
    return {"jobs": race["jobs"], "full_grid_jobs": race["full_grid_jobs"], "epochs": epochs_run,
            "full_grid_epochs": full_epochs}  # fmt: skip


def table(race: dict, comparison, out: Path) -> tuple[str, list[list[str]]]:
    """The race in a sentence (why it stopped, compute against the full grid, the method), and a row per
    config: its name, seeds run, the seed after which it left, and why."""
    names = names_by_job(comparison, out)
    used = summary(race, comparison)
    share = (
        f" ({used['epochs'] / used['full_grid_epochs']:.0%} of its {used['full_grid_epochs']} epochs)"
        if used["full_grid_epochs"]
        else ""
    )
    sentence = (
        f"Stopped {race['stopped']}. {used['jobs']} of the full grid's {used['full_grid_jobs']} jobs ran, "
        f"{used['epochs']} epochs{share}. Method: {race['method']}."
    )
    rows = []
    for entrant in race["configs"]:
        name = next((names[j] for j in entrant["jobs"] if j in names), entrant["name"])
        left = entrant.get("left") or {}
        why = left.get("reason") or "still in the race at the end"
        when = text(left.get("after_seed")) if "after_seed" in left else text(left.get("after_epochs", ""))
        when = f"{when} epochs" if "after_epochs" in left else when
        rows.append([name, str(len(entrant["jobs"])), when, why])
    return sentence, rows


def markdown(race: dict, comparison, out: Path) -> list[str]:
    sentence, rows = table(race, comparison, out)
    lines = ["## The race", "", sentence, "", "| config | jobs | left after (seed) | why |", "|---|---|---|---|"]
    return lines + ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]


def figure(race: dict, path: Path) -> Path | None:
    """Each config's mean and interval after every round: who leaves when, and how the rest narrow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlexp.reporting.plots import MARKERS, PALETTE
    from mlexp.runs import atomic_path

    if not race["rounds"]:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    for i, entrant in enumerate(race["configs"]):
        points = [(r["seed"] + 1, r["configs"][entrant["name"]]) for r in race["rounds"]
                  if r["configs"].get(entrant["name"])]  # fmt: skip
        if not points:
            continue
        x = [p[0] + (i - len(race["configs"]) / 2) * 0.03 for p in points]  # side by side, not on top
        mean, low, high = ([p[1][k] for p in points] for k in range(3))
        colour = PALETTE[i % len(PALETTE)]
        ax.errorbar(x, mean, yerr=[[m - lo for m, lo in zip(mean, low, strict=True)],
                                   [h - m for m, h in zip(mean, high, strict=True)]],
                    color=colour, marker=MARKERS[i % len(MARKERS)], capsize=3, label=entrant["name"])  # fmt: skip
        if entrant.get("left"):
            ax.annotate("left", (x[-1], mean[-1]), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("seeds run")
    ax.set_ylabel(f"{race['objective']} (interval over seeds)")
    ax.set_title("How did the race go? (each config's interval after each round)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path
