"""The run directory's files and the self-contained HTML report, loaded in a real headless Chromium."""

import json
import os
import re

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the report's figures need matplotlib (the plot extra)")

from nndl import nn, optim  # noqa: E402
from nndl.data.digits import load_digits  # noqa: E402
from nndl.doctor import Monitor, diagnose  # noqa: E402
from nndl.models.small_cnn import SmallCNN  # noqa: E402
from nndl.report import load_run, render_report, save_run, write_report  # noqa: E402
from nndl.summary import summary  # noqa: E402
from nndl.train import Trainer  # noqa: E402

from .browser import find_browser, start_browser  # noqa: E402


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    x, y = load_digits()
    model = SmallCNN(width=8, rng=0)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.SoftmaxCrossEntropy()
    diagnosis = diagnose(model, loss_fn, x[:256], y[:256], opt)
    monitor = Monitor(every=5)
    trainer = Trainer(model, loss_fn, opt, callbacks=[monitor])
    history = trainer.fit(x[:1000], y[:1000], epochs=2, validation_data=(x[1000:1400], y[1000:1400]), verbose=0,
                          rng=0)
    predicted = trainer.predict(x[1400:]).argmax(axis=1)
    path = str(tmp_path_factory.mktemp("run"))
    save_run(path, config={"model": {"name": "small_cnn", "width": 8}, "optimizer": {"name": "adam", "lr": 1e-3}},
             history=history, summary=summary(model, (1, 8, 8)), confusion=(y[1400:], predicted),
             diagnosis=diagnosis, monitor=monitor)
    return path


def test_run_files_round_trip(run_dir):
    run = load_run(run_dir)
    assert run.config["optimizer"]["lr"] == 1e-3
    assert len(run.history["history"]["loss"]) == 2 and run.history["epoch"] == [0, 1]
    assert "1/std" in run.history["history"]  # the Monitor's statistics went into the History
    matrix = np.array(run.confusion["matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 1797 - 1400
    assert run.diagnosis["ok"] is True and run.diagnosis["checks"]["cannot_overfit"] == "ok"
    assert [e["epoch"] for e in run.monitor["epochs"]] == [0, 1]
    assert set(run.plots) == {"learning_curves", "confusion_matrix", "monitor_statistics"}
    assert run.summary["total_params"] == SmallCNN(width=8).num_parameters()


def test_report_is_self_contained(run_dir):
    page = render_report(run_dir)
    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page
    # every src/href is a data URI
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert len(sources) == 3 and all(s.startswith("data:image/png;base64,") for s in sources)
    for table_id in ("config", "summary", "metrics", "checks", "monitor", "update-ratios"):
        assert f'id="{table_id}"' in page, table_id
    assert "Healthy: no check found anything." in page


def test_report_of_a_run_with_findings_and_a_csv_history_only(tmp_path):
    with open(tmp_path / "history.csv", "w") as f:
        f.write("epoch,loss,accuracy\n0,2.0,0.3\n1,1.5,0.5\n")
    model = nn.Sequential(nn.Linear(64, 10, rng=0))
    model[0].weight.data *= 100
    x, y = load_digits(flatten=True)
    save_run(str(tmp_path), diagnosis=diagnose(model, nn.SoftmaxCrossEntropy(), x[:64], y[:64], overfit_steps=0))
    page = render_report(str(tmp_path))
    assert 'id="diagnosis"' in page and "initial_loss" in page and "1 finding(s)" in page
    assert page.count("data:image/png;base64,") == 1  # the learning curves from the CSV
    assert "No model summary saved." in page
    assert write_report(str(tmp_path), str(tmp_path / "r.html")) == str(tmp_path / "r.html")


def test_malformed_run_files_are_named(tmp_path):
    (tmp_path / "diagnosis.json").write_text("{not json")
    with pytest.raises(ValueError, match="diagnosis.json: not valid JSON"):
        load_run(str(tmp_path))
    (tmp_path / "diagnosis.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="diagnosis.json: expected a JSON object"):
        load_run(str(tmp_path))
    with pytest.raises(ValueError, match="not a run directory"):
        load_run(str(tmp_path / "missing"))


def test_report_in_headless_chromium(run_dir):
    browser, driver, missing = find_browser()
    if missing:
        pytest.skip(f"no headless browser to load the report: missing {missing}")
    path = write_report(run_dir)
    session = start_browser(browser, driver)
    try:
        session.get("file://" + os.path.abspath(path))
        assert session.execute_script("return document.readyState") == "complete"
        images = session.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])")
        assert len(images) == 3
        for complete, width, height, alt in images:
            assert complete and width > 100 and height > 100, alt
        decoded = session.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.all(Array.from(document.images).map(i => i.decode().then(() => true, () => false)))"
            ".then(done);")
        assert decoded == [True, True, True]
        tables = session.execute_script(
            "return Array.from(document.querySelectorAll('table')).map(t => [t.id, t.rows.length])")
        rows = dict(tables)
        assert rows["summary"] > 10 and rows["config"] == 5 and rows["checks"] == 8 and rows["monitor"] > 10
        # no request failed, and nothing but the page itself and its data URIs was requested
        events = [json.loads(entry["message"])["message"] for entry in session.get_log("performance")]
        failed = [e for e in events if e["method"] == "Network.loadingFailed"]
        assert failed == []
        requested = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
        assert all(u.startswith(("file://", "data:")) for u in requested), requested
        severe = [entry for entry in session.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == []
    finally:
        session.quit()
