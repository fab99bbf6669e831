"""Reports that answer at a glance: names from meaning, columns by component, readable figures, report.html."""

from __future__ import annotations

import base64
import json
import warnings
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import TINY

from mlexp.reporting.collect import RunRecord
from mlexp.reporting.names import component_keys, run_labels, short


def record(config: dict, overrides: dict | None = None, name: str = "r") -> RunRecord:
    return RunRecord(Path(name), config, overrides or {}, {"status": "completed"})


ADAM = {"optimizer.name": "adam", "optimizer.learning_rate": 0.001, "optimizer.beta_1": 0.9, "model.name": "mlp"}
SGD = {"optimizer.name": "sgd", "optimizer.learning_rate": 0.01, "optimizer.momentum": 0.0, "model.name": "mlp"}


def test_runs_are_named_by_group_options_first_then_keys_inside_equal_options():
    records = [record(ADAM, {"optimizer": "adam"}), record(SGD, {"optimizer": "sgd"})]
    assert run_labels(records) == ["optimizer=adam", "optimizer=sgd"]
    # no overrides (mlexp compare of separate runs): the config says the same
    assert run_labels([record(ADAM, name="a"), record(SGD, name="b")]) == ["optimizer=adam", "optimizer=sgd"]
    fast = {**ADAM, "optimizer.learning_rate": 0.01}
    assert run_labels([record(ADAM), record(fast)]) == ["optimizer.learning_rate=0.001", "optimizer.learning_rate=0.01"]
    mixed = [record(ADAM, {"optimizer": "adam", "optimizer.learning_rate": "0.001"}),
             record(SGD, {"optimizer": "sgd", "optimizer.learning_rate": "0.01"})]  # fmt: skip
    assert run_labels(mixed) == ["optimizer=adam", "optimizer=sgd"]  # the option says it; its rate follows
    assert short(0.00050) == "0.0005" and short([128, 64]) == "[128,64]" and short(None) == "null"


def test_columns_by_component_drop_the_defaults_of_each_option():
    from mlexp.reporting.compare import varied_keys

    records = [record(ADAM), record(SGD)]
    assert component_keys(records, varied_keys(records)) == ["optimizer.name"]  # not beta_1, momentum, ...
    two_rates = [record(ADAM), record({**ADAM, "optimizer.learning_rate": 0.01}), record(SGD)]
    assert component_keys(two_rates, varied_keys(two_rates)) == ["optimizer.name", "optimizer.learning_rate"]


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.images, self.links, self.scripts, self.headers = 0, [], [], 0, []
        self._in_th = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.rows += 1
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag == "script":
            self.scripts += 1
        self._in_th = tag == "th"

    def handle_data(self, data):
        if self._in_th:
            self.headers.append(data)
            self._in_th = False


def test_optimizer_sweep_reads_at_a_glance(mlexp, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = mlexp("train", "-m", *TINY, "optimizer=adam,sgd", "hydra.sweep.dir=outputs/sweep")
    assert result.code == 0, result.err
    assert not [w for w in caught if "layout" in str(w.message)]  # nothing clipped, no layout warnings
    sweep = tmp_path / "outputs/sweep"
    summary = pd.read_csv(sweep / "summary.csv")
    assert summary["name"].tolist() == ["optimizer=adam", "optimizer=sgd"]
    assert [c for c in summary.columns if c.startswith("optimizer")] == ["optimizer.name"]  # not eleven columns
    report = (sweep / "comparison.md").read_text()
    assert "| verdict | name | optimizer | best_val_accuracy | test_accuracy |" in report
    assert "([config](0/resolved_config.yaml))" in report
    page = _Page()
    page.feed((sweep / "report.html").read_text())
    assert page.rows == 6 and page.scripts == 1  # header and two runs, then the verdicts; the sorting script
    assert page.headers[:4] == ["verdict", "name", "optimizer", "best_val_accuracy"] and "doctor" in page.headers
    figures = sorted((sweep / "plots").glob("*.png"))
    assert len(page.images) == len(figures) >= 2
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert all(base64.b64decode(src.split(",", 1)[1])[:4] == b"\x89PNG" for src in page.images)
    assert "0/resolved_config.yaml" in page.links and not any(link.startswith("http") for link in page.links)
    html = (sweep / "report.html").read_text()
    assert "<title>2 runs: optimizer.name</title>" in html and "<h1>2 runs: optimizer.name</h1>" in html
    assert "<code>mlexp train -m " in html and "optimizer=adam,sgd" in html
    assert "Every run: dataset.name synthetic, model.name mlp, trainer.epochs 2, seed 0." in html
    assert "Sweep report: outputs/sweep/report.html (and comparison.md; 2 completed)\n" in result.out


def test_the_doctors_findings_per_run_are_one_figure(tmp_path):
    import json

    from mlexp.reporting import compare

    for i, found in enumerate(([], [{"code": "underfitting", "severity": "warning"}])):
        run = tmp_path / str(i)
        run.mkdir()
        (run / "resolved_config.yaml").write_text(f"seed: {i}\nmodel:\n  name: mlp\n")
        (run / "metrics.json").write_text(json.dumps({"status": "completed", "test_accuracy": 0.5 + i / 10}))
        (run / "diagnosis.json").write_text(json.dumps({"findings": found}))
    comparison = compare.compare([tmp_path / "0", tmp_path / "1"], tmp_path / "cmp")
    assert (tmp_path / "cmp/plots/doctor.png").stat().st_size > 1000
    assert "![doctor](plots/doctor.png)" in (tmp_path / "cmp/comparison.md").read_text()
    assert list(comparison.table["name"]) == ["seed=0", "seed=1"]


def test_a_failed_runs_reason_is_whole(mlexp, tmp_path):
    from mlexp.reporting.collect import RunRecord

    error = "dataset 'c' not found. Looked for test_batch in:\n  - /data/cifar\n  - Keras download: failed"
    failed = RunRecord(Path("r"), {}, {}, {"status": "failed", "error": error})
    assert failed.reason == "dataset 'c' not found. Looked for test_batch in: - /data/cifar - Keras download: failed"


@pytest.mark.parametrize("variants", ["none,l2,dropout"])
def test_named_variants_are_one_axis(mlexp, tmp_path, variants):
    result = mlexp("train", "-m", *TINY, f"variant={variants}", "hydra.sweep.dir=outputs/v")
    assert result.code == 0, result.err
    summary = pd.read_csv(tmp_path / "outputs/v/summary.csv")
    assert summary["name"].tolist() == ["variant=none", "variant=l2", "variant=dropout"]
    assert summary["regularizer.name"].tolist() == ["none", "l2", "none"]
    assert summary["model.dropout"].tolist() == [0.0, 0.0, 0.5]


@pytest.mark.slow
def test_report_html_in_a_real_headless_browser(mlexp, tmp_path):
    """Loads without console errors, sorts on a click, displays every image (Debian's chromium + Selenium)."""
    import shutil

    webdriver = pytest.importorskip("selenium.webdriver")
    driver_path = shutil.which("chromedriver")
    if not driver_path or not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("optional: apt-get install chromium chromium-driver")
    result = mlexp("train", "-m", *TINY, "optimizer=adam,sgd,rmsprop", "hydra.sweep.dir=outputs/sweep")
    assert result.code == 0, result.err
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        browser.get((tmp_path / "outputs/sweep/report.html").as_uri())
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
        images = browser.find_elements(By.TAG_NAME, "img")
        assert len(images) == len(list((tmp_path / "outputs/sweep/plots").glob("*.png"))) >= 2
        assert all(browser.execute_script("return arguments[0].naturalWidth", img) > 100 for img in images)
        verdicts = json.loads((tmp_path / "outputs/sweep/verdict.json").read_text())
        summary = browser.find_element(By.ID, "summary").text
        assert summary == verdicts["summary"]
        cells = [[td.text for td in row.find_elements(By.TAG_NAME, "td")]
                 for row in browser.find_elements(By.CSS_SELECTOR, "table.verdicts tbody tr")]  # fmt: skip
        for shown, config in zip(cells, verdicts["configs"], strict=True):
            assert shown[0] == config["name"] and shown[6] == config["verdict"] and shown[7] == config["why"]
            assert shown[2] == f"{config['mean']:.4g} [{config['low']:.4g}, {config['high']:.4g}]"
        names = lambda: [row.find_elements(By.TAG_NAME, "td")[1].text  # noqa: E731
                         for row in browser.find_elements(By.CSS_SELECTOR, "table.sortable tbody tr")]  # fmt: skip
        header = browser.find_elements(By.CSS_SELECTOR, "table.sortable thead th")[1]
        header.click()
        assert names() == sorted(names())
        header.click()
        assert names() == sorted(names(), reverse=True)
    finally:
        browser.quit()


def test_one_finding_is_a_small_strip_not_a_large_block(tmp_path):
    from PIL import Image

    from mlexp.reporting.plots import _doctor_grid

    records = [RunRecord(tmp_path / str(i), {}, findings=[{"code": "plateau", "severity": "warning"}]) for i in (0, 1)]
    comparison = SimpleNamespace(records=records, table=pd.DataFrame({"name": ["a", "b"]}))
    assert _doctor_grid(comparison, tmp_path / "doctor.png")
    width, height = Image.open(tmp_path / "doctor.png").size
    assert width <= 420 and height <= 220, (width, height)
