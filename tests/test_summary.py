"""results/summary.md puts our numbers next to the study's, per notebook, with links to figures."""

import numpy as np
import pandas as pd

from helpers import paths
from helpers.report import results, summary


def test_summary_has_study_and_our_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setenv(paths.SMOKE_ENV, "0")
    table = (
        results.rows("III.2", "full", "cnn1d", "clean", "random", "shape", {"accuracy": 0.987})
        + results.rows("III.2", "full", "cnn1d", "clean", "grouped", "shape", {"accuracy": 0.512})
        + results.rows(
            "IV.1",
            "poisson",
            "logistic",
            "simple_prediction",
            "grouped",
            "shape",
            {"accuracy": 0.4},
            level=1e3,
        )
    )
    results.write_results(table, "03_cnn1d")
    results.write_results(table[2:], "04_noise")
    (paths.figures_dir() / "03_cnn_confusion.png").write_bytes(b"png")
    text = open(summary.write_summary()).read()
    assert "| III.2 | full | cnn1d | clean | shape | accuracy | 0.96 | 0.512 | 0.987 |" in text
    assert "[03_cnn_confusion](../figures/03_cnn_confusion.png)" in text
    assert (
        "Metric against level, `poisson`" in text
        and "| logistic | shape | simple_prediction | grouped | 0.4 |" in text
    )
    assert "Missing values" not in text  # notebooks that did not run are left out


def test_markdown_table_keeps_significant_digits_and_blanks_missing_values():
    """Small MSEs and Q² near 1 keep the digits that compare them with the study (3 decimals
    showed 0.00015 as 0.000 and 0.99998 as 1.000)."""
    df = pd.DataFrame({"a": ["x", "y", "z", "w"], "b": [0.123456, np.nan, 0.00015234, 0.999984]})
    assert summary.markdown_table(df) == (
        "| a | b |\n|---|---|\n| x | 0.12346 |\n| y |  |\n| z | 0.00015234 |\n| w | 0.99998 |"
    )


def test_summary_opens_with_the_grouped_k_fold_headline(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setenv(paths.SMOKE_ENV, "0")
    table = []
    for fold, acc in enumerate([0.8, 0.9, 1.0]):
        table += results.rows(
            "generalisation",
            "clean",
            "logq",
            "clean",
            "grouped_kfold",
            "shape",
            {"accuracy": acc, "ECE": 0.05},
            level=fold,
        )
    table += results.rows(
        "generalisation", "clean", "logq", "clean", "extrapolation", "shape", {"accuracy": 0.6}
    )
    table += results.rows(  # a test input outside the headline
        "generalisation",
        "resolution",
        "logq",
        "clean",
        "grouped_kfold",
        "shape",
        {"accuracy": 0.5},
        level=0,
    )
    results.write_results(table, "11_generalisation")
    results.write_results(table[:1], "03_cnn1d")
    text = open(summary.write_summary()).read()
    assert text.index("structure-grouped K-fold") < text.index("CNN1D (study")
    assert "| clean | logq | clean | shape | accuracy | 0.9 ± 0.1 | 0.8–1 | 3 | 0.6 |" in text
    assert "| resolution |" not in text
    results.write_results(table, "13_sizes_generalisation")
    text = open(summary.write_summary()).read()
    assert text.index("structure-grouped K-fold") < text.index("(the sizes library)")
    assert text.index("(the sizes library)") < text.index("CNN1D (study")
    row = "| clean | logq | clean | shape | accuracy | 0.9 ± 0.1 | 0.8–1 | 3 | 0.6 |"
    assert text.count(row) == 2


def test_the_blind_test_is_tabled_one_row_per_condition(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setenv(paths.SMOKE_ENV, "0")
    table = []
    for section, bonus in [("blind test", 0.0), ("blind test, element given", 0.01)]:
        for condition, shape, radius in [("ideal", 0.9, 0.95), ("all together", 0.7, 0.8)]:
            for target, metric, value in [
                ("shape", "accuracy", shape + bonus),
                ("radius", "within", radius),
            ]:
                table += results.rows(
                    section,
                    condition,
                    "characterise",
                    "blind_files",
                    "grouped",
                    target,
                    {metric: value},
                )
    results.write_results(table, "12_measured_curves")
    text = open(summary.write_summary()).read()
    assert "## Characterise a measured curve" in text
    assert "| section | input | radius: within | shape: accuracy |" in text
    # one row per section and condition, in the notebook's order
    assert (
        "| blind test | ideal | 0.95 | 0.9 |\n| blind test | all together | 0.8 | 0.7 |\n"
        "| blind test, element given | ideal | 0.95 | 0.91 |\n"
        "| blind test, element given | all together | 0.8 | 0.71 |"
    ) in text
