"""Metrics and the tidy results table."""

import numpy as np
import pandas as pd
import pytest

from helpers.learning import metrics
from helpers.report import results


def test_metrics_and_tidy_table(tmp_path, monkeypatch):
    m = metrics.regression_metrics([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 5.0])
    assert m["MSE"] == 0.25 and m["test_variance"] == 1.25 and m["Q2"] == pytest.approx(0.8)
    assert metrics.accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == {"accuracy": 0.75}
    table = results.rows(
        "III.1", "full", "ridge", "clean", "random", "log_n_Atoms", m
    ) + results.rows("III.1", "full", "logistic", "clean", "grouped", "shape", {"accuracy": 0.9})
    from helpers import paths

    monkeypatch.setattr(paths, "results_dir", lambda: tmp_path)
    path = results.write_results(table, "02_test")
    assert list(pd.read_csv(path).columns) == results.COLUMNS
    both = results.side_by_side(table)
    assert set(both["metric"]) == {"MSE", "test_variance", "Q2", "accuracy"}
    assert both.loc[both["metric"] == "Q2", "study"].item() == 0.999
    with pytest.raises(ValueError, match="lacks columns"):
        results.write_results([{"model": "x"}], "bad")


def test_calibration_of_known_cases():
    rng = np.random.default_rng(0)
    n = 200_000
    p = rng.uniform(0.5, 1.0, size=n)  # the probability of class 0, which is true with chance p
    proba = np.stack([p, 1 - p], axis=1)
    y = np.where(rng.uniform(size=n) < p, 0, 1)
    assert metrics.expected_calibration_error(proba, y) < 0.005
    # always fully confident in class 0, right half the time: ECE = |0.5 - 1|
    sure = np.tile([1.0, 0.0], (10, 1))
    half = np.array([0, 1] * 5)
    assert metrics.expected_calibration_error(sure, half) == pytest.approx(0.5)
    # always wrong with confidence 0.8
    wrong = np.tile([0.8, 0.2], (4, 1))
    assert metrics.expected_calibration_error(wrong, np.ones(4, dtype=int)) == pytest.approx(0.8)
    # two bins: confidence 0.6 right 3 of 5 (gap 0), confidence 0.9 right 1 of 5 (gap 0.7)
    two = np.array([[0.6, 0.4]] * 5 + [[0.1, 0.9]] * 5)
    y2 = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0])
    table = metrics.reliability_table(two, y2, n_bins=10)
    assert table["count"].sum() == 10 and len(table) == 10
    full = table[table["count"] > 0]
    assert full["confidence"].tolist() == pytest.approx([0.6, 0.9])
    assert full["accuracy"].tolist() == pytest.approx([0.6, 0.2])
    assert metrics.expected_calibration_error(two, y2, n_bins=10) == pytest.approx(0.35)


def test_calibration_inputs_are_checked():
    with pytest.raises(ValueError, match="sum"):
        metrics.expected_calibration_error([[0.5, 0.6]], [0])
    with pytest.raises(ValueError, match="integer"):
        metrics.expected_calibration_error([[0.5, 0.5]], ["a"])
    with pytest.raises(ValueError, match="outside"):
        metrics.expected_calibration_error([[0.5, 0.5]], [2])
    with pytest.raises(ValueError, match="n_bins"):
        metrics.reliability_table([[0.5, 0.5]], [0], n_bins=0)


def test_reliability_bins_from_confidence_and_correctness():
    # the two-bin case of the table above, given as confidences and correctness
    confidence = np.array([0.6] * 5 + [0.9] * 5)
    correct = np.array([True, True, True, False, False, False, False, False, False, True])
    table = metrics.reliability_bins(confidence, correct, n_bins=10)
    full = table[table["count"] > 0]
    assert full["count"].tolist() == [5, 5]
    assert full["accuracy"].tolist() == pytest.approx([0.6, 0.2])
    with pytest.raises(ValueError, match="booleans"):
        metrics.reliability_bins([0.5], [1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.reliability_bins([1.5], [True])
    with pytest.raises(ValueError, match="equal"):
        metrics.reliability_bins([0.5, 0.6], [True])


def test_interval_coverage():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    assert metrics.interval_coverage(y, y - 1, y + 1) == 1.0
    assert metrics.interval_coverage(y, [0.5, 0.5, 0.5, 0.5], [2.0, 2.0, 2.0, 2.0]) == 0.5
    assert metrics.interval_coverage([1.0], [1.0], [1.0]) == 1.0  # bounds included
    with pytest.raises(ValueError, match="low <= high"):
        metrics.interval_coverage([1.0], [2.0], [0.0])
    with pytest.raises(ValueError, match="one shape"):
        metrics.interval_coverage([1.0, 2.0], [0.0], [3.0])
