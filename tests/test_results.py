"""The tidy results table and its compact views."""

import pandas as pd
import pytest

from helpers import paths
from helpers.report import results


def test_by_level_keeps_each_degradation_apart():
    """Two degradations at the same level are two rows, never averaged (the old pivot averaged
    random missing points with detector gaps)."""
    table = []
    for name, value in (("missing_random", 0.978), ("missing_blocks", 0.369)):
        for split in ("random", "grouped"):
            table += results.rows(
                "IV.2",
                name,
                "logistic",
                "simple_prediction",
                split,
                "shape",
                {"accuracy": value},
                level=0.5,
            )
    table += results.rows(
        "IV.2",
        "missing_random",
        "logistic",
        "training_and_prediction",
        "grouped",
        "shape",
        {"accuracy": 0.9},
        level=0.5,
    )
    wide = results.by_level(table)
    assert (
        wide.loc[("missing_random", "logistic", "shape", "simple_prediction"), ("random", "0.5")]
        == "0.978"
    )
    assert (
        wide.loc[("missing_blocks", "logistic", "shape", "simple_prediction"), ("random", "0.5")]
        == "0.369"
    )
    assert (
        wide.loc[
            ("missing_random", "logistic", "shape", "training_and_prediction"), ("random", "0.5")
        ]
        == results.NOT_MEASURED
    )
    assert list(wide.columns.get_level_values("split").unique()) == ["random", "grouped"]
    with pytest.raises(ValueError, match="own input name"):
        results.by_level(table + table)


def test_engine_summary_fits_the_exponent_and_compares_like_for_like():
    table = pd.DataFrame(
        {
            "shape": ["cubefcc"] * 5,
            "size": [3, 10, 30, 3, 10],
            "n_atoms": [172, 4631, 111_000, 172, 4631],
            "seconds": [
                0.01,
                0.01 * (4631 / 172),
                0.01 * (111_000 / 172),
                0.02,
                0.5 * (4631 / 172),
            ],
            "engine": ["new (lattice)"] * 3 + ["binned (measured)", "debyecalculator (measured)"],
        }
    )
    line = results.engine_summary(table).iloc[0]
    assert line["exponent"] == pytest.approx(1.0, abs=1e-6) and line["largest N"] == 111_000
    assert line["exponent, largest two N"] == pytest.approx(1.0, abs=1e-6)
    # a fixed cost at small N flattens the overall slope, not the one between the two largest N
    flat_then_square = pd.DataFrame(
        {
            "shape": ["icosahedron"] * 3,
            "size": [3, 10, 30],
            "n_atoms": [1_000, 10_000, 100_000],
            "seconds": [1.0, 1.0, 100.0],
            "engine": ["new (orbit)"] * 3,
        }
    )
    line_2 = results.engine_summary(flat_then_square).iloc[0]
    assert line_2["exponent, largest two N"] == pytest.approx(2.0)
    assert line_2["exponent"] == pytest.approx(1.0)
    assert line["x binned (N)"] == "2 (172)"
    assert line["x debyecalc (N)"].startswith("50 (4,631)")


def test_read_results_of_the_full_run_from_a_smoke_run(tmp_path, monkeypatch):
    """A smoke run reads its own tables, or with ``full_run`` the committed full run's."""

    monkeypatch.setattr(paths, "ROOT", tmp_path)
    full = results.rows("g", "clean", "logq", "clean", "grouped_kfold", "shape", {"accuracy": 0.9})
    smoke = results.rows(
        "g", "clean", "logq", "clean", "grouped_kfold", "shape", {"accuracy": 0.2}
    )
    monkeypatch.setenv(paths.SMOKE_ENV, "0")
    results.write_results(full, "11_generalisation")
    monkeypatch.setenv(paths.SMOKE_ENV, "1")
    with pytest.raises(FileNotFoundError, match="run the notebook 11_generalisation first"):
        results.read_results("11_generalisation")
    results.write_results(smoke, "11_generalisation")
    assert results.read_results("11_generalisation")["value"].tolist() == [0.2]
    assert results.read_results("11_generalisation", full_run=True)["value"].tolist() == [0.9]


def test_predictions_are_written_atomically_and_read_back_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "GENERATED_DIR", tmp_path / "generated")
    monkeypatch.setenv(paths.SMOKE_ENV, "1")
    predictions = pd.DataFrame(
        {
            "row": [0, 1],
            "shape": ["cube", "ico"],
            "shape_pred": ["cube", "deca"],
            "p_true": [0.9, 0.25],
        }
    )
    path = results.write_predictions(predictions, "11_study")
    assert path == tmp_path / "generated" / "smoke" / "11_study" / "predictions.csv.gz"
    pd.testing.assert_frame_equal(pd.read_csv(path), predictions)
    first = path.read_bytes()
    results.write_predictions(predictions, "11_study")  # no time stamp in the gzip header
    assert path.read_bytes() == first
    assert [p.name for p in path.parent.iterdir()] == ["predictions.csv.gz"]  # no temporary left
    with pytest.raises(ValueError, match="no predictions"):
        results.write_predictions(pd.DataFrame(), "11_study")
