"""What the notebooks recorded in smoke mode (results/smoke/*.csv), checked against bounds that a
notebook which runs but computes nonsense would fail. These run after the notebooks (conftest
orders them last, or ``make test`` runs them in a second step after its parallel run); run alone,
without the notebooks, they are skipped.

The smoke library has 9 shapes x 4 sizes x 3 elements x 2 B_iso and the CNNs train 2 epochs, so the
bounds are those of that run: a chance-level CNN passes, a linear model that cannot separate the
clean curves does not, and every degradation at its identity level must give the clean score.
"""

import os

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.report import results

#: set by ``make test`` for its second step: the notebooks ran (in smoke mode) just before
RECORDED_ENV = "NP_SMOKE_RECORDED"


@pytest.fixture
def recorded(request, monkeypatch):
    ran_before = os.environ.get(RECORDED_ENV) == "1"
    if not (getattr(request.config, "notebooks_collected", False) or ran_before):
        pytest.skip(
            "the notebooks did not run in this session (pytest --nbval-lax runs them first; "
            f"or set {RECORDED_ENV}=1 right after a smoke run of every notebook)"
        )
    monkeypatch.setenv(paths.SMOKE_ENV, "1")

    def read(stem):
        return results.read_results(stem)

    return read


def value(table: pd.DataFrame, **where) -> float:
    part = table
    for key, wanted in where.items():
        part = part[np.isclose(part[key], wanted)] if key == "level" else part[part[key] == wanted]
    assert len(part) == 1, f"{len(part)} rows match {where}"
    return float(part["value"].iloc[0])


LN_N = dict(model="ridge", target="log_n_Atoms", metric="Q2")  # Ridge's ln N, judged by Q2


def clean_ln_n(recorded, split="random") -> float:
    """ln N Q2 of the clean Ridge model as notebook 02 recorded it."""
    return value(recorded("02_linear_models"), input="full", split=split, **LN_N)


def test_02_linear_models(recorded):
    t = recorded("02_linear_models")
    for split in ("random", "grouped"):
        assert (
            value(t, input="full", model="ridge", split=split, target="log_n_Atoms", metric="Q2")
            > 0.99
        )
        assert (
            value(
                t, input="full", model="logistic", split=split, target="shape", metric="accuracy"
            )
            > 0.25
        )
        assert 0.2 < value(t, input="all", split=split, target="lattice", metric="accuracy") <= 1
        assert (
            0.2
            <= value(
                t, input="fcc_single_crystals", split=split, target="shape", metric="accuracy"
            )
            <= 1
        )
    assert (
        value(t, input="full", model="logistic", split="random", target="shape", metric="accuracy")
        > 0.7
    )


def test_03_cnn(recorded):
    t = recorded("03_cnn1d")
    acc = t[t["metric"] == "accuracy"]
    assert len(acc) == 4 and set(acc["target"]) == {"shape", "size_class"}
    assert acc["value"].between(0.05, 1).all()


@pytest.mark.parametrize(
    "stem, identity", [("05_missing_values", 0.0), ("06_step_increase", 0.01)]
)
def test_identity_level_gives_the_clean_score(recorded, stem, identity):
    """No points lost / the study's step: simple prediction scores exactly what 02 and 03
    scored."""
    t, linear, cnn = recorded(stem), recorded("02_linear_models"), recorded("03_cnn1d")
    clean = t[(t["protocol"] == "simple_prediction") & np.isclose(t["level"], identity)]
    assert len(clean) > 0
    for split in ("random", "grouped"):
        for model, target, metric, ref in (
            ("ridge", "log_n_Atoms", "Q2", linear),
            ("logistic", "shape", "accuracy", linear),
            ("cnn1d", "shape", "accuracy", cnn),
        ):
            got = clean[
                (clean["model"] == model)
                & (clean["split"] == split)
                & (clean["target"] == target)
                & (clean["metric"] == metric)
            ]["value"]
            want = value(ref, input="full", model=model, split=split, target=target, metric=metric)
            assert len(got) >= 1 and np.allclose(got, want, rtol=1e-9), (stem, model, split)


def test_04_noise(recorded):
    t = recorded("04_noise")
    ridge = dict(input="poisson", protocol="simple_prediction", **LN_N)
    mild, harsh = sorted(t[t["input"] == "poisson"]["level"].unique())[::-1][:2]
    assert value(t, split="random", level=mild, **ridge) > 0.99
    assert value(t, split="random", level=harsh, **ridge) < value(
        t, split="random", level=mild, **ridge
    )
    retrained = t[
        (t["protocol"] == "training_and_prediction") & (t["metric"].isin(["Q2", "accuracy"]))
    ]
    assert len(retrained) > 0 and np.isfinite(retrained["value"]).all()


def test_07_saxs_vs_waxs(recorded):
    t = recorded("07_saxs_vs_waxs")
    assert {"saxs", "waxs"} <= set(t["input"])
    study = t[t["level"].isna() & (t["metric"] == "accuracy")]
    assert set(study["section"]) == {"V.1", "V.2"} and study["value"].between(0, 1).all()
    ridge = value(t, input="saxs", section="V.2", split="random", protocol="clean", **LN_N)
    assert ridge > 0.9  # the size is in the small-angle part


def test_08_bounds(recorded):
    t = recorded("08_bounds")
    full = dict(protocol="simple_prediction", split="random", **LN_N)
    assert value(t, input="q_min_interpolate", level=0.01, **full) == pytest.approx(
        clean_ln_n(recorded), rel=1e-9
    )
    trained = t[(t["input"] == "q_max_trained") & (t["metric"] == "accuracy")]
    assert len(trained) > 0 and trained["value"].between(0, 1).all()


def test_09_explainability(recorded):
    t = recorded("09_explainability")
    assert len(t) >= 6 and t["value"].between(0, 1).all()
    assert set(t["target"]) == {"size", "shape"}


def test_10_realistic(recorded):
    t = recorded("10_realistic_data")
    assert set(t["section"]) == {"realistic"}
    conditions = set(t["input"])
    assert {"ideal", "all together", "random conditions"} <= conditions
    for protocol in ("simple_prediction", "training_and_prediction"):
        part = t[(t["protocol"] == protocol) & (t["metric"] == "accuracy")]
        assert set(part["input"]) == conditions and part["value"].between(0, 1).all()
    ideal = dict(input="ideal", protocol="simple_prediction", split="random", **LN_N)
    assert value(t, **ideal) == pytest.approx(clean_ln_n(recorded), rel=1e-9)
    # the log-q family under every condition, with its calibration and size intervals
    logq = t[t["model"] == "logq_realistic"]
    for metric in ("accuracy", "ECE", "coverage_90"):
        part = logq[logq["metric"] == metric]
        assert set(part["input"]) == conditions and part["value"].between(0, 1).all(), metric


def test_11_generalisation(recorded):
    t = recorded("11_generalisation")
    clean = t[t["input"] == "clean"]
    # every family on both smoke folds
    for model in ("ridge", "logistic", "cnn1d", "logq", "logq_realistic"):
        assert set(clean[clean["model"] == model]["level"]) == {0, 1}, model
    ln_n = clean[(clean["model"] == "ridge") & (clean["target"] == "log_n_Atoms")]
    assert (ln_n[ln_n["metric"] == "Q2"]["value"] > 0.9).all()  # sizes of unseen particles
    shape = t[(t["target"] == "shape") & (t["metric"] == "accuracy")]
    assert shape["value"].between(0, 1).all()
    logistic = shape[(shape["model"] == "logistic") & (shape["input"] == "clean")]
    assert (logistic["value"] > 0.2).all()  # chance is 1/9
    # "ideal" measures every point unchanged and in absolute units: the clean score, per fold
    for (model, level), part in shape.groupby(["model", "level"]):
        scores = part.set_index("input")["value"]
        assert scores["ideal"] == pytest.approx(scores["clean"]), (model, level)
    calibration = t[t["metric"].isin(["ECE", "coverage_90"])]
    assert calibration["value"].between(0, 1).all()
    coverage = clean[(clean["model"] == "logq") & (clean["metric"] == "coverage_90")]
    assert (coverage["value"] > 0.5).all()  # intervals scaled on validation structures


def test_12_measured_curves(recorded):
    recorded_rows = recorded("12_measured_curves")
    assert set(recorded_rows["section"]) == {
        "blind test",
        "blind test, element given",
        "blind test, oracle fit",
    }
    given = recorded_rows[recorded_rows["section"] == "blind test, element given"]
    t = recorded_rows[recorded_rows["section"] == "blind test"]
    # the physics fit with the particle's own curve among its candidates: every wide-angle
    # condition scored, and the exact curve found for most files (measured: all 16)
    oracle = recorded_rows[recorded_rows["section"] == "blind test, oracle fit"]
    assert set(oracle["input"]) == set(given["input"]) and set(oracle["target"]) == {"fit_shape"}
    assert oracle["value"].between(0.0, 1.0).all()
    assert value(oracle, input="all files", target="fit_shape", metric="accuracy") >= 0.75
    # the same wide-angle files with their element given: every file answered with a shape, the
    # size as right as without it (measured: 0.75 of 16 files both ways)
    assert set(given["input"]) == set(t["input"]) - {c for c in t["input"] if "small" in c}
    for condition in given["input"].unique():
        assert value(given, input=condition, target="file", metric="answered") == 1.0
        assert value(given, input=condition, target="shape", metric="not_determinable") == 0.0
    assert value(given, input="all files", target="radius", metric="within_10_percent") >= 0.5
    saxs = [c for c in t["input"].unique() if c.startswith("small angles only")]
    assert len(saxs) == 1 and "all files" in set(t["input"])
    for condition in t["input"].unique():
        assert value(t, input=condition, target="file", metric="answered") == 1.0
        for target, metric in [
            ("shape", "accuracy"),
            ("model_shape", "accuracy"),
            ("radius", "within_10_percent"),
            ("radius", "interval_coverage_90"),
            ("size_distribution_centre", "interval_coverage_90"),
            ("model_radius", "within_10_percent"),
            ("model_radius", "interval_coverage_90"),
        ]:
            assert 0.0 <= value(t, input=condition, target=target, metric=metric) <= 1.0
    # a monodisperse curve's size distribution is its particle's own size: both coverages agree
    coverage = "interval_coverage_90"
    for condition in set(t["input"]) - {"all files", "all together", saxs[0]}:
        if "polydisperse" not in condition:
            centre = value(t, input=condition, target="size_distribution_centre")
            assert centre == value(t, input=condition, target="radius", metric=coverage)
    # the answer's size is the physics fit's, right within 10 % for most files even with the
    # smoke run's tiny model (measured: 0.75 of 16 files; the tiny model alone 0.06)
    assert value(t, input="all files", target="radius", metric="within_10_percent") >= 0.5
    # the domain check: no shape from small angles only, a shape whenever the wide angles are there
    assert value(t, input=saxs[0], target="shape", metric="not_determinable") == 1.0
    assert value(t, input=saxs[0], target="shape", metric="accuracy") == 0.0
    assert value(t, input="all files", target="shape", metric="not_determinable") == 0.0
    # the 90 % shape sets: between one label and all nine, holding the true shape at least as
    # often as the answer's label is right (the set begins with that label)
    for condition in t["input"].unique():
        labels = value(t, input=condition, target="shape_set", metric="mean_labels")
        assert 1.0 <= labels <= 9.0
        holds = value(t, input=condition, target="shape_set", metric="coverage_90")
        assert 0.0 <= holds <= 1.0
        if condition != saxs[0]:
            assert holds >= value(t, input=condition, target="shape", metric="accuracy")


def test_13_sizes_generalisation(recorded):
    t = recorded("13_sizes_generalisation")
    assert set(t["model"]) == {"logq"} and set(t["input"]) == {"clean"}
    shape = t[(t["target"] == "shape") & (t["metric"] == "accuracy")]
    assert set(shape["level"]) == {0, 1}  # both smoke folds, every structure tested once
    assert shape["value"].between(0, 1).all()
    for metric in ("ECE", "coverage_90"):
        assert t[t["metric"] == metric]["value"].between(0, 1).all()
    rmse = t[(t["target"] == "log_eq_radius") & (t["metric"] == "RMSE")]["value"]
    assert len(rmse) == 2 and (rmse < 1.0).all()  # ln R of unseen particles within a factor e
