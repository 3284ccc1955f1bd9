"""Metrics and the tidy results table."""

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
