"""The house rules of issue 35: one run setup, model kinds that declare their phases, one seam with Hydra
(errors as exceptions, one claim, the manifest written at start and end), task names in one place."""

import ast
import json
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

import mlexp
from mlexp import runs

ROOT = Path(mlexp.__file__).parent
TINY = ["trainer.verbose=0", "model.hidden_units=[8]"]


def sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in ROOT.rglob("*.py")}


def test_a_model_kind_declares_its_phases_through_the_registry(mlexp, tmp_path, monkeypatch):
    """A new family with phases touches its own module only: training asks the kind (here one registered by
    a test), not a list of family names."""
    from mlexp.registry import MODELS, Kind, Phases

    entered = []

    class WarmThenMain(Phases):
        def plan(self, cfg):
            return [("warm", 1), ("main", cfg.trainer.epochs)]

        def enter(self, phase, model, cfg):
            entered.append((phase, model.count_params()))

    mlp = MODELS["mlp"]
    kind = Kind("two_phase", mlp.builder, mlp.rules, mlp.required, phases=WarmThenMain())
    monkeypatch.setitem(MODELS.kinds(), "two_phase", kind)
    result = mlexp("train", *TINY, "model.kind=two_phase", "trainer.epochs=3", "hydra.run.dir=run")
    assert result.code == 0, result.err
    assert [phase for phase, _ in entered] == ["warm", "main"]
    history = pd.read_csv(tmp_path / "run/history.csv")
    assert history["phase"].tolist() == ["warm", "main", "main"]
    assert MODELS.phases({"kind": "mlp"}).plan(OmegaConf.create({"trainer": {"epochs": 4}})) == [(None, 4)]


def test_no_module_names_the_backbone_family_outside_its_own():
    """training, doctor/check and doctor/preflight ask the registry for phases, descriptions and findings (the
    registry lists the module, as it lists every family; mlexp import writes `model: backbone` into configs)."""
    named = [
        path
        for path, text in sources().items()
        if not path.startswith(("models/", "importer/"))
        and path != "registry.py"
        and ('"backbone"' in text or "backbone." in text)
    ]
    assert named == []


def test_a_run_writes_its_manifest_twice_and_claims_its_folder_once(mlexp, tmp_path, monkeypatch):
    from mlexp.runs import hydra_claim

    writes, claims = [], []
    write_json, claim_folder = runs.write_json, runs.claim
    monkeypatch.setattr(runs, "write_json", lambda path, data: (writes.append(Path(path).name), write_json(path, data)))
    spy = lambda *a, **k: (claims.append(a[0]), claim_folder(*a, **k))  # noqa: E731
    monkeypatch.setattr(hydra_claim, "claim", spy)
    monkeypatch.setattr(runs, "claim", spy)
    assert mlexp("train", *TINY, "trainer.epochs=2", "hydra.run.dir=run").code == 0
    assert writes.count("manifest.json") == 2  # at start, and at the end with the data fingerprint
    assert claims == [Path("run")]
    manifest = json.loads((tmp_path / "run/manifest.json").read_text())
    assert manifest["status"] == "completed" and manifest["data"] is None  # digits: embedded, no files
    assert manifest["started"] <= manifest["ended"]


def test_an_error_in_a_single_run_reaches_the_cli_once_without_hydras_job_line(mlexp, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = mlexp("train", *TINY, "dataset=csv", f"dataset.path={bad}", "dataset.target=nope")
    assert result.code != 0
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlexp train: ") and "nope" in lines[0], result.err
    assert "Error executing job" not in result.err


def test_tune_refuses_a_multirun_in_one_line(mlexp):
    result = mlexp("tune", "-m", "search_space=digits_small")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        "mlexp tune: -m/--multirun: got a sweep; expected one search per mlexp tune (its trials are the sweep: "
        "tuner.max_trials=N)"
    )
    assert "Error executing job" not in result.err


def _function_imports(text: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_only_hydra_app_reads_hydras_runtime_state():
    readers = [
        path for path, text in sources().items() if "hydra.core.hydra_config.HydraConfig" in _function_imports(text)
    ]
    assert readers == ["hydra_app.py"]


def test_tasks_are_named_in_one_module():
    literal = ('"multiclass"', '"binary"', '"multilabel"', '"regression"')
    users = [
        path
        for path, text in sources().items()
        if path != "tasks.py" and any(word in line.split("#")[0] for line in text.splitlines() for word in literal)
    ]
    assert users == []


def test_no_import_cycle_between_packages():
    """Counting imports inside functions too: mlexp.X (a module or a package) -> mlexp.Y."""
    edges: dict[str, set[str]] = {}
    for path, text in sources().items():
        unit = "mlexp." + path.split("/")[0].removesuffix(".py")
        for target in _function_imports(text):
            parts = target.split(".")
            if parts[0] == "mlexp" and len(parts) > 1 and f"mlexp.{parts[1]}" != unit:
                if (ROOT / parts[1]).is_dir() or (ROOT / f"{parts[1]}.py").is_file():
                    edges.setdefault(unit, set()).add(f"mlexp.{parts[1]}")

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in edges.get(start, ()))

    cycles = sorted(unit for unit in edges if reaches(unit, unit, {unit}))
    assert cycles == []


def test_every_package_is_in_the_wheel():
    """pyproject.toml lists mlexp's packages by name: a package missing there is missing from the wheel."""
    from pathlib import Path

    import tomllib

    import mlexp

    root = Path(mlexp.__file__).parent
    found = {"mlexp." + ".".join(p.parent.relative_to(root).parts) for p in root.rglob("__init__.py")}
    found = {name.rstrip(".") for name in found}
    listed = tomllib.loads((root.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert found - set(listed) == set()
